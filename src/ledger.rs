//! Run records kept in the lakehouse as Delta tables: `_lakemart.run` (one
//! row when a run starts, one when it ends) and `_lakemart.model_run` (one row
//! per model or source as it finishes), read back for `--resume` and `status`.
//!
//! Rows are appended as they happen, so a killed run still leaves a record of
//! everything that finished before it died.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use deltalake::arrow::datatypes::{
    DataType, Date32Type, Field, Int32Type, Int64Type, Schema, SchemaRef, TimeUnit, TimestampMicrosecondType,
};
use deltalake::datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::store::{Lakehouse, days_since_epoch};

/// One model's or source's attempt in a run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelRun {
    pub run_id: String,
    pub biz_date: NaiveDate,
    pub model: String,
    /// `success`, `failed` or `skipped`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub rows: i64,
    pub delta_version: Option<i64>,
    pub attempt: i32,
    pub error: Option<String>,
}

/// A run's start or end.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRecord {
    pub run_id: String,
    /// `run` or `resume`.
    pub command: String,
    pub biz_date: NaiveDate,
    pub started_at: DateTime<Utc>,
    /// None on the record written when the run starts.
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `success` or `failed`.
    pub status: String,
    pub success: i64,
    pub failed: i64,
    pub skipped: i64,
    pub host: String,
    /// The selection the run was given, space separated; empty for everything.
    pub selection: String,
}

const RUN: &str = "run";
const MODEL_RUN: &str = "model_run";

fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn run_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("command", DataType::Utf8, false),
        Field::new("biz_date", DataType::Date32, false),
        Field::new("started_at", ts_type(), false),
        Field::new("finished_at", ts_type(), true),
        Field::new("status", DataType::Utf8, false),
        Field::new("success", DataType::Int64, false),
        Field::new("failed", DataType::Int64, false),
        Field::new("skipped", DataType::Int64, false),
        Field::new("host", DataType::Utf8, false),
        Field::new("selection", DataType::Utf8, false),
    ]))
}

fn model_run_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("biz_date", DataType::Date32, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("started_at", ts_type(), false),
        Field::new("finished_at", ts_type(), false),
        Field::new("rows", DataType::Int64, false),
        Field::new("delta_version", DataType::Int64, true),
        Field::new("attempt", DataType::Int32, false),
        Field::new("error", DataType::Utf8, true),
    ]))
}

fn micros(t: &DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn ts(values: Vec<Option<i64>>) -> ArrayRef {
    Arc::new(TimestampMicrosecondArray::from(values).with_timezone("UTC"))
}

fn batch(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(schema, columns).map_err(|e| Error::Internal(format!("run record batch: {e}")))
}

/// Append the start or end of a run to `_lakemart.run`.
pub async fn record_run(lakehouse: &Lakehouse, r: &RunRecord) -> Result<()> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![r.run_id.as_str()])),
        Arc::new(StringArray::from(vec![r.command.as_str()])),
        Arc::new(Date32Array::from(vec![days_since_epoch(r.biz_date)])),
        ts(vec![Some(micros(&r.started_at))]),
        ts(vec![r.finished_at.as_ref().map(micros)]),
        Arc::new(StringArray::from(vec![r.status.as_str()])),
        Arc::new(Int64Array::from(vec![r.success])),
        Arc::new(Int64Array::from(vec![r.failed])),
        Arc::new(Int64Array::from(vec![r.skipped])),
        Arc::new(StringArray::from(vec![r.host.as_str()])),
        Arc::new(StringArray::from(vec![r.selection.as_str()])),
    ];
    lakehouse.append_system(RUN, batch(run_schema(), columns)?).await
}

/// Append finished models to `_lakemart.model_run`.
pub async fn record_models(lakehouse: &Lakehouse, rows: &[ModelRun]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(Date32Array::from(
            rows.iter().map(|r| days_since_epoch(r.biz_date)).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.model.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        )),
        ts(rows.iter().map(|r| Some(micros(&r.started_at))).collect()),
        ts(rows.iter().map(|r| Some(micros(&r.finished_at))).collect()),
        Arc::new(Int64Array::from(rows.iter().map(|r| r.rows).collect::<Vec<_>>())),
        Arc::new(Int64Array::from(
            rows.iter().map(|r| r.delta_version).collect::<Vec<_>>(),
        )),
        Arc::new(Int32Array::from(rows.iter().map(|r| r.attempt).collect::<Vec<_>>())),
        Arc::new(StringArray::from(
            rows.iter().map(|r| r.error.as_deref()).collect::<Vec<_>>(),
        )),
    ];
    lakehouse
        .append_system(MODEL_RUN, batch(model_run_schema(), columns)?)
        .await
}

