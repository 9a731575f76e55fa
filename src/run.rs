//! Run: ingest the sources of a business date and build the models in
//! dependency order, independent ones concurrently, each streamed into its
//! Delta table. A failure skips exactly what depends on it.
//!
//! This is the only module that joins a plan to a table.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio::task::JoinSet;

use crate::compile::{Compiled, biz_date_params, storable};
use crate::engine;
use crate::error::{Error, Result, df_message, plain_message as message};
use crate::ledger::{self, ModelRun, RunRecord};
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
    /// The nodes to run (see [`crate::select`]); `None` means everything.
    pub nodes: Option<BTreeSet<String>>,
    /// Nodes already built for this date by the run being resumed: left alone.
    pub done: BTreeSet<String>,
    /// `run`, or `resume` when continuing an earlier run of the date.
    pub command: String,
    /// The selection as the user wrote it, for the run record.
    pub selection: String,
    /// The run's id, stored in every commit.
    pub run_id: String,
    /// Further attempts after a transient failure (I/O, commit conflict).
    pub retries: u32,
    /// First retry delay; doubled each time.
    pub backoff: Duration,
    /// A model taking longer fails.
    pub timeout: Option<Duration>,
    /// After the first failure, start nothing new; the rest is recorded as skipped.
    pub fail_fast: bool,
    /// Rebuild incremental models from scratch.
    pub full_refresh: bool,
}

impl RunOptions {
    /// Defaults for a full run of `biz_date`.
    pub fn new(biz_date: NaiveDate) -> RunOptions {
        RunOptions {
            biz_date,
            threads: engine::cores(),
            nodes: None,
            done: BTreeSet::new(),
            command: "run".into(),
            selection: String::new(),
            run_id: new_run_id(),
            retries: 2,
            backoff: Duration::from_secs(1),
            timeout: None,
            fail_fast: false,
            full_refresh: false,
        }
    }
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
    /// Attempts made (1 unless retried; 0 when skipped).
    pub attempt: u32,
    /// Why it failed, or which upstream failure skipped it.
    pub error: Option<String>,
    /// A remark on a success (e.g. nothing appended on a re-run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A source table's ingest figures (rows read, loaded, rejected, soft-fixed, bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ingest: Option<source::SourceStats>,
    #[serde(skip)]
    pub started_at: DateTime<Utc>,
    #[serde(skip)]
    pub finished_at: DateTime<Utc>,
}

/// Everything a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub biz_date: NaiveDate,
    /// In the order they finished.
    pub results: Vec<NodeResult>,
    /// Nodes left alone because the resumed run had built them.
    pub already_done: usize,
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

/// Errors worth another attempt: storage and commit trouble, not SQL or data.
fn is_transient(e: &Error) -> bool {
    use deltalake::DeltaTableError as D;
    match e {
        Error::Io { .. } => true,
        Error::Delta(D::ObjectStore { .. } | D::Io { .. } | D::VersionAlreadyExists(_)) => true,
        Error::Delta(D::Transaction { source }) => {
            matches!(
                source,
                deltalake::kernel::transaction::TransactionError::CommitConflict(_)
                    | deltalake::kernel::transaction::TransactionError::VersionAlreadyExists(_)
                    | deltalake::kernel::transaction::TransactionError::ObjectStore { .. }
            )
        }
        Error::Model { transient, .. } | Error::Source { transient, .. } => *transient,
        _ => false,
    }
}

fn result(model: String, status: Status, error: Option<String>) -> NodeResult {
    let now = Utc::now();
    NodeResult {
        model,
        status,
        rows: 0,
        duration_ms: 0,
        delta_version: None,
        attempt: 0,
        error,
        note: None,
        ingest: None,
        started_at: now,
        finished_at: now,
    }
}

