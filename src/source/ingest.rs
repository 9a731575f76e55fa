//! One source table for one business date: the extract streamed through the
//! reader and the rules into its staged Delta table in one commit, rejected
//! rows into `_rejects`, figures for `_lakemart.ingest`.
//!
//! The stream itself is the gate: when it ends it checks the control file and
//! the reject limit, and fails instead of ending cleanly when they disagree,
//! so the write never commits a table that should not be loaded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use deltalake::arrow::compute::{and, filter_record_batch, not};
use deltalake::arrow::datatypes::{DataType, Decimal128Type, DecimalType, Field, Schema, SchemaRef};
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::TaskContext;
use deltalake::datafusion::execution::session_state::SessionStateBuilder;
use deltalake::datafusion::functions_window::expr_fn::{first_value, row_number};
use deltalake::datafusion::logical_expr::{Expr, ExprFunctionExt, LogicalPlan, Partitioning, col, ident, lit};
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use deltalake::datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Serialize;

use super::reader::{Block, Layout, Splitter, parse};
use super::rules::Rules;
use crate::error::{Error, Result};
use crate::project::{ControlFile, SourceTable};
use crate::store::{CommitTag, Lakehouse, WriteOutcome, days_since_epoch};

/// Bytes per block handed to a parser.
const BLOCK_SIZE: usize = 1 << 20;

/// What one ingest of one table did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SourceStats {
    pub source: String,
    pub file: String,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    pub soft_fixed: u64,
    pub soft_fixed_detail: BTreeMap<String, u64>,
    pub bytes: u64,
}

/// A rejected record.
#[derive(Debug, Clone)]
struct Reject {
    line: i64,
    offset: i64,
    raw: Option<String>,
    column: Option<String>,
    rule: String,
    reason: String,
}

/// What the control file says.
#[derive(Debug, Clone, Default)]
struct Expected {
    path: PathBuf,
    rows: Option<u64>,
    /// (as written, unscaled value at the column's scale)
    sum: Option<(String, i128)>,
    sum_column: String,
}

#[derive(Default)]
struct Tally {
    rows_read: u64,
    rows_loaded: u64,
    soft: BTreeMap<String, u64>,
    sum: i128,
    rejects: Vec<Reject>,
    finished: bool,
}

/// State shared by every partition of one ingest.
struct Shared {
    path: PathBuf,
    layout: Layout,
    rules: Rules,
    splitter: Mutex<Splitter>,
    tally: Mutex<Tally>,
    active: AtomicUsize,
    expected: Option<Expected>,
    sum_scale: i8,
    max_rejects: u64,
    max_reject_rate: f64,
    /// The definition file, named when nearly every row is rejected.
    toml_path: PathBuf,
    failure: Mutex<Option<String>>,
    /// Typed columns, then `_line` and `_offset` when deduplicating.
    schema: SchemaRef,
    dedup: Option<Dedup>,
}

impl Shared {
    fn fail(&self, message: String) -> DataFusionError {
        let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if failure.is_none() {
            *failure = Some(message.clone());
        }
        DataFusionError::Execution(message)
    }

    fn check_reject_limit(&self, tally: &Tally) -> std::result::Result<(), DataFusionError> {
        if tally.rejects.len() as u64 > self.max_rejects {
            return Err(self.fail(format!(
                "more than {} rows rejected (max_rejects); first: line {}: {}; nothing was loaded",
                self.max_rejects,
                tally.rejects.first().map(|r| r.line).unwrap_or(0),
                tally.rejects.first().map(|r| r.reason.as_str()).unwrap_or("")
            )));
        }
        Ok(())
    }

    /// More than `max_reject_rate` of the rows read rejected: the file is not laid out as
    /// declared (another delimiter, a new column), and loading the few rows left would
    /// stage a table that looks like a day on which nearly every row went away.
    fn check_reject_rate(&self, tally: &Tally) -> std::result::Result<(), DataFusionError> {
        let (rejected, read) = (tally.rejects.len() as u64, tally.rows_read);
        if read == 0 || rejected as f64 <= self.max_reject_rate * read as f64 {
            return Ok(());
        }
        let first = tally.rejects.iter().min_by_key(|r| r.line);
        Err(self.fail(format!(
            "{rejected} of {read} rows rejected, more than max_reject_rate {} allows: is {} laid out as {} \
             declares? first: line {}: {}; nothing was loaded",
            self.max_reject_rate,
            self.path.display(),
            self.toml_path.display(),
            first.map(|r| r.line).unwrap_or(0),
            first.map(|r| r.reason.as_str()).unwrap_or("")
        )))
    }

