//! Source-system specifications: the tables, columns, cleansing rules and value
//! generators of each system, and their rendering as `models/sources/<system>.toml`.

use std::fmt::Write as _;

use chrono::NaiveDate;

use super::bank::{Account, Customer, World, add_days, money};
use super::rng::{Rng, tag};

/// How a file is laid out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Format {
    /// Delimited text; `quote` adds `"` quoting (fields may hold the delimiter).
    Delimited {
        delimiter: &'static str,
        quote: bool,
        header: bool,
    },
    /// Fixed-width records, widths in bytes of the encoded line.
    Fixed,
    /// Parquet, streamed in row groups.
    Parquet,
}

/// Where a table's rows come from.
#[derive(Clone, Copy)]
pub enum Source {
    /// A reference table of `n(world)` rows.
    Ref(fn(&World) -> u64),
    /// Entities held by a share of customers, snapshot of every date.
    /// Membership: `group`'s `share` of customers, then `sub` of those; `1..=max` entities each.
    PerCustomer {
        group: &'static str,
        share: f64,
        sub: f64,
        max: u32,
    },
    /// Events of the business date by members of `group` (`share`), `per_day` on average each.
    Events {
        group: &'static str,
        share: f64,
        per_day: f64,
    },
    /// The core account master, every account that passes the filter.
    Accounts(fn(&Account) -> bool),
    /// Transactions of the accounts that changed on the business date.
    AccountTxns,
}

/// A value generator.
#[derive(Clone, Copy)]
pub enum G {
    CustId,
    CertNo,
    Name,
    /// `M`/`F`.
    Gender,
    Birth,
    Mobile,
    Email,
    /// Street address, no comma.
    Address,
    /// Street address, comma, building and room (quoted CSV only).
    AddressComma,
    HomeBranch,
    Segment,
    CustOpen,
    /// The customer's primary demand account in core.
    PrimaryAcct,
    /// The relationship manager of the customer.
    RmId,
    /// The entity number with a prefix, zero-padded to the width.
    Key(&'static str, usize),
    /// `prefix` + yyyymmdd + 8-digit record number: a daily serial.
    Serial(&'static str),
    /// A code by weight, stable per entity.
    Code(&'static [(&'static str, u32)]),
    /// A code by weight, drawn again each day.
    DailyCode(&'static [(&'static str, u32)]),
    /// Log-normal money (median, sigma), stable per entity.
    Money(f64, f64),
    /// Log-normal money, changing on the entity's change days.
    Balance(f64, f64),
    /// Uniform decimal in `lo..hi` with `scale` decimals, stable.
    Dec(f64, f64, usize),
    /// Uniform integer, stable.
    Int(i64, i64),
    /// The entity's opening date.
    EntOpen,
    /// The entity's opening date, for a scheme that started on (y, m, d): an
    /// earlier opening date is drawn again, uniformly from the start to the business date.
    EntOpenSince(i32, u32, u32),
    /// The opening date plus `lo..=hi` days.
    DateAfterOpen(i64, i64),
    /// A date `lo..=hi` days before the business date, drawn each day.
    DaysBefore(i64, i64),
    /// The business date.
    BizDate,
    /// A time on the business date (events spread through the day, in record order).
    EventTime,
    /// The last-update timestamp of the record (the dedup order).
    UpdateTs,
    /// One of the texts, stable.
    Text(&'static [&'static str]),
    Const(&'static str),
    /// `Y`/`N` with the chance of `Y`, stable.
    Flag(f64),
    /// The customer's first credit card.
    CardOf,
    /// The card number of this entity.
    CardNo,
    /// The customer's first loan.
    LoanOf,
    /// A reference row among `n(world)`: prefix + number.
    RefOf(&'static str, usize, fn(&World) -> u64),
    /// Anything else.
    F(fn(&Ctx, &Col, &mut Rng, &mut String)),
}

/// One column.
#[derive(Clone)]
pub struct Col {
    pub name: &'static str,
    pub ty: &'static str,
    pub desc: &'static str,
    pub pii: bool,
    pub value: G,
    pub required: bool,
    pub map: Option<&'static [(&'static str, &'static str)]>,
    pub check: Option<&'static str>,
    pub pattern: Option<&'static str>,
    pub format: Option<&'static str>,
    pub min: Option<&'static str>,
    pub max: Option<&'static str>,
    /// Raw TOML of `on_invalid`.
    pub on_invalid: Option<&'static str>,
    pub null_values: Option<&'static [&'static str]>,
    /// Width in bytes, for fixed-width tables.
    pub width: usize,
}

