#!/usr/bin/env python3
"""Hand-computed expected values of the sample customer mart.

Reads the raw extracts under data-samples/<date>/ with its own reader, driven
only by the layouts in models/sources/*.toml (delimiters, quoting, encodings,
fixed byte positions, trim, null tokens, code maps, types, checks, dedup), and
computes, from the written model descriptions (models/<layer>/*.toml,
models/application/tags.toml and scores.toml), the values lakemart's mart must
hold for a few named customers on 2024-06-30. It never reads sql/.

Usage:  python3 data-samples/expected_values.py
        (~/.cache/lakemart-venv/bin/python when pyarrow is needed for Parquet)

Output: one `model.column[customer] = value` line per value, values printed
as `lakemart query --format csv` prints them (decimals with their scale,
empty for NULL, true/false).
"""

from __future__ import annotations

import re
import sys
import tomllib
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANDING = ROOT / "data-samples"
BIZ = date(2024, 6, 30)
DATES = [date(2024, 6, 29), date(2024, 6, 30)]

# --------------------------------------------------------------------------
# Reader: the ingest rules of docs/ingest.md, driven by models/sources/*.toml
# --------------------------------------------------------------------------

SYSTEMS = {
    p.stem: tomllib.loads(p.read_text(encoding="utf-8"))
    for p in sorted((ROOT / "models" / "sources").glob("*.toml"))
}


def unescape(s: str) -> str:
    return s.encode("utf-8").decode("unicode_escape") if "\\" in s else s


def java_fmt_to_regex(fmt: str) -> re.Pattern:
    out = re.escape(fmt)
    for tok, grp in [
        ("yyyy", r"(?P<Y>\d{4})"),
        ("MM", r"(?P<M>\d{2})"),
        ("dd", r"(?P<D>\d{2})"),
        ("HH", r"(?P<h>\d{2})"),
        ("mm", r"(?P<m>\d{2})"),
        ("ss", r"(?P<s>\d{2})"),
        ("SSS", r"(?P<f>\d{3})"),
    ]:
        out = out.replace(tok, grp)
    return re.compile("^" + out + "$")


class Invalid(Exception):
    pass


def parse_value(v: str, col: dict):
    t = col["type"]
    if t == "string":
        return v
    if t in ("int", "bigint"):
        if not re.fullmatch(r"[+-]?\d+", v):
            raise Invalid
        return int(v)
    if t.startswith("decimal"):
        p, s = map(int, t[8:-1].split(","))
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", v):
            raise Invalid
        d = Decimal(v)
        if -d.as_tuple().exponent > s:
            raise Invalid
        d = d.quantize(Decimal(1).scaleb(-s))
        if len(d.as_tuple().digits) > p:
            raise Invalid
        return d
    if t == "double":
        return float(v)
    if t == "boolean":
        lv = v.lower()
        if lv in ("true", "1", "y", "yes"):
            return True
        if lv in ("false", "0", "n", "no"):
            return False
        raise Invalid
    if t in ("date", "timestamp"):
        fmt = col.get("format", "yyyy-MM-dd" if t == "date" else "yyyy-MM-dd HH:mm:ss")
        m = java_fmt_to_regex(fmt).match(v)
        if not m:
            raise Invalid
        g = m.groupdict()
        try:
            dt = datetime(
                int(g["Y"]), int(g["M"]), int(g["D"]),
                int(g.get("h") or 0), int(g.get("m") or 0), int(g.get("s") or 0),
            )
        except ValueError:
            raise Invalid
        return dt.date() if t == "date" else dt
    raise ValueError(t)


RID_W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def resident_id_ok(v: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dX]", v):
        return False
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    s = sum(int(c) * w for c, w in zip(v[:17], RID_W))
    return "10X98765432"[s % 11] == v[17]


def check_ok(kind: str, v: str) -> bool:
    if kind == "resident_id":
        return resident_id_ok(v)
    if kind == "mobile":
        return re.fullmatch(r"1[3-9]\d{9}", v) is not None
    if kind == "email":
        return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v) is not None
    raise ValueError(kind)


def rule_action(col: dict, rule: str) -> str:
    oi = col.get("on_invalid", "reject")
    if isinstance(oi, dict):
        return oi.get(rule, "reject")
    return oi


def split_quoted(text: str, delim: str, quote: str):
    """Records of a quoted delimited text: list of (fields, raw)."""
    recs, fields, cur, i, n = [], [], [], 0, len(text)
    inq = False
    while i < n:
        c = text[i]
        if inq:
            if c == quote:
                if i + 1 < n and text[i + 1] == quote:
                    cur.append(quote)
                    i += 2
                    continue
                inq = False
                i += 1
                continue
            cur.append(c)
            i += 1
            continue
        if c == quote and not cur:
            inq = True
            i += 1
            continue
        if text.startswith(delim, i):
            fields.append("".join(cur))
            cur = []
            i += len(delim)
            continue
        if c == "\n" or (c == "\r" and text.startswith("\r\n", i)):
            fields.append("".join(cur))
            recs.append(fields)
            fields, cur = [], []
            i += 2 if c == "\r" else 1
            continue
        cur.append(c)
        i += 1
    if cur or fields:
        fields.append("".join(cur))
        recs.append(fields)
    return recs


