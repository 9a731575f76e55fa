//! In-place rewrites of a keyed table's files (merge and snapshot_diff upserts): a file
//! some incoming key updates is written again with its rows in the same order and row
//! groups; the column chunks no update changes are copied byte for byte (Parquet column
//! chunk splicing) and only the changed columns are encoded again. Delta has no deletion
//! vectors in delta-rs 1.1, so every touched file is still replaced by a new one, but
//! most of its bytes are not decoded and encoded again.
//!
//! Part of the storage layer, beside materialize.rs (its only caller), which falls back
//! to a plain rewrite (join, union, encode all) whenever this path does not apply.

use std::sync::Arc;

use bytes::Bytes;
use deltalake::DeltaTable;
use deltalake::arrow::array::make_comparator;
use deltalake::arrow::array::{Array, ArrayRef, AsArray as _, BooleanArray, RecordBatch, UInt32Array};
use deltalake::arrow::compute::SortOptions;
use deltalake::arrow::compute::{concat_batches, filter_record_batch, interleave, take};
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::row::{RowConverter, Rows};
use deltalake::datafusion::common::{HashMap, ScalarValue};
use deltalake::datafusion::execution::memory_pool::MemoryReservation;
use deltalake::datafusion::functions_aggregate::min_max::{MaxAccumulator, MinAccumulator};
use deltalake::datafusion::logical_expr::Accumulator;
use deltalake::kernel::{Add, Remove};
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::{ObjectStoreExt as _, PutPayload};
use deltalake::parquet::arrow::ProjectionMask;
use deltalake::parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
};
use deltalake::parquet::arrow::arrow_writer::{ArrowRowGroupWriterFactory, compute_leaves};
use deltalake::parquet::basic::{Compression, Encoding, Type as PhysicalType};
use deltalake::parquet::column::page::Page;
use deltalake::parquet::column::writer::ColumnCloseResult;
use deltalake::parquet::errors::Result as ParquetResult;
use deltalake::parquet::file::metadata::PageIndexPolicy;
use deltalake::parquet::file::metadata::ParquetMetaData;
use deltalake::parquet::file::properties::WriterProperties;
use deltalake::parquet::file::serialized_reader::SerializedPageReader;
use deltalake::parquet::file::writer::SerializedFileWriter;
use futures::{StreamExt as _, TryStreamExt as _};

use crate::error::{Error, Result};

/// A file of the table that the incoming key range overlaps.
pub struct Touched {
    pub path: String,
    pub remove: Remove,
    /// Its Delta statistics (JSON), as the log has them.
    pub stats: Option<String>,
}

/// The incoming rows: the table's columns, in its order and types, unique on the key.
pub struct Incoming {
    pub rows: RecordBatch,
    /// Per row: `false` when the row deletes its key instead of writing it.
    pub keep: Vec<bool>,
    /// Per column: whether the incoming rows set it; a matched row keeps its own value
    /// of the others (a merge sets them all; scd2 closing a version, its end).
    pub sets: Vec<bool>,
    /// A Boolean column of the table: only its rows where it is true match a key (scd2:
    /// `is_current`, so a key's closed versions are left alone).
    pub only_where: Option<usize>,
    /// A column whose value, when a matched row has the incoming row's, means there is
    /// nothing to do: the row is left alone and the incoming row counted as
    /// [`Patched::same`] (scd2: `row_hash`, an unchanged version).
    pub same_unless: Option<usize>,
}

impl Incoming {
    /// Whole rows that replace the matched rows (a merge).
    pub fn whole(rows: RecordBatch, keep: Vec<bool>) -> Incoming {
        let sets = vec![true; rows.num_columns()];
        Incoming {
            rows,
            keep,
            sets,
            only_where: None,
            same_unless: None,
        }
    }
}

/// What [`patch`] did, ready to commit.
pub struct Patched {
    /// The files rewritten: removed, and added again as `adds` (unless now empty).
    pub removes: Vec<Remove>,
    pub adds: Vec<Add>,
    /// Rows of the added files.
    pub rows: u64,
    /// Kept incoming rows whose key no file holds: to be written as new files.
    pub inserts: RecordBatch,
    /// Per incoming row: its key matched a row of the table.
    pub found: Vec<bool>,
    /// Per incoming row: a matched row had its [`Incoming::same_unless`] value, so
    /// nothing was applied.
    pub same: Vec<bool>,
    /// Column chunks copied as they were, and encoded again.
    pub copied: usize,
    pub encoded: usize,
}

