//! Row hashes, and the key-ordered comparison behind `snapshot_diff`: which keys of a
//! new snapshot are new, changed or gone against the table, read from two streams of
//! `(key…, row_hash)` in key order, in one pass, with one batch of each side in memory.
//!
//! The snapshot's sorted `(key…, row_hash)` are kept beside the table for the version
//! it becomes ([`KeyKeeper`]), so the next business date reads the table's side in
//! order ([`kept_keys`]) instead of sorting it again.
//!
//! Part of the storage layer, beside materialize.rs (its only caller).

use std::cmp::Ordering;
use std::fmt::Write as _;
use std::hash::Hasher;
use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use deltalake::arrow::compute::{SortOptions, cast};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use deltalake::arrow::row::{OwnedRow, Row, RowConverter, Rows, SortField};
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use deltalake::datafusion::physical_plan::SendableRecordBatchStream;
use deltalake::datafusion::physical_plan::common::spawn_buffered;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::buffered::BufWriter;
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::{ObjectStore as _, ObjectStoreExt as _};
use deltalake::parquet::arrow::arrow_reader::ArrowReaderOptions;
use deltalake::parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use deltalake::parquet::arrow::async_writer::AsyncArrowWriter;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::errors::{ParquetError, Result as ParquetResult};
use deltalake::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use deltalake::parquet::file::properties::WriterProperties;
use futures::FutureExt;
use futures::StreamExt;
use futures::future::BoxFuture;
use twox_hash::XxHash64;

use crate::error::{Error, Result};