/// One source table's ingest for one date, as `_lakemart.ingest` keeps it.
#[derive(Debug, Clone)]
pub struct IngestRecord {
    pub run_id: String,
    pub biz_date: NaiveDate,
    /// `ok` or `failed`.
    pub status: String,
    pub duration_ms: i64,
    pub error: Option<String>,
    pub stats: crate::source::SourceStats,
}

const INGEST: &str = "ingest";

/// Append one ingest's figures to `_lakemart.ingest`.
pub async fn record_ingest(lakehouse: &Lakehouse, r: &IngestRecord) -> Result<()> {
    let s = &r.stats;
    let detail = serde_json::to_string(&s.soft_fixed_detail).map_err(|e| Error::Internal(e.to_string()))?;
    let schema = Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, true),
        Field::new("biz_date", DataType::Date32, true),
        Field::new("source", DataType::Utf8, true),
        Field::new("file", DataType::Utf8, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("rows_read", DataType::Int64, true),
        Field::new("rows_loaded", DataType::Int64, true),
        Field::new("rows_rejected", DataType::Int64, true),
        Field::new("soft_fixed", DataType::Int64, true),
        Field::new("soft_fixed_detail", DataType::Utf8, true),
        Field::new("bytes", DataType::Int64, true),
        Field::new("duration_ms", DataType::Int64, true),
        Field::new("error", DataType::Utf8, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![r.run_id.as_str()])),
        Arc::new(Date32Array::from(vec![days_since_epoch(r.biz_date)])),
        Arc::new(StringArray::from(vec![s.source.as_str()])),
        Arc::new(StringArray::from(vec![s.file.as_str()])),
        Arc::new(StringArray::from(vec![r.status.as_str()])),
        Arc::new(Int64Array::from(vec![s.rows_read as i64])),
        Arc::new(Int64Array::from(vec![s.rows_loaded as i64])),
        Arc::new(Int64Array::from(vec![s.rows_rejected as i64])),
        Arc::new(Int64Array::from(vec![s.soft_fixed as i64])),
        Arc::new(StringArray::from(vec![detail.as_str()])),
        Arc::new(Int64Array::from(vec![s.bytes as i64])),
        Arc::new(Int64Array::from(vec![r.duration_ms])),
        Arc::new(StringArray::from(vec![r.error.as_deref()])),
    ];
    lakehouse.append_system(INGEST, batch(schema, columns)?).await
}

async fn read_all(lakehouse: &Lakehouse, table: &str) -> Result<Vec<RecordBatch>> {
    let Some(t) = lakehouse.open_system(table).await? else {
        return Ok(Vec::new());
    };
    let ctx = SessionContext::new();
    let df = ctx.read_table(t.table_provider().await?)?;
    Ok(df.collect().await?)
}

fn date_of(days: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(days + 719_163).unwrap_or_default()
}