/// Rewrite the `touched` files of `table` with the `incoming` rows applied, keyed on
/// `keys` (top-level columns of the table), at most `concurrency` files at a time. The
/// new files are written but not committed. `None` when the table's layout does not
/// allow it (partitions, column mapping, a file whose columns differ from the table's,
/// nested columns): the caller rewrites the plain way.
pub async fn patch(
    table: &DeltaTable,
    touched: &[Touched],
    incoming: Incoming,
    keys: &[String],
    run_id: &str,
    memory: &mut MemoryReservation,
    concurrency: usize,
) -> Result<Option<Patched>> {
    let snapshot = table.snapshot()?;
    let metadata = snapshot.metadata();
    let config = metadata.configuration();
    let mapped = config
        .get("delta.columnMapping.mode")
        .is_some_and(|m| !m.eq_ignore_ascii_case("none"));
    if !metadata.partition_columns().is_empty() || mapped || config.contains_key("delta.dataSkippingStatsColumns") {
        return Ok(None);
    }
    let indexed = match config.get("delta.dataSkippingNumIndexedCols").map(|n| n.parse::<i64>()) {
        None => 32,
        Some(Ok(n)) if n < 0 => usize::MAX,
        Some(Ok(n)) => n as usize,
        Some(Err(_)) => return Ok(None),
    };
    let schema = incoming.rows.schema();
    if schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(None);
    }
    let key_pos: Vec<usize> = keys
        .iter()
        .map(|k| schema.index_of(k))
        .collect::<std::result::Result<_, _>>()?;
    let mut key_pos = key_pos;
    key_pos.sort_unstable();

    // Every touched file must hold exactly the table's columns, in its order and types.
    let store = table.log_store().object_store(None);
    let options = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
    let mut files = Vec::with_capacity(touched.len());
    let mut per_file = 0;
    for (n, t) in touched.iter().enumerate() {
        let path = Path::from(t.path.as_str());
        let mut reader = crate::rowdiff::StoreFile::open(&store, path).await?;
        let meta = ArrowReaderMetadata::load_async(&mut reader, options.clone())
            .await
            .map_err(|e| file_err(&t.path, e))?;
        if !crate::rowdiff::same_columns(meta.schema(), &schema) {
            tracing::debug!(
                "{}: its columns differ from the table's; rewriting the plain way",
                t.path
            );
            return Ok(None);
        }
        // In memory per file: its bytes, a row group decoded twice (as read, as
        // written), and the new file.
        let group = meta
            .metadata()
            .row_groups()
            .iter()
            .map(|g| g.total_byte_size())
            .max()
            .unwrap_or(0);
        per_file = per_file.max(2 * reader.size() as usize + 2 * group.max(0) as usize);
        files.push((n, meta));
    }
    if memory.try_grow(per_file).is_err() {
        tracing::debug!("no room in the memory pool to patch a file ({per_file} bytes); rewriting the plain way");
        return Ok(None);
    }
    let wanted = concurrency;
    let mut concurrency = 1;
    while concurrency < wanted && memory.try_grow(per_file).is_ok() {
        concurrency += 1;
    }

    // The incoming keys, by their row encoding.
    let key_types: Vec<DataType> = key_pos.iter().map(|&p| schema.field(p).data_type().clone()).collect();
    let converter = crate::rowdiff::key_converter(&key_types)?;
    let key_columns: Vec<ArrayRef> = key_pos.iter().map(|&p| incoming.rows.column(p).clone()).collect();
    let encoded = converter.convert_columns(&key_columns)?;
    // The same keys in key order, for files whose rows are in key order (as lakemart
    // writes them): those are walked beside them instead of probing the hash table.
    let mut order: Vec<u32> = (0..encoded.num_rows() as u32).collect();
    order.sort_unstable_by(|&a, &b| encoded.row(a as usize).cmp(&encoded.row(b as usize)));
    let index = UInt32Array::from(order.clone());
    let sorted_columns = key_columns
        .iter()
        .map(|c| take(c.as_ref(), &index, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let shared = Arc::new(Shared {
        encoded,
        lookup: std::sync::OnceLock::new(),
        sorted_keys: sorted_columns,
        order,
        incoming,
        key_pos,
        key_types,
        indexed,
    });

    let started = std::time::Instant::now();
    // New names, even when one run patches a file of the same table twice (a backfill).
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let results: Vec<(usize, FileOut)> = futures::stream::iter(files.into_iter().map(|(n, meta)| {
        let t = &touched[n];
        let shared = shared.clone();
        let store = store.clone();
        let name = format!("part-{n:05}-{run_id}-{stamp:x}.snappy.parquet");
        async move {
            let path = Path::from(t.path.as_str());
            let bytes = store.get(&path).await.map_err(|e| file_err(&t.path, e))?.bytes().await;
            let bytes = bytes.map_err(|e| file_err(&t.path, e))?;
            let old = t.path.clone();
            let old_stats = t.stats.as_deref().and_then(|s| serde_json::from_str(s).ok());
            let mut out = tokio::task::spawn_blocking(move || patch_file(&shared, bytes, meta, old_stats))
                .await
                .map_err(|e| Error::Internal(format!("patching {old} stopped: {e}")))?
                .map_err(|e| file_err(&t.path, e))?;
            if let Some(file) = out.file.as_mut() {
                let size = file.bytes.len() as i64;
                let payload = PutPayload::from(std::mem::take(&mut file.bytes));
                store
                    .put(&Path::from(name.as_str()), payload)
                    .await
                    .map_err(|e| file_err(&name, e))?;
                file.add = Some(Add {
                    path: name,
                    partition_values: Default::default(),
                    size,
                    modification_time: chrono::Utc::now().timestamp_millis(),
                    data_change: true,
                    stats: Some(file.stats.to_string()),
                    tags: None,
                    deletion_vector: None,
                    base_row_id: None,
                    default_row_commit_version: None,
                    clustering_provider: None,
                });
            }
            Ok::<_, Error>((n, out))
        }
    }))
    .buffer_unordered(concurrency)
    .try_collect()
    .await?;

    let shared = Arc::into_inner(shared).ok_or_else(|| Error::Internal("a file patch outlived its run".into()))?;
    let mut found = vec![false; shared.incoming.rows.num_rows()];
    let mut patched = Patched {
        removes: Vec::new(),
        adds: Vec::new(),
        rows: 0,
        inserts: RecordBatch::new_empty(schema.clone()),
        found: Vec::new(),
        same: vec![false; shared.incoming.rows.num_rows()],
        copied: 0,
        encoded: 0,
    };
    let mut untouched = 0;
    let mut clock = Clock::default();
    for (n, out) in results {
        clock.add(&out.clock);
        for j in out.found {
            found[j as usize] = true;
        }
        for j in out.same {
            patched.same[j as usize] = true;
        }
        if !out.changed {
            untouched += 1;
            continue;
        }
        patched.removes.push(touched[n].remove.clone());
        patched.copied += out.copied;
        patched.encoded += out.encoded;
        if let Some(file) = out.file {
            patched.rows += file.rows;
            patched.adds.extend(file.add);
        }
    }
    let inserts: Vec<u32> = (0..found.len() as u32)
        .filter(|&j| !found[j as usize] && shared.incoming.keep[j as usize])
        .collect();
    patched.inserts = take_rows(&shared.incoming.rows, &inserts)?;
    patched.found = found;
    tracing::debug!(
        "patched {} files in {:.1?} ({} column chunks copied, {} encoded; {untouched} read but unchanged; {clock})",
        patched.removes.len(),
        started.elapsed(),
        patched.copied,
        patched.encoded
    );
    Ok(Some(patched))
}

/// Rows decoded at a time when a file is rewritten.
const BATCH: usize = 65_536;

/// What the files' tasks share.
struct Shared {
    /// The incoming keys by their row encoding, and a hash table of them, made when a
    /// row group first needs it (its keys not in order): lakemart's own files are
    /// walked ([`walk_in_order`]), and a million keys take a core about 0.3 s to put in
    /// one (and take out), before any file is patched.
    encoded: Rows,
    lookup: std::sync::OnceLock<HashMap<Box<[u8]>, u32>>,
    /// The incoming key columns in key order, and the incoming row of each.
    sorted_keys: Vec<ArrayRef>,
    order: Vec<u32>,
    incoming: Incoming,
    /// Positions of the key columns, ascending, and their types.
    key_pos: Vec<usize>,
    key_types: Vec<DataType>,
    /// How many leading columns get min/max statistics (`delta.dataSkippingNumIndexedCols`).
    indexed: usize,
}

impl Shared {
    fn lookup(&self) -> &HashMap<Box<[u8]>, u32> {
        self.lookup.get_or_init(|| {
            let mut lookup = HashMap::with_capacity(self.encoded.num_rows());
            for (j, row) in self.encoded.iter().enumerate() {
                lookup.insert(row.as_ref().into(), j as u32);
            }
            lookup
        })
    }
}

struct FileOut {
    /// Incoming rows whose key this file holds.
    found: Vec<u32>,
    /// Of those, the ones whose matched row has their `same_unless` value.
    same: Vec<u32>,
    /// Whether any of its rows changed (else it stays as it is).
    changed: bool,
    file: Option<NewFile>,
    copied: usize,
    encoded: usize,
    clock: Clock,
}

struct NewFile {
    bytes: Bytes,
    rows: u64,
    stats: serde_json::Value,
    add: Option<Add>,
}

fn file_err(path: &str, e: impl std::fmt::Display) -> Error {
    Error::Delta(deltalake::DeltaTableError::Generic(format!("{path}: {e}")))
}

fn take_rows(batch: &RecordBatch, rows: &[u32]) -> Result<RecordBatch> {
    let idx = UInt32Array::from(rows.to_vec());
    let columns = batch
        .columns()
        .iter()
        .map(|c| take(c.as_ref(), &idx, None))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// One file: its rows with the incoming updates and deletes applied, row groups and
/// row order kept, unchanged column chunks copied. `old_stats` are the file's Delta
/// statistics: a column no update changes keeps its bounds, so it is not even decoded
/// (unless a row is deleted: then every column is decoded and its bounds computed).
fn patch_file(
    shared: &Shared,
    bytes: Bytes,
    meta: ArrowReaderMetadata,
    old_stats: Option<serde_json::Value>,
) -> Result<FileOut> {
    let mut clock = Clock::default();
    clock.lap(0);
    let parquet = meta.metadata().clone();
    let schema: SchemaRef = meta.schema().clone();
    let width = schema.fields().len();
    let groups = parquet.num_row_groups();
    let converter: RowConverter = crate::rowdiff::key_converter(&shared.key_types)?;
    let pq = |e: deltalake::parquet::errors::ParquetError| Error::Delta(e.into());
    // Columns `columns` of row group `group`, all its rows or the `selected` ones.
    let read = |group: usize, columns: &[usize], selected: Option<&[(usize, u32)]>| -> Result<RecordBatch> {
        let total = parquet.row_group(group).num_rows() as usize;
        let mask = ProjectionMask::roots(meta.parquet_schema(), columns.iter().copied());
        let mut builder = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes.clone(), meta.clone())
            .with_row_groups(vec![group])
            .with_projection(mask);
        let rows = match selected {
            Some(rows) => {
                let ranges = rows.iter().map(|&(i, _)| i..i + 1);
                builder = builder.with_row_selection(RowSelection::from_consecutive_ranges(ranges, total));
                rows.len()
            }
            None => total,
        };
        let reader = builder.with_batch_size(rows.max(1)).build().map_err(pq)?;
        let batches = reader.collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(concat_batches(&Arc::new(schema.project(columns)?), &batches)?)
    };

    // Which rows of each row group an incoming key matches: (row, incoming row), in row order.
    let mut matches: Vec<Vec<(usize, u32)>> = Vec::with_capacity(groups);
    let incoming = &shared.incoming;
    let mut found = Vec::new();
    let mut same = Vec::new();
    for g in 0..groups {
        let hits = match walk_pages(shared, &bytes, &parquet, g).map_err(|e| Error::Delta(e.into()))? {
            Some(hits) => hits,
            None => {
                let keys = read(g, &shared.key_pos, None)?;
                match walk_in_order(shared, &keys)? {
                    Some(hits) => hits,
                    None => {
                        let rows = converter.convert_columns(keys.columns())?;
                        let mut hits = Vec::new();
                        for (i, row) in rows.iter().enumerate() {
                            if let Some(&j) = shared.lookup().get(row.as_ref()) {
                                hits.push((i, j));
                            }
                        }
                        hits
                    }
                }
            }
        };
        let hits = if hits.is_empty() || (incoming.only_where.is_none() && incoming.same_unless.is_none()) {
            found.extend(hits.iter().map(|&(_, j)| j));
            hits
        } else {
            screen(
                incoming,
                &hits,
                |columns| read(g, columns, Some(&hits)),
                &mut found,
                &mut same,
            )?
        };
        matches.push(hits);
    }
    clock.lap(0);
    let unchanged = |found, same| FileOut {
        found,
        same,
        changed: false,
        file: None,
        copied: 0,
        encoded: 0,
        clock: Clock::default(),
    };
    if matches.iter().all(Vec::is_empty) {
        return Ok(unchanged(found, same));
    }

    // Which columns the matched rows change, row group by row group: only the matched
    // rows of the other columns are decoded to see.
    let non_key: Vec<usize> = (0..width)
        .filter(|&c| !shared.key_pos.contains(&c) && incoming.sets[c])
        .collect();
    let mut differs = vec![vec![false; width]; groups];
    let mut deletes = vec![false; groups];
    for g in 0..groups {
        if matches[g].is_empty() {
            continue;
        }
        deletes[g] = matches[g].iter().any(|&(_, j)| !incoming.keep[j as usize]);
        let before = read(g, &non_key, Some(&matches[g]))?;
        let js = UInt32Array::from(matches[g].iter().map(|&(_, j)| j).collect::<Vec<_>>());
        for (k, &c) in non_key.iter().enumerate() {
            let after = take(incoming.rows.column(c).as_ref(), &js, None)?;
            let changed = deltalake::arrow::compute::kernels::cmp::distinct(before.column(k), &after)?;
            differs[g][c] = changed.true_count() > 0;
        }
    }
    clock.lap(1);
    let changed_columns: Vec<bool> = (0..width).map(|c| differs.iter().any(|d| d[c])).collect();
    let any_delete = deletes.iter().any(|&d| d);
    if !any_delete && !changed_columns.iter().any(|&c| c) {
        return Ok(unchanged(found, same));
    }
    // Chunks are copied with their page index; without one, every column is encoded.
    let paged = parquet
        .offset_index()
        .is_some_and(|o| o.iter().all(|g| g.len() == width));
    // Columns decoded whole: the changed ones, or all when rows are deleted (the new
    // bounds are computed) or the old statistics are unknown.
    let lean = paged && !any_delete && old_stats.is_some();
    let decoded: Vec<usize> = (0..width).filter(|&c| !lean || changed_columns[c]).collect();

    // A column encoded anew keeps the codec it was written with (a history's
    // Zstandard, another keyed table's Snappy).
    let kv = parquet.file_metadata().key_value_metadata().cloned();
    let props = parquet
        .row_groups()
        .first()
        .into_iter()
        .flat_map(|g| g.columns())
        .fold(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_key_value_metadata(kv),
            |b, chunk| b.set_column_compression(chunk.column_path().clone(), chunk.compression()),
        )
        .build();
    let root = meta.parquet_schema().root_schema_ptr();
    let buffer = Vec::with_capacity(bytes.len() + bytes.len() / 8);
    let mut writer = SerializedFileWriter::new(buffer, root, Arc::new(props)).map_err(pq)?;
    let factory = ArrowRowGroupWriterFactory::new(&writer, schema.clone());
    let mut stats = Stats::new(&schema, shared.indexed)?;
    let (mut copied, mut encoded, mut written, mut out_groups) = (0, 0, 0u64, 0);
    let decoded_schema = Arc::new(schema.project(&decoded)?);
    for g in 0..groups {
        let group = parquet.row_group(g);
        let encode: Vec<bool> = (0..width)
            .map(|c| decoded.contains(&c) && (deletes[g] || differs[g][c] || !paged))
            .collect();
        let mut column_writers: Vec<_> = factory
            .create_column_writers(out_groups)
            .map_err(pq)?
            .into_iter()
            .map(Some)
            .collect();
        // The decoded columns stream through in batches: changes applied, rows deleted,
        // bounds counted, the changed columns encoded; the others are copied after.
        let mut rows = 0;
        let mut offset = 0;
        let mut next_match = 0;
        if !decoded.is_empty() {
            let mask = ProjectionMask::roots(meta.parquet_schema(), decoded.iter().copied());
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes.clone(), meta.clone())
                .with_row_groups(vec![g])
                .with_projection(mask)
                .with_batch_size(BATCH)
                .build()
                .map_err(pq)?;
            for batch in reader {
                let batch = batch?;
                let n = batch.num_rows();
                clock.lap(2);
                let mut pick: Option<Vec<(usize, usize)>> = None;
                let mut kept: Option<Vec<bool>> = None;
                while let Some(&(i, j)) = matches[g].get(next_match).filter(|&&(i, _)| i < offset + n) {
                    if incoming.keep[j as usize] {
                        pick.get_or_insert_with(|| (0..n).map(|i| (0, i)).collect())[i - offset] = (1, j as usize);
                    } else {
                        kept.get_or_insert_with(|| vec![true; n])[i - offset] = false;
                    }
                    next_match += 1;
                }
                let mut columns: Vec<ArrayRef> = Vec::with_capacity(decoded.len());
                for (k, &c) in decoded.iter().enumerate() {
                    let column = batch.column(k).clone();
                    columns.push(match &pick {
                        Some(pick) if differs[g][c] => {
                            interleave(&[column.as_ref(), incoming.rows.column(c).as_ref()], pick)?
                        }
                        _ => column,
                    });
                }
                let mut new = RecordBatch::try_new(decoded_schema.clone(), columns)?;
                if let Some(kept) = kept {
                    new = filter_record_batch(&new, &BooleanArray::from(kept))?;
                }
                offset += n;
                rows += new.num_rows();
                for (k, &c) in decoded.iter().enumerate() {
                    stats.update(c, new.column(k))?;
                }
                clock.lap(3);
                for (k, &c) in decoded.iter().enumerate() {
                    if let (true, Some(w)) = (encode[c], column_writers[c].as_mut()) {
                        for leaf in compute_leaves(schema.field(c), new.column(k)).map_err(pq)? {
                            w.write(&leaf).map_err(pq)?;
                        }
                    }
                }
                clock.lap(4);
            }
        } else {
            rows = group.num_rows() as usize;
        }
        if rows == 0 {
            continue;
        }
        written += rows as u64;
        out_groups += 1;
        let mut row_group = writer.next_row_group().map_err(pq)?;
        for c in 0..width {
            if encode[c] {
                let w = column_writers[c]
                    .take()
                    .ok_or_else(|| Error::Internal("a column writer was used twice".into()))?;
                w.close().map_err(pq)?.append_to_row_group(&mut row_group).map_err(pq)?;
                encoded += 1;
                clock.lap(4);
            } else {
                let chunk = group.column(c).clone();
                let close = ColumnCloseResult {
                    bytes_written: chunk.compressed_size() as u64,
                    rows_written: group.num_rows() as u64,
                    metadata: chunk,
                    bloom_filter: None,
                    column_index: parquet
                        .column_index()
                        .and_then(|i| i.get(g))
                        .and_then(|r| r.get(c))
                        .cloned(),
                    offset_index: parquet
                        .offset_index()
                        .and_then(|i| i.get(g))
                        .and_then(|r| r.get(c))
                        .cloned(),
                };
                row_group.append_column(&bytes, close).map_err(pq)?;
                copied += 1;
                clock.lap(5);
            }
        }
        row_group.close().map_err(pq)?;
        clock.lap(5);
    }
    let file = if written == 0 {
        None
    } else {
        let buffer = writer.into_inner().map_err(pq)?;
        let carried = if lean { old_stats.as_ref() } else { None };
        Some(NewFile {
            bytes: Bytes::from(buffer),
            rows: written,
            stats: stats.json(written, carried)?,
            add: None,
        })
    };
    clock.lap(5);
    Ok(FileOut {
        found,
        same,
        changed: true,
        file,
        copied,
        encoded,
        clock,
    })
}

