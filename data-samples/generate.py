#!/usr/bin/env python3
"""Generate the landing extracts of the sample customer mart.

Writes, for the business dates 2024-06-29 and 2024-06-30,

    data-samples/<YYYY-MM-DD>/<system>/<table>.csv       (mobile/login_event.parquet)

as the source systems described in models/sources/*.toml deliver them: UTF-8,
comma-delimited, header row, fields quoted only when needed, empty field = NULL,
dates YYYY-MM-DD, timestamps YYYY-MM-DD HH:MM:SS, money with exactly 2 decimals.

Deterministic: one random.Random(20240630) drives everything, so the same script
writes the same bytes. Standard library only, except pyarrow for the one Parquet
file (mobile/login_event).

The data is internally consistent: every account, card and loan belongs to a
customer of core.customer; deposit balances on a date equal the previous day's
balance plus that day's credits minus its debits; card balances grow with
card_txn purchases and shrink with repayments debited from a deposit account;
loan instalments are debited from the borrower's demand account.

Three customers are planted on purpose (data-samples/expected_values.py checks them):
    C000018  big depositor (AUM >= 6,000,000 CNY, CNY certificates of deposit + a USD time deposit)
    C000042  deposit + credit card + mortgage, transactions on both dates
    C000137  inactive: one dormant demand account, no transactions, no logins

Usage: python3 data-samples/generate.py      (writes next to this script)
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
from pathlib import Path

SEED = 20240630
DATES = [dt.date(2024, 6, 29), dt.date(2024, 6, 30)]
D1, D2 = DATES
OUT = Path(__file__).resolve().parent

N_CUSTOMERS = 200
NEW_CUSTOMERS = (199, 200)  # opened on 2024-06-30: absent from the 2024-06-29 snapshot
BIG, FULL, INACTIVE = 18, 42, 137

rng = random.Random(SEED)

# ---------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------

BRANCHES = [
    # branch_id, branch_name, city, region, ID-card area code of the city
    ("B001", "北京分行营业部", "北京", "华北", "110105"),
    ("B002", "北京朝阳支行", "北京", "华北", "110105"),
    ("B003", "上海分行营业部", "上海", "华东", "310115"),
    ("B004", "上海浦东支行", "上海", "华东", "310115"),
    ("B005", "杭州分行", "杭州", "华东", "330106"),
    ("B006", "南京分行", "南京", "华东", "320102"),
    ("B007", "广州分行营业部", "广州", "华南", "440106"),
    ("B008", "深圳分行", "深圳", "华南", "440305"),
    ("B009", "成都分行", "成都", "西南", "510107"),
    ("B010", "武汉分行", "武汉", "华中", "420106"),
    ("B011", "西安分行", "西安", "西北", "610113"),
    ("B012", "沈阳分行", "沈阳", "东北", "210102"),
]
BRANCH_WEIGHTS = [10, 8, 12, 9, 8, 7, 9, 11, 7, 6, 6, 4]

PRODUCTS = [
    # product_code, product_name, product_family, product_category, launch_date
    ("D101", "个人活期储蓄", "DEPOSIT", "DEMAND", "2001-01-01"),
    ("D102", "个人外币活期储蓄", "DEPOSIT", "DEMAND", "2003-06-01"),
    ("D201", "整存整取三个月", "DEPOSIT", "TIME", "2001-01-01"),
    ("D202", "整存整取一年", "DEPOSIT", "TIME", "2001-01-01"),
    ("D203", "整存整取三年", "DEPOSIT", "TIME", "2001-01-01"),
    ("D301", "个人大额存单", "DEPOSIT", "TIME", "2015-06-15"),
    ("C101", "标准信用卡", "CARD", "STANDARD", "2006-03-01"),
    ("C102", "金卡信用卡", "CARD", "GOLD", "2006-03-01"),
    ("C103", "白金信用卡", "CARD", "PLATINUM", "2012-09-01"),
    ("L101", "个人住房贷款", "LOAN", "MORTGAGE", "2002-01-01"),
    ("L201", "个人消费贷款", "LOAN", "CONSUMER", "2010-05-01"),
    ("L301", "个人经营贷款", "LOAN", "BUSINESS", "2012-01-01"),
    ("L401", "个人汽车贷款", "LOAN", "AUTO", "2008-07-01"),
]

CURRENCIES = [("CNY", "人民币"), ("USD", "美元"), ("HKD", "港币"), ("EUR", "欧元")]
FX_RATES = {  # rate_to_cny, 6 decimals, per business date
    D1: {"CNY": "1.000000", "USD": "7.126800", "HKD": "0.912680", "EUR": "7.661700"},
    D2: {"CNY": "1.000000", "USD": "7.126500", "HKD": "0.912610", "EUR": "7.658900"},
}

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN_M = list("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆")
GIVEN_F = list("芳娜敏静丽艳娟霞秀英华慧巧美娅玲婷雪琳晶颖倩欣")
GIVEN_ANY = list("文建志国海林子嘉思一佳雨晓春天")

COMPANIES = [
    "华为技术有限公司", "中国移动通信集团有限公司", "国家电网有限公司", "上海汽车集团股份有限公司",
    "腾讯科技（深圳）有限公司", "阿里巴巴（中国）有限公司", "中国石油化工股份有限公司",
    "招商局集团有限公司", "美的集团股份有限公司", "京东方科技集团股份有限公司",
]
MERCHANTS = [
    "永辉超市", "盒马鲜生", "星巴克咖啡", "中国石化加油站", "沃尔玛", "肯德基", "物美超市",
    "万达影城", "华润万家", "屈臣氏", "Apple Store, Nanjing East Rd", "海底捞火锅",
]
PAYMENT_PLATFORMS = ["支付宝", "财付通", "美团", "京东商城", "拼多多"]

MCC = [  # merchant_category, weight
    ("5411", 25), ("5812", 20), ("5541", 10), ("5311", 8), ("5999", 12),
    ("4511", 3), ("7011", 4), ("5732", 5), ("5912", 6), ("4121", 7),
]


def money(cents: int) -> str:
    """Cents → '1234.56' (exactly 2 decimals)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def weighted(choices):
    values, weights = zip(*choices)
    return rng.choices(values, weights=weights, k=1)[0]


