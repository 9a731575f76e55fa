//! Run: ingest the sources of a business date and build the models in
//! dependency order, independent ones concurrently, each streamed into its
//! Delta table. A failure skips exactly what depends on it.
//!
//! This is the only module that joins a plan to a table.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::compile::{Compiled, biz_date_params, storable};
use crate::engine;
use crate::error::{Error, Result, df_message};
use crate::project::Layer;
use crate::source;
use crate::store::{CommitTag, Lakehouse, WriteOutcome, days_since_epoch};

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The business date being built.
    pub biz_date: NaiveDate,
    /// How many models and sources may run at once.
    pub threads: usize,
    /// Model or source names to run; empty means everything.
    pub select: Vec<String>,
    /// The run's id, stored in every commit.
    pub run_id: String,
}

/// How one model or source ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Success,
    Failed,
    Skipped,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// The outcome of one model or source in a run.
#[derive(Debug, Clone, Serialize)]
pub struct NodeResult {
    pub model: String,
    pub status: Status,
    pub rows: u64,
    pub duration_ms: u64,
    pub delta_version: Option<u64>,
    /// Why it failed, or which upstream failure skipped it.
    pub error: Option<String>,
}

/// Everything a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub biz_date: NaiveDate,
    /// In the order they finished.
    pub results: Vec<NodeResult>,
    pub duration_ms: u64,
}

impl RunReport {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| r.status == Status::Failed).count()
    }

    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }
}

/// Progress events, as `lakemart run --format json` prints them.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    ModelStarted {
        run_id: String,
        model: String,
        biz_date: NaiveDate,
    },
    ModelFinished(NodeResult),
    RunFinished {
        run_id: String,
        biz_date: NaiveDate,
        status: &'static str,
        success: usize,
        failed: usize,
        skipped: usize,
        duration_ms: u64,
    },
}

/// A new run id: UTC time plus process id, sortable.
pub fn new_run_id() -> String {
    format!(
        "{}-{:05}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        std::process::id() % 100_000
    )
}

/// Which nodes a selection means: named models and source tables, plus the
/// sources the selected models read. Empty selection: every source and model.
pub fn selected_nodes(compiled: &Compiled, select: &[String]) -> Result<BTreeSet<String>> {
    if select.is_empty() {
        return Ok(compiled.dag.nodes().map(str::to_string).collect());
    }
    let mut nodes = BTreeSet::new();
    for name in select {
        if !compiled.dag.contains(name) {
            let names = compiled.dag.nodes();
            return Err(Error::Usage(format!(
                "--select: no model or source named '{name}'{}",
                crate::compile::suggest(name, names)
            )));
        }
        nodes.insert(name.clone());
        for dep in compiled.dag.deps(name) {
            if dep.starts_with("src.") {
                nodes.insert(dep.to_string());
            }
        }
    }
    Ok(nodes)
}