/// Of a row group's `hits` (row, incoming row), the ones to apply: the rows where the
/// [`Incoming::only_where`] column is true (each of them `found`) whose
/// [`Incoming::same_unless`] value differs from the incoming row's (the others are
/// `same`). `read` gives the hit rows of the columns asked for, in row order.
fn screen(
    incoming: &Incoming,
    hits: &[(usize, u32)],
    read: impl Fn(&[usize]) -> Result<RecordBatch>,
    found: &mut Vec<u32>,
    same: &mut Vec<u32>,
) -> Result<Vec<(usize, u32)>> {
    let mut columns: Vec<usize> = incoming.only_where.into_iter().chain(incoming.same_unless).collect();
    columns.sort_unstable();
    columns.dedup();
    let got = read(&columns)?;
    let column_of = |c: usize| columns.iter().position(|&x| x == c).map(|p| got.column(p).clone());
    let open: Option<BooleanArray> = match incoming.only_where.and_then(column_of) {
        Some(a) => Some(
            a.as_boolean_opt()
                .ok_or_else(|| Error::Internal("the only_where column of a patch is not Boolean".into()))?
                .clone(),
        ),
        None => None,
    };
    let equal: Option<BooleanArray> = match incoming.same_unless.and_then(|c| column_of(c).map(|a| (c, a))) {
        Some((c, before)) => {
            let js = UInt32Array::from(hits.iter().map(|&(_, j)| j).collect::<Vec<_>>());
            let after = take(incoming.rows.column(c).as_ref(), &js, None)?;
            let differs = deltalake::arrow::compute::kernels::cmp::distinct(&before, &after)?;
            Some(deltalake::arrow::compute::not(&differs)?)
        }
        None => None,
    };
    let mut kept = Vec::with_capacity(hits.len());
    for (h, &(i, j)) in hits.iter().enumerate() {
        if open.as_ref().is_some_and(|o| !(o.is_valid(h) && o.value(h))) {
            continue;
        }
        found.push(j);
        if equal.as_ref().is_some_and(|e| e.value(h)) {
            same.push(j);
            continue;
        }
        kept.push((i, j));
    }
    Ok(kept)
}