/// `lakemart_row_hash(c1, c2, …)`: 16 hex digits of xxHash64 (seed 0) over each value
/// in a self-delimiting encoding — a NULL marker, or a present marker, then the value
/// (text: its byte length, then its bytes; integers and dates: 8 bytes little-endian;
/// decimals: 16; floats: their bits; other types: their text). Text cannot shift from
/// one column into the next, string kinds (`Utf8`, `Utf8View`) and integer widths hash
/// alike, and the hash does not change between lakemart or DataFusion releases.
pub fn row_hash(columns: Vec<Expr>) -> Expr {
    ScalarUDF::new_from_impl(RowHash {
        signature: Signature::variadic_any(Volatility::Immutable),
    })
    .call(columns)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RowHash {
    signature: Signature,
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        "lakemart_row_hash"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let n = args.number_rows;
        let mut states: Vec<XxHash64> = (0..n).map(|_| XxHash64::with_seed(0)).collect();
        for a in &args.args {
            feed(&mut states, &a.clone().into_array(n)?)?;
        }
        let mut out = StringBuilder::with_capacity(n, n * 16);
        for s in states {
            // Writing into the builder cannot fail.
            let _ = write!(out, "{:016x}", s.finish());
            out.append_value("");
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

/// Each row's hasher takes that row's value of `a`.
fn feed(states: &mut [XxHash64], a: &ArrayRef) -> deltalake::datafusion::error::Result<()> {
    fn each<T>(states: &mut [XxHash64], values: impl Iterator<Item = Option<T>>, put: impl Fn(&mut XxHash64, T)) {
        for (h, v) in states.iter_mut().zip(values) {
            match v {
                None => h.write_u8(0),
                Some(v) => {
                    h.write_u8(1);
                    put(h, v);
                }
            }
        }
    }
    fn text(h: &mut XxHash64, v: &str) {
        h.write(&(v.len() as u64).to_le_bytes());
        h.write(v.as_bytes());
    }
    let int = |h: &mut XxHash64, v: i64| h.write(&v.to_le_bytes());
    match a.data_type() {
        DataType::Utf8 => each(states, a.as_string::<i32>().iter(), text),
        DataType::LargeUtf8 => each(states, a.as_string::<i64>().iter(), text),
        DataType::Utf8View => each(states, a.as_string_view().iter(), text),
        DataType::Boolean => each(states, a.as_boolean().iter(), |h, v| h.write_u8(u8::from(v))),
        DataType::Int8 => each(states, a.as_primitive::<Int8Type>().iter(), |h, v| int(h, v.into())),
        DataType::Int16 => each(states, a.as_primitive::<Int16Type>().iter(), |h, v| int(h, v.into())),
        DataType::Int32 => each(states, a.as_primitive::<Int32Type>().iter(), |h, v| int(h, v.into())),
        DataType::Int64 => each(states, a.as_primitive::<Int64Type>().iter(), int),
        DataType::UInt8 => each(states, a.as_primitive::<UInt8Type>().iter(), |h, v| int(h, v.into())),
        DataType::UInt16 => each(states, a.as_primitive::<UInt16Type>().iter(), |h, v| int(h, v.into())),
        DataType::UInt32 => each(states, a.as_primitive::<UInt32Type>().iter(), |h, v| int(h, v.into())),
        DataType::UInt64 => each(states, a.as_primitive::<UInt64Type>().iter(), |h, v| {
            h.write(&v.to_le_bytes())
        }),
        DataType::Date32 => each(states, a.as_primitive::<Date32Type>().iter(), |h, v| int(h, v.into())),
        DataType::Decimal128(..) => each(states, a.as_primitive::<Decimal128Type>().iter(), |h, v| {
            h.write(&v.to_le_bytes())
        }),
        DataType::Float32 => each(states, a.as_primitive::<Float32Type>().iter(), |h, v| {
            h.write(&f64::from(v).to_bits().to_le_bytes())
        }),
        DataType::Float64 => each(states, a.as_primitive::<Float64Type>().iter(), |h, v| {
            h.write(&v.to_bits().to_le_bytes())
        }),
        DataType::Timestamp(..) | DataType::Date64 => {
            let v = cast(a, &DataType::Int64)?;
            each(states, v.as_primitive::<Int64Type>().iter(), int)
        }
        _ => {
            let v = cast(a, &DataType::Utf8)?;
            each(states, v.as_string::<i32>().iter(), text)
        }
    }
    Ok(())
}

/// The order both streams must be in: ascending, NULLs first (`sort(true, true)`).
pub fn key_converter(types: &[DataType]) -> Result<RowConverter> {
    let options = SortOptions {
        descending: false,
        nulls_first: true,
    };
    Ok(RowConverter::new(
        types
            .iter()
            .map(|t| SortField::new_with_options(t.clone(), options))
            .collect(),
    )?)
}

/// What a snapshot changes in a table, by key.
pub struct Compared {
    /// Keys of the snapshot that are new or whose row hash changed.
    pub changed: Rows,
    /// Per `changed` row: true for a new key.
    pub inserted: Vec<bool>,
    /// Keys of the table that the snapshot no longer has.
    pub gone: Rows,
}

/// Why the snapshot cannot be compared.
pub enum Refused {
    /// The first duplicated key, how often it appears, and how many keys are duplicated.
    Duplicate { key: OwnedRow, times: u64, keys: u64 },
    /// A row of the snapshot has a NULL in a key column.
    NullKey,
}

/// One side of the comparison: a stream of `(key…, row_hash)` batches in key order.
struct Side {
    stream: Option<SendableRecordBatchStream>,
    keys: usize,
    rows: Rows,
    hashes: ArrayRef,
    pos: usize,
    /// The last row of the previous batch, for checks across batch boundaries.
    last: Option<OwnedRow>,
    /// Whether a NULL key was seen.
    null_key: bool,
}

impl Side {
    fn new(stream: Option<SendableRecordBatchStream>, keys: usize, converter: &RowConverter) -> Side {
        Side {
            stream,
            keys,
            rows: converter.empty_rows(0, 0),
            hashes: Arc::new(deltalake::arrow::array::StringArray::from(Vec::<&str>::new())),
            pos: 0,
            last: None,
            null_key: false,
        }
    }

    /// Make `pos` point at a row, reading batches as needed; false at the end.
    async fn fill(&mut self, converter: &RowConverter) -> Result<bool> {
        while self.pos >= self.rows.num_rows() {
            let Some(stream) = self.stream.as_mut() else {
                return Ok(false);
            };
            match stream.next().await {
                None => {
                    self.stream = None;
                    return Ok(false);
                }
                Some(batch) => {
                    let batch = batch?;
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    let keys = &batch.columns()[..self.keys];
                    self.null_key |= keys.iter().any(|k| k.null_count() > 0);
                    if self.rows.num_rows() > 0 {
                        self.last = Some(self.rows.row(self.rows.num_rows() - 1).owned());
                    }
                    self.rows = converter.convert_columns(keys)?;
                    self.hashes = cast(batch.column(self.keys), &DataType::Utf8)?;
                    self.pos = 0;
                }
            }
        }
        Ok(true)
    }

    fn row(&self) -> Row<'_> {
        self.rows.row(self.pos)
    }

    fn hash(&self) -> Option<&str> {
        let h = self.hashes.as_string::<i32>();
        (!h.is_null(self.pos)).then(|| h.value(self.pos))
    }

    /// The row before the current one, if any.
    fn previous(&self) -> Option<Row<'_>> {
        if self.pos > 0 {
            Some(self.rows.row(self.pos - 1))
        } else {
            self.last.as_ref().map(OwnedRow::row)
        }
    }

    /// How the current row follows the previous one: Greater, or Equal for a repeat.
    fn order(&self, what: &str) -> Result<Ordering> {
        match self.previous().map(|p| self.row().cmp(&p)) {
            Some(Ordering::Less) => Err(Error::Internal(format!("{what} did not arrive in key order"))),
            Some(o) => Ok(o),
            None => Ok(Ordering::Greater),
        }
    }
}

/// Compare `new` (the snapshot) with `old` (the table; None for an empty one), both
/// streams of `(key…, row_hash)` sorted by the keys as [`key_converter`] orders them.
pub async fn compare(
    converter: &RowConverter,
    keys: usize,
    new: SendableRecordBatchStream,
    old: Option<SendableRecordBatchStream>,
) -> Result<std::result::Result<Compared, Refused>> {
    // Each side is read (the sort's merge of its spills, a kept file's decoding) by a
    // task of its own, beside the walk.
    let mut new = Side::new(Some(spawn_buffered(new, 2)), keys, converter);
    let mut old = Side::new(old.map(|o| spawn_buffered(o, 2)), keys, converter);
    let mut out = Compared {
        changed: converter.empty_rows(0, 0),
        inserted: Vec::new(),
        gone: converter.empty_rows(0, 0),
    };
    // Both sides sort their whole input before the first batch: let the sorts run together.
    let started = std::time::Instant::now();
    let (n, o) = futures::join!(new.fill(converter), old.fill(converter));
    let (mut has_new, mut has_old) = (n?, o?);
    tracing::debug!("first sorted keys of both sides after {:.1?}", started.elapsed());
    // The current run of one key in the snapshot, and the duplicates found so far.
    let mut run = 0u64;
    let mut duplicate: Option<(OwnedRow, u64)> = None;
    let mut duplicated = 0u64;
    while has_new || has_old {
        if new.null_key {
            return Ok(Err(Refused::NullKey));
        }
        let ord = match (has_new, has_old) {
            (true, true) => new.row().cmp(&old.row()),
            (true, false) => Ordering::Less,
            _ => Ordering::Greater,
        };
        if ord != Ordering::Greater {
            if new.order("the snapshot's sorted keys")? == Ordering::Equal {
                run += 1;
            } else {
                if run > 1 {
                    duplicated += 1;
                    if duplicate.is_none() {
                        duplicate = new.previous().map(|p| (p.owned(), run));
                    }
                }
                run = 1;
            }
        }
        if ord != Ordering::Less && old.order("the table's sorted keys")? == Ordering::Equal {
            return Err(Error::Internal(
                "the table holds a key twice; rebuild it with --full-refresh".into(),
            ));
        }
        match ord {
            Ordering::Less => {
                out.changed.push(new.row());
                out.inserted.push(true);
                new.pos += 1;
            }
            Ordering::Greater => {
                out.gone.push(old.row());
                old.pos += 1;
            }
            Ordering::Equal => {
                if new.hash() != old.hash() {
                    out.changed.push(new.row());
                    out.inserted.push(false);
                }
                new.pos += 1;
                old.pos += 1;
            }
        }
        if ord != Ordering::Greater {
            has_new = new.fill(converter).await?;
        }
        if ord != Ordering::Less {
            has_old = old.fill(converter).await?;
        }
    }
    if new.null_key {
        return Ok(Err(Refused::NullKey));
    }
    if run > 1 {
        duplicated += 1;
        if duplicate.is_none() {
            duplicate = new.previous().map(|p| (p.owned(), run));
        }
    }
    if let Some((key, times)) = duplicate {
        return Ok(Err(Refused::Duplicate {
            key,
            times,
            keys: duplicated,
        }));
    }
    Ok(Ok(out))
}

/// Where lakemart keeps the sorted `(key…, row_hash)` of a snapshot_diff table's
/// versions, relative to the table's root. Delta readers and VACUUM leave
/// `_`-prefixed folders alone; lakemart prunes it ([`KEPT_VERSIONS`]).
pub const KEPT_KEYS_DIR: &str = "_lakemart/sorted_keys";
/// Versions whose sorted keys are kept: the newest, and the one a re-run of the same
/// business date compares with (each is ~22 bytes a row: 875 MB for 40M accounts).
pub const KEPT_VERSIONS: usize = 2;

fn kept_path(version: u64) -> Path {
    Path::from(format!("{KEPT_KEYS_DIR}/v{version:020}.parquet"))
}

/// The sorted keys and row hashes kept for the table's `version`, as a stream in key
/// order; None when none were kept or they lack `schema`'s columns and types (then the
/// caller sorts the table's own keys).
pub async fn kept_keys(
    store: &ObjectStoreRef,
    version: u64,
    schema: &SchemaRef,
) -> Result<Option<SendableRecordBatchStream>> {
    let path = kept_path(version);
    let size = match store.head(&path).await {
        Ok(meta) => meta.size,
        Err(deltalake::ObjectStoreError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(Error::Delta(e.into())),
    };
    let reader = StoreFile {
        store: store.clone(),
        path: path.clone(),
        size,
    };
    let builder = match ParquetRecordBatchStreamBuilder::new(reader).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("{path}: {e}; sorting the table's keys instead");
            return Ok(None);
        }
    };
    if !same_columns(builder.schema(), schema) {
        return Ok(None);
    }
    let stream = builder
        .with_batch_size(8192)
        .build()
        .map_err(|e| Error::Delta(e.into()))?;
    let stream = stream.map(move |b| {
        b.map_err(|e| {
            DataFusionError::External(
                format!(
                    "reading {path} (the table's sorted keys, kept by lakemart: delete the file \
                     and the table's keys are sorted instead): {e}"
                )
                .into(),
            )
        })
    });
    Ok(Some(Box::pin(RecordBatchStreamAdapter::new(schema.clone(), stream))))
}

