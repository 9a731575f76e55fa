//! `lakemart gen`: a consistent set of extract files for every source system of
//! the reference mart, streamed to disk with bounded memory. See docs/generator.md.

mod bank;
mod rng;
mod spec;
mod systems;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::NaiveDate;

use bank::{World, add_days, day_number};
use rng::{h, tag, unit};
pub use spec::render_toml;
use spec::{Col, Ctx, Format, Source, System, Table};
pub use systems::systems;
use write::{Sink, parse_decimal, write_control};

use crate::error::{Error, Result};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// 1.0 is about 100,000 customers.
    pub scale: f64,
    /// The last business date; `days` dates end with it.
    pub last_date: NaiveDate,
    pub days: u32,
    /// The landing directory (one sub-directory per date).
    pub out: PathBuf,
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct GenSummary {
    pub files: usize,
    pub bytes: u64,
    pub customers: u64,
    pub accounts: u64,
}

/// Noise rates per record (see docs/generator.md); at most one kind per record.
pub const NOISE: &[(Noise, f64)] = &[
    (Noise::Whitespace, 0.005),
    (Noise::CodeVariant, 0.003),
    (Noise::InvalidDate, 0.0005),
    (Noise::Duplicate, 0.001),
    (Noise::Malformed, 0.0002),
    (Noise::BadResidentId, 0.0002),
    (Noise::BadMobile, 0.0005),
    (Noise::BadEmail, 0.0005),
];

/// The kinds of noise injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    Whitespace,
    CodeVariant,
    InvalidDate,
    Duplicate,
    Malformed,
    BadResidentId,
    BadMobile,
    BadEmail,
}

/// Write the extracts.
pub fn generate(options: &GenOptions) -> Result<GenSummary> {
    if !(options.scale > 0.0 && options.scale.is_finite()) {
        return Err(Error::Usage(format!("--scale must be positive, got {}", options.scale)));
    }
    if options.days == 0 {
        return Err(Error::Usage("--days must be at least 1".into()));
    }
    let world = World::new(options.seed, options.scale, options.last_date);
    let systems = systems();
    let mut tasks = Vec::new();
    for k in (0..options.days as i64).rev() {
        let d = add_days(options.last_date, -k);
        for (si, sys) in systems.iter().enumerate() {
            for (ti, table) in sys.tables.iter().enumerate() {
                let weight = match table.source {
                    Source::Accounts(_) | Source::AccountTxns => 0,
                    _ => 1,
                };
                tasks.push((weight, d, si, ti));
            }
        }
    }
    // The account-master tables first: they are the longest.
    tasks.sort_by_key(|t| t.0);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<(usize, u64)>>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(_, d, si, ti)) = tasks.get(i) else { break };
                    let sys = &systems[si];
                    let r = write_table(&world, sys, &sys.tables[ti], d, &options.out);
                    let failed = r.is_err();
                    if let Ok(mut v) = results.lock() {
                        v.push(r.map(|s| (s.files, s.bytes)));
                    }
                    if failed {
                        next.store(tasks.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut summary = GenSummary {
        customers: world.customers,
        accounts: world.accounts,
        ..GenSummary::default()
    };
    let results = results
        .into_inner()
        .map_err(|_| Error::Internal("a generator thread panicked".into()))?;
    for r in results {
        let (files, bytes) = r?;
        summary.files += files;
        summary.bytes += bytes;
    }
    Ok(summary)
}

/// The path of a file pattern on a date.
fn expand(pattern: &str, d: NaiveDate) -> String {
    pattern
        .replace("{biz_date}", &d.format("%Y-%m-%d").to_string())
        .replace("{yyyymmdd}", &d.format("%Y%m%d").to_string())
}

/// Counts of one written table.
#[derive(Debug, Default)]
pub(crate) struct TableStats {
    files: usize,
    bytes: u64,
    /// Records written, noise included.
    pub rows: u64,
    /// Records ingest must reject (hard rules).
    pub rejects: u64,
    /// Values ingest turns into NULL (soft rules).
    pub soft: u64,
}

struct Writer<'a> {
    world: &'a World,
    table: &'a Table,
    d: NaiveDate,
    sink: Sink,
    fields: Vec<String>,
    sum_col: Option<(usize, u32)>,
    ts_col: Option<usize>,
    stats: TableStats,
    fixed: bool,
}