fn time_of(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn text(a: &dyn Array, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Utf8 => Some(a.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Some(a.as_string_view().value(i).to_string()),
        _ => None,
    }
}

fn col<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef> {
    b.column_by_name(name)
        .ok_or_else(|| Error::Internal(format!("run records lack column {name}")))
}

/// Every run record, in the order written.
pub async fn runs(lakehouse: &Lakehouse) -> Result<Vec<RunRecord>> {
    let mut out = Vec::new();
    for b in read_all(lakehouse, RUN).await? {
        let finished = col(&b, "finished_at")?
            .as_primitive::<TimestampMicrosecondType>()
            .clone();
        for i in 0..b.num_rows() {
            out.push(RunRecord {
                run_id: text(col(&b, "run_id")?, i).unwrap_or_default(),
                command: text(col(&b, "command")?, i).unwrap_or_default(),
                biz_date: date_of(col(&b, "biz_date")?.as_primitive::<Date32Type>().value(i)),
                started_at: time_of(
                    col(&b, "started_at")?
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(i),
                ),
                finished_at: (!finished.is_null(i)).then(|| time_of(finished.value(i))),
                status: text(col(&b, "status")?, i).unwrap_or_default(),
                success: col(&b, "success")?.as_primitive::<Int64Type>().value(i),
                failed: col(&b, "failed")?.as_primitive::<Int64Type>().value(i),
                skipped: col(&b, "skipped")?.as_primitive::<Int64Type>().value(i),
                host: text(col(&b, "host")?, i).unwrap_or_default(),
                selection: text(col(&b, "selection")?, i).unwrap_or_default(),
            });
        }
    }
    out.sort_by(|a, b| (&a.run_id, a.finished_at.is_some()).cmp(&(&b.run_id, b.finished_at.is_some())));
    Ok(out)
}

/// Every model run record of `biz_date` (or all dates).
pub async fn model_runs(lakehouse: &Lakehouse, biz_date: Option<NaiveDate>) -> Result<Vec<ModelRun>> {
    let mut out = Vec::new();
    for b in read_all(lakehouse, MODEL_RUN).await? {
        let version = col(&b, "delta_version")?.as_primitive::<Int64Type>().clone();
        for i in 0..b.num_rows() {
            let date = date_of(col(&b, "biz_date")?.as_primitive::<Date32Type>().value(i));
            if biz_date.is_some_and(|d| d != date) {
                continue;
            }
            out.push(ModelRun {
                run_id: text(col(&b, "run_id")?, i).unwrap_or_default(),
                biz_date: date,
                model: text(col(&b, "model")?, i).unwrap_or_default(),
                status: text(col(&b, "status")?, i).unwrap_or_default(),
                started_at: time_of(
                    col(&b, "started_at")?
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(i),
                ),
                finished_at: time_of(
                    col(&b, "finished_at")?
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(i),
                ),
                rows: col(&b, "rows")?.as_primitive::<Int64Type>().value(i),
                delta_version: (!version.is_null(i)).then(|| version.value(i)),
                attempt: col(&b, "attempt")?.as_primitive::<Int32Type>().value(i),
                error: text(col(&b, "error")?, i),
            });
        }
    }
    out.sort_by(|a, b| (&a.run_id, a.finished_at).cmp(&(&b.run_id, b.finished_at)));
    Ok(out)
}

/// What `--resume` may leave alone for `biz_date`: the models and sources that
/// succeeded since the last full run of that date (that run and the resumes after it).
/// Returns the run id resumed and the set; `None` when the date never ran.
pub async fn resumable(lakehouse: &Lakehouse, biz_date: NaiveDate) -> Result<Option<(String, BTreeSet<String>)>> {
    let runs = runs(lakehouse).await?;
    let Some(last_full) = runs
        .iter()
        .filter(|r| r.biz_date == biz_date && r.command == "run")
        .map(|r| r.run_id.clone())
        .max()
    else {
        return Ok(None);
    };
    let chain: BTreeSet<String> = runs
        .iter()
        .filter(|r| r.biz_date == biz_date && r.run_id >= last_full)
        .map(|r| r.run_id.clone())
        .collect();
    let mut done = BTreeSet::new();
    for m in model_runs(lakehouse, Some(biz_date)).await? {
        if chain.contains(&m.run_id) && m.status == "success" {
            done.insert(m.model);
        }
    }
    let last = chain.iter().next_back().cloned().unwrap_or(last_full);
    Ok(Some((last, done)))
}

/// The last run of each business date: its final record if it finished,
/// else its start record (a run that is still going, or was killed).
pub fn last_per_date(runs: &[RunRecord]) -> BTreeMap<NaiveDate, RunRecord> {
    let mut by_run: BTreeMap<&str, &RunRecord> = BTreeMap::new();
    for r in runs {
        let e = by_run.entry(r.run_id.as_str()).or_insert(r);
        if r.finished_at.is_some() {
            *e = r;
        }
    }
    let mut out: BTreeMap<NaiveDate, RunRecord> = BTreeMap::new();
    for r in by_run.values() {
        let e = out.entry(r.biz_date).or_insert_with(|| (*r).clone());
        if r.run_id > e.run_id {
            *e = (*r).clone();
        }
    }
    out
}

/// This machine's name, for run records and the lock.
pub fn host() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

/// Append data test outcomes to `_lakemart.test_result`.
pub async fn record_tests(
    lakehouse: &Lakehouse,
    run_id: &str,
    biz_date: NaiveDate,
    model: &str,
    outcomes: &[crate::datatest::TestOutcome],
) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new("biz_date", DataType::Date32, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("test", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("failing_rows", DataType::Int64, false),
        Field::new("message", DataType::Utf8, false),
        Field::new("sample", DataType::Utf8, false),
        Field::new("tested_at", ts_type(), false),
    ]));
    let n = outcomes.len();
    let now = micros(&Utc::now());
    let severity: Vec<String> = outcomes
        .iter()
        .map(|o| {
            serde_json::to_value(o.severity)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let status: Vec<String> = outcomes.iter().map(|o| o.status.to_string().to_lowercase()).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![run_id; n])),
        Arc::new(Date32Array::from(vec![days_since_epoch(biz_date); n])),
        Arc::new(StringArray::from(vec![model; n])),
        Arc::new(StringArray::from(
            outcomes.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            severity.iter().map(String::as_str).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(status.iter().map(String::as_str).collect::<Vec<_>>())),
        Arc::new(Int64Array::from(
            outcomes.iter().map(|o| o.failing_rows as i64).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            outcomes.iter().map(|o| o.message.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            outcomes.iter().map(|o| o.sample.join("\n")).collect::<Vec<_>>(),
        )),
        ts(vec![Some(now); n]),
    ];
    lakehouse.append_system("test_result", batch(schema, columns)?).await
}