    /// Parse one block, apply the rules, keep the rejects, return the good rows.
    fn process(&self, block: Block) -> std::result::Result<RecordBatch, DataFusionError> {
        let mut parsed = parse(&self.layout, &block);
        let rows = parsed.lines.len();
        let mut columns: Vec<ArrayRef> = parsed
            .columns
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef)
            .collect();
        columns.push(Arc::new(Int64Array::from(parsed.lines.clone())));
        let raw = RecordBatch::try_new(self.rules.input.clone(), columns)?;
        let checked = self
            .rules
            .apply(&raw)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;

        let mut keep = vec![true; rows];
        let mut rejects = Vec::new();
        let raw_text = |row: usize| {
            let (s, e) = parsed.ranges[row];
            self.layout.lossy(&block.bytes[s..e])
        };
        for (row, rule, reason) in &parsed.broken {
            keep[*row] = false;
            rejects.push(Reject {
                line: parsed.lines[*row],
                offset: parsed.offsets[*row],
                raw: Some(raw_text(*row)),
                column: None,
                rule: rule.to_string(),
                reason: reason.clone(),
            });
        }
        for (row, column, rule, reason) in checked.hard {
            if keep[row] {
                keep[row] = false;
                rejects.push(Reject {
                    line: parsed.lines[row],
                    offset: parsed.offsets[row],
                    raw: Some(raw_text(row)),
                    column: Some(column),
                    rule,
                    reason,
                });
            }
        }
        let mask = BooleanArray::from(keep);
        let mut soft = Vec::new();
        for (name, flags) in &checked.soft {
            let counted = and(flags, &mask)?.true_count() as u64;
            if counted > 0 {
                soft.push((name.clone(), counted));
            }
        }
        let sum = match &checked.control_sum {
            Some(values) => values
                .as_primitive::<Decimal128Type>()
                .iter()
                .flatten()
                .fold(0i128, |a, v| a.wrapping_add(v)),
            None => 0,
        };
        let mut values = checked.values;
        if self.dedup.is_some() {
            // `_line` is there already; dedup rejects find their raw line by offset.
            values.push(Arc::new(Int64Array::from(parsed.offsets.clone())));
        } else {
            values.pop();
        }
        let typed = RecordBatch::try_new(self.schema.clone(), values)?;
        let good = if mask.true_count() == rows {
            typed
        } else {
            filter_record_batch(&typed, &mask)?
        };

        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.rows_read += rows as u64;
        tally.sum = tally.sum.wrapping_add(sum);
        for (name, n) in soft {
            *tally.soft.entry(name).or_default() += n;
        }
        tally.rejects.extend(rejects);
        self.check_reject_limit(&tally)?;
        Ok(good)
    }

    /// Called by each partition when the file is exhausted; the last one checks the totals.
    fn finish(&self) -> std::result::Result<(), DataFusionError> {
        if self.active.fetch_sub(1, Ordering::SeqCst) != 1 {
            return Ok(());
        }
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        tally.finished = true;
        self.check_reject_rate(&tally)?;
        let Some(expected) = &self.expected else {
            return Ok(());
        };
        if let Some(rows) = expected.rows
            && rows != tally.rows_read
        {
            return Err(self.fail(format!(
                "{} holds {} rows but control file {} says {rows}; nothing was loaded",
                self.path.display(),
                tally.rows_read,
                expected.path.display()
            )));
        }
        if let Some((declared, wanted)) = &expected.sum
            && *wanted != tally.sum
        {
            let shown = Decimal128Type::format_decimal(tally.sum, 38, self.sum_scale);
            return Err(self.fail(format!(
                "sum of {} is {shown} but control file {} says {declared}; nothing was loaded",
                expected.sum_column,
                expected.path.display()
            )));
        }
        Ok(())
    }
}

/// The extract read by parallel partitions, each taking the next block.
#[derive(Debug)]
struct ExtractPartition {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "extract {}", self.path.display())
    }
}

