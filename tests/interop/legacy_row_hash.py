#!/usr/bin/env python3
"""Rewrite a lakemart table's `row_hash` the way releases before 2026-12-05 stored it:
16 lowercase hex digits (text) instead of a BIGINT, in one overwrite commit (no
lakemart tags, so it counts for the business date before it). The upgrade test
(tests/it/materializations.rs) then runs later dates on such tables.

    python legacy_row_hash.py TABLE_DIR
"""
import sys

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake


def main() -> int:
    path = sys.argv[1]
    table = DeltaTable(path)
    data = table.to_pyarrow_table()
    at = data.schema.get_field_index("row_hash")
    if at < 0:
        print(f"{path}: no row_hash column", file=sys.stderr)
        return 2
    text = pa.array(
        [None if v is None else format(v & 0xFFFF_FFFF_FFFF_FFFF, "016x") for v in data.column(at).to_pylist()],
        pa.string(),
    )
    data = data.set_column(at, pa.field("row_hash", pa.string(), True), text)
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