/// A column: `c(name, type, description, generator)`, then rules by builder.
pub fn c(name: &'static str, ty: &'static str, desc: &'static str, value: G) -> Col {
    Col {
        name,
        ty,
        desc,
        pii: false,
        value,
        required: false,
        map: None,
        check: None,
        pattern: None,
        format: None,
        min: None,
        max: None,
        on_invalid: None,
        null_values: None,
        width: 0,
    }
}

impl Col {
    pub fn pii(mut self) -> Col {
        self.pii = true;
        self
    }
    pub fn req(mut self) -> Col {
        self.required = true;
        self
    }
    pub fn map(mut self, map: &'static [(&'static str, &'static str)]) -> Col {
        self.map = Some(map);
        self
    }
    pub fn check(mut self, check: &'static str) -> Col {
        self.check = Some(check);
        self
    }
    pub fn pattern(mut self, pattern: &'static str) -> Col {
        self.pattern = Some(pattern);
        self
    }
    pub fn fmt(mut self, format: &'static str) -> Col {
        self.format = Some(format);
        self
    }
    pub fn range(mut self, min: &'static str, max: &'static str) -> Col {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    pub fn soft(mut self) -> Col {
        self.on_invalid = Some("\"null\"");
        self
    }
    pub fn on_invalid(mut self, raw: &'static str) -> Col {
        self.on_invalid = Some(raw);
        self
    }
    pub fn nulls(mut self, tokens: &'static [&'static str]) -> Col {
        self.null_values = Some(tokens);
        self
    }
    pub fn w(mut self, width: usize) -> Col {
        self.width = width;
        self
    }

    /// The chrono layout of a date or timestamp column.
    pub fn chrono_format(&self) -> String {
        let f = self.format.unwrap_or(if self.ty == "timestamp" {
            "yyyy-MM-dd HH:mm:ss"
        } else {
            "yyyy-MM-dd"
        });
        f.replace("yyyy", "%Y")
            .replace("MM", "%m")
            .replace("dd", "%d")
            .replace("HH", "%H")
            .replace("mm", "%M")
            .replace("ss", "%S")
    }

    /// Is this a numeric column (right-aligned in fixed layouts)?
    pub fn numeric(&self) -> bool {
        self.ty.starts_with("decimal") || matches!(self.ty, "int" | "bigint" | "double")
    }
}

/// One extract table.
#[derive(Clone)]
pub struct Table {
    pub name: &'static str,
    pub desc: &'static str,
    pub file: &'static str,
    pub format: Format,
    pub encoding: Option<&'static str>,
    pub primary_key: &'static [&'static str],
    pub dedup_order_by: Option<&'static str>,
    pub control_file: Option<&'static str>,
    pub sum_column: Option<&'static str>,
    pub null_values: Option<&'static [&'static str]>,
    /// `max_rejects` of the source definition, with the reason, when the default
    /// 10,000 is too low for the table at the 1M-customer scale.
    pub max_rejects: Option<(u64, &'static str)>,
    pub source: Source,
    pub columns: Vec<Col>,
    /// Inject noise (off for the tables of the committed samples' shape that have no rules to catch it).
    pub noise: bool,
}

/// A table: `t(name, description, file, format, source, columns)`, then options by builder.
pub fn t(
    name: &'static str,
    desc: &'static str,
    file: &'static str,
    format: Format,
    source: Source,
    columns: Vec<Col>,
) -> Table {
    Table {
        name,
        desc,
        file,
        format,
        encoding: None,
        primary_key: &[],
        dedup_order_by: None,
        control_file: None,
        sum_column: None,
        null_values: None,
        max_rejects: None,
        source,
        columns,
        noise: true,
    }
}

