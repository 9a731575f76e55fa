"""The DuckDB peer of benches/mart.sh: run every model of the reference mart
with DuckDB, in dependency order, on the same staged data lakemart reads.

    python benches/mart_duckdb.py MANIFEST.json LAKEHOUSE_DIR DUCKDB_FILE 2024-06-30 [--threads 2]

MANIFEST.json is `lakemart compile --format json`. Each model's SQL is the file
named by its `sql_path` (or, for models lakemart generates from config, the
manifest's `compiled_sql`), with `$biz_date` replaced by a DATE literal; the
staged source tables are read from the lakehouse with DuckDB's delta extension
(`delta_scan`), so both engines read the very same Parquet files. Each model
becomes a table in DUCKDB_FILE (created afresh). Prints one line per model
(name, rows, seconds) to stderr and the total wall time in seconds to stdout.
"""

import json
import os
import sys
import time

import duckdb


def main():
    args = sys.argv[1:]
    threads = 2
    if "--threads" in args:
        i = args.index("--threads")
        threads = int(args[i + 1])
        del args[i : i + 2]
    manifest_path, lakehouse, db_file, biz_date = args
    manifest = json.load(open(manifest_path))
    project_root = os.path.dirname(os.path.abspath(manifest_path))
    if "project_root" in manifest:
        project_root = manifest["project_root"]
    root = os.environ.get("MART_PROJECT", project_root)

    models = {m["name"]: m for m in manifest["models"]}
    order = []
    seen = set()

    def visit(name):
        if name in seen or name not in models:
            return
        seen.add(name)
        for dep in models[name]["depends_on"]:
            visit(dep)
        order.append(name)

    for name in sorted(models):
        visit(name)

    if os.path.exists(db_file):
        os.remove(db_file)
    con = duckdb.connect(db_file)
    from duckdb_extensions import import_extension

    import_extension("delta", con=con)  # installs the packaged extension file; no network
    con.load_extension("delta")
    con.execute(f"SET threads = {threads}")
    for schema in ["src", "foundation", "aggregation", "application"]:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for source in manifest["sources"]:
        system_table = source["name"].split(".", 1)[1]
        path = os.path.join(lakehouse, "src", system_table)
        con.execute(f"CREATE VIEW {source['name']} AS SELECT * FROM delta_scan('{path}')")

    literal = f"DATE '{biz_date}'"
    started = time.perf_counter()
    for name in order:
        m = models[name]
        sql = m.get("compiled_sql")
        if not sql:
            sql = open(os.path.join(root, m["sql_path"])).read()
        sql = sql.replace("$biz_date", literal).rstrip().rstrip(";")
        t0 = time.perf_counter()
        try:
            con.execute(f"CREATE TABLE {name} AS {sql}")
        except Exception as e:  # report which model DuckDB could not run
            print(f"duckdb: {name}: {e}", file=sys.stderr)
            sys.exit(1)
        rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        print(f"  {name:<50} {rows:>10} {time.perf_counter() - t0:8.2f}", file=sys.stderr)
    con.execute("CHECKPOINT")
    con.close()
    print(f"{time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main()