/// [`walk_in_order`] straight off the pages of row group `group`'s key column chunk, for
/// the common case of a one-column string key stored PLAIN without NULLs (as lakemart
/// writes keyed tables: no dictionary for a unique key): each value is compared where
/// it lies in the decompressed page, with no Arrow array built and no UTF-8 check (the
/// file was written from valid strings; only equality and byte order matter here).
/// On a 40M-row history that was most of the time spent finding its keys. `None`
/// when the chunk is not so (another encoding, a NULL, a dictionary page, a nested or
/// non-string column) or its keys are not strictly ascending: the caller decodes them.
fn walk_pages(
    shared: &Shared,
    bytes: &Bytes,
    parquet: &ParquetMetaData,
    group: usize,
) -> ParquetResult<Option<Vec<(usize, u32)>>> {
    let ([key], [incoming]) = (shared.key_pos.as_slice(), shared.sorted_keys.as_slice()) else {
        return Ok(None);
    };
    let Some(theirs) = incoming.as_string_opt::<i32>().filter(|a| a.null_count() == 0) else {
        return Ok(None);
    };
    let row_group = parquet.row_group(group);
    if parquet.file_metadata().schema_descr().num_columns() != row_group.num_columns()
        || *key >= row_group.num_columns()
    {
        return Ok(None);
    }
    let chunk = row_group.column(*key);
    let descr = chunk.column_descr();
    let no_nulls = chunk.statistics().and_then(|s| s.null_count_opt()) == Some(0);
    if descr.physical_type() != PhysicalType::BYTE_ARRAY || descr.max_rep_level() != 0 || !no_nulls {
        return Ok(None);
    }
    let levels = descr.max_def_level() > 0;
    let rows = usize::try_from(row_group.num_rows()).unwrap_or(0);
    // The decompressed pages, and where each value lies in them: (page, start, end).
    let mut pages = Vec::new();
    let mut values: Vec<(u32, u32, u32)> = Vec::with_capacity(rows);
    for page in SerializedPageReader::new(Arc::new(bytes.clone()), chunk, rows, None)? {
        let (buf, n, start) = match page? {
            Page::DataPage {
                buf,
                num_values,
                encoding: Encoding::PLAIN,
                def_level_encoding,
                ..
            } => {
                // Definition levels (all 1: no NULLs), RLE behind a 4-byte length.
                let start = match (levels, def_level_encoding) {
                    (false, _) => 0,
                    (true, Encoding::RLE) => match buf.get(..4) {
                        Some(l) => 4 + u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize,
                        None => return Ok(None),
                    },
                    (true, _) => return Ok(None),
                };
                (buf, num_values as usize, start)
            }
            Page::DataPageV2 {
                buf,
                num_values,
                encoding: Encoding::PLAIN,
                num_nulls: 0,
                def_levels_byte_len,
                rep_levels_byte_len,
                ..
            } => (
                buf,
                num_values as usize,
                (def_levels_byte_len + rep_levels_byte_len) as usize,
            ),
            _ => return Ok(None),
        };
        let (Ok(page), Ok(mut at)) = (u32::try_from(pages.len()), u32::try_from(start)) else {
            return Ok(None);
        };
        for _ in 0..n {
            // A PLAIN byte array: a 4-byte little-endian length, then the bytes.
            let here = at as usize;
            let Some(len) = buf
                .get(here..here + 4)
                .map(|l| u32::from_le_bytes([l[0], l[1], l[2], l[3]]))
            else {
                return Ok(None);
            };
            let end = at.saturating_add(4).saturating_add(len);
            if end as usize > buf.len() {
                return Ok(None);
            }
            values.push((page, at + 4, end));
            at = end;
        }
        pages.push(buf);
    }
    if values.len() != rows {
        return Ok(None);
    }
    Ok(walk_bytes(
        |i| {
            let (page, start, end) = values[i];
            &pages[page as usize][start as usize..end as usize]
        },
        rows,
        |p| theirs.value(p).as_bytes(),
        theirs.len(),
        &shared.order,
    ))
}

