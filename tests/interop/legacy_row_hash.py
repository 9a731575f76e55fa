#!/usr/bin/env python3
"""Turn a lakemart table's `row_hash` into the form releases before 2026-12-05 stored
it: 16 lowercase hex digits (text) instead of a BIGINT, in one overwrite commit (no
lakemart tags, so it counts for the business date before it). The upgrade test
(tests/it/materializations.rs) then runs later dates on such tables.

A snapshot_diff table made since 2026-12-06 keeps no row hash; releases before kept
one. Given its change set table and key, each row gets the hash of its key's newest
insert or update there (the row as it is now), as text.

    python legacy_row_hash.py TABLE_DIR [CHANGES_DIR KEY]
"""
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def hex_of(v):
    return None if v is None else format(v & 0xFFFF_FFFF_FFFF_FFFF, "016x")


def hashes_from_changes(changes_dir: str, key: str, keys: list) -> list:
    changes = DeltaTable(changes_dir).to_pyarrow_table().to_pylist()
    newest = {}
    for row in sorted(changes, key=lambda r: r["biz_date"]):
        if row["change_type"] != "D":
            newest[row[key]] = row["row_hash"]
    missing = [k for k in keys if k not in newest]
    if missing:
        raise SystemExit(f"{changes_dir}: no insert or update of {missing}")
    return [newest[k] for k in keys]


def main() -> int:
    path = sys.argv[1]
    table = DeltaTable(path)
    data = table.to_pyarrow_table()
    at = data.schema.get_field_index("row_hash")
    if at >= 0:
        values = data.column(at).to_pylist()
    elif len(sys.argv) == 4:
        key = sys.argv[3]
        values = hashes_from_changes(sys.argv[2], key, data.column(key).to_pylist())
    else:
        print(f"{path}: no row_hash column", file=sys.stderr)
        return 2
    text = pa.array([hex_of(v) for v in values], pa.string())
    field = pa.field("row_hash", pa.string(), True)
    data = data.set_column(at, field, text) if at >= 0 else data.append_column(field, text)
    write_deltalake(
        path,
        data,
        mode="overwrite",
        schema_mode="overwrite",
        partition_by=table.metadata().partition_columns or None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