/// Run the selected nodes for one business date, recording every outcome in
/// `_lakemart.model_run` as it happens. Failures are in the report, not in the
/// `Err`, which is kept for problems that stop the whole run.
pub async fn run(
    compiled: Arc<Compiled>,
    lakehouse: Lakehouse,
    options: RunOptions,
    mut on_event: impl FnMut(&Event),
) -> Result<RunReport> {
    let started = Instant::now();
    let started_at = Utc::now();
    let selected: BTreeSet<String> = match &options.nodes {
        Some(n) => n.clone(),
        None => compiled.dag.nodes().map(str::to_string).collect(),
    };
    let already_done = selected.intersection(&options.done).count();
    let nodes: BTreeSet<String> = selected.difference(&options.done).cloned().collect();
    let threads = options.threads.max(1);
    // Each model gets its share of the cores for DataFusion's own parallelism; a run
    // of fewer nodes than threads (one big source table) gives each more.
    let slots = threads.min(nodes.len().max(1));
    let partitions = (engine::cores() / slots).max(1);
    let mut record = RunRecord {
        run_id: options.run_id.clone(),
        command: options.command.clone(),
        biz_date: options.biz_date,
        started_at,
        finished_at: None,
        status: "running".into(),
        success: 0,
        failed: 0,
        skipped: 0,
        host: ledger::host(),
        selection: options.selection.clone(),
    };
    ledger::record_run(&lakehouse, &record).await?;
    // The prints of the snapshot_diff models are read from disk while the sources
    // are staged.
    for name in &nodes {
        if is_snapshot_diff(&compiled, name)
            && let Ok((layer, table)) = split_name(name)
            && let Ok(url) = lakehouse.table_url(layer, table)
        {
            crate::fingerprint::read_ahead(&url);
        }
    }

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
    let mut results: Vec<NodeResult> = Vec::new();
    let mut tasks: JoinSet<NodeResult> = JoinSet::new();
    let mut stop_reason: Option<String> = None;

    loop {
        while stop_reason.is_none()
            && tasks.len() < threads
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
            let (retries, backoff, timeout, full_refresh) =
                (options.retries, options.backoff, options.timeout, options.full_refresh);
            tasks.spawn(async move {
                let started_at = Utc::now();
                let t = Instant::now();
                let mut attempt = 0;
                let mut ingest = None;
                let outcome = loop {
                    attempt += 1;
                    let build = build_node(&compiled, &lakehouse, &name, &tag, partitions, slots, full_refresh);
                    let outcome = match timeout {
                        Some(limit) => match tokio::time::timeout(limit, build).await {
                            Ok((r, stats)) => {
                                ingest = stats;
                                r
                            }
                            Err(_) => Err(Error::Model {
                                model: name.clone(),
                                message: format!("timed out after {}s", limit.as_secs_f64()),
                                transient: false,
                            }),
                        },
                        None => {
                            let (r, stats) = build.await;
                            ingest = stats;
                            r
                        }
                    };
                    match outcome {
                        Err(e) if attempt <= retries && is_transient(&e) => {
                            let delay = backoff * 2u32.saturating_pow(attempt - 1);
                            tracing::warn!("{name}: attempt {attempt} failed ({e}); retrying in {delay:?}");
                            tokio::time::sleep(delay).await;
                        }
                        other => break other,
                    }
                };
                let mut r = result(name, Status::Success, None);
                r.ingest = ingest;
                r.attempt = attempt;
                r.started_at = started_at;
                r.duration_ms = t.elapsed().as_millis() as u64;
                match outcome {
                    Ok(w) => {
                        r.rows = w.rows;
                        r.delta_version = Some(w.version);
                        r.note = w.note;
                        if let Some(rejected) = r.ingest.as_ref().map(|s| s.rows_rejected).filter(|n| *n > 0) {
                            let table = r.model.strip_prefix("src.").unwrap_or(&r.model);
                            let rejects = format!("{rejected} rejected: see {}.{table}", crate::store::REJECTS);
                            r.note = Some(match r.note.take() {
                                Some(note) => format!("{note}; {rejects}"),
                                None => rejects,
                            });
                        }
                    }
                    Err(e) => {
                        r.status = Status::Failed;
                        r.error = Some(e.to_string());
                    }
                }
                r.finished_at = Utc::now();
                r
            });
        }
        let Some(joined) = tasks.join_next().await else { break };
        let done = joined.map_err(|e| Error::Internal(format!("task panicked: {e}")))?;
        let mut finished = vec![done.clone()];
        if done.status == Status::Success {
            for d in compiled.dag.dependents(&done.model) {
                if let Some(n) = waiting.get_mut(d) {
                    *n -= 1;
                    if *n == 0 {
                        waiting.remove(d);
                        ready.insert(d.to_string());
                    }
                }
            }
        } else {
            let skipped = compiled
                .dag
                .downstream(&done.model)
                .into_iter()
                .filter(|d| waiting.remove(d).is_some());
            finished
                .extend(skipped.map(|s| result(s, Status::Skipped, Some(format!("upstream {} failed", done.model)))));
            if options.fail_fast && stop_reason.is_none() {
                stop_reason = Some(format!("not started: --fail-fast after {} failed", done.model));
            }
        }
        if let Some(reason) = &stop_reason {
            let rest: Vec<String> = std::mem::take(&mut ready)
                .into_iter()
                .chain(std::mem::take(&mut waiting).into_keys())
                .collect();
            finished.extend(
                rest.into_iter()
                    .map(|s| result(s, Status::Skipped, Some(reason.clone()))),
            );
        }
        for r in &finished {
            on_event(&Event::ModelFinished(r.clone()));
        }
        ledger::record_models(
            &lakehouse,
            &finished.iter().map(|r| model_run(&options, r)).collect::<Vec<_>>(),
        )
        .await?;
        results.extend(finished);
    }
    if !waiting.is_empty() || !ready.is_empty() {
        return Err(Error::Internal(format!(
            "nodes never ran: {:?}",
            waiting.keys().chain(ready.iter()).collect::<Vec<_>>()
        )));
    }
    let report = RunReport {
        run_id: options.run_id.clone(),
        biz_date: options.biz_date,
        results,
        already_done,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    record.finished_at = Some(Utc::now());
    record.status = if report.failed() == 0 && report.count(Status::Skipped) == 0 {
        "success"
    } else {
        "failed"
    }
    .into();
    record.success = report.count(Status::Success) as i64;
    record.failed = report.failed() as i64;
    record.skipped = report.count(Status::Skipped) as i64;
    ledger::record_run(&lakehouse, &record).await?;
    on_event(&Event::RunFinished {
        run_id: report.run_id.clone(),
        biz_date: report.biz_date,
        status: if record.status == "success" {
            "success"
        } else {
            "failed"
        },
        success: report.count(Status::Success),
        failed: report.failed(),
        skipped: report.count(Status::Skipped),
        duration_ms: report.duration_ms,
    });
    Ok(report)
}

