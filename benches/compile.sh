#!/usr/bin/env bash
# Compile benchmark: `lakemart compile` on a generated 1,000-model project, next to
# `dbt parse --no-partial-parse` on its dbt twin. Target: lakemart < 1 s on 2 cores.
#
#   cargo build --release && bash benches/compile.sh
#   LAKEMART=/path/to/lakemart bash benches/compile.sh [--models N] [--runs N] [--skip-dbt] [--skip-lakemart] [--check]
#
# Builds nothing: the binary is $LAKEMART, default ${CARGO_TARGET_DIR:-target}/release/lakemart
# (relative to the repository root). The dbt side lives in a venv at benches/.venv,
# created on first use from benches/requirements.txt and reused while that file is
# unchanged. Each tool gets one untimed warm-up run (file cache, .pyc files), then
# lakemart is timed over --runs runs (best and median, default 5) and dbt over 3
# (median). --check also runs benches/check_project.py on the generated project.
# Prints a markdown table on stdout; progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
MODELS=1000
RUNS=5
DBT_RUNS=3
DO_LAKEMART=1
DO_DBT=1
DO_CHECK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --models) MODELS="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --skip-dbt) DO_DBT=0; shift ;;
        --skip-lakemart) DO_LAKEMART=0; shift ;;
        --check) DO_CHECK=1; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "compile.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done

log() { echo "compile.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# --- the lakemart binary: fail before any slow work -------------------------
BIN="${LAKEMART:-${CARGO_TARGET_DIR:-target}/release/lakemart}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
if [ "$DO_LAKEMART" = 1 ] && [ ! -x "$BIN" ]; then
    die "no lakemart binary at $BIN; build it first (cargo build --release) or set LAKEMART=/path/to/lakemart (or pass --skip-lakemart)"
fi

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || die "python3 not found"

# --- the venv (dbt, datafusion) ---------------------------------------------
VENV="$HERE/.venv"
venv_ready() {
    local stamp="$VENV/.requirements.sha256"
    local want
    want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
    if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing benches/requirements.txt into benches/.venv (first run only)"
        "$PY" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
        echo "$want" >"$stamp"
    fi
}
if [ "$DO_DBT" = 1 ] || [ "$DO_CHECK" = 1 ]; then
    venv_ready
fi

# --- the projects ----------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/lakemart-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$PY" "$HERE/gen_project.py" --models "$MODELS" --out "$WORK/lakemart" --dbt "$WORK/dbt"

if [ "$DO_CHECK" = 1 ]; then
    log "checking the generated SQL with DataFusion (python)"
    "$VENV/bin/python" "$HERE/check_project.py" "$WORK/lakemart" >&2
fi

# --- timing helpers ----------------------------------------------------------
now_ns() { date +%s%N; }
# Run "$@" once with stdout/stderr to files; print elapsed milliseconds.
time_ms() {
    local t0 t1
    t0=$(now_ns)
    "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || {
        local rc=$?
        log "command failed (exit $rc): $*"
        tail -n 30 "$WORK/err.txt" "$WORK/out.txt" >&2
        exit 1
    }
    t1=$(now_ns)
    echo $(((t1 - t0) / 1000000))
}
# best / median of a list of numbers
best() { printf '%s\n' "$@" | sort -n | head -n1; }
median() {
    local sorted n
    sorted=($(printf '%s\n' "$@" | sort -n))
    n=${#sorted[@]}
    if [ $((n % 2)) = 1 ]; then echo "${sorted[$((n / 2))]}"; else echo $(((sorted[n / 2 - 1] + sorted[n / 2]) / 2)); fi
}
fmt_s() { awk -v ms="$1" 'BEGIN { printf "%.3f s", ms / 1000 }'; }

ROWS=()

# --- lakemart ----------------------------------------------------------------
if [ "$DO_LAKEMART" = 1 ]; then
    log "lakemart: $BIN"
    # Correctness first: compile must succeed and list every model.
    if ! "$BIN" --project "$WORK/lakemart" compile --format json >"$WORK/manifest.json" 2>"$WORK/err.txt"; then
        log "lakemart compile failed on the generated project:"
        head -n 40 "$WORK/err.txt" >&2
        exit 1
    fi
    listed=$("$PY" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["models"]))' "$WORK/manifest.json") \
        || die "compile --format json did not print a manifest with a models list"
    [ "$listed" = "$MODELS" ] || die "compile --format json lists $listed models, expected $MODELS"
    time_ms "$BIN" --project "$WORK/lakemart" compile >/dev/null # warm-up
    times=()
    for _ in $(seq "$RUNS"); do
        times+=("$(time_ms "$BIN" --project "$WORK/lakemart" compile)")
    done
    log "lakemart compile ms: ${times[*]}"
    ROWS+=("| lakemart compile | $(fmt_s "$(best "${times[@]}")") | $(fmt_s "$(median "${times[@]}")") | ${#times[@]} |")
fi

# --- dbt ---------------------------------------------------------------------
if [ "$DO_DBT" = 1 ]; then
    export DBT_SEND_ANONYMOUS_USAGE_STATS=false DBT_VERSION_CHECK=false
    dbt_parse() { (cd "$WORK/dbt" && "$VENV/bin/dbt" parse --no-partial-parse --profiles-dir . --project-dir .); }
    log "dbt-core $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("dbt-core"), "/ dbt-duckdb", m.version("dbt-duckdb"))')"
    time_ms dbt_parse >/dev/null # warm-up
    parsed=$("$PY" -c 'import json,sys; m=json.load(open(sys.argv[1])); print(sum(1 for n in m["nodes"].values() if n["resource_type"]=="model"))' "$WORK/dbt/target/manifest.json")
    [ "$parsed" = "$MODELS" ] || die "dbt parse found $parsed models, expected $MODELS"
    times=()
    for _ in $(seq "$DBT_RUNS"); do
        times+=("$(time_ms dbt_parse)")
    done
    log "dbt parse ms: ${times[*]}"
    ROWS+=("| dbt parse --no-partial-parse | $(fmt_s "$(best "${times[@]}")") | $(fmt_s "$(median "${times[@]}")") | ${#times[@]} |")
fi

echo
echo "Compile benchmark: $MODELS models, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| tool | best | median | runs |"
echo "| --- | ---: | ---: | ---: |"
printf '%s\n' "${ROWS[@]}"