impl Table {
    pub fn pk(mut self, pk: &'static [&'static str]) -> Table {
        self.primary_key = pk;
        self
    }
    pub fn dedup(mut self, column: &'static str) -> Table {
        self.dedup_order_by = Some(column);
        self
    }
    pub fn ctl(mut self, file: &'static str) -> Table {
        self.control_file = Some(file);
        self
    }
    pub fn sum(mut self, column: &'static str) -> Table {
        self.sum_column = Some(column);
        self
    }
    pub fn enc(mut self, encoding: &'static str) -> Table {
        self.encoding = Some(encoding);
        self
    }
    pub fn nulls(mut self, tokens: &'static [&'static str]) -> Table {
        self.null_values = Some(tokens);
        self
    }
    pub fn max_rejects(mut self, n: u64, why: &'static str) -> Table {
        self.max_rejects = Some((n, why));
        self
    }
    pub fn quiet(mut self) -> Table {
        self.noise = false;
        self
    }
}

/// One source system.
#[derive(Clone)]
pub struct System {
    pub name: &'static str,
    pub desc: &'static str,
    pub encoding: Option<&'static str>,
    /// Control-file layout: delimiter and field names.
    pub control: Option<(&'static str, &'static [&'static str])>,
    pub tables: Vec<Table>,
}

impl System {
    /// The effective encoding of a table.
    pub fn encoding_of<'a>(&'a self, table: &'a Table) -> &'a str {
        table.encoding.or(self.encoding).unwrap_or("utf-8")
    }
}

/// What a row generator knows about the record it is writing.
pub struct Ctx<'a> {
    pub w: &'a World,
    pub d: NaiveDate,
    pub cust: Option<&'a Customer>,
    pub acct: Option<&'a Account>,
    /// Entity number (reference row, `customer * 10 + j`, account number, or event number).
    pub ent: u64,
    /// The entity's opening date.
    pub open: NaiveDate,
    /// The record's 1-based position in the file.
    pub seq: u64,
    /// Events of this customer today, and this one's index among them.
    pub of: (u64, u64),
    /// Hash stable for the entity.
    pub h: u64,
    /// Hash of the entity's current version (changes on its change days).
    pub hv: u64,
}

impl Ctx<'_> {
    fn customer(&self) -> Option<&Customer> {
        self.cust
    }
}

/// Write a date in the column's format.
pub fn put_date(out: &mut String, col: &Col, d: NaiveDate) {
    let _ = write!(out, "{}", d.format(&col.chrono_format()));
}

