//! Incremental materializations — merge, partition, append, scd2 and
//! snapshot_diff — as Delta operations over a model's streamed result.
//!
//! Part of the storage layer: it sees one model's plan and metadata, never the DAG.

use std::sync::Arc;

use chrono::NaiveDate;
use deltalake::DeltaTable;
use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
    new_null_array,
};
use deltalake::arrow::compute::cast as cast_array;
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::row::Rows;
use deltalake::datafusion::catalog::TableProvider;
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::common::tree_node::{Transformed, TreeNode};
use deltalake::datafusion::common::{Column, JoinType, ScalarValue};
use deltalake::datafusion::dataframe::DataFrame;
use deltalake::datafusion::execution::SessionState;
use deltalake::datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use deltalake::datafusion::functions_aggregate::expr_fn::{count, max, min};
use deltalake::datafusion::logical_expr::{Expr, LogicalPlan, cast, ident, lit};
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Action, Add, Remove, Transaction};
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::ObjectStoreExt as _;
use deltalake::logstore::object_store::path::Path;
use deltalake::operations::write::SchemaMode;
use deltalake::parquet::basic::{Compression, ZstdLevel};
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::DeltaOperation;
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::StreamExt;

use crate::engine;
use crate::error::{Error, Result, df_message};
use crate::fingerprint;
use crate::patch::{self, Touched};
use crate::project::{Layer, Materialization, ModelMeta, OnSchemaChange, Scd2Input};
use crate::rowdiff;
use crate::store::{CommitTag, Lakehouse, WriteOutcome, commit_properties, days_since_epoch};

/// The open end of an scd2 version.
pub const OPEN_END: (i32, u32, u32) = (9999, 12, 31);
/// Columns lakemart adds to scd2 tables.
pub const SCD2_COLUMNS: [&str; 4] = ["row_hash", "valid_from", "valid_to", "is_current"];

fn open_end_days() -> i32 {
    NaiveDate::from_ymd_opt(OPEN_END.0, OPEN_END.1, OPEN_END.2)
        .map(days_since_epoch)
        .unwrap_or(2_932_896)
}

/// Columns lakemart adds to a materialization's table, whose names a model's SQL
/// cannot use (a snapshot_diff table made before 2026-12-06 keeps a `row_hash`,
/// which is not the model's: [`table_schema`]).
pub fn system_columns(m: Materialization) -> &'static [&'static str] {
    match m {
        Materialization::Scd2 => &SCD2_COLUMNS,
        Materialization::SnapshotDiff => &["row_hash"],
        _ => &[],
    }
}

/// The table's schema for a model producing `output`.
pub fn table_schema(m: Materialization, output: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = output.fields().iter().map(|f| f.as_ref().clone()).collect();
    // A snapshot_diff table keeps no row hash: the next date compares with its
    // fingerprints ([`fingerprint`]), which hold each key's hash bits.
    if m == Materialization::Scd2 {
        fields.push(Field::new("row_hash", ROW_HASH_TYPE, true));
        fields.push(Field::new("valid_from", DataType::Date32, true));
        fields.push(Field::new("valid_to", DataType::Date32, true));
        fields.push(Field::new("is_current", DataType::Boolean, true));
    }
    Arc::new(Schema::new(fields))
}

/// The type a new table stores `row_hash` as: the hash's 64 bits as a `BIGINT`
/// ([`rowdiff::row_hash`]).
pub const ROW_HASH_TYPE: DataType = DataType::Int64;

/// The type `table` stores `row_hash` as: [`ROW_HASH_TYPE`], or text (16 hex digits) in
/// a table an earlier release made (before 2026-12-05), which keeps it. A table that
/// stores none (a snapshot_diff table since 2026-12-06) hashes as [`ROW_HASH_TYPE`].
fn hash_type(table: &DeltaTable) -> Result<DataType> {
    Ok(stored_hash(table)?.unwrap_or(ROW_HASH_TYPE))
}

/// Whether `table` stores a `row_hash` column: every scd2 history does; a snapshot_diff
/// table only when an earlier release (before 2026-12-06) made it, and it keeps it
/// until rebuilt.
fn stores_hash(table: &DeltaTable) -> Result<bool> {
    Ok(stored_hash(table)?.is_some())
}

/// The type of `table`'s `row_hash` column, if it has one.
fn stored_hash(table: &DeltaTable) -> Result<Option<DataType>> {
    let schema = table.snapshot()?.snapshot().arrow_schema();
    Ok(schema.field_with_name("row_hash").ok().map(|f| f.data_type().clone()))
}

/// Whether `df` has a `row_hash` column.
fn has_hash(df: &DataFrame) -> bool {
    df.schema().fields().iter().any(|f| f.name() == "row_hash")
}

/// The column of a change set that says what happened to its key: `I`, `U` or `D`.
pub const CHANGE_TYPE: &str = "change_type";

/// Whether `meta` is an scd2 model fed a change set rather than a snapshot.
fn fed_changes(meta: &ModelMeta) -> bool {
    meta.materialization == Materialization::Scd2 && meta.scd2_input == Scd2Input::Changes
}

/// The model's output columns that its table stores: all of them, except the
/// `change_type` of a change set fed to an scd2 model (it says what to do with a
/// row; the history's own columns say what happened).
pub fn stored_output(meta: &ModelMeta, output: &Schema) -> Schema {
    if !fed_changes(meta) {
        return output.clone();
    }
    let fields: Vec<Field> = output
        .fields()
        .iter()
        .filter(|f| f.name() != CHANGE_TYPE)
        .map(|f| f.as_ref().clone())
        .collect();
    Schema::new(fields)
}

/// The schema of a snapshot_diff model's `<model>_changes` table.
pub fn changes_schema(output: &Schema) -> SchemaRef {
    let mut fields: Vec<Field> = output
        .fields()
        .iter()
        .map(|f| f.as_ref().clone().with_nullable(true))
        .collect();
    fields.push(Field::new("row_hash", ROW_HASH_TYPE, true));
    fields.push(Field::new("change_type", DataType::Utf8, true));
    fields.push(Field::new("biz_date", DataType::Date32, false));
    Arc::new(Schema::new(fields))
}

/// Compile-time checks of a model's materialization settings against its output.
pub fn check(meta: &ModelMeta, output: &Schema) -> Vec<String> {
    let mut errors = Vec::new();
    let names: Vec<&str> = output.fields().iter().map(|f| f.name().as_str()).collect();
    let need = |errors: &mut Vec<String>, what: &str, cols: &[String]| {
        for c in cols {
            if !names.contains(&c.as_str()) {
                errors.push(format!(
                    "{what} names column '{c}', which the model does not produce{}",
                    crate::compile::suggest(c, names.iter().copied())
                ));
            }
        }
    };
    let m = meta.materialization;
    if m.is_keyed() {
        if meta.unique_key.is_empty() {
            errors.push(format!("materialization {} needs unique_key", mat_name(m)));
        }
        need(&mut errors, "unique_key", &meta.unique_key);
    } else if m == Materialization::Partition {
        if meta.partition_by.is_empty() {
            errors.push("materialization partition needs partition_by".into());
        }
        need(&mut errors, "partition_by", &meta.partition_by);
    }
    if let Some(cols) = &meta.update_columns {
        need(&mut errors, "update_columns", cols);
    }
    if let Some(cols) = &meta.tracked_columns {
        need(&mut errors, "tracked_columns", cols);
    }
    for reserved in system_columns(m) {
        if names.contains(reserved) {
            errors.push(format!(
                "column '{reserved}' is added by materialization {}; rename it",
                mat_name(m)
            ));
        }
    }
    if m == Materialization::SnapshotDiff && names.contains(&CHANGE_TYPE) {
        errors.push("column 'change_type' is reserved for the snapshot_diff change set; rename it".into());
    }
    if meta.scd2_input == Scd2Input::Changes {
        if m != Materialization::Scd2 {
            errors.push(format!(
                "scd2_input is a setting of materialization scd2, not {}",
                mat_name(m)
            ));
        } else if !names.contains(&CHANGE_TYPE) {
            errors.push(
                "scd2_input = \"changes\" needs a column 'change_type' (I, U or D), as a snapshot_diff model's \
                 <model>_changes table has"
                    .into(),
            );
        } else if meta
            .unique_key
            .iter()
            .chain(meta.tracked_columns.iter().flatten())
            .any(|c| c == CHANGE_TYPE)
        {
            errors
                .push("column 'change_type' says what happened to a key; it cannot be a key or tracked column".into());
        }
    }
    if let Some(pred) = &meta.delete_when {
        let ok = crate::engine::session(1).and_then(|ctx| {
            let df_schema = deltalake::datafusion::common::DFSchema::try_from(output.clone())?;
            ctx.parse_sql_expr(pred, &df_schema).map_err(Error::from)
        });
        if let Err(e) = ok {
            errors.push(format!("delete_when '{pred}': {}", message_of(e)));
        }
    }
    errors
}

fn message_of(e: Error) -> String {
    match e {
        Error::DataFusion(e) => df_message(&e),
        other => other.to_string(),
    }
}

fn mat_name(m: Materialization) -> &'static str {
    match m {
        Materialization::Table => "table",
        Materialization::Merge => "merge",
        Materialization::Partition => "partition",
        Materialization::Append => "append",
        Materialization::Scd2 => "scd2",
        Materialization::SnapshotDiff => "snapshot_diff",
    }
}

/// One incremental write.
pub struct Incremental<'a> {
    pub lakehouse: &'a Lakehouse,
    pub layer: Layer,
    pub table: &'a str,
    pub plan: LogicalPlan,
    pub state: SessionState,
    pub tag: &'a CommitTag,
    pub meta: &'a ModelMeta,
    pub full_refresh: bool,
}

fn model_err(tag: &CommitTag, message: String) -> Error {
    Error::Model {
        model: tag.model.clone(),
        message,
        transient: false,
    }
}

fn s_col(name: &str) -> Expr {
    Expr::Column(Column::new(Some("s"), name))
}

fn t_col(name: &str) -> Expr {
    Expr::Column(Column::new(Some("t"), name))
}

fn date_lit(days: i32) -> Expr {
    lit(ScalarValue::Date32(Some(days)))
}

