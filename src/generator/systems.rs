//! The 39 source systems of the reference mart: their tables, layouts, cleansing
//! rules and how each column is generated. `models/sources/*.toml` is rendered from here.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, Weekday};

use super::bank::{CURRENCIES, PRODUCTS, World, add_days, branch, branch_count, day_number, money};
use super::rng::{Rng, h, tag, unit};
use super::spec::{Col, Ctx, Format, G, Source, System, c, put_date, t};

const CSV: Format = Format::Delimited {
    delimiter: ",",
    quote: false,
    header: true,
};
const CSVQ: Format = Format::Delimited {
    delimiter: ",",
    quote: true,
    header: true,
};
const PIPE: Format = Format::Delimited {
    delimiter: "|",
    quote: false,
    header: false,
};
const PIPE3: Format = Format::Delimited {
    delimiter: "|@|",
    quote: false,
    header: false,
};
const HIVE: Format = Format::Delimited {
    delimiter: "\u{1}",
    quote: false,
    header: false,
};
const TAB: Format = Format::Delimited {
    delimiter: "\t",
    quote: false,
    header: true,
};
const FIXED: Format = Format::Fixed;
const PARQUET: Format = Format::Parquet;

const CTL_SUM: (&str, &[&str]) = ("|", &["rows", "sum"]);
const CTL_SUM_BYTES: (&str, &[&str]) = ("|", &["rows", "sum", "bytes"]);
const CTL_DATE_ROWS: (&str, &[&str]) = (",", &["biz_date", "rows", "bytes"]);
const CTL_NAME_ROWS: (&str, &[&str]) = ("\t", &["file_name", "rows", "sum"]);

const MONEY: &str = "decimal(18,2)";
const YMD: &str = "yyyyMMdd";
const YMDHMS: &str = "yyyyMMddHHmmss";
const TS: &str = "timestamp";

const GENDER: &[(&str, &str)] = &[("M", "M"), ("1", "M"), ("男", "M"), ("F", "F"), ("2", "F"), ("女", "F")];
const CCY: &[(&str, &str)] = &[
    ("CNY", "CNY"),
    ("RMB", "CNY"),
    ("156", "CNY"),
    ("USD", "USD"),
    ("840", "USD"),
    ("HKD", "HKD"),
    ("344", "HKD"),
    ("EUR", "EUR"),
    ("978", "EUR"),
    ("JPY", "JPY"),
    ("GBP", "GBP"),
];
const YN: &[(&str, &str)] = &[("Y", "Y"), ("1", "Y"), ("是", "Y"), ("N", "N"), ("0", "N"), ("否", "N")];
const NULL_DATES: &[&str] = &["", "99991231", "00000000"];

const CUST_ID_RE: &str = "^C[0-9]{9}$";
const BRANCH_RE: &str = "^B[0-9]{3}$";

fn pc(group: &'static str, share: f64, sub: f64, max: u32) -> Source {
    Source::PerCustomer { group, share, sub, max }
}

fn ev(group: &'static str, share: f64, per_day: f64) -> Source {
    Source::Events { group, share, per_day }
}

fn cust_id() -> Col {
    c(
        "cust_id",
        "string",
        "Customer number in core banking (C + 9 digits)",
        G::CustId,
    )
    .req()
    .pattern(CUST_ID_RE)
}

fn cert_no() -> Col {
    c(
        "cert_no",
        "string",
        "PRC resident identity card number (18 characters)",
        G::CertNo,
    )
    .req()
    .check("resident_id")
    .pii()
}

fn name(desc: &'static str) -> Col {
    c("cust_name", "string", desc, G::Name).pii()
}

fn mobile_col() -> Col {
    c("mobile", "string", "Mobile phone number (11 digits)", G::Mobile)
        .check("mobile")
        .soft()
        .pii()
}

fn email() -> Col {
    c("email", "string", "E-mail address", G::Email)
        .check("email")
        .soft()
        .pii()
}

fn upd(format: Option<&'static str>) -> Col {
    let col = c(
        "update_ts",
        TS,
        "Last update of the record in the source system; the latest row per key wins",
        G::UpdateTs,
    )
    .req();
    match format {
        Some(f) => col.fmt(f),
        None => col,
    }
}

// ---------------------------------------------------------------------------
// Reference-table counts and fields
// ---------------------------------------------------------------------------

fn n_branches(_: &World) -> u64 {
    branch_count() as u64
}
fn n_products(_: &World) -> u64 {
    PRODUCTS.len() as u64
}
fn n_currencies(_: &World) -> u64 {
    CURRENCIES.len() as u64
}
fn n_employees(_: &World) -> u64 {
    branch_count() as u64 * 10
}
fn n_terminals(_: &World) -> u64 {
    branch_count() as u64 * 6
}
fn n_merchants(w: &World) -> u64 {
    (w.customers / 40).max(20)
}
fn n_campaigns(_: &World) -> u64 {
    40
}
fn n_calendar(_: &World) -> u64 {
    366
}
fn n_channels(_: &World) -> u64 {
    CHANNELS.len() as u64
}
fn n_codes(_: &World) -> u64 {
    CODES.len() as u64
}
fn n_orgs(_: &World) -> u64 {
    branch_count() as u64 + 1
}
fn n_employers(w: &World) -> u64 {
    (w.customers / 200).max(10)
}
fn n_rating_models(_: &World) -> u64 {
    4
}

const CHANNELS: &[(&str, &str, &str, &str)] = &[
    ("MOB", "手机银行", "ONLINE", "mobile"),
    ("WEB", "网上银行", "ONLINE", "ebank"),
    ("ATM", "自助设备", "SELF_SERVICE", "atm"),
    ("CNT", "柜面", "BRANCH", "teller"),
    ("POS", "借记卡POS", "SELF_SERVICE", "acq"),
    ("SYS", "系统批量", "BATCH", "core"),
    ("TEL", "电话银行", "REMOTE", "callc"),
    ("WXB", "微信银行", "ONLINE", "mobile"),
    ("OPN", "开放银行API", "ONLINE", "pay"),
];

const CODES: &[(&str, &str, &str)] = &[
    ("GENDER", "M", "男"),
    ("GENDER", "F", "女"),
    ("CERT_TYPE", "01", "居民身份证"),
    ("CERT_TYPE", "02", "护照"),
    ("CERT_TYPE", "03", "港澳居民来往内地通行证"),
    ("ACCT_STATUS", "A", "正常"),
    ("ACCT_STATUS", "C", "销户"),
    ("ACCT_STATUS", "F", "冻结"),
    ("FIVE_CLASS", "1", "正常"),
    ("FIVE_CLASS", "2", "关注"),
    ("FIVE_CLASS", "3", "次级"),
    ("FIVE_CLASS", "4", "可疑"),
    ("FIVE_CLASS", "5", "损失"),
    ("SEGMENT", "MASS", "大众客户"),
    ("SEGMENT", "AFFL", "贵宾客户"),
    ("SEGMENT", "WLTH", "财富客户"),
    ("SEGMENT", "PRIV", "私人银行客户"),
    ("RISK_LEVEL", "R1", "谨慎型"),
    ("RISK_LEVEL", "R2", "稳健型"),
    ("RISK_LEVEL", "R3", "平衡型"),
    ("RISK_LEVEL", "R4", "进取型"),
    ("RISK_LEVEL", "R5", "激进型"),
];

fn f_branch_id(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(&branch(ctx.ent as usize - 1).0)
}
fn f_branch_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(&branch(ctx.ent as usize - 1).1)
}
fn f_branch_city(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(branch(ctx.ent as usize - 1).2.name)
}
fn f_branch_region(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(branch(ctx.ent as usize - 1).2.region)
}
fn product(ctx: &Ctx) -> &'static super::bank::Product {
    &PRODUCTS[ctx.ent as usize - 1]
}
fn f_prod_code(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(product(ctx).0)
}
fn f_prod_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(product(ctx).1)
}
fn f_prod_family(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(product(ctx).2)
}
fn f_prod_category(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(product(ctx).3)
}
fn f_prod_launch(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(product(ctx).4)
}
fn f_prod_risk(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(match product(ctx).2 {
        "DEPOSIT" | "INSURANCE" => "R1",
        "WEALTH" if product(ctx).3 == "FIXED_INCOME" => "R2",
        "FUND" if product(ctx).3 == "MONEY_MARKET" => "R1",
        "WEALTH" | "METAL" => "R3",
        "FUND" => "R4",
        _ => "R2",
    })
}
fn f_ccy(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CURRENCIES[ctx.ent as usize - 1].0)
}
fn f_ccy_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CURRENCIES[ctx.ent as usize - 1].1)
}
/// The closing rate of the date: the anchor rate with a small deterministic daily drift.
pub fn fx_rate(seed: u64, ccy_index: usize, d: NaiveDate) -> f64 {
    let (_, _, base) = CURRENCIES[ccy_index];
    if ccy_index == 0 {
        return 1.0;
    }
    let drift = (unit(h(seed, &[tag("fx"), ccy_index as u64, day_number(d) as u64])) - 0.5) * 0.004;
    base * (1.0 + drift)
}
fn f_rate(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(o, "{:.6}", fx_rate(ctx.w.seed, ctx.ent as usize - 1, ctx.d));
}
fn f_rate_buy(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(
        o,
        "{:.4}",
        fx_rate(ctx.w.seed, ctx.ent as usize - 1, ctx.d) * 100.0 * 0.9985
    );
}
fn f_rate_sell(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(
        o,
        "{:.4}",
        fx_rate(ctx.w.seed, ctx.ent as usize - 1, ctx.d) * 100.0 * 1.0015
    );
}
fn cal_date(ctx: &Ctx) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(ctx.d.year(), 1, 1).unwrap_or(ctx.d);
    add_days(first, ctx.ent as i64 - 1)
}
fn is_holiday(d: NaiveDate) -> bool {
    matches!((d.month(), d.day()), (1, 1) | (5, 1..=3) | (10, 1..=7))
}
fn f_cal_date(ctx: &Ctx, col: &Col, _: &mut Rng, o: &mut String) {
    put_date(o, col, cal_date(ctx))
}
fn f_cal_workday(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let d = cal_date(ctx);
    let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
    o.push_str(if weekend || is_holiday(d) { "N" } else { "Y" })
}
fn f_cal_month_end(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(if add_days(cal_date(ctx), 1).day() == 1 {
        "Y"
    } else {
        "N"
    })
}
fn f_cal_weekday(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(o, "{}", cal_date(ctx).weekday().number_from_monday());
}
fn f_cal_year(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(o, "{}", cal_date(ctx).year());
}
fn f_cal_quarter(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(o, "{}", (cal_date(ctx).month() - 1) / 3 + 1);
}
fn f_chan_code(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CHANNELS[ctx.ent as usize - 1].0)
}
fn f_chan_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CHANNELS[ctx.ent as usize - 1].1)
}
fn f_chan_kind(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CHANNELS[ctx.ent as usize - 1].2)
}
fn f_chan_system(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CHANNELS[ctx.ent as usize - 1].3)
}
fn f_code_type(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CODES[ctx.ent as usize - 1].0)
}
fn f_code_value(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CODES[ctx.ent as usize - 1].1)
}
fn f_code_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(CODES[ctx.ent as usize - 1].2)
}
fn f_org_id(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    if ctx.ent == 1 {
        o.push_str("H000")
    } else {
        o.push_str(&branch(ctx.ent as usize - 2).0)
    }
}
fn f_org_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    if ctx.ent == 1 {
        o.push_str("总行")
    } else {
        o.push_str(&branch(ctx.ent as usize - 2).1)
    }
}
fn f_org_parent(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    if ctx.ent == 1 {
        return;
    }
    let i = ctx.ent as usize - 2;
    let main = i - i % super::bank::BRANCHES_PER_CITY;
    if main == i {
        o.push_str("H000")
    } else {
        o.push_str(&branch(main).0)
    }
}
fn f_org_level(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let level = if ctx.ent == 1 {
        1
    } else if (ctx.ent as usize - 2).is_multiple_of(super::bank::BRANCHES_PER_CITY) {
        2
    } else {
        3
    };
    let _ = write!(o, "{level}");
}
fn person(ctx: &Ctx) -> super::bank::Customer {
    ctx.w.customer(1_000_000_000 + ctx.ent)
}
fn f_person_name(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(&person(ctx).name)
}
fn f_person_gender(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(if person(ctx).male { "M" } else { "F" })
}
fn f_emp_branch(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(o, "B{:03}", (ctx.ent - 1) / 10 + 1);
}
fn f_emp_role(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(match (ctx.ent - 1) % 10 {
        0..=7 => "RM",
        8 => "TELLER",
        _ => "MANAGER",
    })
}
fn f_emp_mobile(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(&person(ctx).mobile)
}
fn f_term_branch(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let _ = write!(o, "B{:03}", (ctx.ent - 1) / 6 + 1);
}
fn f_campaign_name(ctx: &Ctx, _: &Col, r: &mut Rng, o: &mut String) {
    const THEMES: &[&str] = &[
        "开门红",
        "春季理财节",
        "信用卡消费返现",
        "代发工资专享",
        "手机银行新客礼",
        "养老金开户季",
    ];
    let _ = write!(o, "{}{}期", r.pick(THEMES), ctx.ent);
}
fn f_company(_: &Ctx, _: &Col, r: &mut Rng, o: &mut String) {
    const PREFIX: &[&str] = &[
        "华信", "恒达", "东方", "金桥", "瑞丰", "远景", "新程", "宏图", "中联", "嘉和",
    ];
    const KIND: &[&str] = &["科技", "贸易", "实业", "物流", "建设", "医药", "餐饮", "教育"];
    let _ = write!(
        o,
        "{}{}{}有限公司",
        r.pick(PREFIX),
        r.pick(KIND),
        r.pick(&["", "发展", "集团"])
    );
}

// ---------------------------------------------------------------------------
// Account master fields
// ---------------------------------------------------------------------------