def raw_records(sysname: str, table: dict, d: date):
    sysdef = SYSTEMS[sysname]
    path = LANDING / table["file"].format(
        biz_date=d.isoformat(), yyyymmdd=d.strftime("%Y%m%d")
    )
    fmt = table["format"]
    cols = table["columns"]
    enc = table.get("encoding", sysdef.get("encoding", "utf-8"))
    enc = {"gbk": "gbk", "gb18030": "gb18030"}.get(enc, "utf-8")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        tbl = pq.read_table(path)
        data = tbl.to_pydict()
        for i in range(tbl.num_rows):
            row = {}
            for c in cols:
                v = data[c["name"]][i]
                row[c["name"]] = None if v is None else (
                    v if not isinstance(v, str) else v
                )
            yield row
        return
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if fmt == "fixed":
        for line in raw.split(b"\n"):
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                continue
            last = max(c["start"] - 1 + c["length"] for c in cols)
            if len(line) < last:
                continue  # rejected: length
            yield {
                c["name"]: line[c["start"] - 1 : c["start"] - 1 + c["length"]].decode(enc)
                for c in cols
            }
        return
    text = raw.decode(enc)
    delim = unescape(table.get("delimiter", ","))
    quote = table.get("quote", '"' if fmt == "csv" else "")
    if quote:
        recs = split_quoted(text, delim, quote)
    else:
        recs = [ln.removesuffix("\r").split(delim) for ln in text.split("\n")]
        if recs and recs[-1] == [""]:
            recs.pop()
    if table.get("header", True):
        recs = recs[1:]
    for f in recs:
        if len(f) != len(cols):
            continue  # rejected: columns
        yield dict(zip((c["name"] for c in cols), f))


def bound(v, col: dict):
    """A min/max bound, written as a value of the column's type (ISO dates)."""
    return parse_value(str(v), {"type": col["type"]})


def load(sysname: str, tname: str, d: date = BIZ):
    """Staged rows of src.<sys>_<table> for one business date (rejects dropped)."""
    sysdef = SYSTEMS[sysname]
    table = next(t for t in sysdef["tables"] if t["name"] == tname)
    cols = table["columns"]
    trim = table.get("trim", True)
    tnull = table.get("null_values", [""])
    out = []
    for ordinal, rec in enumerate(raw_records(sysname, table, d)):
        row, ok = {}, True
        for c in cols:
            v = rec[c["name"]]
            if table["format"] == "parquet":
                if isinstance(v, str):
                    v = v.strip() if c.get("trim", trim) else v
                    if v in c.get("null_values", tnull):
                        v = None
                if v is None and c.get("required"):
                    ok = False
                    break
                if v is not None and not isinstance(v, str):
                    if c["type"].startswith("decimal"):
                        v = Decimal(str(v))
                    row[c["name"]] = v
                    continue
            else:
                if c.get("trim", trim):
                    v = v.strip(" ")
                if v in c.get("null_values", tnull):
                    v = None
            if v is None:
                if c.get("required"):
                    ok = False
                    break
                row[c["name"]] = None
                continue
            if "map" in c:
                if v in c["map"]:
                    v = c["map"][v]
                elif rule_action(c, "map") == "null":
                    row[c["name"]] = None
                    continue
                else:
                    ok = False
                    break
            try:
                pv = parse_value(v, c)
            except Invalid:
                if rule_action(c, "type") == "null":
                    row[c["name"]] = None
                    continue
                ok = False
                break
            bad = None
            if "check" in c and not check_ok(c["check"], v):
                bad = "check"
            elif "pattern" in c and not re.search(c["pattern"], v):
                bad = "pattern"
            elif "min" in c and pv < bound(c["min"], c):
                bad = "range"
            elif "max" in c and pv > bound(c["max"], c):
                bad = "range"
            if bad:
                if rule_action(c, bad) == "null":
                    row[c["name"]] = None
                    continue
                ok = False
                break
            row[c["name"]] = pv
        if ok:
            row["_ord"] = ordinal
            out.append(row)
    if "dedup_order_by" in table:
        key = table["primary_key"]
        ob = table["dedup_order_by"]
        best = {}
        for r in out:
            k = tuple(r[x] for x in key)
            b = best.get(k)
            if b is None or (r[ob], r["_ord"]) >= (b[ob], b["_ord"]):
                best[k] = r
        out = sorted(best.values(), key=lambda r: r["_ord"])
    return out


def load_all(sysname: str, tname: str):
    """Every ingested date's rows (for models reading all partitions)."""
    rows = []
    for d in DATES:
        for r in load(sysname, tname, d):
            r["biz_date"] = d
            rows.append(r)
    return rows


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------

CENT = Decimal("0.01")