impl Incremental<'_> {
    /// Apply the run's rows according to the model's materialization.
    pub async fn run(self) -> Result<WriteOutcome> {
        let existing = self.lakehouse.open(self.layer, self.table).await?;
        let df = DataFrame::new(self.state.clone(), self.plan.clone());
        let output: Schema = stored_output(self.meta, df.schema().as_arrow());
        let mut merge_schema = false;
        let existing = match existing {
            Some(t) if !self.full_refresh => match self.schema_change(&t, &output)? {
                SchemaVerdict::Same => Some(t),
                SchemaVerdict::AddColumns => {
                    merge_schema = true;
                    Some(t)
                }
                SchemaVerdict::Rebuild => None,
            },
            _ => None,
        };
        let m = self.meta.materialization;
        let Some(table) = existing else {
            return self.initial(df).await;
        };
        match m {
            Materialization::Merge => self.merge(table, df, merge_schema).await,
            Materialization::Partition => self.partition(table, merge_schema).await,
            Materialization::Append => self.append(table, merge_schema).await,
            Materialization::Scd2 => self.scd2(table, df, merge_schema).await,
            Materialization::SnapshotDiff => self.snapshot_diff(table, df, merge_schema).await,
            Materialization::Table => Err(Error::Internal("table is not incremental".into())),
        }
    }

    fn schema_change(&self, table: &DeltaTable, output: &Schema) -> Result<SchemaVerdict> {
        let system = system_columns(self.meta.materialization);
        let current: Vec<(String, DataType)> = table
            .snapshot()?
            .snapshot()
            .arrow_schema()
            .fields()
            .iter()
            .filter(|f| !system.contains(&f.name().as_str()))
            .map(|f| (f.name().clone(), normal(f.data_type())))
            .collect();
        let new: Vec<(String, DataType)> = output
            .fields()
            .iter()
            .map(|f| (f.name().clone(), normal(f.data_type())))
            .collect();
        let added: Vec<String> = new
            .iter()
            .filter(|(n, _)| !current.iter().any(|(c, _)| c == n))
            .map(|(n, t)| format!("{n} {}", crate::compile::type_name(t)))
            .collect();
        let removed: Vec<String> = current
            .iter()
            .filter(|(c, _)| !new.iter().any(|(n, _)| n == c))
            .map(|(c, _)| c.clone())
            .collect();
        let retyped: Vec<String> = new
            .iter()
            .filter_map(|(n, t)| {
                current
                    .iter()
                    .find(|(c, _)| c == n)
                    .filter(|(_, ct)| ct != t)
                    .map(|(_, ct)| {
                        format!(
                            "{n}: {} → {}",
                            crate::compile::type_name(ct),
                            crate::compile::type_name(t)
                        )
                    })
            })
            .collect();
        if added.is_empty() && removed.is_empty() && retyped.is_empty() {
            return Ok(SchemaVerdict::Same);
        }
        let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
        let described = format!(
            "the model's columns changed: added [{}], removed [{}], retyped [{}]",
            list(&added),
            list(&removed),
            list(&retyped)
        );
        match self.meta.on_schema_change {
            OnSchemaChange::Sync => Ok(SchemaVerdict::Rebuild),
            OnSchemaChange::AppendNewColumns if removed.is_empty() && retyped.is_empty() => {
                Ok(SchemaVerdict::AddColumns)
            }
            OnSchemaChange::AppendNewColumns => Err(model_err(
                self.tag,
                format!(
                    "{described}; on_schema_change = \"append_new_columns\" only adds columns (use \"sync\" or --full-refresh)"
                ),
            )),
            OnSchemaChange::Fail => Err(model_err(
                self.tag,
                format!(
                    "{described}; set on_schema_change = \"append_new_columns\" or \"sync\" in its metadata, or run with --full-refresh"
                ),
            )),
        }
    }

    fn props(&self) -> CommitProperties {
        commit_properties(self.tag)
    }

    /// [`Incremental::props`], recording the change set `digest` an scd2 history fed
    /// one applies ([`CHANGES_APPLIED`]).
    fn props_applying(&self, digest: Option<&str>) -> CommitProperties {
        match digest {
            Some(d) => crate::store::commit_properties_with(self.tag, [(CHANGES_APPLIED.to_string(), d.into())]),
            None => self.props(),
        }
    }

    /// First build, --full-refresh, or `sync` after a schema change: the table is
    /// replaced by this run's rows.
    async fn initial(self, df: DataFrame) -> Result<WriteOutcome> {
        let m = self.meta.materialization;
        let today = days_since_epoch(self.tag.biz_date);
        if m.is_keyed() {
            check_unique(&df, &self.meta.unique_key, self.tag).await?;
        }
        let fed = fed_changes(self.meta);
        let mut digest = None;
        let df = if fed {
            self.first_change_set(&df).await?;
            let hashed = versions_hashed(df, &self.tracked(&self.output_names_of_plan()), &ROW_HASH_TYPE)?;
            digest = Some(change_set_digest(&hashed, &self.meta.unique_key).await?);
            hashed.drop_columns(&[CHANGE_TYPE])?
        } else {
            df
        };
        let df = match m {
            Materialization::Merge => match &self.meta.delete_when {
                Some(pred) => {
                    let e = df
                        .parse_sql_expr(pred)
                        .map_err(|e| model_err(self.tag, df_message(&e)))?;
                    df.filter(e.is_not_true())?
                }
                None => df,
            },
            Materialization::Scd2 if !fed => hashed(df, &self.tracked(&self.output_names_of_plan()), &ROW_HASH_TYPE)?,
            _ => df,
        };
        let df = if m == Materialization::Scd2 {
            df.with_column("valid_from", date_lit(today))?
                .with_column("valid_to", date_lit(open_end_days()))?
                .with_column("is_current", lit(true))?
        } else {
            df
        };
        let mut props = self.props_applying(digest.as_deref());
        if m == Materialization::Append {
            props = props.with_application_transaction(Transaction::new(self.app_id(), 1));
        }
        if m == Materialization::SnapshotDiff {
            // Every row is an insert in the change set, which carries its row hash (the
            // table does not: its fingerprints hold the hashes, [`Incremental::keep_keys`]).
            // Hashed in the plan's types: only the comparisons need the table's
            // ([`in_table_types`]), and the change set's hashes are not compared.
            let changes =
                hashed(df.clone(), &self.hashed_columns(), &ROW_HASH_TYPE)?.with_column("change_type", lit("I"))?;
            self.write_changes(changes, &self.state).await?;
        }
        // Keyed tables are written in key order, in files of a chosen size, so that a
        // later merge of changes clustered in a key range touches few files.
        let keyed = m.is_keyed();
        let df = if keyed {
            df.sort(
                self.meta
                    .unique_key
                    .iter()
                    .map(|k| ident(k).sort(true, false))
                    .collect(),
            )?
        } else {
            df
        };
        // One sorted stream to one writer, planned on one partition: with more, the
        // sorted rows reached delta-rs's single file writer from several streams at
        // once, and at 40M rows each of the files spanned a fifth of the keys,
        // overlapping (turning off DataFusion's round-robin repartitioning did not
        // stop it). The first build sorts on one core; the nightly merges gain.
        let mut state = self.state.clone();
        if keyed {
            let options = state.config_mut().options_mut();
            options.optimizer.enable_round_robin_repartition = false;
            options.execution.target_partitions = 1;
        }
        let target = self.lakehouse.writable(self.layer, self.table).await?;
        let mut write = target
            .write(vec![])
            .with_input_plan(df.into_unoptimized_plan())
            .with_session_state(Arc::new(state))
            .with_save_mode(SaveMode::Overwrite)
            .with_schema_mode(SchemaMode::Overwrite)
            .with_commit_properties(props);
        if m == Materialization::Partition {
            write = write.with_partition_columns(self.meta.partition_by.clone());
        }
        if keyed {
            write = write
                .with_target_file_size(Some(KEYED_FILE_SIZE))
                .with_writer_properties(keyed_props(&self.meta.unique_key));
        }
        let written = write.await?;
        if m == Materialization::SnapshotDiff
            && let Err(e) = self.keep_keys(&written).await
        {
            tracing::warn!("{}: the table's keys are not kept ({e})", self.tag.model);
        }
        crate::store::outcome(&written).await
    }

    /// Keep the keys of a snapshot_diff table just built whole for the next business
    /// date: its fingerprints ([`fingerprint`]), or, for a partitioned table, its keys
    /// bucket by bucket ([`rowdiff::KeyKeeper`]).
    async fn keep_keys(&self, table: &DeltaTable) -> Result<()> {
        let Some(version) = table.version() else {
            return Ok(());
        };
        let ctx = SessionContext::new_with_state(self.state.clone());
        let df = ctx.read_table(engine::provider(&ctx, table).await?)?;
        let keys = &self.meta.unique_key;
        let key_types = key_types(&df, keys)?;
        let bits = bits_of_rows(&df, &self.hashed_columns());
        let df = key_hashes(df, keys, &key_types, bits)?;
        let store = table.log_store().object_store(None);
        if table.snapshot()?.metadata().partition_columns().is_empty() {
            // Its fingerprints, when the memory pool can hold them (else the next date
            // compares in buckets, and reads the table's keys then).
            let memory = self.prints_memory();
            if let Ok(prints) = self.table_prints(df, table, &memory).await? {
                let description = fingerprint::describe(keys, &key_types);
                let temp = prints.write(&store, &self.tag.run_id, &description).await?;
                fingerprint::keep(&store, &temp, version).await;
            }
            return Ok(());
        }
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let disk = self.state.runtime_env().disk_manager.clone();
        let count = rowdiff::buckets_for(table_rows(table)?);
        let streams = df.execute_stream_partitioned().await?;
        let Ok(buckets) = rowdiff::Bucketed::split(streams, keys.len(), count, &disk).await? else {
            return Ok(());
        };
        let mut keeper = rowdiff::KeyKeeper::new(store, &self.tag.run_id, schema)?;
        buckets.keep_all(&mut keeper).await?;
        keeper.keep(version, true).await;
        Ok(())
    }

    /// The memory pool's reservation for a table's fingerprints.
    fn prints_memory(&self) -> MemoryReservation {
        MemoryConsumer::new("snapshot_diff fingerprints").register(&self.state.runtime_env().memory_pool)
    }

    /// The fingerprints of `table`'s current version, from `table_keys` (its keys and
    /// row hash bits, [`key_hashes`]), reserved from `memory`.
    async fn table_prints(
        &self,
        table_keys: DataFrame,
        table: &DeltaTable,
        memory: &MemoryReservation,
    ) -> Result<std::result::Result<fingerprint::Fingerprints, fingerprint::Missing>> {
        let streams = table_keys.execute_stream_partitioned().await?;
        let rows = table_rows(table)?;
        fingerprint::Fingerprints::of_table(streams, self.meta.unique_key.len(), rows, true, memory).await
    }

    /// The columns of the model's output that its table stores ([`stored_output`]).
    fn output_names_of_plan(&self) -> Vec<String> {
        let fed = fed_changes(self.meta);
        self.plan
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !(fed && n == CHANGE_TYPE))
            .collect()
    }

    /// The columns a snapshot_diff model's row hash covers: its stored output's non-key ones.
    fn hashed_columns(&self) -> Vec<String> {
        self.non_key(&self.output_names_of_plan())
    }

    fn non_key(&self, names: &[String]) -> Vec<String> {
        names
            .iter()
            .filter(|n| !self.meta.unique_key.contains(n))
            .cloned()
            .collect()
    }

    fn tracked(&self, names: &[String]) -> Vec<String> {
        self.meta.tracked_columns.clone().unwrap_or_else(|| self.non_key(names))
    }

    fn app_id(&self) -> String {
        format!("lakemart:{}:{}", self.tag.model, self.tag.biz_date)
    }

    async fn merge(self, table: DeltaTable, df: DataFrame, merge_schema: bool) -> Result<WriteOutcome> {
        let keys = &self.meta.unique_key;
        check_unique(&df, keys, self.tag).await?;
        let Some(range) = key_range(&df, &keys[0]).await? else {
            return unchanged(&table, "the run produced no rows");
        };
        let names = self.output_names_of_plan();
        let non_key = self.non_key(&names);
        let updates: Vec<String> = self.meta.update_columns.clone().unwrap_or_else(|| non_key.clone());
        let whole_rows = updates.len() == non_key.len() && non_key.iter().all(|c| updates.contains(c));
        if whole_rows && !merge_schema && !range.has_null_keys() {
            // An incoming row replaces the whole table row: rewrite the touched files.
            let keep_incoming = match &self.meta.delete_when {
                Some(pred) => Some(
                    df.parse_sql_expr(pred)
                        .map_err(|e| model_err(self.tag, df_message(&e)))?
                        .is_not_true(),
                ),
                None => None,
            };
            let rows = range.rows;
            let version = self.upsert_by_rewrite(table, df, &names, range, keep_incoming).await?;
            return Ok(WriteOutcome {
                version,
                rows,
                note: None,
            });
        }
        let delete = match &self.meta.delete_when {
            Some(pred) => Some(qualify(
                df.parse_sql_expr(pred)
                    .map_err(|e| model_err(self.tag, df_message(&e)))?,
                "s",
            )?),
            None => None,
        };
        let predicate = join_on(keys).and(range_predicate(&keys[0], range.bounds()));
        let mut builder = table
            .merge(df, predicate)
            .with_source_alias("s")
            .with_target_alias("t")
            .with_merge_schema(merge_schema)
            .with_session_state(Arc::new(self.state.clone()))
            .with_commit_properties(self.props())
            .with_writer_properties(keyed_props(keys));
        if let Some(d) = &delete {
            builder = builder.when_matched_delete(|b| b.predicate(d.clone()))?;
        }
        builder = builder.when_matched_update(|u| updates.iter().fold(u, |u, c| u.update(c.as_str(), s_col(c))))?;
        builder = builder.when_not_matched_insert(|i| {
            let i = names.iter().fold(i, |i, c| i.set(c.as_str(), s_col(c)));
            match &delete {
                Some(d) => i.predicate(d.clone().is_not_true()),
                None => i,
            }
        })?;
        let (table, metrics) = builder.await?;
        let rows = metrics.num_target_rows_inserted + metrics.num_target_rows_updated + metrics.num_target_rows_deleted;
        Ok(WriteOutcome {
            version: table.version().unwrap_or(0),
            rows: rows as u64,
            note: None,
        })
    }

    async fn partition(self, table: DeltaTable, merge_schema: bool) -> Result<WriteOutcome> {
        let df = DataFrame::new(self.state.clone(), self.plan.clone());
        let cols: Vec<Expr> = self.meta.partition_by.iter().map(ident).collect();
        let values = df.clone().select(cols)?.distinct()?.collect().await?;
        let mut any: Option<Expr> = None;
        for b in &values {
            for row in 0..b.num_rows() {
                let mut conj: Option<Expr> = None;
                for (i, c) in self.meta.partition_by.iter().enumerate() {
                    let v = ScalarValue::try_from_array(b.column(i).as_ref(), row)?;
                    let e = if v.is_null() {
                        ident(c).is_null()
                    } else {
                        ident(c).eq(lit(v))
                    };
                    conj = Some(match conj {
                        Some(x) => x.and(e),
                        None => e,
                    });
                }
                if let Some(c) = conj {
                    any = Some(match any {
                        Some(x) => x.or(c),
                        None => c,
                    });
                }
            }
        }
        let Some(predicate) = any else {
            return unchanged(&table, "the run produced no rows");
        };
        let mut write = table
            .write(vec![])
            .with_input_plan(self.plan.clone())
            .with_session_state(Arc::new(self.state.clone()))
            .with_save_mode(SaveMode::Overwrite)
            .with_replace_where(predicate)
            .with_commit_properties(self.props());
        if merge_schema {
            write = write.with_schema_mode(SchemaMode::Merge);
        }
        let written = write.await?;
        crate::store::outcome(&written).await
    }

    async fn append(self, table: DeltaTable, merge_schema: bool) -> Result<WriteOutcome> {
        let app_id = self.app_id();
        if table
            .snapshot()?
            .transaction_version(table.log_store().as_ref(), &app_id)
            .await?
            .is_some()
        {
            return unchanged(
                &table,
                &format!("rows of {} were already appended, nothing added", self.tag.biz_date),
            );
        }
        let mut write = table
            .write(vec![])
            .with_input_plan(self.plan.clone())
            .with_session_state(Arc::new(self.state.clone()))
            .with_save_mode(SaveMode::Append)
            .with_commit_properties(self.props().with_application_transaction(Transaction::new(app_id, 1)));
        if merge_schema {
            write = write.with_schema_mode(SchemaMode::Merge);
        }
        let written = write.await?;
        crate::store::outcome(&written).await
    }

    /// scd2: from a full snapshot, or (`scd2_input = "changes"`) from this date's change
    /// set. A change set is applied in place when it can ([`Incremental::close_in_place`]),
    /// else, like a snapshot, by one Delta MERGE.
    async fn scd2(self, table: DeltaTable, df: DataFrame, merge_schema: bool) -> Result<WriteOutcome> {
        let keys = self.meta.unique_key.clone();
        let fed = fed_changes(self.meta);
        let output = stored_output(self.meta, df.schema().as_arrow());
        let names = self.output_names_of_plan();
        let mut digest = None;
        let mut table = table;
        let hash_type = hash_type(&table)?;
        // A change set is held in memory (when it fits) until the end, reservation too.
        let (snapshot, _held) = if fed {
            let changes = versions_hashed(df, &self.tracked(&names), &hash_type)?;
            let mut held = self.hold_change_set(&table, changes.clone(), &names).await?;
            let changes = match &held {
                Some((rows, _)) => SessionContext::new_with_state(self.state.clone()).read_batch(rows.clone())?,
                None => changes,
            };
            check_change_types(&changes, self.tag).await?;
            check_unique(&changes, &keys, self.tag).await?;
            check_keys_not_null(&changes, &keys, self.tag).await?;
            let d = change_set_digest(&changes, &keys).await?;
            // Before anything is committed (new columns too): a refused date leaves the
            // history as it was.
            if let Some(done) = self.already_applied(&table, &d).await? {
                return Ok(done);
            }
            if merge_schema {
                table = self.add_new_columns(table, &output).await?;
            }
            if let Some((rows, memory)) = held.as_mut()
                && let Some(done) = self.close_in_place(&table, rows, memory, &d).await?
            {
                return Ok(done);
            }
            digest = Some(d);
            (changes, held)
        } else {
            check_unique(&df, &keys, self.tag).await?;
            if merge_schema {
                table = self.add_new_columns(table, &output).await?;
            }
            (hashed(df, &self.tracked(&names), &hash_type)?, None)
        };
        let today = date_lit(days_since_epoch(self.tag.biz_date));

        // Keys whose open version has other tracked values: their new version is inserted
        // through a NULL merge key, while the same row with its real key closes the old one.
        let state = hash_joins(&self.state);
        let ctx = SessionContext::new_with_state(state.clone());
        let current = ctx
            .read_table(engine::provider(&ctx, &table).await?)?
            .filter(ident("is_current").is_true())?;
        let mut renamed: Vec<Expr> = keys.iter().map(|k| ident(k).alias(format!("__t_{k}"))).collect();
        renamed.push(ident("row_hash").alias("__t_row_hash"));
        let current = current.select(renamed)?;
        let left: Vec<&str> = keys.iter().map(String::as_str).collect();
        let right: Vec<String> = keys.iter().map(|k| format!("__t_{k}")).collect();
        let right_refs: Vec<&str> = right.iter().map(String::as_str).collect();
        let mut keep: Vec<Expr> = names.iter().map(ident).collect();
        keep.push(ident("row_hash"));
        if fed {
            keep.push(ident(CHANGE_TYPE));
        }
        // A change set's deletes open no version.
        let opening = if fed {
            snapshot.clone().filter(ident(CHANGE_TYPE).not_eq(lit("D")))?
        } else {
            snapshot.clone()
        };
        let changed = opening
            .join(current, JoinType::Inner, &left, &right_refs, None)?
            .filter(ident("row_hash").not_eq(ident("__t_row_hash")))?
            .select(keep.clone())?;
        let types: Vec<DataType> = keys
            .iter()
            .map(|k| {
                snapshot
                    .schema()
                    .field_with_unqualified_name(k)
                    .map(|f| f.data_type().clone())
            })
            .collect::<std::result::Result<_, _>>()?;
        let with_keys = |df: DataFrame, null: bool| -> Result<DataFrame> {
            let mut exprs = keep.clone();
            for (k, dt) in keys.iter().zip(&types) {
                let v = if null {
                    cast(lit(ScalarValue::Null), dt.clone())
                } else {
                    ident(k)
                };
                exprs.push(v.alias(format!("__mk_{k}")));
            }
            Ok(df.select(exprs)?)
        };
        let source = with_keys(snapshot, false)?.union(with_keys(changed, true)?)?;
        let predicate = keys
            .iter()
            .map(|k| t_col(k).eq(s_col(&format!("__mk_{k}"))))
            .reduce(Expr::and)
            .unwrap_or(lit(false))
            .and(t_col("is_current").is_true());
        let open_end = date_lit(open_end_days());
        let props = self.props_applying(digest.as_deref());
        // A change set's delete has no row hash: it closes its key's open version whatever it holds.
        let differs = Expr::BinaryExpr(deltalake::datafusion::logical_expr::BinaryExpr::new(
            Box::new(t_col("row_hash")),
            deltalake::datafusion::logical_expr::Operator::IsDistinctFrom,
            Box::new(s_col("row_hash")),
        ));
        let merge = table
            .merge(source, predicate)
            .with_source_alias("s")
            .with_target_alias("t")
            .with_session_state(Arc::new(state))
            .with_commit_properties(props)
            .with_writer_properties(keyed_props(&keys))
            .when_matched_update(|u| {
                u.predicate(differs)
                    .update("valid_to", today.clone())
                    .update("is_current", lit(false))
            })?
            .when_not_matched_insert(|i| {
                let i = names
                    .iter()
                    .chain(std::iter::once(&"row_hash".to_string()))
                    .fold(i, |i, c| i.set(c.as_str(), s_col(c)))
                    .set("valid_from", today.clone())
                    .set("valid_to", open_end.clone())
                    .set("is_current", lit(true));
                if fed {
                    i.predicate(s_col(CHANGE_TYPE).not_eq(lit("D")))
                } else {
                    i
                }
            })?;
        // A snapshot closes the keys it no longer has; a change set says which by its deletes.
        let merge = if fed {
            merge
        } else {
            merge.when_not_matched_by_source_update(|u| {
                u.predicate(t_col("is_current").is_true())
                    .update("valid_to", today.clone())
                    .update("is_current", lit(false))
            })?
        };
        let (table, metrics) = merge.await?;
        let rows = metrics.num_target_rows_inserted + metrics.num_target_rows_updated;
        Ok(WriteOutcome {
            version: table.version().unwrap_or(0),
            rows: rows as u64,
            note: None,
        })
    }

    /// Add the model's new columns to `table` (NULL in its rows so far), in a commit of
    /// their own: delta-rs's MERGE with schema evolution resolves the columns it sets
    /// against the source, so it cannot set the ones scd2 adds ("No field named valid_to").
    async fn add_new_columns(&self, table: DeltaTable, output: &Schema) -> Result<DeltaTable> {
        use deltalake::kernel::engine::arrow_conversion::TryFromArrow as _;
        let current = table.snapshot()?.snapshot().arrow_schema();
        let new: Vec<deltalake::kernel::StructField> = output
            .fields()
            .iter()
            .filter(|f| current.field_with_name(f.name()).is_err())
            .map(|f| deltalake::kernel::StructField::try_from_arrow(&f.as_ref().clone().with_nullable(true)))
            .collect::<std::result::Result<_, _>>()?;
        if new.is_empty() {
            return Ok(table);
        }
        Ok(table
            .add_columns()
            .with_fields(new)
            .with_commit_properties(self.props())
            .await?)
    }

    /// A history fed a change set starts from one that lists every key as an insert,
    /// as its snapshot_diff model's first build (or `--full-refresh`) writes: from a day's
    /// changes alone, the keys that did not change that day would be missing.
    async fn first_change_set(&self, df: &DataFrame) -> Result<()> {
        check_change_types(df, self.tag).await?;
        check_keys_not_null(df, &self.meta.unique_key, self.tag).await?;
        let others = df.clone().filter(ident(CHANGE_TYPE).not_eq(lit("I")))?.count().await?;
        if others == 0 {
            return Ok(());
        }
        Err(model_err(
            self.tag,
            format!(
                "its history is built for the first time (or rebuilt) from a change set with {others} updates or \
                 deletes (U, D), so it would miss every key that did not change on {}; build it with the table \
                 whose changes it keeps: lakemart run --date {} --full-refresh --select <the snapshot_diff model>+",
                self.tag.biz_date, self.tag.biz_date
            ),
        ))
    }

    /// Whether a history fed a change set already holds this business date: the same
    /// change set (`digest`) applied last → nothing to do; a later date, or another
    /// change set for this one, cannot be applied on top of it → an error.
    async fn already_applied(&self, table: &DeltaTable, digest: &str) -> Result<Option<WriteOutcome>> {
        let date = self.tag.biz_date;
        let commits = crate::history::commits(table).await?;
        let Some(latest) = commits.iter().find_map(|c| c.biz_date) else {
            return Ok(None);
        };
        if latest < date {
            return Ok(None);
        }
        // The change set applied for the date (a commit of the date without one added
        // columns only, before its change set was applied).
        let applied = commits
            .iter()
            .filter(|c| c.biz_date == Some(date))
            .find_map(|c| c.changes_applied.as_deref());
        match applied {
            None if latest == date => return Ok(None),
            Some(d) if latest == date && d == digest => {
                return unchanged(table, &format!("the change set of {date} is already applied")).map(Some);
            }
            _ => {}
        }
        let what = if latest == date {
            format!("business date {date}, from another change set")
        } else {
            format!("business date {latest}")
        };
        Err(model_err(
            self.tag,
            format!(
                "its history already holds {what}; a change set applies on top of the day before it only. \
                 Restore it to the date before (lakemart restore {} --to-date <that date>) and run the dates \
                 from {date} in order",
                self.tag.model
            ),
        ))
    }

    /// The change set (`changes`: the stored columns `names`, `row_hash` and
    /// `change_type`) in the table's types, in memory, with its reservation; `None`
    /// when it does not fit the memory pool.
    async fn hold_change_set(
        &self,
        table: &DeltaTable,
        changes: DataFrame,
        names: &[String],
    ) -> Result<Option<(RecordBatch, MemoryReservation)>> {
        let table_schema = table.snapshot()?.snapshot().arrow_schema();
        let mut typed: Vec<Expr> = Vec::new();
        for c in names.iter().map(String::as_str).chain(["row_hash"]) {
            // A column new to the table keeps its own type (it is added with it).
            typed.push(match table_schema.field_with_name(c) {
                Ok(f) => cast(ident(c), f.data_type().clone()).alias(c),
                Err(_) => ident(c),
            });
        }
        typed.push(cast(ident(CHANGE_TYPE), DataType::Utf8).alias(CHANGE_TYPE));
        let pool = self.state.runtime_env().memory_pool.clone();
        let mut memory = MemoryConsumer::new("lakemart scd2 change set").register(&pool);
        match collect_within(changes.select(typed)?, &mut memory).await? {
            Some(rows) => Ok(Some((rows, memory))),
            None => {
                tracing::debug!(
                    "{}: the change set does not fit the memory pool; merging",
                    self.tag.model
                );
                Ok(None)
            }
        }
    }

    /// Apply a change set (`rows`, as [`Incremental::hold_change_set`] holds it, with its
    /// reservation `memory`) to a history by closing versions in place: the open version of
    /// each changed key whose row hash differs (every one, for a delete) gets `valid_to`
    /// = the date and `is_current` = false, in a rewrite of its file that copies every
    /// other column chunk as it is ([`patch::patch`]); the new versions of inserted and
    /// updated keys (unless their open version already has their hash) are written as
    /// new files, in key order; one commit. Only the files of the change set's key range
    /// are read. `None` when the table's layout does not allow it ([`patch::patch`]):
    /// the caller merges.
    async fn close_in_place(
        &self,
        table: &DeltaTable,
        rows: &RecordBatch,
        memory: &mut MemoryReservation,
        digest: &str,
    ) -> Result<Option<WriteOutcome>> {
        let keys = &self.meta.unique_key;
        let started = std::time::Instant::now();
        let table_schema = table.snapshot()?.snapshot().arrow_schema();
        let n = rows.num_rows();
        let ctx = SessionContext::new_with_state(self.state.clone());
        let Some(range) = key_range(&ctx.read_batch(rows.clone())?, &keys[0]).await? else {
            return unchanged(table, "the change set is empty").map(Some);
        };
        let column = |name: &str| {
            rows.column_by_name(name)
                .cloned()
                .ok_or_else(|| Error::Internal(format!("the change set has no column {name}")))
        };
        let today = days_since_epoch(self.tag.biz_date);

        // The versions to close: the table's columns, of which only the key, the row
        // hash (to compare) and the two set are filled.
        // Every column nullable: the columns not filled are NULL.
        let schema = Arc::new(Schema::new(
            table_schema
                .fields()
                .iter()
                .map(|f| f.as_ref().clone().with_nullable(true))
                .collect::<Vec<_>>(),
        ));
        let (mut columns, mut sets) = (Vec::new(), Vec::new());
        for f in table_schema.fields() {
            let name = f.name().as_str();
            let values: ArrayRef = match name {
                "valid_to" => Arc::new(Date32Array::from(vec![today; n])),
                "is_current" => Arc::new(BooleanArray::from(vec![false; n])),
                _ if name == "row_hash" || keys.iter().any(|k| k == name) => column(name)?,
                _ => new_null_array(f.data_type(), n),
            };
            sets.push(matches!(name, "valid_to" | "is_current"));
            columns.push(values);
        }
        let closing = RecordBatch::try_new(schema.clone(), columns)?;
        let touched = files_in_range(table, &keys[0], &range)?;

        // The new versions, in key order, as files of the table (uncommitted): those of
        // the rows `opened`.
        let change_type = column(CHANGE_TYPE)?;
        let change_type = change_type.as_string::<i32>();
        let versions_of = |opened: Vec<u32>| -> Result<Option<DataFrame>> {
            let picked = UInt32Array::from(opened);
            let m = picked.len();
            if m == 0 {
                return Ok(None);
            }
            let mut columns = Vec::new();
            for f in table_schema.fields() {
                let name = f.name().as_str();
                columns.push(match name {
                    "valid_from" => Arc::new(Date32Array::from(vec![today; m])) as ArrayRef,
                    "valid_to" => Arc::new(Date32Array::from(vec![open_end_days(); m])),
                    "is_current" => Arc::new(BooleanArray::from(vec![true; m])),
                    _ => deltalake::arrow::compute::take(column(name)?.as_ref(), &picked, None)?,
                });
            }
            let versions = RecordBatch::try_new(schema.clone(), columns)?;
            let sorted = ctx
                .read_batch(versions)?
                .sort(keys.iter().map(|k| ident(k).sort(true, false)).collect())?;
            Ok(Some(sorted))
        };
        let write_versions = |df: Option<DataFrame>| {
            let (table, keys) = (table.clone(), keys.clone());
            Spawned(tokio::spawn(async move {
                match df {
                    Some(df) => write_files(&table, &keys, df).await,
                    None => Ok((Vec::new(), 0)),
                }
            }))
        };
        let joined = |mut h: Spawned<Result<(Vec<Add>, u64)>>| async move {
            (&mut h.0)
                .await
                .map_err(|e| Error::Internal(format!("writing the new versions stopped: {e}")))?
        };
        // Written while the open versions are closed, as if none of them had its new
        // version's hash already (a change set of snapshot_diff's never has): when one
        // had, they are written again without it.
        let opening: Vec<u32> = (0..n as u32)
            .filter(|&j| change_type.value(j as usize) != "D")
            .collect();
        let early = write_versions(versions_of(opening.clone())?);

        let (mut removes, mut adds, mut rows_out) = (Vec::new(), Vec::new(), 0u64);
        let (mut found, mut same) = (vec![false; n], vec![false; n]);
        let mut chunks = (0, 0);
        if !touched.is_empty() {
            let incoming = patch::Incoming {
                rows: closing,
                keep: vec![true; n],
                sets,
                only_where: table_schema.index_of("is_current").ok(),
                same_unless: table_schema.index_of("row_hash").ok(),
            };
            let cores = self.state.config().target_partitions();
            let patched = patch::patch(table, &touched, incoming, keys, &self.tag.run_id, memory, cores).await;
            let Ok(Some(done)) = patched else {
                // Not applied in place (or failed): the new versions' files are not used.
                if let Ok((files, _)) = joined(early).await {
                    discard_adds(table, &files).await;
                }
                return patched.map(|_| None);
            };
            (removes, adds, rows_out) = (done.removes, done.adds, done.rows);
            (found, same) = (done.found, done.same);
            chunks = (done.copied, done.encoded);
        }
        let closed = (0..n).filter(|&j| found[j] && !same[j]).count();
        let opened: Vec<u32> = opening.into_iter().filter(|&j| !same[j as usize]).collect();
        let m = opened.len();
        let (more, written) = match joined(early).await? {
            (files, rows) if rows as usize == m => (files, rows),
            (files, _) => {
                discard_adds(table, &files).await;
                joined(write_versions(versions_of(opened)?)).await?
            }
        };
        adds.extend(more);
        rows_out += written;
        if removes.is_empty() && adds.is_empty() {
            return unchanged(table, "no version changes").map(Some);
        }
        let metrics = [
            ("num_closed_versions", closed.into()),
            ("num_opened_versions", m.into()),
            ("num_copied_column_chunks", chunks.0.into()),
            ("num_encoded_column_chunks", chunks.1.into()),
        ];
        let version = self
            .commit_rewrite(
                table,
                removes,
                adds,
                rows_out,
                Some(&range),
                Notes {
                    metrics: metrics.to_vec(),
                    info: Some((CHANGES_APPLIED, digest)),
                },
            )
            .await?;
        tracing::debug!(
            "{}: closed {closed} versions and opened {m} in {:.1?}",
            self.tag.model,
            started.elapsed()
        );
        Ok(Some(WriteOutcome {
            version,
            rows: (closed + m) as u64,
            note: None,
        }))
    }

    async fn snapshot_diff(self, table: DeltaTable, df: DataFrame, merge_schema: bool) -> Result<WriteOutcome> {
        let keys = self.meta.unique_key.clone();
        let names = self.output_names_of_plan();
        let hashed_columns = self.hashed_columns();
        let hash_type = hash_type(&table)?;
        // A table that keeps no row hash has its rows' hashes recomputed as read (its
        // fingerprints' when they are missing, a gone key's row): the snapshot is
        // hashed in the table's types, so that an unchanged row hashes the same.
        let df = match stores_hash(&table)? {
            true => df,
            false => in_table_types(&table, df, &names)?,
        };
        let snapshot = hashed(df.clone(), &hashed_columns, &hash_type)?;

        // Compare with the table as it was before this business date, so a re-run
        // of the date finds the same changes.
        let base = match self.tag.biz_date.pred_opt() {
            Some(day_before) => crate::history::version_as_of(&table, day_before).await?,
            None => None,
        };
        let ctx = SessionContext::new_with_state(self.state.clone());
        let previous = match base {
            Some(v) => {
                let mut before = table.clone();
                if Some(v) != table.version() {
                    before.load_version(v).await?;
                }
                Some(ctx.read_table(engine::provider(&ctx, &before).await?)?)
            }
            // The table was created on this very date: every row is an insert.
            None => None,
        };
        // The snapshot's changes go onto the version they are compared with (not on a
        // re-run of an earlier date, whose changes go onto a later version); then its
        // keys become the table's.
        let current = base.is_some() && base == table.version();

        // Only keys and row hashes are compared, bucket by bucket (rowdiff.rs); whole
        // rows are read again for the changed keys alone.
        let type_of = |df: &DataFrame, c: &str| -> Result<DataType> {
            Ok(df.schema().field_with_unqualified_name(c)?.data_type().clone())
        };
        let mut all = names.clone();
        all.push("row_hash".into());
        let types: Vec<DataType> = all.iter().map(|c| type_of(&snapshot, c)).collect::<Result<_>>()?;
        let key_types = key_types(&snapshot, &keys)?;
        let started = std::time::Instant::now();
        let converter = Arc::new(rowdiff::key_converter(&key_types)?);
        let runtime = self.state.runtime_env().clone();
        let new_keys = key_hashes(df.clone(), &keys, &key_types, row_hash_bits(&hashed_columns))?;
        let keys_schema: SchemaRef = Arc::new(new_keys.schema().as_arrow().clone());
        let store = table.log_store().object_store(None);
        let unpartitioned = table.snapshot()?.metadata().partition_columns().is_empty();
        // The snapshot's changes go onto the version compared with, whose prints the
        // memory pool can hold: one pass checks every row against them.
        if let (true, false, true, Some(p), Some(v)) = (current, merge_schema, unpartitioned, &previous, base)
            && let Some(outcome) = self
                .diff_by_fingerprints(&table, &snapshot, p, v, &all, &types, &key_types)
                .await?
        {
            return Ok(outcome);
        }
        // The table's side: the keys kept for the version compared with, or its own.
        let kept = match (&previous, base) {
            (Some(_), Some(v)) => rowdiff::KeptKeys::open(&store, v, &keys_schema).await?,
            _ => None,
        };
        let count = match &kept {
            Some(k) => k.count(),
            None => rowdiff::buckets_for(table_rows(&table)?),
        };
        let refused = |r: rowdiff::Refused| -> Result<Error> {
            Ok(match r {
                rowdiff::Refused::NullKey => model_err(
                    self.tag,
                    format!(
                        "a row has no unique_key ({} is NULL); snapshot_diff compares rows by key: \
                         filter such rows out or give them a key in the model's SQL",
                        keys.join(", ")
                    ),
                ),
                rowdiff::Refused::Duplicate { key, times, keys: n } => {
                    let values = converter.convert_rows([key.row()])?;
                    let shown = keys
                        .iter()
                        .zip(&values)
                        .map(|(k, a)| Ok(format!("{k}={}", ScalarValue::try_from_array(a.as_ref(), 0)?)))
                        .collect::<Result<Vec<_>>>()?;
                    duplicate_error(self.tag, &shown, times, n)
                }
            })
        };
        // When the snapshot will likely replace the table whole, as the version compared
        // with was written, one read of it writes its files (uncommitted) as its keys
        // are bucketed; the changed rows are then read back from those files.
        // (One writer's flush is one file only when the table is not partitioned.)
        let speculate = current && !merge_schema && unpartitioned && kept.as_ref().is_none_or(|k| k.whole);
        let (new_keys, written) = if speculate {
            let (bucketed, written) = self
                .write_and_bucket(&table, &snapshot, &all, &key_types, count)
                .await?;
            match bucketed {
                Ok(b) => (b, Some(written)),
                Err(r) => {
                    discard(&store, &written).await;
                    return Err(refused(r)?);
                }
            }
        } else {
            let split = rowdiff::Bucketed::split(
                new_keys.execute_stream_partitioned().await?,
                keys.len(),
                count,
                &runtime.disk_manager,
            );
            match split.await? {
                Ok(b) => (b, None),
                Err(r) => return Err(refused(r)?),
            }
        };
        let mut committing = false;
        let outcome = async {
            let old_keys = match (kept, &previous) {
                (Some(k), _) => {
                    tracing::debug!("{}: reading the keys kept for version {base:?}", self.tag.model);
                    Some(rowdiff::OldKeys::Kept(k))
                }
                (None, Some(p)) => {
                    let table_keys = key_hashes(p.clone(), &keys, &key_types, bits_of_rows(p, &hashed_columns))?
                        .execute_stream_partitioned()
                        .await?;
                    match rowdiff::Bucketed::split(table_keys, keys.len(), count, &runtime.disk_manager).await? {
                        Ok(b) => Some(rowdiff::OldKeys::Bucketed(b)),
                        Err(_) => {
                            return Err(Error::Internal(
                                "the table holds a NULL key; rebuild it with --full-refresh".into(),
                            ));
                        }
                    }
                }
                (None, None) => None,
            };
            tracing::debug!(
                "{}: snapshot_diff bucketed {} keys in {count} buckets at {:.1?}",
                self.tag.model,
                new_keys.rows(),
                started.elapsed()
            );
            let mut keeper = match current {
                true => Some(rowdiff::KeyKeeper::new(
                    store.clone(),
                    &self.tag.run_id,
                    keys_schema.clone(),
                )?),
                false => None,
            };
            let compared = match rowdiff::compare(
                converter.clone(),
                keys.len(),
                new_keys,
                old_keys,
                keeper.as_mut(),
                &runtime.memory_pool,
            )
            .await?
            {
                Ok(c) => c,
                Err(r) => return Err(refused(r)?),
            };
            tracing::debug!(
                "{}: snapshot_diff compared keys and hashes in {:.1?}: {} new or changed, {} gone",
                self.tag.model,
                started.elapsed(),
                compared.changed.num_rows(),
                compared.gone.num_rows()
            );
            // The change set: whole rows of the snapshot for new and changed keys, the
            // table's last rows for keys that are gone.
            // The change set's rows are joined from wide scans by a few keys: with Parquet
            // filter pushdown the join's key lookup reaches the scans, so only the key
            // columns are decoded for rows that are not picked.
            let mut state = small_build_side(&self.state);
            state.config_mut().options_mut().execution.parquet.pushdown_filters = true;
            let kctx = SessionContext::new_with_state(state.clone());
            let probe: Vec<String> = keys.iter().map(|k| format!("__c_{k}")).collect();
            let key_table = |rows: &Rows, kinds: Vec<&str>, side: &DataFrame| -> Result<DataFrame> {
                let mut fields = Vec::new();
                let mut columns = Vec::new();
                for ((k, p), a) in keys.iter().zip(&probe).zip(converter.convert_rows(rows.iter())?) {
                    let t = type_of(side, k)?;
                    columns.push(deltalake::arrow::compute::cast(&a, &t)?);
                    fields.push(Field::new(p, t, true));
                }
                fields.push(Field::new("change_type", DataType::Utf8, false));
                columns.push(Arc::new(StringArray::from(kinds)));
                let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
                Ok(kctx.read_batch(batch)?)
            };
            // The snapshot's rows are hashed after the join (for the changed keys alone),
            // a table's that keeps no hash when read back.
            let typed = |df: DataFrame| change_rows_hashed(df, &all, &types, &hashed_columns);
            let rows_of = |keyed: DataFrame, side: DataFrame| -> Result<DataFrame> {
                let left: Vec<&str> = probe.iter().map(String::as_str).collect();
                let right: Vec<&str> = keys.iter().map(String::as_str).collect();
                typed(keyed.join(side, JoinType::Inner, &left, &right, None)?)
            };
            let (changed, gone) = (compared.changed.num_rows(), compared.gone.num_rows());
            let whole = current && !merge_schema && rewrite_whole(&table, changed, gone)?;
            let mut changes = match &written {
                Some(w) => {
                    let picks = compared
                        .positions
                        .iter()
                        .copied()
                        .zip(compared.inserted.iter().copied());
                    let picked = self.pick_back(&table, &w.files, picks.collect()).await?;
                    typed(kctx.read_table(picked)?)?
                }
                None => {
                    let kinds = compared.inserted.iter().map(|&i| if i { "I" } else { "U" }).collect();
                    rows_of(key_table(&compared.changed, kinds, &snapshot)?, df)?
                }
            };
            if let Some(p) = previous.filter(|_| gone > 0) {
                let kinds = vec!["D"; gone];
                changes = changes.union(rows_of(key_table(&compared.gone, kinds, &p)?, p)?)?;
            }
            self.write_changes(changes, &state).await?;
            tracing::debug!(
                "{}: snapshot_diff wrote the change set at {:.1?}",
                self.tag.model,
                started.elapsed()
            );
            let outcome = match written.as_ref().filter(|_| whole) {
                Some(w) => {
                    committing = true;
                    self.replace_whole(&table, w, (changed + gone) as u64).await?
                }
                None => {
                    if let Some(w) = &written {
                        discard(&store, w).await;
                    }
                    committing = true;
                    self.apply_change_set(table, &ctx, &keys, &all, merge_schema).await?
                }
            };
            // Applied or empty, the table's keys are now the snapshot's.
            if let Some(k) = keeper {
                k.keep(outcome.version, whole).await;
            }
            Ok(outcome)
        }
        .await;
        if let (Err(_), Some(w), false) = (&outcome, &written, committing) {
            discard(&store, w).await;
        }
        outcome
    }

    /// snapshot_diff by the fingerprints of the version compared with, `base`
    /// ([`fingerprint`]): one pass over the snapshot checks each row against them,
    /// takes the changed rows into the change set and, when `base` was written whole,
    /// writes the snapshot's files. The prints are those kept for `base`, or else read
    /// off `previous` (its version). None when the memory pool cannot hold them, or a
    /// key is NULL or repeated: the comparison by buckets then runs, and says what is
    /// wrong.
    #[allow(clippy::too_many_arguments)]
    async fn diff_by_fingerprints(
        &self,
        table: &DeltaTable,
        snapshot: &DataFrame,
        previous: &DataFrame,
        base: u64,
        all: &[String],
        types: &[DataType],
        key_types: &[DataType],
    ) -> Result<Option<WriteOutcome>> {
        let keys = &self.meta.unique_key;
        let model = &self.tag.model;
        let store = table.log_store().object_store(None);
        let description = fingerprint::describe(keys, key_types);
        let memory = self.prints_memory();
        let started = std::time::Instant::now();
        let local = table.table_url().to_file_path().ok();
        let held = match fingerprint::Fingerprints::open(&store, base, &description, &memory, local.as_deref()).await? {
            Err(fingerprint::Missing::None) => {
                let bits = bits_of_rows(previous, &self.hashed_columns());
                let table_keys = key_hashes(previous.clone(), keys, key_types, bits)?;
                self.table_prints(table_keys, table, &memory).await?
            }
            opened => opened,
        };
        let prints = match held {
            Ok(p) => p,
            Err(fingerprint::Missing::TooBig(bytes)) => {
                tracing::info!(
                    "{model}: the fingerprints of version {base} need {} MiB, more than the memory pool \
                     holds (--memory-limit); comparing keys in buckets on disk instead",
                    bytes >> 20
                );
                return Ok(None);
            }
            Err(fingerprint::Missing::None) => return Ok(None),
        };
        tracing::debug!(
            "{model}: holding {} fingerprints of version {base} ({:.1?})",
            prints.len(),
            started.elapsed()
        );
        let write_files = prints.whole;
        let probe = Arc::new(fingerprint::Probe::new(prints));
        let (pass, written) = self
            .write_and_probe(table, snapshot, all, key_types, &probe, write_files)
            .await?;
        let checked = match pass {
            Some((found, spills)) => Arc::into_inner(probe)
                .ok_or_else(|| Error::Internal("a snapshot_diff task outlived its pass".into()))?
                .finish(found)
                .map(|c| (c, spills)),
            None => None,
        };
        let Some((checked, spills)) = checked else {
            // A NULL or repeated key: the comparison by buckets names it.
            discard(&store, &written).await;
            return Ok(None);
        };
        let (changed, inserted, gone) = (checked.changed(), checked.inserted(), checked.gone.len());
        tracing::debug!(
            "{model}: snapshot_diff checked the snapshot in {:.1?}: {inserted} new, {changed} changed, {gone} gone",
            started.elapsed()
        );
        let whole = write_files && rewrite_whole(table, changed + inserted, gone)?;
        let gone_keys = checked.gone.clone();
        // The next version's prints are written while the change set is.
        let writing = {
            let (store, run_id, description) = (store.clone(), self.tag.run_id.clone(), description.clone());
            tokio::spawn(async move { checked.write(&store, &run_id, &description, whole).await })
        };
        let mut committing = false;
        let outcome = async {
            // The change set: the snapshot's rows checked new or changed, and the
            // previous version's rows of the keys gone (with Parquet filter pushdown,
            // only their key columns are decoded for the other rows).
            let mut state = self.state.clone();
            state.config_mut().options_mut().execution.parquet.pushdown_filters = true;
            let kctx = SessionContext::new_with_state(state.clone());
            let schema = spills
                .first()
                .map(|s| s.schema().clone())
                .ok_or_else(|| Error::Internal("snapshot_diff's pass had no partition".into()))?;
            let spills: Vec<Arc<dyn PartitionStream>> = spills.into_iter().map(|p| Arc::new(p) as _).collect();
            let picked = kctx.read_table(Arc::new(StreamingTable::try_new(schema, spills)?))?;
            let mut changes = change_rows(picked, all, types)?;
            if gone > 0 {
                let key_columns = keys
                    .iter()
                    .zip(key_types)
                    .map(|(k, t)| cast(ident(k), t.clone()))
                    .collect();
                // The version compared with is the table's current one, scanned with
                // pushdown (a provider takes it from the session it is made in).
                let rows = kctx
                    .read_table(engine::provider(&kctx, table).await?)?
                    .filter(fingerprint::key_in(gone_keys, key_columns))?
                    .with_column("change_type", lit("D"))?;
                let hashed_columns = self.hashed_columns();
                changes = changes.union(change_rows_hashed(rows, all, types, &hashed_columns)?)?;
            }
            self.write_changes(changes, &state).await?;
            tracing::debug!(
                "{model}: snapshot_diff wrote the change set at {:.1?}",
                started.elapsed()
            );
            if whole {
                committing = true;
                return self
                    .replace_whole(table, &written, (changed + inserted + gone) as u64)
                    .await;
            }
            discard(&store, &written).await;
            committing = true;
            let ctx = SessionContext::new_with_state(self.state.clone());
            self.apply_change_set(table.clone(), &ctx, keys, all, false).await
        }
        .await;
        if let (Err(_), false) = (&outcome, committing) {
            discard(&store, &written).await;
        }
        // Applied or empty, the table's keys are now the snapshot's.
        match (writing.await, &outcome) {
            (Ok(Ok(temp)), Ok(o)) => fingerprint::keep(&store, &temp, o.version).await,
            (Ok(Ok(temp)), Err(_)) => fingerprint::discard(&store, &temp).await,
            (Ok(Err(e)), _) => tracing::warn!("{model}: the fingerprints are not kept ({e})"),
            (Err(e), _) => tracing::warn!("{model}: the fingerprints are not kept ({e})"),
        }
        outcome.map(Some)
    }

    /// Commit the snapshot's `written` files as `table`'s replacement: one commit
    /// removes every file of its current version and adds them; `rows` changed.
    async fn replace_whole(&self, table: &DeltaTable, written: &Written, rows: u64) -> Result<WriteOutcome> {
        let removes: Vec<Remove> = table
            .snapshot()?
            .log_data()
            .into_iter()
            .map(|f| f.remove_action(true))
            .collect();
        let version = self
            .commit_rewrite(
                table,
                removes,
                written.adds.clone(),
                written.rows,
                None,
                Notes::default(),
            )
            .await?;
        Ok(WriteOutcome {
            version,
            rows,
            note: None,
        })
    }

    /// Read the snapshot once: check each row's key and row hash against `probe`,
    /// spilling the new and changed rows (in the table's types, with `change_type`), and,
    /// when `write_files`, write every row as new files of `table`, uncommitted. What
    /// each partition found and its spill, or None when a key is NULL; the files are
    /// returned either way, to be committed or discarded.
    async fn write_and_probe(
        &self,
        table: &DeltaTable,
        snapshot: &DataFrame,
        columns: &[String],
        key_types: &[DataType],
        probe: &Arc<fingerprint::Probe>,
        write_files: bool,
    ) -> Result<(Option<(Vec<fingerprint::Found>, Vec<rowdiff::Spilled>)>, Written)> {
        let keys = &self.meta.unique_key;
        let (typed, key_at, hash_at, stored) = self.typed_snapshot(table, snapshot, columns)?;
        let mut fields: Vec<Field> = typed.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("change_type", DataType::Utf8, false));
        let change_schema: SchemaRef = Arc::new(Schema::new(fields));
        let disk = self.state.runtime_env().disk_manager.clone();
        let started = std::time::Instant::now();
        let mut writers = tokio::task::JoinSet::new();
        // Set by the task that meets a NULL key: the others stop too.
        let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = |e: &dyn std::fmt::Display| Error::Internal(format!("snapshot_diff's check stopped: {e}"));
        for (part, mut stream) in typed.execute_stream_partitioned().await?.into_iter().enumerate() {
            // No file rolls but ours: each flush is one file, so its rows are known.
            let mut writer = match write_files {
                true => Some(keyed_writer(table, keys)?.with_target_file_size(0)),
                false => None,
            };
            let mut out = rowdiff::SpillOut::new(&disk, &change_schema, "snapshot_diff change set")?;
            let (probe, key_at, stored, key_types, schema, refused) = (
                probe.clone(),
                key_at.clone(),
                stored.clone(),
                key_types.to_vec(),
                change_schema.clone(),
                refused.clone(),
            );
            writers.spawn(async move {
                let mut done = Written::default();
                let (mut rows, mut first) = (0u64, 0u64);
                let mut found = fingerprint::Found::default();
                // A batch is checked on a blocking thread while the next is read and written.
                type Check = (fingerprint::Found, Result<Option<RecordBatch>>);
                let mut checking: Option<tokio::task::JoinHandle<Check>> = None;
                let settle = |c: Check, out: &mut rowdiff::SpillOut| -> Result<fingerprint::Found> {
                    if let Some(b) = c.1? {
                        out.write(&b)?;
                    }
                    Ok(c.0)
                };
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    let n = batch.num_rows() as u64;
                    if n == 0 {
                        continue;
                    }
                    let Some(key_columns) = pass_keys(&batch, &key_at, &key_types, &refused)? else {
                        if let Some(w) = writer.as_mut() {
                            w.reset();
                        }
                        return Ok((done, None));
                    };
                    if let Some(c) = checking.take() {
                        found = settle(c.await.map_err(|e| stopped(&e))?, &mut out)?;
                    }
                    let (probe, schema, rows_in) = (probe.clone(), schema.clone(), batch.clone());
                    let mut f = std::mem::take(&mut found);
                    checking = Some(tokio::task::spawn_blocking(move || {
                        let checked = rowdiff::bits_of_hashes(rows_in.column(hash_at))
                            .map_err(Error::from)
                            .and_then(|bits| probe.check(&key_columns, &(Arc::new(bits) as ArrayRef), &mut f))
                            .and_then(|kinds| fingerprint::changed_rows(&rows_in, &kinds, &schema));
                        (f, checked)
                    }));
                    rows += n;
                    if let Some(w) = writer.as_mut() {
                        w.write(batch.project(&stored)?).await?;
                        if w.buffer_len() as u64 >= KEYED_FILE_SIZE.get() {
                            flush_file(w, part, first..rows, &mut done).await?;
                            first = rows;
                        }
                    }
                }
                if let Some(c) = checking {
                    found = settle(c.await.map_err(|e| stopped(&e))?, &mut out)?;
                }
                if let Some(w) = writer.as_mut()
                    && rows > first
                {
                    flush_file(w, part, first..rows, &mut done).await?;
                }
                Ok::<_, Error>((done, Some((found, out.finish()?))))
            });
        }
        let (written, parts) = join_writers(table, writers).await?;
        // Each partition's findings and spill, unless one met a NULL key.
        let parts = parts
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .map(|p| p.into_iter().unzip());
        tracing::debug!(
            "{}: checked the snapshot's rows{} in {:.1?}",
            self.tag.model,
            if write_files {
                format!(" and wrote {} as {} files", written.rows, written.adds.len())
            } else {
                String::new()
            },
            started.elapsed()
        );
        Ok((parts, written))
    }

    /// The snapshot's `columns` in the table's types, where its key columns and its
    /// `row_hash` are, and which of its columns the table's files store (all, or all but
    /// the row hash).
    fn typed_snapshot(
        &self,
        table: &DeltaTable,
        snapshot: &DataFrame,
        columns: &[String],
    ) -> Result<(DataFrame, Vec<usize>, usize, Vec<usize>)> {
        // The row hash of a table that keeps none is only compared: it keeps its type.
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        let typed = in_table_types(table, snapshot.clone().select_columns(&names)?, columns)?;
        let at = |c: &str| {
            typed
                .schema()
                .index_of_column_by_name(None, c)
                .ok_or_else(|| Error::Internal(format!("no column {c}")))
        };
        let key_at: Vec<usize> = self.meta.unique_key.iter().map(|k| at(k)).collect::<Result<_>>()?;
        let hash_at = at("row_hash")?;
        let stores = stores_hash(table)?;
        let stored = (0..columns.len()).filter(|&i| stores || i != hash_at).collect();
        Ok((typed, key_at, hash_at, stored))
    }

    /// Read the snapshot once for two ends: write its rows (`columns`, in the table's
    /// types) as new files of `table`, uncommitted, and split their keys (as
    /// `key_types`) and row hash bits, with where each row is ([`rowdiff::POSITION`]),
    /// into `count` buckets ([`rowdiff::Bucketing`]). Each file is one writer's rows
    /// between two flushes, so a position names its file and row. The files are
    /// returned also when a key is NULL (the buckets refused), to be discarded.
    async fn write_and_bucket(
        &self,
        table: &DeltaTable,
        snapshot: &DataFrame,
        columns: &[String],
        key_types: &[DataType],
        count: usize,
    ) -> Result<(std::result::Result<rowdiff::Bucketed, rowdiff::Refused>, Written)> {
        let keys = &self.meta.unique_key;
        let (typed, key_at, hash_at, stored) = self.typed_snapshot(table, snapshot, columns)?;
        let mut fields: Vec<Field> = keys
            .iter()
            .zip(key_types)
            .map(|(k, t)| Field::new(k, t.clone(), true))
            .collect();
        fields.push(Field::new("row_hash", DataType::UInt64, false));
        fields.push(Field::new(rowdiff::POSITION, DataType::UInt64, false));
        let bucket_schema: SchemaRef = Arc::new(Schema::new(fields));
        let disk = self.state.runtime_env().disk_manager.clone();
        let bucketing = rowdiff::Bucketing::new(&bucket_schema, keys.len(), count, &disk)?;
        let started = std::time::Instant::now();
        let mut writers = tokio::task::JoinSet::new();
        // Set by the writer that meets a NULL key: the others stop too.
        let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        for (part, mut stream) in typed.execute_stream_partitioned().await?.into_iter().enumerate() {
            // No file rolls but ours: each flush is one file, so its rows are known.
            let mut writer = keyed_writer(table, keys)?.with_target_file_size(0);
            let (bucketing, key_at, stored, key_types, schema, refused) = (
                bucketing.clone(),
                key_at.clone(),
                stored.clone(),
                key_types.to_vec(),
                bucket_schema.clone(),
                refused.clone(),
            );
            writers.spawn(async move {
                let mut done = Written::default();
                let (mut rows, mut first) = (0u64, 0u64);
                let mut scattering: Option<rowdiff::Scattering> = None;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    let n = batch.num_rows() as u64;
                    if n == 0 {
                        continue;
                    }
                    let Some(mut columns) = pass_keys(&batch, &key_at, &key_types, &refused)? else {
                        writer.reset();
                        if let Some(s) = scattering {
                            s.done().await?;
                        }
                        return Ok((done, ()));
                    };
                    columns.push(Arc::new(rowdiff::bits_of_hashes(batch.column(hash_at))?));
                    let positions = (rows..rows + n).map(|r| rowdiff::position(part, r));
                    columns.push(Arc::new(UInt64Array::from_iter_values(positions)));
                    if let Some(s) = scattering.take() {
                        s.done().await?;
                    }
                    scattering = Some(bucketing.scatter(RecordBatch::try_new(schema.clone(), columns)?));
                    writer.write(batch.project(&stored)?).await?;
                    rows += n;
                    if writer.buffer_len() as u64 >= KEYED_FILE_SIZE.get() {
                        flush_file(&mut writer, part, first..rows, &mut done).await?;
                        first = rows;
                    }
                }
                if rows > first {
                    flush_file(&mut writer, part, first..rows, &mut done).await?;
                }
                if let Some(s) = scattering {
                    s.done().await?;
                }
                Ok::<_, Error>((done, ()))
            });
        }
        let (written, _) = join_writers(table, writers).await?;
        let null_key = refused.load(std::sync::atomic::Ordering::Relaxed);
        tracing::debug!(
            "{}: wrote the snapshot's {} rows as {} files in {:.1?}",
            self.tag.model,
            written.rows,
            written.adds.len(),
            started.elapsed()
        );
        if null_key {
            return Ok((Err(rowdiff::Refused::NullKey), written));
        }
        Ok((Ok(bucketing.finish()?), written))
    }

    /// The rows at `picks` (a [`rowdiff::position`] and a flag: new) of the snapshot's
    /// `files`, written by [`Self::write_and_bucket`], with their `change_type`: a
    /// table of spill files.
    async fn pick_back(
        &self,
        table: &DeltaTable,
        files: &[rowdiff::WrittenFile],
        picks: Vec<(u64, bool)>,
    ) -> Result<Arc<dyn TableProvider>> {
        let file_schema = table.snapshot()?.snapshot().arrow_schema();
        let mut fields: Vec<Field> = file_schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("change_type", DataType::Utf8, false));
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let started = std::time::Instant::now();
        let store = table.log_store().object_store(None);
        let disk = self.state.runtime_env().disk_manager.clone();
        let picked = rowdiff::pick(&store, files, picks, &schema, &disk, rowdiff::lanes()).await?;
        tracing::debug!(
            "{}: read the changed rows back from the new files in {:.1?}",
            self.tag.model,
            started.elapsed()
        );
        let picked: Vec<Arc<dyn PartitionStream>> = picked.into_iter().map(|p| Arc::new(p) as _).collect();
        Ok(Arc::new(StreamingTable::try_new(schema, picked)?))
    }

    /// Apply this date's change set, read back from `<model>_changes`, to `table`.
    async fn apply_change_set(
        &self,
        table: DeltaTable,
        ctx: &SessionContext,
        keys: &[String],
        all: &[String],
        merge_schema: bool,
    ) -> Result<WriteOutcome> {
        let k0 = &keys[0];
        let changes_table = self
            .lakehouse
            .open(self.layer, &format!("{}_changes", self.table))
            .await?
            .ok_or_else(|| Error::Internal("change set table vanished".into()))?;
        let today = days_since_epoch(self.tag.biz_date);
        let delta = ctx
            .read_table(engine::provider(ctx, &changes_table).await?)?
            .filter(ident("biz_date").eq(date_lit(today)))?
            .drop_columns(&["biz_date"])?;
        // The change set table can keep the row hash in another form than the table
        // (one of them rebuilt since an earlier release): the table's. A table that
        // keeps none takes the rest.
        let (delta, all) = match stores_hash(&table)? {
            true => (
                delta.with_column("row_hash", rowdiff::hash_as(ident("row_hash"), &hash_type(&table)?))?,
                all.to_vec(),
            ),
            false => (
                delta.drop_columns(&["row_hash"])?,
                all.iter().filter(|c| *c != "row_hash").cloned().collect(),
            ),
        };
        let all = all.as_slice();
        let Some(range) = key_range(&delta, k0).await? else {
            return unchanged(&table, "the run produced no rows");
        };
        if !merge_schema && !range.has_null_keys() {
            // Deleted keys drop out with the replaced rows; the others come back changed.
            let rows = range.rows;
            let keep = ident("change_type").not_eq(lit("D"));
            let version = self.upsert_by_rewrite(table, delta, all, range, Some(keep)).await?;
            return Ok(WriteOutcome {
                version,
                rows,
                note: None,
            });
        }
        let (table, metrics) = table
            .merge(delta, join_on(keys).and(range_predicate(k0, range.bounds())))
            .with_source_alias("s")
            .with_target_alias("t")
            .with_merge_schema(merge_schema)
            .with_session_state(Arc::new(self.state.clone()))
            .with_commit_properties(self.props())
            .with_writer_properties(keyed_props(keys))
            .when_matched_delete(|d| d.predicate(s_col("change_type").eq(lit("D"))))?
            .when_matched_update(|u| all.iter().fold(u, |u, c| u.update(c.as_str(), s_col(c))))?
            .when_not_matched_insert(|i| {
                all.iter()
                    .fold(i, |i, c| i.set(c.as_str(), s_col(c)))
                    .predicate(s_col("change_type").not_eq(lit("D")))
            })?
            .await?;
        let rows = metrics.num_target_rows_inserted + metrics.num_target_rows_updated + metrics.num_target_rows_deleted;
        Ok(WriteOutcome {
            version: table.version().unwrap_or(0),
            rows: rows as u64,
            note: None,
        })
    }

    /// Upsert `incoming` (whole rows of `columns`, unique on the key) by rewriting the
    /// table's files whose key statistics overlap the incoming key range: their rows
    /// that no incoming key replaces, plus the incoming rows for which `keep` holds (the
    /// others delete their key), are written as new files, and one Delta commit removes
    /// the old files and adds the new ones. Each touched file is read once, whole (no
    /// predicate to re-check, no rows to rescue: delta-rs's replaceWhere read them three
    /// times); the incoming keys are the hash table, the table rows stream past it in
    /// file order, so a table clustered by its key stays clustered. Returns the version.
    async fn upsert_by_rewrite(
        &self,
        table: DeltaTable,
        incoming: DataFrame,
        columns: &[String],
        range: KeyRange,
        keep: Option<Expr>,
    ) -> Result<u64> {
        let keys = &self.meta.unique_key;
        let touched = files_in_range(&table, &keys[0], &range)?;
        let state = small_build_side(&self.state);
        let ctx = SessionContext::new_with_state(state.clone());
        let table_schema = table.snapshot()?.snapshot().arrow_schema();
        let types: Vec<DataType> = columns
            .iter()
            .map(|c| Ok(table_schema.field_with_name(c)?.data_type().clone()))
            .collect::<Result<_>>()?;
        let typed = |df: DataFrame| -> Result<DataFrame> {
            Ok(df.select(
                columns
                    .iter()
                    .zip(&types)
                    .map(|(c, t)| cast(ident(c), t.clone()).alias(c.as_str()))
                    .collect::<Vec<_>>(),
            )?)
        };
        let keep = keep.map(Expr::is_true).unwrap_or(lit(true));
        if !touched.is_empty() {
            let mut held: Vec<Expr> = columns
                .iter()
                .zip(&types)
                .map(|(c, t)| cast(ident(c), t.clone()).alias(c.as_str()))
                .collect();
            held.push(keep.clone().alias(KEEP));
            let held = incoming.clone().select(held)?;
            if let Some(version) = self.try_patch(&table, &touched, held, &range).await? {
                return Ok(version);
            }
        }
        let kept = if touched.is_empty() {
            None
        } else {
            let paths: Vec<String> = touched.iter().map(|r| r.path.clone()).collect();
            let provider = table
                .table_provider()
                .with_file_paths(paths)
                .with_session(Arc::new(ctx.state()))
                .await?;
            let current = ctx.read_table(provider)?;
            let probe_keys: Vec<String> = keys.iter().map(|k| format!("__in_{k}")).collect();
            let incoming_keys = incoming.clone().select(
                keys.iter()
                    .zip(&probe_keys)
                    .map(|(k, a)| ident(k).alias(a))
                    .collect::<Vec<_>>(),
            )?;
            let left: Vec<&str> = probe_keys.iter().map(String::as_str).collect();
            let right: Vec<&str> = keys.iter().map(String::as_str).collect();
            Some(typed(incoming_keys.join(
                current,
                JoinType::RightAnti,
                &left,
                &right,
                None,
            )?)?)
        };
        let incoming = typed(incoming.filter(keep)?)?;
        let all = match kept {
            Some(kept) => kept.union(incoming)?,
            None => incoming,
        };
        let started = std::time::Instant::now();
        let (adds, rows) = write_files(&table, keys, all).await?;
        tracing::debug!(
            "{}: rewrote {} of the table's files as {} in {:.1?} ({rows} rows)",
            self.tag.model,
            touched.len(),
            adds.len(),
            started.elapsed()
        );
        let removes = touched.into_iter().map(|r| r.remove).collect();
        self.commit_rewrite(&table, removes, adds, rows, Some(&range), Notes::default())
            .await
    }

    /// Commit a rewrite of the files overlapping `range`: `removes` replaced by `adds`.
    async fn commit_rewrite(
        &self,
        table: &DeltaTable,
        removes: Vec<Remove>,
        adds: Vec<Add>,
        rows: u64,
        range: Option<&KeyRange>,
        notes: Notes<'_>,
    ) -> Result<u64> {
        let keys = &self.meta.unique_key;
        let mut actions: Vec<Action> = removes.into_iter().map(Action::Remove).collect();
        let removed = actions.len();
        let added = adds.len();
        actions.extend(adds.into_iter().map(Action::Add));
        let mut metrics = serde_json::json!({
            "num_added_files": added,
            "num_removed_files": removed,
            "num_added_rows": rows,
        });
        for (k, v) in notes.metrics {
            metrics[k] = v;
        }
        let mut extra = vec![("operationMetrics".to_string(), metrics)];
        extra.extend(notes.info.map(|(k, v)| (k.to_string(), serde_json::Value::from(v))));
        let props = crate::store::commit_properties_with(self.tag, extra);
        let operation = DeltaOperation::Write {
            mode: SaveMode::Overwrite,
            partition_by: None,
            predicate: range.map(|r| format!("{} BETWEEN {} AND {}", keys[0], sql(&r.lo), sql(&r.hi))),
        };
        let snapshot = table.snapshot()?;
        let commit = CommitBuilder::from(props)
            .with_actions(actions)
            .build(Some(snapshot), table.log_store(), operation)
            .await?;
        Ok(commit.version())
    }

    /// Upsert by [`patch::patch`]ing the `touched` files, with `incoming` (the table's
    /// columns and [`KEEP`]) held in memory, then writing the rows of new keys as new
    /// files. `None` when the rows do not fit the memory pool or the table's layout
    /// does not allow it: the caller rewrites the plain way.
    async fn try_patch(
        &self,
        table: &DeltaTable,
        touched: &[Touched],
        incoming: DataFrame,
        range: &KeyRange,
    ) -> Result<Option<u64>> {
        let pool = self.state.runtime_env().memory_pool.clone();
        let mut memory = MemoryConsumer::new("lakemart patch").register(&pool);
        let Some(all) = collect_within(incoming, &mut memory).await? else {
            tracing::debug!(
                "{}: the incoming rows do not fit the memory pool; rewriting the plain way",
                self.tag.model
            );
            return Ok(None);
        };
        let keep_at = all.num_columns() - 1;
        let keep: Vec<bool> = all
            .column(keep_at)
            .as_boolean()
            .iter()
            .map(|k| k == Some(true))
            .collect();
        let mut rows = all;
        rows.remove_column(keep_at);
        let incoming = patch::Incoming::whole(rows, keep);
        let cores = self.state.config().target_partitions();
        let Some(done) = patch::patch(
            table,
            touched,
            incoming,
            &self.meta.unique_key,
            &self.tag.run_id,
            &mut memory,
            cores,
        )
        .await?
        else {
            return Ok(None);
        };
        let (mut adds, mut rows) = (done.adds, done.rows);
        if done.inserts.num_rows() > 0 {
            let ctx = SessionContext::new_with_state(self.state.clone());
            let (more, n) = write_files(table, &self.meta.unique_key, ctx.read_batch(done.inserts)?).await?;
            adds.extend(more);
            rows += n;
        }
        let copied = [
            ("num_copied_column_chunks", done.copied.into()),
            ("num_encoded_column_chunks", done.encoded.into()),
        ];
        let version = self
            .commit_rewrite(
                table,
                done.removes,
                adds,
                rows,
                Some(range),
                Notes {
                    metrics: copied.to_vec(),
                    info: None,
                },
            )
            .await?;
        Ok(Some(version))
    }

    /// Replace this date's partition of `<model>_changes`, planned with `state`.
    async fn write_changes(&self, changes: DataFrame, state: &SessionState) -> Result<()> {
        let today = days_since_epoch(self.tag.biz_date);
        let name = format!("{}_changes", self.table);
        // The row hash as the change set table keeps it (the table and its change set
        // can be of different releases: one rebuilt, the other not).
        let changes = match self.lakehouse.open(self.layer, &name).await? {
            Some(t) => changes.with_column("row_hash", rowdiff::hash_as(ident("row_hash"), &hash_type(&t)?))?,
            None => changes,
        };
        let changes = changes.with_column("biz_date", date_lit(today))?;
        self.lakehouse
            .replace_biz_date(
                self.layer,
                &name,
                changes.into_unoptimized_plan(),
                state.clone(),
                self.tag,
            )
            .await?;
        Ok(())
    }
}