fn f_acct_no(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        let _ = write!(o, "6217{:015}", a.no);
    }
}
fn f_acct_cust(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        let _ = write!(o, "C{:09}", a.owner);
    }
}
fn f_acct_product(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(ctx.acct.map_or("", |a| a.product))
}
fn f_acct_ccy(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(ctx.acct.map_or("", |a| a.currency))
}
fn f_acct_open(ctx: &Ctx, col: &Col, _: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        put_date(o, col, a.open)
    }
}
fn f_acct_status(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(if ctx.acct.is_some_and(|a| a.closed_on(ctx.d)) {
        "C"
    } else {
        "A"
    })
}
fn f_acct_balance(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        o.push_str(&money(a.balance_cents(ctx.w, ctx.d)))
    }
}
fn f_acct_avail(ctx: &Ctx, _: &Col, r: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        let b = a.balance_cents(ctx.w, ctx.d);
        let frozen = if r.chance(0.02) { b / 2 } else { 0 };
        o.push_str(&money(b - frozen))
    }
}
fn f_acct_last_txn(ctx: &Ctx, col: &Col, _: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        // The last change day: walk back over version steps (bounded).
        let mut d = ctx.d;
        for _ in 0..60 {
            if a.changed_on(d) || d <= a.open {
                put_date(o, col, d);
                return;
            }
            d = add_days(d, -1);
        }
    }
}
fn f_td_term(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(match ctx.acct.map_or("", |a| a.product) {
        "D201" => "3",
        "D202" => "12",
        "D203" => "36",
        _ => "60",
    })
}
fn f_td_maturity(ctx: &Ctx, col: &Col, _: &mut Rng, o: &mut String) {
    if let Some(a) = ctx.acct {
        let months = match a.product {
            "D201" => 3,
            "D202" => 12,
            "D203" => 36,
            _ => 60,
        };
        let m = a.open.checked_add_months(chrono::Months::new(months)).unwrap_or(a.open);
        put_date(o, col, m)
    }
}
fn f_td_rate(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(match ctx.acct.map_or("", |a| a.product) {
        "D201" => "0.011500",
        "D202" => "0.014500",
        "D203" => "0.017500",
        _ => "0.021500",
    })
}
fn f_txn_amount(ctx: &Ctx, _: &Col, r: &mut Rng, o: &mut String) {
    let median = match ctx.acct.map_or("", |a| a.product) {
        "D101" => 600.0,
        "D102" => 300.0,
        _ => 20_000.0,
    };
    o.push_str(&money(
        (r.lognormal(median, 1.3).clamp(0.01, 5.0e7) * 100.0).round() as i64
    ))
}
fn f_counterparty(_: &Ctx, _: &Col, r: &mut Rng, o: &mut String) {
    const PARTIES: &[&str] = &[
        "支付宝",
        "财付通",
        "美团",
        "京东商城",
        "拼多多",
        "国家电网",
        "中国移动",
        "工资",
        "个人贷款还款",
        "信用卡还款",
        "",
    ];
    o.push_str(r.pick::<&str>(PARTIES))
}

// ---------------------------------------------------------------------------
// Loans
// ---------------------------------------------------------------------------

fn loan_terms(ctx: &Ctx) -> (&'static str, i64, i64) {
    let mut r = Rng::new(ctx.h, &[tag("loan_terms")]);
    let product = *r.weighted(&[("L101", 50u32), ("L201", 30), ("L301", 10), ("L401", 10)]);
    let (years, principal) = match product {
        "L101" => (*r.pick(&[20i64, 25, 30]), r.range(40, 300) * 1_000_000),
        "L201" => (*r.pick(&[1i64, 2, 3]), r.range(5, 30) * 1_000_000),
        "L301" => (*r.pick(&[1i64, 3, 5]), r.range(20, 100) * 1_000_000),
        _ => (*r.pick(&[3i64, 5]), r.range(8, 30) * 1_000_000),
    };
    (product, years, principal)
}
fn f_loan_product(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(loan_terms(ctx).0)
}
fn f_loan_principal(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(&money(loan_terms(ctx).2))
}
fn loan_outstanding(ctx: &Ctx) -> i64 {
    let (_, years, principal) = loan_terms(ctx);
    let total = years * 365;
    let elapsed = (ctx.d - ctx.open).num_days().clamp(0, total);
    // Straight-line amortisation, settled at maturity.
    principal * (total - elapsed) / total.max(1)
}
fn f_loan_outstanding(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    o.push_str(&money(loan_outstanding(ctx)))
}
fn f_loan_maturity(ctx: &Ctx, col: &Col, _: &mut Rng, o: &mut String) {
    let years = loan_terms(ctx).1 as u32;
    let m = ctx
        .open
        .checked_add_months(chrono::Months::new(12 * years))
        .unwrap_or(ctx.open);
    put_date(o, col, m)
}
fn f_loan_rate(ctx: &Ctx, _: &Col, r: &mut Rng, o: &mut String) {
    let base = match loan_terms(ctx).0 {
        "L101" => 0.0385,
        "L201" => 0.0450,
        "L301" => 0.0400,
        _ => 0.0420,
    };
    let _ = write!(o, "{:.6}", base + r.below(200) as f64 / 10_000.0);
}
fn f_instalment(ctx: &Ctx, _: &Col, _: &mut Rng, o: &mut String) {
    let (_, years, principal) = loan_terms(ctx);
    o.push_str(&money(principal / (years * 12).max(1)))
}

// ---------------------------------------------------------------------------
// The systems
// ---------------------------------------------------------------------------

/// Every source system, in name order of their TOML files.
pub fn systems() -> Vec<System> {
    let mut all = vec![
        core(),
        dda(),
        tda(),
        loan(),
        card(),
        wealth(),
        ins(),
        banca(),
        pay(),
        payroll(),
        mobile(),
        ebank(),
        atm(),
        teller(),
        callc(),
        crm(),
        mkt(),
        bureau(),
        risk(),
        aml(),
        coll(),
        fx(),
        bill(),
        trade(),
        sec(),
        acq(),
        metal(),
        pension(),
        etc(),
        util(),
        sscard(),
        ecny(),
        loyalty(),
        cmpl(),
        kyc(),
        reference(),
        emp(),
        chan(),
        cal(),
    ];
    all.sort_by_key(|s| s.name);
    all
}

fn core() -> System {
    System {
        name: "core",
        desc: "Core banking system: customer master, deposit accounts and their transactions",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "customer",
                "Customer master, full daily snapshot of every customer opened up to the business date",
                "{biz_date}/core/customer.csv",
                CSV,
                pc("core", 1.0, 1.0, 1),
                vec![
                    c("cust_id", "string", "Core banking customer number (C + 9 digits), the bank-wide customer key", G::CustId).req(),
                    c("cert_type", "string", "Identity document type: 01 = PRC resident identity card", G::Const("01")),
                    c("cert_no", "string", "Identity document number (18-character PRC resident ID number)", G::CertNo)
                        .check("resident_id")
                        .pii(),
                    c("cust_name", "string", "Customer's legal name", G::Name).pii(),
                    c("gender", "string", "Gender: M = male, F = female (source variants 1/2 and 男/女 are mapped)", G::Gender)
                        .map(GENDER)
                        .soft(),
                    c("birth_date", "date", "Date of birth", G::Birth).range("1900-01-01", "2030-12-31"),
                    c("mobile", "string", "Registered mobile phone number (11 digits)", G::Mobile)
                        .check("mobile")
                        .soft()
                        .pii(),
                    c("open_date", "date", "Date the customer relationship was opened", G::CustOpen),
                    c("branch_id", "string", "Home branch, references ref.branch", G::HomeBranch),
                    c(
                        "segment_code",
                        "string",
                        "Segment assigned by the relationship manager: MASS, AFFL (affluent), WLTH (wealth), PRIV (private banking)",
                        G::Segment,
                    ),
                ],
            )
            .pk(&["cust_id"]),
            t(
                "account",
                "Deposit accounts (demand and time), full daily snapshot with end-of-day balances",
                "{biz_date}/core/account.csv",
                CSV,
                Source::Accounts(|_| true),
                vec![
                    c("acct_no", "string", "Deposit account number (19 digits)", G::F(f_acct_no)).req(),
                    c("cust_id", "string", "Account holder, references core.customer", G::F(f_acct_cust)),
                    c(
                        "product_code",
                        "string",
                        "Deposit product, references ref.product (D1xx demand, D2xx time, D301 certificate of deposit)",
                        G::F(f_acct_product),
                    ),
                    c("currency", "string", "Account currency (ISO 4217): CNY, USD, HKD, EUR, JPY, GBP", G::F(f_acct_ccy)),
                    c("open_date", "date", "Account opening date", G::F(f_acct_open)),
                    c("status", "string", "Account status: A = active, C = closed", G::F(f_acct_status)),
                    c("balance", MONEY, "End-of-day ledger balance in account currency", G::F(f_acct_balance)),
                ],
            )
            .pk(&["acct_no"])
            .max_rejects(100_000, "40M rows at the 1M-customer scale: the ~0.07 % of malformed rows is ~28,000"),
            t(
                "transaction",
                "Deposit account transactions, daily increment: the transactions posted on the business date",
                "{biz_date}/core/transaction.csv",
                CSV,
                Source::AccountTxns,
                vec![
                    c("txn_id", "string", "Transaction serial number (T + YYYYMMDD + 8 digits)", G::Serial("T")).req(),
                    c("acct_no", "string", "Deposit account debited or credited, references core.account", G::F(f_acct_no)),
                    c("txn_time", TS, "Transaction timestamp (local time)", G::EventTime),
                    c("txn_date", "date", "Transaction (posting) date", G::BizDate),
                    c("amount", MONEY, "Transaction amount in account currency, always positive", G::F(f_txn_amount)),
                    c(
                        "direction",
                        "string",
                        "D = debit (money out of the account), C = credit (money in)",
                        G::DailyCode(&[("D", 55), ("C", 45)]),
                    ),
                    c(
                        "channel",
                        "string",
                        "Channel: MOB mobile banking, WEB internet banking, ATM, CNT branch counter, POS debit-card point of sale, SYS batch (payroll, loan instalments and disbursements)",
                        G::DailyCode(&[("MOB", 45), ("WEB", 8), ("ATM", 10), ("CNT", 7), ("POS", 15), ("SYS", 15)]),
                    ),
                    c("counterparty", "string", "Counterparty name or purpose as recorded by the core system; empty for cash", G::F(f_counterparty)).pii(),
                ],
            )
            .pk(&["txn_id"]),
            t(
                "cust_contact",
                "Customer contact details from the core customer information file (CIF), GBK, |@|-delimited; corrections re-sent with a later update_ts",
                "{biz_date}/core/CIF_CONTACT_{yyyymmdd}.dat",
                PIPE3,
                pc("core", 1.0, 1.0, 1),
                vec![
                    cust_id(),
                    name("Customer's legal name (Chinese)"),
                    mobile_col(),
                    email(),
                    c("address", "string", "Residential address", G::Address).pii(),
                    c("postcode", "string", "Postal code", G::Int(100000, 850000)).pattern("^[0-9]{6}$").soft(),
                    upd(None),
                ],
            )
            .enc("gbk")
            .pk(&["cust_id"])
            .dedup("update_ts")
            .ctl("{biz_date}/core/CIF_CONTACT_{yyyymmdd}.ctl"),
        ],
    }
}

fn dda() -> System {
    System {
        name: "dda",
        desc: "Demand deposit ledger (mainframe): fixed-width GBK extracts of demand accounts",
        encoding: Some("gbk"),
        control: Some(CTL_SUM_BYTES),
        tables: vec![
            t(
                "dda_acct",
                "Demand deposit accounts, full daily snapshot (mainframe layout, dates yyyyMMdd)",
                "{biz_date}/dda/DDA.ACCT.D{yyyymmdd}.DAT",
                FIXED,
                Source::Accounts(|a| a.product.starts_with("D1")),
                vec![
                    c(
                        "acct_no",
                        "string",
                        "Deposit account number, references core.account",
                        G::F(f_acct_no),
                    )
                    .req()
                    .w(19),
                    c(
                        "cust_id",
                        "string",
                        "Account holder, references core.customer",
                        G::F(f_acct_cust),
                    )
                    .req()
                    .w(10),
                    c("acct_name", "string", "Account name (the holder's name, GBK)", G::Name)
                        .pii()
                        .w(20),
                    c(
                        "currency",
                        "string",
                        "Currency (ISO 4217; numeric 156/840 variants mapped)",
                        G::F(f_acct_ccy),
                    )
                    .map(CCY)
                    .w(3),
                    c("balance", MONEY, "Ledger balance", G::F(f_acct_balance)).w(18),
                    c(
                        "avail_balance",
                        MONEY,
                        "Available balance (ledger less holds)",
                        G::F(f_acct_avail),
                    )
                    .w(18),
                    c("status", "string", "A = active, C = closed", G::F(f_acct_status))
                        .map(&[("A", "A"), ("C", "C")])
                        .w(1),
                    c("open_date", "date", "Opening date", G::F(f_acct_open)).fmt(YMD).w(8),
                    c(
                        "last_txn_date",
                        "date",
                        "Date of the last balance movement",
                        G::F(f_acct_last_txn),
                    )
                    .fmt(YMD)
                    .nulls(NULL_DATES)
                    .w(8),
                ],
            )
            .pk(&["acct_no"])
            .ctl("{biz_date}/dda/DDA.ACCT.D{yyyymmdd}.CTL")
            .sum("balance"),
            t(
                "dda_hold",
                "Holds and freezes on demand accounts (judicial freezes, pre-authorisations), full snapshot",
                "{biz_date}/dda/DDA.HOLD.D{yyyymmdd}.DAT",
                FIXED,
                pc("core", 0.03, 1.0, 2),
                vec![
                    c("hold_id", "string", "Hold number", G::Key("H", 11)).req().w(12),
                    c(
                        "acct_no",
                        "string",
                        "Demand account held, references core.account",
                        G::PrimaryAcct,
                    )
                    .w(19),
                    c(
                        "hold_type",
                        "string",
                        "J = judicial freeze, P = pre-authorisation, S = stop payment",
                        G::Code(&[("J", 10), ("P", 70), ("S", 20)]),
                    )
                    .w(1),
                    c("hold_amount", MONEY, "Amount held", G::Money(5_000.0, 1.2)).w(18),
                    c("start_date", "date", "Hold start", G::EntOpen).fmt(YMD).w(8),
                    c(
                        "end_date",
                        "date",
                        "Hold end; 99991231 = open-ended",
                        G::DateAfterOpen(7, 400),
                    )
                    .fmt(YMD)
                    .nulls(NULL_DATES)
                    .w(8),
                    c(
                        "reason",
                        "string",
                        "Reason text (GBK)",
                        G::Text(&["法院冻结", "预授权", "挂失止付", "风险管控"]),
                    )
                    .w(20),
                ],
            )
            .pk(&["hold_id"])
            .ctl("{biz_date}/dda/DDA.HOLD.D{yyyymmdd}.CTL")
            .sum("hold_amount"),
        ],
    }
}