/// Whether two schemas have the same columns, by name and type, in the same order
/// (nullability aside).
pub(crate) fn same_columns(a: &SchemaRef, b: &SchemaRef) -> bool {
    a.fields().len() == b.fields().len()
        && a.fields()
            .iter()
            .zip(b.fields())
            .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type())
}

/// A Parquet file of an object store, read by ranges.
pub(crate) struct StoreFile {
    store: ObjectStoreRef,
    path: Path,
    size: u64,
}

impl StoreFile {
    /// The file at `path`, which must exist.
    pub(crate) async fn open(store: &ObjectStoreRef, path: Path) -> Result<Self> {
        let size = store
            .head(&path)
            .await
            .map_err(|e| Error::Delta(deltalake::DeltaTableError::Generic(format!("{path}: {e}"))))?
            .size;
        Ok(StoreFile {
            store: store.clone(),
            path,
            size,
        })
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }
}

impl AsyncFileReader for StoreFile {
    fn get_bytes(&mut self, range: std::ops::Range<u64>) -> BoxFuture<'_, ParquetResult<bytes::Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, ParquetResult<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// Keeps a sorted `(key…, row_hash)` stream for the version a run commits: the batches
/// are written as they pass ([`KeyKeeper::tee`]), by a task of their own so the stream's
/// reader does not wait on Parquet encoding, and the file takes the version's name once
/// it is committed ([`KeyKeeper::keep`]). Keeping is an optimisation: a failure is
/// logged, never the run's error.
pub struct KeyKeeper {
    store: ObjectStoreRef,
    temp: Path,
    /// The writing task; it ends, giving the writer back, when the stream has ended.
    task: tokio::task::JoinHandle<Option<AsyncArrowWriter<BufWriter>>>,
}

impl KeyKeeper {
    /// `stream`, unchanged, with each batch also written to a file of run `run_id`.
    pub fn tee(
        store: ObjectStoreRef,
        run_id: &str,
        stream: SendableRecordBatchStream,
    ) -> Result<(KeyKeeper, SendableRecordBatchStream)> {
        let schema = stream.schema();
        let temp = Path::from(format!("{KEPT_KEYS_DIR}/run-{run_id}.parquet"));
        // Keys and hashes are unique: no dictionaries.
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(false)
            .set_max_row_group_row_count(Some(1 << 20))
            .build();
        let mut writer =
            AsyncArrowWriter::try_new(BufWriter::new(store.clone(), temp.clone()), schema.clone(), Some(props))
                .map_err(|e| Error::Delta(e.into()))?;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<RecordBatch>(4);
        let name = temp.clone();
        let task = tokio::spawn(async move {
            let mut ok = true;
            while let Some(batch) = receiver.recv().await {
                if ok && let Err(e) = writer.write(&batch).await {
                    tracing::warn!("{name}: {e}; the sorted keys are not kept");
                    ok = false;
                }
            }
            ok.then_some(writer)
        });
        // The sender lives in the stream's state and is dropped at its end.
        let teed = futures::stream::unfold((stream, Some(sender)), |(mut stream, sender)| async move {
            let b = stream.next().await?;
            if let (Ok(batch), Some(s)) = (&b, &sender) {
                // A writer that stopped only means nothing is kept.
                let _ = s.send(batch.clone()).await;
            }
            Some((b, (stream, sender)))
        });
        let keeper = KeyKeeper { store, temp, task };
        Ok((keeper, Box::pin(RecordBatchStreamAdapter::new(schema, teed))))
    }

