#!/usr/bin/env bash
# Create or reuse the Python venv of the interop check and print its python's path.
#
#   PY="$(bash tests/interop/setup.sh)" && "$PY" tests/interop/read_table.py TABLE_DIR KEY
#
# The venv lives at ${LAKEMART_VENV:-$HOME/.cache/lakemart-venv}. Packages come from
# requirements.txt beside this script; they are installed only when the venv is new or
# that file changed (a hash stamp in the venv), so a second run takes milliseconds.
# Only the python path goes to stdout; pip's output goes to stderr, and only on failure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REQ="$HERE/requirements.txt"
VENV="${LAKEMART_VENV:-$HOME/.cache/lakemart-venv}"
PY="$VENV/bin/python"
STAMP="$VENV/.lakemart-interop-requirements.sha256"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -x "$PY" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    echo "$PY"
    exit 0
fi

if [ ! -x "$PY" ]; then
    command -v "${PYTHON:-python3}" >/dev/null || { echo "setup.sh: python3 not found" >&2; exit 1; }
    mkdir -p "$(dirname "$VENV")"
    "${PYTHON:-python3}" -m venv "$VENV" >&2
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$PY" -m pip install --quiet --disable-pip-version-check -r "$REQ" >"$log" 2>&1; then
    echo "setup.sh: pip install -r $REQ into $VENV failed:" >&2
    cat "$log" >&2
    exit 1
fi
"$PY" -c 'import deltalake, pyarrow, psycopg' || { echo "setup.sh: deltalake/pyarrow/psycopg do not import in $VENV" >&2; exit 1; }
echo "$want" >"$STAMP"
echo "$PY"
