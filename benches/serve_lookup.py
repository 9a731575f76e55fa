#!/usr/bin/env python3
"""Point-lookup benchmark of `lakemart serve`: one customer of application.customer_360
by customer_id, 1,000 times, through the PostgreSQL wire protocol, with peers measured
in the same run on the same Delta table.

    LAKEMART=/path/to/release/lakemart python3 benches/serve_lookup.py
        [--replicas 500] [--queries 1000] [--process-queries 100] [--workdir DIR]

The data: the sample mart's landing files (data-samples/, 200 customers) replicated
--replicas times (default 500, so 100,000 customers), every key suffixed per replica
(C000042 → C000042 for replica 0, C000042007 for replica 7; accounts, cards, loans and
transactions likewise; reference data as is), then built by `lakemart run` for both
sample business dates through the real models. customer_360 then has replicas × 200 rows.

What is timed (each query's wall clock on the client, after 20 untimed warm-ups):
  * lakemart serve, psycopg 3, one connection, `... WHERE customer_id = %s` (prepared
    by psycopg after five runs), as a user with the pii role and as one without (masked);
  * lakemart serve, psql, one session reading 1,000 statements, timed by psql's \\timing;
  * lakemart serve, psql, one process (connect, password check, query) per lookup;
  * peer: DuckDB 1.5.5's delta extension, `delta_scan` of the same table, one connection;
  * peer: `lakemart query`, one process per lookup (open every table, plan, print).
Process-per-lookup rows use --process-queries lookups (default 100).

Python packages (psycopg, duckdb and its delta extension) come from
benches/serve-requirements.txt, installed on first use into a venv at
$LAKEMART_BENCH_VENV (default ~/.cache/lakemart-bench-serve-venv). Prints a markdown
table on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
REQUIREMENTS = HERE / "serve-requirements.txt"
DATES = ["2024-06-29", "2024-06-30"]
# Key columns of each extract that must stay unique per replica (and the foreign keys to them).
KEYS = {
    ("core", "customer"): ["cust_id"],
    ("core", "account"): ["acct_no", "cust_id"],
    ("core", "transaction"): ["txn_id", "acct_no"],
    ("card", "card_account"): ["card_no", "cust_id"],
    ("card", "card_txn"): ["txn_id", "card_no"],
    ("loan", "loan_contract"): ["loan_no", "cust_id"],
}
PASSWORD = "bench-password"


def log(msg: str) -> None:
    print(f"serve_lookup: {msg}", file=sys.stderr, flush=True)


def ensure_venv() -> None:
    """Re-run this script under the bench venv unless psycopg and duckdb import here."""
    try:
        import duckdb  # noqa: F401
        import psycopg  # noqa: F401
        return
    except ImportError:
        pass
    venv = Path(os.environ.get("LAKEMART_BENCH_VENV", Path.home() / ".cache/lakemart-bench-serve-venv"))
    py = venv / "bin" / "python"
    stamp = venv / ".requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not py.exists() or (stamp.read_text() if stamp.exists() else "") != want:
        log(f"installing {REQUIREMENTS.name} into {venv} (first run only)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(REQUIREMENTS)], check=True)
        stamp.write_text(want)
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def suffix(value: str, k: int) -> str:
    return value if k == 0 or value == "" else f"{value}{k:03d}"


def scale_landing(dst: Path, replicas: int) -> None:
    import duckdb

    for date in DATES:
        for src in sorted((ROOT / "data-samples" / date).glob("*/*")):
            system, table = src.parent.name, src.stem
            out = dst / date / system / src.name
            out.parent.mkdir(parents=True, exist_ok=True)
            if src.suffix == ".parquet":
                # mobile/login_event: replicate with DuckDB, keeping the column types.
                duckdb.sql(
                    f"COPY (SELECT CASE WHEN k = 0 THEN cust_id ELSE cust_id || lpad(CAST(k AS VARCHAR), 3, '0') END "
                    f"AS cust_id, login_time, device_os, success FROM read_parquet('{src}'), range(0, {replicas}) r(k) "
                    f"ORDER BY k, login_time) TO '{out}' (FORMAT parquet)"
                )
                continue
            keys = KEYS.get((system, table))
            if keys is None:
                shutil.copyfile(src, out)
                continue
            with src.open(encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
            header, body = rows[0], rows[1:]
            at = [header.index(k) for k in keys]
            with out.open("w", encoding="utf-8", newline="") as f:
                w = csv.writer(f, delimiter=",", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
                w.writerow(header)
                for k in range(replicas):
                    for r in body:
                        r2 = list(r)
                        for i in at:
                            r2[i] = suffix(r2[i], k)
                        w.writerow(r2)


def make_project(work: Path, replicas: int) -> Path:
    project = work / "project"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    for d in ["models", "sql"]:
        shutil.copytree(ROOT / d, project / d)
    landing = work / f"landing-x{replicas}"
    if not landing.exists():
        log(f"writing the landing files, {replicas} replicas of data-samples/, to {landing}")
        scale_landing(landing, replicas)
    (project / "lakemart.toml").write_text(
        f'[project]\nname = "customer_mart_x{replicas}"\nlakehouse = "{work / f"lakehouse-x{replicas}"}"\n'
        f'landing = "{landing}"\n\n[serve]\nusers = "users.toml"\n'
    )
    return project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def summary(name: str, times_ms: list[float]) -> str:
    q = statistics.quantiles(times_ms, n=100, method="inclusive")
    return (f"| {name} | {len(times_ms)} | {statistics.median(times_ms):.2f} | {q[98]:.2f} | "
            f"{statistics.fmean(times_ms):.2f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicas", type=int, default=500)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--process-queries", type=int, default=100)
    ap.add_argument("--workdir", type=Path, default=None, help="keep data here between runs")
    args = ap.parse_args()
    ensure_venv()
    import duckdb
    import psycopg

    lakemart = Path(os.environ.get("LAKEMART", ROOT / "target/release/lakemart")).resolve()
    if not lakemart.exists():
        sys.exit(f"serve_lookup: no lakemart binary at {lakemart}; build one (cargo build --release) and set LAKEMART")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="lakemart-serve-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    project = make_project(work, args.replicas)
    lakehouse = work / f"lakehouse-x{args.replicas}"
    base = [str(lakemart), "--project", str(project)]

    if not (lakehouse / "application" / "customer_360").exists():
        log(f"building the mart ({', '.join(DATES)}) into {lakehouse}")
        t0 = time.perf_counter()
        subprocess.run(base + ["run", "--from", DATES[0], "--to", DATES[-1]], check=True,
                       stdout=subprocess.DEVNULL)
        log(f"built in {time.perf_counter() - t0:.1f} s")
    rows = subprocess.run(base + ["query", "SELECT count(*) AS n FROM application.customer_360", "--format", "csv"],
                          check=True, capture_output=True, text=True).stdout.split()[1]
    log(f"application.customer_360 has {rows} rows")

    hashed = subprocess.run(base + ["serve", "--hash-password"], input=PASSWORD + "\n", check=True,
                            capture_output=True, text=True).stdout.strip()
    (project / "users.toml").write_text(
        f'[[users]]\nname = "officer"\npassword = "{hashed}"\nroles = ["pii"]\n\n'
        f'[[users]]\nname = "analyst"\npassword = "{hashed}"\n'
    )
    port = free_port()
    server = subprocess.Popen(base + ["serve", "--bind", f"127.0.0.1:{port}"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        banner = server.stdout.readline()
        if not banner.startswith("lakemart serve:"):
            sys.exit(f"serve_lookup: lakemart serve did not start: {banner!r}")
        log(banner.strip())
        rng = random.Random(20240630)
        ids = [suffix(f"C{rng.randint(1, 200):06d}", rng.randrange(args.replicas)) for _ in range(args.queries)]
        sql = "SELECT * FROM application.customer_360 WHERE customer_id = %s"
        results = []

        for user in ["officer", "analyst"]:
            with psycopg.connect(host="127.0.0.1", port=port, user=user, password=PASSWORD, dbname="lakemart",
                                 autocommit=True) as conn:
                for i in ids[:20]:
                    conn.execute(sql, (i,)).fetchall()
                times = []
                for i in ids:
                    t0 = time.perf_counter()
                    got = conn.execute(sql, (i,)).fetchall()
                    times.append((time.perf_counter() - t0) * 1000)
                    assert len(got) == 1, (i, got)
            label = "pii role, clear" if user == "officer" else "no pii role, masked"
            results.append(summary(f"lakemart serve, psycopg, one connection ({label})", times))
            log(results[-1])

        env = dict(os.environ, PGPASSWORD=PASSWORD)
        psql = ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "officer", "-d", "lakemart", "-X", "-q", "-w"]
        script = "\\timing on\n" + "".join(
            f"SELECT * FROM application.customer_360 WHERE customer_id = '{i}';\n" for i in ids[:20] + ids)
        out = subprocess.run(psql + ["-At", "-v", "ON_ERROR_STOP=1"], input=script, env=env, check=True,
                             capture_output=True, text=True).stdout
        timed = [float(line.split()[1]) for line in out.splitlines() if line.startswith("Time: ")]
        results.append(summary("lakemart serve, psql, one session (\\timing)", timed[20:]))
        log(results[-1])

        times = []
        for i in ids[: args.process_queries]:
            t0 = time.perf_counter()
            subprocess.run(psql + ["-At", "-c", f"SELECT * FROM application.customer_360 WHERE customer_id = '{i}'"],
                           env=env, check=True, capture_output=True)
            times.append((time.perf_counter() - t0) * 1000)
        results.append(summary("lakemart serve, psql, one process per lookup (connect + password + query)", times))
        log(results[-1])
    finally:
        server.kill()
        server.wait()

    from duckdb_extensions import import_extension

    con = duckdb.connect()
    import_extension("delta", con=con)  # installs the packaged extension file; no network
    con.load_extension("delta")
    table = lakehouse / "application" / "customer_360"
    dsql = f"SELECT * FROM delta_scan('{table}') WHERE customer_id = ?"
    for i in ids[:20]:
        con.execute(dsql, [i]).fetchall()
    times = []
    for i in ids:
        t0 = time.perf_counter()
        got = con.execute(dsql, [i]).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
        assert len(got) == 1, (i, got)
    results.append(summary(f"peer: DuckDB {duckdb.__version__} delta_scan, one connection (in-process)", times))
    log(results[-1])

    times = []
    for i in ids[: args.process_queries]:
        t0 = time.perf_counter()
        subprocess.run(base + ["query", f"SELECT * FROM application.customer_360 WHERE customer_id = '{i}'",
                               "--format", "csv"], check=True, capture_output=True)
        times.append((time.perf_counter() - t0) * 1000)
    results.append(summary("peer: `lakemart query`, one process per lookup", times))
    log(results[-1])

    print(f"customer_360: {rows} rows ({args.replicas} replicas of the sample); lookups by customer_id, "
          f"ids drawn with a fixed seed\n")
    print("| path | lookups | p50 ms | p99 ms | mean ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print("\n".join(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