fn tda() -> System {
    System {
        name: "tda",
        desc: "Time deposit system (mainframe): fixed-width extracts of time deposits and certificates",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "td_acct",
                "Time deposits and certificates of deposit, full daily snapshot",
                "{biz_date}/tda/TDA_ACCT_{yyyymmdd}.txt",
                FIXED,
                Source::Accounts(|a| a.product.starts_with("D2") || a.product == "D301"),
                vec![
                    c(
                        "acct_no",
                        "string",
                        "Deposit account number, references core.account",
                        G::F(f_acct_no),
                    )
                    .req()
                    .w(19),
                    c("cust_id", "string", "Depositor", G::F(f_acct_cust)).req().w(10),
                    c(
                        "product_code",
                        "string",
                        "D201/D202/D203 time deposit, D301 certificate of deposit",
                        G::F(f_acct_product),
                    )
                    .w(4),
                    c("currency", "string", "Currency (ISO 4217)", G::F(f_acct_ccy))
                        .map(CCY)
                        .w(3),
                    c("principal", MONEY, "Principal (the balance)", G::F(f_acct_balance)).w(18),
                    c("rate", "decimal(9,6)", "Annual rate as a fraction", G::F(f_td_rate)).w(9),
                    c("term_months", "int", "Term in months", G::F(f_td_term)).w(3),
                    c("value_date", "date", "Value (start) date", G::F(f_acct_open))
                        .fmt(YMD)
                        .w(8),
                    c("maturity_date", "date", "Maturity date", G::F(f_td_maturity))
                        .fmt(YMD)
                        .w(8),
                    c("auto_renew", "boolean", "Rolls over at maturity (Y/N)", G::Flag(0.6)).w(1),
                    c("status", "string", "A = active, C = closed", G::F(f_acct_status)).w(1),
                ],
            )
            .pk(&["acct_no"])
            .ctl("{biz_date}/tda/TDA_ACCT_{yyyymmdd}.ctl")
            .sum("principal")
            .max_rejects(
                100_000,
                "25M rows at the 1M-customer scale: the ~0.05 % of bad dates is ~12,000",
            ),
            t(
                "td_interest",
                "Interest accrued on time deposits on the business date, daily increment",
                "{biz_date}/tda/TDA_INT_{yyyymmdd}.txt",
                PIPE,
                ev("core", 0.3, 0.2),
                vec![
                    c("accrual_id", "string", "Accrual serial", G::Serial("I")).req(),
                    c("acct_no", "string", "Primary account credited", G::PrimaryAcct),
                    c("accrual_date", "date", "Accrual date", G::BizDate).fmt(YMD),
                    c("interest", MONEY, "Interest accrued", G::Money(3.0, 1.0)),
                ],
            )
            .pk(&["accrual_id"])
            .ctl("{biz_date}/tda/TDA_INT_{yyyymmdd}.ctl")
            .sum("interest"),
        ],
    }
}

fn loan() -> System {
    System {
        name: "loan",
        desc: "Retail lending system: loan contracts, repayment schedules and overdues",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "loan_contract",
                "Loan contracts, full daily snapshot with end-of-day outstanding principal",
                "{biz_date}/loan/loan_contract.csv",
                CSV,
                pc("loan", 0.12, 1.0, 2),
                vec![
                    c("loan_no", "string", "Loan contract number (LN + 10 digits)", G::Key("LN", 10)).req(),
                    c("cust_id", "string", "Borrower, references core.customer", G::CustId),
                    c(
                        "product_code",
                        "string",
                        "Loan product, references ref.product (L101 mortgage, L201 consumer, L301 business, L401 auto)",
                        G::F(f_loan_product),
                    ),
                    c("currency", "string", "Loan currency (ISO 4217)", G::Const("CNY")),
                    c("principal", MONEY, "Contract principal in loan currency", G::F(f_loan_principal)),
                    c("outstanding", MONEY, "End-of-day outstanding principal in loan currency; 0.00 once settled", G::F(f_loan_outstanding)),
                    c("interest_rate", "decimal(9,6)", "Annual interest rate as a fraction (0.039500 = 3.95 %)", G::F(f_loan_rate)),
                    c("start_date", "date", "Disbursement date", G::EntOpen),
                    c("maturity_date", "date", "Contractual maturity date", G::F(f_loan_maturity)),
                    c(
                        "five_class",
                        "string",
                        "Five-grade loan risk classification: 1 normal, 2 special mention, 3 substandard, 4 doubtful, 5 loss",
                        G::Code(&[("1", 920), ("2", 50), ("3", 18), ("4", 9), ("5", 3)]),
                    )
                    .map(&[("1", "1"), ("2", "2"), ("3", "3"), ("4", "4"), ("5", "5")]),
                ],
            )
            .pk(&["loan_no"]),
            t(
                "repay_plan",
                "Instalments falling due in the next 30 days, full snapshot, |-delimited without header",
                "{biz_date}/loan/REPAY_PLAN_{yyyymmdd}.del",
                PIPE,
                pc("loan", 0.12, 1.0, 2),
                vec![
                    c("loan_no", "string", "Loan contract, references loan.loan_contract", G::Key("LN", 10)).req(),
                    c("due_date", "date", "Next due date", G::DaysBefore(-30, -1)),
                    c("instalment", MONEY, "Instalment amount (principal part)", G::F(f_instalment)),
                    c("debit_acct", "string", "Repayment account, references core.account", G::PrimaryAcct),
                ],
            )
            .pk(&["loan_no"])
            .ctl("{biz_date}/loan/REPAY_PLAN_{yyyymmdd}.ctl")
            .sum("instalment"),
            t(
                "overdue",
                "Loans in arrears, full snapshot",
                "{biz_date}/loan/OVERDUE_{yyyymmdd}.del",
                PIPE,
                pc("loan", 0.12, 0.04, 1),
                vec![
                    c("loan_no", "string", "Loan contract", G::Key("LN", 10)).req(),
                    c("overdue_days", "int", "Days past due", G::Int(1, 400)).range("1", "9999"),
                    c("overdue_principal", MONEY, "Principal past due", G::Money(3_000.0, 1.0)),
                    c("overdue_interest", MONEY, "Interest past due", G::Money(150.0, 1.0)),
                    c("since_date", "date", "First missed due date", G::DaysBefore(1, 400)),
                ],
            )
            .pk(&["loan_no"])
            .ctl("{biz_date}/loan/OVERDUE_{yyyymmdd}.ctl")
            .sum("overdue_principal"),
        ],
    }
}

fn card() -> System {
    System {
        name: "card",
        desc: "Credit card system: card accounts, card transactions and statements",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "card_account",
                "Credit card accounts, full daily snapshot with end-of-day outstanding balances",
                "{biz_date}/card/card_account.csv",
                CSV,
                pc("card", 0.35, 1.0, 2),
                vec![
                    c("card_no", "string", "Card number (16 digits, Luhn checked)", G::CardNo)
                        .req()
                        .pii(),
                    c("cust_id", "string", "Cardholder, references core.customer", G::CustId),
                    c(
                        "product_code",
                        "string",
                        "Card product, references ref.product (C101 standard, C102 gold, C103 platinum)",
                        G::Code(&[("C101", 55), ("C102", 35), ("C103", 10)]),
                    ),
                    c(
                        "credit_limit",
                        MONEY,
                        "Credit limit in CNY",
                        G::F(|_, _, r, o| o.push_str(&money(r.range(10, 200) * 500_000))),
                    ),
                    c(
                        "balance",
                        MONEY,
                        "End-of-day outstanding balance owed by the cardholder, CNY",
                        G::Balance(4_000.0, 1.1),
                    ),
                    c(
                        "status",
                        "string",
                        "Card status: N = normal, F = frozen, C = cancelled",
                        G::Code(&[("N", 94), ("F", 2), ("C", 4)]),
                    )
                    .map(&[("N", "N"), ("0", "N"), ("F", "F"), ("C", "C")]),
                    c("open_date", "date", "Card account opening date", G::EntOpen),
                ],
            )
            .pk(&["card_no"]),
            t(
                "card_txn",
                "Credit card purchases, daily increment: the transactions of the business date",
                "{biz_date}/card/card_txn.csv",
                CSV,
                ev("card", 0.35, 0.6),
                vec![
                    c(
                        "txn_id",
                        "string",
                        "Card transaction serial number (K + YYYYMMDD + 8 digits)",
                        G::Serial("K"),
                    )
                    .req(),
                    c(
                        "card_no",
                        "string",
                        "Card used, references card.card_account",
                        G::CardOf,
                    )
                    .pii(),
                    c("txn_time", TS, "Authorisation timestamp (local time)", G::EventTime),
                    c("txn_date", "date", "Transaction date", G::BizDate),
                    c(
                        "amount",
                        MONEY,
                        "Purchase amount in CNY, always positive",
                        G::Money(180.0, 1.2),
                    ),
                    c(
                        "merchant_category",
                        "string",
                        "Merchant category code (ISO 18245 MCC), e.g. 5411 grocery, 5812 restaurants",
                        G::DailyCode(&[
                            ("5411", 25),
                            ("5812", 20),
                            ("5541", 10),
                            ("5311", 8),
                            ("5999", 12),
                            ("4511", 3),
                            ("7011", 4),
                            ("5732", 5),
                            ("5912", 6),
                            ("4121", 7),
                        ]),
                    ),
                    c(
                        "channel",
                        "string",
                        "Channel: POS card present, ONL online / card not present, QRC QR-code payment",
                        G::DailyCode(&[("POS", 50), ("ONL", 30), ("QRC", 20)]),
                    ),
                ],
            )
            .pk(&["txn_id"]),
            t(
                "card_stmt",
                "Monthly statements issued on the business date (statement day = card's billing day)",
                "{biz_date}/card/CARD_STMT_{yyyymmdd}.dat",
                PIPE,
                ev("card", 0.35, 1.0 / 30.0),
                vec![
                    c("stmt_id", "string", "Statement serial", G::Serial("S")).req(),
                    c("card_no", "string", "Card, references card.card_account", G::CardOf).pii(),
                    c("stmt_date", "date", "Statement date", G::BizDate).fmt(YMD),
                    c("due_date", "date", "Payment due date", G::DaysBefore(-25, -20)).fmt(YMD),
                    c(
                        "stmt_balance",
                        MONEY,
                        "New balance on the statement",
                        G::Money(3_500.0, 1.1),
                    ),
                    c("min_payment", MONEY, "Minimum payment due", G::Money(350.0, 1.1)),
                ],
            )
            .pk(&["stmt_id"])
            .ctl("{biz_date}/card/CARD_STMT_{yyyymmdd}.ctl")
            .sum("stmt_balance"),
        ],
    }
}

