"""Peers and data preparation of the issue-5 benchmark (benches/merge.sh).

    python peers.py derive   STAGED_ACCOUNT DAY1 DAY2 OUT_CLUSTERED OUT_UNIFORM OUT_RECENT
    python peers.py pymerge  TARGET STAGED_DELTA DAY
    python peers.py rewrite  TARGET STAGED_DELTA DAY OUT_DIR

`derive` compares the two cleansed daily snapshots of `src.core_account` (the staged
Delta table, partitioned by biz_date) and writes the day's change extract as CSV
(changed and new accounts of DAY2, i.e. where activity really is), plus a variant with
the same number of updates spread uniformly over all accounts (balance + 1.00) and the
same new accounts, and the part of the real extract that falls in the newest tenth of
the accounts (what a layout can exploit: the generator also changes ~0.4 % of the old
accounts every day, which touches every file). It prints the counts as one JSON line.

`pymerge` is the Python `deltalake` merge of the staged extract of DAY into TARGET.
`rewrite` is DuckDB's full rewrite: TARGET anti-joined with the extract plus the
extract, written as Parquet into OUT_DIR.
"""

import glob
import json
import os
import sys

import duckdb

COLUMNS = "acct_no, cust_id, product_code, currency, open_date, status, balance"


def part(table, day):
    return os.path.join(table, f"biz_date={day}", "*.parquet")


def derive(staged, day1, day2, out_clustered, out_uniform, out_recent):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW d1 AS SELECT {COLUMNS} FROM read_parquet('{part(staged, day1)}')")
    con.execute(f"CREATE VIEW d2 AS SELECT {COLUMNS} FROM read_parquet('{part(staged, day2)}')")
    con.execute(
        f"""CREATE TABLE changes AS
        SELECT d2.*, CASE WHEN d1.acct_no IS NULL THEN 'I' ELSE 'U' END AS kind
        FROM d2 LEFT JOIN d1 USING (acct_no)
        WHERE d1.acct_no IS NULL
           OR (d2.cust_id, d2.product_code, d2.currency, d2.open_date, d2.status, d2.balance)
              IS DISTINCT FROM (d1.cust_id, d1.product_code, d1.currency, d1.open_date, d1.status, d1.balance)"""
    )
    rows1 = con.execute("SELECT count(*) FROM d1").fetchone()[0]
    rows2 = con.execute("SELECT count(*) FROM d2").fetchone()[0]
    updates, inserts = con.execute(
        "SELECT count(*) FILTER (kind = 'U'), count(*) FILTER (kind = 'I') FROM changes"
    ).fetchone()
    deletes = con.execute("SELECT count(*) FROM d1 ANTI JOIN d2 USING (acct_no)").fetchone()[0]
    # Where the updates fall: share in each tenth of the day-1 key range (oldest first).
    deciles = con.execute(
        """WITH r AS (SELECT acct_no, ntile(10) OVER (ORDER BY acct_no) AS tenth FROM d1)
        SELECT tenth, count(*) FROM changes JOIN r USING (acct_no) GROUP BY tenth ORDER BY tenth"""
    ).fetchall()
    con.execute(
        f"COPY (SELECT {COLUMNS} FROM changes ORDER BY acct_no) TO '{out_clustered}' (HEADER, DELIMITER ',')"
    )
    # The uniform variant: as many updates, keys drawn evenly (a fixed hash), same inserts.
    con.execute(
        f"""COPY (
            SELECT * FROM (
                SELECT acct_no, cust_id, product_code, currency, open_date, status, balance + 1.00 AS balance
                FROM d1 ORDER BY hash(acct_no || 'uniform') LIMIT {updates})
            UNION ALL SELECT {COLUMNS} FROM changes WHERE kind = 'I'
            ORDER BY acct_no
        ) TO '{out_uniform}' (HEADER, DELIMITER ',')"""
    )
    # The newest tenth: keys at or above the 90th percentile of day 1's keys.
    cut = con.execute("SELECT quantile_disc(acct_no, 0.9) FROM d1").fetchone()[0]
    recent = con.execute(f"SELECT count(*) FROM changes WHERE acct_no >= '{cut}'").fetchone()[0]
    con.execute(
        f"COPY (SELECT {COLUMNS} FROM changes WHERE acct_no >= '{cut}' ORDER BY acct_no) "
        f"TO '{out_recent}' (HEADER, DELIMITER ',')"
    )
    print(
        json.dumps(
            {
                "recent_from_key": cut,
                "recent_rows": recent,
                "rows_day1": rows1,
                "rows_day2": rows2,
                "updates": updates,
                "inserts": inserts,
                "deletes": deletes,
                "update_rate": updates / rows1,
                "insert_rate": inserts / rows1,
                "updates_by_tenth": [n for _, n in deciles],
            }
        )
    )


def extract(staged, day):
    import pyarrow.dataset as ds

    files = glob.glob(part(staged, day))
    return ds.dataset(files, format="parquet").to_table(columns=[c.strip() for c in COLUMNS.split(",")])


def pymerge(target, staged, day):
    from deltalake import DeltaTable

    source = extract(staged, day)
    metrics = (
        DeltaTable(target)
        .merge(source=source, predicate="t.acct_no = s.acct_no", source_alias="s", target_alias="t")
        .when_matched_update_all()
        .when_not_matched_insert_all()
        .execute()
    )
    keep = ("num_source_rows", "num_target_rows_inserted", "num_target_rows_updated",
            "num_target_files_added", "num_target_files_removed")
    print(json.dumps({k: metrics.get(k) for k in keep}))


def rewrite(target, staged, day, out):
    from deltalake import DeltaTable

    # The table's live files, as a Delta reader would list them (one version, no removes).
    files = DeltaTable(target).file_uris()
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE VIEW t AS SELECT {COLUMNS} FROM read_parquet({files!r})")
    con.execute(f"CREATE VIEW s AS SELECT {COLUMNS} FROM read_parquet('{part(staged, day)}')")
    con.execute(
        f"""COPY (SELECT * FROM t ANTI JOIN s USING (acct_no) UNION ALL SELECT * FROM s)
        TO '{out}' (FORMAT parquet, PER_THREAD_OUTPUT true)"""
    )
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/*.parquet')").fetchone()[0]
    print(json.dumps({"rows_written": n}))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"derive": derive, "pymerge": pymerge, "rewrite": rewrite}[command](*args)