/// Rows a model wrote on the last business date before `biz_date` that it succeeded on.
pub async fn previous_rows(lakehouse: &Lakehouse, model: &str, biz_date: NaiveDate) -> Result<Option<u64>> {
    Ok(model_runs(lakehouse, None)
        .await?
        .into_iter()
        .filter(|m| m.model == model && m.status == "success" && m.biz_date < biz_date)
        .max_by_key(|m| (m.biz_date, m.finished_at))
        .map(|m| m.rows.max(0) as u64))
}

/// One data test outcome as recorded in `_lakemart.test_result`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TestResult {
    pub run_id: String,
    pub biz_date: NaiveDate,
    pub model: String,
    /// The test's name, as [`crate::datatest::DataTestSpec::name`] gives it.
    pub test: String,
    /// `error` or `warn`.
    pub severity: String,
    /// `pass`, `fail` or `warn`.
    pub status: String,
    pub failing_rows: i64,
    pub message: String,
    /// Up to five failing rows, one a line.
    pub sample: String,
    pub tested_at: DateTime<Utc>,
}

/// Every data test outcome recorded in the lakehouse, oldest first.
pub async fn test_results(lakehouse: &Lakehouse) -> Result<Vec<TestResult>> {
    let mut out = Vec::new();
    for b in read_all(lakehouse, "test_result").await? {
        for i in 0..b.num_rows() {
            out.push(TestResult {
                run_id: text(col(&b, "run_id")?, i).unwrap_or_default(),
                biz_date: date_of(col(&b, "biz_date")?.as_primitive::<Date32Type>().value(i)),
                model: text(col(&b, "model")?, i).unwrap_or_default(),
                test: text(col(&b, "test")?, i).unwrap_or_default(),
                severity: text(col(&b, "severity")?, i).unwrap_or_default(),
                status: text(col(&b, "status")?, i).unwrap_or_default(),
                failing_rows: col(&b, "failing_rows")?.as_primitive::<Int64Type>().value(i),
                message: text(col(&b, "message")?, i).unwrap_or_default(),
                sample: text(col(&b, "sample")?, i).unwrap_or_default(),
                tested_at: time_of(
                    col(&b, "tested_at")?
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(i),
                ),
            });
        }
    }
    out.sort_by(|a, b| (a.tested_at, &a.model, &a.test).cmp(&(b.tested_at, &b.model, &b.test)));
    Ok(out)
}