fn wealth() -> System {
    System {
        name: "wealth",
        desc: "Wealth management and fund sales platform: accounts, holdings and orders",
        encoding: None,
        control: Some(CTL_SUM_BYTES),
        tables: vec![
            t(
                "wm_account",
                "Wealth management accounts with the customer's risk assessment, full snapshot",
                "{biz_date}/wealth/wm_account_{yyyymmdd}.dat",
                HIVE,
                pc("wealth", 0.18, 1.0, 1),
                vec![
                    c("wm_acct", "string", "Wealth account number", G::Key("WM", 10)).req(),
                    cust_id(),
                    cert_no(),
                    c(
                        "risk_level",
                        "string",
                        "Risk tolerance from the questionnaire: R1 (cautious) … R5 (aggressive)",
                        G::Code(&[("R1", 15), ("R2", 35), ("R3", 30), ("R4", 15), ("R5", 5)]),
                    )
                    .map(&[
                        ("R1", "R1"),
                        ("R2", "R2"),
                        ("R3", "R3"),
                        ("R4", "R4"),
                        ("R5", "R5"),
                        ("1", "R1"),
                        ("2", "R2"),
                        ("3", "R3"),
                        ("4", "R4"),
                        ("5", "R5"),
                    ]),
                    c(
                        "assess_date",
                        "date",
                        "Date of the last risk assessment",
                        G::DateAfterOpen(0, 700),
                    ),
                    c("open_date", "date", "Account opening date", G::EntOpen),
                    upd(None),
                ],
            )
            .pk(&["wm_acct"])
            .dedup("update_ts")
            .ctl("{biz_date}/wealth/wm_account_{yyyymmdd}.ctl"),
            t(
                "wm_holding",
                "Holdings of wealth products and funds at market value, full daily snapshot",
                "{biz_date}/wealth/wm_holding_{yyyymmdd}.dat",
                HIVE,
                pc("wealth", 0.18, 1.0, 4),
                vec![
                    c("holding_id", "string", "Holding line", G::Key("WH", 10)).req(),
                    c(
                        "wm_acct",
                        "string",
                        "Wealth account, references wealth.wm_account",
                        G::F(|ctx, _, _, o| {
                            let _ = write!(o, "WM{:010}", ctx.ent / 10 * 10);
                        }),
                    ),
                    cust_id(),
                    c(
                        "product_code",
                        "string",
                        "Product, references ref.product (W/F codes)",
                        G::Code(&[
                            ("W101", 25),
                            ("W102", 20),
                            ("W201", 10),
                            ("F101", 25),
                            ("F201", 12),
                            ("F301", 8),
                        ]),
                    ),
                    c("units", "decimal(18,4)", "Units held", G::Dec(1000.0, 200_000.0, 4)),
                    c("market_value", MONEY, "Market value in CNY", G::Balance(80_000.0, 1.0))
                        .range("0", "999999999999"),
                    c("nav_date", "date", "NAV date of the valuation", G::BizDate),
                ],
            )
            .pk(&["holding_id"])
            .ctl("{biz_date}/wealth/wm_holding_{yyyymmdd}.ctl")
            .sum("market_value"),
            t(
                "wm_order",
                "Subscriptions and redemptions of the business date",
                "{biz_date}/wealth/wm_order_{yyyymmdd}.dat",
                HIVE,
                ev("wealth", 0.18, 0.05),
                vec![
                    c("order_id", "string", "Order serial", G::Serial("WO")).req(),
                    cust_id(),
                    c(
                        "product_code",
                        "string",
                        "Product",
                        G::DailyCode(&[
                            ("W101", 25),
                            ("W102", 20),
                            ("W201", 10),
                            ("F101", 25),
                            ("F201", 12),
                            ("F301", 8),
                        ]),
                    ),
                    c(
                        "side",
                        "string",
                        "S = subscribe, R = redeem",
                        G::DailyCode(&[("S", 60), ("R", 40)]),
                    )
                    .map(&[("S", "S"), ("申购", "S"), ("R", "R"), ("赎回", "R")]),
                    c("amount", MONEY, "Order amount in CNY", G::Money(30_000.0, 1.0)),
                    c("order_time", TS, "Order time", G::EventTime),
                    c(
                        "channel",
                        "string",
                        "Channel code, references chan.channel",
                        G::DailyCode(&[("MOB", 70), ("WEB", 10), ("CNT", 20)]),
                    ),
                ],
            )
            .pk(&["order_id"])
            .ctl("{biz_date}/wealth/wm_order_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn ins() -> System {
    System {
        name: "ins",
        desc: "Insurance agency system (insurers' policy feed, GB18030): policies sold as agent, keyed by certificate number",
        encoding: Some("gb18030"),
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "policy",
                "Insurance policies where the bank is the agent, full snapshot; the feed carries no customer number",
                "{biz_date}/ins/POLICY_{yyyymmdd}.txt",
                PIPE,
                pc("ins", 0.08, 1.0, 2),
                vec![
                    c("policy_no", "string", "Insurer's policy number", G::Key("P", 12)).req(),
                    c(
                        "holder_cert_no",
                        "string",
                        "Policy holder's resident ID number",
                        G::CertNo,
                    )
                    .req()
                    .check("resident_id")
                    .pii(),
                    c("holder_name", "string", "Policy holder's name", G::Name).pii(),
                    c(
                        "holder_gender",
                        "string",
                        "Gender (1/2, 男/女 mapped to M/F)",
                        G::Gender,
                    )
                    .map(GENDER)
                    .soft(),
                    c(
                        "insurer",
                        "string",
                        "Insurance company",
                        G::Text(&["中国人寿", "平安人寿", "太平洋人寿", "泰康人寿", "新华保险"]),
                    ),
                    c(
                        "product_code",
                        "string",
                        "Insurance product, references ref.product (I codes)",
                        G::Code(&[("I101", 30), ("I201", 45), ("I301", 25)]),
                    ),
                    c("annual_premium", MONEY, "Annual premium", G::Money(8_000.0, 0.8)),
                    c("sum_insured", MONEY, "Sum insured", G::Money(300_000.0, 0.8)),
                    c("effective_date", "date", "Effective date", G::EntOpen).fmt(YMD),
                    c(
                        "status",
                        "string",
                        "1 in force, 2 lapsed, 3 surrendered",
                        G::Code(&[("1", 90), ("2", 6), ("3", 4)]),
                    )
                    .map(&[("1", "1"), ("2", "2"), ("3", "3")]),
                ],
            )
            .pk(&["policy_no"])
            .ctl("{biz_date}/ins/POLICY_{yyyymmdd}.flg"),
            t(
                "premium",
                "Premiums collected on the business date",
                "{biz_date}/ins/PREMIUM_{yyyymmdd}.txt",
                PIPE,
                ev("ins", 0.08, 0.01),
                vec![
                    c("receipt_no", "string", "Receipt", G::Serial("R")).req(),
                    c(
                        "holder_cert_no",
                        "string",
                        "Policy holder's resident ID number",
                        G::CertNo,
                    )
                    .req()
                    .check("resident_id")
                    .pii(),
                    c("amount", MONEY, "Premium collected", G::Money(8_000.0, 0.8)),
                    c("pay_date", "date", "Collection date", G::BizDate).fmt(YMD),
                ],
            )
            .pk(&["receipt_no"])
            .ctl("{biz_date}/ins/PREMIUM_{yyyymmdd}.flg"),
        ],
    }
}

fn banca() -> System {
    System {
        name: "banca",
        desc: "Bancassurance platform: policies sold at the counter and their commission",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "banca_policy",
                "Bancassurance policies, full snapshot",
                "{biz_date}/banca/banca_policy_{yyyymmdd}.csv",
                CSV,
                pc("banca", 0.06, 1.0, 1),
                vec![
                    c("policy_no", "string", "Policy number", G::Key("BP", 10)).req(),
                    cust_id(),
                    c(
                        "product_code",
                        "string",
                        "Insurance product",
                        G::Code(&[("I101", 40), ("I301", 60)]),
                    ),
                    c("premium", MONEY, "Single or annual premium", G::Money(50_000.0, 0.9)),
                    c(
                        "pay_term_years",
                        "int",
                        "Premium payment term",
                        G::Code(&[("1", 30), ("5", 30), ("10", 40)]),
                    ),
                    c("sale_date", "date", "Sale date", G::EntOpen),
                    c(
                        "seller_id",
                        "string",
                        "Selling employee, references emp.employee",
                        G::RmId,
                    ),
                ],
            )
            .pk(&["policy_no"])
            .ctl("{biz_date}/banca/banca_policy_{yyyymmdd}.ctl")
            .sum("premium"),
            t(
                "commission",
                "Commission accrued on the business date",
                "{biz_date}/banca/commission_{yyyymmdd}.csv",
                CSV,
                ev("banca", 0.06, 0.02),
                vec![
                    c("comm_id", "string", "Commission line", G::Serial("BC")).req(),
                    c(
                        "policy_no",
                        "string",
                        "Policy",
                        G::F(|ctx, _, _, o| {
                            let _ = write!(o, "BP{:010}", ctx.cust.map_or(0, |c| c.no * 10));
                        }),
                    ),
                    c("amount", MONEY, "Commission", G::Money(800.0, 0.8)),
                    c("accrual_date", "date", "Accrual date", G::BizDate),
                ],
            )
            .pk(&["comm_id"])
            .ctl("{biz_date}/banca/commission_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn pay() -> System {
    System {
        name: "pay",
        desc: "Payments and transfers hub: interbank (CNAPS/IBPS) and intrabank transfers",
        encoding: None,
        control: Some(CTL_SUM_BYTES),
        tables: vec![
            t(
                "transfer",
                "Outgoing and incoming transfers of the business date",
                "{biz_date}/pay/TRANSFER_{yyyymmdd}.dat",
                PIPE3,
                ev("pay", 0.6, 0.4),
                vec![
                    c("pay_id", "string", "Payment serial", G::Serial("PY")).req(),
                    cust_id(),
                    c("debit_acct", "string", "Account debited", G::PrimaryAcct),
                    c("payee_name", "string", "Payee name", G::F(f_company)).pii(),
                    c(
                        "payee_bank",
                        "string",
                        "Payee bank",
                        G::DailyCode(&[
                            ("本行", 40),
                            ("中国工商银行", 15),
                            ("中国建设银行", 15),
                            ("中国农业银行", 10),
                            ("招商银行", 10),
                            ("中国银行", 10),
                        ]),
                    ),
                    c("amount", MONEY, "Amount in CNY", G::Money(2_000.0, 1.4)),
                    c(
                        "pay_type",
                        "string",
                        "IBPS, CNAPS (HVPS), INTRA",
                        G::DailyCode(&[("IBPS", 55), ("CNAPS", 10), ("INTRA", 35)]),
                    )
                    .map(&[
                        ("IBPS", "IBPS"),
                        ("CNAPS", "CNAPS"),
                        ("HVPS", "CNAPS"),
                        ("INTRA", "INTRA"),
                    ]),
                    c("pay_time", TS, "Time of the instruction", G::EventTime).fmt(YMDHMS),
                    c(
                        "status",
                        "string",
                        "S succeeded, F failed, P pending",
                        G::DailyCode(&[("S", 97), ("F", 2), ("P", 1)]),
                    ),
                    upd(Some(YMDHMS)),
                ],
            )
            .pk(&["pay_id"])
            .dedup("update_ts")
            .ctl("{biz_date}/pay/TRANSFER_{yyyymmdd}.ok")
            .sum("amount"),
            t(
                "payee",
                "Saved payees of customers, full snapshot",
                "{biz_date}/pay/PAYEE_{yyyymmdd}.dat",
                PIPE3,
                pc("pay", 0.6, 0.5, 3),
                vec![
                    c("payee_id", "string", "Saved payee", G::Key("PE", 10)).req(),
                    cust_id(),
                    c("payee_name", "string", "Payee name", G::F(f_company)).pii(),
                    c(
                        "payee_acct",
                        "string",
                        "Payee account",
                        G::Int(6_200_000_000_000_000, 6_299_999_999_999_999),
                    )
                    .pii(),
                    c("added_date", "date", "Added on", G::EntOpen),
                ],
            )
            .pk(&["payee_id"])
            .ctl("{biz_date}/pay/PAYEE_{yyyymmdd}.ok"),
        ],
    }
}

fn payroll() -> System {
    System {
        name: "payroll",
        desc: "Payroll agency (代发工资): employers served and salary credits",
        encoding: Some("gbk"),
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "employer",
                "Employers with a payroll agreement, full snapshot",
                "{biz_date}/payroll/EMPLOYER_{yyyymmdd}.txt",
                PIPE,
                Source::Ref(n_employers),
                vec![
                    c("employer_id", "string", "Employer number", G::Key("EM", 6)).req(),
                    c("employer_name", "string", "Employer name (GBK)", G::F(f_company)),
                    c("branch_id", "string", "Servicing branch", G::RefOf("B", 3, n_branches)).pattern(BRANCH_RE),
                    c("pay_day", "int", "Day of month salaries are paid", G::Int(1, 28)).range("1", "31"),
                ],
            )
            .pk(&["employer_id"])
            .ctl("{biz_date}/payroll/EMPLOYER_{yyyymmdd}.ctl"),
            t(
                "salary",
                "Salary credits of the business date",
                "{biz_date}/payroll/SALARY_{yyyymmdd}.txt",
                PIPE,
                ev("payroll", 0.25, 1.0 / 30.0),
                vec![
                    c("credit_id", "string", "Credit serial", G::Serial("SA")).req(),
                    c(
                        "employer_id",
                        "string",
                        "Employer",
                        G::F(|ctx, _, _, o| {
                            let n = n_employers(ctx.w);
                            let _ = write!(o, "EM{:06}", 1 + ctx.cust.map_or(0, |c| c.no) % n);
                        }),
                    ),
                    cust_id(),
                    c("acct_no", "string", "Account credited", G::PrimaryAcct),
                    c("amount", MONEY, "Net salary", G::Money(9_000.0, 0.6)),
                    c("pay_date", "date", "Credit date", G::BizDate).fmt(YMD),
                ],
            )
            .pk(&["credit_id"])
            .ctl("{biz_date}/payroll/SALARY_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn mobile() -> System {
    System {
        name: "mobile",
        desc: "Mobile banking platform: login events and registered users",
        encoding: None,
        control: None,
        tables: vec![
            t(
                "login_event",
                "Mobile banking login attempts, daily increment: the attempts of the business date",
                "{biz_date}/mobile/login_event.parquet",
                PARQUET,
                ev("mobile", 0.7, 0.8),
                vec![
                    c(
                        "cust_id",
                        "string",
                        "Customer who logged in, references core.customer",
                        G::CustId,
                    ),
                    c(
                        "login_time",
                        TS,
                        "Login attempt timestamp (local time, microseconds)",
                        G::EventTime,
                    ),
                    c(
                        "device_os",
                        "string",
                        "Operating system of the device: iOS, Android, HarmonyOS",
                        G::Code(&[("iOS", 40), ("Android", 45), ("HarmonyOS", 15)]),
                    ),
                    c(
                        "success",
                        "boolean",
                        "Whether the login succeeded",
                        G::DailyCode(&[("true", 95), ("false", 5)]),
                    ),
                ],
            )
            .pk(&["cust_id", "login_time"]),
            t(
                "mb_user",
                "Registered mobile banking users, full snapshot (Parquet)",
                "{biz_date}/mobile/mb_user.parquet",
                PARQUET,
                pc("mobile", 0.7, 1.0, 1),
                vec![
                    c("user_id", "string", "Mobile banking user id", G::Key("MU", 10)).req(),
                    cust_id(),
                    c("register_date", "date", "Registration date", G::EntOpen),
                    c(
                        "device_os",
                        "string",
                        "Last device OS",
                        G::Code(&[("iOS", 40), ("Android", 45), ("HarmonyOS", 15)]),
                    ),
                    c("biometric", "boolean", "Biometric login enabled", G::Flag(0.6)),
                ],
            )
            .pk(&["user_id"]),
        ],
    }
}

fn ebank() -> System {
    System {
        name: "ebank",
        desc: "Internet banking (personal web banking): users and sessions",
        encoding: None,
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "eb_user",
                "Internet banking users, full snapshot",
                "{biz_date}/ebank/eb_user_{yyyymmdd}.csv",
                CSV,
                pc("ebank", 0.3, 1.0, 1),
                vec![
                    c("user_id", "string", "Web banking login id", G::Key("EB", 10)).req(),
                    cust_id(),
                    c(
                        "cert_type",
                        "string",
                        "Certificate type, references the code table",
                        G::Const("01"),
                    ),
                    c("usb_key", "boolean", "Has a USB key (U盾)", G::Flag(0.3)),
                    c("register_date", "date", "Registration date", G::EntOpen),
                    c(
                        "status",
                        "string",
                        "N normal, L locked, C cancelled",
                        G::Code(&[("N", 95), ("L", 3), ("C", 2)]),
                    )
                    .map(&[("N", "N"), ("L", "L"), ("C", "C"), ("0", "N")]),
                ],
            )
            .pk(&["user_id"])
            .ctl("{biz_date}/ebank/eb_user_{yyyymmdd}.ctl"),
            t(
                "eb_session",
                "Web banking sessions of the business date",
                "{biz_date}/ebank/eb_session_{yyyymmdd}.csv",
                CSV,
                ev("ebank", 0.3, 0.15),
                vec![
                    c("session_id", "string", "Session", G::Serial("ES")).req(),
                    cust_id(),
                    c("login_time", TS, "Login", G::EventTime),
                    c(
                        "ip_addr",
                        "string",
                        "Client IP address",
                        G::F(|_, _, r, o| {
                            let _ = write!(
                                o,
                                "{}.{}.{}.{}",
                                r.range(1, 223),
                                r.below(256),
                                r.below(256),
                                r.range(1, 254)
                            );
                        }),
                    )
                    .pii(),
                    c(
                        "browser",
                        "string",
                        "Browser",
                        G::DailyCode(&[("Chrome", 60), ("Edge", 25), ("Safari", 10), ("Firefox", 5)]),
                    ),
                ],
            )
            .pk(&["session_id"])
            .ctl("{biz_date}/ebank/eb_session_{yyyymmdd}.ctl"),
        ],
    }
}

fn atm() -> System {
    System {
        name: "atm",
        desc: "ATM and debit-card POS switch: terminals and card transactions (mainframe layouts)",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "terminal",
                "Self-service terminals, full snapshot",
                "{biz_date}/atm/TERMINAL_{yyyymmdd}.dat",
                FIXED,
                Source::Ref(n_terminals),
                vec![
                    c("terminal_id", "string", "Terminal id", G::Key("T", 7)).req().w(8),
                    c(
                        "branch_id",
                        "string",
                        "Branch the terminal belongs to",
                        G::F(f_term_branch),
                    )
                    .pattern(BRANCH_RE)
                    .w(4),
                    c(
                        "terminal_type",
                        "string",
                        "ATM, CRS (cash recycler), VTM (video teller)",
                        G::Code(&[("ATM", 50), ("CRS", 35), ("VTM", 15)]),
                    )
                    .w(3),
                    c("install_date", "date", "Installation date", G::DaysBefore(100, 3000))
                        .fmt(YMD)
                        .w(8),
                ],
            )
            .pk(&["terminal_id"])
            .ctl("{biz_date}/atm/TERMINAL_{yyyymmdd}.ctl")
            .quiet(),
            t(
                "atm_txn",
                "ATM withdrawals, deposits and enquiries of the business date",
                "{biz_date}/atm/ATMTXN_{yyyymmdd}.dat",
                FIXED,
                ev("core", 0.5, 0.08),
                vec![
                    c("txn_id", "string", "Switch serial", G::Serial("A")).req().w(17),
                    c(
                        "terminal_id",
                        "string",
                        "Terminal, references atm.terminal",
                        G::RefOf("T", 7, n_terminals),
                    )
                    .w(8),
                    c(
                        "acct_no",
                        "string",
                        "Card account (the customer's primary account)",
                        G::PrimaryAcct,
                    )
                    .w(19),
                    c(
                        "txn_type",
                        "string",
                        "W withdrawal, D deposit, Q enquiry, T transfer",
                        G::DailyCode(&[("W", 55), ("D", 20), ("Q", 15), ("T", 10)]),
                    )
                    .map(&[("W", "W"), ("D", "D"), ("Q", "Q"), ("T", "T")])
                    .w(1),
                    c("amount", MONEY, "Amount (0.00 for enquiries)", G::Money(800.0, 0.8)).w(15),
                    c("txn_time", TS, "Switch time", G::EventTime).fmt(YMDHMS).w(14),
                    c(
                        "resp_code",
                        "string",
                        "ISO 8583 response code",
                        G::DailyCode(&[("00", 96), ("51", 2), ("55", 1), ("91", 1)]),
                    )
                    .w(2),
                ],
            )
            .pk(&["txn_id"])
            .ctl("{biz_date}/atm/ATMTXN_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn teller() -> System {
    System {
        name: "teller",
        desc: "Counter (teller) system: over-the-counter transactions, GBK, Hive-style \\x01-delimited",
        encoding: Some("gbk"),
        control: Some(CTL_NAME_ROWS),
        tables: vec![
            t(
                "teller_txn",
                "Counter transactions of the business date",
                "{biz_date}/teller/teller_txn_{yyyymmdd}.dat",
                HIVE,
                ev("core", 1.0, 0.03),
                vec![
                    c("txn_id", "string", "Counter serial", G::Serial("CT")).req(),
                    c("branch_id", "string", "Branch", G::HomeBranch).pattern(BRANCH_RE),
                    c(
                        "teller_id",
                        "string",
                        "Teller, references emp.employee",
                        G::F(|ctx, _, _, o| {
                            let _ = write!(o, "E{:05}", ctx.cust.map_or(0, |c| c.branch as u64) * 10 + 9);
                        }),
                    ),
                    cust_id(),
                    name("Customer name as keyed by the teller"),
                    c(
                        "biz_type",
                        "string",
                        "Business type (Chinese)",
                        G::DailyCode(&[
                            ("存款", 30),
                            ("取款", 30),
                            ("转账", 20),
                            ("挂失", 5),
                            ("开户", 10),
                            ("销户", 5),
                        ]),
                    ),
                    c("amount", MONEY, "Amount", G::Money(5_000.0, 1.2)),
                    c("txn_time", TS, "Time", G::EventTime),
                ],
            )
            .pk(&["txn_id"])
            .ctl("{biz_date}/teller/teller_txn_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn callc() -> System {
    System {
        name: "callc",
        desc: "Call centre: inbound and outbound calls (Parquet export of the contact-centre platform)",
        encoding: None,
        control: None,
        tables: vec![
            t(
                "call_record",
                "Calls of the business date",
                "{biz_date}/callc/call_record.parquet",
                PARQUET,
                ev("callc", 0.3, 0.02),
                vec![
                    c("call_id", "string", "Call id", G::Serial("CL")).req(),
                    cust_id(),
                    c("caller_no", "string", "Calling number", G::Mobile).pii(),
                    c(
                        "direction",
                        "string",
                        "IN inbound, OUT outbound",
                        G::DailyCode(&[("IN", 80), ("OUT", 20)]),
                    ),
                    c("start_time", TS, "Call start", G::EventTime),
                    c("duration_sec", "int", "Talk time in seconds", G::Int(10, 1800)),
                    c(
                        "category",
                        "string",
                        "Call reason",
                        G::DailyCode(&[
                            ("ENQUIRY", 50),
                            ("CARD", 20),
                            ("LOSS", 5),
                            ("COMPLAINT", 5),
                            ("SALES", 20),
                        ]),
                    ),
                    c("satisfaction", "int", "Post-call survey 1-5", G::Int(1, 5)),
                ],
            )
            .pk(&["call_id"]),
        ],
    }
}

fn crm() -> System {
    System {
        name: "crm",
        desc: "CRM: customer profiles and relationship-manager visits, CSV exports with quoted fields",
        encoding: None,
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "crm_customer",
                "CRM customer profile, full snapshot; addresses contain commas and are quoted",
                "{biz_date}/crm/crm_customer_{yyyymmdd}.csv",
                CSVQ,
                pc("core", 1.0, 1.0, 1),
                vec![
                    cust_id(),
                    cert_no(),
                    name("Customer name"),
                    c("gender", "string", "Gender (M/F; 1/2 and 男/女 mapped)", G::Gender)
                        .map(GENDER)
                        .soft(),
                    c("birth_date", "date", "Date of birth", G::Birth).range("1900-01-01", "2030-12-31"),
                    mobile_col(),
                    email(),
                    c(
                        "address",
                        "string",
                        "Address as keyed in CRM: street, building and room",
                        G::AddressComma,
                    )
                    .pii(),
                    c(
                        "rm_id",
                        "string",
                        "Relationship manager, references emp.employee",
                        G::RmId,
                    ),
                    c(
                        "vip_level",
                        "string",
                        "VIP level 0-5",
                        G::Code(&[("0", 70), ("1", 15), ("2", 8), ("3", 4), ("4", 2), ("5", 1)]),
                    ),
                    upd(None),
                ],
            )
            .pk(&["cust_id"])
            .dedup("update_ts")
            .ctl("{biz_date}/crm/crm_customer_{yyyymmdd}.ctl"),
            t(
                "rm_visit",
                "Relationship manager contacts of the business date, with free-text notes",
                "{biz_date}/crm/rm_visit_{yyyymmdd}.csv",
                CSVQ,
                ev("core", 0.2, 0.02),
                vec![
                    c("visit_id", "string", "Contact id", G::Serial("V")).req(),
                    cust_id(),
                    c("rm_id", "string", "Relationship manager", G::RmId),
                    c("visit_time", TS, "Contact time", G::EventTime),
                    c(
                        "method",
                        "string",
                        "PHONE, VISIT, WECHAT",
                        G::DailyCode(&[("PHONE", 50), ("VISIT", 20), ("WECHAT", 30)]),
                    ),
                    c(
                        "note",
                        "string",
                        "Free-text note (may contain commas and quotes)",
                        G::Text(&[
                            "客户关注理财收益, 建议配置稳健型产品",
                            "回访满意, 无其他需求",
                            "客户提到\"房贷提前还款\", 需跟进",
                            "推荐信用卡分期, 客户考虑中",
                            "更新联系方式",
                        ]),
                    ),
                ],
            )
            .pk(&["visit_id"])
            .ctl("{biz_date}/crm/rm_visit_{yyyymmdd}.ctl"),
        ],
    }
}

fn mkt() -> System {
    System {
        name: "mkt",
        desc: "Marketing campaign management: campaigns, target lists and responses",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "campaign",
                "Campaigns, full snapshot",
                "{biz_date}/mkt/campaign.csv",
                CSV,
                Source::Ref(n_campaigns),
                vec![
                    c("campaign_id", "string", "Campaign", G::Key("CP", 4)).req(),
                    c("campaign_name", "string", "Name", G::F(f_campaign_name)),
                    c(
                        "channel",
                        "string",
                        "Main channel",
                        G::Code(&[("SMS", 40), ("MOB", 40), ("TEL", 20)]),
                    ),
                    c("start_date", "date", "Start", G::DaysBefore(10, 200)),
                    c("budget", MONEY, "Budget", G::Money(200_000.0, 0.7)),
                ],
            )
            .pk(&["campaign_id"])
            .ctl("{biz_date}/mkt/campaign.ctl")
            .sum("budget")
            .quiet(),
            t(
                "target",
                "Customers targeted by campaigns, full snapshot",
                "{biz_date}/mkt/target_{yyyymmdd}.csv",
                CSV,
                pc("mkt", 0.3, 1.0, 3),
                vec![
                    c("target_id", "string", "Target line", G::Key("TG", 10)).req(),
                    c("campaign_id", "string", "Campaign", G::RefOf("CP", 4, n_campaigns)),
                    cust_id(),
                    c("score", "decimal(5,4)", "Propensity score", G::Dec(0.0, 1.0, 4)).range("0", "1"),
                    c("list_date", "date", "Date the customer was listed", G::EntOpen),
                ],
            )
            .pk(&["target_id"])
            .ctl("{biz_date}/mkt/target_{yyyymmdd}.ctl"),
            t(
                "response",
                "Campaign responses of the business date",
                "{biz_date}/mkt/response_{yyyymmdd}.csv",
                CSV,
                ev("mkt", 0.3, 0.02),
                vec![
                    c("response_id", "string", "Response", G::Serial("RS")).req(),
                    c("campaign_id", "string", "Campaign", G::RefOf("CP", 4, n_campaigns)),
                    cust_id(),
                    c(
                        "response",
                        "string",
                        "CLICK, ACCEPT, DECLINE, OPTOUT",
                        G::DailyCode(&[("CLICK", 50), ("ACCEPT", 15), ("DECLINE", 30), ("OPTOUT", 5)]),
                    ),
                    c("response_time", TS, "When", G::EventTime),
                ],
            )
            .pk(&["response_id"])
            .ctl("{biz_date}/mkt/response_{yyyymmdd}.ctl"),
        ],
    }
}

fn bureau() -> System {
    System {
        name: "bureau",
        desc: "Credit bureau (PBOC credit reference centre) results, keyed by certificate number",
        encoding: Some("gbk"),
        control: Some(CTL_SUM_BYTES),
        tables: vec![
            t(
                "credit_report",
                "Latest credit report summary per person, full snapshot",
                "{biz_date}/bureau/CREDIT_RPT_{yyyymmdd}.dat",
                PIPE3,
                pc("bureau", 0.4, 1.0, 1),
                vec![
                    c("report_no", "string", "Report number", G::Key("R", 12)).req(),
                    cert_no(),
                    c("person_name", "string", "Name on the report", G::Name).pii(),
                    c("report_date", "date", "Report date", G::DateAfterOpen(0, 900)).fmt(YMD),
                    c("loan_count", "int", "Open loans at all banks", G::Int(0, 8)),
                    c("card_count", "int", "Open credit cards at all banks", G::Int(0, 12)),
                    c(
                        "total_debt",
                        MONEY,
                        "Outstanding debt at all banks",
                        G::Money(120_000.0, 1.2),
                    ),
                    c(
                        "overdue_months_24",
                        "int",
                        "Months with an overdue in the last 24",
                        G::Code(&[("0", 90), ("1", 6), ("2", 2), ("3", 2)]),
                    ),
                    c("query_count_6m", "int", "Hard enquiries in 6 months", G::Int(0, 10)),
                ],
            )
            .pk(&["report_no"])
            .ctl("{biz_date}/bureau/CREDIT_RPT_{yyyymmdd}.ctl")
            .sum("total_debt"),
            t(
                "query_log",
                "Bureau enquiries made on the business date",
                "{biz_date}/bureau/QUERY_LOG_{yyyymmdd}.dat",
                PIPE3,
                ev("bureau", 0.4, 0.005),
                vec![
                    c("query_id", "string", "Enquiry", G::Serial("Q")).req(),
                    cert_no(),
                    c(
                        "reason",
                        "string",
                        "01 loan approval, 02 card approval, 03 post-loan management",
                        G::DailyCode(&[("01", 40), ("02", 40), ("03", 20)]),
                    ),
                    c("query_time", TS, "When", G::EventTime),
                    c("operator_id", "string", "Employee who ran the enquiry", G::RmId),
                ],
            )
            .pk(&["query_id"])
            .ctl("{biz_date}/bureau/QUERY_LOG_{yyyymmdd}.ctl"),
        ],
    }
}

fn risk() -> System {
    System {
        name: "risk",
        desc: "Risk rating system: internal ratings and credit limits",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "rating",
                "Customer internal ratings, full snapshot",
                "{biz_date}/risk/rating_{yyyymmdd}.txt",
                TAB,
                pc("core", 1.0, 0.6, 1),
                vec![
                    cust_id(),
                    c("model_id", "string", "Rating model", G::RefOf("RM", 2, n_rating_models)),
                    c(
                        "grade",
                        "string",
                        "Grade AAA … C",
                        G::Code(&[
                            ("AAA", 5),
                            ("AA", 15),
                            ("A", 30),
                            ("BBB", 25),
                            ("BB", 15),
                            ("B", 7),
                            ("C", 3),
                        ]),
                    ),
                    c(
                        "pd",
                        "decimal(7,6)",
                        "Probability of default, 1 year",
                        G::Dec(0.0005, 0.2, 6),
                    )
                    .range("0", "1"),
                    c("rating_date", "date", "Rating date", G::DateAfterOpen(0, 365)),
                ],
            )
            .pk(&["cust_id"])
            .ctl("{biz_date}/risk/rating_{yyyymmdd}.ctl"),
            t(
                "credit_limit",
                "Approved credit limits per customer, full snapshot",
                "{biz_date}/risk/credit_limit_{yyyymmdd}.txt",
                TAB,
                pc("loan", 0.12, 1.0, 1),
                vec![
                    c("limit_id", "string", "Limit", G::Key("LM", 10)).req(),
                    cust_id(),
                    c("limit_amount", MONEY, "Approved limit", G::Money(300_000.0, 1.0)),
                    c("used_amount", MONEY, "Used", G::Balance(100_000.0, 1.0)),
                    c("expiry_date", "date", "Expiry", G::DateAfterOpen(365, 1825)),
                ],
            )
            .pk(&["limit_id"])
            .ctl("{biz_date}/risk/credit_limit_{yyyymmdd}.ctl")
            .sum("limit_amount"),
            t(
                "rating_model",
                "Rating models, reference",
                "{biz_date}/risk/rating_model.txt",
                TAB,
                Source::Ref(n_rating_models),
                vec![
                    c("model_id", "string", "Model", G::Key("RM", 2)).req(),
                    c(
                        "model_name",
                        "string",
                        "Name",
                        G::Text(&[
                            "零售申请评分卡",
                            "零售行为评分卡",
                            "小微企业主评分卡",
                            "信用卡行为评分卡",
                        ]),
                    ),
                    c("version", "string", "Version", G::Text(&["v1.0", "v2.1", "v3.0"])),
                ],
            )
            .pk(&["model_id"])
            .quiet(),
        ],
    }
}