    /// Keep the file as the sorted keys of the table's `version` (the stream must have
    /// been read to its end: this waits for the writer), and drop those of all but the
    /// newest [`KEPT_VERSIONS`].
    pub async fn keep(self, version: u64) {
        let temp = self.temp.clone();
        if let Err(e) = self.try_keep(version).await {
            tracing::warn!("{temp}: {e}; the sorted keys of version {version} are not kept");
        }
    }

    async fn try_keep(self, version: u64) -> Result<()> {
        let written = self
            .task
            .await
            .map_err(|e| Error::Internal(format!("the sorted keys' writer stopped: {e}")))?;
        let Some(file) = written else {
            return Ok(());
        };
        file.close().await.map_err(|e| Error::Delta(e.into()))?;
        let delta = |e: deltalake::ObjectStoreError| Error::Delta(e.into());
        self.store
            .rename(&self.temp, &kept_path(version))
            .await
            .map_err(delta)?;
        // Runs hold the lakehouse lock: another run's file is a crashed run's.
        let mut kept = Vec::new();
        let mut listing = self.store.list(Some(&Path::from(KEPT_KEYS_DIR)));
        while let Some(meta) = listing.next().await {
            let path = meta.map_err(delta)?.location;
            match path.filename() {
                Some(name) if name.starts_with('v') => kept.push(path),
                Some(name) if name.starts_with("run-") => {
                    self.store.delete(&path).await.map_err(delta)?;
                }
                _ => {}
            }
        }
        kept.sort();
        for old in kept.iter().rev().skip(KEPT_VERSIONS) {
            self.store.delete(old).await.map_err(delta)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Int32Array, StringArray};
    use deltalake::arrow::datatypes::{Field, Schema};
    use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;

    fn stream(batches: &[(&[&str], &[&str])]) -> SendableRecordBatchStream {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("row_hash", DataType::Utf8, true),
        ]));
        let batches: Vec<_> = batches
            .iter()
            .map(|(k, h)| {
                Ok(RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(k.to_vec())) as ArrayRef,
                        Arc::new(StringArray::from(h.to_vec())),
                    ],
                )?)
            })
            .collect();
        Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::iter(batches)))
    }

    fn keys(c: &RowConverter, rows: &Rows) -> Vec<String> {
        let a = c.convert_rows(rows.iter()).unwrap();
        a[0].as_string::<i32>().iter().map(|v| v.unwrap().to_string()).collect()
    }

    #[tokio::test]
    async fn keys_are_classified_across_batch_boundaries() {
        let c = key_converter(&[DataType::Utf8]).unwrap();
        let new = stream(&[(&["A1", "A2"], &["h1", "h2x"]), (&["A4", "A5"], &["h4", "h5"])]);
        let old = stream(&[(&["A1"], &["h1"]), (&["A2", "A3", "A4"], &["h2", "h3", "h4"])]);
        let Ok(d) = compare(&c, 1, new, Some(old)).await.unwrap() else {
            panic!("refused")
        };
        assert_eq!(keys(&c, &d.changed), ["A2", "A5"]);
        assert_eq!(d.inserted, [false, true]);
        assert_eq!(keys(&c, &d.gone), ["A3"]);
    }

    #[tokio::test]
    async fn a_key_repeated_across_batches_is_refused_with_its_count() {
        let c = key_converter(&[DataType::Utf8]).unwrap();
        let new = stream(&[(&["A1", "A2"], &["h", "h"]), (&["A2", "A2", "A3", "A3"], &["h"; 4])]);
        let Err(Refused::Duplicate { key, times, keys: n }) = compare(&c, 1, new, None).await.unwrap() else {
            panic!("not refused")
        };
        let a = c.convert_rows([key.row()]).unwrap();
        assert_eq!(a[0].as_string::<i32>().value(0), "A2");
        assert_eq!((times, n), (3, 2));
    }

    #[test]
    fn the_row_hash_is_stable_and_separates_columns() {
        let hash = |cols: Vec<ArrayRef>| {
            let n = cols[0].len();
            let mut states: Vec<XxHash64> = (0..n).map(|_| XxHash64::with_seed(0)).collect();
            for c in &cols {
                feed(&mut states, c).unwrap();
            }
            states
                .into_iter()
                .map(|s| format!("{:016x}", s.finish()))
                .collect::<Vec<_>>()
        };
        let a = hash(vec![
            Arc::new(StringArray::from(vec!["a|b"])),
            Arc::new(StringArray::from(vec!["c"])),
        ]);
        let b = hash(vec![
            Arc::new(StringArray::from(vec!["a"])),
            Arc::new(StringArray::from(vec!["b|c"])),
        ]);
        assert_ne!(a, b);
        // NULL differs from an empty string, and integer widths hash alike.
        let null = hash(vec![Arc::new(StringArray::from(vec![None::<&str>]))]);
        let empty = hash(vec![Arc::new(StringArray::from(vec![""]))]);
        assert_ne!(null, empty);
        let i32s = hash(vec![Arc::new(Int32Array::from(vec![7]))]);
        let i64s = hash(vec![Arc::new(deltalake::arrow::array::Int64Array::from(vec![7i64]))]);
        assert_eq!(i32s, i64s);
        // A fixed value (Python: xxhash.xxh64(b"\\x01" + struct.pack("<Q", 2) + b"A1")): the hash
        // stored in tables must not drift between releases.
        assert_eq!(
            hash(vec![Arc::new(StringArray::from(vec!["A1"]))]),
            ["1e7c0af6263fa6e9"]
        );
    }
}
