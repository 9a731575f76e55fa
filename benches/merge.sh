#!/usr/bin/env bash
# Incremental-load benchmark (issue 5) on a 40M-row account table, with its peers
# measured in the same run. Release build:
#
#   CARGO_TARGET_DIR=... cargo build --release --bin lakemart
#   bash benches/merge.sh [--runs 1] [--memory-limit 1GiB] [--diff-memory-limit 1536MiB]
#                         [--work /tmp/lakemart-merge-bench]
#                         [--reuse-targets: keep the day-1 targets of a previous run]
#
# Data: `lakemart gen --scale 10 --date 2024-06-30 --days 2` (two 40M-row daily
# core/account.csv snapshots; generated once into WORK/landing and reused). Both are
# staged with `lakemart ingest`; benches/merge/peers.py derives the day's change
# extract from the two cleansed snapshots (changed + new accounts, as they really are:
# clustered in the newest accounts) and a variant with as many updates spread
# uniformly. Cases:
#   1. merge of the extract into the 40M-row table: lakemart (`merge` model) vs the
#      Python `deltalake` merge vs DuckDB's full anti-join rewrite to Parquet;
#   2. `snapshot_diff` of day 2's full snapshot, with the `scd2` history its change set
#      feeds (account_history), vs overwriting the table with the snapshot;
#   3. the same merge with the uniformly spread extract, and with only the part of the
#      real extract that falls in the newest tenth of the accounts.
# Every target is built once (untimed) and each timed command works on a hard-linked
# copy of it (Delta never changes a file in place). Wall time and peak RSS come from
# /usr/bin/time; lakemart runs with --memory-limit. A `lakemart run` stages the
# model's source extract before the model: the model's own time (from the run's JSON
# events) is reported beside the process's. `--threads 1` runs the source and then the
# model with every core each (a run splits the cores among its nodes). Prints markdown.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
RUNS=1
LIMIT=1GiB
# snapshot_diff's sort-merge join of two 40M-row tables needs more than 1 GiB.
DIFF_LIMIT=1536MiB
WORK=/tmp/lakemart-merge-bench
REUSE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --memory-limit) LIMIT="$2"; shift 2 ;;
        --diff-memory-limit) DIFF_LIMIT="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        --reuse-targets) REUSE=1; shift ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "merge.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
log() { echo "merge.sh: $(date +%T) $*" >&2; }
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LAKEMART="${LAKEMART:-$TARGET/release/lakemart}"
[ -x "$LAKEMART" ] || { log "error: $LAKEMART missing: cargo build --release --bin lakemart"; exit 1; }
command -v /usr/bin/time >/dev/null || { log "error: /usr/bin/time (GNU time) is needed"; exit 1; }
PY="$(bash "$ROOT/tests/interop/setup.sh")"
"$PY" -m pip install --quiet --disable-pip-version-check -r "$HERE/merge/requirements.txt" >&2
D1=2024-06-29
D2=2024-06-30

mkdir -p "$WORK"
if [ ! -f "$WORK/landing/.scale-10" ]; then
    rm -rf "$WORK/landing"
    log "generating scale 10, 2 days into $WORK/landing"
    /usr/bin/time -f "%e %M" -o "$WORK/gen.time" "$LAKEMART" gen --scale 10 --date $D2 --days 2 --out "$WORK/landing" >&2
    touch "$WORK/landing/.scale-10"
fi

# The benchmark project; its landing dir holds links to the generated snapshots and
# to the derived extracts (account_delta.csv: the full snapshot on day 1).
P="$WORK/project"
rm -rf "$P" && cp -r "$HERE/merge" "$P" && rm -f "$P/peers.py" "$P/requirements.txt"
printf '[project]\nname = "merge_bench"\nlanding = "%s"\n' "$WORK/bench-landing" > "$P/lakemart.toml"
L="$WORK/bench-landing"
rm -rf "$L" && mkdir -p "$L/$D1/core" "$L/$D2/core"
ln -s "$WORK/landing/$D1/core/account.csv" "$L/$D1/core/account.csv"
ln -s "$WORK/landing/$D2/core/account.csv" "$L/$D2/core/account.csv"
ln -s "$WORK/landing/$D1/core/account.csv" "$L/$D1/core/account_delta.csv"

