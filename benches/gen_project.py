#!/usr/bin/env python3
"""Generate a synthetic lakemart project (and optionally its dbt twin) for benchmarks.

    python3 benches/gen_project.py --models 1000 --out /tmp/bench/lakemart [--dbt /tmp/bench/dbt] [--seed 7]

Stdlib only, deterministic: the same arguments always write the same files.

What it writes (see docs/project-format.md):

* lakemart.toml
* models/sources/<system>.toml: six source systems of a retail bank (core banking,
  cards, loans, CRM, e-banking, reference data) with typed columns: money is
  decimal(18,2), dates are date, events are timestamp.
* sql/<layer>/<subject>/<model>.sql for N models spread over the foundation,
  aggregation and application layers (35% / 35% / 30%) and the seven subjects.
* models/<layer>/<subject>.toml: a description of every model and of some columns.

Every model reads 1-4 tables generated before it, of its own layer or a lower one,
so the graph is acyclic and never reads upward. Every customer-keyed table carries
the customer key (`cust_id` in sources, `customer_id` in models) and the generator
tracks the exact output type of every column it writes, so each SELECT is valid
DataFusion SQL against its upstream schemas: joins are always on the customer key
(or on a reference-data code), money aggregates are cast back to DECIMAL(18,2),
ranking window functions (which return UInt64 in DataFusion) are cast to BIGINT.
Source tables are always read with `biz_date = $biz_date`.

The dbt twin (--dbt DIR) holds the same models with `{{ ref() }}` / `{{ source() }}`,
`$biz_date` replaced by `cast('{{ var("biz_date") }}' as date)`, sources and models
documented in YAML, and a dbt-duckdb profile on a local file (bench.duckdb, relative
to the directory dbt runs in). Model names are unique across layers so that dbt's
global model namespace holds them all.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from dataclasses import dataclass, field

LAYERS = ["foundation", "aggregation", "application"]
SUBJECTS = ["customer", "agreement", "product", "transaction", "channel", "marketing", "public"]

# Logical column types: name in source TOML / manifest.
TOML_TYPE = {
    "string": "string",
    "int": "int",
    "bigint": "bigint",
    "money": "decimal(18,2)",
    "double": "double",
    "date": "date",
    "ts": "timestamp",
    "bool": "boolean",
}
DBT_TYPE = {
    "string": "varchar",
    "int": "integer",
    "bigint": "bigint",
    "money": "decimal(18,2)",
    "double": "double",
    "date": "date",
    "ts": "timestamp",
    "bool": "boolean",
}

# ---------------------------------------------------------------------------
# Source systems
# (name, type, description, pii)
# ---------------------------------------------------------------------------

C = tuple  # column spec shorthand

SOURCES = {
    "core": {
        "description": "Core banking system: customer master, deposit accounts and ledger",
        "tables": {
            "customer": {
                "description": "Customer master extract",
                "pk": ["cust_id"],
                "columns": [
                    C(("cust_id", "string", "Core banking customer number", False)),
                    C(("cust_name", "string", "Customer legal name", True)),
                    C(("cert_no", "string", "Resident identity card number", True)),
                    C(("mobile_no", "string", "Registered mobile phone number", True)),
                    C(("birth_date", "date", "Date of birth", True)),
                    C(("gender_code", "string", "Gender code (M/F/U)", False)),
                    C(("segment_code", "string", "Customer segment code (MASS/AFFL/PRIV/SME)", False)),
                    C(("branch_code", "string", "Home branch code", False)),
                    C(("onboard_date", "date", "Date the customer relationship started", False)),
                    C(("risk_level", "int", "KYC risk level, 1 (low) to 5 (high)", False)),
                    C(("is_staff", "bool", "Customer is a bank employee", False)),
                ],
            },
            "deposit_account": {
                "description": "Deposit account master with end-of-day balances",
                "pk": ["acct_no"],
                "columns": [
                    C(("acct_no", "string", "Deposit account number", False)),
                    C(("cust_id", "string", "Owning customer number", False)),
                    C(("product_code", "string", "Deposit product code", False)),
                    C(("branch_code", "string", "Servicing branch code", False)),
                    C(("currency_code", "string", "ISO 4217 account currency", False)),
                    C(("balance", "money", "Ledger balance in account currency", False)),
                    C(("avail_balance", "money", "Available balance in account currency", False)),
                    C(("interest_rate", "double", "Annual interest rate in percent", False)),
                    C(("open_date", "date", "Account opening date", False)),
                    C(("acct_status", "string", "Account status code (A active, D dormant, C closed)", False)),
                ],
            },
            "deposit_txn": {
                "description": "Deposit ledger postings of the business date",
                "pk": ["txn_id"],
                "columns": [
                    C(("txn_id", "string", "Posting identifier", False)),
                    C(("acct_no", "string", "Deposit account number", False)),
                    C(("cust_id", "string", "Customer number", False)),
                    C(("txn_ts", "ts", "Posting timestamp", False)),
                    C(("txn_date", "date", "Value date", False)),
                    C(("txn_amount", "money", "Posting amount in account currency", False)),
                    C(("dr_cr_flag", "string", "D debit, C credit", False)),
                    C(("channel_code", "string", "Channel that originated the posting", False)),
                    C(("counterparty_bank", "string", "Counterparty bank code", False)),
                ],
            },
        },
    },
    "card": {
        "description": "Card management system: debit and credit cards",
        "tables": {
            "card": {
                "description": "Card master",
                "pk": ["card_no"],
                "columns": [
                    C(("card_no", "string", "Primary account number (masked)", True)),
                    C(("cust_id", "string", "Cardholder customer number", False)),
                    C(("card_type", "string", "DEBIT or CREDIT", False)),
                    C(("product_code", "string", "Card product code", False)),
                    C(("credit_limit", "money", "Credit limit", False)),
                    C(("card_balance", "money", "Statement balance owed", False)),
                    C(("issue_date", "date", "Issue date", False)),
                    C(("expiry_date", "date", "Expiry date", False)),
                    C(("card_status", "string", "Card status code (A active, B blocked, C closed)", False)),
                ],
            },
            "card_txn": {
                "description": "Card authorisations settled on the business date",
                "pk": ["auth_id"],
                "columns": [
                    C(("auth_id", "string", "Authorisation identifier", False)),
                    C(("card_no", "string", "Primary account number (masked)", True)),
                    C(("cust_id", "string", "Cardholder customer number", False)),
                    C(("txn_ts", "ts", "Authorisation timestamp", False)),
                    C(("txn_date", "date", "Settlement date", False)),
                    C(("txn_amount", "money", "Amount in billing currency", False)),
                    C(("mcc_code", "string", "Merchant category code", False)),
                    C(("merchant_name", "string", "Merchant name", False)),
                    C(("channel_code", "string", "POS, ECOM, ATM", False)),
                    C(("is_online", "bool", "Card-not-present transaction", False)),
                ],
            },
        },
    },
    "loan": {
        "description": "Loan origination and servicing system",
        "tables": {
            "loan_contract": {
                "description": "Loan contracts with outstanding balances",
                "pk": ["contract_no"],
                "columns": [
                    C(("contract_no", "string", "Loan contract number", False)),
                    C(("cust_id", "string", "Borrower customer number", False)),
                    C(("product_code", "string", "Loan product code", False)),
                    C(("branch_code", "string", "Booking branch code", False)),
                    C(("principal_amount", "money", "Original principal", False)),
                    C(("outstanding_amount", "money", "Outstanding principal", False)),
                    C(("interest_rate", "double", "Annual contract rate in percent", False)),
                    C(("start_date", "date", "Drawdown date", False)),
                    C(("maturity_date", "date", "Contractual maturity date", False)),
                    C(("overdue_days", "int", "Days past due", False)),
                    C(("five_class_code", "string", "Five-tier loan classification", False)),
                ],
            },
            "repayment": {
                "description": "Repayment schedule lines due or paid on the business date",
                "pk": ["repay_id"],
                "columns": [
                    C(("repay_id", "string", "Schedule line identifier", False)),
                    C(("contract_no", "string", "Loan contract number", False)),
                    C(("cust_id", "string", "Borrower customer number", False)),
                    C(("due_date", "date", "Instalment due date", False)),
                    C(("paid_date", "date", "Date paid, empty when unpaid", False)),
                    C(("due_amount", "money", "Instalment amount due", False)),
                    C(("paid_amount", "money", "Amount paid", False)),
                    C(("penalty_amount", "money", "Late payment penalty", False)),
                ],
            },
        },
    },
    "crm": {
        "description": "Customer relationship management: campaigns and complaints",
        "tables": {
            "campaign_contact": {
                "description": "Campaign contacts and responses",
                "pk": ["contact_id"],
                "columns": [
                    C(("contact_id", "string", "Contact identifier", False)),
                    C(("campaign_id", "string", "Campaign identifier", False)),
                    C(("cust_id", "string", "Contacted customer number", False)),
                    C(("contact_date", "date", "Contact date", False)),
                    C(("channel_code", "string", "Contact channel", False)),
                    C(("response_code", "string", "ACCEPT, DECLINE, NONE", False)),
                    C(("offer_amount", "money", "Offered amount (limit, loan or bonus)", False)),
                ],
            },
            "complaint": {
                "description": "Customer complaints",
                "pk": ["complaint_id"],
                "columns": [
                    C(("complaint_id", "string", "Complaint identifier", False)),
                    C(("cust_id", "string", "Complaining customer number", False)),
                    C(("open_date", "date", "Date opened", False)),
                    C(("close_date", "date", "Date closed, empty while open", False)),
                    C(("category_code", "string", "Complaint category", False)),
                    C(("channel_code", "string", "Channel the complaint came through", False)),
                    C(("severity", "int", "Severity 1 (low) to 4 (critical)", False)),
                    C(("compensation_amount", "money", "Compensation paid", False)),
                ],
            },
        },
    },
    "ebank": {
        "description": "Internet and mobile banking platform",
        "tables": {
            "login_event": {
                "description": "Log-in attempts",
                "pk": ["event_id"],
                "columns": [
                    C(("event_id", "string", "Event identifier", False)),
                    C(("cust_id", "string", "Customer number", False)),
                    C(("event_ts", "ts", "Event timestamp", False)),
                    C(("event_date", "date", "Event date", False)),
                    C(("channel_code", "string", "MOB or WEB", False)),
                    C(("device_type", "string", "IOS, ANDROID, DESKTOP", False)),
                    C(("is_success", "bool", "Log-in succeeded", False)),
                ],
            },
            "transfer": {
                "description": "Outgoing transfers initiated online",
                "pk": ["transfer_id"],
                "columns": [
                    C(("transfer_id", "string", "Transfer identifier", False)),
                    C(("cust_id", "string", "Customer number", False)),
                    C(("txn_date", "date", "Execution date", False)),
                    C(("transfer_amount", "money", "Transferred amount", False)),
                    C(("fee_amount", "money", "Fee charged", False)),
                    C(("channel_code", "string", "MOB or WEB", False)),
                    C(("is_cross_border", "bool", "Beneficiary bank abroad", False)),
                ],
            },
        },
    },
    "refdata": {
        "description": "Reference data hub: products, branches and channels",
        "tables": {
            "product": {
                "description": "Product catalogue",
                "pk": ["product_code"],
                "lookup_key": "product_code",
                "columns": [
                    C(("product_code", "string", "Product code", False)),
                    C(("product_name", "string", "Product name", False)),
                    C(("product_line", "string", "DEPOSIT, CARD, LOAN, WEALTH", False)),
                    C(("launch_date", "date", "Launch date", False)),
                    C(("base_rate", "double", "List rate in percent", False)),
                ],
            },
            "branch": {
                "description": "Branch network",
                "pk": ["branch_code"],
                "lookup_key": "branch_code",
                "columns": [
                    C(("branch_code", "string", "Branch code", False)),
                    C(("branch_name", "string", "Branch name", False)),
                    C(("city_name", "string", "City", False)),
                    C(("region_code", "string", "Region code", False)),
                    C(("open_date", "date", "Branch opening date", False)),
                ],
            },
            "channel": {
                "description": "Sales and service channels",
                "pk": ["channel_code"],
                "lookup_key": "channel_code",
                "columns": [
                    C(("channel_code", "string", "Channel code", False)),
                    C(("channel_name", "string", "Channel name", False)),
                    C(("channel_group", "string", "BRANCH, DIGITAL, PARTNER", False)),
                    C(("is_digital", "bool", "Self-service digital channel", False)),
                ],
            },
        },
    },
}

# Which source tables a subject's foundation models prefer as their primary table.
SUBJECT_SOURCES = {
    "customer": ["core_customer", "crm_complaint", "core_deposit_account"],
    "agreement": ["core_deposit_account", "card_card", "loan_loan_contract"],
    "product": ["core_deposit_account", "card_card", "loan_loan_contract"],
    "transaction": ["core_deposit_txn", "card_card_txn", "ebank_transfer", "loan_repayment"],
    "channel": ["ebank_login_event", "ebank_transfer", "card_card_txn"],
    "marketing": ["crm_campaign_contact", "core_customer"],
    "public": ["crm_complaint", "core_customer", "loan_loan_contract"],
}

# Words for model names per subject.
SUBJECT_WORDS = {
    "customer": ["profile", "demographics", "kyc", "segment", "wallet", "tenure", "household", "relationship", "value", "risk"],
    "agreement": ["deposit", "card", "loan", "contract", "facility", "account", "limit", "arrears", "maturity", "holding"],
    "product": ["holding", "mix", "penetration", "catalogue", "uptake", "crosssell", "usage", "pricing", "line", "bundle"],
    "transaction": ["posting", "spend", "flow", "transfer", "repayment", "merchant", "payment", "cashflow", "velocity", "fee"],
    "channel": ["login", "digital", "mobile", "web", "branch", "device", "session", "adoption", "usage", "touchpoint"],
    "marketing": ["campaign", "response", "offer", "lead", "propensity", "conversion", "target", "contact", "nba", "uplift"],
    "public": ["complaint", "regulatory", "report", "statistic", "region", "branch", "exposure", "summary", "disclosure", "audit"],
}
QUALIFIERS = {
    "foundation": ["base", "daily", "detail", "current", "std", "clean", "enriched", "snapshot"],
    "aggregation": ["summary", "agg", "monthly", "rollup", "stats", "metrics", "totals", "kpi"],
    "application": ["view", "mart", "dashboard", "score", "360", "report", "feed", "panel"],
}

SUFFIXES = ["_total", "_max", "_min", "_avg", "_cnt", "_last", "_first", "_dist", "_tier", "_flag",
            "_ratio", "_rank", "_seq", "_days", "_share", "_latest", "_desc", "_hits", "_recent"]


def short_stem(col: str) -> str:
    """The base noun of a derived column name, without aggregate suffixes and subject prefixes."""
    s = col
    changed = True
    while changed:
        changed = False
        for suf in SUFFIXES:
            if s.endswith(suf) and len(s) > len(suf) + 2:
                s = s[: -len(suf)]
                changed = True
        for pre in SUBJECTS + ["latest", "src"]:
            if s.startswith(pre + "_") and len(s) > len(pre) + 3:
                s = s[len(pre) + 1:]
                changed = True
    return s


# ---------------------------------------------------------------------------
# Tables and columns
# ---------------------------------------------------------------------------


@dataclass
class Col:
    name: str
    ty: str
    description: str = ""
    pii: bool = False


@dataclass
class Table:
    name: str            # qualified: src.core_customer / foundation.x
    layer: str           # src / foundation / aggregation / application
    columns: list        # [Col] (sources: biz_date is not listed, it is implied)
    key: str | None      # customer key column name, or None for lookup tables
    grain: str           # "record" or "customer"
    subject: str = ""
    lookup_key: str | None = None
    system: str = ""
    table: str = ""

    @property
    def is_src(self) -> bool:
        return self.layer == "src"

    def col(self, name: str) -> Col:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def of_type(self, *types: str) -> list:
        return [c for c in self.columns if c.ty in types and c.name != self.key]


@dataclass
class Model:
    table: Table
    description: str
    sql: str = ""
    deps: list = field(default_factory=list)


class Names:
    """Output column names of one SELECT, unique."""

    def __init__(self):
        self.used = set()

    def take(self, want: str, qualifier: str = "") -> str:
        want = want[:60].strip("_")
        if not want[:1].isalpha():
            want = "c_" + want
        if want not in self.used:
            self.used.add(want)
            return want
        if qualifier:
            cand = f"{qualifier}_{want}"[:60]
            if cand not in self.used:
                self.used.add(cand)
                return cand
        n = 2
        while f"{want}_{n}" in self.used:
            n += 1
        name = f"{want}_{n}"
        self.used.add(name)
        return name


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------


class Generator:
    def __init__(self, n_models: int, seed: int):
        self.rng = random.Random(seed)
        self.n = n_models
        self.tables: dict = {}      # name -> Table, in creation order
        self.models: list = []      # [Model]
        self.model_names: set = set()
        self._make_sources()

    # -- sources ----------------------------------------------------------------
    def _make_sources(self):
        for system, spec in SOURCES.items():
            for tname, t in spec["tables"].items():
                cols = [Col(n, ty, d, p) for (n, ty, d, p) in t["columns"]]
                lookup = t.get("lookup_key")
                tab = Table(
                    name=f"src.{system}_{tname}", layer="src", columns=cols,
                    key=None if lookup else "cust_id", grain="record",
                    lookup_key=lookup, system=system, table=tname,
                )
                self.tables[tab.name] = tab

    def lookups(self) -> list:
        return [t for t in self.tables.values() if t.lookup_key]

    # -- naming -----------------------------------------------------------------
    def model_name(self, layer: str, subject: str) -> str:
        rng = self.rng
        for _ in range(50):
            parts = [subject, rng.choice(SUBJECT_WORDS[subject])]
            if rng.random() < 0.5:
                parts.append(rng.choice(SUBJECT_WORDS[rng.choice(SUBJECTS)]))
            parts.append(rng.choice(QUALIFIERS[layer]))
            name = "_".join(dict.fromkeys(parts))
            if name not in self.model_names:
                self.model_names.add(name)
                return name
        n = 2
        while f"{name}_{n}" in self.model_names:
            n += 1
        name = f"{name}_{n}"
        self.model_names.add(name)
        return name

    # -- upstream choice --------------------------------------------------------
    def keyed(self, layers) -> list:
        return [t for t in self.tables.values() if t.key and t.layer in layers]

    def pick_upstreams(self, layer: str, subject: str) -> list:
        rng = self.rng
        want = rng.choice([1, 2, 2, 2, 3, 3, 4, 4])
        if layer == "foundation":
            src = self.keyed(["src"])
            fnd = self.keyed(["foundation"])
            if fnd and rng.random() < 0.3:
                primary = rng.choice(fnd[-60:])
            else:
                preferred = [self.tables["src." + s] for s in SUBJECT_SOURCES[subject]]
                primary = rng.choice(preferred) if rng.random() < 0.75 else rng.choice(src)
            pool = src + fnd[-80:]
        elif layer == "aggregation":
            fnd = self.keyed(["foundation"])
            agg = self.keyed(["aggregation"])
            primary = rng.choice(agg[-60:]) if agg and rng.random() < 0.3 else rng.choice(fnd)
            pool = fnd + agg[-80:] + self.keyed(["src"])
        else:
            lower = self.keyed(["aggregation"])
            app = self.keyed(["application"])
            primary = rng.choice(app[-60:]) if app and rng.random() < 0.25 else rng.choice(lower)
            pool = lower + app[-80:] + self.keyed(["foundation"])[-100:]
        ups = [primary]
        # A reference-data lookup on a code the primary carries.
        codes = {c.name for c in primary.columns}
        lk = [t for t in self.lookups() if t.lookup_key in codes]
        if lk and len(ups) < want and rng.random() < 0.5:
            ups.append(rng.choice(lk))
        tries = 0
        while len(ups) < want and tries < 20:
            tries += 1
            t = rng.choice(pool)
            if t not in ups:
                ups.append(t)
        return ups

    # -- SQL building blocks ----------------------------------------------------
    @staticmethod
    def key_expr(t: Table, alias: str) -> str:
        return f"{alias}.{t.key}"

    @staticmethod
    def src_filter(t: Table, alias: str) -> list:
        return [f"{alias}.biz_date = $biz_date"] if t.is_src else []

    def window_filter(self, t: Table, alias: str) -> list:
        """Sometimes restrict to recent records on a date column."""
        dates = [c for c in t.of_type("date") if c.name not in ("birth_date",)]
        if dates and self.rng.random() < 0.3:
            d = self.rng.choice(dates)
            days = self.rng.choice([30, 90, 180, 365])
            return [f"{alias}.{d.name} >= $biz_date - INTERVAL '{days} days'"]
        return []

    def measures(self, t: Table, alias: str, names: Names, k: int, qual: str) -> list:
        """Aggregate expressions over t: [(sql, Col)]."""
        rng = self.rng
        out = [(f"COUNT(*)", Col(names.take(short_stem(t.name.split('.')[1]) + "_cnt", qual), "bigint",
                                   f"Number of {t.name} rows"))]
        cands = []
        for c in t.columns:
            if c.name == t.key or c.pii:
                continue
            s = short_stem(c.name)
            if c.ty == "money":
                fn = rng.choice(["SUM", "SUM", "MAX", "AVG"])
                suf = {"SUM": "_total", "MAX": "_max", "AVG": "_avg"}[fn]
                cands.append((f"CAST({fn}({alias}.{c.name}) AS DECIMAL(18,2))", s + suf, "money",
                              f"{fn.lower()} of {c.name} over {t.name}"))
            elif c.ty == "date":
                fn = rng.choice(["MAX", "MIN"])
                cands.append((f"{fn}({alias}.{c.name})", s + ("_last" if fn == "MAX" else "_first"), "date",
                              f"{'latest' if fn == 'MAX' else 'earliest'} {c.name} in {t.name}"))
            elif c.ty in ("int", "bigint"):
                fn = rng.choice(["SUM", "MAX"])
                cands.append((f"CAST({fn}({alias}.{c.name}) AS BIGINT)", s + ("_total" if fn == "SUM" else "_max"),
                              "bigint", f"{fn.lower()} of {c.name} over {t.name}"))
            elif c.ty == "double":
                cands.append((f"AVG({alias}.{c.name})", s + "_avg", "double", f"average {c.name} in {t.name}"))
            elif c.ty == "bool":
                cands.append((f"SUM(CASE WHEN {alias}.{c.name} THEN 1 ELSE 0 END)", s + "_hits", "bigint",
                              f"rows of {t.name} where {c.name} holds"))
            elif c.ty == "string" and rng.random() < 0.4:
                cands.append((f"COUNT(DISTINCT {alias}.{c.name})", s + "_dist", "bigint",
                              f"distinct {c.name} values in {t.name}"))
            elif c.ty == "ts" and rng.random() < 0.3:
                cands.append((f"MAX({alias}.{c.name})", s + "_last", "ts", f"latest {c.name} in {t.name}"))
        rng.shuffle(cands)
        # Money first: the interesting measures.
        cands.sort(key=lambda x: 0 if x[2] == "money" else 1)
        for expr, nm, ty, desc in cands[:k]:
            out.append((expr, Col(names.take(nm, qual), ty, desc)))
        return out

    def case_exprs(self, cols: list, alias: str, names: Names, limit: int) -> list:
        """Derived CASE / arithmetic columns over already-computed columns: [(sql, Col)]."""
        rng = self.rng
        out = []
        money = [c for c in cols if c.ty == "money"]
        counts = [c for c in cols if c.ty == "bigint"]
        dates = [c for c in cols if c.ty == "date"]
        kinds = []
        if money:
            kinds += ["tier", "tier"]
        if len(money) >= 2:
            kinds.append("ratio")
        if counts:
            kinds.append("band")
        if dates:
            kinds += ["recent", "days"]
        rng.shuffle(kinds)
        for kind in kinds[:limit]:
            if kind == "tier":
                m = rng.choice(money)
                hi, mid = rng.choice([(1000000, 100000), (500000, 50000), (200000, 20000), (50000, 5000)])
                e = (f"CASE WHEN {alias}.{m.name} >= {hi} THEN 'PRIVATE' "
                     f"WHEN {alias}.{m.name} >= {mid} THEN 'AFFLUENT' "
                     f"WHEN {alias}.{m.name} > 0 THEN 'MASS' ELSE 'NONE' END")
                out.append((e, Col(names.take(short_stem(m.name) + "_tier"), "string",
                                   f"Wealth tier by {m.name}: PRIVATE >= {hi}, AFFLUENT >= {mid}, MASS > 0")))
            elif kind == "ratio":
                a, b = rng.sample(money, 2)
                e = (f"CASE WHEN {alias}.{b.name} <> 0 "
                     f"THEN CAST({alias}.{a.name} AS DOUBLE) / CAST({alias}.{b.name} AS DOUBLE) END")
                out.append((e, Col(names.take(short_stem(a.name) + "_ratio"), "double", f"{a.name} / {b.name}")))
            elif kind == "band":
                c = rng.choice(counts)
                n = rng.choice([3, 5, 10, 20])
                e = (f"CASE WHEN {alias}.{c.name} >= {n} THEN 'HEAVY' "
                     f"WHEN {alias}.{c.name} > 0 THEN 'LIGHT' ELSE 'NONE' END")
                out.append((e, Col(names.take(short_stem(c.name) + "_band", ""), "string",
                                   f"Usage band of {c.name}: HEAVY >= {n}")))
            elif kind == "recent":
                d = rng.choice(dates)
                days = rng.choice([30, 60, 90])
                e = (f"CASE WHEN {alias}.{d.name} >= $biz_date - INTERVAL '{days} days' "
                     f"THEN true ELSE false END")
                out.append((e, Col(names.take(short_stem(d.name) + f"_recent"), "bool",
                                   f"{d.name} within {days} days of the business date")))
            elif kind == "days":
                d = rng.choice(dates)
                e = f"$biz_date - {alias}.{d.name}"
                out.append((e, Col(names.take(short_stem(d.name) + "_days"), "bigint",
                                   f"Days from {d.name} to the business date")))
        return out

    def coalesced(self, c: Col, alias: str) -> str:
        if c.ty == "money":
            return f"COALESCE({alias}.{c.name}, CAST(0 AS DECIMAL(18,2)))"
        if c.ty == "bigint":
            return f"COALESCE({alias}.{c.name}, 0)"
        return f"{alias}.{c.name}"

    def lookup_join(self, base_alias: str, base: Table, lk: Table, alias: str, names: Names) -> tuple:
        """LEFT JOIN of a reference table on its code: (join sql, [(expr, Col)])."""
        cond = f"{alias}.{lk.lookup_key} = {base_alias}.{lk.lookup_key}"
        if lk.is_src:
            cond += f" AND {alias}.biz_date = $biz_date"
        attrs = [c for c in lk.columns if c.name != lk.lookup_key]
        picked = self.rng.sample(attrs, min(len(attrs), self.rng.choice([1, 2])))
        cols = [(f"{alias}.{c.name}", Col(names.take(c.name), c.ty, c.description)) for c in picked]
        return f"LEFT JOIN {lk.name} {alias} ON {cond}", cols

    def agg_cte(self, t: Table, cte: str, names: Names, qual: str) -> tuple:
        """A CTE aggregating t to one row per customer: (sql, [Col] its measures)."""
        a = "u"
        ms = self.measures(t, a, names, self.rng.choice([1, 2, 3]), qual)
        where = self.src_filter(t, a) + self.window_filter(t, a)
        lines = [f"{cte} AS (", f"    SELECT", f"        {a}.{t.key} AS customer_id,"]
        lines += [f"        {e} AS {c.name}," for e, c in ms]
        lines[-1] = lines[-1].rstrip(",")
        lines.append(f"    FROM {t.name} {a}")
        if where:
            lines.append("    WHERE " + "\n      AND ".join(where))
        lines.append(f"    GROUP BY {a}.{t.key}")
        lines.append(")")
        return "\n".join(lines), [c for _, c in ms]

    # -- templates --------------------------------------------------------------
    def t_rollup(self, layer, ups) -> tuple:
        """One row per customer: each upstream aggregated in a CTE, joined on customer_id."""
        rng = self.rng
        keyed = [t for t in ups if t.key]
        ctes, parts = [], []
        inner = Names()
        for i, t in enumerate(keyed):
            cte = f"{short_stem(t.name.split('.')[1])[:24]}_{i + 1}"
            sql, cols = self.agg_cte(t, cte, inner, qual=t.subject or t.system)
            ctes.append(sql)
            parts.append((cte, cols))
        spine_union = len(parts) > 1 and rng.random() < 0.35
        if spine_union:
            ctes.append("ids AS (\n    " + "\n    UNION\n    ".join(
                f"SELECT customer_id FROM {cte}" for cte, _ in parts) + "\n)")
            frm = ["FROM ids"]
            key = "ids.customer_id"
        else:
            frm = [f"FROM {parts[0][0]}"]
            key = f"{parts[0][0]}.customer_id"
        out = [(key, Col("customer_id", "string", "Bank-wide customer number"))]
        outer = Names()
        outer.take("customer_id")
        for j, (cte, cols) in enumerate(parts):
            if spine_union or j > 0:
                frm.append(f"LEFT JOIN {cte} ON {cte}.customer_id = {key}")
            for c in cols:
                expr = self.coalesced(c, cte) if (spine_union or j > 0) else f"{cte}.{c.name}"
                out.append((expr, Col(outer.take(c.name), c.ty, c.description)))
        joined_cols = [c for _, c in out]
        # Second stage: CASE columns and sometimes a rank over the joined row.
        ctes.append("joined AS (\n    SELECT\n" + ",\n".join(
            f"        {e} AS {c.name}" for e, c in out) + "\n    " + "\n    ".join(frm) + "\n)")
        final = [(f"j.{c.name}", c) for c in joined_cols]
        final += self.case_exprs(joined_cols, "j", outer, rng.choice([1, 2, 2, 3]))
        money = [c for c in joined_cols if c.ty == "money"]
        if money and rng.random() < 0.25:
            m = rng.choice(money)
            final.append((f"CAST(RANK() OVER (ORDER BY j.{m.name} DESC) AS BIGINT)",
                          Col(outer.take(short_stem(m.name) + "_rank"), "bigint", f"Rank of the customer by {m.name}")))
        where = []
        if money and rng.random() < 0.3:
            where.append(f"j.{rng.choice(money).name} IS NOT NULL")
        sql = "WITH " + ",\n".join(ctes) + "\nSELECT\n" + ",\n".join(
            f"    {e} AS {c.name}" if e != f"j.{c.name}" else f"    {e}" for e, c in final) + "\nFROM joined j"
        if where:
            sql += "\nWHERE " + " AND ".join(where)
        return sql, [c for _, c in final], "customer"

    def t_enrich(self, layer, ups) -> tuple:
        """Rows of the primary table, widened with reference attributes and per-customer measures."""
        rng = self.rng
        p = ups[0]
        names = Names()
        sel = [(f"p.{p.key}", Col(names.take("customer_id"), "string", "Bank-wide customer number"))]
        cands = [c for c in p.columns if c.name != p.key]
        keep = rng.sample(cands, min(len(cands), rng.choice([3, 4, 5, 6])))
        keep = [c for c in p.columns if c in keep]  # source order
        # Codes used by lookups are kept so the join has something to join on.
        lks = [t for t in ups[1:] if t.lookup_key]
        for lk in lks:
            c = p.col(lk.lookup_key)
            if c not in keep:
                keep.append(c)
        for c in keep:
            nm = names.take(c.name)
            expr = f"p.{c.name}"
            if c.ty == "money" and p.is_src:
                expr = f"CAST(p.{c.name} AS DECIMAL(18,2))"
            sel.append((expr, Col(nm, c.ty, c.description, c.pii)))
        joins, ctes = [], []
        for i, lk in enumerate(lks):
            j, cols = self.lookup_join("p", p, lk, f"r{i + 1}", names)
            joins.append(j)
            sel += cols
        for i, t in enumerate([t for t in ups[1:] if t.key]):
            cte = f"{short_stem(t.name.split('.')[1])[:24]}_{i + 1}"
            sql, cols = self.agg_cte(t, cte, Names(), "")
            ctes.append(sql)
            joins.append(f"LEFT JOIN {cte} ON {cte}.customer_id = p.{p.key}")
            for c in cols:
                sel.append((self.coalesced(c, cte), Col(names.take(c.name, t.subject or t.system), c.ty, c.description)))
        # CASE over the primary's own columns (written against p.*).
        own = [Col(c.name, c.ty) for c in keep]
        for e, c in self.case_exprs(own, "p", names, rng.choice([0, 1, 2])):
            sel.append((e, c))
        codes = [c for c in keep if c.ty == "string" and c.name.endswith(("_status", "_flag", "_code"))
                 and c.name not in ("branch_code", "product_code", "channel_code", "currency_code")]
        if codes and rng.random() < 0.6:
            c = rng.choice(codes)
            e = (f"CASE p.{c.name} WHEN 'A' THEN 'ACTIVE' WHEN 'D' THEN 'DORMANT' "
                 f"WHEN 'C' THEN 'CLOSED' ELSE 'OTHER' END")
            sel.append((e, Col(names.take(short_stem(c.name) + "_desc"), "string", f"Decoded {c.name}")))
        money = [c for c in keep if c.ty == "money"]
        if money and rng.random() < 0.3:
            m = rng.choice(money)
            sel.append((f"CAST(ROW_NUMBER() OVER (PARTITION BY p.{p.key} ORDER BY p.{m.name} DESC) AS BIGINT)",
                        Col(names.take(short_stem(m.name) + "_seq"), "bigint",
                            f"Position of the row within the customer by {m.name}, largest first")))
        where = self.src_filter(p, "p") + [f"p.{p.key} IS NOT NULL"] + self.window_filter(p, "p")
        sql = ("WITH " + ",\n".join(ctes) + "\n" if ctes else "") + "SELECT\n" + ",\n".join(
            f"    {e} AS {c.name}" if e != f"p.{c.name}" else f"    {e}" for e, c in sel)
        sql += f"\nFROM {p.name} p"
        for j in joins:
            sql += "\n" + j
        sql += "\nWHERE " + "\n  AND ".join(where)
        return sql, [c for _, c in sel], p.grain

    def t_latest(self, layer, ups) -> tuple:
        """The latest row per customer by a date (ROW_NUMBER in a CTE), one row per customer."""
        rng = self.rng
        p = ups[0]
        dates = p.of_type("date", "ts") or p.of_type("money") or [c for c in p.columns if c.name != p.key]
        order = rng.choice(dates)
        names = Names()
        cands = [c for c in p.columns if c.name != p.key]
        keep = rng.sample(cands, min(len(cands), rng.choice([2, 3, 4, 5])))
        keep = [c for c in p.columns if c in keep]
        inner = [f"        p.{p.key} AS customer_id"] + [f"        p.{c.name}" for c in keep]
        inner.append(f"        ROW_NUMBER() OVER (PARTITION BY p.{p.key} ORDER BY p.{order.name} DESC) AS rn")
        where = self.src_filter(p, "p")
        cte = "ranked AS (\n    SELECT\n" + ",\n".join(inner) + f"\n    FROM {p.name} p"
        if where:
            cte += "\n    WHERE " + " AND ".join(where)
        cte += "\n)"
        sel = [("r.customer_id", Col(names.take("customer_id"), "string", "Bank-wide customer number"))]
        for c in keep:
            nm = names.take("latest_" + short_stem(c.name) if c.ty != "string" or rng.random() < 0.3 else c.name)
            sel.append((f"r.{c.name}", Col(nm, c.ty, f"{c.name} of the customer's latest row by {order.name}", c.pii)))
        sel += self.case_exprs([Col(c.name, c.ty) for c in keep], "r", names, rng.choice([0, 1]))
        sql = "WITH " + cte + "\nSELECT\n" + ",\n".join(
            f"    {e} AS {c.name}" if e != f"r.{c.name}" else f"    {e}" for e, c in sel)
        sql += "\nFROM ranked r\nWHERE r.rn = 1"
        return sql, [c for _, c in sel], "customer"

    def t_by_dim(self, layer, ups) -> tuple:
        """GROUP BY customer and one attribute (a code, or a reference attribute)."""
        rng = self.rng
        p = ups[0]
        names = Names()
        names.take("customer_id")
        lks = [t for t in ups[1:] if t.lookup_key]
        joins = []
        dims = []
        for i, lk in enumerate(lks[:1]):
            alias = f"r{i + 1}"
            cond = f"{alias}.{lk.lookup_key} = p.{lk.lookup_key}" + (f" AND {alias}.biz_date = $biz_date" if lk.is_src else "")
            joins.append(f"LEFT JOIN {lk.name} {alias} ON {cond}")
            attrs = [c for c in lk.columns if c.ty == "string" and c.name != lk.lookup_key]
            a = rng.choice(attrs)
            dims.append((f"{alias}.{a.name}", Col(names.take(a.name), "string", a.description)))
        if not dims:
            strs = [c for c in p.of_type("string") if not c.pii]
            if strs:
                a = rng.choice(strs)
                dims.append((f"p.{a.name}", Col(names.take(a.name), "string", a.description)))
        ms = self.measures(p, "p", names, rng.choice([2, 3, 4]), "")
        where = self.src_filter(p, "p") + self.window_filter(p, "p")
        sel = [(f"p.{p.key}", Col("customer_id", "string", "Bank-wide customer number"))] + dims + ms
        sql = "SELECT\n" + ",\n".join(f"    {e} AS {c.name}" for e, c in sel)
        sql += f"\nFROM {p.name} p"
        for j in joins:
            sql += "\n" + j
        if where:
            sql += "\nWHERE " + "\n  AND ".join(where)
        sql += "\nGROUP BY " + ", ".join([f"p.{p.key}"] + [e for e, _ in dims])
        if rng.random() < 0.2:
            sql += "\nHAVING COUNT(*) > 1"
        return sql, [c for _, c in sel], "record"

    # -- models -----------------------------------------------------------------
    def layer_of(self, i: int) -> str:
        f = i / self.n
        return "foundation" if f < 0.35 else ("aggregation" if f < 0.70 else "application")

    def generate(self):
        rng = self.rng
        for i in range(self.n):
            layer = self.layer_of(i)
            subject = SUBJECTS[i % len(SUBJECTS)] if rng.random() < 0.6 else rng.choice(SUBJECTS)
            ups = self.pick_upstreams(layer, subject)
            p = ups[0]
            keyed = [t for t in ups if t.key]
            if layer == "foundation":
                choice = rng.choices(["enrich", "by_dim", "rollup", "latest"], [5, 2, 2, 1])[0]
            elif layer == "aggregation":
                choice = rng.choices(["rollup", "by_dim", "latest", "enrich"], [5, 3, 1, 1])[0]
            else:
                choice = rng.choices(["rollup", "enrich", "latest", "by_dim"], [5, 3, 1, 1])[0]
            if choice in ("rollup", "latest"):
                ups = keyed  # these templates join on the customer key only
            elif choice == "by_dim":
                ups = [p] + [t for t in ups[1:] if t.lookup_key][:1]  # one table and its reference data
            sql, cols, grain = {
                "rollup": self.t_rollup, "enrich": self.t_enrich,
                "latest": self.t_latest, "by_dim": self.t_by_dim,
            }[choice](layer, ups)
            name = self.model_name(layer, subject)
            desc = self.describe(layer, subject, choice, ups, grain)
            header = f"-- {layer}.{name}: {desc}\n"
            tab = Table(name=f"{layer}.{name}", layer=layer, columns=cols, key="customer_id",
                        grain=grain, subject=subject)
            self.tables[tab.name] = tab
            self.models.append(Model(table=tab, description=desc, sql=header + sql + "\n",
                                     deps=[t.name for t in ups]))

    def describe(self, layer, subject, choice, ups, grain) -> str:
        what = {
            "rollup": "one row per customer combining",
            "enrich": "rows of {p} enriched with",
            "latest": "latest row per customer of",
            "by_dim": "per customer and attribute, measures of",
        }[choice]
        rest = ", ".join(t.name for t in ups[1:]) if choice == "enrich" else ", ".join(t.name for t in ups)
        text = what.format(p=ups[0].name)
        if choice == "enrich":
            text += " " + (rest or "derived columns")
        else:
            text += " " + rest
        return f"{subject.capitalize()} {layer} model: {text}"


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------


def q(s: str) -> str:
    """A TOML / YAML basic string (JSON string syntax is valid in both for ASCII text)."""
    return json.dumps(s)


def fresh_dir(path: str):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)


def write(path: str, text: str):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_lakemart(gen: Generator, out: str):
    fresh_dir(out)
    write(os.path.join(out, "lakemart.toml"),
          "[project]\nname = \"bench_mart\"\nlakehouse = \"lakehouse\"\nlanding = \"landing\"\n")
    for system, spec in SOURCES.items():
        lines = [f"description = {q(spec['description'])}", ""]
        for tname, t in spec["tables"].items():
            lines += [
                "[[tables]]",
                f"name = {q(tname)}",
                f"description = {q(t['description'])}",
                f"file = \"{{biz_date}}/{system}/{tname}.csv\"",
                "format = \"csv\"",
                "delimiter = \",\"",
                "header = true",
                "primary_key = [" + ", ".join(q(k) for k in t["pk"]) + "]",
                "",
            ]
            for (n, ty, d, p) in t["columns"]:
                lines += ["[[tables.columns]]", f"name = {q(n)}", f"type = {q(TOML_TYPE[ty])}",
                          f"description = {q(d)}"]
                if p:
                    lines.append("pii = true")
                lines.append("")
        write(os.path.join(out, "models", "sources", f"{system}.toml"), "\n".join(lines))
    by_file: dict = {}
    for m in gen.models:
        layer, name = m.table.name.split(".")
        write(os.path.join(out, "sql", layer, m.table.subject, f"{name}.sql"), m.sql)
        by_file.setdefault((layer, m.table.subject), []).append(m)
    rng = random.Random(1)
    for (layer, subject), models in sorted(by_file.items()):
        lines = []
        for m in models:
            lines += ["[[models]]", f"name = {q(m.table.name.split('.')[1])}",
                      f"description = {q(m.description)}", "materialization = \"table\"", ""]
            for c in m.table.columns:
                if c.name != "customer_id" and not c.pii and rng.random() < 0.5:
                    continue
                lines += ["[[models.columns]]", f"name = {q(c.name)}",
                          f"description = {q(c.description or c.name)}"]
                if c.pii:
                    lines.append("pii = true")
                lines.append("")
        write(os.path.join(out, "models", layer, f"{subject}.toml"), "\n".join(lines))


def to_dbt_sql(sql: str, gen: Generator) -> str:
    import re

    def repl(mt):
        name = mt.group(0)
        t = gen.tables.get(name)
        if t is None:
            return name
        if t.is_src:
            return "{{ source('%s', '%s') }}" % (t.system, t.table)
        return "{{ ref('%s') }}" % name.split(".")[1]

    out = []
    for line in sql.split("\n"):
        if not line.lstrip().startswith("--"):  # Jinja renders comments too: keep refs out of them
            line = re.sub(r"\b(?:src|foundation|aggregation|application)\.[a-z0-9_]+\b", repl, line)
            line = line.replace("$biz_date", "cast('{{ var(\"biz_date\") }}' as date)")
        out.append(line)
    return "\n".join(out)


def write_dbt(gen: Generator, out: str):
    fresh_dir(out)
    write(os.path.join(out, "dbt_project.yml"), "\n".join([
        "name: bench_mart",
        "version: '1.0.0'",
        "config-version: 2",
        "profile: bench_mart",
        "model-paths: ['models']",
        "target-path: target",
        "clean-targets: ['target']",
        "flags:",
        "  send_anonymous_usage_stats: false",
        "vars:",
        "  biz_date: '2024-06-28'",
        "models:",
        "  bench_mart:",
        "    +materialized: table",
        "    foundation:",
        "      +schema: foundation",
        "    aggregation:",
        "      +schema: aggregation",
        "    application:",
        "      +schema: application",
        "",
    ]))
    write(os.path.join(out, "profiles.yml"), "\n".join([
        "bench_mart:",
        "  target: dev",
        "  outputs:",
        "    dev:",
        "      type: duckdb",
        "      path: bench.duckdb",
        "      threads: 2",
        "",
    ]))
    lines = ["version: 2", "", "sources:"]
    for system, spec in SOURCES.items():
        lines += [f"  - name: {system}", f"    description: {q(spec['description'])}", "    schema: src", "    tables:"]
        for tname, t in spec["tables"].items():
            lines += [f"      - name: {tname}", f"        identifier: {system}_{tname}",
                      f"        description: {q(t['description'])}", "        columns:"]
            for (n, ty, d, p) in t["columns"] + [("biz_date", "date", "Business date of the extract", False)]:
                lines += [f"          - name: {n}", f"            data_type: {DBT_TYPE[ty]}",
                          f"            description: {q(d)}"]
                if p:
                    lines += ["            meta:", "              pii: true"]
    write(os.path.join(out, "models", "sources.yml"), "\n".join(lines) + "\n")
    by_file: dict = {}
    for m in gen.models:
        layer, name = m.table.name.split(".")
        write(os.path.join(out, "models", layer, m.table.subject, f"{name}.sql"), to_dbt_sql(m.sql, gen))
        by_file.setdefault((layer, m.table.subject), []).append(m)
    rng = random.Random(1)  # same column selection as the lakemart metadata
    for (layer, subject), models in sorted(by_file.items()):
        lines = ["version: 2", "", "models:"]
        for m in models:
            lines += [f"  - name: {m.table.name.split('.')[1]}", f"    description: {q(m.description)}",
                      "    columns:"]
            for c in m.table.columns:
                if c.name != "customer_id" and not c.pii and rng.random() < 0.5:
                    continue
                lines += [f"      - name: {c.name}", f"        description: {q(c.description or c.name)}"]
                if c.pii:
                    lines += ["        meta:", "          pii: true"]
        write(os.path.join(out, "models", layer, subject, "schema.yml"), "\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=1000, help="number of models (default 1000)")
    ap.add_argument("--out", required=True, help="directory of the lakemart project (replaced)")
    ap.add_argument("--dbt", help="also write the equivalent dbt project here (replaced)")
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    args = ap.parse_args(argv)
    if args.models < 1:
        ap.error("--models must be at least 1")
    gen = Generator(args.models, args.seed)
    gen.generate()
    write_lakemart(gen, args.out)
    if args.dbt:
        write_dbt(gen, args.dbt)
    n_src = sum(1 for t in gen.tables.values() if t.is_src)
    print(f"wrote {len(gen.models)} models over {n_src} source tables to {args.out}"
          + (f" (dbt twin in {args.dbt})" if args.dbt else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
