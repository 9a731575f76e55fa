//! The subcommands: load the project, call the library, print for people or
//! for machines, and return the exit code.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::cli::{Cli, Command, CompileFormat, DagFormat, RunFormat};
use crate::compile::{Compiled, compile};
use crate::error::{Error, Result};
use crate::project::Project;
use crate::run::{Event, RunOptions, RunReport, Status, new_run_id, run};
use crate::store::Lakehouse;
use crate::{engine, query, select, source};

/// Run one command line; `Ok` carries the exit code.
pub async fn execute(cli: Cli) -> Result<i32> {
    let memory_limit = match (cli.memory_limit, std::env::var("LAKEMART_MEMORY_LIMIT")) {
        (Some(bytes), _) => Some(bytes),
        (None, Ok(text)) if !text.trim().is_empty() => {
            Some(crate::engine::parse_size(&text).map_err(|e| Error::Usage(format!("LAKEMART_MEMORY_LIMIT: {e}")))?)
        }
        _ => None,
    };
    if let Some(bytes) = memory_limit {
        crate::engine::set_memory_limit(bytes);
    }
    if let Command::Gen {
        scale,
        date,
        days,
        out,
        seed,
    } = &cli.command
    {
        return generate(scale, date, days, out, seed);
    }
    let project = Project::load(&cli.project)?;
    let lakehouse = match &cli.lakehouse {
        Some(l) => Lakehouse::new(l, &std::env::current_dir().map_err(|e| Error::io(".", e))?)?,
        None => Lakehouse::new(&project.lakehouse, &project.root)?,
    };
    match cli.command {
        Command::Compile { format, selection } => {
            let started = std::time::Instant::now();
            let mut compiled = compile(project).await?;
            if !selection.select.is_empty() || !selection.exclude.is_empty() {
                let keep = select::select(&compiled, &selection.select, &selection.exclude)?;
                compiled.models.retain(|name, _| keep.contains(name));
            }
            match format {
                CompileFormat::Json => {
                    let json = serde_json::to_string_pretty(&compiled.manifest())
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    println!("{json}");
                }
                CompileFormat::Text => {
                    let columns: usize = compiled.models.values().map(|m| m.schema.fields().len()).sum();
                    let systems: std::collections::BTreeSet<&str> =
                        compiled.project.sources.values().map(|s| s.system.as_str()).collect();
                    println!(
                        "compiled {} models ({} columns) over {} source tables from {} systems in {} levels, {:.0} ms",
                        compiled.models.len(),
                        columns,
                        compiled.project.sources.len(),
                        systems.len(),
                        compiled.levels.len(),
                        started.elapsed().as_secs_f64() * 1000.0
                    );
                }
            }
            Ok(0)
        }
        Command::Dag { format, selection } => {
            let compiled = compile(project).await?;
            let dag = if selection.select.is_empty() && selection.exclude.is_empty() {
                compiled.dag.clone()
            } else {
                compiled
                    .dag
                    .subgraph(&select::select(&compiled, &selection.select, &selection.exclude)?)
            };
            let levels = dag.topological_levels().unwrap_or_default();
            let text = match format {
                DagFormat::Text => dag.render_text(&levels),
                DagFormat::Dot => dag.render_dot(),
                DagFormat::Mermaid => dag.render_mermaid(),
            };
            print!("{text}");
            Ok(0)
        }
        Command::Lineage {
            column,
            downstream,
            format,
        } => {
            let compiled = compile(project).await?;
            let direction = if downstream {
                crate::lineage::Direction::Downstream
            } else {
                crate::lineage::Direction::Upstream
            };
            print!("{}", crate::lineage::render(&compiled, &column, direction, format)?);
            Ok(0)
        }
        Command::Query {
            sql,
            format,
            as_of_date,
            out,
        } => {
            let ctx = query::session_as_of(&project, &lakehouse, as_of_date).await?;
            query::run_to(&ctx, &sql, format, out.as_deref()).await?;
            Ok(0)
        }
        Command::Shell { as_of_date } => crate::shell::shell(&project, &lakehouse, as_of_date).await,
        Command::Run {
            date,
            from,
            to,
            threads,
            selection,
            resume,
            fail_fast,
            retries,
            timeout,
            full_refresh,
            format,
        } => {
            let dates = business_dates(&project.landing, date, from, to)?;
            let compiled = Arc::new(compile(project).await?);
            let nodes = select::select_for_run(&compiled, &selection.select, &selection.exclude)?;
            let base = RunOptions {
                threads: threads.unwrap_or_else(engine::cores),
                nodes: Some(nodes),
                selection: selection.select.join(" "),
                retries,
                timeout: timeout.map(std::time::Duration::from_secs),
                fail_fast,
                full_refresh,
                ..RunOptions::new(dates[0])
            };
            run_dates(compiled, lakehouse, dates, base, resume, format).await
        }
        Command::Gen { .. } => Err(Error::Internal("gen is handled before the project loads".into())),
        Command::Ingest {
            date,
            from,
            to,
            source,
            threads,
            format,
        } => {
            let dates = business_dates(&project.landing, date, from, to)?;
            let compiled = Arc::new(compile(project).await?);
            let nodes = source_tables(&compiled, &source)?;
            let base = RunOptions {
                threads: threads.unwrap_or_else(engine::cores),
                nodes: Some(nodes),
                selection: source.join(" "),
                command: "ingest".into(),
                ..RunOptions::new(dates[0])
            };
            let me = lakehouse.lock_for_this_process().await?;
            let beat = heartbeat(&lakehouse, &me);
            let outcome = ingest_dates(compiled, &lakehouse, dates, base, format).await;
            beat.abort();
            lakehouse.unlock(&me).await?;
            outcome
        }
        Command::Retry { date, threads, format } => {
            let dates = business_dates(&project.landing, date, None, None)?;
            let compiled = Arc::new(compile(project).await?);
            let base = RunOptions {
                threads: threads.unwrap_or_else(engine::cores),
                ..RunOptions::new(dates[0])
            };
            run_dates(compiled, lakehouse, dates, base, true, format).await
        }
        Command::Status { date, format } => {
            let compiled = compile(project).await.ok();
            crate::status::print(&lakehouse, compiled.as_ref(), date, format == RunFormat::Json).await
        }
        Command::Test { selection, date } => {
            let compiled = compile(project).await?;
            let date = match date {
                Some(d) => d,
                None => business_dates(&compiled.project.landing, None, None, None)?[0],
            };
            let nodes = select::select(&compiled, &selection.select, &selection.exclude)?;
            crate::testing::run_tests_command(&compiled, &lakehouse, &nodes, date).await
        }
        Command::Wait {
            date,
            timeout,
            interval,
        } => crate::status::wait_for_sources(&project, date, timeout, interval).await,
        Command::Maintain {
            selection,
            retention_days,
        } => {
            let compiled = compile(project).await?;
            let nodes = select::select(&compiled, &selection.select, &selection.exclude)?;
            crate::maintain::maintain(&compiled, &lakehouse, &nodes, retention_days).await
        }
        Command::History { model, format } => {
            let table = crate::history::open_model(&project, &lakehouse, &model).await?;
            let commits = crate::history::commits(&table).await?;
            print!("{}", crate::history::render(&commits, format)?);
            Ok(0)
        }
        Command::Restore {
            model,
            to_date,
            to_version,
        } => {
            let target = match (to_version, to_date) {
                (Some(v), _) => crate::history::RestoreTarget::Version(v),
                (None, Some(d)) => crate::history::RestoreTarget::Date(d),
                (None, None) => return Err(Error::Usage("restore needs --to-date or --to-version".into())),
            };
            let restored = crate::history::restore(&project, &lakehouse, &model, target).await?;
            println!("{restored}");
            Ok(0)
        }
        Command::Docs { out } => {
            let compiled = compile(project).await?;
            let site = crate::docs::DocsSite::new(&compiled, &out)
                .with_lakehouse(&lakehouse)
                .await?;
            if let Some(note) = &site.note {
                eprintln!("warning: the site has no run information: {note}");
            }
            println!("wrote {} pages; open {}", site.pages, site.index.display());
            Ok(0)
        }
        Command::Serve {
            bind,
            users,
            hash_password,
        } => {
            if hash_password {
                if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    eprint!("password: ");
                }
                let password = crate::serve::read_password()?;
                println!("{}", crate::serve::hash_password(&password)?);
                return Ok(0);
            }
            let config = crate::serve::ServeConfig::resolve(&project, bind.as_deref(), users.as_deref())?;
            let users_file = config.users_file.clone();
            let server = crate::serve::Server::bind(&project, &lakehouse, config).await?;
            let addr = server.local_addr()?;
            if !addr.ip().is_loopback() {
                eprintln!(
                    "warning: listening on {addr}, beyond this machine: passwords and data cross the network unencrypted"
                );
            }
            println!(
                "lakemart serve: {} tables of {} on postgres://{addr} (users from {}); read-only, Ctrl-C stops",
                server.tables(),
                lakehouse.root(),
                users_file.display()
            );
            server.run().await?;
            Ok(0)
        }
    }
}

