#!/usr/bin/env python3
"""Check a lakemart project's SQL with DataFusion's Python bindings, independently of lakemart.

    benches/.venv/bin/python benches/check_project.py PROJECT_DIR [--rows 40] [--date 2024-06-28]

For the benchmark generator (benches/gen_project.py) this is the proof that what it
writes is valid DataFusion SQL: every source table gets a few synthetic rows of its
declared types (plus `biz_date`), every model is planned and executed in dependency
order with `$biz_date` bound to a DATE, and its result is registered as `layer.model`
for the models above it. It also reports what lakemart would reject: a model reading
a higher layer, a dependency cycle, a described column the SQL does not produce, and
unsigned integer output columns (DataFusion's ROW_NUMBER/RANK return UInt64, which a
Delta table cannot store). Exit 0 when all is well, 1 otherwise.

Needs the `datafusion` and `pyarrow` packages (benches/requirements.txt); tomllib is
in the standard library from Python 3.11.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import os
import random
import re
import sys
import tomllib

import pyarrow as pa
from datafusion import SessionContext

LAYERS = ["src", "foundation", "aggregation", "application"]
REF = re.compile(r"\b(src|foundation|aggregation|application)\.([a-z0-9_]+)\b")


def arrow_type(t: str) -> pa.DataType:
    t = t.strip().lower()
    simple = {
        "string": pa.string(), "varchar": pa.string(), "text": pa.string(),
        "int": pa.int32(), "integer": pa.int32(), "bigint": pa.int64(), "long": pa.int64(),
        "double": pa.float64(), "float": pa.float64(), "boolean": pa.bool_(), "bool": pa.bool_(),
        "date": pa.date32(), "timestamp": pa.timestamp("us"),
    }
    if t in simple:
        return simple[t]
    m = re.fullmatch(r"decimal\((\d+),\s*(\d+)\)", t)
    if not m:
        raise ValueError(f"unknown type {t}")
    return pa.decimal128(int(m.group(1)), int(m.group(2)))


def fake_column(name: str, ty: pa.DataType, n: int, rng: random.Random, day: dt.date) -> pa.Array:
    vals = []
    for _ in range(n):
        if rng.random() < 0.05 and name not in ("cust_id",):
            vals.append(None)
        elif pa.types.is_string(ty):
            pool = 12 if name in ("cust_id",) else 4
            vals.append(f"{name}_{rng.randrange(pool)}" if not name.endswith("_status") else rng.choice("ADC"))
        elif pa.types.is_integer(ty):
            vals.append(rng.randrange(0, 100))
        elif pa.types.is_floating(ty):
            vals.append(round(rng.uniform(0, 10), 3))
        elif pa.types.is_boolean(ty):
            vals.append(rng.random() < 0.5)
        elif pa.types.is_date(ty):
            vals.append(day - dt.timedelta(days=rng.randrange(0, 400)))
        elif pa.types.is_timestamp(ty):
            vals.append(dt.datetime.combine(day, dt.time()) - dt.timedelta(seconds=rng.randrange(0, 86400 * 30)))
        elif pa.types.is_decimal(ty):
            vals.append(decimal.Decimal(rng.randrange(0, 200_000_000)).scaleb(-ty.scale))
        else:
            raise ValueError(ty)
    return pa.array(vals, type=ty)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project")
    ap.add_argument("--rows", type=int, default=40, help="synthetic rows per source table")
    ap.add_argument("--date", default="2024-06-28", help="the business date bound to $biz_date")
    args = ap.parse_args(argv)
    root = args.project
    day = dt.date.fromisoformat(args.date)
    rng = random.Random(0)
    ctx = SessionContext()
    for layer in LAYERS:
        ctx.sql(f"CREATE SCHEMA {layer}").collect()
    problems: list[str] = []

    # Sources: synthetic rows, biz_date = the date.
    src_dir = os.path.join(root, "models", "sources")
    n_src = 0
    for fn in sorted(os.listdir(src_dir)):
        if not fn.endswith(".toml"):
            continue
        system = fn[:-5]
        with open(os.path.join(src_dir, fn), "rb") as f:
            spec = tomllib.load(f)
        for t in spec.get("tables", []):
            fields = [(c["name"], arrow_type(c["type"])) for c in t["columns"]]
            arrays = [fake_column(n, ty, args.rows, rng, day) for n, ty in fields]
            arrays.append(pa.array([day] * args.rows, type=pa.date32()))
            schema = pa.schema([pa.field(n, ty) for n, ty in fields] + [pa.field("biz_date", pa.date32(), False)])
            ctx.register_record_batches(f"src.{system}_{t['name']}", [pa.Table.from_arrays(arrays, schema=schema).to_batches()])
            n_src += 1

    # Models and their references.
    models: dict[str, tuple[str, str, set]] = {}
    sql_root = os.path.join(root, "sql")
    for layer in LAYERS[1:]:
        ldir = os.path.join(sql_root, layer)
        if not os.path.isdir(ldir):
            continue
        for subject in sorted(os.listdir(ldir)):
            for fn in sorted(os.listdir(os.path.join(ldir, subject))):
                if fn.endswith(".sql"):
                    path = os.path.join(ldir, subject, fn)
                    with open(path, encoding="utf-8") as f:
                        sql = f.read()
                    body = "\n".join(l for l in sql.split("\n") if not l.lstrip().startswith("--"))
                    refs = {f"{a}.{b}" for a, b in REF.findall(body)}
                    models[f"{layer}.{fn[:-4]}"] = (path, sql, refs)
    described: dict[str, list[str]] = {}
    for layer in LAYERS[1:]:
        mdir = os.path.join(root, "models", layer)
        if not os.path.isdir(mdir):
            continue
        for fn in sorted(os.listdir(mdir)):
            if fn.endswith(".toml"):
                with open(os.path.join(mdir, fn), "rb") as f:
                    for m in tomllib.load(f).get("models", []):
                        described[f"{layer}.{m['name']}"] = [c["name"] for c in m.get("columns", [])]
    for name in described:
        if name not in models:
            problems.append(f"{name}: described in metadata but has no SQL file")

    # Layers, then a topological order (Kahn).
    for name, (path, _, refs) in models.items():
        for r in refs:
            if LAYERS.index(r.split(".")[0]) > LAYERS.index(name.split(".")[0]):
                problems.append(f"{name}: reads {r} from a higher layer")
    indeg = {m: 0 for m in models}
    users: dict[str, list[str]] = {m: [] for m in models}
    for name, (_, _, refs) in models.items():
        for r in refs:
            if r in models:
                indeg[name] += 1
                users[r].append(name)
    ready = sorted(m for m, d in indeg.items() if d == 0)
    order = []
    while ready:
        m = ready.pop()
        order.append(m)
        for u in users[m]:
            indeg[u] -= 1
            if indeg[u] == 0:
                ready.append(u)
    if len(order) != len(models):
        problems.append(f"dependency cycle among {sorted(set(models) - set(order))[:5]} ...")

    rows_out = 0
    failed: set = set()
    for name in order:
        path, sql, refs = models[name]
        bad = [r for r in refs if r in failed]
        if bad:
            failed.add(name)
            continue
        try:
            df = ctx.sql(sql, param_values={"biz_date": day})
            schema = df.schema()
            batches = df.collect()
        except Exception as e:  # noqa: BLE001 - report any engine error
            problems.append(f"{path}: {str(e).splitlines()[0][:400]}")
            failed.add(name)
            continue
        for f in schema:
            if pa.types.is_unsigned_integer(f.type):
                problems.append(f"{path}: column {f.name} is {f.type}; Delta cannot store unsigned integers")
        produced = set(schema.names)
        for c in described.get(name, []):
            if c not in produced:
                problems.append(f"{path}: metadata describes column {c}, which the SQL does not produce")
        if len(produced) != len(schema.names):
            problems.append(f"{path}: duplicate output column names")
        # The batches may say "not null" where the plan's schema does not: keep theirs.
        batches = [b for b in batches if b.num_rows] or [pa.RecordBatch.from_pylist([], schema=schema)]
        rows_out += sum(b.num_rows for b in batches)
        ctx.register_record_batches(name, [batches])

    for p in problems:
        print(p, file=sys.stderr)
    ok = len(order) - len(failed)
    print(f"checked {len(models)} models over {n_src} source tables: {ok} ran "
          f"({rows_out} rows), {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
