#!/usr/bin/env python3
r"""Read a Delta table with an independent reader (the Python `deltalake` package) and
print its row count and a canonical checksum, so lakemart's output can be checked
against a reader that shares none of its code.

    python read_table.py TABLE_DIR KEY_COLUMN [--dump]

Prints exactly one JSON line on stdout:

    {"rows": 3, "checksum": "<64 lowercase hex digits>"}

`--dump` also writes the canonical lines (below) to stderr, to find which row differs.
Exit 0 on success, 2 on a usage error (no such table, no such key column, a column
type without a canonical rendering).

Canonical form (the Rust side must compute the same from arrow data)
--------------------------------------------------------------------
Columns: all columns, in the order of the table's Delta schema (the `metaData`
action's schemaString, which is what `DeltaTable.schema()` and delta-rs's
`snapshot.schema()` return; partition columns sit where the schema has them).

Each value renders as text:

* NULL (any type)             -> `\N`
* string (utf8, large_utf8, utf8_view)
                              -> the text, with `\` -> `\\`, `|` -> `\|`,
                                 newline (U+000A) -> `\n`, carriage return (U+000D) -> `\r`;
                                 nothing else escaped (so `\N` only ever means NULL)
* boolean                     -> `true` / `false`
* integers (any width, signed or not)
                              -> base-10, `-` for negatives, no `+`, no leading zeros
* decimal(p, s), s > 0        -> the exact value in plain fixed-point notation with
                                 exactly s fraction digits: `123.40`, `-0.05`, `0.00`;
                                 at least one integer digit, `-` only when the value
                                 is below zero, never an exponent (arrow's own decimal
                                 display: unscaled i128 with the point inserted s digits
                                 from the right)
* decimal(p, 0)               -> the integer, no point: `42`
* decimal(p, s), s < 0        -> the integer value (unscaled * 10^-s), no point
* date (date32, date64)       -> `YYYY-MM-DD` (proleptic Gregorian, 4-digit year)
* timestamp (any unit, with or without a time zone)
                              -> the wall-clock time in UTC for zoned timestamps and
                                 the stored value for zone-less ones, as
                                 `YYYY-MM-DD HH:MM:SS`, followed by `.ffffff` (6 digits,
                                 microseconds) only when the sub-second part is not zero;
                                 for nanosecond values whose nanoseconds are not a whole
                                 number of microseconds, 9 digits `.fffffffff` instead.
                                 No zone suffix.
* float64                     -> Python's `repr(float)`: the shortest digit string that
                                 round-trips (as from ryu / Grisu "shortest"), laid out as
                                   - `nan`, `inf`, `-inf` for non-finite values;
                                   - with decimal exponent x (value = d.ddd * 10^x):
                                     if -4 <= x < 16, fixed notation, and always at least
                                     one fraction digit: `1.0`, `0.1`, `123.456`, `0.0001`,
                                     `1000000000000000.0`, `-0.0`;
                                   - otherwise scientific: mantissa digits with a point
                                     only if there is more than one digit, then `e`, the
                                     exponent's sign (`+` or `-`), and at least two
                                     exponent digits: `1e-05`, `1.5e+16`, `2.5e-310`.
* float32 / float16           -> widened exactly to float64 first, then as float64
                                 (`0.1f32` -> `0.10000000149011612`)
* binary                      -> lowercase hex of the bytes

A row renders as its values joined by `|`, terminated by a single `\n` (so the last row
ends with `\n` too). Rows are sorted by the rendered text of KEY_COLUMN, then by the
whole rendered line, both compared as byte strings (UTF-8; Python's `str` ordering is
the same). The checksum is the SHA-256, in lowercase hex, of the UTF-8 bytes of the
sorted lines concatenated. An empty table has `rows` 0 and the SHA-256 of no bytes
(`e3b0c442...b855`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import os
import sys

_EPOCH = dt.datetime(1970, 1, 1)


def _fail(msg: str) -> "NoReturn":  # noqa: F821
    print(f"read_table.py: {msg}", file=sys.stderr)
    sys.exit(2)


def render_string(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r")


def render_decimal(d: decimal.Decimal, scale: int) -> str:
    sign, digits, exponent = d.as_tuple()
    if not isinstance(exponent, int):
        _fail(f"non-finite decimal {d}")
    unscaled = int("".join(map(str, digits)) or "0")
    # Bring the value to exactly `scale` fraction digits (arrow decimals already are).
    shift = exponent + scale
    if shift >= 0:
        unscaled *= 10**shift
    else:
        q, r = divmod(unscaled, 10**-shift)
        if r:
            _fail(f"decimal {d} has more than {scale} fraction digits")
        unscaled = q
    if scale <= 0:
        text = str(unscaled * 10**-scale)
    else:
        s = str(unscaled).rjust(scale + 1, "0")
        text = f"{s[:-scale]}.{s[-scale:]}"
    return "-" + text if sign and unscaled != 0 else text


def render_float(x: float) -> str:
    return repr(float(x))


def render_timestamp(raw: int, unit: str) -> str:
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    seconds, sub = divmod(raw, per_second)  # floor division: sub is always >= 0
    wall = _EPOCH + dt.timedelta(seconds=seconds)
    text = wall.strftime("%Y-%m-%d %H:%M:%S") if wall.year >= 1000 else (
        f"{wall.year:04d}-{wall.month:02d}-{wall.day:02d} {wall.hour:02d}:{wall.minute:02d}:{wall.second:02d}")
    if sub:
        nanos = sub * (1_000_000_000 // per_second)
        text += f".{nanos // 1000:06d}" if nanos % 1000 == 0 else f".{nanos:09d}"
    return text


def render_date(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def column_renderer(name: str, arrow_type):
    """A function from one pyarrow column (ChunkedArray) to its rendered values."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or getattr(t, "is_string_view", lambda _: False)(arrow_type):
        return lambda col: [None if v is None else render_string(v) for v in col.to_pylist()]
    if t.is_boolean(arrow_type):
        return lambda col: [None if v is None else ("true" if v else "false") for v in col.to_pylist()]
    if t.is_integer(arrow_type):
        return lambda col: [None if v is None else str(v) for v in col.to_pylist()]
    if t.is_decimal(arrow_type):
        scale = arrow_type.scale
        return lambda col: [None if v is None else render_decimal(v, scale) for v in col.to_pylist()]
    if t.is_floating(arrow_type):
        return lambda col: [None if v is None else render_float(v) for v in col.to_pylist()]
    if t.is_date(arrow_type):
        return lambda col: [None if v is None else render_date(v) for v in col.to_pylist()]
    if t.is_timestamp(arrow_type):
        unit = arrow_type.unit

        def ts(col):
            # The stored integers are UTC for zoned timestamps and wall-clock for naive ones.
            raw = col.cast(pa.int64()).to_pylist()
            return [None if v is None else render_timestamp(v, unit) for v in raw]

        return ts
    if t.is_binary(arrow_type) or t.is_large_binary(arrow_type) or t.is_fixed_size_binary(arrow_type):
        return lambda col: [None if v is None else v.hex() for v in col.to_pylist()]
    _fail(f"column {name} has type {arrow_type}, which has no canonical rendering")