/// What a rewrite's commit says besides its files and rows: more `operationMetrics`,
/// and an entry of the commit's info.
#[derive(Default)]
struct Notes<'a> {
    metrics: Vec<(&'static str, serde_json::Value)>,
    info: Option<(&'a str, &'a str)>,
}

/// `df`'s rows as one batch, reserving twice their size from `memory`; `None` when
/// they do not fit.
async fn collect_within(df: DataFrame, memory: &mut MemoryReservation) -> Result<Option<RecordBatch>> {
    let mut stream = df.execute_stream().await?;
    let schema = stream.schema();
    let mut batches = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if memory.try_grow(2 * batch.get_array_memory_size()).is_err() {
            return Ok(None);
        }
        batches.push(batch);
    }
    Ok(Some(deltalake::arrow::compute::concat_batches(&schema, &batches)?))
}

/// Where a commit of an scd2 history fed a change set records which change set it
/// applied ([`change_set_digest`]), so that a re-run of the date knows it.
const CHANGES_APPLIED: &str = "lakemart.changes_applied";

/// A change set (`change_type` I, U or D) plus `row_hash` over `tracked`: the hash of
/// the version an insert or update opens; NULL for a delete, which opens none.
fn versions_hashed(df: DataFrame, tracked: &[String], hash_type: &DataType) -> Result<DataFrame> {
    let df = hashed(df, tracked, hash_type)?;
    let none = ScalarValue::try_from(hash_type)?;
    let hash = deltalake::datafusion::logical_expr::when(ident(CHANGE_TYPE).eq(lit("D")), lit(none))
        .otherwise(ident("row_hash"))?;
    Ok(df.with_column("row_hash", hash)?)
}