/// The first of `0..m` for which `below` is false, `below` being true up to some
/// point and false after it.
fn first_not_below(m: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, m);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The rows of a row group's `keys` that an incoming key matches, found by walking the
/// row group beside the sorted incoming keys, when the key is one column and the row
/// group's keys are in strictly ascending order (as lakemart writes keyed tables).
/// `None`: not in order, or a key of several columns; the caller probes the hash table.
fn walk_in_order(shared: &Shared, keys: &RecordBatch) -> Result<Option<Vec<(usize, u32)>>> {
    let ([column], [incoming]) = (keys.columns(), shared.sorted_keys.as_slice()) else {
        return Ok(None);
    };
    let n = column.len();
    if n == 0 || column.null_count() > 0 {
        return Ok(None);
    }
    // String keys (account numbers) are compared as bytes, without a comparator call
    // per comparison (about a seventh of the walk's time on a 40M-row table).
    if let (Some(own), Some(theirs)) = (column.as_string_opt::<i32>(), incoming.as_string_opt::<i32>())
        && incoming.null_count() == 0
    {
        return Ok(walk_bytes(
            |i| own.value(i).as_bytes(),
            n,
            |p| theirs.value(p).as_bytes(),
            theirs.len(),
            &shared.order,
        ));
    }
    let order = SortOptions {
        descending: false,
        nulls_first: true,
    };
    let own = make_comparator(column.as_ref(), column.as_ref(), order)?;
    let cmp = make_comparator(column.as_ref(), incoming.as_ref(), order)?;
    Ok(walk(n, incoming.len(), own, cmp, &shared.order))
}

/// [`walk_in_order`] over byte-string keys: `own(i)` of the row group (`n` rows),
/// `theirs(p)` of the sorted incoming keys (`m`). `None` when the row group's keys are
/// not strictly ascending.
fn walk_bytes<'a>(
    own: impl Fn(usize) -> &'a [u8],
    n: usize,
    theirs: impl Fn(usize) -> &'a [u8],
    m: usize,
    order: &[u32],
) -> Option<Vec<(usize, u32)>> {
    walk(n, m, |a, b| own(a).cmp(own(b)), |i, p| own(i).cmp(theirs(p)), order)
}

/// The walk of [`walk_in_order`]: `own(a, b)` compares rows of the row group (`n` rows),
/// `cmp(i, p)` row `i` with sorted incoming key `p` (`m` keys, incoming row `order[p]`).
/// `None` when the row group's keys are not strictly ascending.
fn walk(
    n: usize,
    m: usize,
    own: impl Fn(usize, usize) -> std::cmp::Ordering,
    cmp: impl Fn(usize, usize) -> std::cmp::Ordering,
    order: &[u32],
) -> Option<Vec<(usize, u32)>> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    if !(1..n).all(|i| own(i - 1, i) == Less) {
        return None;
    }
    // The first incoming key not below the row group's first.
    let mut p = first_not_below(m, |q| cmp(0, q) == Greater);
    let mut hits = Vec::new();
    // Each incoming key in turn: the first row from `i` not below it, galloped to (a
    // day's changes are a few of the rows: most rows are stepped over unread).
    let mut i = 0;
    while p < m && i < n {
        if cmp(i, p) == Less {
            let mut reach = 1;
            while i + reach < n && cmp(i + reach, p) == Less {
                reach *= 2;
            }
            // Row `i + reach / 2` is below the key; row `i + reach`, if any, is not.
            let (lo, hi) = (i + reach / 2 + 1, (i + reach).min(n));
            i = lo + first_not_below(hi - lo, |k| cmp(lo + k, p) == Less);
            if i == n {
                break;
            }
        }
        if cmp(i, p) == Equal {
            hits.push((i, order[p]));
            i += 1;
        }
        p += 1;
    }
    Some(hits)
}