LM=("$LAKEMART" --project "$P" --memory-limit "$LIMIT")
LM_DIFF=("$LAKEMART" --project "$P" --memory-limit "$DIFF_LIMIT")
# timed NAME CMD…: runs CMD under /usr/bin/time, appends "NAME seconds kib" to WORK/times.
timed() {
    local name="$1"; shift
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" > "$WORK/out-$name.txt" 2> "$WORK/err-$name.txt" \
        || { log "error: $name failed:"; tail -n 20 "$WORK/err-$name.txt" "$WORK/out-$name.txt" >&2; exit 1; }
    read -r s kb < "$WORK/t"
    echo "$name $s $kb" >> "$WORK/times"
    # A `run` also stages the model's source extract first; keep the model's own time apart.
    python3 - "$name" "$WORK/out-$name.txt" >> "$WORK/model-times" <<'PY'
import json, sys
models = []
for line in open(sys.argv[2]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == "model_finished" and not e["model"].startswith("src."):
        models.append((e["duration_ms"] / 1000, e["rows"]))
if models:
    # The models of one command (snapshot_diff and its history): their sum.
    print(sys.argv[1], sum(s for s, _ in models), sum(r for _, r in models))
PY
    log "$name: ${s}s, peak RSS $((kb / 1024)) MiB"
}
fresh() { rm -rf "$WORK/run" && cp -al "$1" "$WORK/run"; }
: > "$WORK/times"; : > "$WORK/model-times"

# Staged snapshots and derived extracts are reused by later runs of the script.
STAGE="$WORK/lh-stage"
if [ ! -f "$STAGE/.done" ]; then
    log "staging both snapshots (src.core_account)"
    rm -rf "$STAGE"
    timed ingest-d1 "${LM[@]}" --lakehouse "$STAGE" ingest --date $D1 --source core_account
    timed ingest-d2 "${LM[@]}" --lakehouse "$STAGE" ingest --date $D2 --source core_account
    log "deriving the change extracts"
    "$PY" "$HERE/merge/peers.py" derive "$STAGE/src/core_account" $D1 $D2 \
        "$WORK/extract-clustered.csv" "$WORK/extract-uniform.csv" "$WORK/extract-recent.csv" > "$WORK/derive.json"
    touch "$STAGE/.done"
fi
cat "$WORK/derive.json" >&2
BASE="$WORK/lh-base"
if [ "$REUSE" = 0 ] || [ ! -f "$BASE/.built" ]; then
rm -rf "$BASE" && cp -al "$STAGE" "$BASE"

log "building the 40M-row targets (day 1, untimed)"
timed ingest-delta-d1 "${LM[@]}" --lakehouse "$BASE" ingest --date $D1 --source core_account_delta
timed build-merge-target "${LM[@]}" --lakehouse "$BASE" run --date $D1 --threads 1 --select foundation.account_merge
timed build-diff-target "${LM[@]}" --lakehouse "$BASE" run --date $D1 --threads 1 --select foundation.account_current+
timed build-overwrite-target "${LM[@]}" --lakehouse "$BASE" run --date $D1 --threads 1 --select foundation.account_overwrite

for variant in clustered uniform recent; do
    rm -f "$L/$D2/core/account_delta.csv"
    ln -s "$WORK/extract-$variant.csv" "$L/$D2/core/account_delta.csv"
    rm -rf "$WORK/lh-$variant" && cp -al "$BASE" "$WORK/lh-$variant"
    "${LM[@]}" --lakehouse "$WORK/lh-$variant" ingest --date $D2 --source core_account_delta > /dev/null
done
touch "$BASE/.built"
fi
TARGET_TABLE=foundation/account_merge
FILES=$(find "$BASE/$TARGET_TABLE" -name '*.parquet' | wc -l)
BYTES=$(du -sb "$BASE/$TARGET_TABLE" | cut -f1)

snapshot_diff_run() {
    fresh "$BASE"
    # Its phases (compare, change set, rewrite) are logged at debug level: WORK/err-lakemart-snapshot-diff.txt.
    RUST_LOG=lakemart=debug timed lakemart-snapshot-diff "${LM_DIFF[@]}" --lakehouse "$WORK/run" run --date $D2 --threads 1 \
        --select foundation.account_current+ --format json
    if [ "$1" = 1 ]; then
        # The history's commit, and its open versions against the table it keeps.
        find "$WORK/run/foundation/account_history/_delta_log" -name '*.json' | sort | tail -1 \
            | xargs grep -ho '"operationMetrics":{[^}]*}' > "$WORK/history-commit.txt" || true
        "$LAKEMART" --project "$P" --lakehouse "$WORK/run" query --format csv \
            "SELECT (SELECT count(*) FROM foundation.account_history) AS versions,
                    (SELECT count(*) FROM foundation.account_history WHERE is_current) AS open_versions,
                    (SELECT count(*) FROM foundation.account_history WHERE valid_from = DATE '$D2') AS opened_d2,
                    (SELECT count(*) FROM foundation.account_current) AS accounts" > "$WORK/history-check.csv"
    fi
}
overwrite_run() {
    fresh "$BASE"
    timed lakemart-overwrite "${LM_DIFF[@]}" --lakehouse "$WORK/run" run --date $D2 --threads 1 \
        --select foundation.account_overwrite --format json
}
for i in $(seq "$RUNS"); do
    for variant in clustered uniform recent; do
        fresh "$WORK/lh-$variant"
        # `run` stages the model's own source again: point it at this variant's extract.
        ln -sfn "$WORK/extract-$variant.csv" "$L/$D2/core/account_delta.csv"
        timed "lakemart-merge-$variant" "${LM[@]}" --lakehouse "$WORK/run" run --date $D2 --threads 1 \
            --select foundation.account_merge --format json
        find "$WORK/run/$TARGET_TABLE/_delta_log" -name '*.json' | sort | tail -1 > "$WORK/commit-$variant"
        python3 - "$(cat "$WORK/commit-$variant")" >> "$WORK/merge-commits.txt" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    if "commitInfo" in a:
        print(json.dumps({"file": sys.argv[1], "metrics": a["commitInfo"].get("operationMetrics")}))
PY
        fresh "$WORK/lh-$variant"
        timed "python-merge-$variant" "$PY" "$HERE/merge/peers.py" pymerge "$WORK/run/$TARGET_TABLE" \
            "$WORK/run/src/core_account_delta" $D2
    done
    fresh "$WORK/lh-clustered"
    rm -rf "$WORK/rewrite.parquet"
    timed duckdb-rewrite "$PY" "$HERE/merge/peers.py" rewrite "$WORK/run/$TARGET_TABLE" \
        "$WORK/run/src/core_account_delta" $D2 "$WORK/rewrite.parquet"
    # Case 2's pair, in turn first after the peers (which leave this machine's memory
    # and page cache as they like): the snapshot_diff first in odd runs, the overwrite
    # first in even ones.
    if [ $((i % 2)) = 1 ]; then
        snapshot_diff_run "$i"
        overwrite_run
    else
        overwrite_run
        snapshot_diff_run "$i"
    fi
done
rm -rf "$WORK/run"

python3 - "$WORK/times" "$WORK/derive.json" "$LIMIT" "$FILES" "$BYTES" "$(nproc)" "$WORK/model-times" <<'PY'
import json, statistics, sys
times, derive, limit, files, nbytes, cores, model_times = sys.argv[1:]
mt = {}
for line in open(model_times):
    name, s, rows = line.split()
    mt.setdefault(name, []).append(float(s))
t = {}
for line in open(times):
    name, s, kb = line.split()
    t.setdefault(name, []).append((float(s), int(kb)))
def med(n): return statistics.median(s for s, _ in t[n])
def rss(n): return max(kb for _, kb in t[n]) / 1024
d = json.loads(open(derive).read())
print(f"data: day 1 {d['rows_day1']:,} accounts, day 2 {d['rows_day2']:,}; the day's changes: "
      f"{d['updates']:,} updated ({100*d['update_rate']:.2f} %), {d['inserts']:,} new "
      f"({100*d['insert_rate']:.2f} %), {d['deletes']:,} gone")
tenths = d["updates_by_tenth"]
print("changed accounts per tenth of the key range, oldest first: " + ", ".join(f"{n:,}" for n in tenths))
print(f"merge target: {int(files)} files, {int(nbytes)/2**30:.2f} GiB; lakemart --memory-limit {limit} "
      f"(snapshot_diff and its overwrite peer: --diff-memory-limit); {cores} cores\n")
print("| case | command | wall s (median) | of which the model | peak RSS MiB |")
print("|---|---|---:|---:|---:|")
rows = [
    ("1 clustered extract", "lakemart merge", "lakemart-merge-clustered"),
    ("1 clustered extract", "Python deltalake merge", "python-merge-clustered"),
    ("1 clustered extract", "DuckDB full anti-join rewrite", "duckdb-rewrite"),
    ("2 full snapshot", "lakemart snapshot_diff + scd2 history", "lakemart-snapshot-diff"),
    ("2 full snapshot", "lakemart overwrite (table)", "lakemart-overwrite"),
    ("3 uniform extract", "lakemart merge", "lakemart-merge-uniform"),
    ("3 uniform extract", "Python deltalake merge", "python-merge-uniform"),
    ("3 newest-tenth part of the extract", "lakemart merge", "lakemart-merge-recent"),
    ("3 newest-tenth part of the extract", "Python deltalake merge", "python-merge-recent"),
]
for case, what, n in rows:
    if n in t:
        model = f"{statistics.median(mt[n]):.1f}" if n in mt else ""
        print(f"| {case} | {what} | {med(n):.1f} | {model} | {rss(n):.0f} |")
print()
m = med("lakemart-merge-clustered")
print(f"(1) Python merge / lakemart merge: {med('python-merge-clustered')/m:.2f} (goal >= 2); "
      f"DuckDB rewrite / lakemart merge: {med('duckdb-rewrite')/m:.2f} (goal >= 1)")
print(f"(2) snapshot_diff + history / overwrite: {med('lakemart-snapshot-diff')/med('lakemart-overwrite'):.2f} wall, "
      f"{statistics.median(mt['lakemart-snapshot-diff'])/statistics.median(mt['lakemart-overwrite']):.2f} "
      "models alone (goal <= 1.5)")
pairs = list(zip(t["lakemart-snapshot-diff"], t["lakemart-overwrite"]))
print("    each run's pair (snapshot_diff first in odd runs, the overwrite in even ones): "
      + ", ".join(f"{a:.1f}/{b:.1f} s = {a / b:.2f}" for (a, _), (b, _) in pairs)
      + f"; median {statistics.median(a / b for (a, _), (b, _) in pairs):.2f}")
print(f"(3) DuckDB full rewrite / lakemart clustered merge: {med('duckdb-rewrite')/m:.2f} (goal >= 5); "
      f"uniform / clustered: {med('lakemart-merge-uniform')/m:.2f}; "
      f"DuckDB full rewrite / lakemart newest-tenth merge: {med('duckdb-rewrite')/med('lakemart-merge-recent'):.2f}")
print(f"newest tenth: keys from {d['recent_from_key']}, {d['recent_rows']:,} of the day's changed rows")
for n in ("ingest-d1", "build-merge-target", "build-diff-target", "build-overwrite-target"):
    if n in t:
        print(f"untimed setup {n}: {med(n):.1f} s, peak RSS {rss(n):.0f} MiB")
PY
echo
echo "account_history after day 2 (versions, open versions, opened on day 2, accounts in account_current):"
cat "$WORK/history-check.csv" 2>/dev/null || true
echo "its day-2 commit: $(cat "$WORK/history-commit.txt" 2>/dev/null)"