/// What identifies a change set: its row count and the XOR of a hash of each row's
/// key, change type and version hash (rows are unique on the key, so none cancel).
async fn change_set_digest(changes: &DataFrame, keys: &[String]) -> Result<String> {
    let mut columns: Vec<String> = keys.to_vec();
    columns.push(CHANGE_TYPE.into());
    columns.push("row_hash".into());
    let mut stream = changes
        .clone()
        .select(vec![row_hash_bits(&columns).alias("bits")])?
        .execute_stream()
        .await?;
    let (mut rows, mut xor) = (0u64, 0u64);
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        let bits = batch
            .column(0)
            .as_primitive_opt::<deltalake::arrow::datatypes::UInt64Type>()
            .ok_or_else(|| Error::Internal("row hash bits are not UInt64".into()))?;
        xor = bits.iter().flatten().fold(xor, |x, b| x ^ b);
    }
    Ok(format!("{rows}:{xor:016x}"))
}

/// Fail on change set rows with a NULL in a key column (a snapshot_diff model's change
/// set never has one: its snapshot is refused first), with the count.
async fn check_keys_not_null(df: &DataFrame, keys: &[String], tag: &CommitTag) -> Result<()> {
    let Some(null) = keys.iter().map(|k| ident(k).is_null()).reduce(Expr::or) else {
        return Ok(());
    };
    let n = df.clone().filter(null)?.count().await?;
    if n == 0 {
        return Ok(());
    }
    Err(model_err(
        tag,
        format!(
            "{n} rows of its change set have a NULL key ({}): there is no version of theirs to close or open",
            keys.join(", ")
        ),
    ))
}