def canonical_lines(table, columns: list[str], key: str) -> list[str]:
    rendered = []
    for name in columns:
        col = table.column(name)
        values = column_renderer(name, col.type)(col)
        rendered.append(["\\N" if v is None else v for v in values])
    key_index = columns.index(key)
    rows = list(zip(*rendered)) if rendered else []
    lines = [("|".join(r), r[key_index]) for r in rows]
    lines.sort(key=lambda lk: (lk[1].encode("utf-8"), lk[0].encode("utf-8")))
    return [line + "\n" for line, _ in lines]


def checksum(lines: list[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8"))
    return h.hexdigest()


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "--dump"]
    dump = len(args) != len(argv)
    if len(args) != 2 or args[0].startswith("-"):
        _fail("usage: read_table.py TABLE_DIR KEY_COLUMN [--dump]")
    table_dir, key = args
    from deltalake import DeltaTable

    try:
        dt_ = DeltaTable(table_dir)
    except Exception as e:  # noqa: BLE001 - TableNotFoundError and friends
        _fail(f"cannot open Delta table {table_dir}: {e}")
    columns = [f.name for f in dt_.schema().fields]
    if key not in columns:
        _fail(f"no column {key!r} in {table_dir} (columns: {', '.join(columns)})")
    table = dt_.to_pyarrow_table()
    lines = canonical_lines(table, columns, key)
    if dump:
        sys.stderr.write("".join(lines))
    print(json.dumps({"rows": len(lines), "checksum": checksum(lines)}))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave without interpreter teardown: with deltalake 1.6.6 and pyarrow 26 the
    # native runtime's threads can abort the process at exit ("terminate called
    # without an active exception") after the answer is already printed.
    os._exit(code)
