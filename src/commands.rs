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
use crate::{engine, query, source};

/// Run one command line; `Ok` carries the exit code.
pub async fn execute(cli: Cli) -> Result<i32> {
    let project = Project::load(&cli.project)?;
    let lakehouse = match &cli.lakehouse {
        Some(l) => Lakehouse::new(l, &std::env::current_dir().map_err(|e| Error::io(".", e))?)?,
        None => Lakehouse::new(&project.lakehouse, &project.root)?,
    };
    match cli.command {
        Command::Compile { format } => {
            let started = std::time::Instant::now();
            let compiled = compile(project).await?;
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
        Command::Dag { format } => {
            let compiled = compile(project).await?;
            let text = match format {
                DagFormat::Text => compiled.dag.render_text(&compiled.levels),
                DagFormat::Dot => compiled.dag.render_dot(),
                DagFormat::Mermaid => compiled.dag.render_mermaid(),
            };
            print!("{text}");
            Ok(0)
        }
        Command::Query { sql, format } => {
            let ctx = query::session(&project, &lakehouse).await?;
            let batches = query::query(&ctx, &sql).await?;
            print!("{}", query::render(&batches, format)?);
            Ok(0)
        }
        Command::Run {
            date,
            from,
            to,
            threads,
            select,
            format,
        } => {
            let dates = business_dates(&project.landing, date, from, to)?;
            let compiled = Arc::new(compile(project).await?);
            let threads = threads.unwrap_or_else(engine::cores);
            for biz_date in dates {
                let options = RunOptions {
                    biz_date,
                    threads,
                    select: select.clone(),
                    run_id: new_run_id(),
                };
                let report = run(compiled.clone(), lakehouse.clone(), options, |event| {
                    print_event(event, format)
                })
                .await?;
                if format == RunFormat::Text {
                    print_summary(&compiled, &lakehouse, &report);
                }
                if report.failed() > 0 {
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
    }
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
                    Status::Success => format!("{} rows in {:.2}s", r.rows, r.duration_ms as f64 / 1000.0),
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