/// Fail on a change set row whose `change_type` is not I, U or D, with the count and
/// one such value.
async fn check_change_types(df: &DataFrame, tag: &CommitTag) -> Result<()> {
    let ct = cast(ident(CHANGE_TYPE), DataType::Utf8);
    let bad = df
        .clone()
        .filter(
            ct.clone()
                .is_null()
                .or(ct.clone().in_list(vec![lit("I"), lit("U"), lit("D")], true)),
        )?
        .aggregate(vec![], vec![count(lit(1)).alias("n"), min(ct).alias("v")])?
        .collect()
        .await?;
    let Some(b) = bad.first().filter(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let n = ScalarValue::try_from_array(b.column(0).as_ref(), 0)?;
    let v = ScalarValue::try_from_array(b.column(1).as_ref(), 0)?;
    if matches!(n, ScalarValue::Int64(Some(0))) {
        return Ok(());
    }
    let shown = if v.is_null() {
        "NULL".to_string()
    } else {
        format!("'{v}'")
    };
    Err(model_err(
        tag,
        format!("{n} rows of its change set have a change_type other than I, U or D (such as {shown})"),
    ))
}

/// New files of a table, not yet committed: by snapshot_diff's one read of the
/// snapshot ([`Incremental::write_and_bucket`]).
#[derive(Default)]
struct Written {
    files: Vec<rowdiff::WrittenFile>,
    adds: Vec<Add>,
    rows: u64,
}

/// `batch`'s key columns (at `key_at`, cast to `key_types`) for a pass of file
/// writers, or None once any of them has met a NULL key (this batch's sets `refused`).
fn pass_keys(
    batch: &RecordBatch,
    key_at: &[usize],
    key_types: &[DataType],
    refused: &std::sync::atomic::AtomicBool,
) -> Result<Option<Vec<ArrayRef>>> {
    let columns = key_at
        .iter()
        .zip(key_types)
        .map(|(&i, t)| cast_array(batch.column(i), t))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if columns.iter().any(|k| k.null_count() > 0) {
        refused.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    Ok((!refused.load(std::sync::atomic::Ordering::Relaxed)).then_some(columns))
}

/// Wait for every file writer of `writers`: the files all wrote, and what each said
/// besides. When one failed, the others' files are deleted and its error returned.
async fn join_writers<T: 'static>(
    table: &DeltaTable,
    mut writers: tokio::task::JoinSet<Result<(Written, T)>>,
) -> Result<(Written, Vec<T>)> {
    let mut written = Written::default();
    let mut said = Vec::new();
    let mut failed = None;
    while let Some(done) = writers.join_next().await {
        match done
            .map_err(|e| Error::Internal(format!("file writer stopped: {e}")))
            .and_then(|d| d)
        {
            Ok((d, t)) => {
                written.files.extend(d.files);
                written.adds.extend(d.adds);
                written.rows += d.rows;
                said.push(t);
            }
            Err(e) => {
                failed.get_or_insert(e);
            }
        }
    }
    if let Some(e) = failed {
        discard(&table.log_store().object_store(None), &written).await;
        return Err(e);
    }
    Ok((written, said))
}

/// Flush `writer`'s one file, the rows `rows` of the snapshot plan's partition `part`,
/// into `done`.
async fn flush_file(
    writer: &mut RecordBatchWriter,
    part: usize,
    rows: std::ops::Range<u64>,
    done: &mut Written,
) -> Result<()> {
    let adds = writer.flush().await?;
    let [add] = <[Add; 1]>::try_from(adds)
        .map_err(|a| Error::Internal(format!("a flush wrote {} files where one was expected", a.len())))?;
    done.files.push(rowdiff::WrittenFile {
        path: Path::parse(&add.path).map_err(|e| Error::Internal(format!("{}: {e}", add.path)))?,
        part,
        first: rows.start,
        rows: rows.end - rows.start,
    });
    done.adds.push(add);
    done.rows += rows.end - rows.start;
    Ok(())
}

/// Delete the uncommitted files `adds` of `table` (left for VACUUM when that fails).
async fn discard_adds(table: &DeltaTable, adds: &[Add]) {
    let store = table.log_store().object_store(None);
    for a in adds {
        if let Err(e) = store.delete(&Path::from(a.path.as_str())).await {
            tracing::warn!("{}: {e}; an uncommitted file is left for VACUUM", a.path);
        }
    }
}

/// A spawned task, stopped when its handle is dropped unawaited (its model stopped:
/// an error, or its `--timeout`).
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Delete `written`'s files (never committed); a failure is logged, not the run's.
async fn discard(store: &ObjectStoreRef, written: &Written) {
    for f in &written.files {
        if let Err(e) = store.delete(&f.path).await {
            tracing::warn!("{}: {e}; an uncommitted file is left for VACUUM", f.path);
        }
    }
}

enum SchemaVerdict {
    Same,
    AddColumns,
    Rebuild,
}

/// Types as people compare them: string kinds are one type.
fn normal(dt: &DataType) -> DataType {
    match dt {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::Timestamp(u, tz) => DataType::Timestamp(*u, tz.clone()),
        other => other.clone(),
    }
}

/// A change set's rows: `columns` as `types` (NULL where `df` lacks one), then
/// `change_type`.
fn change_rows(df: DataFrame, columns: &[String], types: &[DataType]) -> Result<DataFrame> {
    let has = |c: &str| df.schema().fields().iter().any(|f| f.name() == c);
    let mut cols: Vec<Expr> = columns
        .iter()
        .zip(types)
        .map(|(c, t)| {
            let v = if has(c) { ident(c) } else { lit(ScalarValue::Null) };
            // A row hash from a version of the table in the other form (see [`hash_type`]).
            let v = match c.as_str() {
                "row_hash" => rowdiff::hash_as(v, t),
                _ => cast(v, t.clone()),
            };
            v.alias(c.as_str())
        })
        .collect();
    cols.push(ident("change_type"));
    Ok(df.select(cols)?)
}

/// [`change_rows`] of `df`, whose `row_hash` is computed over `hashed_columns` (as
/// `columns` are typed) when `df` has none: the rows of a table that keeps no hash.
fn change_rows_hashed(
    df: DataFrame,
    columns: &[String],
    types: &[DataType],
    hashed_columns: &[String],
) -> Result<DataFrame> {
    let had = has_hash(&df);
    let rows = change_rows(df, columns, types)?;
    match columns.iter().position(|c| c == "row_hash") {
        Some(at) if !had => hashed(rows, hashed_columns, &types[at]),
        _ => Ok(rows),
    }
}

/// `df`'s `columns` cast to `table`'s types (a column it does not have keeps its own),
/// its other columns as they are.
fn in_table_types(table: &DeltaTable, df: DataFrame, columns: &[String]) -> Result<DataFrame> {
    let table_schema = table.snapshot()?.snapshot().arrow_schema();
    let typed: Vec<Expr> = df
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let c = f.name().as_str();
            match table_schema.field_with_name(c) {
                Ok(t) if columns.iter().any(|n| n == c) => cast(ident(c), t.data_type().clone()).alias(c),
                _ => ident(c),
            }
        })
        .collect();
    Ok(df.select(typed)?)
}

