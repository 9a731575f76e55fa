#!/usr/bin/env python3
"""A PostgreSQL client for the `lakemart serve` tests: Python psycopg 3, one connection.

    PGPASSWORD=... python pg_client.py HOST PORT USER [--autocommit]

Connects once, then reads SQL statements from stdin, one per line, runs each on that
connection (psycopg's extended protocol; a statement run five times is prepared on the
server) and prints one JSON line per statement, flushed at once, so a test can drive it
step by step:

    {"columns": ["customer_id", "aum_cny"], "rows": [["C000042", "237525.65"]]}
    {"status": "SET"}
    {"error": {"sqlstate": "25006", "message": "..."}}

Values print as text: numbers as written (Decimal keeps its scale), dates ISO
`YYYY-MM-DD`, timestamps `YYYY-MM-DD HH:MM:SS[.ffffff]`, NULL as null. A failed
connection prints {"connect_error": "..."} and exits 2.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import sys


def render(value):
    if value is None:
        return None
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def main(argv: list[str]) -> int:
    import psycopg

    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 3:
        print("usage: pg_client.py HOST PORT USER [--autocommit]", file=sys.stderr)
        return 64
    host, port, user = args
    try:
        conn = psycopg.connect(
            host=host, port=int(port), user=user, dbname="lakemart", connect_timeout=10,
            autocommit="--autocommit" in argv,
        )
    except psycopg.Error as e:
        print(json.dumps({"connect_error": str(e).strip()}), flush=True)
        return 2
    for line in sys.stdin:
        sql = line.strip()
        if not sql:
            continue
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                if cur.description is None:
                    out = {"status": cur.statusmessage}
                else:
                    out = {
                        "columns": [c.name for c in cur.description],
                        "rows": [[render(v) for v in row] for row in cur.fetchall()],
                    }
        except psycopg.Error as e:
            out = {"error": {"sqlstate": e.sqlstate, "message": str(e).strip()}}
            if not conn.autocommit:
                conn.rollback()
        print(json.dumps(out, ensure_ascii=False), flush=True)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