impl PartitionStream for ExtractPartition {
    fn schema(&self) -> &SchemaRef {
        &self.shared.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let shared = self.shared.clone();
        shared.active.fetch_add(1, Ordering::SeqCst);
        let stream = futures::stream::unfold(Some(shared), |state| async move {
            let shared = state?;
            loop {
                let next = {
                    let mut splitter = shared.splitter.lock().unwrap_or_else(|e| e.into_inner());
                    splitter.next_block()
                };
                match next {
                    Ok(Some(block)) => match shared.process(block) {
                        Ok(batch) if batch.num_rows() == 0 => continue,
                        Ok(batch) => {
                            if !shared.dedup_downstream() {
                                shared.tally.lock().unwrap_or_else(|e| e.into_inner()).rows_loaded +=
                                    batch.num_rows() as u64;
                            }
                            return Some((Ok(batch), Some(shared)));
                        }
                        Err(e) => return Some((Err(e), None)),
                    },
                    Ok(None) => {
                        return match shared.finish() {
                            Ok(()) => None,
                            Err(e) => Some((Err(e), None)),
                        };
                    }
                    Err(e) => {
                        let e = shared.fail(format!("{}: {e}", shared.path.display()));
                        return Some((Err(e), None));
                    }
                }
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.shared.schema.clone(), stream))
    }
}

impl Shared {
    fn dedup_downstream(&self) -> bool {
        self.dedup.is_some()
    }
}

/// The output of the dedup window, split: winners go on, the others are rejected.
#[derive(Debug)]
struct DedupPartition {
    shared: Arc<Shared>,
    plan: Arc<dyn ExecutionPlan>,
    partition: usize,
    schema: SchemaRef,
}

impl PartitionStream for DedupPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let shared = self.shared.clone();
        let schema = self.schema.clone();
        let out_schema = schema.clone();
        let input = match self.plan.execute(self.partition, ctx) {
            Ok(s) => s,
            Err(e) => {
                return Box::pin(RecordBatchStreamAdapter::new(
                    schema,
                    futures::stream::once(async move { Err(e) }),
                ));
            }
        };
        let stream = input.map(move |batch| {
            let batch = batch?;
            let n = schema.fields().len();
            let rank = batch
                .column(n)
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(|| DataFusionError::Internal("row_number is not UInt64".into()))?;
            let winner = batch
                .column(n + 1)
                .as_primitive::<deltalake::arrow::datatypes::Int64Type>();
            let losers = BooleanArray::from_iter(rank.iter().map(|r| Some(r.unwrap_or(1) > 1)));
            let kept = RecordBatch::try_new(schema.clone(), batch.columns()[..n].to_vec())?;
            if losers.true_count() > 0 {
                let dedup = shared.dedup.as_ref().expect("dedup partition without dedup");
                let lines = kept
                    .column_by_name("_line")
                    .map(|c| c.as_primitive::<deltalake::arrow::datatypes::Int64Type>().clone());
                let offsets = kept
                    .column_by_name("_offset")
                    .map(|c| c.as_primitive::<deltalake::arrow::datatypes::Int64Type>().clone());
                let mut rejects = Vec::new();
                for row in (0..kept.num_rows()).filter(|r| losers.value(*r)) {
                    let key = dedup
                        .key
                        .iter()
                        .map(|k| {
                            let v = kept
                                .column_by_name(k)
                                .map(|c| {
                                    deltalake::arrow::util::display::array_value_to_string(c, row).unwrap_or_default()
                                })
                                .unwrap_or_default();
                            format!("{k}={v}")
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    rejects.push(Reject {
                        line: lines.as_ref().map(|l| l.value(row)).unwrap_or(0),
                        offset: offsets.as_ref().map(|o| o.value(row)).unwrap_or(0),
                        raw: None,
                        column: None,
                        rule: "duplicate".into(),
                        reason: format!(
                            "duplicate key {key}: line {} wins by {}",
                            winner.value(row),
                            dedup.order_by
                        ),
                    });
                }
                let mut tally = shared.tally.lock().unwrap_or_else(|e| e.into_inner());
                tally.rejects.extend(rejects);
                shared.check_reject_limit(&tally)?;
            }
            let good = filter_record_batch(&kept, &not(&losers)?)?;
            shared.tally.lock().unwrap_or_else(|e| e.into_inner()).rows_loaded += good.num_rows() as u64;
            Ok(good)
        });
        Box::pin(RecordBatchStreamAdapter::new(out_schema, stream))
    }
}

/// The key and ordering of a table's dedup.
#[derive(Debug, Clone)]
struct Dedup {
    key: Vec<String>,
    order_by: String,
}

/// Read the control file of `table`, if it has one: Err names what is wrong.
fn read_control(
    control: &ControlFile,
    path: &Path,
    extract: &Path,
    scale: i8,
) -> std::result::Result<Expected, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "control file {} cannot be read ({e}); nothing was loaded",
            path.display()
        )
    })?;
    let first = text.lines().next().unwrap_or("").trim_start_matches('\u{feff}');
    let fields: Vec<&str> = match &control.delimiter {
        Some(d) => first.split(d.as_str()).map(str::trim).collect(),
        None => first
            .split(|c: char| c == '|' || c == ',' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect(),
    };
    let mut expected = Expected {
        path: path.to_path_buf(),
        sum_column: control.sum_column.clone().unwrap_or_default(),
        ..Expected::default()
    };
    for (i, name) in control.fields.iter().enumerate() {
        let value = fields.get(i).copied();
        match name.as_str() {
            "rows" => {
                let v = value.and_then(|v| v.parse().ok()).ok_or_else(|| {
                    format!(
                        "control file {} line 1: expected a row count, found '{first}'",
                        path.display()
                    )
                })?;
                expected.rows = Some(v);
            }
            "sum" if control.sum_column.is_some() => {
                let v = value.ok_or_else(|| {
                    format!(
                        "control file {} line 1: expected the sum of {} after the row count",
                        path.display(),
                        control.sum_column.as_deref().unwrap_or("")
                    )
                })?;
                let scaled = super::rules::parse_decimal(v, 38, scale).ok_or_else(|| {
                    format!(
                        "control file {} line 1: '{v}' is not an amount with at most {scale} decimals",
                        path.display()
                    )
                })?;
                expected.sum = Some((v.to_string(), scaled));
            }
            "bytes" => {
                let v: u64 = value.and_then(|v| v.parse().ok()).ok_or_else(|| {
                    format!(
                        "control file {} line 1: expected a byte count, found '{first}'",
                        path.display()
                    )
                })?;
                let actual = std::fs::metadata(extract).map(|m| m.len()).unwrap_or(0);
                if v != actual {
                    return Err(format!(
                        "{} is {actual} bytes but control file {} says {v}; nothing was loaded",
                        extract.display(),
                        path.display()
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(expected)
}

/// Ingest `table`'s extract for `date` into `src.<system>_<table>`; rejects into
/// `_rejects.<system>_<table>`. On failure nothing of the table is committed;
/// the stats say how far it got.
pub async fn ingest(
    ctx: &SessionContext,
    lakehouse: &Lakehouse,
    landing: &Path,
    table: &SourceTable,
    tag: &CommitTag,
) -> (Result<WriteOutcome>, SourceStats) {
    let path = super::extract_path(landing, table, tag.biz_date);
    let mut stats = SourceStats {
        source: table.qualified_name(),
        file: path.display().to_string(),
        bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        ..SourceStats::default()
    };
    let result = ingest_inner(ctx, lakehouse, landing, table, tag, &path, &mut stats).await;
    let name = table.qualified_name();
    let result = result.map_err(|e| match e {
        e @ Error::Source { .. } => e,
        other => Error::Source {
            table: name,
            message: format!("{}: {other}", path.display()),
            transient: false,
        },
    });
    (result, stats)
}

async fn ingest_inner(
    ctx: &SessionContext,
    lakehouse: &Lakehouse,
    landing: &Path,
    table: &SourceTable,
    tag: &CommitTag,
    path: &Path,
    stats: &mut SourceStats,
) -> Result<WriteOutcome> {
    let name = table.qualified_name();
    let err = |message: String| Error::Source {
        table: name.clone(),
        message,
        transient: false,
    };
    if !path.is_file() {
        return Err(err(format!(
            "extract file {} has not landed for {}",
            path.display(),
            tag.biz_date
        )));
    }
    let sum_scale = table
        .control
        .as_ref()
        .and_then(|c| c.sum_column.as_ref())
        .and_then(|s| table.columns.iter().find(|c| &c.name == s))
        .map(|c| match c.ty {
            crate::project::ColumnType::Decimal(_, s) => s,
            _ => 0,
        })
        .unwrap_or(0);
    let expected = match &table.control {
        None => None,
        Some(control) => {
            let cpath = super::control_path(landing, table, tag.biz_date).unwrap_or_default();
            if !cpath.is_file() {
                return Err(err(format!(
                    "control file {} has not landed; nothing was loaded",
                    cpath.display()
                )));
            }
            Some(read_control(control, &cpath, path, sum_scale).map_err(err)?)
        }
    };
    if stats.bytes == 0 && !table.allow_empty && expected.as_ref().and_then(|e| e.rows) != Some(0) {
        return Err(err(format!(
            "{} is empty (0 bytes); set allow_empty = true if an empty extract is normal",
            path.display()
        )));
    }
    let Some(layout) = Layout::of(table) else {
        return super::ingest_parquet(ctx, lakehouse, table, tag, path, stats).await;
    };
    let file = std::fs::File::open(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
    let mut splitter = Splitter::new(Box::new(file), &layout, BLOCK_SIZE);
    if matches!(table.format, crate::project::FileFormat::Delimited { header: true, .. }) && stats.bytes > 0 {
        let header = splitter
            .first_record()
            .map_err(|e| err(format!("{}: {e}", path.display())))?
            .unwrap_or_default();
        let found = layout
            .header_fields(&header)
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
        let expected_names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        if found != expected_names {
            return Err(err(format!(
                "{} line 1: header is [{}] but {} declares [{}]",
                path.display(),
                found.join(", "),
                table.toml_path.display(),
                expected_names.join(", ")
            )));
        }
    }
    let rules = Rules::plan(ctx, table)?;
    let mut fields: Vec<Field> = rules
        .output_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let dedup = table.dedup_order_by.as_ref().map(|order_by| Dedup {
        key: table.primary_key.clone(),
        order_by: order_by.clone(),
    });
    // Line and offset travel with the rows only when the dedup window needs them.
    if dedup.is_some() {
        fields.push(Field::new("_offset", DataType::Int64, true));
    } else {
        fields.pop();
    }
    let schema: SchemaRef = Arc::new(Schema::new(fields));
    let shared = Arc::new(Shared {
        path: path.to_path_buf(),
        layout,
        rules,
        splitter: Mutex::new(splitter),
        tally: Mutex::new(Tally::default()),
        active: AtomicUsize::new(0),
        expected,
        sum_scale,
        max_rejects: table.max_rejects,
        max_reject_rate: table.max_reject_rate,
        toml_path: table.toml_path.clone(),
        failure: Mutex::new(None),
        schema: schema.clone(),
        dedup: dedup.clone(),
    });
    let partitions = ctx.state().config().target_partitions().max(1);
    let extract: Vec<Arc<dyn PartitionStream>> = (0..partitions)
        .map(|_| Arc::new(ExtractPartition { shared: shared.clone() }) as Arc<dyn PartitionStream>)
        .collect();
    let extract_table = Arc::new(StreamingTable::try_new(schema.clone(), extract)?);
    let mut df = ctx.read_table(extract_table)?;
    if let Some(dedup) = &dedup {
        let partition_by: Vec<Expr> = dedup.key.iter().map(ident).collect();
        let order = vec![
            ident(&dedup.order_by).sort(false, false),
            col("_line").sort(false, false),
        ];
        let rank = row_number()
            .partition_by(partition_by.clone())
            .order_by(order.clone())
            .build()?
            .alias("__rank");
        let winner = first_value(col("_line"))
            .partition_by(partition_by)
            .order_by(order)
            .build()?
            .alias("__winner");
        let windowed = df.window(vec![rank, winner])?;
        let plan = windowed.create_physical_plan().await?;
        let outputs = plan.properties().partitioning.partition_count();
        let parts: Vec<Arc<dyn PartitionStream>> = (0..outputs)
            .map(|partition| {
                Arc::new(DedupPartition {
                    shared: shared.clone(),
                    plan: plan.clone(),
                    partition,
                    schema: schema.clone(),
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        df = ctx.read_table(Arc::new(StreamingTable::try_new(schema.clone(), parts)?))?;
    }
    let biz_date = lit(ScalarValue::Date32(Some(days_since_epoch(tag.biz_date)))).alias("biz_date");
    let outputs: Vec<Expr> = table.columns.iter().map(|c| ident(&c.name)).chain([biz_date]).collect();
    // One stream into the writer: deltalake hash-partitions a partitioned write by its
    // partition columns, and every row here has the same biz_date, so several streams
    // would only be copied into one (the parsing above stays parallel).
    let plan: LogicalPlan = df
        .select(outputs)?
        .repartition(Partitioning::RoundRobinBatch(1))?
        .into_unoptimized_plan();
    // Planned for one partition, or the optimizer spreads the single stream out again
    // (and deltalake hashes it back together by biz_date).
    let config = ctx.state().config().clone().with_target_partitions(1);
    let write_state = SessionStateBuilder::new_from_existing(ctx.state())
        .with_config(config)
        .build();
    let written = lakehouse
        .replace_biz_date(crate::project::Layer::Src, &table.staged_name(), plan, write_state, tag)
        .await;
    let failure = shared.failure.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut tally = std::mem::take(&mut *shared.tally.lock().unwrap_or_else(|e| e.into_inner()));
    stats.rows_read = tally.rows_read;
    stats.rows_loaded = tally.rows_loaded;
    stats.rows_rejected = tally.rejects.len() as u64;
    stats.soft_fixed = tally.soft.values().sum();
    stats.soft_fixed_detail = tally.soft.clone();
    if let Some(message) = failure {
        stats.rows_loaded = 0;
        return Err(err(message));
    }
    let written = written.map_err(|e| err(format!("{}: {}", path.display(), crate::error::plain_message(e))))?;
    if !tally.finished {
        return Err(Error::Internal(format!(
            "{name}: the extract stream ended before every block was checked"
        )));
    }
    tally.rejects.sort_by_key(|r| r.line);
    write_rejects(ctx, lakehouse, table, tag, path, &shared.layout, tally.rejects).await?;
    Ok(written)
}

/// Replace the date's partition of `_rejects.<table>` with `rejects` (also when
/// there are none: the table exists for every ingested source, and a clean
/// re-ingest clears an earlier attempt's rejects).
async fn write_rejects(
    ctx: &SessionContext,
    lakehouse: &Lakehouse,
    table: &SourceTable,
    tag: &CommitTag,
    path: &Path,
    layout: &Layout,
    mut rejects: Vec<Reject>,
) -> Result<()> {
    let name = table.staged_name();
    // Duplicates were found after parsing: read their lines back from the file.
    if rejects.iter().any(|r| r.raw.is_none()) {
        use std::io::{BufRead, Seek, SeekFrom};
        let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(|e| Error::io(path, e))?);
        for r in rejects.iter_mut().filter(|r| r.raw.is_none()) {
            file.seek(SeekFrom::Start(r.offset as u64))
                .map_err(|e| Error::io(path, e))?;
            let mut line = Vec::new();
            file.read_until(b'\n', &mut line).map_err(|e| Error::io(path, e))?;
            while matches!(line.last(), Some(b'\n' | b'\r')) {
                line.pop();
            }
            r.raw = Some(layout.lossy(&line));
        }
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, true),
        Field::new("file", DataType::Utf8, true),
        Field::new("line", DataType::Int64, true),
        Field::new("raw_line", DataType::Utf8, true),
        Field::new("column", DataType::Utf8, true),
        Field::new("rule", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, true),
        Field::new("biz_date", DataType::Date32, true),
    ]));
    let n = rejects.len();
    let file = path.display().to_string();
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![tag.run_id.as_str(); n])),
            Arc::new(StringArray::from(vec![file.as_str(); n])),
            Arc::new(Int64Array::from_iter_values(rejects.iter().map(|r| r.line))),
            Arc::new(StringArray::from_iter(rejects.iter().map(|r| r.raw.as_deref()))),
            Arc::new(StringArray::from_iter(rejects.iter().map(|r| r.column.as_deref()))),
            Arc::new(StringArray::from_iter_values(rejects.iter().map(|r| r.rule.as_str()))),
            Arc::new(StringArray::from_iter_values(rejects.iter().map(|r| r.reason.as_str()))),
            Arc::new(deltalake::arrow::array::Date32Array::from(vec![
                days_since_epoch(
                    tag.biz_date
                );
                n
            ])),
        ],
    )
    .map_err(|e| Error::Internal(format!("rejects batch: {e}")))?;
    let df = ctx.read_batch(batch)?;
    lakehouse
        .replace_rejects(&name, df.into_unoptimized_plan(), ctx.state(), tag)
        .await?;
    Ok(())
}