/// `df` plus `row_hash` over `columns` ([`rowdiff::row_hash`]) as `hash_type` (the
/// table's, [`hash_type`]).
fn hashed(df: DataFrame, columns: &[String], hash_type: &DataType) -> Result<DataFrame> {
    let hash = if columns.is_empty() {
        rowdiff::hash_as(lit(""), hash_type)
    } else {
        rowdiff::row_hash(columns.iter().map(ident).collect(), hash_type)
    };
    Ok(df.with_column("row_hash", hash)?)
}

/// The types `keys` are compared as in `df` ([`normal`]).
fn key_types(df: &DataFrame, keys: &[String]) -> Result<Vec<DataType>> {
    keys.iter()
        .map(|k| Ok(normal(df.schema().field_with_unqualified_name(k)?.data_type())))
        .collect()
}

/// `df`'s keys (cast to `key_types`) and `bits`, the bits of their row hash as
/// `row_hash` (`UInt64`): what snapshot_diff compares and keeps.
fn key_hashes(df: DataFrame, keys: &[String], key_types: &[DataType], bits: Expr) -> Result<DataFrame> {
    let mut cols: Vec<Expr> = keys
        .iter()
        .zip(key_types)
        .map(|(k, t)| cast(ident(k), t.clone()).alias(k.as_str()))
        .collect();
    cols.push(bits.alias("row_hash"));
    Ok(df.select(cols)?)
}