impl G {
    /// Write the value of `col` for the record in `ctx`.
    pub fn write(&self, ctx: &Ctx, col: &Col, col_index: usize, out: &mut String) {
        let stable = || Rng::new(ctx.h, &[col_index as u64, tag(col.name)]);
        let daily = || Rng::new(ctx.hv, &[col_index as u64, tag(col.name)]);
        let cust = ctx.customer();
        match *self {
            G::CustId => out.push_str(cust.map_or("", |c| &c.id)),
            G::CertNo => out.push_str(cust.map_or("", |c| &c.cert_no)),
            G::Name => out.push_str(cust.map_or("", |c| &c.name)),
            G::Gender => out.push_str(if cust.is_some_and(|c| c.male) { "M" } else { "F" }),
            G::Birth => {
                if let Some(c) = cust {
                    put_date(out, col, c.birth)
                }
            }
            G::Mobile => out.push_str(cust.map_or("", |c| &c.mobile)),
            G::Email => out.push_str(cust.map_or("", |c| &c.email)),
            G::Address => out.push_str(cust.map_or("", |c| &c.address)),
            G::AddressComma => {
                if let Some(c) = cust {
                    let _ = write!(out, "{}, {}", c.address, c.address_room);
                }
            }
            G::HomeBranch => {
                let _ = write!(out, "B{:03}", cust.map_or(0, |c| c.branch) + 1);
            }
            G::Segment => out.push_str(cust.map_or("MASS", |c| c.segment)),
            G::CustOpen => {
                if let Some(c) = cust {
                    put_date(out, col, c.open)
                }
            }
            G::PrimaryAcct => {
                let _ = write!(out, "6217{:015}", cust.map_or(0, |c| c.no));
            }
            G::RmId => {
                let (b, n) = cust.map_or((0, 0), |c| (c.branch as u64, c.no % 8));
                let _ = write!(out, "E{:05}", b * 10 + n + 1);
            }
            G::Key(prefix, width) => {
                let _ = write!(out, "{prefix}{:0width$}", ctx.ent);
            }
            G::Serial(prefix) => {
                let _ = write!(out, "{prefix}{}{:08}", ctx.d.format("%Y%m%d"), ctx.seq);
            }
            G::Code(codes) => out.push_str(stable().weighted::<&str>(codes)),
            G::DailyCode(codes) => out.push_str(daily().weighted::<&str>(codes)),
            G::Money(median, sigma) => {
                let v = stable().lognormal(median, sigma);
                out.push_str(&money((v.min(1e9) * 100.0).round() as i64));
            }
            G::Balance(median, sigma) => {
                let v = daily().lognormal(median, sigma);
                out.push_str(&money((v.min(1e9) * 100.0).round() as i64));
            }
            G::Dec(lo, hi, scale) => {
                let v = lo + stable().unit() * (hi - lo);
                let _ = write!(out, "{v:.scale$}");
            }
            G::Int(lo, hi) => {
                let _ = write!(out, "{}", stable().range(lo, hi));
            }
            G::EntOpen => put_date(out, col, ctx.open),
            G::EntOpenSince(y, m, d) => {
                let start = NaiveDate::from_ymd_opt(y, m, d).unwrap_or(ctx.open);
                let open = if ctx.open >= start {
                    ctx.open
                } else {
                    let span = (ctx.d - start).num_days().max(0);
                    add_days(start, stable().range(0, span))
                };
                put_date(out, col, open);
            }
            G::DateAfterOpen(lo, hi) => {
                let n = stable().range(lo, hi);
                put_date(out, col, add_days(ctx.open, n));
            }
            G::DaysBefore(lo, hi) => {
                let n = daily().range(lo, hi);
                put_date(out, col, add_days(ctx.d, -n));
            }
            G::BizDate => put_date(out, col, ctx.d),
            G::EventTime => {
                let t = event_time(ctx, &mut daily());
                let _ = write!(out, "{}", t.format(&col.chrono_format()));
            }
            G::UpdateTs => {
                let mut r = daily();
                let back = if ctx.open >= ctx.d { 0 } else { r.range(0, 3) };
                let t = add_days(ctx.d, -back).and_hms_opt(0, 0, 0).unwrap_or_default()
                    + chrono::Duration::seconds(r.range(6 * 3600, 23 * 3600) + 1);
                let _ = write!(out, "{}", t.format(&col.chrono_format()));
            }
            G::Text(items) => out.push_str(stable().pick::<&str>(items)),
            G::Const(v) => out.push_str(v),
            G::Flag(p) => out.push_str(if stable().chance(p) { "Y" } else { "N" }),
            G::CardOf => out.push_str(&card_no(cust.map_or(0, |c| c.no * 10))),
            G::CardNo => out.push_str(&card_no(ctx.ent)),
            G::LoanOf => {
                let _ = write!(out, "LN{:010}", cust.map_or(0, |c| c.no * 10));
            }
            G::RefOf(prefix, width, n) => {
                let k = 1 + daily().below(n(ctx.w));
                let _ = write!(out, "{prefix}{k:0width$}");
            }
            G::F(f) => f(ctx, col, &mut stable(), out),
        }
    }
}

/// A card number from its entity number.
pub fn card_no(ent: u64) -> String {
    super::bank::luhn(&format!("625906{ent:09}"))
}

/// The time of an event on the business date: the day split into equal slots, one per event,
/// daytime-weighted, increasing with the event's index.
pub fn event_time(ctx: &Ctx, r: &mut Rng) -> chrono::NaiveDateTime {
    let (n, k) = ctx.of;
    let slot = (16 * 3600) / n.max(1) as i64;
    let secs = 7 * 3600 + k as i64 * slot + r.range(0, (slot - 1).max(0));
    ctx.d.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::seconds(secs)
}

fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{1}' => out.push_str("\\u0001"),
            _ => out.push(ch),
        }
    }
    out.push('"');
    out
}

fn list(items: &[&str]) -> String {
    format!("[{}]", items.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(", "))
}

