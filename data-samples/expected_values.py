#!/usr/bin/env python3
"""Expected application.customer_360 values, computed without the SQL models.

Plain Python over the landing files (csv module, pyarrow only to read the one
Parquet extract) with Decimal arithmetic. It restates the business rules of the
sample mart independently, for the state lakemart reaches after

    lakemart run 2024-06-29    then    lakemart run 2024-06-30

i.e. the staged sources hold both dates' partitions and customer_360 is built
for 2024-06-30. Rules:

* snapshots (customer, account, card_account, loan_contract, fx_rate) are read
  for the business date only;
* balance_cny of each agreement = balance × that day's rate_to_cny, rounded to
  cents half away from zero, then summed per customer; aum_cny = deposits;
* counts exclude closed accounts (A/C status C), cancelled cards (status C) and
  loans with no outstanding principal;
* transactions (core + card, every ingested date) count when
  biz_date - 29 <= txn_date <= biz_date; a core transaction's currency is that of
  its account in the same day's snapshot, converted at the rate of its txn_date;
  card purchases are CNY debits;
* mobile_login_count_30d counts successful logins in the same window;
* value_segment: PRIVATE >= 6,000,000, WEALTH >= 500,000, AFFLUENT >= 50,000, else MASS.

Usage: python3 data-samples/expected_values.py
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

LANDING = Path(__file__).resolve().parent
DATES = [dt.date(2024, 6, 29), dt.date(2024, 6, 30)]
BIZ_DATE = DATES[-1]
CUSTOMERS = {
    "C000018": "big depositor",
    "C000042": "deposit + card + mortgage, transactions on both dates",
    "C000137": "inactive",
}
CENT = Decimal("0.01")


def rows(day: dt.date, system: str, table: str) -> list[dict]:
    path = LANDING / day.isoformat() / system / f"{table}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return [{k: (v.strip() or None) for k, v in r.items()} for r in csv.DictReader(f)]


def logins(day: dt.date) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(LANDING / day.isoformat() / "mobile" / "login_event.parquet").to_pylist()


def cny(amount: str, rate: Decimal) -> Decimal:
    return (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def age_on(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def value_segment(aum: Decimal) -> str:
    if aum >= 6000000:
        return "PRIVATE"
    if aum >= 500000:
        return "WEALTH"
    if aum >= 50000:
        return "AFFLUENT"
    return "MASS"


def compute(biz: dt.date = BIZ_DATE, dates: list[dt.date] = DATES) -> dict:
    """customer_id → expected columns, for every customer of the biz-date snapshot."""
    rates = {d: {r["currency"]: Decimal(r["rate_to_cny"]) for r in rows(d, "ref", "fx_rate")} for d in dates}
    rate = rates[biz]
    out = {}
    for c in rows(biz, "core", "customer"):
        out[c["cust_id"]] = {
            "age": age_on(dt.date.fromisoformat(c["birth_date"]), biz),
            "deposit_balance_cny": Decimal("0.00"),
            "loan_balance_cny": Decimal("0.00"),
            "card_balance_cny": Decimal("0.00"),
            "deposit_count": 0,
            "card_count": 0,
            "loan_count": 0,
            "txn_count_30d": 0,
            "txn_amount_cny_30d": Decimal("0.00"),
            "debit_amount_cny_30d": Decimal("0.00"),
            "credit_amount_cny_30d": Decimal("0.00"),
            "card_spend_cny_30d": Decimal("0.00"),
            "mobile_login_count_30d": 0,
            "last_txn_date": None,
        }

    for a in rows(biz, "core", "account"):
        o = out[a["cust_id"]]
        o["deposit_balance_cny"] += cny(a["balance"], rate[a["currency"]])
        o["deposit_count"] += a["status"] != "C"
    for k in rows(biz, "card", "card_account"):
        o = out[k["cust_id"]]
        o["card_balance_cny"] += cny(k["balance"], rate["CNY"])
        o["card_count"] += k["status"] != "C"
    for l in rows(biz, "loan", "loan_contract"):
        o = out[l["cust_id"]]
        o["loan_balance_cny"] += cny(l["outstanding"], rate[l["currency"]])
        o["loan_count"] += Decimal(l["outstanding"]) > 0

    window_start = biz - dt.timedelta(days=29)
    for d in dates:
        accounts = {a["acct_no"]: a for a in rows(d, "core", "account")}
        cards = {k["card_no"]: k for k in rows(d, "card", "card_account")}
        txns = []  # (customer, txn_date, amount_cny, direction, is_card)
        for t in rows(d, "core", "transaction"):
            a = accounts[t["acct_no"]]
            td = dt.date.fromisoformat(t["txn_date"])
            txns.append((a["cust_id"], td, cny(t["amount"], rates[td][a["currency"]]), t["direction"], False))
        for t in rows(d, "card", "card_txn"):
            td = dt.date.fromisoformat(t["txn_date"])
            txns.append((cards[t["card_no"]]["cust_id"], td, cny(t["amount"], rates[td]["CNY"]), "D", True))
        for cust, td, amt, direction, is_card in txns:
            o = out.get(cust)
            if o is None or td > biz:
                continue
            o["last_txn_date"] = max(o["last_txn_date"] or td, td)
            if td < window_start:
                continue
            o["txn_count_30d"] += 1
            o["txn_amount_cny_30d"] += amt
            o["debit_amount_cny_30d" if direction == "D" else "credit_amount_cny_30d"] += amt
            if is_card:
                o["card_spend_cny_30d"] += amt
        for e in logins(d):
            o = out.get(e["cust_id"])
            if o is not None and e["success"] and window_start <= e["login_time"].date() <= biz:
                o["mobile_login_count_30d"] += 1

    for o in out.values():
        o["aum_cny"] = o["deposit_balance_cny"]
        o["net_position_cny"] = o["aum_cny"] - o["loan_balance_cny"] - o["card_balance_cny"]
        o["days_since_last_txn"] = (biz - o["last_txn_date"]).days if o["last_txn_date"] else None
        o["value_segment"] = value_segment(o["aum_cny"])
    return out


def main() -> None:
    expected = compute()
    print(f"application.customer_360 for {BIZ_DATE} (after running 2024-06-29, then 2024-06-30)")
    for cust, role in CUSTOMERS.items():
        print(f"\n{cust}  ({role})")
        for col, val in expected[cust].items():
            print(f"  {col} = {'NULL' if val is None else val}")
    print(f"\nrow count = {len(expected)}")
    print(f"sum(aum_cny) = {sum((o['aum_cny'] for o in expected.values()), Decimal('0.00'))}")


if __name__ == "__main__":
    main()