/// Time spent in each step of patching files: finding the keys, comparing the matched
/// rows, decoding, applying the changes (and counting statistics), encoding, copying.
#[derive(Default, Clone, Copy)]
struct Clock {
    last: Option<std::time::Instant>,
    spent: [std::time::Duration; 6],
}

impl Clock {
    fn lap(&mut self, step: usize) {
        let now = std::time::Instant::now();
        if let Some(last) = self.last {
            self.spent[step] += now - last;
        }
        self.last = Some(now);
    }

    fn add(&mut self, other: &Clock) {
        for (a, b) in self.spent.iter_mut().zip(other.spent) {
            *a += b;
        }
    }
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [keys, compare, decode, apply, encode, copy] = self.spent;
        write!(
            f,
            "keys {keys:.1?}, compare {compare:.1?}, decode {decode:.1?}, apply {apply:.1?}, \
             encode {encode:.1?}, copy {copy:.1?}"
        )
    }
}

/// A new file's Delta statistics, as delta-rs writes them: `numRecords`, and per
/// column `minValues`, `maxValues` (the first `indexed` columns, of the types delta-rs
/// gives bounds to) and `nullCount`.
struct Stats {
    schema: SchemaRef,
    indexed: usize,
    mins: Vec<Option<MinAccumulator>>,
    maxs: Vec<Option<MaxAccumulator>>,
    nulls: Vec<u64>,
    counted: Vec<bool>,
}

impl Stats {
    fn new(schema: &SchemaRef, indexed: usize) -> Result<Self> {
        let mut mins = Vec::new();
        let mut maxs = Vec::new();
        for (c, f) in schema.fields().iter().enumerate() {
            let bounded = c < indexed && has_bounds(f.data_type());
            mins.push(if bounded {
                Some(MinAccumulator::try_new(f.data_type())?)
            } else {
                None
            });
            maxs.push(if bounded {
                Some(MaxAccumulator::try_new(f.data_type())?)
            } else {
                None
            });
        }
        Ok(Stats {
            schema: schema.clone(),
            indexed,
            mins,
            maxs,
            nulls: vec![0; schema.fields().len()],
            counted: vec![false; schema.fields().len()],
        })
    }

    /// Count column `c`'s values in `column`.
    fn update(&mut self, c: usize, column: &ArrayRef) -> Result<()> {
        self.counted[c] = true;
        self.nulls[c] += column.null_count() as u64;
        if let Some(m) = self.mins[c].as_mut() {
            m.update_batch(std::slice::from_ref(column))?;
        }
        if let Some(m) = self.maxs[c].as_mut() {
            m.update_batch(std::slice::from_ref(column))?;
        }
        Ok(())
    }

    /// The statistics of `rows` rows; a column never counted keeps its entries of
    /// `carried` (the statistics of the file it was copied from).
    fn json(&mut self, rows: u64, carried: Option<&serde_json::Value>) -> Result<serde_json::Value> {
        let mut mins = serde_json::Map::new();
        let mut maxs = serde_json::Map::new();
        let mut nulls = serde_json::Map::new();
        for (c, f) in self.schema.fields().iter().enumerate() {
            if c >= self.indexed {
                break;
            }
            if !self.counted[c] {
                let name = f.name().as_str();
                for (key, map) in [
                    ("minValues", &mut mins),
                    ("maxValues", &mut maxs),
                    ("nullCount", &mut nulls),
                ] {
                    if let Some(v) = carried.and_then(|s| s.get(key)).and_then(|m| m.get(name)) {
                        map.insert(name.to_string(), v.clone());
                    }
                }
                continue;
            }
            nulls.insert(f.name().clone(), self.nulls[c].into());
            if let Some(v) = self.mins[c]
                .as_mut()
                .map(|m| m.evaluate())
                .transpose()?
                .and_then(|v| bound(&v, false))
            {
                mins.insert(f.name().clone(), v);
            }
            if let Some(v) = self.maxs[c]
                .as_mut()
                .map(|m| m.evaluate())
                .transpose()?
                .and_then(|v| bound(&v, true))
            {
                maxs.insert(f.name().clone(), v);
            }
        }
        Ok(serde_json::json!({
            "numRecords": rows,
            "minValues": mins,
            "maxValues": maxs,
            "nullCount": nulls,
        }))
    }
}

fn has_bounds(t: &DataType) -> bool {
    use DataType::*;
    matches!(
        t,
        Boolean
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float32
            | Float64
            | Decimal128(_, _)
            | Utf8
            | LargeUtf8
            | Utf8View
            | Date32
            | Timestamp(_, _)
    )
}

/// A column bound as delta-rs writes it into a file's statistics (writer/stats.rs):
/// numbers as numbers (decimals too), dates as `YYYY-MM-DD`, timestamps to the
/// millisecond (rounded outwards here, so a bound still holds every value).
fn bound(v: &ScalarValue, upper: bool) -> Option<serde_json::Value> {
    use ScalarValue as S;
    let n = |x: Option<i64>| x.map(serde_json::Value::from);
    match v {
        S::Boolean(b) => b.map(serde_json::Value::Bool),
        S::Int8(x) => n(x.map(i64::from)),
        S::Int16(x) => n(x.map(i64::from)),
        S::Int32(x) => n(x.map(i64::from)),
        S::Int64(x) => n(*x),
        S::UInt8(x) => n(x.map(i64::from)),
        S::UInt16(x) => n(x.map(i64::from)),
        S::UInt32(x) => n(x.map(i64::from)),
        S::UInt64(x) => x.map(serde_json::Value::from),
        S::Float32(x) => x
            .filter(|f| f.is_finite())
            .map(|f| serde_json::Value::from(f64::from(f))),
        S::Float64(x) => x.filter(|f| f.is_finite()).map(serde_json::Value::from),
        S::Decimal128(x, _, scale) => x.map(|x| {
            if *scale == 0 {
                serde_json::Value::from(x as i64)
            } else {
                serde_json::Value::from(x as f64 / 10f64.powi(i32::from(*scale)))
            }
        }),
        S::Utf8(s) | S::LargeUtf8(s) | S::Utf8View(s) => s.clone().map(serde_json::Value::from),
        S::Date32(d) => d
            .and_then(|d| chrono::DateTime::from_timestamp(i64::from(d) * 86_400, 0))
            .map(|t| t.format("%Y-%m-%d").to_string().into()),
        S::TimestampSecond(x, tz) => timestamp(x.map(|x| x.saturating_mul(1_000_000)), tz.is_some(), upper),
        S::TimestampMillisecond(x, tz) => timestamp(x.map(|x| x.saturating_mul(1_000)), tz.is_some(), upper),
        S::TimestampMicrosecond(x, tz) => timestamp(*x, tz.is_some(), upper),
        S::TimestampNanosecond(x, tz) => timestamp(
            x.map(|x| x.div_euclid(1_000) + i64::from(upper && x.rem_euclid(1_000) > 0)),
            tz.is_some(),
            upper,
        ),
        _ => None,
    }
}