def lognormal_cents(median: float, sigma: float, lo: float, hi: float) -> int:
    v = rng.lognormvariate(math.log(median), sigma)
    v = min(max(v, lo), hi)
    return int(round(v * 100))


def rand_date(start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    last = [31, 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
    return dt.date(y, m, min(d.day, last))


def rand_time(day: dt.date, start_h: int = 7, end_h: int = 23) -> dt.datetime:
    seconds = rng.randint(start_h * 3600, end_h * 3600 - 1)
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


def cert_no(area: str, birth: dt.date, male: bool) -> str:
    seq = rng.randint(0, 499) * 2 + (1 if male else 0)
    body = f"{area}{birth:%Y%m%d}{seq:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + check


def luhn(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return body + str((10 - total % 10) % 10)


def mobile_no() -> str:
    return "1" + rng.choice(["38", "39", "35", "36", "37", "50", "51", "52", "58", "59", "82", "86", "87", "88", "89"]) + f"{rng.randint(0, 99999999):08d}"


def person_name(male: bool) -> str:
    given = GIVEN_M if male else GIVEN_F
    name = rng.choice(SURNAMES)
    if rng.random() < 0.7:
        name += rng.choice(GIVEN_ANY + given) + rng.choice(given)
    else:
        name += rng.choice(given)
    return name


# ---------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------

customers = []  # dicts
for i in range(1, N_CUSTOMERS + 1):
    male = rng.random() < 0.52
    branch = rng.choices(BRANCHES, weights=BRANCH_WEIGHTS, k=1)[0]
    age_years = int(min(max(rng.gauss(42, 13), 19), 82))
    birth = rand_date(dt.date(2024 - age_years - 1, 7, 1), dt.date(2024 - age_years, 6, 30))
    if i == FULL:
        birth = dt.date(1984, 6, 30)  # turns 40 on the second business date
    if i in NEW_CUSTOMERS:
        open_date = D2
    else:
        earliest = max(add_years(birth, 18), dt.date(2003, 1, 1))
        open_date = rand_date(earliest, dt.date(2024, 6, 20))
    area = branch[4] if rng.random() < 0.75 else rng.choice(BRANCHES)[4]
    customers.append(
        {
            "idx": i,
            "cust_id": f"C{i:06d}",
            "cert_type": "01",
            "cert_no": cert_no(area, birth, male),
            "cust_name": person_name(male),
            "gender": "M" if male else "F",
            "birth_date": birth,
            "mobile": mobile_no(),
            "open_date": open_date,
            "branch_id": branch[0],
        }
    )
by_idx = {c["idx"]: c for c in customers}

established = [i for i in range(1, N_CUSTOMERS + 1) if i not in NEW_CUSTOMERS]
others = [i for i in established if i not in (BIG, FULL, INACTIVE)]
big_set = [BIG] + sorted(rng.sample(others, 4))
pool = [i for i in others if i not in big_set]
inactive_set = sorted([INACTIVE] + rng.sample(pool, 15))
active = [i for i in established if i not in inactive_set]
card_set = sorted(set([FULL] + rng.sample([i for i in active if i != FULL], 78)))
loan_set = sorted(set([FULL] + rng.sample([i for i in active if i not in (FULL, BIG)], 38)))
mobile_users = sorted(set([FULL] + [i for i in active if rng.random() < 0.72]))

# ---------------------------------------------------------------------------
# Deposit accounts
# ---------------------------------------------------------------------------

accounts = []  # dicts: acct_no, cust, product, currency, open_date, status, bal (cents, before D1), appears (first date), closes (date or None)
acct_seq = 0


def new_account(cust, product, currency, open_date, bal, status="A", appears=D1):
    global acct_seq
    acct_seq += 1
    branch_num = int(cust["branch_id"][1:])
    acct = {
        "acct_no": f"6217{branch_num:03d}{acct_seq + 300000:012d}",
        "cust": cust,
        "product": product,
        "currency": currency,
        "open_date": open_date,
        "status": status,
        "bal": bal,
        "appears": appears,
        "closes": None,
    }
    accounts.append(acct)
    return acct


demand_of = {}  # idx -> main CNY demand account
for c in customers:
    i = c["idx"]
    if i in NEW_CUSTOMERS:
        continue
    if i in inactive_set:
        bal = lognormal_cents(800, 1.2, 0.0, 60000)
    elif i in big_set:
        bal = lognormal_cents(350000, 0.5, 120000, 1200000)
    else:
        bal = lognormal_cents(9000, 1.2, 300, 600000)
    if i in card_set:
        bal += 3000_00  # room for card repayments
    demand_of[i] = new_account(c, "D101", "CNY", c["open_date"], bal)
    if i in inactive_set:
        continue
    if i in big_set:
        # certificates of deposit and a foreign-currency time deposit
        for _ in range(3):
            amt = rng.choice([2000000, 2500000, 3000000]) * 100
            new_account(c, "D301", "CNY", rand_date(dt.date(2021, 7, 1), dt.date(2024, 5, 31)), amt)
        usd = rng.choice([50000, 100000, 150000]) * 100
        new_account(c, "D202", "USD", rand_date(dt.date(2023, 7, 1), dt.date(2024, 5, 31)), usd)
        continue
    extra = rng.choices([0, 1, 2, 3], weights=[45, 35, 15, 5], k=1)[0]
    if i == FULL:
        extra = max(extra, 1)
    for _ in range(extra):
        kind = rng.choices(["TD", "FX", "CD"], weights=[70, 20, 10], k=1)[0]
        od = rand_date(max(c["open_date"], dt.date(2019, 1, 1)), dt.date(2024, 6, 20))
        status = "C" if rng.random() < 0.06 else "A"
        if kind == "TD":
            prod = rng.choice(["D201", "D202", "D203"])
            amt = lognormal_cents(80000, 0.9, 5000, 1500000) // 10000 * 10000
            new_account(c, prod, "CNY", od, 0 if status == "C" else amt, status)
        elif kind == "FX":
            cur = rng.choices(["USD", "HKD", "EUR"], weights=[60, 25, 15], k=1)[0]
            amt = lognormal_cents(6000 if cur != "HKD" else 40000, 1.0, 100, 300000)
            new_account(c, "D102", cur, od, 0 if status == "C" else amt, status)
        else:
            amt = rng.choice([200000, 300000, 500000]) * 100
            new_account(c, "D301", "CNY", od, 0 if status == "C" else amt, status)

# ---------------------------------------------------------------------------
# Credit cards
# ---------------------------------------------------------------------------

cards = []
card_seq = 0
for i in card_set:
    c = by_idx[i]
    n = 2 if (rng.random() < 0.12 and i != FULL) else 1
    for k in range(n):
        card_seq += 1
        prod = rng.choices(["C101", "C102", "C103"], weights=[55, 35, 10], k=1)[0]
        if i == FULL:
            prod = "C102"
        limit = {"C101": rng.choice([10000, 15000, 20000, 30000]),
                 "C102": rng.choice([50000, 60000, 80000]),
                 "C103": rng.choice([100000, 150000, 200000])}[prod] * 100
        status = "N"
        r = rng.random()
        if k == 1 and r < 0.3:
            status = "C"
        elif r < 0.03 and i != FULL:
            status = "F"
        bal = 0 if status == "C" else int(limit * rng.random() * 0.5)
        if i == FULL:
            bal = max(bal, 800000)
        cards.append({
            "card_no": luhn(f"625906{card_seq + 40000:09d}"),
            "cust": c,
            "product": prod,
            "limit": limit,
            "bal": bal,
            "status": status,
            "open_date": rand_date(max(c["open_date"], dt.date(2010, 1, 1)), dt.date(2024, 6, 1)),
        })

# ---------------------------------------------------------------------------
# Loans
# ---------------------------------------------------------------------------

loans = []
loan_seq = 0


def new_loan(c, prod, start=None, currency="CNY", appears=D1, settled=False):
    """A loan; without `start`, one drawn so that it is still running on both business dates."""
    global loan_seq
    loan_seq += 1
    term_years, principal, rate = {
        "L101": (rng.choice([20, 25, 30]), rng.randint(40, 300) * 10000_00, rng.randint(3850, 4900)),
        "L201": (rng.choice([1, 2, 3]), rng.randint(5, 30) * 10000_00, rng.randint(3450, 7800)),
        "L301": (rng.choice([1, 3, 5]), rng.randint(20, 100) * 10000_00, rng.randint(3650, 6200)),
        "L401": (rng.choice([3, 5]), rng.randint(8, 30) * 10000_00, rng.randint(3900, 6500)),
    }[prod]
    if start is None:
        earliest = max(c["open_date"], add_years(D2, -term_years) + dt.timedelta(days=45), dt.date(2005, 1, 1))
        start = rand_date(earliest, dt.date(2024, 5, 31))
    maturity = add_years(start, term_years)
    months_total = term_years * 12
    months_left = max(1, (maturity.year - D1.year) * 12 + maturity.month - D1.month)
    outstanding = 0 if settled else int(principal * min(1.0, months_left / months_total * rng.uniform(0.92, 1.0)))
    if start == D2:
        outstanding = principal
    five = rng.choices(["1", "2", "3", "4"], weights=[92, 5, 2, 1], k=1)[0]
    if c["idx"] == FULL:
        five = "1"
    loan = {
        "loan_no": f"LN{start:%Y}{int(c['branch_id'][1:]):03d}{loan_seq + 500:07d}",
        "cust": c,
        "product": prod,
        "currency": currency,
        "principal": principal,
        "outstanding": outstanding,
        "rate": rate,  # annual rate in units of 0.00001 (3850 → 0.038500)
        "start": start,
        "maturity": maturity,
        "five_class": five,
        "appears": appears,
        "months_left": months_left,
    }
    loans.append(loan)
    return loan


for i in loan_set:
    c = by_idx[i]
    prod = rng.choices(["L101", "L201", "L301", "L401"], weights=[50, 30, 10, 10], k=1)[0]
    if i == FULL:
        prod = "L101"
    start = dt.date(2019, 3, 30) if i == FULL else None  # FULL's instalment falls due on the 30th
    currency = "USD" if (prod == "L301" and rng.random() < 0.5) else "CNY"
    new_loan(c, prod, start, currency)
# one loan already settled (outstanding 0.00), one disbursed on the second date
settled_cust = by_idx[rng.choice([i for i in active if i not in loan_set])]
new_loan(settled_cust, "L201", dt.date(2021, 4, 12), settled=True)
new_loan_cust = by_idx[rng.choice([i for i in active if i not in loan_set and i != settled_cust["idx"] and i != BIG])]
disbursed = new_loan(new_loan_cust, "L201", D2, appears=D2)
for loan in loans:  # borrowers keep two instalments on their demand account
    if loan["outstanding"] and loan["currency"] == "CNY":
        demand_of[loan["cust"]["idx"]]["bal"] += 2 * (loan["outstanding"] // loan["months_left"] + loan["outstanding"] * loan["rate"] // 1200000)

# ---------------------------------------------------------------------------
# Daily events: core transactions, card transactions, logins
# ---------------------------------------------------------------------------

core_events = {d: [] for d in DATES}  # (time, acct, amount_cents, direction, channel, counterparty)
card_events = {d: [] for d in DATES}  # (time, card, amount_cents, mcc, channel)
login_events = {d: [] for d in DATES}  # (cust_id, time, os, success)
repaid_cards = set()  # at most one repayment per card over the two dates

# accounts opened on the second date: new customers and new time deposits funded from demand
for i in NEW_CUSTOMERS:
    c = by_idx[i]
    a = new_account(c, "D101", "CNY", D2, 0, appears=D2)
    demand_of[i] = a
    amt = lognormal_cents(20000, 0.8, 1000, 200000)
    core_events[D2].append((rand_time(D2, 9, 16), a, amt, "C", "CNT", None))
td_openers = rng.sample([i for i in active if i not in big_set and i != FULL and demand_of[i]["bal"] > 30000_00], 4)
for i in td_openers:
    c = by_idx[i]
    d = demand_of[i]
    amt = min(d["bal"] // 2, 200000_00) // 1000_00 * 1000_00
    td = new_account(c, rng.choice(["D201", "D202"]), "CNY", D2, 0, appears=D2)
    t = rand_time(D2, 9, 20)
    ch = "MOB" if i in mobile_users else "CNT"
    core_events[D2].append((t, d, amt, "D", ch, f"本人定期账户{td['acct_no']}"))
    core_events[D2].append((t, td, amt, "C", ch, f"本人活期账户{d['acct_no']}"))
# loan disbursement credited to the borrower's demand account
core_events[D2].append((rand_time(D2, 10, 12), demand_of[new_loan_cust["idx"]], disbursed["principal"], "C", "SYS", f"个人贷款发放{disbursed['loan_no']}"))

# one account closed on the second date: its balance withdrawn at the counter
closing = rng.choice([a for a in accounts if a["product"] == "D201" and a["status"] == "A" and a["bal"] > 0 and a["appears"] == D1
                      and a["cust"]["idx"] in active and a["cust"]["idx"] not in (FULL, BIG)])
closing["closes"] = D2
core_events[D2].append((rand_time(D2, 9, 16), closing, closing["bal"], "D", "CNT", None))

# loan instalments on their due day, debited from the borrower's demand account
for loan in loans:
    if loan["outstanding"] == 0 or loan["start"] >= D1:
        continue
    for d in DATES:
        due = loan["start"].day == d.day or (loan["start"].day == 31 and d == D2)
        if not due:
            continue
        principal_part = loan["outstanding"] // max(1, loan["months_left"])
        interest = loan["outstanding"] * loan["rate"] // 100000 // 12
        loan.setdefault("repaid", {})[d] = principal_part
        if loan["currency"] == "CNY":
            core_events[d].append((dt.datetime.combine(d, dt.time(1, 0, loan["start"].day)), demand_of[loan["cust"]["idx"]],
                                   principal_part + interest, "D", "SYS", f"个人贷款还款{loan['loan_no']}"))

# everyday activity
CORE_CHANNELS = [("MOB", 45), ("POS", 20), ("WEB", 10), ("ATM", 12), ("CNT", 13)]
for i in active:
    c = by_idx[i]
    cust_accts = [a for a in accounts if a["cust"] is c and a["status"] == "A" and a["appears"] == D1]
    d_acct = demand_of[i]
    fx_accts = [a for a in cust_accts if a["product"] == "D102"]
    cust_cards = [k for k in cards if k["cust"] is c and k["status"] == "N"]
    for d in DATES:
        n = rng.choices([0, 1, 2, 3, 4], weights=[35, 30, 18, 10, 7], k=1)[0]
        if i == FULL:
            n = max(n, 2)
        for _ in range(n):
            ch = weighted(CORE_CHANNELS)
            if ch == "MOB" and i not in mobile_users:
                ch = "WEB"  # no mobile banking: internet banking instead
            t = rand_time(d)
            credit = rng.random() < (0.25 if ch != "ATM" and ch != "POS" else 0.0)
            if credit:
                if rng.random() < 0.3:
                    amt = lognormal_cents(9000, 0.5, 2000, 60000)
                    cp = rng.choice(COMPANIES)
                else:
                    amt = lognormal_cents(800, 1.0, 10, 50000)
                    cp = person_name(rng.random() < 0.5)
                core_events[d].append((t, d_acct, amt, "C", ch, cp))
            else:
                amt = lognormal_cents(220, 1.1, 5, 20000)
                if ch == "ATM":
                    amt = rng.choice([100, 200, 300, 500, 1000, 2000]) * 100
                    cp = None
                elif ch == "POS":
                    cp = rng.choice(MERCHANTS)
                elif ch == "CNT" and rng.random() < 0.4:
                    cp = None
                else:
                    cp = rng.choice(PAYMENT_PLATFORMS + [person_name(rng.random() < 0.5)])
                core_events[d].append((t, d_acct, amt, "D", ch, cp))
        if fx_accts and rng.random() < 0.15:
            a = rng.choice(fx_accts)
            amt = min(a["bal"] // 4, lognormal_cents(500, 0.8, 20, 5000))
            if amt > 0:
                core_events[d].append((rand_time(d, 9, 17), a, amt, "D", rng.choice(["WEB", "CNT"]), "境外汇款"))
        # card purchases
        for k in cust_cards:
            m = rng.choices([0, 1, 2, 3], weights=[45, 30, 15, 10], k=1)[0]
            if i == FULL:
                m = max(m, 1)
            for _ in range(m):
                mcc = weighted(MCC)
                amt = lognormal_cents({"4511": 1800, "7011": 900}.get(mcc, 160), 0.9, 3, 30000)
                ch = rng.choices(["POS", "ONL", "QRC"], weights=[55, 30, 15], k=1)[0]
                card_events[d].append((rand_time(d, 0, 24), k, amt, mcc, ch))
            # repayment of the card from the demand account
            if k["bal"] > 0 and k["card_no"] not in repaid_cards and rng.random() < 0.08:
                pay = min(k["bal"], d_acct["bal"] // 3) // 100 * 100
                if pay > 0:
                    repaid_cards.add(k["card_no"])
                    core_events[d].append((rand_time(d, 8, 22), d_acct, pay, "D", "MOB" if i in mobile_users else "WEB", f"信用卡还款{k['card_no'][-4:]}", k))
        # logins
        if i in mobile_users:
            has_mob = any(e[1]["cust"] is c and e[4] == "MOB" for e in core_events[d])
            nl = rng.choices([0, 1, 2, 3, 4], weights=[40, 30, 15, 10, 5], k=1)[0]
            if has_mob or i == FULL:
                nl = max(nl, 1)
            for _ in range(nl):
                success = rng.random() > 0.06
                login_events[d].append((c["cust_id"], rand_time(d, 6, 24), c.setdefault("os", rng.choices(["iOS", "Android", "HarmonyOS"], weights=[45, 40, 15], k=1)[0]), success))
# FULL's salary arrives by payroll batch on the first date
core_events[D1].append((dt.datetime(2024, 6, 29, 2, 30, 0), demand_of[FULL], 18560_00, "C", "SYS", "华为技术有限公司代发工资"))
# the new customers: one logs in on its first day
login_events[D2].append((by_idx[NEW_CUSTOMERS[0]]["cust_id"], rand_time(D2, 17, 23), "Android", True))

# ---------------------------------------------------------------------------
# Apply events in time order, day by day, and take the end-of-day snapshots
# ---------------------------------------------------------------------------

snapshots = {}
txn_rows = {}
card_txn_rows = {}
for d in DATES:
    crow = []
    for t, k, amt, mcc, ch in sorted(card_events[d], key=lambda e: (e[0], e[1]["card_no"], e[2])):
        if k["bal"] + amt > k["limit"]:
            continue  # declined: over the credit limit
        k["bal"] += amt
        crow.append([k["card_no"], t, amt, mcc, ch])
    events = sorted(core_events[d], key=lambda e: (e[0], e[1]["acct_no"], e[3], e[2]))
    rows = []
    for t, a, amt, direction, ch, cp, *card in events:
        if a["appears"] > d:
            continue
        if direction == "D":
            if amt <= 0 or amt > a["bal"]:
                continue  # would overdraw: the core system rejects it
            a["bal"] -= amt
        else:
            a["bal"] += amt
        if card:  # credit card repayment: reduces the card's outstanding balance
            card[0]["bal"] -= amt
        rows.append([a["acct_no"], t, amt, direction, ch, cp])
    txn_rows[d] = [[f"T{d:%Y%m%d}{n:06d}"] + r for n, r in enumerate(rows, start=1)]
    card_txn_rows[d] = [[f"K{d:%Y%m%d}{n:06d}"] + r for n, r in enumerate(crow, start=1)]
    for loan in loans:
        loan["outstanding"] -= loan.get("repaid", {}).get(d, 0)
    for a in accounts:
        if a["closes"] == d:
            a["status"] = "C"
    snapshots[d] = {
        "account": [
            [a["acct_no"], a["cust"]["cust_id"], a["product"], a["currency"], a["open_date"], a["status"], money(a["bal"])]
            for a in accounts if a["appears"] <= d
        ],
        "card_account": [
            [k["card_no"], k["cust"]["cust_id"], k["product"], money(k["limit"]), money(k["bal"]), k["status"], k["open_date"]]
            for k in cards
        ],
        "loan_contract": [
            [l["loan_no"], l["cust"]["cust_id"], l["product"], l["currency"], money(l["principal"]), money(l["outstanding"]),
             f"0.{l['rate'] * 10:06d}", l["start"], l["maturity"], l["five_class"]]
            for l in loans if l["appears"] <= d
        ],
    }

# customer attribute changes on the second date
mobile_changer = by_idx[rng.choice(active)]
new_mobile = mobile_no()


def segment(c) -> str:
    cny = {"CNY": 1.0, "USD": 7.1, "HKD": 0.91, "EUR": 7.7}
    total = sum(a["bal"] * cny[a["currency"]] for a in accounts if a["cust"] is c) / 100
    tier = 3 if total >= 6000000 else 2 if total >= 500000 else 1 if total >= 50000 else 0
    if rng.random() < 0.1:  # the relationship manager's code lags behind
        tier = max(0, tier - 1)
    return ["MASS", "AFFL", "WLTH", "PRIV"][tier]


segments = {c["idx"]: segment(c) for c in customers}

# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.strftime("%Y-%m-%d")
    return str(v)


def write_csv(d: dt.date, system: str, table: str, header: list[str], rows) -> None:
    path = OUT / f"{d:%Y-%m-%d}" / system / f"{table}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=",", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([fmt(v) for v in r])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def write_parquet(d: dt.date, system: str, table: str, rows) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = OUT / f"{d:%Y-%m-%d}" / system / f"{table}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([
        ("cust_id", pa.string()),
        ("login_time", pa.timestamp("us")),
        ("device_os", pa.string()),
        ("success", pa.bool_()),
    ])
    cols = list(zip(*rows)) if rows else [[], [], [], []]
    t = pa.table([pa.array(list(col), type=f.type) for col, f in zip(cols, schema)], schema=schema)
    pq.write_table(t, path, compression="snappy")


for d in DATES:
    write_csv(d, "ref", "branch", ["branch_id", "branch_name", "city", "region"], [b[:4] for b in BRANCHES])
    write_csv(d, "ref", "product", ["product_code", "product_name", "product_family", "product_category", "launch_date"], PRODUCTS)
    write_csv(d, "ref", "fx_rate", ["currency", "currency_name", "rate_to_cny"],
              [[cur, name, FX_RATES[d][cur]] for cur, name in CURRENCIES])
    write_csv(
        d, "core", "customer",
        ["cust_id", "cert_type", "cert_no", "cust_name", "gender", "birth_date", "mobile", "open_date", "branch_id", "segment_code"],
        [[c["cust_id"], c["cert_type"], c["cert_no"], c["cust_name"], c["gender"], c["birth_date"],
          new_mobile if (c is mobile_changer and d == D2) else c["mobile"], c["open_date"], c["branch_id"], segments[c["idx"]]]
         for c in customers if c["open_date"] <= d],
    )
    write_csv(d, "core", "account", ["acct_no", "cust_id", "product_code", "currency", "open_date", "status", "balance"], snapshots[d]["account"])
    write_csv(
        d, "core", "transaction",
        ["txn_id", "acct_no", "txn_time", "txn_date", "amount", "direction", "channel", "counterparty"],
        [[r[0], r[1], r[2], r[2].date(), money(r[3]), r[4], r[5], r[6]] for r in txn_rows[d]],
    )
    write_csv(d, "card", "card_account", ["card_no", "cust_id", "product_code", "credit_limit", "balance", "status", "open_date"], snapshots[d]["card_account"])
    write_csv(
        d, "card", "card_txn",
        ["txn_id", "card_no", "txn_time", "txn_date", "amount", "merchant_category", "channel"],
        [[r[0], r[1], r[2], r[2].date(), money(r[3]), r[4], r[5]] for r in card_txn_rows[d]],
    )
    write_csv(
        d, "loan", "loan_contract",
        ["loan_no", "cust_id", "product_code", "currency", "principal", "outstanding", "interest_rate", "start_date", "maturity_date", "five_class"],
        snapshots[d]["loan_contract"],
    )
    write_parquet(d, "mobile", "login_event", sorted(login_events[d], key=lambda e: (e[1], e[0])))

if __name__ == "__main__":
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file() and p.suffix in (".csv", ".parquet"))
    print(f"wrote {len(DATES)} business dates under {OUT} ({total} bytes)")