/// Run the selected nodes for one business date. Failures are in the report,
/// not in the `Err`, which is kept for problems that stop the whole run.
pub async fn run(
    compiled: Arc<Compiled>,
    lakehouse: Lakehouse,
    options: RunOptions,
    mut on_event: impl FnMut(&Event),
) -> Result<RunReport> {
    let started = Instant::now();
    let nodes = selected_nodes(&compiled, &options.select)?;
    let threads = options.threads.max(1);
    // Each model gets its share of the cores for DataFusion's own parallelism.
    let partitions = (engine::cores() / threads).max(1);

    // Dependencies counted within the selection only; upstream tables outside it must already exist.
    let mut waiting: BTreeMap<String, usize> = nodes
        .iter()
        .map(|n| (n.clone(), compiled.dag.deps(n).filter(|d| nodes.contains(*d)).count()))
        .collect();
    let mut ready: BTreeSet<String> = waiting
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(k, _)| k.clone())
        .collect();
    for n in &ready {
        waiting.remove(n);
    }
    let mut results = Vec::new();
    let mut tasks: JoinSet<(String, u64, Result<WriteOutcome>)> = JoinSet::new();

    loop {
        while tasks.len() < threads
            && let Some(name) = ready.pop_first()
        {
            on_event(&Event::ModelStarted {
                run_id: options.run_id.clone(),
                model: name.clone(),
                biz_date: options.biz_date,
            });
            let compiled = compiled.clone();
            let lakehouse = lakehouse.clone();
            let tag = CommitTag {
                run_id: options.run_id.clone(),
                biz_date: options.biz_date,
                model: name.clone(),
            };
            tasks.spawn(async move {
                let t = Instant::now();
                let result = build_node(&compiled, &lakehouse, &name, &tag, partitions).await;
                (name, t.elapsed().as_millis() as u64, result)
            });
        }
        let Some(joined) = tasks.join_next().await else { break };
        let (name, duration_ms, result) = joined.map_err(|e| Error::Internal(format!("task panicked: {e}")))?;
        let result = match result {
            Ok(w) => {
                for d in compiled.dag.dependents(&name) {
                    if let Some(n) = waiting.get_mut(d) {
                        *n -= 1;
                        if *n == 0 {
                            waiting.remove(d);
                            ready.insert(d.to_string());
                        }
                    }
                }
                NodeResult {
                    model: name,
                    status: Status::Success,
                    rows: w.rows,
                    duration_ms,
                    delta_version: Some(w.version),
                    error: None,
                }
            }
            Err(e) => {
                let skipped: Vec<String> = compiled
                    .dag
                    .downstream(&name)
                    .into_iter()
                    .filter(|d| waiting.remove(d).is_some())
                    .collect();
                let failed = NodeResult {
                    model: name.clone(),
                    status: Status::Failed,
                    rows: 0,
                    duration_ms,
                    delta_version: None,
                    error: Some(e.to_string()),
                };
                on_event(&Event::ModelFinished(failed.clone()));
                results.push(failed);
                for s in skipped {
                    let r = NodeResult {
                        model: s,
                        status: Status::Skipped,
                        rows: 0,
                        duration_ms: 0,
                        delta_version: None,
                        error: Some(format!("upstream {name} failed")),
                    };
                    on_event(&Event::ModelFinished(r.clone()));
                    results.push(r);
                }
                continue;
            }
        };
        on_event(&Event::ModelFinished(result.clone()));
        results.push(result);
    }
    if !waiting.is_empty() {
        return Err(Error::Internal(format!(
            "nodes never became ready: {:?}",
            waiting.keys()
        )));
    }
    let report = RunReport {
        run_id: options.run_id.clone(),
        biz_date: options.biz_date,
        results,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    on_event(&Event::RunFinished {
        run_id: report.run_id.clone(),
        biz_date: report.biz_date,
        status: if report.failed() == 0 { "success" } else { "failed" },
        success: report.count(Status::Success),
        failed: report.failed(),
        skipped: report.count(Status::Skipped),
        duration_ms: report.duration_ms,
    });
    Ok(report)
}

/// Ingest one source table or build one model.
async fn build_node(
    compiled: &Compiled,
    lakehouse: &Lakehouse,
    name: &str,
    tag: &CommitTag,
    partitions: usize,
) -> Result<WriteOutcome> {
    let ctx = engine::session(partitions)?;
    if let Some(table) = compiled.project.sources.get(name) {
        let plan = source::extract_plan(&ctx, &compiled.project.landing, table, tag.biz_date).await?;
        return lakehouse
            .replace_biz_date(Layer::Src, &table.staged_name(), plan, ctx.state(), tag)
            .await
            .map_err(|e| Error::Source {
                table: name.to_string(),
                message: message(e),
            });
    }
    let model = compiled
        .models
        .get(name)
        .ok_or_else(|| Error::Internal(format!("{name} is not compiled")))?;
    let project_model = &compiled.project.models[name];
    let fail = |message: String| Error::Model {
        model: name.to_string(),
        message,
    };
    for dep in &model.depends_on {
        let (layer, table) = split_name(dep)?;
        let provider = match lakehouse.open(layer, table).await.map_err(|e| fail(message(e)))? {
            Some(t) => t.table_provider().await.map_err(|e| fail(e.to_string()))?,
            None => {
                return Err(fail(format!(
                    "upstream table {dep} has not been built in this lakehouse yet: run it first, or select it too"
                )));
            }
        };
        engine::register(&ctx, layer, table, provider)?;
    }
    let state = ctx.state();
    let plan = state
        .statement_to_plan(model.statement.clone())
        .await
        .and_then(|p| p.with_param_values(biz_date_params(Some(days_since_epoch(tag.biz_date)))))
        .and_then(storable)
        .map_err(|e| fail(df_message(&e)))?;
    lakehouse
        .overwrite(project_model.layer, project_model.table(), plan, state, tag)
        .await
        .map_err(|e| fail(message(e)))
}

/// An error's message without our own wrapping.
fn message(e: Error) -> String {
    match e {
        Error::DataFusion(e) => df_message(&e),
        Error::Delta(deltalake::DeltaTableError::Arrow { source }) => source.to_string(),
        other => other.to_string(),
    }
}

/// `layer.table` → its parts.
pub fn split_name(name: &str) -> Result<(Layer, &str)> {
    name.split_once('.')
        .and_then(|(l, t)| Layer::parse(l).map(|l| (l, t)))
        .ok_or_else(|| Error::Internal(format!("'{name}' is not a layer.table name")))
}