fn model_run(options: &RunOptions, r: &NodeResult) -> ModelRun {
    ModelRun {
        run_id: options.run_id.clone(),
        biz_date: options.biz_date,
        model: r.model.clone(),
        status: r.status.as_str().to_string(),
        started_at: r.started_at,
        finished_at: r.finished_at,
        rows: r.rows as i64,
        delta_version: r.delta_version.map(|v| v as i64),
        attempt: r.attempt as i32,
        error: r.error.clone(),
    }
}

/// Ingest one source table (with its figures) or build one model.
async fn build_node(
    compiled: &Compiled,
    lakehouse: &Lakehouse,
    name: &str,
    tag: &CommitTag,
    partitions: usize,
    slots: usize,
    full_refresh: bool,
) -> (Result<WriteOutcome>, Option<source::SourceStats>) {
    let settings = compiled
        .project
        .models
        .get(name)
        .and_then(|m| m.meta.as_ref())
        .map(|m| m.settings.clone())
        .unwrap_or_default();
    // Its own share of the memory limit: one of `slots` nodes built at once.
    let runtime = match engine::model_runtime(slots) {
        Ok(rt) => rt,
        Err(e) => return (Err(e), None),
    };
    let ctx = match engine::session_in(partitions, &settings, runtime.clone()) {
        Ok(ctx) => ctx,
        Err(e) => return (Err(e), None),
    };
    if let Some(table) = compiled.project.sources.get(name) {
        let started = Instant::now();
        let (result, stats) = source::ingest(&ctx, lakehouse, &compiled.project.landing, table, tag).await;
        let record = ledger::IngestRecord {
            run_id: tag.run_id.clone(),
            biz_date: tag.biz_date,
            status: if result.is_ok() { "ok" } else { "failed" }.into(),
            duration_ms: started.elapsed().as_millis() as i64,
            error: result.as_ref().err().map(|e| e.to_string()),
            stats: stats.clone(),
        };
        if let Err(e) = ledger::record_ingest(lakehouse, &record).await {
            return (Err(e), Some(stats));
        }
        return (result, Some(stats));
    }
    (
        build_model(compiled, lakehouse, name, tag, &ctx, runtime, full_refresh).await,
        None,
    )
}

