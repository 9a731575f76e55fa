//! What the operations team looks at: the last run of each business date from
//! the run records (failures, skips, slowest models, critical path), and
//! waiting for a date's extracts to land.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use crate::compile::Compiled;
use crate::error::Result;
use crate::ledger::{self, ModelRun, RunRecord};
use crate::project::Project;
use crate::source;
use crate::store::Lakehouse;

/// The chain of models that decided a run's length: each one's finish time is
/// its own duration plus the latest finish among its upstream models in the run.
pub fn critical_path(compiled: &Compiled, runs: &[ModelRun]) -> Vec<(String, i64)> {
    let duration: BTreeMap<&str, i64> = runs
        .iter()
        .filter(|r| r.status == "success")
        .map(|r| {
            (
                r.model.as_str(),
                (r.finished_at - r.started_at).num_milliseconds().max(0),
            )
        })
        .collect();
    let mut finish: BTreeMap<&str, (i64, Option<&str>)> = BTreeMap::new();
    for node in compiled.levels.iter().flatten() {
        let Some(d) = duration.get(node.as_str()) else { continue };
        let best = compiled
            .dag
            .deps(node)
            .filter_map(|up| finish.get(up).map(|(f, _)| (*f, up)))
            .max_by_key(|(f, _)| *f);
        let (start, via) = best.map(|(f, up)| (f, Some(up))).unwrap_or((0, None));
        finish.insert(node.as_str(), (start + d, via));
    }
    let Some((mut node, _)) = finish.iter().max_by_key(|(_, (f, _))| *f).map(|(n, v)| (*n, v)) else {
        return Vec::new();
    };
    let mut path = Vec::new();
    loop {
        path.push((node.to_string(), duration.get(node).copied().unwrap_or(0)));
        match finish.get(node).and_then(|(_, via)| *via) {
            Some(up) => node = up,
            None => break,
        }
    }
    path.reverse();
    path
}

/// `lakemart status`: exit 0 when the shown runs succeeded, 1 when one failed.
pub async fn print(
    lakehouse: &Lakehouse,
    compiled: Option<&Compiled>,
    date: Option<NaiveDate>,
    json: bool,
) -> Result<i32> {
    let runs = ledger::runs(lakehouse).await?;
    let last = ledger::last_per_date(&runs);
    let shown: Vec<&RunRecord> = last.values().filter(|r| date.is_none_or(|d| r.biz_date == d)).collect();
    if shown.is_empty() {
        match date {
            Some(d) => println!("no run of {d} is recorded in {}", lakehouse.root()),
            None => println!("no run is recorded in {}", lakehouse.root()),
        }
        return Ok(if date.is_some() { 1 } else { 0 });
    }
    let model_runs = ledger::model_runs(lakehouse, date).await?;
    let mut code = 0;
    let mut out = String::new();
    let mut json_dates = Vec::new();
    for r in shown {
        let mine: Vec<ModelRun> = model_runs.iter().filter(|m| m.run_id == r.run_id).cloned().collect();
        let state = match (r.finished_at, r.status.as_str()) {
            (None, _) => "did not finish (still running, or killed)",
            (_, "success") => "succeeded",
            _ => "failed",
        };
        if state != "succeeded" {
            code = 1;
        }
        let path = compiled.map(|c| critical_path(c, &mine)).unwrap_or_default();
        let mut slowest: Vec<&ModelRun> = mine.iter().filter(|m| m.status == "success").collect();
        slowest.sort_by_key(|m| std::cmp::Reverse((m.finished_at - m.started_at).num_milliseconds()));
        slowest.truncate(5);
        if json {
            json_dates.push(serde_json::json!({
                "biz_date": r.biz_date,
                "run": r,
                "state": state,
                "models": mine,
                "critical_path": path.iter().map(|(m, ms)| serde_json::json!({"model": m, "duration_ms": ms})).collect::<Vec<_>>(),
            }));
            continue;
        }
        let took = r
            .finished_at
            .map(|f| format!(" in {:.1}s", (f - r.started_at).num_milliseconds() as f64 / 1000.0));
        let _ = writeln!(
            out,
            "{}  run {} ({}) {state}{}: {} succeeded, {} failed, {} skipped; started {} on {}",
            r.biz_date,
            r.run_id,
            r.command,
            took.unwrap_or_default(),
            mine.iter().filter(|m| m.status == "success").count(),
            mine.iter().filter(|m| m.status == "failed").count(),
            mine.iter().filter(|m| m.status == "skipped").count(),
            r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.host
        );
        for m in mine.iter().filter(|m| m.status == "failed") {
            let _ = writeln!(
                out,
                "  failed   {} (attempt {}): {}",
                m.model,
                m.attempt,
                m.error.as_deref().unwrap_or("")
            );
        }
        for m in mine.iter().filter(|m| m.status == "skipped") {
            let _ = writeln!(out, "  skipped  {} ({})", m.model, m.error.as_deref().unwrap_or(""));
        }
        if !slowest.is_empty() {
            let list: Vec<String> = slowest
                .iter()
                .map(|m| {
                    format!(
                        "{} {:.2}s",
                        m.model,
                        (m.finished_at - m.started_at).num_milliseconds() as f64 / 1000.0
                    )
                })
                .collect();
            let _ = writeln!(out, "  slowest: {}", list.join(", "));
        }
        if !path.is_empty() {
            let total: i64 = path.iter().map(|(_, ms)| ms).sum();
            let chain: Vec<String> = path
                .iter()
                .map(|(m, ms)| format!("{m} ({:.2}s)", *ms as f64 / 1000.0))
                .collect();
            let _ = writeln!(
                out,
                "  critical path {:.2}s: {}",
                total as f64 / 1000.0,
                chain.join(" → ")
            );
        }
    }
    if json {
        println!("{}", serde_json::json!({ "dates": json_dates }));
    } else {
        print!("{out}");
    }
    Ok(code)
}

/// `lakemart wait`: 0 once every source table's extract for `date` is there;
/// 1 at the timeout, naming what is missing.
pub async fn wait_for_sources(project: &Project, date: NaiveDate, timeout: u64, interval: u64) -> Result<i32> {
    let started = Instant::now();
    loop {
        let missing: BTreeSet<String> = project
            .sources
            .values()
            .map(|t| source::arrival_path(&project.landing, t, date))
            .filter(|p| !p.is_file())
            .map(|p| p.display().to_string())
            .collect();
        if missing.is_empty() {
            println!("all {} extracts for {date} have landed", project.sources.len());
            return Ok(0);
        }
        if started.elapsed() >= Duration::from_secs(timeout) {
            eprintln!(
                "error: after {timeout}s, {} of {} extracts for {date} have not landed:",
                missing.len(),
                project.sources.len()
            );
            for m in &missing {
                eprintln!("  {m}");
            }
            return Ok(1);
        }
        tokio::time::sleep(Duration::from_secs(interval.max(1))).await;
    }
}