fn aml() -> System {
    System {
        name: "aml",
        desc: "Anti-money-laundering system: customer risk levels and alerts",
        encoding: None,
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "aml_risk",
                "AML customer risk classification, full snapshot",
                "{biz_date}/aml/AML_RISK_{yyyymmdd}.del",
                PIPE,
                pc("core", 1.0, 1.0, 1),
                vec![
                    cust_id(),
                    c(
                        "risk_level",
                        "string",
                        "L low, M medium, H high",
                        G::Code(&[("L", 90), ("M", 9), ("H", 1)]),
                    )
                    .map(&[
                        ("L", "L"),
                        ("低", "L"),
                        ("M", "M"),
                        ("中", "M"),
                        ("H", "H"),
                        ("高", "H"),
                    ]),
                    c("pep", "boolean", "Politically exposed person", G::Flag(0.001)),
                    c("review_date", "date", "Last review", G::DateAfterOpen(0, 700)).fmt(YMD),
                    upd(Some(YMDHMS)),
                ],
            )
            .pk(&["cust_id"])
            .dedup("update_ts")
            .ctl("{biz_date}/aml/AML_RISK_{yyyymmdd}.ctl"),
            t(
                "aml_alert",
                "Alerts raised on the business date",
                "{biz_date}/aml/AML_ALERT_{yyyymmdd}.del",
                PIPE,
                ev("core", 0.05, 0.01),
                vec![
                    c("alert_id", "string", "Alert", G::Serial("AL")).req(),
                    cust_id(),
                    c(
                        "rule_code",
                        "string",
                        "Scenario",
                        G::DailyCode(&[
                            ("LARGE_CASH", 40),
                            ("RAPID_MOVE", 25),
                            ("STRUCTURING", 20),
                            ("DORMANT_ACTIVE", 15),
                        ]),
                    ),
                    c(
                        "amount",
                        MONEY,
                        "Amount that triggered the alert",
                        G::Money(60_000.0, 1.0),
                    ),
                    c("alert_date", "date", "Alert date", G::BizDate).fmt(YMD),
                ],
            )
            .pk(&["alert_id"])
            .ctl("{biz_date}/aml/AML_ALERT_{yyyymmdd}.ctl"),
        ],
    }
}