/// The bits of the row hash of each of `df`'s rows (a table's, read): its `row_hash`
/// column ([`rowdiff::hash_bits`]) where it stores one, else computed over
/// `hashed_columns` ([`row_hash_bits`]) in the table's types, as the snapshot compared
/// with it is hashed. A column the table does not have yet (one the model added) is
/// left out: every row then differs from the snapshot, as with a stored hash.
fn bits_of_rows(df: &DataFrame, hashed_columns: &[String]) -> Expr {
    if has_hash(df) {
        return rowdiff::hash_bits(ident("row_hash"));
    }
    let present: Vec<String> = hashed_columns
        .iter()
        .filter(|c| df.schema().has_column_with_unqualified_name(c))
        .cloned()
        .collect();
    row_hash_bits(&present)
}

/// The bits of the row hash [`hashed`] gives over `columns`, computed as such.
fn row_hash_bits(columns: &[String]) -> Expr {
    if columns.is_empty() {
        rowdiff::hash_bits(lit(""))
    } else {
        rowdiff::row_hash_bits(columns.iter().map(ident).collect())
    }
}

/// The rows of `table`'s current version, from its files' statistics (0 when a file
/// has none).
fn table_rows(table: &DeltaTable) -> Result<u64> {
    Ok(table
        .snapshot()?
        .log_data()
        .into_iter()
        .map(|f| f.num_records().unwrap_or(0) as u64)
        .sum())
}