/// Build one model into its table, then run its data tests.
/// Whether `name` is a model materialized as snapshot_diff.
fn is_snapshot_diff(compiled: &Compiled, name: &str) -> bool {
    compiled
        .project
        .models
        .get(name)
        .and_then(|m| m.meta.as_ref())
        .is_some_and(|m| m.materialization == crate::project::Materialization::SnapshotDiff)
}

/// Register an upstream model's table for a model's SQL, with the columns it was
/// compiled against: a snapshot_diff table an earlier release made keeps a `row_hash`
/// column, which is not its model's (docs/materializations.md) and is left out.
async fn register_upstream(
    ctx: &deltalake::datafusion::prelude::SessionContext,
    layer: &str,
    name: &str,
    table: &deltalake::DeltaTable,
    snapshot_diff: bool,
) -> Result<()> {
    let provider = engine::provider(ctx, table).await?;
    let provider = match snapshot_diff && provider.schema().field_with_name("row_hash").is_ok() {
        true => ctx.read_table(provider)?.drop_columns(&["row_hash"])?.into_view(),
        false => provider,
    };
    engine::register_in(ctx, layer, name, provider)
}

async fn build_model(
    compiled: &Compiled,
    lakehouse: &Lakehouse,
    name: &str,
    tag: &CommitTag,
    ctx: &deltalake::datafusion::prelude::SessionContext,
    runtime: std::sync::Arc<deltalake::datafusion::execution::runtime_env::RuntimeEnv>,
    full_refresh: bool,
) -> Result<WriteOutcome> {
    let model = compiled
        .models
        .get(name)
        .ok_or_else(|| Error::Internal(format!("{name} is not compiled")))?;
    let project_model = &compiled.project.models[name];
    let fail = |message: String| Error::Model {
        model: name.to_string(),
        message,
        transient: false,
    };
    for dep in &model.depends_on {
        let (layer, table) = split_name(dep)?;
        let Some(t) = lakehouse.open(layer, table).await.map_err(|e| fail(message(e)))? else {
            return Err(fail(format!(
                "upstream table {dep} has not been built in this lakehouse yet: run it first, or select it too"
            )));
        };
        let snapshot_diff = is_snapshot_diff(compiled, dep);
        register_upstream(ctx, layer.as_str(), table, &t, snapshot_diff)
            .await
            .map_err(|e| fail(message(e)))?;
        if snapshot_diff && let Some(changes) = lakehouse.open(layer, &format!("{table}_changes")).await? {
            engine::register_delta(ctx, layer.as_str(), &format!("{table}_changes"), &changes).await?;
        }
    }
    let state = ctx.state();
    let plan = state
        .statement_to_plan(model.statement.clone())
        .await
        .and_then(|p| p.with_param_values(biz_date_params(Some(days_since_epoch(tag.biz_date)))))
        .and_then(storable)
        .map_err(|e| fail(df_message(&e)))?;
    let incremental = project_model
        .meta
        .as_ref()
        .filter(|m| m.materialization.is_incremental());
    let written = match incremental {
        Some(meta) => {
            crate::materialize::Incremental {
                lakehouse,
                layer: project_model.layer,
                table: project_model.table(),
                plan,
                state,
                tag,
                meta,
                full_refresh,
            }
            .run()
            .await
        }
        None => {
            lakehouse
                .overwrite(project_model.layer, project_model.table(), plan, state, tag)
                .await
        }
    }
    .map_err(|e| match e {
        e @ Error::Model { .. } => e,
        e => Error::Model {
            model: name.to_string(),
            transient: is_transient(&e),
            message: message(e),
        },
    })?;
    // Data tests right after the model; a failing `error` test fails it, so downstream is skipped.
    let outcomes = crate::testing::test_model(compiled, lakehouse, name, tag.biz_date, runtime).await?;
    ledger::record_tests(lakehouse, &tag.run_id, tag.biz_date, name, &outcomes).await?;
    match crate::testing::failure(name, &outcomes) {
        Some(e) => Err(e),
        None => Ok(written),
    }
}

/// `layer.table` → its parts.
pub fn split_name(name: &str) -> Result<(Layer, &str)> {
    name.split_once('.')
        .and_then(|(l, t)| Layer::parse(l).map(|l| (l, t)))
        .ok_or_else(|| Error::Internal(format!("'{name}' is not a layer.table name")))
}