fn coll() -> System {
    System {
        name: "coll",
        desc: "Collateral management: pledged assets and their links to loans",
        encoding: Some("gbk"),
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "collateral",
                "Collateral items, full snapshot",
                "{biz_date}/coll/COLLATERAL_{yyyymmdd}.dat",
                PIPE3,
                pc("loan", 0.12, 0.6, 1),
                vec![
                    c("coll_id", "string", "Collateral", G::Key("CO", 10)).req(),
                    cust_id(),
                    c(
                        "coll_type",
                        "string",
                        "Type (Chinese): 住房, 商铺, 车辆, 存单",
                        G::Code(&[("住房", 70), ("商铺", 10), ("车辆", 15), ("存单", 5)]),
                    ),
                    c("location", "string", "Address of the property", G::Address).pii(),
                    c("appraised_value", MONEY, "Latest appraisal", G::Money(1_500_000.0, 0.7)),
                    c("appraisal_date", "date", "Appraisal date", G::EntOpen),
                ],
            )
            .pk(&["coll_id"])
            .ctl("{biz_date}/coll/COLLATERAL_{yyyymmdd}.ctl")
            .sum("appraised_value"),
            t(
                "coll_link",
                "Collateral pledged to loan contracts",
                "{biz_date}/coll/COLL_LINK_{yyyymmdd}.dat",
                PIPE3,
                pc("loan", 0.12, 0.6, 1),
                vec![
                    c("coll_id", "string", "Collateral", G::Key("CO", 10)).req(),
                    c("loan_no", "string", "Loan, references loan.loan_contract", G::LoanOf).req(),
                    c(
                        "pledge_ratio",
                        "decimal(5,4)",
                        "Loan-to-value at pledge",
                        G::Dec(0.3, 0.8, 4),
                    )
                    .range("0", "1"),
                ],
            )
            .pk(&["coll_id", "loan_no"])
            .ctl("{biz_date}/coll/COLL_LINK_{yyyymmdd}.ctl"),
        ],
    }
}

fn fx() -> System {
    System {
        name: "fx",
        desc: "Foreign exchange: customer FX purchases and settlements, and board rates",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "fx_deal",
                "Customer FX deals of the business date",
                "{biz_date}/fx/fx_deal_{yyyymmdd}.csv",
                CSV,
                ev("fx", 0.05, 0.03),
                vec![
                    c("deal_id", "string", "Deal", G::Serial("FX")).req(),
                    cust_id(),
                    cert_no(),
                    c(
                        "currency",
                        "string",
                        "Foreign currency",
                        G::DailyCode(&[("USD", 60), ("HKD", 15), ("EUR", 10), ("JPY", 10), ("GBP", 5)]),
                    )
                    .map(CCY),
                    c(
                        "side",
                        "string",
                        "B customer buys FX, S customer sells FX",
                        G::DailyCode(&[("B", 55), ("S", 45)]),
                    ),
                    c("fx_amount", MONEY, "Amount in foreign currency", G::Money(3_000.0, 1.0)),
                    c("deal_time", TS, "Deal time", G::EventTime),
                    c(
                        "purpose",
                        "string",
                        "Purpose code: 01 travel, 02 study abroad, 03 medical, 04 other",
                        G::DailyCode(&[("01", 50), ("02", 30), ("03", 5), ("04", 15)]),
                    ),
                ],
            )
            .pk(&["deal_id"])
            .ctl("{biz_date}/fx/fx_deal_{yyyymmdd}.ctl")
            .sum("fx_amount"),
            t(
                "board_rate",
                "Board rates per 100 units of currency, one row per currency",
                "{biz_date}/fx/board_rate_{yyyymmdd}.csv",
                CSV,
                Source::Ref(n_currencies),
                vec![
                    c("currency", "string", "Currency", G::F(f_ccy)).req(),
                    c("buy_rate", "decimal(12,4)", "Bank buys, CNY per 100", G::F(f_rate_buy)),
                    c(
                        "sell_rate",
                        "decimal(12,4)",
                        "Bank sells, CNY per 100",
                        G::F(f_rate_sell),
                    ),
                    c("rate_date", "date", "Rate date", G::BizDate),
                ],
            )
            .pk(&["currency"])
            .quiet(),
        ],
    }
}

fn bill() -> System {
    System {
        name: "bill",
        desc: "Bills system: bank acceptance bills and discounts of small-business owners",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "bill",
                "Bills held or discounted, full snapshot",
                "{biz_date}/bill/BILL_{yyyymmdd}.txt",
                PIPE,
                pc("bill", 0.01, 1.0, 2),
                vec![
                    c("bill_no", "string", "Bill number", G::Key("BL", 10)).req(),
                    cust_id(),
                    c(
                        "bill_type",
                        "string",
                        "AC acceptance, DS discount",
                        G::Code(&[("AC", 60), ("DS", 40)]),
                    ),
                    c("face_amount", MONEY, "Face amount", G::Money(200_000.0, 0.8)),
                    c("issue_date", "date", "Issue date", G::EntOpen).fmt(YMD),
                    c("due_date", "date", "Due date", G::DateAfterOpen(90, 365)).fmt(YMD),
                ],
            )
            .pk(&["bill_no"])
            .ctl("{biz_date}/bill/BILL_{yyyymmdd}.ctl")
            .sum("face_amount"),
        ],
    }
}

fn trade() -> System {
    System {
        name: "trade",
        desc: "Trade finance: letters of credit and guarantees of business customers",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "lc",
                "Letters of credit, full snapshot",
                "{biz_date}/trade/LC_{yyyymmdd}.dat",
                HIVE,
                pc("trade", 0.005, 1.0, 2),
                vec![
                    c("lc_no", "string", "LC number", G::Key("LC", 10)).req(),
                    cust_id(),
                    c(
                        "currency",
                        "string",
                        "Currency",
                        G::Code(&[("USD", 70), ("EUR", 20), ("CNY", 10)]),
                    )
                    .map(CCY),
                    c("lc_amount", MONEY, "Amount", G::Money(500_000.0, 0.8)),
                    c("issue_date", "date", "Issue", G::EntOpen),
                    c("expiry_date", "date", "Expiry", G::DateAfterOpen(60, 360)),
                ],
            )
            .pk(&["lc_no"])
            .ctl("{biz_date}/trade/LC_{yyyymmdd}.ctl")
            .sum("lc_amount"),
            t(
                "guarantee",
                "Letters of guarantee, full snapshot",
                "{biz_date}/trade/LG_{yyyymmdd}.dat",
                HIVE,
                pc("trade", 0.005, 1.0, 1),
                vec![
                    c("lg_no", "string", "Guarantee number", G::Key("LG", 10)).req(),
                    cust_id(),
                    c(
                        "lg_type",
                        "string",
                        "BID, PERF, ADV",
                        G::Code(&[("BID", 30), ("PERF", 50), ("ADV", 20)]),
                    ),
                    c("lg_amount", MONEY, "Amount", G::Money(300_000.0, 0.8)),
                    c("expiry_date", "date", "Expiry", G::DateAfterOpen(60, 720)),
                ],
            )
            .pk(&["lg_no"])
            .ctl("{biz_date}/trade/LG_{yyyymmdd}.ctl")
            .sum("lg_amount"),
        ],
    }
}