/// Rows a Parquet row group holds at most as delta-rs writes them (parquet's default).
const ROW_GROUP_ROWS: u64 = 1024 * 1024;

/// Whether snapshot_diff's `changed` and `gone` keys reach nearly every part of `table`,
/// so that writing the snapshot whole is cheaper than rewriting each file in place: a
/// gone key drops a row, so every column of its row group is encoded again, and with
/// three times as many gone keys as row groups (spread like the changes of a real day)
/// 95% of the row groups lose one; half the table's rows changed costs as much too.
fn rewrite_whole(table: &DeltaTable, changed: usize, gone: usize) -> Result<bool> {
    let snapshot = table.snapshot()?;
    let (mut rows, mut groups) = (0u64, 0u64);
    for f in snapshot.log_data() {
        let n = f.num_records().unwrap_or(0) as u64;
        rows += n;
        groups += n.div_ceil(ROW_GROUP_ROWS).max(1);
    }
    let changes = (changed + gone) as u64;
    Ok(groups > 0 && (gone as u64 >= 3 * groups || 2 * changes >= rows))
}

/// Fail on incoming rows that share a key, naming one such key and the count.
async fn check_unique(df: &DataFrame, keys: &[String], tag: &CommitTag) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let group: Vec<Expr> = keys.iter().map(ident).collect();
    let dups = df
        .clone()
        .aggregate(group, vec![count(lit(1)).alias("__n")])?
        .filter(ident("__n").gt(lit(1i64)))?;
    let total = dups.clone().count().await?;
    if total == 0 {
        return Ok(());
    }
    let first = dups.limit(0, Some(1))?.collect().await?;
    let Some(b) = first.first().filter(|b| b.num_rows() > 0) else {
        return Ok(());
    };
    let mut shown = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        let v = ScalarValue::try_from_array(b.column(i).as_ref(), 0)?;
        shown.push(format!("{k}={v}"));
    }
    let n = ScalarValue::try_from_array(b.column(keys.len()).as_ref(), 0)?;
    Err(duplicate_error(tag, &shown, n, total as u64))
}

/// Incoming rows share a key: `shown` is one such key (`name=value` per column),
/// appearing `times` times; `keys` keys are duplicated in all.
fn duplicate_error(tag: &CommitTag, shown: &[String], times: impl std::fmt::Display, keys: u64) -> Error {
    model_err(
        tag,
        format!(
            "duplicate unique_key in the incoming rows: {} appears {times} times ({keys} key{} duplicated); \
             deduplicate in the model's SQL",
            shown.join(", "),
            if keys == 1 { "" } else { "s" }
        ),
    )
}

/// What a run's rows hold of their first key column.
struct KeyRange {
    lo: ScalarValue,
    hi: ScalarValue,
    /// Incoming rows.
    rows: u64,
    /// Incoming rows whose key is not NULL.
    keyed: u64,
}

impl KeyRange {
    fn bounds(&self) -> (ScalarValue, ScalarValue) {
        (self.lo.clone(), self.hi.clone())
    }

    fn has_null_keys(&self) -> bool {
        self.keyed != self.rows
    }
}

/// The range of `key` in `df` and its row counts, or None when no row has a key.
async fn key_range(df: &DataFrame, key: &str) -> Result<Option<KeyRange>> {
    let b = df
        .clone()
        .aggregate(
            vec![],
            vec![
                min(ident(key)).alias("lo"),
                max(ident(key)).alias("hi"),
                count(lit(1)).alias("n"),
                count(ident(key)).alias("keyed"),
            ],
        )?
        .collect()
        .await?;
    let Some(b) = b.first().filter(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    if b.column(0).is_null(0) {
        return Ok(None);
    }
    let n = |i: usize| -> Result<u64> {
        Ok(match ScalarValue::try_from_array(b.column(i).as_ref(), 0)? {
            ScalarValue::Int64(Some(v)) => v as u64,
            _ => 0,
        })
    };
    Ok(Some(KeyRange {
        lo: ScalarValue::try_from_array(b.column(0).as_ref(), 0)?,
        hi: ScalarValue::try_from_array(b.column(1).as_ref(), 0)?,
        rows: n(2)?,
        keyed: n(3)?,
    }))
}

/// `v` as a SQL literal, for the commit's description of what it replaced.
fn sql(v: &ScalarValue) -> String {
    match v {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            format!("'{}'", s.replace('\'', "''"))
        }
        ScalarValue::Date32(_) => format!("DATE '{v}'"),
        other => other.to_string(),
    }
}

/// A file of the table that a rewrite replaces.
/// The table's files whose statistics of `key` may hold a value in `range` (a file
/// without statistics, or whose bounds cannot be compared, counts as touched).
fn files_in_range(table: &DeltaTable, key: &str, range: &KeyRange) -> Result<Vec<Touched>> {
    let snapshot = table.snapshot()?;
    let stats = snapshot.add_actions_table(true)?;
    let column = |name: &str| stats.column_by_name(name).cloned();
    let paths = column("path").ok_or_else(|| Error::Internal("add actions without path".into()))?;
    let paths = deltalake::arrow::compute::cast(&paths, &DataType::Utf8)?;
    let paths = paths.as_string::<i32>();
    let bound = |name: String| -> Option<ArrayRef> {
        column(&name).and_then(|a| deltalake::arrow::compute::cast(&a, &range.lo.data_type()).ok())
    };
    let (mins, maxs) = (bound(format!("min.{key}")), bound(format!("max.{key}")));
    let value = |a: &Option<ArrayRef>, i: usize| {
        a.as_ref()
            .filter(|a| !a.is_null(i))
            .and_then(|a| ScalarValue::try_from_array(a.as_ref(), i).ok())
    };
    let mut wanted = std::collections::HashSet::new();
    for i in 0..stats.num_rows() {
        let outside = match (value(&mins, i), value(&maxs, i)) {
            (Some(min), Some(max)) => {
                max.partial_cmp(&range.lo) == Some(std::cmp::Ordering::Less)
                    || min.partial_cmp(&range.hi) == Some(std::cmp::Ordering::Greater)
            }
            _ => false,
        };
        if !outside {
            wanted.insert(paths.value(i).to_string());
        }
    }
    let touched: Vec<Touched> = snapshot
        .log_data()
        .into_iter()
        .filter(|f| wanted.contains(f.path().as_ref()))
        .map(|f| Touched {
            path: f.path().to_string(),
            remove: f.remove_action(true),
            stats: f.stats(),
        })
        .collect();
    if touched.len() != wanted.len() {
        return Err(Error::Internal(format!(
            "{} of {} touched files found in the table's log",
            touched.len(),
            wanted.len()
        )));
    }
    Ok(touched)
}

/// Write `df`'s rows as new files of `table` (in ~[`KEYED_FILE_SIZE`] files, one writer
/// per partition of the plan) without committing them: their Add actions and row count.
async fn write_files(table: &DeltaTable, keys: &[String], df: DataFrame) -> Result<(Vec<Add>, u64)> {
    let streams = df.execute_stream_partitioned().await?;
    let mut writers = tokio::task::JoinSet::new();
    for mut stream in streams {
        let mut writer = keyed_writer(table, keys)?;
        writers.spawn(async move {
            let mut rows = 0u64;
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                rows += batch.num_rows() as u64;
                writer.write(batch).await?;
            }
            Ok::<_, Error>((writer.flush().await?, rows))
        });
    }
    let mut adds = Vec::new();
    let mut rows = 0;
    while let Some(done) = writers.join_next().await {
        let (a, r) = done.map_err(|e| Error::Internal(format!("file writer stopped: {e}")))??;
        adds.extend(a);
        rows += r;
    }
    Ok((adds, rows))
}

/// The incoming rows' column saying whether a row is written (else it deletes its key).
const KEEP: &str = "__lakemart_keep";

/// Target size of the files of keyed tables (merge, snapshot_diff, scd2): small enough
/// that a day's changes clustered in a key range rewrite few rows, big enough to scan
/// well. In Zstandard about 1.7M account rows, as 32 MiB were in Snappy: with 32 MiB
/// files of twice the rows, a merge of the newest tenth of the accounts rewrote more
/// of them (docs/benchmarks.md).
pub(crate) const KEYED_FILE_SIZE: std::num::NonZeroU64 = std::num::NonZeroU64::new(16 * 1024 * 1024).unwrap();

/// A writer of new files of a keyed table (merge, snapshot_diff, scd2) with
/// [`keyed_props`], in [`KEYED_FILE_SIZE`] files.
fn keyed_writer(table: &DeltaTable, keys: &[String]) -> Result<RecordBatchWriter> {
    Ok(RecordBatchWriter::for_table(table)?
        .with_writer_properties(keyed_props(keys))
        .with_target_file_size(KEYED_FILE_SIZE.get()))
}

/// How a keyed table's files are written, at its first build and every night after:
/// no dictionary for a single-column unique key and the `row_hash` (every value
/// differs: building one is wasted work, and the key's plain pages are what a patch
/// walks, see patch.rs; a member of a composite key may repeat); the row hash's random
/// bits neither compressed nor given min/max statistics; the rest in Zstandard (level
/// 1). Keyed tables are kept, not rebuilt: each night a day's changes rewrite their
/// files in place (unchanged column chunks copied as they are; a history fed a change
/// set has nearly all of its files rewritten), a snapshot_diff reads its gone keys'
/// rows back, and all of it is read and written again. Zstandard keeps sorted keys in
/// about a tenth of Snappy's bytes and a file in about half, and encodes a
/// snapshot_diff's 40M rows in about Snappy's time. A plain `table`, rewritten whole
/// each time, keeps delta-rs's Snappy: Zstandard made its overwrite slower
/// (docs/benchmarks.md).
pub(crate) fn keyed_props(keys: &[String]) -> WriterProperties {
    let row_hash = ColumnPath::from("row_hash");
    let unique = match keys {
        [key] => Some(key),
        _ => None,
    };
    unique
        .iter()
        .fold(WriterProperties::builder(), |b, k| {
            b.set_column_dictionary_enabled(ColumnPath::from(k.as_str()), false)
        })
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_column_dictionary_enabled(row_hash.clone(), false)
        .set_column_compression(row_hash.clone(), Compression::UNCOMPRESSED)
        .set_column_statistics_enabled(row_hash, EnabledStatistics::None)
        .build()
}

/// `state` planning a join whose left side is the small one (a day's changes) as the
/// hash table and the table's rows as the probe side, whatever the statistics say: the
/// probe side is never buffered, and its rows keep their order.
fn small_build_side(state: &SessionState) -> SessionState {
    let mut state = hash_joins(state);
    let o = &mut state.config_mut().options_mut().optimizer;
    o.join_reordering = false;
    o.hash_join_single_partition_threshold = usize::MAX;
    o.hash_join_single_partition_threshold_rows = usize::MAX;
    state
}

/// `state` with hash joins, whatever the model's settings or the environment prefer:
/// lakemart's own joins are planned for them (under DataFusion 55's sort-merge join,
/// scd2's merge gave NULLs in the non-nullable `is_current`).
fn hash_joins(state: &SessionState) -> SessionState {
    let mut state = state.clone();
    state.config_mut().options_mut().optimizer.prefer_hash_join = true;
    state
}

fn join_on(keys: &[String]) -> Expr {
    keys.iter()
        .map(|k| t_col(k).eq(s_col(k)))
        .reduce(Expr::and)
        .unwrap_or(lit(false))
}

/// Lets Delta skip target files whose key statistics lie outside the incoming keys.
fn range_predicate(key: &str, (lo, hi): (ScalarValue, ScalarValue)) -> Expr {
    t_col(key).gt_eq(lit(lo)).and(t_col(key).lt_eq(lit(hi)))
}

/// Qualify every column of `e` with `relation`.
fn qualify(e: Expr, relation: &str) -> Result<Expr> {
    Ok(e.transform(|e| {
        Ok(match e {
            Expr::Column(c) => Transformed::yes(Expr::Column(Column::new(Some(relation), c.name))),
            other => Transformed::no(other),
        })
    })?
    .data)
}

fn unchanged(table: &DeltaTable, why: &str) -> Result<WriteOutcome> {
    Ok(WriteOutcome {
        version: table.version().unwrap_or(0),
        rows: 0,
        note: Some(format!("{why}; table unchanged")),
    })
}