impl Writer<'_> {
    fn emit(&mut self, ctx: &mut Ctx) -> Result<()> {
        ctx.seq = self.sink.rows + 1;
        for (i, col) in self.table.columns.iter().enumerate() {
            let f = &mut self.fields[i];
            f.clear();
            col.value.write(ctx, col, i, f);
        }
        if let Some((i, scale)) = self.sum_col
            && let Some(v) = parse_decimal(&self.fields[i], scale)
        {
            self.sink.sum += v;
        }
        let n = self.fields.len();
        let noise = if self.table.noise && self.table.format != Format::Parquet {
            pick_noise(h(
                self.world.seed,
                &[tag(self.table.name), ctx.seq, day_number(self.d) as u64],
            ))
        } else {
            None
        };
        let Some(kind) = noise else {
            return self.sink.write(&self.fields, n);
        };
        let r = h(
            self.world.seed,
            &[tag("noise"), tag(self.table.name), ctx.seq, day_number(self.d) as u64],
        );
        let cols = &self.table.columns;
        let find = |pred: &dyn Fn(&Col, &str) -> bool| {
            cols.iter()
                .enumerate()
                .filter(|(i, c)| pred(c, &self.fields[*i]))
                .map(|(i, _)| i)
                .next()
        };
        match kind {
            Noise::Whitespace if !self.fixed => {
                let k = (r % n as u64) as usize;
                if !self.fields[k].is_empty() {
                    self.fields[k] = match r % 3 {
                        0 => format!(" {}", self.fields[k]),
                        1 => format!("{}  ", self.fields[k]),
                        _ => format!(" {} ", self.fields[k]),
                    };
                }
            }
            Noise::CodeVariant => {
                if let Some(i) = find(&|c, v| c.map.is_some_and(|m| m.iter().any(|(k, t)| *t == v && k != t))) {
                    let variants: Vec<&str> = cols[i]
                        .map
                        .unwrap_or(&[])
                        .iter()
                        .filter(|(k, t)| *t == self.fields[i] && k != t)
                        .map(|(k, _)| *k)
                        .collect();
                    let fits = !self.fixed || variants[(r % variants.len() as u64) as usize].len() <= cols[i].width;
                    if fits {
                        self.fields[i] = variants[(r % variants.len() as u64) as usize].to_string();
                    }
                }
            }
            Noise::InvalidDate => {
                if let Some(i) = find(&|c, v| {
                    c.ty == "date" && !c.required && !v.is_empty() && !self.table.primary_key.contains(&c.name)
                }) {
                    let year = &self.fields[i][..4];
                    let bad = if cols[i].format == Some("yyyyMMdd") {
                        format!("{year}0231")
                    } else {
                        format!("{year}-02-31")
                    };
                    self.fields[i] = bad;
                    self.stats.rejects += 1;
                }
            }
            Noise::Duplicate => {
                if let Some(ts) = self.ts_col {
                    // The stale copy carries an older update timestamp: ingest keeps the original.
                    let stale_time = add_days(self.d, -5).and_hms_opt(12, 0, 0).unwrap_or_default();
                    let mut stale = self.fields.clone();
                    stale[ts] = stale_time.format(&cols[ts].chrono_format()).to_string();
                    if let Some((i, scale)) = self.sum_col
                        && let Some(v) = parse_decimal(&stale[i], scale)
                    {
                        self.sink.sum += v;
                    }
                    self.stats.rows += 1;
                    self.stats.rejects += 1;
                    if r.is_multiple_of(2) {
                        self.sink.write(&stale, n)?;
                        self.stats.rows += 1;
                        return self.sink.write(&self.fields, n);
                    }
                    self.sink.write(&self.fields, n)?;
                    self.stats.rows += 1;
                    return self.sink.write(&stale, n);
                }
            }
            Noise::Malformed => {
                if self.sum_col.is_none() {
                    self.stats.rows += 1;
                    self.stats.rejects += 1;
                    return self.sink.write(&self.fields, n - 1);
                }
            }
            Noise::BadResidentId => {
                if let Some(i) = find(&|c, v| c.check == Some("resident_id") && v.len() == 18) {
                    let right = bank::resident_id_check(&self.fields[i][..17]);
                    let wrong = if right == '0' { '1' } else { '0' };
                    self.fields[i].pop();
                    self.fields[i].push(wrong);
                    self.stats.rejects += 1;
                }
            }
            Noise::BadMobile => {
                if let Some(i) = find(&|c, v| c.check == Some("mobile") && !v.is_empty()) {
                    self.fields[i] = format!("0{}", &self.fields[i][1..10]);
                    self.stats.soft += 1;
                }
            }
            Noise::BadEmail => {
                if let Some(i) = find(&|c, v| c.check == Some("email") && v.contains('@')) {
                    self.fields[i] = self.fields[i].replace('@', "#");
                    self.stats.soft += 1;
                }
            }
            Noise::Whitespace => {}
        }
        self.stats.rows += 1;
        self.sink.write(&self.fields, n)
    }
}