fn sec() -> System {
    System {
        name: "sec",
        desc: "Securities custody (third-party depository, 银证转账): brokerage links and transfers",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "sec_link",
                "Customer links to securities brokers, full snapshot",
                "{biz_date}/sec/SEC_LINK_{yyyymmdd}.txt",
                PIPE,
                pc("sec", 0.15, 1.0, 2),
                vec![
                    c("link_id", "string", "Link", G::Key("SL", 10)).req(),
                    cust_id(),
                    cert_no(),
                    c(
                        "broker",
                        "string",
                        "Broker",
                        G::Code(&[
                            ("中信证券", 25),
                            ("华泰证券", 25),
                            ("国泰君安", 20),
                            ("招商证券", 15),
                            ("东方财富", 15),
                        ]),
                    ),
                    c(
                        "fund_acct",
                        "string",
                        "Broker fund account",
                        G::Int(100_000_000, 999_999_999),
                    ),
                    c("link_date", "date", "Link date", G::EntOpen),
                ],
            )
            .pk(&["link_id"])
            .ctl("{biz_date}/sec/SEC_LINK_{yyyymmdd}.ctl"),
            t(
                "sec_transfer",
                "Bank-securities transfers of the business date",
                "{biz_date}/sec/SEC_TRF_{yyyymmdd}.txt",
                PIPE,
                ev("sec", 0.15, 0.06),
                vec![
                    c("trf_id", "string", "Transfer", G::Serial("ST")).req(),
                    cust_id(),
                    c(
                        "direction",
                        "string",
                        "B2S bank to broker, S2B broker to bank",
                        G::DailyCode(&[("B2S", 55), ("S2B", 45)]),
                    ),
                    c("amount", MONEY, "Amount", G::Money(20_000.0, 1.1)),
                    c("trf_time", TS, "Time", G::EventTime),
                ],
            )
            .pk(&["trf_id"])
            .ctl("{biz_date}/sec/SEC_TRF_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn acq() -> System {
    System {
        name: "acq",
        desc: "Merchant acquiring: merchants signed by the bank and their settled transactions",
        encoding: Some("gbk"),
        control: Some(CTL_SUM_BYTES),
        tables: vec![
            t(
                "merchant",
                "Merchants, full snapshot",
                "{biz_date}/acq/MERCHANT_{yyyymmdd}.dat",
                FIXED,
                Source::Ref(n_merchants),
                vec![
                    c("merchant_id", "string", "Merchant id", G::Key("M", 8)).req().w(9),
                    c("merchant_name", "string", "Merchant name (GBK)", G::F(f_company)).w(40),
                    c(
                        "mcc",
                        "string",
                        "Merchant category code",
                        G::Code(&[("5411", 25), ("5812", 30), ("5541", 10), ("5999", 35)]),
                    )
                    .pattern("^[0-9]{4}$")
                    .w(4),
                    c("branch_id", "string", "Signing branch", G::RefOf("B", 3, n_branches)).w(4),
                    c(
                        "owner_cust_id",
                        "string",
                        "Owner, when a personal customer of the bank",
                        G::F(|ctx, _, r, o| {
                            let _ = write!(o, "C{:09}", 1 + r.below(ctx.w.customers_on(ctx.d)));
                        }),
                    )
                    .w(10),
                    c("sign_date", "date", "Signed", G::DaysBefore(30, 3000)).fmt(YMD).w(8),
                ],
            )
            .pk(&["merchant_id"])
            .ctl("{biz_date}/acq/MERCHANT_{yyyymmdd}.ctl")
            .quiet(),
            t(
                "acq_txn",
                "Settled acquiring transactions of the business date (cards of any bank)",
                "{biz_date}/acq/ACQ_TXN_{yyyymmdd}.dat",
                FIXED,
                ev("core", 1.0, 0.1),
                vec![
                    c("txn_id", "string", "Serial", G::Serial("AQ")).req().w(18),
                    c("merchant_id", "string", "Merchant", G::RefOf("M", 8, n_merchants)).w(9),
                    c(
                        "card_bin",
                        "string",
                        "Card BIN",
                        G::DailyCode(&[
                            ("625906", 30),
                            ("622202", 20),
                            ("621700", 20),
                            ("436742", 15),
                            ("622848", 15),
                        ]),
                    )
                    .w(6),
                    c("amount", MONEY, "Amount", G::Money(120.0, 1.1)).w(15),
                    c("fee", MONEY, "Merchant discount fee", G::Money(0.8, 1.0)).w(12),
                    c("settle_date", "date", "Settlement date", G::BizDate).fmt(YMD).w(8),
                ],
            )
            .pk(&["txn_id"])
            .ctl("{biz_date}/acq/ACQ_TXN_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn metal() -> System {
    System {
        name: "metal",
        desc: "Precious metals: gold accumulation accounts and trades",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "metal_acct",
                "Gold and silver accounts with grams held, full snapshot",
                "{biz_date}/metal/metal_acct_{yyyymmdd}.csv",
                CSV,
                pc("metal", 0.04, 1.0, 1),
                vec![
                    c("metal_acct", "string", "Account", G::Key("AU", 10)).req(),
                    cust_id(),
                    c(
                        "product_code",
                        "string",
                        "M101 gold accumulation, M201 silver",
                        G::Code(&[("M101", 85), ("M201", 15)]),
                    ),
                    c("grams", "decimal(14,4)", "Grams held", G::Dec(1.0, 2000.0, 4)),
                    c(
                        "market_value",
                        MONEY,
                        "Value in CNY at the day's price",
                        G::Balance(60_000.0, 1.0),
                    ),
                    c("open_date", "date", "Opened", G::EntOpen),
                ],
            )
            .pk(&["metal_acct"])
            .ctl("{biz_date}/metal/metal_acct_{yyyymmdd}.ctl")
            .sum("market_value"),
            t(
                "metal_trade",
                "Trades of the business date",
                "{biz_date}/metal/metal_trade_{yyyymmdd}.csv",
                CSV,
                ev("metal", 0.04, 0.05),
                vec![
                    c("trade_id", "string", "Trade", G::Serial("MT")).req(),
                    cust_id(),
                    c("side", "string", "B buy, S sell", G::DailyCode(&[("B", 60), ("S", 40)])),
                    c("grams", "decimal(14,4)", "Grams", G::Dec(1.0, 200.0, 4)),
                    c("amount", MONEY, "Amount in CNY", G::Money(8_000.0, 1.0)),
                    c("trade_time", TS, "Time", G::EventTime),
                ],
            )
            .pk(&["trade_id"])
            .ctl("{biz_date}/metal/metal_trade_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn pension() -> System {
    System {
        name: "pension",
        desc: "Personal pension (个人养老金) accounts, keyed by certificate number",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "pension_acct",
                "Personal pension fund accounts, full snapshot",
                "{biz_date}/pension/PENSION_ACCT_{yyyymmdd}.txt",
                PIPE,
                pc("pension", 0.1, 1.0, 1),
                vec![
                    c("pension_acct", "string", "Pension fund account", G::Key("PA", 10)).req(),
                    cert_no(),
                    c("person_name", "string", "Name", G::Name).pii(),
                    c("balance", MONEY, "Balance", G::Balance(9_000.0, 0.8)),
                    c(
                        "ytd_contribution",
                        MONEY,
                        "Contributions this year (cap 12,000)",
                        G::Money(6_000.0, 0.5),
                    ),
                    c(
                        "open_date",
                        "date",
                        "Opened (the scheme started 2022-11-25)",
                        G::EntOpenSince(2022, 11, 25),
                    )
                    .fmt(YMD)
                    .range("2022-11-25", "2099-12-31"),
                ],
            )
            .pk(&["pension_acct"])
            .ctl("{biz_date}/pension/PENSION_ACCT_{yyyymmdd}.ctl")
            .sum("balance"),
            t(
                "contribution",
                "Contributions of the business date",
                "{biz_date}/pension/CONTRIB_{yyyymmdd}.txt",
                PIPE,
                ev("pension", 0.1, 0.01),
                vec![
                    c("contrib_id", "string", "Serial", G::Serial("PC")).req(),
                    cert_no(),
                    c("amount", MONEY, "Amount", G::Money(1_000.0, 0.7)),
                    c("contrib_date", "date", "Date", G::BizDate).fmt(YMD),
                ],
            )
            .pk(&["contrib_id"])
            .ctl("{biz_date}/pension/CONTRIB_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn etc() -> System {
    System {
        name: "etc",
        desc: "ETC highway toll: ETC cards issued by the bank and toll passages",
        encoding: None,
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "etc_card",
                "ETC cards and their vehicles, full snapshot",
                "{biz_date}/etc/etc_card_{yyyymmdd}.csv",
                CSV,
                pc("etc", 0.2, 1.0, 1),
                vec![
                    c("etc_card_no", "string", "ETC card", G::Key("ETC", 12)).req(),
                    cust_id(),
                    c(
                        "plate_no",
                        "string",
                        "Licence plate",
                        G::F(|_, _, r, o| {
                            const P: &[&str] = &["京", "沪", "粤", "浙", "苏", "川", "渝", "鄂", "湘", "陕"];
                            let _ = write!(
                                o,
                                "{}{}{:05}",
                                r.pick(P),
                                (b'A' + r.below(20) as u8) as char,
                                r.below(100_000)
                            );
                        }),
                    )
                    .pii(),
                    c("debit_card_no", "string", "Card debited for tolls", G::PrimaryAcct),
                    c("issue_date", "date", "Issued", G::EntOpen),
                ],
            )
            .pk(&["etc_card_no"])
            .ctl("{biz_date}/etc/etc_card_{yyyymmdd}.ctl"),
            t(
                "etc_pass",
                "Toll passages charged on the business date",
                "{biz_date}/etc/etc_pass_{yyyymmdd}.csv",
                CSV,
                ev("etc", 0.2, 0.3),
                vec![
                    c("pass_id", "string", "Passage", G::Serial("EP")).req(),
                    c(
                        "etc_card_no",
                        "string",
                        "ETC card",
                        G::F(|ctx, _, _, o| {
                            let _ = write!(o, "ETC{:012}", ctx.cust.map_or(0, |c| c.no * 10));
                        }),
                    ),
                    c("toll", MONEY, "Toll", G::Money(35.0, 0.8)),
                    c("exit_time", TS, "Exit time", G::EventTime),
                ],
            )
            .pk(&["pass_id"])
            .ctl("{biz_date}/etc/etc_pass_{yyyymmdd}.ctl"),
        ],
    }
}

fn util() -> System {
    System {
        name: "util",
        desc: "Utilities payment: water, power, gas and telecom bills paid through the bank",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "util_contract",
                "Standing payment agreements, full snapshot",
                "{biz_date}/util/util_contract_{yyyymmdd}.txt",
                PIPE,
                pc("util", 0.4, 1.0, 3),
                vec![
                    c("contract_id", "string", "Agreement", G::Key("UC", 10)).req(),
                    cust_id(),
                    c(
                        "biller",
                        "string",
                        "Biller",
                        G::Code(&[("国家电网", 40), ("自来水公司", 20), ("燃气公司", 20), ("中国移动", 20)]),
                    ),
                    c(
                        "biller_ref",
                        "string",
                        "Customer reference at the biller",
                        G::Int(10_000_000, 99_999_999),
                    ),
                    c("sign_date", "date", "Signed", G::EntOpen),
                ],
            )
            .pk(&["contract_id"])
            .ctl("{biz_date}/util/util_contract_{yyyymmdd}.ctl"),
            t(
                "util_payment",
                "Bills paid on the business date",
                "{biz_date}/util/util_payment_{yyyymmdd}.txt",
                PIPE,
                ev("util", 0.4, 0.05),
                vec![
                    c("payment_id", "string", "Payment", G::Serial("UP")).req(),
                    cust_id(),
                    c(
                        "biller",
                        "string",
                        "Biller",
                        G::DailyCode(&[("国家电网", 40), ("自来水公司", 20), ("燃气公司", 20), ("中国移动", 20)]),
                    ),
                    c("amount", MONEY, "Amount", G::Money(150.0, 0.8)),
                    c("pay_date", "date", "Date", G::BizDate),
                ],
            )
            .pk(&["payment_id"])
            .ctl("{biz_date}/util/util_payment_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn sscard() -> System {
    System {
        name: "sscard",
        desc: "Social security card (社保卡) issuance, from the human-resources bureau feed (GBK), keyed by certificate number",
        encoding: Some("gbk"),
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "sscard",
                "Social security cards with financial function issued by the bank, full snapshot",
                "{biz_date}/sscard/SSCARD_{yyyymmdd}.txt",
                PIPE3,
                pc("sscard", 0.5, 1.0, 1),
                vec![
                    c("sscard_no", "string", "Social security card number", G::Key("SS", 10)).req(),
                    cert_no(),
                    c("person_name", "string", "Name (GBK)", G::Name).pii(),
                    c(
                        "gender",
                        "string",
                        "Gender (GB/T 2261: 1 male, 2 female; mapped to M/F)",
                        G::Gender,
                    )
                    .map(GENDER)
                    .soft(),
                    c("birth_date", "date", "Date of birth", G::Birth)
                        .fmt(YMD)
                        .range("1900-01-01", "2030-12-31"),
                    c("bank_acct", "string", "Financial account on the card", G::PrimaryAcct),
                    c(
                        "city",
                        "string",
                        "Issuing city",
                        G::F(|ctx, _, _, o| {
                            o.push_str(
                                super::bank::CITIES[ctx.cust.map_or(0, |c| c.branch) / super::bank::BRANCHES_PER_CITY]
                                    .name,
                            )
                        }),
                    ),
                    c(
                        "status",
                        "string",
                        "1 active, 2 lost, 3 cancelled",
                        G::Code(&[("1", 95), ("2", 3), ("3", 2)]),
                    )
                    .map(&[
                        ("1", "1"),
                        ("2", "2"),
                        ("3", "3"),
                        ("正常", "1"),
                        ("挂失", "2"),
                        ("注销", "3"),
                    ]),
                    c("issue_date", "date", "Issue date", G::EntOpen).fmt(YMD),
                ],
            )
            .pk(&["sscard_no"])
            .ctl("{biz_date}/sscard/SSCARD_{yyyymmdd}.flg"),
        ],
    }
}

fn ecny() -> System {
    System {
        name: "ecny",
        desc: "e-CNY (digital RMB) wallets operated by the bank",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "wallet",
                "e-CNY wallets, full snapshot",
                "{biz_date}/ecny/wallet_{yyyymmdd}.csv",
                CSV,
                pc("ecny", 0.15, 1.0, 1),
                vec![
                    c("wallet_id", "string", "Wallet id", G::Key("0022", 12)).req(),
                    cust_id(),
                    mobile_col(),
                    c(
                        "wallet_level",
                        "int",
                        "Wallet class 1-4 (4 = anonymous, lowest limits)",
                        G::Code(&[("1", 10), ("2", 30), ("3", 20), ("4", 40)]),
                    )
                    .range("1", "4"),
                    c("balance", MONEY, "Wallet balance", G::Balance(300.0, 1.0)),
                    c("open_date", "date", "Opened", G::EntOpen),
                ],
            )
            .pk(&["wallet_id"])
            .ctl("{biz_date}/ecny/wallet_{yyyymmdd}.ctl")
            .sum("balance"),
            t(
                "wallet_txn",
                "Wallet payments of the business date",
                "{biz_date}/ecny/wallet_txn_{yyyymmdd}.csv",
                CSV,
                ev("ecny", 0.15, 0.2),
                vec![
                    c("txn_id", "string", "Serial", G::Serial("EC")).req(),
                    c(
                        "wallet_id",
                        "string",
                        "Wallet",
                        G::F(|ctx, _, _, o| {
                            let _ = write!(o, "0022{:012}", ctx.cust.map_or(0, |c| c.no * 10));
                        }),
                    ),
                    c("amount", MONEY, "Amount", G::Money(45.0, 1.0)),
                    c(
                        "txn_type",
                        "string",
                        "PAY, TOPUP, REFUND",
                        G::DailyCode(&[("PAY", 80), ("TOPUP", 15), ("REFUND", 5)]),
                    ),
                    c("txn_time", TS, "Time", G::EventTime),
                ],
            )
            .pk(&["txn_id"])
            .ctl("{biz_date}/ecny/wallet_txn_{yyyymmdd}.ctl")
            .sum("amount"),
        ],
    }
}

fn loyalty() -> System {
    System {
        name: "loyalty",
        desc: "Loyalty points: point balances and point movements",
        encoding: None,
        control: Some(CTL_SUM),
        tables: vec![
            t(
                "points_acct",
                "Point balances, full snapshot",
                "{biz_date}/loyalty/points_acct_{yyyymmdd}.dat",
                HIVE,
                pc("loyalty", 0.6, 1.0, 1),
                vec![
                    cust_id(),
                    c("points", "bigint", "Point balance", G::Int(0, 200_000)),
                    c(
                        "tier",
                        "string",
                        "Tier",
                        G::Code(&[("SILVER", 70), ("GOLD", 25), ("DIAMOND", 5)]),
                    ),
                    c(
                        "expiring_points",
                        "bigint",
                        "Points expiring at year end",
                        G::Int(0, 5000),
                    ),
                    upd(None),
                ],
            )
            .pk(&["cust_id"])
            .dedup("update_ts")
            .ctl("{biz_date}/loyalty/points_acct_{yyyymmdd}.ctl"),
            t(
                "points_txn",
                "Point movements of the business date",
                "{biz_date}/loyalty/points_txn_{yyyymmdd}.dat",
                HIVE,
                ev("loyalty", 0.6, 0.1),
                vec![
                    c("pt_txn_id", "string", "Serial", G::Serial("LP")).req(),
                    cust_id(),
                    c(
                        "points",
                        "bigint",
                        "Points earned (positive) or redeemed (negative)",
                        G::Int(-2000, 3000),
                    ),
                    c(
                        "reason",
                        "string",
                        "EARN_CARD, EARN_DEPOSIT, REDEEM_GIFT, EXPIRE",
                        G::DailyCode(&[
                            ("EARN_CARD", 50),
                            ("EARN_DEPOSIT", 20),
                            ("REDEEM_GIFT", 25),
                            ("EXPIRE", 5),
                        ]),
                    ),
                    c("txn_date", "date", "Date", G::BizDate),
                ],
            )
            .pk(&["pt_txn_id"])
            .ctl("{biz_date}/loyalty/points_txn_{yyyymmdd}.ctl"),
        ],
    }
}

fn cmpl() -> System {
    System {
        name: "cmpl",
        desc: "Complaints management: customer complaints with free-text descriptions",
        encoding: None,
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "complaint",
                "Complaints registered on the business date, CSV with quoted free text",
                "{biz_date}/cmpl/complaint_{yyyymmdd}.csv",
                CSVQ,
                ev("core", 0.02, 0.01),
                vec![
                    c("complaint_id", "string", "Complaint", G::Serial("CP")).req(),
                    cust_id(),
                    mobile_col(),
                    c(
                        "category",
                        "string",
                        "FEE, SERVICE, CARD, LOAN, WEALTH, FRAUD",
                        G::DailyCode(&[
                            ("FEE", 25),
                            ("SERVICE", 30),
                            ("CARD", 20),
                            ("LOAN", 10),
                            ("WEALTH", 10),
                            ("FRAUD", 5),
                        ]),
                    ),
                    c(
                        "description",
                        "string",
                        "Complaint text as recorded",
                        G::Text(&[
                            "年费未提前告知, 要求退还",
                            "柜台排队时间过长, 服务态度差",
                            "手机银行转账失败, 资金未到账",
                            "理财产品亏损, 认为销售时未充分提示风险",
                            "收到\"贷款催收\"电话, 本人无贷款",
                        ]),
                    ),
                    c("received_time", TS, "Received", G::EventTime),
                    c(
                        "severity",
                        "string",
                        "1 low … 3 high",
                        G::DailyCode(&[("1", 70), ("2", 25), ("3", 5)]),
                    )
                    .map(&[
                        ("1", "1"),
                        ("2", "2"),
                        ("3", "3"),
                        ("低", "1"),
                        ("中", "2"),
                        ("高", "3"),
                    ]),
                ],
            )
            .pk(&["complaint_id"])
            .ctl("{biz_date}/cmpl/complaint_{yyyymmdd}.ctl"),
        ],
    }
}