/// Microseconds since the epoch, to the millisecond: down for a lower bound, up for an upper.
fn timestamp(micros: Option<i64>, utc: bool, upper: bool) -> Option<serde_json::Value> {
    let micros = micros?;
    let millis = if upper {
        micros.div_euclid(1_000) + i64::from(micros.rem_euclid(1_000) > 0)
    } else {
        micros.div_euclid(1_000)
    };
    let t = chrono::DateTime::from_timestamp_millis(millis)?;
    let whole = millis.rem_euclid(1_000) == 0;
    let format = match (utc, whole) {
        (true, true) => "%Y-%m-%dT%H:%M:%SZ",
        (true, false) => "%Y-%m-%dT%H:%M:%S%.3fZ",
        (false, true) => "%Y-%m-%d %H:%M:%S",
        (false, false) => "%Y-%m-%d %H:%M:%S%.3f",
    };
    Some(t.format(format).to_string().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_walk_finds_the_incoming_keys_of_an_ordered_row_group() {
        let own = ["A02", "A05", "A07", "A10"];
        // Sorted incoming keys and the incoming row of each.
        let theirs = ["A01", "A05", "A06", "A10", "A11"];
        let order = [4, 0, 3, 1, 2];
        let hits = walk_bytes(
            |i| own[i].as_bytes(),
            own.len(),
            |p| theirs[p].as_bytes(),
            theirs.len(),
            &order,
        );
        assert_eq!(hits, Some(vec![(1, 0), (3, 1)]));
        // A row group with a repeated key is not walked (the hash table is probed).
        let repeated = ["A02", "A05", "A05"];
        let none = walk_bytes(|i| repeated[i].as_bytes(), 3, |p| theirs[p].as_bytes(), 5, &order);
        assert_eq!(none, None);
        // No incoming key in the row group's range.
        let late = ["B1", "B2"];
        assert_eq!(
            walk_bytes(|i| late[i].as_bytes(), 2, |p| theirs[p].as_bytes(), 5, &order),
            Some(vec![])
        );
    }
    #[test]
    fn a_page_walk_finds_the_incoming_keys_in_every_row_group() {
        use deltalake::parquet::file::properties::WriterProperties;
        // Account numbers of a long shared prefix, every other one, in pages of 4 keys
        // and row groups of 100.
        let own: Vec<String> = (0..300).map(|i| format!("6217000000{:09}", 2 * i)).collect();
        let keys: Vec<Option<&str>> = own.iter().map(|k| Some(k.as_str())).collect();
        let props = WriterProperties::builder()
            .set_dictionary_enabled(false)
            .set_max_row_group_row_count(Some(100));
        let file = file_of(&keys, props);
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap();
        assert_eq!(meta.metadata().num_row_groups(), 3);
        // Incoming, shuffled: below the first key, the first, page and row group edges,
        // between two keys, the last, past the last.
        let wanted = [0usize, 3, 4, 99, 100, 101, 250, 299];
        let mut theirs: Vec<&str> = wanted.iter().map(|&i| own[i].as_str()).collect();
        theirs.extend(["6216999999999999999", "6217000000000000005", "6217000000000000599", "7"]);
        theirs.reverse();
        let shared = shared_for(&theirs);
        let mut found = Vec::new();
        for g in 0..3 {
            let hits = walk_pages(&shared, &file, meta.metadata(), g).unwrap().expect("walked");
            found.extend(
                hits.iter()
                    .map(|&(i, j)| (own[100 * g + i].as_str(), theirs[j as usize])),
            );
        }
        let expected: Vec<(&str, &str)> = wanted.iter().map(|&i| (own[i].as_str(), own[i].as_str())).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn a_walk_finds_every_incoming_key_however_sparse_or_dense() {
        // Row groups of even numbers; incoming keys drawn at several densities, in and
        // out of the row group's range, checked against a plain lookup.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for (n, every) in [(1, 1), (7, 1), (1000, 1), (1000, 3), (5000, 50), (5000, 997), (64, 200)] {
            let own: Vec<u64> = (0..n as u64).map(|i| 100 + 2 * i).collect();
            let mut theirs: Vec<u64> = (0..(2 * n + 300) as u64).filter(|_| next() % every == 0).collect();
            theirs.sort_unstable();
            theirs.dedup();
            let m = theirs.len();
            // Incoming row of each sorted key: reversed, so that order is checked.
            let order: Vec<u32> = (0..m as u32).rev().collect();
            let hits = walk(n, m, |a, b| own[a].cmp(&own[b]), |i, p| own[i].cmp(&theirs[p]), &order).unwrap();
            let want: Vec<(usize, u32)> = theirs
                .iter()
                .enumerate()
                .filter_map(|(p, t)| own.binary_search(t).ok().map(|i| (i, order[p])))
                .collect();
            assert_eq!(hits, want, "n={n} every={every}");
        }
    }

    use deltalake::arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray,
        TimestampMicrosecondArray,
    };
    use deltalake::arrow::datatypes::{Field, Schema, TimeUnit};

    /// What the file tasks share, for incoming rows `(acct_no)` of `keys` (any order).
    fn shared_for(keys: &[&str]) -> Shared {
        let schema = Arc::new(Schema::new(vec![Field::new("acct_no", DataType::Utf8, true)]));
        let rows = RecordBatch::try_new(schema, vec![Arc::new(StringArray::from(keys.to_vec())) as ArrayRef]).unwrap();
        let mut order: Vec<u32> = (0..keys.len() as u32).collect();
        order.sort_by_key(|&j| keys[j as usize]);
        let sorted: Vec<&str> = order.iter().map(|&j| keys[j as usize]).collect();
        let converter = crate::rowdiff::key_converter(&[DataType::Utf8]).unwrap();
        Shared {
            encoded: converter.convert_columns(&[rows.column(0).clone()]).unwrap(),
            lookup: std::sync::OnceLock::new(),
            sorted_keys: vec![Arc::new(StringArray::from(sorted)) as ArrayRef],
            order,
            incoming: Incoming::whole(rows, vec![true; keys.len()]),
            key_pos: vec![0],
            key_types: vec![DataType::Utf8],
            indexed: 32,
        }
    }

    /// A Parquet file of one row group of `(acct_no, n)`, 4 rows a page.
    fn file_of(keys: &[Option<&str>], props: deltalake::parquet::file::properties::WriterPropertiesBuilder) -> Bytes {
        let schema = Arc::new(Schema::new(vec![
            Field::new("acct_no", DataType::Utf8, true),
            Field::new("n", DataType::Int32, true),
        ]));
        let n = Int32Array::from_iter_values(0..keys.len() as i32);
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(StringArray::from(keys.to_vec())), Arc::new(n)],
        )
        .unwrap();
        let props = props
            .set_data_page_row_count_limit(4)
            .set_write_batch_size(4)
            .set_compression(Compression::SNAPPY)
            .build();
        let mut out = Vec::new();
        let mut writer = deltalake::parquet::arrow::ArrowWriter::try_new(&mut out, schema, Some(props)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        Bytes::from(out)
    }

    fn walked(file: &Bytes, shared: &Shared) -> Option<Vec<(usize, u32)>> {
        let meta = ArrowReaderMetadata::load(file, ArrowReaderOptions::new()).unwrap();
        walk_pages(shared, file, meta.metadata(), 0).unwrap()
    }

    #[test]
    fn a_page_walk_finds_the_incoming_keys_where_they_lie_in_the_pages() {
        use deltalake::parquet::file::properties::{WriterProperties, WriterVersion};
        let own: Vec<String> = (0..30).map(|i| format!("A{:03}", 2 * i)).collect();
        let own: Vec<Option<&str>> = own.iter().map(|k| Some(k.as_str())).collect();
        // Incoming: before the first key, on page edges, between keys, after the last.
        let shared = shared_for(&["A058", "A000", "A001", "A008", "A007", "A099", "A030"]);
        let plain = || WriterProperties::builder().set_dictionary_enabled(false);
        // Row 0 is incoming row 1, row 4 (a page's first) row 3, row 15 row 6, row 29 row 0.
        let expected = Some(vec![(0, 1), (4, 3), (15, 6), (29, 0)]);
        assert_eq!(walked(&file_of(&own, plain()), &shared), expected);
        let v2 = || plain().set_writer_version(WriterVersion::PARQUET_2_0);
        assert_eq!(
            walked(&file_of(&own, v2().set_encoding(Encoding::PLAIN)), &shared),
            expected
        );
        // Not walked off the pages (the caller decodes the keys): another encoding (V2's
        // default for strings without a dictionary), a dictionary, a NULL, keys out of order.
        assert_eq!(walked(&file_of(&own, v2()), &shared), None);
        let dictionary = WriterProperties::builder().set_dictionary_enabled(true);
        assert_eq!(walked(&file_of(&own, dictionary), &shared), None);
        let mut with_null = own.clone();
        with_null[7] = None;
        assert_eq!(walked(&file_of(&with_null, plain()), &shared), None);
        let mut unordered = own.clone();
        unordered.swap(9, 10);
        assert_eq!(walked(&file_of(&unordered, plain()), &shared), None);
        // Out of order across a page edge (rows 3 and 4).
        let mut edge = own.clone();
        edge.swap(3, 4);
        assert_eq!(walked(&file_of(&edge, plain()), &shared), None);
        // A repeated key is not strictly ascending.
        let mut repeated = own.clone();
        repeated[12] = repeated[11];
        assert_eq!(walked(&file_of(&repeated, plain()), &shared), None);
    }

    fn batch() -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("acct_no", DataType::Utf8, true),
            Field::new("seq", DataType::Int32, true),
            Field::new("big", DataType::Int64, true),
            Field::new("balance", DataType::Decimal128(18, 2), true),
            Field::new("units", DataType::Decimal128(10, 0), true),
            Field::new("open_date", DataType::Date32, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            Field::new("flag", DataType::Boolean, true),
            Field::new("rate", DataType::Float64, true),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![Some("A2"), None, Some("A10")])),
            Arc::new(Int32Array::from(vec![Some(-3), Some(7), None])),
            Arc::new(Int64Array::from(vec![Some(1i64 << 40), Some(-5), Some(0)])),
            Arc::new(
                Decimal128Array::from(vec![Some(177_308i128), Some(-5), None])
                    .with_precision_and_scale(18, 2)
                    .unwrap(),
            ),
            Arc::new(
                Decimal128Array::from(vec![Some(12i128), Some(40), Some(7)])
                    .with_precision_and_scale(10, 0)
                    .unwrap(),
            ),
            Arc::new(Date32Array::from(vec![Some(19_000), Some(12_000), None])),
            Arc::new(
                TimestampMicrosecondArray::from(vec![Some(1_700_000_000_123_000), Some(1_600_000_000_000_000), None])
                    .with_timezone("UTC"),
            ),
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            Arc::new(Float64Array::from(vec![Some(0.25), Some(-1.5), None])),
        ];
        RecordBatch::try_new(schema, columns).unwrap()
    }

    /// The statistics of a patched file are the ones delta-rs writes for the same rows.
    #[tokio::test]
    async fn stats_are_written_as_delta_rs_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = url::Url::from_directory_path(dir.path()).unwrap();
        let table = deltalake::DeltaTableBuilder::from_url(url).unwrap().build().unwrap();
        let b = batch();
        table.write(vec![b.clone()]).await.unwrap();
        let log = std::fs::read_to_string(dir.path().join("_delta_log/00000000000000000000.json")).unwrap();
        let theirs: serde_json::Value = log
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find_map(|a| {
                a.get("add")
                    .map(|a| serde_json::from_str(a["stats"].as_str().unwrap()).unwrap())
            })
            .unwrap();

        let mut stats = Stats::new(&b.schema(), 32).unwrap();
        for part in [b.slice(0, 2), b.slice(2, 1)] {
            for (c, column) in part.columns().iter().enumerate() {
                stats.update(c, column).unwrap();
            }
        }
        let ours = stats.json(3, None).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn timestamp_bounds_round_outwards_to_the_millisecond() {
        let at = |micros| ScalarValue::TimestampMicrosecond(Some(micros), Some("UTC".into()));
        assert_eq!(
            bound(&at(1_700_000_000_123_456), false),
            Some("2023-11-14T22:13:20.123Z".into())
        );
        assert_eq!(
            bound(&at(1_700_000_000_123_456), true),
            Some("2023-11-14T22:13:20.124Z".into())
        );
        let naive = ScalarValue::TimestampNanosecond(Some(1_700_000_000_000_000_001), None);
        assert_eq!(bound(&naive, true), Some("2023-11-14 22:13:20.001".into()));
        assert_eq!(bound(&ScalarValue::Float64(Some(f64::NAN)), false), None);
        assert_eq!(bound(&ScalarValue::Utf8(None), false), None);
    }
}
