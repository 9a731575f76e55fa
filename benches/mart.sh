#!/usr/bin/env bash
# Full build of the reference mart (issue 4): every model of models/ and sql/ over
# `lakemart gen --scale S` extracts, next to DuckDB running the same SQL on the same
# staged data (benches/mart_duckdb.py), alternating, in the same run.
# Goal: lakemart (Delta commits and data tests included) within 1.2x of DuckDB.
#
#   CARGO_TARGET_DIR=... cargo build --release --bin lakemart
#   bash benches/mart.sh [--scale 1] [--runs 3] [--work DIR] [--memory-limit 6GiB] [--no-duckdb]
#
# The extracts of 2024-06-30 are generated once into DIR/landing and reused; they are
# ingested once (time and peak RSS reported); then each run rebuilds the models from
# the staged tables: `lakemart run --exclude layer:src` vs DuckDB 1.5.5 (delta_scan of
# the same staged Delta tables, results as tables in a DuckDB file, same thread count).
# Also reports the median wall time of `lakemart compile` of the whole project.
# Prints a markdown table on stdout; progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
SCALE=1
RUNS=3
WORK=""
MEMORY=""
DUCKDB=1
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        --memory-limit) MEMORY="$2"; shift 2 ;;
        --no-duckdb) DUCKDB=0; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "mart.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
WORK="${WORK:-/tmp/lakemart-mart-bench-$SCALE}"
log() { echo "mart.sh: $*" >&2; }
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LAKEMART="${LAKEMART:-$TARGET/release/lakemart}"
[ -x "$LAKEMART" ] || { log "error: $LAKEMART missing: cargo build --release --bin lakemart"; exit 1; }
command -v /usr/bin/time >/dev/null || { log "error: /usr/bin/time (GNU time) is needed"; exit 1; }
CORES=$(nproc)
MEMFLAG=()
[ -n "$MEMORY" ] && MEMFLAG=(--memory-limit "$MEMORY")

# The DuckDB peer's venv (duckdb 1.5.5 and its delta extension as PyPI packages).
PY=""
if [ "$DUCKDB" = 1 ]; then
    VENV="${LAKEMART_BENCH_VENV:-$HOME/.cache/lakemart-bench-serve-venv}"
    REQ="$HERE/serve-requirements.txt"
    want="$(sha256sum "$REQ" | cut -d' ' -f1)"
    if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
        log "installing $(basename "$REQ") into $VENV (first run only)"
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQ"
        echo "$want" > "$VENV/.requirements.sha256"
    fi
    PY="$VENV/bin/python"
fi

mkdir -p "$WORK"
DATE=2024-06-30
if [ ! -f "$WORK/landing/.scale-$SCALE" ]; then
    rm -rf "$WORK/landing"
    log "generating scale $SCALE into $WORK/landing"
    /usr/bin/time -f "%e %M" -o "$WORK/gen.time" "$LAKEMART" gen --scale "$SCALE" --date $DATE --out "$WORK/landing" >&2
    touch "$WORK/landing/.scale-$SCALE"
fi
GB=$(du -sb "$WORK/landing" | awk '{printf "%.2f", $1 / 1e9}')

PROJECT="$WORK/project"
LH="$WORK/lakehouse"
rm -rf "$PROJECT" && mkdir -p "$PROJECT"
ln -s "$ROOT/models" "$PROJECT/models"
ln -s "$ROOT/sql" "$PROJECT/sql"
printf '[project]\nname = "mart_bench"\nlanding = "%s"\n' "$WORK/landing" > "$PROJECT/lakemart.toml"
lm() { "$LAKEMART" --project "$PROJECT" --lakehouse "$LH" "${MEMFLAG[@]}" "$@"; }

"$LAKEMART" --project "$PROJECT" compile --format json > "$WORK/manifest.json"
read -r MODELS COLUMNS < <(python3 -c "
import json; m = json.load(open('$WORK/manifest.json'))
print(len(m['models']), sum(len(x['columns']) for x in m['models']))")
COMPILES=()
for _ in 1 2 3 4 5; do
    s=$(date +%s.%N); "$LAKEMART" --project "$PROJECT" compile >/dev/null; e=$(date +%s.%N)
    COMPILES+=("$(python3 -c "print(round($e - $s, 3))")")
done
COMPILE_S=$(printf '%s\n' "${COMPILES[@]}" | sort -n | sed -n 3p)

rm -rf "$LH"
log "ingesting $DATE ($GB GB of extracts)"
/usr/bin/time -f "%e %M" -o "$WORK/ingest.time" "$LAKEMART" --project "$PROJECT" --lakehouse "$LH" "${MEMFLAG[@]}" \
    ingest --date $DATE > "$WORK/ingest.out" 2>&1 || { cat "$WORK/ingest.out" >&2; exit 1; }
read -r INGEST_S INGEST_KB < "$WORK/ingest.time"

LM_S=(); LM_KB=(); DK_S=(); DK_KB=()
for r in $(seq 1 "$RUNS"); do
    log "run $r/$RUNS: lakemart"
    /usr/bin/time -f "%e %M" -o "$WORK/run.time" "$LAKEMART" --project "$PROJECT" --lakehouse "$LH" "${MEMFLAG[@]}" \
        run --date $DATE --exclude layer:src --threads "$CORES" > "$WORK/run.out" 2>&1 \
        || { tail -40 "$WORK/run.out" >&2; exit 1; }
    read -r s kb < "$WORK/run.time"; LM_S+=("$s"); LM_KB+=("$kb")
    tail -1 "$WORK/run.out" >&2
    if [ "$DUCKDB" = 1 ]; then
        log "run $r/$RUNS: duckdb"
        /usr/bin/time -f "%e %M" -o "$WORK/duck.time" env MART_PROJECT="$ROOT" "$PY" "$HERE/mart_duckdb.py" \
            "$WORK/manifest.json" "$LH" "$WORK/duck.db" $DATE --threads "$CORES" > "$WORK/duck.out" 2> "$WORK/duck.err" \
            || { tail -20 "$WORK/duck.err" >&2; exit 1; }
        read -r s kb < "$WORK/duck.time"; DK_S+=("$s"); DK_KB+=("$kb")
    fi
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }
LM_MED=$(median "${LM_S[@]}")
echo
echo "Reference mart, scale $SCALE ($GB GB of extracts for $DATE), $CORES cores, $RUNS run(s), ${MEMORY:-default} memory limit"
echo
echo "| step | wall time (median) | peak RSS (max) |"
echo "| --- | --- | --- |"
echo "| \`lakemart compile\` ($MODELS models, $COLUMNS columns) | ${COMPILE_S} s | |"
echo "| \`lakemart ingest\` (80 source tables) | ${INGEST_S} s | $((INGEST_KB / 1024)) MiB |"
echo "| \`lakemart run --exclude layer:src\` (models + data tests + Delta commits) | ${LM_MED} s | $(( $(max "${LM_KB[@]}") / 1024 )) MiB |"
if [ "$DUCKDB" = 1 ]; then
    DK_MED=$(median "${DK_S[@]}")
    echo "| DuckDB 1.5.5, same SQL on the same staged tables (process wall time) | ${DK_MED} s | $(( $(max "${DK_KB[@]}") / 1024 )) MiB |"
    echo
    echo "lakemart / DuckDB: $(python3 -c "print(round($LM_MED / $DK_MED, 2))") (goal <= 1.2)"
fi
echo "runs: lakemart ${LM_S[*]} s${DUCKDB:+; duckdb ${DK_S[*]:-} s}"