fn kyc() -> System {
    System {
        name: "kyc",
        desc: "KYC document repository: identity documents on file and their expiry",
        encoding: None,
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "kyc_doc",
                "Identity documents on file, full snapshot",
                "{biz_date}/kyc/kyc_doc_{yyyymmdd}.txt",
                PIPE,
                pc("core", 1.0, 1.0, 2),
                vec![
                    c("doc_id", "string", "Document", G::Key("KD", 10)).req(),
                    cust_id(),
                    c(
                        "doc_type",
                        "string",
                        "01 resident ID, 02 passport, 03 HK/Macau permit",
                        G::Code(&[("01", 85), ("02", 10), ("03", 5)]),
                    )
                    .map(&[
                        ("01", "01"),
                        ("1", "01"),
                        ("02", "02"),
                        ("2", "02"),
                        ("03", "03"),
                        ("3", "03"),
                    ]),
                    c(
                        "doc_no",
                        "string",
                        "Document number (resident ID for type 01)",
                        G::CertNo,
                    )
                    .pii(),
                    c("issue_date", "date", "Issued", G::EntOpen).fmt(YMD),
                    c(
                        "expiry_date",
                        "date",
                        "Expiry; 99991231 = long-term",
                        G::DateAfterOpen(1825, 7300),
                    )
                    .fmt(YMD)
                    .nulls(NULL_DATES),
                    c(
                        "verified",
                        "boolean",
                        "Verified against the MPS online check (Y/N)",
                        G::Flag(0.97),
                    ),
                    c(
                        "verified_flag_src",
                        "string",
                        "Verification flag as the source spells it",
                        G::Code(&[("Y", 97), ("N", 3)]),
                    )
                    .map(YN),
                ],
            )
            .pk(&["doc_id"])
            .ctl("{biz_date}/kyc/kyc_doc_{yyyymmdd}.ctl"),
        ],
    }
}

fn reference() -> System {
    System {
        name: "ref",
        desc: "Reference data: branches and organisation, product catalogue, exchange rates and code values",
        encoding: None,
        control: None,
        tables: vec![
            t(
                "branch",
                "Branch directory, full daily snapshot",
                "{biz_date}/ref/branch.csv",
                CSV,
                Source::Ref(n_branches),
                vec![
                    c("branch_id", "string", "Branch code (B + 3 digits)", G::F(f_branch_id)),
                    c("branch_name", "string", "Branch name", G::F(f_branch_name)),
                    c("city", "string", "City of the branch", G::F(f_branch_city)),
                    c("region", "string", "Geographic region: 华北, 华东, 华南, 华中, 西南, 西北, 东北", G::F(f_branch_region)),
                ],
            )
            .pk(&["branch_id"])
            .quiet(),
            t(
                "product",
                "Product catalogue of deposits, cards, loans, wealth, funds, insurance and metals, full daily snapshot",
                "{biz_date}/ref/product.csv",
                CSV,
                Source::Ref(n_products),
                vec![
                    c("product_code", "string", "Product code", G::F(f_prod_code)),
                    c("product_name", "string", "Product name", G::F(f_prod_name)),
                    c("product_family", "string", "Product family: DEPOSIT, CARD, LOAN, WEALTH, FUND, INSURANCE, METAL", G::F(f_prod_family)),
                    c(
                        "product_category",
                        "string",
                        "Category within the family: DEMAND, TIME; STANDARD, GOLD, PLATINUM; MORTGAGE, CONSUMER, BUSINESS, AUTO; …",
                        G::F(f_prod_category),
                    ),
                    c("launch_date", "date", "Date the product was launched", G::F(f_prod_launch)),
                ],
            )
            .pk(&["product_code"])
            .quiet(),
            t(
                "fx_rate",
                "Daily closing exchange rates against CNY, one row per currency",
                "{biz_date}/ref/fx_rate.csv",
                CSV,
                Source::Ref(n_currencies),
                vec![
                    c("currency", "string", "Currency (ISO 4217)", G::F(f_ccy)),
                    c("currency_name", "string", "Currency name", G::F(f_ccy_name)),
                    c("rate_to_cny", "decimal(18,6)", "CNY per one unit of the currency (CNY itself is 1.000000)", G::F(f_rate)),
                ],
            )
            .pk(&["currency"])
            .quiet(),
            t(
                "product_risk",
                "Risk rating of each product (R1-R5), for suitability checks against the customer's risk level",
                "{biz_date}/ref/product_risk.csv",
                CSV,
                Source::Ref(n_products),
                vec![
                    c("product_code", "string", "Product code", G::F(f_prod_code)).req(),
                    c("risk_rating", "string", "R1 … R5", G::F(f_prod_risk)),
                ],
            )
            .pk(&["product_code"])
            .quiet(),
            t(
                "org",
                "Organisation hierarchy: head office, city branches, sub-branches",
                "{biz_date}/ref/org.csv",
                CSV,
                Source::Ref(n_orgs),
                vec![
                    c("org_id", "string", "Organisation code", G::F(f_org_id)).req(),
                    c("org_name", "string", "Name", G::F(f_org_name)),
                    c("parent_org_id", "string", "Parent; empty for the head office", G::F(f_org_parent)),
                    c("org_level", "int", "1 head office, 2 city branch, 3 sub-branch", G::F(f_org_level)),
                ],
            )
            .pk(&["org_id"])
            .quiet(),
            t(
                "code_value",
                "Code table shared by the systems: code type, value, Chinese label",
                "{biz_date}/ref/code_value.csv",
                CSV,
                Source::Ref(n_codes),
                vec![
                    c("code_type", "string", "Code type", G::F(f_code_type)).req(),
                    c("code_value", "string", "Value", G::F(f_code_value)).req(),
                    c("code_name", "string", "Label", G::F(f_code_name)),
                ],
            )
            .pk(&["code_type", "code_value"])
            .quiet(),
        ],
    }
}

fn emp() -> System {
    System {
        name: "emp",
        desc: "HR: employees and relationship managers",
        encoding: Some("gbk"),
        control: Some(CTL_DATE_ROWS),
        tables: vec![
            t(
                "employee",
                "Employees with their branch and role, full snapshot",
                "{biz_date}/emp/EMPLOYEE_{yyyymmdd}.txt",
                PIPE,
                Source::Ref(n_employees),
                vec![
                    c("emp_id", "string", "Employee number (E + 5 digits)", G::Key("E", 5)).req(),
                    c("emp_name", "string", "Name (GBK)", G::F(f_person_name)).pii(),
                    c("gender", "string", "Gender", G::F(f_person_gender))
                        .map(GENDER)
                        .soft(),
                    c("branch_id", "string", "Branch", G::F(f_emp_branch)).pattern(BRANCH_RE),
                    c(
                        "role",
                        "string",
                        "RM relationship manager, TELLER, MANAGER",
                        G::F(f_emp_role),
                    ),
                    c("mobile", "string", "Work mobile", G::F(f_emp_mobile))
                        .check("mobile")
                        .soft()
                        .pii(),
                    c("hire_date", "date", "Hired", G::DaysBefore(200, 7000)),
                ],
            )
            .pk(&["emp_id"])
            .ctl("{biz_date}/emp/EMPLOYEE_{yyyymmdd}.ctl"),
        ],
    }
}

fn chan() -> System {
    System {
        name: "chan",
        desc: "Channel reference: the bank-wide channel codes",
        encoding: None,
        control: None,
        tables: vec![
            t(
                "channel",
                "Channel codes",
                "{biz_date}/chan/channel.csv",
                CSV,
                Source::Ref(n_channels),
                vec![
                    c(
                        "channel_code",
                        "string",
                        "Channel code used in transactions",
                        G::F(f_chan_code),
                    )
                    .req(),
                    c("channel_name", "string", "Name", G::F(f_chan_name)),
                    c(
                        "channel_type",
                        "string",
                        "ONLINE, SELF_SERVICE, BRANCH, REMOTE, BATCH",
                        G::F(f_chan_kind),
                    ),
                    c(
                        "source_system",
                        "string",
                        "System that owns the channel",
                        G::F(f_chan_system),
                    ),
                ],
            )
            .pk(&["channel_code"])
            .quiet(),
        ],
    }
}

fn cal() -> System {
    System {
        name: "cal",
        desc: "Business calendar of the operations department: working days and period ends",
        encoding: None,
        control: None,
        tables: vec![
            t(
                "calendar",
                "The calendar of the business date's year (366 rows; a 365-day year repeats 1 January of the next)",
                "{biz_date}/cal/calendar.csv",
                CSV,
                Source::Ref(n_calendar),
                vec![
                    c("cal_date", "date", "Date", G::F(f_cal_date)).req(),
                    c("year", "int", "Year", G::F(f_cal_year)),
                    c("quarter", "int", "Quarter", G::F(f_cal_quarter)),
                    c("weekday", "int", "ISO weekday, 1 = Monday", G::F(f_cal_weekday)),
                    c("is_workday", "boolean", "Working day (Y/N)", G::F(f_cal_workday)),
                    c(
                        "is_month_end",
                        "boolean",
                        "Last day of the month (Y/N)",
                        G::F(f_cal_month_end),
                    ),
                ],
            )
            .pk(&["cal_date"])
            .quiet(),
        ],
    }
}