/// Run `dates` in order under the lakehouse lock; stop at the first date that fails.
async fn run_dates(
    compiled: Arc<Compiled>,
    lakehouse: Lakehouse,
    dates: Vec<NaiveDate>,
    base: RunOptions,
    resume: bool,
    format: RunFormat,
) -> Result<i32> {
    let me = lakehouse.lock_for_this_process().await?;
    let beat = heartbeat(&lakehouse, &me);
    let outcome = run_dates_locked(compiled, &lakehouse, dates, base, resume, format).await;
    beat.abort();
    lakehouse.unlock(&me).await?;
    outcome
}

/// Keep the lakehouse lock fresh while a long command holds it.
fn heartbeat(lakehouse: &Lakehouse, me: &crate::store::LockInfo) -> tokio::task::JoinHandle<()> {
    let (lakehouse, me) = (lakehouse.clone(), me.clone());
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(30)).await;
            if let Err(e) = lakehouse.heartbeat(&me).await {
                tracing::warn!("lock heartbeat failed: {e}");
            }
        }
    })
}

/// The source tables `--source` names: systems (`core`) or tables (`core_customer`); all when empty.
fn source_tables(compiled: &Compiled, wanted: &[String]) -> Result<std::collections::BTreeSet<String>> {
    let sources = &compiled.project.sources;
    let mut out = std::collections::BTreeSet::new();
    for w in wanted {
        let w = w.strip_prefix("src.").unwrap_or(w);
        let found: Vec<&String> = sources
            .iter()
            .filter(|(_, t)| t.system == w || t.staged_name() == w)
            .map(|(k, _)| k)
            .collect();
        if found.is_empty() {
            let systems: std::collections::BTreeSet<&str> = sources.values().map(|t| t.system.as_str()).collect();
            return Err(Error::Usage(format!(
                "--source {w}: no such source system or table (systems: {})",
                systems.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        out.extend(found.into_iter().cloned());
    }
    if wanted.is_empty() {
        out.extend(sources.keys().cloned());
    }
    Ok(out)
}

/// `lakemart ingest`: the source tables of each date, with their figures.
async fn ingest_dates(
    compiled: Arc<Compiled>,
    lakehouse: &Lakehouse,
    dates: Vec<NaiveDate>,
    base: RunOptions,
    format: RunFormat,
) -> Result<i32> {
    let mut code = 0;
    for biz_date in dates {
        let options = RunOptions {
            biz_date,
            run_id: new_run_id(),
            ..base.clone()
        };
        if format == RunFormat::Text {
            println!(
                "{:<34} {:>10} {:>10} {:>9} {:>10} {:>12}  status",
                format!("ingest {biz_date}"),
                "read",
                "loaded",
                "rejected",
                "soft-fixed",
                "bytes"
            );
        }
        let report = run(compiled.clone(), lakehouse.clone(), options, |event| {
            if let Event::ModelFinished(r) = event {
                print_ingest(r, biz_date, format);
            }
        })
        .await?;
        let stats: Vec<&source::SourceStats> = report.results.iter().filter_map(|r| r.ingest.as_ref()).collect();
        let loaded: u64 = stats.iter().map(|s| s.rows_loaded).sum();
        let rejected: u64 = stats.iter().map(|s| s.rows_rejected).sum();
        let failed = report.failed();
        match format {
            RunFormat::Json => println!(
                "{}",
                serde_json::json!({
                    "event": "ingest_finished",
                    "biz_date": biz_date,
                    "tables": report.results.len(),
                    "failed": failed,
                    "rows_loaded": loaded,
                    "rows_rejected": rejected,
                })
            ),
            RunFormat::Text => println!(
                "ingested {} table(s) for {biz_date}: {loaded} rows loaded, {rejected} rejected{}, {failed} failed",
                report.results.len(),
                if rejected > 0 { " (see _rejects.*)" } else { "" }
            ),
        }
        if failed > 0 {
            code = 1;
        }
    }
    Ok(code)
}

fn print_ingest(r: &crate::run::NodeResult, biz_date: NaiveDate, format: RunFormat) {
    let empty = source::SourceStats {
        source: r.model.clone(),
        ..Default::default()
    };
    let s = r.ingest.as_ref().unwrap_or(&empty);
    let status = if r.status == Status::Success { "ok" } else { "failed" };
    match format {
        RunFormat::Json => println!(
            "{}",
            serde_json::json!({
                "event": "source_finished",
                "biz_date": biz_date,
                "source": r.model,
                "file": s.file,
                "status": status,
                "rows_read": s.rows_read,
                "rows_loaded": s.rows_loaded,
                "rows_rejected": s.rows_rejected,
                "soft_fixed": s.soft_fixed,
                "soft_fixed_detail": s.soft_fixed_detail,
                "bytes": s.bytes,
                "duration_ms": r.duration_ms,
                "error": r.error,
            })
        ),
        RunFormat::Text => {
            println!(
                "{:<34} {:>10} {:>10} {:>9} {:>10} {:>12}  {status}",
                r.model, s.rows_read, s.rows_loaded, s.rows_rejected, s.soft_fixed, s.bytes
            );
            if let Some(e) = &r.error {
                println!("    {e}");
            }
        }
    }
}

async fn run_dates_locked(
    compiled: Arc<Compiled>,
    lakehouse: &Lakehouse,
    dates: Vec<NaiveDate>,
    base: RunOptions,
    resume: bool,
    format: RunFormat,
) -> Result<i32> {
    for biz_date in dates {
        let mut options = RunOptions {
            biz_date,
            run_id: new_run_id(),
            ..base.clone()
        };
        if resume {
            match crate::ledger::resumable(lakehouse, biz_date).await? {
                Some((resumed, done)) => {
                    if format == RunFormat::Text {
                        eprintln!(
                            "resuming {resumed} for {biz_date}: {} models and sources already built are left alone",
                            done.len()
                        );
                    }
                    options.done = done;
                    options.command = "resume".into();
                }
                None => {
                    if format == RunFormat::Text {
                        eprintln!(
                            "nothing to resume: {biz_date} has not run in this lakehouse yet; running it in full"
                        );
                    }
                }
            }
        }
        let total = match &options.nodes {
            Some(n) => n.difference(&options.done).count(),
            None => compiled.dag.nodes().filter(|n| !options.done.contains(*n)).count(),
        };
        let mut progress = Progress::new(format, total);
        let report = run(compiled.clone(), lakehouse.clone(), options, |event| progress.on(event)).await?;
        progress.finish();
        if format == RunFormat::Text {
            print_summary(&compiled, lakehouse, &report);
        }
        if report.failed() > 0 || report.count(Status::Skipped) > 0 {
            let err = Error::RunFailed {
                failed: report.failed(),
                total: report.results.len(),
            };
            eprintln!("error: {err} for {biz_date}");
            return Ok(err.exit_code());
        }
    }
    Ok(0)
}

/// The dates a `run` builds: `--date`, the landed dates within `--from`/`--to`,
/// or the latest landed date.
fn business_dates(
    landing: &Path,
    date: Option<NaiveDate>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Vec<NaiveDate>> {
    if let Some(d) = date {
        return Ok(vec![d]);
    }
    let landed = source::landed_dates(landing).map_err(|e| {
        Error::Usage(format!(
            "no --date given and the landing directory cannot be read ({e})"
        ))
    })?;
    match (from, to) {
        (Some(from), Some(to)) => {
            if from > to {
                return Err(Error::Usage(format!("--from {from} is after --to {to}")));
            }
            let dates: Vec<NaiveDate> = landed.into_iter().filter(|d| *d >= from && *d <= to).collect();
            if dates.is_empty() {
                return Err(Error::Usage(format!(
                    "no business date between {from} and {to} has landed in {}",
                    landing.display()
                )));
            }
            Ok(dates)
        }
        _ => landed.last().copied().map(|d| vec![d]).ok_or_else(|| {
            Error::Usage(format!(
                "no --date given and no business date has landed in {}",
                landing.display()
            ))
        }),
    }
}

/// How a run shows its progress: a live view on a terminal (done/total, running
/// models, rows, elapsed), plain lines otherwise, JSON events for schedulers.
struct Progress {
    format: RunFormat,
    bar: Option<indicatif::ProgressBar>,
    running: std::collections::BTreeSet<String>,
    rows: u64,
}

impl Progress {
    fn new(format: RunFormat, total: usize) -> Progress {
        use std::io::IsTerminal;
        let bar = (format == RunFormat::Text && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style.progress_chars("=> "));
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Progress {
            format,
            bar,
            running: Default::default(),
            rows: 0,
        }
    }

    fn on(&mut self, event: &Event) {
        let Some(bar) = &self.bar else {
            return print_event(event, self.format);
        };
        match event {
            Event::ModelStarted { model, .. } => {
                self.running.insert(model.clone());
            }
            Event::ModelFinished(r) => {
                self.running.remove(&r.model);
                self.rows += r.rows;
                bar.inc(1);
                if r.status != Status::Success {
                    bar.println(format!(
                        "  {:<8} {} — {}",
                        r.status.as_str(),
                        r.model,
                        r.error.as_deref().unwrap_or("")
                    ));
                }
            }
            Event::RunFinished { .. } => {}
        }
        let running: Vec<&str> = self.running.iter().map(String::as_str).collect();
        bar.set_message(format!("{} rows; running: {}", self.rows, running.join(", ")));
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn print_event(event: &Event, format: RunFormat) {
    match format {
        RunFormat::Json => {
            if let Ok(line) = serde_json::to_string(event) {
                println!("{line}");
            }
        }
        RunFormat::Text => match event {
            Event::ModelStarted { model, biz_date, .. } => eprintln!("  start    {model} ({biz_date})"),
            Event::ModelFinished(r) => {
                let detail = match r.status {
                    Status::Success => format!(
                        "{} rows in {:.2}s{}",
                        r.rows,
                        r.duration_ms as f64 / 1000.0,
                        r.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default()
                    ),
                    _ => r.error.clone().unwrap_or_default(),
                };
                eprintln!("  {:<8} {} — {detail}", r.status.as_str(), r.model);
            }
            Event::RunFinished { .. } => {}
        },
    }
}

fn print_summary(compiled: &Compiled, lakehouse: &Lakehouse, report: &RunReport) {
    let order: Vec<&String> = compiled.levels.iter().flatten().collect();
    let mut rows: Vec<_> = report.results.iter().collect();
    rows.sort_by_key(|r| order.iter().position(|n| **n == r.model).unwrap_or(usize::MAX));
    let width = rows.iter().map(|r| r.model.len()).max().unwrap_or(5).max(5);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nbusiness date {}  run {}  lakehouse {}",
        report.biz_date,
        report.run_id,
        lakehouse.root()
    );
    let _ = writeln!(
        out,
        "{:<width$}  {:<7}  {:>9}  {:>8}  {:>7}",
        "model", "status", "rows", "seconds", "version"
    );
    for r in &rows {
        let version = r.delta_version.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<width$}  {:<7}  {:>9}  {:>8.2}  {:>7}",
            r.model,
            r.status.as_str(),
            r.rows,
            r.duration_ms as f64 / 1000.0,
            version
        );
    }
    for r in rows.iter().filter(|r| r.note.is_some()) {
        let _ = writeln!(out, "note: {}: {}", r.model, r.note.as_deref().unwrap_or(""));
    }
    if report.already_done > 0 {
        let _ = writeln!(
            out,
            "{} already built by the resumed run, left alone",
            report.already_done
        );
    }
    let _ = writeln!(
        out,
        "{} succeeded, {} failed, {} skipped in {:.1}s",
        report.count(Status::Success),
        report.failed(),
        report.count(Status::Skipped),
        report.duration_ms as f64 / 1000.0
    );
    for r in rows.iter().filter(|r| r.status == Status::Failed) {
        let _ = writeln!(
            out,
            "\nFAILED {}\n  {}",
            r.model,
            r.error.as_deref().unwrap_or("").replace('\n', "\n  ")
        );
    }
}

/// `lakemart gen`: write the extracts and say what was written.
fn generate(scale: &f64, date: &NaiveDate, days: &u32, out: &Path, seed: &u64) -> Result<i32> {
    let started = std::time::Instant::now();
    let summary = crate::generator::generate(&crate::generator::GenOptions {
        scale: *scale,
        last_date: *date,
        days: *days,
        out: out.to_path_buf(),
        seed: *seed,
    })?;
    println!(
        "wrote {} files ({:.1} MB) for {} business date(s) ending {date} into {}: {} customers, {} accounts, in {:.1} s",
        summary.files,
        summary.bytes as f64 / 1e6,
        days,
        out.display(),
        summary.customers,
        summary.accounts,
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}