fn pick_noise(x: u64) -> Option<Noise> {
    let mut u = unit(x);
    for (kind, rate) in NOISE {
        if u < *rate {
            return Some(*kind);
        }
        u -= rate;
    }
    None
}

/// Member of a group of customers (the same customers across a system's tables)?
fn member(w: &World, group: &str, share: f64, no: u64) -> bool {
    share >= 1.0 || unit(h(w.seed, &[tag(group), no])) < share
}

fn write_table(world: &World, sys: &System, table: &Table, d: NaiveDate, out: &Path) -> Result<TableStats> {
    let path = out.join(expand(table.file, d));
    let sink = Sink::create(&path, table.format, sys.encoding_of(table), &table.columns)?;
    let col_index = |name: &str| table.columns.iter().position(|c| c.name == name);
    let sum_col = table.sum_column.and_then(|name| {
        let i = col_index(name)?;
        let scale = match crate::project::ColumnType::parse(table.columns[i].ty) {
            Some(crate::project::ColumnType::Decimal(_, s)) => s as u32,
            _ => 0,
        };
        Some((i, scale))
    });
    let mut w = Writer {
        world,
        table,
        d,
        sink,
        fields: vec![String::new(); table.columns.len()],
        sum_col,
        ts_col: table.dedup_order_by.and_then(col_index),
        stats: TableStats::default(),
        fixed: table.format == Format::Fixed,
    };
    let dnum = day_number(d);
    let ttag = tag(table.name) ^ tag(sys.name).rotate_left(17);
    let mut ctx = Ctx {
        w: world,
        d,
        cust: None,
        acct: None,
        ent: 0,
        open: d,
        seq: 0,
        of: (1, 0),
        h: 0,
        hv: 0,
    };
    match table.source {
        Source::Ref(n) => {
            for ent in 1..=n(world) {
                ctx.ent = ent;
                ctx.h = h(world.seed, &[ttag, ent]);
                ctx.hv = h(ctx.h, &[dnum as u64]);
                w.emit(&mut ctx)?;
            }
        }
        Source::PerCustomer { group, share, sub, max } => {
            for no in 1..=world.customers_on(d) {
                if !member(world, group, share, no) || (sub < 1.0 && unit(h(world.seed, &[ttag, no, 7])) >= sub) {
                    continue;
                }
                let count = 1 + h(world.seed, &[ttag, no, 1]) % max.max(1) as u64;
                let cust = world.customer(no);
                for j in 0..count {
                    let ent = no * 10 + j;
                    let eh = h(world.seed, &[ttag, ent]);
                    let open = if j == 0 && group == "core" {
                        cust.open
                    } else {
                        let span = (world.anchor - cust.open).num_days().clamp(0, 3650);
                        add_days(cust.open, (unit(eh) * span as f64) as i64)
                    };
                    if open > d {
                        continue;
                    }
                    let rate = 0.01 + 0.02 * unit(eh.rotate_left(13));
                    let version = ((dnum as f64 + unit(eh.rotate_left(29)) * 1000.0) * rate) as u64;
                    let c = Ctx {
                        w: world,
                        d,
                        cust: Some(&cust),
                        acct: None,
                        ent,
                        open,
                        seq: 0,
                        of: (1, 0),
                        h: eh,
                        hv: h(eh, &[version]),
                    };
                    let mut c = c;
                    w.emit(&mut c)?;
                }
            }
        }
        Source::Events { group, share, per_day } => {
            for no in 1..=world.customers_on(d) {
                if !member(world, group, share, no) {
                    continue;
                }
                // Activity skew: a stable log-normal factor per customer, twice as active when new.
                let mut r = rng::Rng::new(world.seed, &[ttag, no, dnum as u64]);
                let factor = (rng::Rng::new(world.seed, &[tag("activity"), no]).normal() * 0.8).exp();
                let recent = if (d - world.customer_open(no)).num_days() < 90 {
                    2.0
                } else {
                    1.0
                };
                let lambda = per_day * factor * recent;
                let n = ((lambda + r.unit()).floor() as u64).min(16);
                if n == 0 {
                    continue;
                }
                let cust = world.customer(no);
                for k in 0..n {
                    let eh = h(world.seed, &[ttag, no, dnum as u64, k]);
                    let mut c = Ctx {
                        w: world,
                        d,
                        cust: Some(&cust),
                        acct: None,
                        ent: no * 100 + k,
                        open: d,
                        seq: 0,
                        of: (n, k),
                        h: eh,
                        hv: eh,
                    };
                    w.emit(&mut c)?;
                }
            }
        }
        Source::Accounts(filter) => {
            let needs_customer = table.columns.iter().any(|c| matches!(c.value, spec::G::Name));
            let customers = world.customers_on(d);
            for no in 1..=world.accounts_on(d) {
                if no <= world.customers && no > customers {
                    continue;
                }
                let acct = world.account(no);
                if acct.open > d || !filter(&acct) {
                    continue;
                }
                let cust = needs_customer.then(|| world.customer(acct.owner));
                let eh = h(world.seed, &[ttag, no]);
                let mut c = Ctx {
                    w: world,
                    d,
                    cust: cust.as_ref(),
                    acct: Some(&acct),
                    ent: no,
                    open: acct.open,
                    seq: 0,
                    of: (1, 0),
                    h: eh,
                    hv: h(eh, &[acct.version(d)]),
                };
                w.emit(&mut c)?;
            }
        }
        Source::AccountTxns => {
            let customers = world.customers_on(d);
            for no in 1..=world.accounts_on(d) {
                if no <= world.customers && no > customers {
                    continue;
                }
                let acct = world.account(no);
                if acct.open > d || !acct.changed_on(d) || acct.close.is_some_and(|c| c < d) {
                    continue;
                }
                let n = 1 + h(world.seed, &[ttag, no, dnum as u64]) % 3;
                for k in 0..n {
                    let eh = h(world.seed, &[ttag, no, dnum as u64, k]);
                    let mut c = Ctx {
                        w: world,
                        d,
                        cust: None,
                        acct: Some(&acct),
                        ent: no,
                        open: acct.open,
                        seq: 0,
                        of: (n, k),
                        h: eh,
                        hv: eh,
                    };
                    w.emit(&mut c)?;
                }
            }
        }
    }
    let rows = w.sink.rows;
    let sum = w.sink.sum;
    let mut stats = w.stats;
    stats.rows = rows;
    stats.bytes = w.sink.finish()?;
    stats.files = 1;
    if let (Some(ctl), Some(layout)) = (table.control_file, sys.control) {
        let ctl_path = out.join(expand(ctl, d));
        let sum = sum_col.map(|(_, scale)| (sum, scale));
        stats.bytes += write_control(
            &ctl_path,
            layout,
            rows,
            sum,
            stats.bytes,
            &d.format("%Y%m%d").to_string(),
        )?;
        stats.files += 1;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests;