/// Render a system as the TOML of `models/sources/<system>.toml`.
pub fn render_toml(sys: &System) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Generated by `lakemart gen` (src/generator/systems.rs); edit there, then regenerate."
    );
    let _ = writeln!(o, "description = {}", quoted(sys.desc));
    if let Some(enc) = sys.encoding {
        let _ = writeln!(o, "encoding = {}", quoted(enc));
    }
    if let Some((delimiter, fields)) = sys.control {
        let _ = writeln!(
            o,
            "\n[control]\ndelimiter = {}\nfields = {}",
            quoted(delimiter),
            list(fields)
        );
    }
    for table in &sys.tables {
        let _ = writeln!(o, "\n[[tables]]");
        let _ = writeln!(o, "name = {}", quoted(table.name));
        let _ = writeln!(o, "description = {}", quoted(table.desc));
        let _ = writeln!(o, "file = {}", quoted(table.file));
        match table.format {
            Format::Delimited {
                delimiter,
                quote,
                header,
            } => {
                let _ = writeln!(o, "format = \"{}\"", if delimiter == "," { "csv" } else { "delimited" });
                let _ = writeln!(o, "delimiter = {}", quoted(delimiter));
                if quote {
                    let _ = writeln!(o, "quote = '\"'");
                }
                let _ = writeln!(o, "header = {header}");
            }
            Format::Fixed => {
                let _ = writeln!(o, "format = \"fixed\"");
            }
            Format::Parquet => {
                let _ = writeln!(o, "format = \"parquet\"");
            }
        }
        if let Some(enc) = table.encoding {
            let _ = writeln!(o, "encoding = {}", quoted(enc));
        }
        if let Some(nulls) = table.null_values {
            let _ = writeln!(o, "null_values = {}", list(nulls));
        }
        if !table.primary_key.is_empty() {
            let _ = writeln!(o, "primary_key = {}", list(table.primary_key));
        }
        if let Some(col) = table.dedup_order_by {
            let _ = writeln!(o, "dedup_order_by = {}", quoted(col));
        }
        if let Some(ctl) = table.control_file {
            let _ = writeln!(o, "control_file = {}", quoted(ctl));
        }
        if let Some(col) = table.sum_column {
            let _ = writeln!(o, "control_sum_column = {}", quoted(col));
        }
        if let Some((n, why)) = table.max_rejects {
            let _ = writeln!(o, "# {why}\nmax_rejects = {n}");
        }
        let mut start = 1;
        for col in &table.columns {
            let _ = writeln!(o, "\n[[tables.columns]]");
            let _ = writeln!(o, "name = {}", quoted(col.name));
            let _ = writeln!(o, "type = {}", quoted(col.ty));
            if table.format == Format::Fixed {
                let _ = writeln!(o, "start = {start}\nlength = {}", col.width);
                start += col.width;
            }
            // Parquet columns are typed already: cleansing rules apply to text extracts.
            if table.format != Format::Parquet {
                if let Some(f) = col.format {
                    let _ = writeln!(o, "format = {}", quoted(f));
                }
                if col.required {
                    let _ = writeln!(o, "required = true");
                }
                if let Some(nulls) = col.null_values {
                    let _ = writeln!(o, "null_values = {}", list(nulls));
                }
                if let Some(map) = col.map {
                    let pairs: Vec<String> = map
                        .iter()
                        .map(|(k, v)| format!("{} = {}", quoted(k), quoted(v)))
                        .collect();
                    let _ = writeln!(o, "map = {{ {} }}", pairs.join(", "));
                }
                if let Some(check) = col.check {
                    let _ = writeln!(o, "check = {}", quoted(check));
                }
                if let Some(p) = col.pattern {
                    let _ = writeln!(o, "pattern = '{p}'");
                }
                if let Some(m) = col.min {
                    let _ = writeln!(o, "min = {}", quoted(m));
                }
                if let Some(m) = col.max {
                    let _ = writeln!(o, "max = {}", quoted(m));
                }
                if let Some(raw) = col.on_invalid {
                    let _ = writeln!(o, "on_invalid = {raw}");
                }
            }
            if col.pii {
                let _ = writeln!(o, "pii = true");
            }
            let _ = writeln!(o, "description = {}", quoted(col.desc));
        }
    }
    o
}
