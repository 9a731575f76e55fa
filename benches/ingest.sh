#!/usr/bin/env bash
# Ingest benchmark (issue 3): `lakemart ingest` of one ~1 GB delimited extract with
# cleansing rules on every column (benches/ingest/account.toml) into a Delta table,
# next to a plain DataFusion COPY of the same file to Parquet (benches/copy_csv.rs,
# all columns as text, no cleansing), alternating, in the same run.
# Goal: ingest costs no more than 1.5x the plain copy.
#
#   CARGO_TARGET_DIR=... cargo build --release --bin lakemart --example copy_csv
#   bash benches/ingest.sh [--scale 4] [--runs 3] [--work DIR]
#
# The extract is core/account.csv of `lakemart gen --scale S` (≈ 250 MB per 1.0 of scale),
# generated once into DIR/landing and reused; the generator's own time and peak RSS
# are reported. Prints a markdown table on stdout; progress goes to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
SCALE=4
RUNS=3
WORK=/tmp/lakemart-ingest-bench
while [ $# -gt 0 ]; do
    case "$1" in
        --scale) SCALE="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        --work) WORK="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "ingest.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
log() { echo "ingest.sh: $*" >&2; }
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LAKEMART="${LAKEMART:-$TARGET/release/lakemart}"
COPY="${COPY_CSV:-$TARGET/release/examples/copy_csv}"
for b in "$LAKEMART" "$COPY"; do
    [ -x "$b" ] || { log "error: $b missing: cargo build --release --bin lakemart --example copy_csv"; exit 1; }
done
command -v /usr/bin/time >/dev/null || { log "error: /usr/bin/time (GNU time) is needed"; exit 1; }
CORES=$(nproc)

mkdir -p "$WORK"
DATE=2024-06-30
FILE="$WORK/landing/$DATE/core/account.csv"
if [ ! -f "$WORK/landing/.scale-$SCALE" ]; then
    rm -rf "$WORK/landing"
    log "generating scale $SCALE into $WORK/landing"
    /usr/bin/time -f "%e %M" -o "$WORK/gen.time" "$LAKEMART" gen --scale "$SCALE" --date $DATE --out "$WORK/landing" >&2
    touch "$WORK/landing/.scale-$SCALE"
fi
read -r GEN_S GEN_KB < "$WORK/gen.time" || true
MB=$(python3 -c "import os; print(round(os.path.getsize('$FILE') / 1e6, 1))")
ROWS=$(($(wc -l < "$FILE") - 1))

PROJECT="$WORK/project"
rm -rf "$PROJECT" && mkdir -p "$PROJECT/models/sources"
printf '[project]\nname = "ingest_bench"\nlanding = "%s"\n' "$WORK/landing" > "$PROJECT/lakemart.toml"
cp "$HERE/ingest/account.toml" "$PROJECT/models/sources/core.toml"

run_ingest() {
    rm -rf "$WORK/lakehouse"
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$LAKEMART" --project "$PROJECT" --lakehouse "$WORK/lakehouse" \
        ingest --date $DATE --format json > "$WORK/ingest.json"
    grep -q '"failed":0' "$WORK/ingest.json" || { log "error: ingest failed: $(cat "$WORK/ingest.json")"; exit 1; }
}
run_copy() {
    rm -rf "$WORK/copy.parquet"
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$COPY" "$FILE" "$WORK/copy.parquet" 2> /dev/null
}

log "warm-up (file cache)"
run_copy
ING=(); CPY=(); ING_KB=0; CPY_KB=0
for i in $(seq "$RUNS"); do
    run_ingest
    read -r s kb < "$WORK/t"; ING+=("$s"); if [ "$kb" -gt "$ING_KB" ]; then ING_KB=$kb; fi
    log "run $i: ingest ${s}s"
    run_copy
    read -r s kb < "$WORK/t"; CPY+=("$s"); if [ "$kb" -gt "$CPY_KB" ]; then CPY_KB=$kb; fi
    log "run $i: copy ${s}s"
done
FIGURES=$(grep source_finished "$WORK/ingest.json")
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
MI=$(median "${ING[@]}"); MC=$(median "${CPY[@]}")
python3 - "$MB" "$ROWS" "$CORES" "$MI" "$MC" "$ING_KB" "$CPY_KB" "${GEN_S:-}" "${GEN_KB:-}" "$SCALE" "$FIGURES" <<'PY'
import json, sys
mb, rows, cores, mi, mc, ikb, ckb, gs, gkb, scale, figures = sys.argv[1:]
mb, rows, cores, mi, mc = float(mb), int(rows), int(cores), float(mi), float(mc)
f = json.loads(figures)
print(f"extract: core/account.csv of `lakemart gen --scale {scale}`: {mb} MB, {rows:,} records; "
      f"ingest loaded {f['rows_loaded']:,}, rejected {f['rows_rejected']:,}, soft-fixed {f['soft_fixed']:,}\n")
print("| | median s | MB/s | MB/s per core | peak RSS |")
print("|---|---|---|---|---|")
print(f"| lakemart ingest (cleansing, Delta commit) | {mi:.2f} | {mb/mi:.0f} | {mb/mi/cores:.0f} | {int(ikb)/1024:.0f} MiB |")
print(f"| DataFusion COPY to Parquet (peer) | {mc:.2f} | {mb/mc:.0f} | {mb/mc/cores:.0f} | {int(ckb)/1024:.0f} MiB |")
print(f"\nratio ingest / copy: {mi/mc:.2f} (goal <= 1.5)")
if gs:
    print(f"generator, scale {scale} (all 39 systems): {float(gs):.0f} s, peak RSS {int(gkb)/1024:.0f} MiB")
PY