def cny(amount: Decimal, rate: Decimal) -> Decimal:
    """Amount converted at a closing rate, rounded half away from zero to cents."""
    return (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def years_between(start: date, end: date) -> int:
    """Completed years from start to end."""
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


def fmt(v) -> str:
    """A value as `lakemart query --format csv` prints it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


RATES = {d: {r["currency"]: r["rate_to_cny"] for r in load("ref", "fx_rate", d)} for d in DATES}


def rate(cur: str, d: date) -> Decimal:
    return RATES.get(d, RATES[BIZ]).get(cur, RATES[BIZ][cur])


PRODUCTS = {r["product_code"]: r for r in load("ref", "product")}
BRANCHES = {r["branch_id"]: r for r in load("ref", "branch")}

# --------------------------------------------------------------------------
# foundation.customer: the golden record
# --------------------------------------------------------------------------

CORE = {r["cust_id"]: r for r in load("core", "customer")}
CRM = load("crm", "crm_customer")
EB_USER = load("ebank", "eb_user")
WM_ACCT = load("wealth", "wm_account")
SEC_LINK = load("sec", "sec_link")
FX_DEAL = load_all("fx", "fx_deal")
INS = load("ins", "policy")
BUREAU = load("bureau", "credit_report")
PENSION = load("pension", "pension_acct")
SSCARD = load("sscard", "sscard")
CONTACT = {r["cust_id"]: r for r in load("core", "cust_contact")}
KYC = load("kyc", "kyc_doc")
AML = {r["cust_id"]: r for r in load("aml", "aml_risk")}

RISK_RANK = {"R1": 1, "R2": 2, "R3": 3, "R4": 4, "R5": 5}


def golden(cid: str) -> dict:
    core = CORE[cid]
    cert = core["cert_no"]
    crm = [r for r in CRM if r["cert_no"] == cert]
    crm = crm[0] if crm else None
    holders = {
        "core": [core],
        "crm": [crm] if crm else [],
        "ebank": [r for r in EB_USER if r["cust_id"] == cid],
        "wealth": [r for r in WM_ACCT if r["cert_no"] == cert],
        "sec": [r for r in SEC_LINK if r["cert_no"] == cert],
        "fx": [r for r in FX_DEAL if r["cert_no"] == cert],
        "ins": [r for r in INS if r["holder_cert_no"] == cert],
        "bureau": [r for r in BUREAU if r["cert_no"] == cert],
        "pension": [r for r in PENSION if r["cert_no"] == cert],
        "sscard": [r for r in SSCARD if r["cert_no"] == cert],
    }
    systems = [s for s, rows in holders.items() if rows]

    def best(*cands):
        for v in cands:
            if v is not None:
                return v
        return None

    g = {}
    g["customer_id"] = cid
    g["customer_name"] = best(core["cust_name"], crm and crm["cust_name"])
    g["cert_type"] = core["cert_type"]
    g["cert_no"] = cert
    ins_g = next((r["holder_gender"] for r in holders["ins"] if r["holder_gender"]), None)
    ss_g = next((r["gender"] for r in holders["sscard"] if r["gender"]), None)
    g["gender"] = best(core["gender"], crm and crm["gender"], ins_g, ss_g)
    ss_b = next((r["birth_date"] for r in holders["sscard"] if r["birth_date"]), None)
    g["birth_date"] = best(core["birth_date"], crm and crm["birth_date"], ss_b)
    g["age"] = years_between(g["birth_date"], BIZ)
    g["mobile"] = best(core["mobile"], crm and crm["mobile"])
    g["open_date"] = core["open_date"]
    g["tenure_years"] = years_between(core["open_date"], BIZ)
    b = BRANCHES.get(core["branch_id"], {})
    g["branch_id"] = core["branch_id"]
    g["branch_name"] = b.get("branch_name")
    g["city"] = b.get("city")
    g["region"] = b.get("region")
    g["segment_code"] = core["segment_code"]
    g["customer_id_source"] = "core"
    g["master_source"] = systems[0]
    g["source_systems"] = ",".join(systems)
    g["source_count"] = len(systems)
    g["is_in_core"] = True
    g["is_in_crm"] = crm is not None
    ct = CONTACT.get(cid)
    g["email"] = best(ct and ct["email"], crm and crm["email"])
    g["address"] = best(ct and ct["address"], crm and crm["address"])
    g["postcode"] = ct and ct["postcode"]
    g["vip_level"] = crm and crm["vip_level"]
    g["rm_id"] = crm and crm["rm_id"]
    docs = [r for r in KYC if r["cust_id"] == cid]
    expired = [r for r in docs if r["expiry_date"] is not None and r["expiry_date"] < BIZ]
    valid_id = [
        r for r in docs if r["doc_type"] == "01" and r["verified"] and r not in expired
    ]
    if valid_id:
        g["kyc_status"] = "VERIFIED"
    elif expired:
        g["kyc_status"] = "EXPIRED"
    elif docs:
        g["kyc_status"] = "UNVERIFIED"
    else:
        g["kyc_status"] = "NONE"
    g["kyc_doc_count"] = len(docs)
    aml = AML.get(cid)
    g["aml_risk_level"] = aml and aml["risk_level"]
    g["is_pep"] = bool(aml and aml["pep"])
    wr = [r["risk_level"] for r in WM_ACCT if r["cust_id"] == cid and r["risk_level"]]
    g["wealth_risk_level"] = max(wr, key=RISK_RANK.get) if wr else None
    g["has_ebank"] = bool(holders["ebank"])
    return g


# --------------------------------------------------------------------------
# Agreements and balances: aggregation.customer_balance, customer_aum
# --------------------------------------------------------------------------

ACCOUNTS = load("core", "account")
CARDS = load("card", "card_account")
LOANS = load("loan", "loan_contract")
WM_HOLD = load("wealth", "wm_holding")
BANCA = load("banca", "banca_policy")
METAL = load("metal", "metal_acct")
ECNY = load("ecny", "wallet")


def balances(cid: str, cert: str) -> dict:
    b = {}
    deps = [a for a in ACCOUNTS if a["cust_id"] == cid]
    z = Decimal("0.00")

    def dsum(pred):
        return sum((cny(a["balance"], rate(a["currency"], BIZ)) for a in deps if pred(a)), z)

    b["deposit_balance_cny"] = dsum(lambda a: True)
    b["time_deposit_balance_cny"] = dsum(lambda a: a["product_code"][:2] in ("D2", "D3"))
    b["fx_deposit_balance_cny"] = dsum(lambda a: a["currency"] != "CNY")
    loans = [x for x in LOANS if x["cust_id"] == cid]
    b["loan_balance_cny"] = sum(
        (cny(x["outstanding"], rate(x["currency"], BIZ)) for x in loans), z
    )
    cards = [x for x in CARDS if x["cust_id"] == cid]
    b["card_balance_cny"] = sum((x["balance"] for x in cards), z)
    b["aum_cny"] = b["deposit_balance_cny"]
    b["deposit_count"] = sum(1 for a in deps if a["status"] != "C")
    b["card_count"] = sum(1 for x in cards if x["status"] in ("N", "F"))
    b["loan_count"] = sum(1 for x in loans if x["outstanding"] > 0)
    # aggregation.customer_aum: the AUM families
    b["deposit_demand_cny"] = dsum(lambda a: a["product_code"].startswith("D1"))
    b["deposit_time_cny"] = dsum(lambda a: a["product_code"] in ("D201", "D202", "D203"))
    b["deposit_cd_cny"] = dsum(lambda a: a["product_code"] == "D301")
    b["deposit_fx_cny"] = b["fx_deposit_balance_cny"]
    b["deposit_cny"] = b["deposit_balance_cny"]
    hold = [h for h in WM_HOLD if h["cust_id"] == cid]
    fam = lambda h: PRODUCTS[h["product_code"]]["product_family"]  # noqa: E731
    b["wealth_cny"] = sum((h["market_value"] for h in hold if fam(h) == "WEALTH"), z)
    b["fund_cny"] = sum((h["market_value"] for h in hold if fam(h) == "FUND"), z)
    b["insurance_premium_cny"] = sum(
        (p["annual_premium"] for p in INS if p["holder_cert_no"] == cert and p["status"] == "1"),
        z,
    )
    b["banca_premium_cny"] = sum((p["premium"] for p in BANCA if p["cust_id"] == cid), z)
    b["metal_cny"] = sum((m["market_value"] for m in METAL if m["cust_id"] == cid), z)
    b["pension_cny"] = sum((p["balance"] for p in PENSION if p["cert_no"] == cert), z)
    b["ecny_cny"] = sum((w["balance"] for w in ECNY if w["cust_id"] == cid), z)
    b["insurance_cny"] = b["insurance_premium_cny"] + b["banca_premium_cny"]
    b["investment_cny"] = b["wealth_cny"] + b["fund_cny"] + b["metal_cny"]
    fams = [
        "deposit_cny", "wealth_cny", "fund_cny", "insurance_premium_cny",
        "banca_premium_cny", "metal_cny", "pension_cny", "ecny_cny",
    ]
    b["total_aum_cny"] = sum((b[f] for f in fams), z)
    b["aum_family_cnt"] = sum(1 for f in fams if b[f] > 0)
    b["aum_tier"] = tier(b["total_aum_cny"])
    return b


def tier(aum: Decimal) -> str:
    if aum >= 6000000:
        return "PRIVATE"
    if aum >= 500000:
        return "WEALTH"
    if aum >= 50000:
        return "AFFLUENT"
    return "MASS"


# --------------------------------------------------------------------------
# Transactions: foundation.transaction (deposit + card) and transaction_all
# --------------------------------------------------------------------------

ACCT_HOLDER = {a["acct_no"]: a["cust_id"] for a in ACCOUNTS}
ACCT_CUR = {a["acct_no"]: a["currency"] for a in ACCOUNTS}
CARD_HOLDER = {c["card_no"]: c["cust_id"] for c in CARDS}
CARD_CHANNEL = {"POS": "POS", "ONL": "WEB", "QRC": "MOB"}


def money_movements() -> list[dict]:
    """Rows of foundation.transaction_all: (source, customer, date, channel, D/C, amount_cny)."""
    out = []

    def add(src, cid, d, ch, dirn, amt):
        if cid is not None and d <= BIZ:
            out.append(dict(src=src, cid=cid, date=d, channel=ch, dir=dirn, amount_cny=amt))

    for t in load_all("core", "transaction"):
        cur = ACCT_CUR.get(t["acct_no"], "CNY")
        add("core", ACCT_HOLDER.get(t["acct_no"]), t["txn_date"], t["channel"],
            t["direction"], cny(t["amount"], rate(cur, t["txn_date"])))
    for t in load_all("card", "card_txn"):
        add("card", CARD_HOLDER.get(t["card_no"]), t["txn_date"],
            CARD_CHANNEL[t["channel"]], "D", t["amount"])
    for t in load_all("atm", "atm_txn"):
        # enquiries move no money; declined requests neither
        if t["txn_type"] == "Q" or t["resp_code"] != "00":
            continue
        add("atm", ACCT_HOLDER.get(t["acct_no"]), t["txn_time"].date(), "ATM",
            "C" if t["txn_type"] == "D" else "D", t["amount"])
    teller_dir = {"存款": "C", "取款": "D", "转账": "D"}
    for t in load_all("teller", "teller_txn"):
        if t["biz_type"] in teller_dir:  # account opening/closing move no money
            add("teller", t["cust_id"], t["txn_time"].date(), "CNT",
                teller_dir[t["biz_type"]], t["amount"])
    latest = {}
    for t in load_all("pay", "transfer"):
        k = t["pay_id"]
        if k not in latest or (t["update_ts"], t["biz_date"]) >= (latest[k]["update_ts"], latest[k]["biz_date"]):
            latest[k] = t
    for t in latest.values():
        if t["status"] == "S":  # failed and pending instructions move no money
            add("pay", t["cust_id"], t["pay_time"].date(), "OTH", "D", t["amount"])
    wallets = {w["wallet_id"]: w["cust_id"] for w in ECNY}
    for t in load_all("ecny", "wallet_txn"):
        add("ecny", wallets.get(t["wallet_id"]), t["txn_time"].date(), None,
            "D" if t["txn_type"] == "PAY" else "C", t["amount"])
    for t in load_all("util", "util_payment"):
        add("util", t["cust_id"], t["pay_date"], None, "D", t["amount"])
    for t in load_all("payroll", "salary"):
        add("payroll", t["cust_id"], t["pay_date"], None, "C", t["amount"])
    for t in load_all("sec", "sec_transfer"):
        add("sec", t["cust_id"], t["trf_time"].date(), "OTH",
            "D" if t["direction"] == "B2S" else "C", t["amount"])
    for t in FX_DEAL:
        d = t["deal_time"].date()
        add("fx", t["cust_id"], d, "OTH", "D" if t["side"] == "B" else "C",
            cny(t["fx_amount"], rate(t["currency"], d)))
    for t in load_all("metal", "metal_trade"):
        add("metal", t["cust_id"], t["trade_time"].date(), "OTH",
            "D" if t["side"] == "B" else "C", t["amount"])
    for t in load_all("wealth", "wm_order"):
        add("wealth", t["cust_id"], t["order_time"].date(), t["channel"],
            "D" if t["side"] == "S" else "C", t["amount"])
    owners = {m["merchant_id"]: m["owner_cust_id"] for m in load("acq", "merchant")}
    for t in load_all("acq", "acq_txn"):
        add("acq", owners.get(t["merchant_id"]), t["settle_date"], None, "C", t["amount"])
    etc_cards = {c["etc_card_no"]: c["cust_id"] for c in load("etc", "etc_card")}
    for t in load_all("etc", "etc_pass"):
        add("etc", etc_cards.get(t["etc_card_no"]), t["exit_time"].date(), None, "D", t["toll"])
    return out


MOVES = money_movements()
LOGINS = [r for d in DATES for r in load("mobile", "login_event", d)]


def in_window(d: date, days: int) -> bool:
    return BIZ - timedelta(days=days - 1) <= d <= BIZ


def activity(cid: str) -> dict:
    a = {}
    z = Decimal("0.00")
    # aggregation.customer_txn_summary: deposit and card transactions, 30 days
    tx = [m for m in MOVES if m["cid"] == cid and m["src"] in ("core", "card")]
    t30 = [m for m in tx if in_window(m["date"], 30)]
    a["txn_count_30d"] = len(t30)
    a["txn_amount_cny_30d"] = sum((m["amount_cny"] for m in t30), z)
    a["debit_amount_cny_30d"] = sum((m["amount_cny"] for m in t30 if m["dir"] == "D"), z)
    a["credit_amount_cny_30d"] = sum((m["amount_cny"] for m in t30 if m["dir"] == "C"), z)
    a["card_txn_count_30d"] = sum(1 for m in t30 if m["src"] == "card")
    a["card_spend_cny_30d"] = sum((m["amount_cny"] for m in t30 if m["src"] == "card"), z)
    a["mobile_txn_count_30d"] = sum(1 for m in t30 if m["channel"] == "MOB")
    lg = [r for r in LOGINS if r["cust_id"] == cid and in_window(r["login_time"].date(), 30)]
    a["mobile_login_count_30d"] = sum(1 for r in lg if r["success"])
    a["failed_login_count_30d"] = sum(1 for r in lg if not r["success"])
    ok = [r["login_time"] for r in lg if r["success"]]
    a["last_login_time"] = max(ok).isoformat() if ok else None
    a["last_txn_date"] = max((m["date"] for m in tx), default=None)
    a["days_since_last_txn"] = (BIZ - a["last_txn_date"]).days if a["last_txn_date"] else None
    a["is_active_30d"] = a["txn_count_30d"] > 0 or a["mobile_login_count_30d"] > 0
    # aggregation.customer_txn_channel_activity: every money movement, 90 days
    allm = [m for m in MOVES if m["cid"] == cid and in_window(m["date"], 90)]
    a["txn_cnt_3m"] = len(allm)
    a["txn_amount_cny_3m"] = sum((m["amount_cny"] for m in allm), z)
    a["debit_txn_cnt_3m"] = sum(1 for m in allm if m["dir"] == "D")
    a["debit_txn_amount_cny_3m"] = sum((m["amount_cny"] for m in allm if m["dir"] == "D"), z)
    a["credit_txn_cnt_3m"] = sum(1 for m in allm if m["dir"] == "C")
    a["credit_txn_amount_cny_3m"] = sum((m["amount_cny"] for m in allm if m["dir"] == "C"), z)
    a["net_flow_cny_3m"] = a["credit_txn_amount_cny_3m"] - a["debit_txn_amount_cny_3m"]
    a["max_txn_amount_cny_3m"] = max((m["amount_cny"] for m in allm), default=z)
    for ch in ("MOB", "WEB", "ATM", "CNT", "POS", "SYS"):
        sel = [m for m in allm if m["channel"] == ch]
        a[f"{ch.lower()}_txn_cnt_3m"] = len(sel)
        a[f"{ch.lower()}_txn_amount_cny_3m"] = sum((m["amount_cny"] for m in sel), z)
    a["_sources_3m"] = sorted({m["src"] for m in allm})
    return a


# --------------------------------------------------------------------------
# application.customer_360, tags (tags.toml) and scorecards (scores.toml)
# --------------------------------------------------------------------------


def c360(cid: str) -> dict:
    g = golden(cid)
    r = dict(g)
    r.update(balances(cid, g["cert_no"]))
    r.update(activity(cid))
    r["net_position_cny"] = r["aum_cny"] - r["loan_balance_cny"] - r["card_balance_cny"]
    r["product_count"] = r["deposit_count"] + r["card_count"] + r["loan_count"]
    r["has_card"] = r["card_count"] > 0
    r["has_loan"] = r["loan_count"] > 0
    r["value_segment"] = tier(r["aum_cny"])
    return r


def band(value, bands):
    """[min, max) bands: label of the band holding value, None when empty."""
    if value is None:
        return None
    for label, lo, hi in bands:
        if (lo is None or value >= lo) and (hi is None or value < hi):
            return label
    return None


# (code, name, category, kind, rule) as written in models/application/tags.toml
TAGS = [
    ("HNW", "High net worth", "value", "flag",
     lambda r: r["aum_cny"] >= 6000000 and 25 <= r["age"] <= 55),
    ("AUM_TIER", "AUM tier", "value", "band",
     lambda r: band(r["aum_cny"], [("T1", None, 50000), ("T2", 50000, 500000),
                                   ("T3", 500000, 6000000), ("T4", 6000000, None)])),
    ("TIME_DEPOSIT_SAVER", "Time-deposit saver", "value", "flag",
     lambda r: r["time_deposit_balance_cny"] > 0
     and r["time_deposit_balance_cny"] >= Decimal("0.5") * r["deposit_balance_cny"]),
    ("FX_HOLDER", "Foreign-currency holder", "value", "flag",
     lambda r: r["fx_deposit_balance_cny"] > 0),
    ("NEW_CUSTOMER", "New customer", "lifecycle", "flag", lambda r: r["tenure_years"] < 1),
    ("LIFE_STAGE", "Life stage", "lifecycle", "band",
     lambda r: band(r["age"], [("YOUNG", None, 30), ("ESTABLISHING", 30, 45),
                               ("MATURE", 45, 60), ("SENIOR", 60, None)])),
    ("DORMANT", "Dormant", "lifecycle", "flag",
     lambda r: not r["is_active_30d"]
     and (r["days_since_last_txn"] is None or r["days_since_last_txn"] > 180)),
    ("MULTI_PRODUCT", "Multi-product holder", "product", "flag",
     lambda r: r["product_count"] >= 3),
    ("BORROWER", "Borrower", "product", "flag", lambda r: r["has_loan"]),
    ("CARD_SPEND_TIER", "Card spend tier", "product", "band",
     lambda r: band(r["card_spend_cny_30d"], [("LOW", 0, 1000), ("MID", 1000, 10000),
                                              ("HIGH", 10000, None)])),
    ("PREF_CHANNEL", "Preferred channel", "channel", "band",
     lambda r: "MOBILE" if r["mobile_txn_count_30d"] > 5 or r["mobile_login_count_30d"] >= 10
     else "COUNTER" if r["txn_count_30d"] > r["mobile_txn_count_30d"] else "NONE"),
    ("SILVER_MOBILE", "Senior mobile user", "channel", "flag",
     lambda r: r["age"] >= 60 and r["mobile_login_count_30d"] > 0),
    ("NET_DEBTOR", "Net debtor", "risk", "flag", lambda r: r["net_position_cny"] < 0),
]

# (code, base, [(characteristic, column, weight, missing_points, else_points,
#   [(label, test, points)])], bands) as written in models/application/scores.toml
def rng(lo, hi):
    return lambda v: (lo is None or v >= lo) and (hi is None or v < hi)


def rng_label(lo, hi) -> str:
    """A range bin's default label, in the interval notation of docs/tags.md."""
    return ("(-inf" if lo is None else f"[{lo}") + ", " + ("+inf)" if hi is None else f"{hi})")


def vals(*vs):
    """A values bin: (default label, test)."""
    return ", ".join(vs), lambda v: v in vs


def R(lo, hi):
    """A range bin: (default label, test)."""
    return rng_label(lo, hi), rng(lo, hi)
SCORECARDS = [
    ("VALUE", Decimal(300), [
        ("AUM", "aum_cny", Decimal(1), 0, 0, [
            (*R(None, 50000), 0), (*R(50000, 500000), 40),
            (*R(500000, 6000000), 90), (*R(6000000, None), 150)]),
        ("Segment", "segment_code", Decimal(1), 0, 0, [
            (*vals("PRIV", "WLTH"), 50), (*vals("AFFL"), 20)]),
        ("Products", "product_count", Decimal("1.5"), 0, 0, [
            (*R(None, 2), 0), (*R(2, 4), 20), (*R(4, None), 40)]),
        ("Tenure", "tenure_years", Decimal(1), 0, 0, [
            (*R(None, 3), 0), (*R(3, 10), 20), (*R(10, None), 40)]),
    ], [("D", None, 350), ("C", 350, 420), ("B", 420, 500), ("A", 500, None)]),
    ("ENGAGEMENT", Decimal(0), [
        ("Transactions", "txn_count_30d", Decimal(1), 0, 0, [
            (*R(None, 1), 0), (*R(1, 10), 30), (*R(10, None), 60)]),
        ("Mobile logins", "mobile_login_count_30d", Decimal(1), 0, 0, [
            (*R(None, 1), 0), (*R(1, 8), 20), (*R(8, None), 40)]),
        ("Recency", "days_since_last_txn", Decimal(1), 0, 0, [
            ("this week", rng(None, 8), 40), ("this month", rng(8, 31), 20),
            ("older", rng(31, None), 0)]),
        ("Card", None, Decimal(1), 0, 0, [
            ("active card", lambda r: r["has_card"] and r["card_spend_cny_30d"] > 0, 20)]),
    ], [("LOW", None, 40), ("MEDIUM", 40, 100), ("HIGH", 100, None)]),
]


def tags(r: dict) -> dict:
    return {code: rule(r) for code, _n, _c, _k, rule in TAGS}


def scores(r: dict) -> dict:
    """{code: (score, band, [(characteristic, value, label, points)])}"""
    out = {}
    for code, base, chars, bands in SCORECARDS:
        rows, total = [], base
        for name, col, weight, missing, other, bins in chars:
            v = r if col is None else r[col]
            if col is not None and v is None:
                label, pts = "missing", missing
            else:
                label, pts = "else", other
                for blabel, test, p in bins:
                    if test(v):
                        label, pts = blabel, p
                        break
            pts = (weight * pts).quantize(CENT)
            total += pts
            rows.append((name, None if col is None else fmt(r[col]), label, pts))
        total = total.quantize(CENT)
        out[code] = (total, band(total, bands), rows)
    return out


# --------------------------------------------------------------------------
# The named customers and what is expected of them on 2024-06-30
# --------------------------------------------------------------------------

# Why each one (see tests/it/sample_mart.rs, which asserts these values):
NAMED = {
    # core mobile 0524606142 fails the mobile check (soft: NULL), so the golden
    # mobile is CRM's; in core, crm and bureau; demand, time, CD and FX deposits.
    "C000000009": "golden record with the mobile taken from CRM",
    # deposits in CNY and 3 foreign-currency accounts, wealth and fund holdings,
    # an e-CNY wallet, a card and a settled loan: AUM over several families.
    "C000000035": "AUM over several product families and currencies",
    # in 6 systems of the golden record, 3 of them (ins, pension, sscard)
    # matched on the resident ID only; agency insurance, pension and e-CNY
    # count into AUM; a new customer (opened 2024-04-29).
    "C000000138": "golden record over 6 systems, 3 matched by certificate number",
    # core postings on several channels, card purchases, an ATM deposit and
    # transfers over both business dates; its CRM row is rejected by ingest
    # (resident ID 440106197210122790 fails the check character), so the
    # golden record has no CRM attributes (is_in_crm false, no VIP level, no RM).
    "C000000057": "transactions across channels; CRM row rejected by ingest",
    # two loans and a card exceed the deposits: borrower, net debtor.
    "C000000189": "loan and card holder, net debtor",
    # AUM >= 6M at 42: high net worth; two loans, two cards, card spend MID.
    "C000000148": "high net worth borrower with card spend",
}

GOLDEN_COLS = [
    "customer_name", "cert_type", "cert_no", "gender", "birth_date", "age", "mobile",
    "open_date", "tenure_years", "branch_id", "branch_name", "city", "region",
    "segment_code", "customer_id_source", "master_source", "source_systems",
    "source_count", "is_in_core", "is_in_crm", "email", "address", "postcode",
    "vip_level", "rm_id", "kyc_status", "kyc_doc_count", "aml_risk_level", "is_pep",
    "wealth_risk_level", "has_ebank",
]
BALANCE_COLS = [
    "deposit_balance_cny", "time_deposit_balance_cny", "fx_deposit_balance_cny",
    "loan_balance_cny", "card_balance_cny", "aum_cny", "deposit_count", "card_count",
    "loan_count",
]
AUM_COLS = [
    "deposit_demand_cny", "deposit_time_cny", "deposit_cd_cny", "deposit_fx_cny",
    "deposit_cny", "wealth_cny", "fund_cny", "insurance_premium_cny", "banca_premium_cny",
    "metal_cny", "pension_cny", "ecny_cny", "insurance_cny", "investment_cny",
    ("aum_cny", "total_aum_cny"), "aum_family_cnt", "aum_tier",
]
SUMMARY_COLS = [
    "txn_count_30d", "txn_amount_cny_30d", "debit_amount_cny_30d", "credit_amount_cny_30d",
    "card_txn_count_30d", "card_spend_cny_30d", "mobile_txn_count_30d",
    "mobile_login_count_30d", "last_txn_date", "days_since_last_txn",
]
CHANNEL_COLS = [
    "txn_cnt_3m", "txn_amount_cny_3m", "debit_txn_cnt_3m", "debit_txn_amount_cny_3m",
    "credit_txn_cnt_3m", "credit_txn_amount_cny_3m", "net_flow_cny_3m",
    "max_txn_amount_cny_3m",
] + [f"{c}_txn_{m}_3m" for c in ("mob", "web", "atm", "cnt", "pos", "sys")
     for m in ("cnt", "amount_cny")]
C360_COLS = [
    "aum_cny", "total_aum_cny", "net_position_cny", "product_count", "has_card", "has_loan",
    "txn_count_30d", "card_spend_cny_30d", "mobile_txn_count_30d", "mobile_login_count_30d",
    "days_since_last_txn", "is_active_30d", "value_segment", "txn_cnt_3m",
    "txn_amount_cny_3m",
]


def expected(cid: str) -> list[tuple[str, str, str]]:
    """(model.column, key, value) triples for one customer."""
    r = c360(cid)
    out = []

    def put(model, cols):
        for c in cols:
            col, src = (c, c) if isinstance(c, str) else c
            out.append((f"{model}.{col}", cid, fmt(r[src])))

    put("foundation.customer", GOLDEN_COLS)
    put("aggregation.customer_balance", BALANCE_COLS)
    put("aggregation.customer_aum", AUM_COLS)
    put("aggregation.customer_txn_summary", SUMMARY_COLS)
    if r["txn_cnt_3m"]:
        # transaction.toml names no channel for e-CNY, utility, salary, acquiring and
        # ETC movements: per-channel figures only for customers without them.
        cols = CHANNEL_COLS
        if set(r["_sources_3m"]) & {"ecny", "util", "payroll", "acq", "etc"}:
            cols = [c for c in cols if not c.startswith(("mob_", "web_", "atm_", "cnt_", "pos_", "sys_"))]
        put("aggregation.customer_txn_channel_activity", cols)
    put("application.customer_360", C360_COLS)
    t = tags(r)
    for code, _name, _cat, kind, _rule in TAGS:
        out.append((f"application.customer_360.tag_{code.lower()}", cid, fmt(t[code])))
        row = ("Y" if t[code] else None) if kind == "flag" else t[code]
        out.append(("application.customer_tag.tag_value", f"{cid},{code}", fmt(row)))
    for code, (score, sband, rows) in scores(r).items():
        out.append((f"application.customer_360.score_{code.lower()}", cid, fmt(score)))
        out.append((f"application.customer_360.score_{code.lower()}_band", cid, sband))
        for name, value, label, pts in rows:
            key = f"{cid},{code},{name}"
            out.append(("application.customer_score.characteristic_value", key, fmt(value)))
            out.append(("application.customer_score.bin_label", key, label))
            out.append(("application.customer_score.points", key, fmt(pts)))
    return out


def main() -> None:
    for cid, why in NAMED.items():
        print(f"# {cid}: {why}")
        for col, key, value in expected(cid):
            print(f"{col}[{key}] = {value}")


if __name__ == "__main__":
    main()
