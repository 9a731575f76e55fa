//! Row hashes, and the comparison behind `snapshot_diff`: which keys of a new
//! snapshot are new, changed or gone against the table. Both sides' `(key…, row_hash)`
//! are split into buckets by a hash of the key (spilled to disk), and each bucket's
//! pair is compared in memory: the snapshot's keys as a hash table, the table's rows
//! probing it. No side is sorted.
//!
//! The snapshot's buckets are kept beside the table for the version it becomes
//! ([`KeyKeeper`]), so the next business date reads the table's side bucket by bucket
//! ([`KeptKeys`]) instead of reading and bucketing the table again.
//!
//! Part of the storage layer, beside materialize.rs (its only caller).

use std::sync::Arc;

use deltalake::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, RecordBatch, StringArray, StringBuilder, UInt32Array, UInt64Array,
};
use deltalake::arrow::buffer::NullBuffer;
use deltalake::arrow::compute::{SortOptions, cast, concat_batches, take, take_record_batch};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::datatypes::{
    ArrowPrimitiveType, DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type,
    Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::ipc::reader::StreamReader;
use deltalake::arrow::ipc::writer::StreamWriter;
use deltalake::arrow::row::{OwnedRow, RowConverter, Rows, SortField};
use deltalake::datafusion::common::HashMap;
use deltalake::datafusion::common::hash_map::Entry;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::TaskContext;
use deltalake::datafusion::execution::disk_manager::DiskManager;
use deltalake::datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool};
use deltalake::datafusion::execution::spill_file::{SpillFile, SpillWriter};
use deltalake::datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use deltalake::datafusion::physical_plan::SendableRecordBatchStream;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::logstore::ObjectStoreRef;
use deltalake::logstore::object_store::buffered::BufWriter;
use deltalake::logstore::object_store::path::Path;
use deltalake::logstore::object_store::{ObjectStore as _, ObjectStoreExt as _};
use deltalake::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection};
use deltalake::parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use deltalake::parquet::arrow::async_writer::AsyncArrowWriter;
use deltalake::parquet::basic::Compression;
use deltalake::parquet::errors::{ParquetError, Result as ParquetResult};
use deltalake::parquet::file::metadata::{KeyValue, ParquetMetaData, ParquetMetaDataReader};
use deltalake::parquet::file::properties::{EnabledStatistics, WriterProperties};
use futures::FutureExt;
use futures::StreamExt;
use futures::future::BoxFuture;
use twox_hash::XxHash64;

use crate::error::{Error, Result};

/// `lakemart_row_hash(c1, c2, …)`: xxHash64 (seed 0) over each value in a
/// self-delimiting encoding — a NULL marker, or a present marker, then the value (text:
/// its byte length, then its bytes; integers and dates: 8 bytes little-endian;
/// decimals: 16; floats: their bits; other types: their text) — as `BIGINT` (`Int64`:
/// the hash's 64 bits, read as signed). Text cannot shift from one column into the
/// next, string kinds (`Utf8`, `Utf8View`) and integer widths hash alike, and the hash
/// does not change between lakemart or DataFusion releases. `as_type` is the type a
/// table stores it as ([`hash_as`]): `Int64`, or `Utf8` (16 hex digits) in a table an
/// earlier release made.
pub fn row_hash(columns: Vec<Expr>, as_type: &DataType) -> Expr {
    ScalarUDF::new_from_impl(RowHash {
        signature: Signature::variadic_any(Volatility::Immutable),
        out: stored_as(as_type),
    })
    .call(columns)
}

/// The bits of [`row_hash`] over `columns`, as `UInt64`: what snapshot_diff compares
/// and keeps.
pub fn row_hash_bits(columns: Vec<Expr>) -> Expr {
    ScalarUDF::new_from_impl(RowHash {
        signature: Signature::variadic_any(Volatility::Immutable),
        out: Out::Bits,
    })
    .call(columns)
}

/// The bits of a `row_hash` value as [`row_hash_bits`] gives them: a `BIGINT`'s bits,
/// or 16 hex digits (as tables made before 2026-12-05 keep it) read back; a value
/// lakemart did not write so (another hash, or NULL) gets bits of its own that match no
/// row hash of today's.
pub fn hash_bits(row_hash: Expr) -> Expr {
    hash_as(row_hash, &DataType::UInt64)
}

/// A `row_hash` value (`BIGINT` or hex text) as `to`: `UInt64` ([`hash_bits`]),
/// `Int64` or `Utf8` (16 lowercase hex digits); NULL stays NULL but in `UInt64`.
/// Text given as text is left as it is.
pub fn hash_as(row_hash: Expr, to: &DataType) -> Expr {
    ScalarUDF::new_from_impl(HashAs {
        signature: Signature::any(1, Volatility::Immutable),
        out: match to {
            DataType::UInt64 => Out::Bits,
            other => stored_as(other),
        },
    })
    .call(vec![row_hash])
}

/// What a row hash is given as.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
enum Out {
    /// `Int64`: what tables store.
    Signed,
    /// `Utf8`, 16 lowercase hex digits: what tables made before 2026-12-05 store.
    Text,
    /// `UInt64`: what is compared.
    Bits,
}

fn stored_as(t: &DataType) -> Out {
    match t {
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => Out::Text,
        _ => Out::Signed,
    }
}

impl Out {
    fn data_type(self) -> DataType {
        match self {
            Out::Signed => DataType::Int64,
            Out::Text => DataType::Utf8,
            Out::Bits => DataType::UInt64,
        }
    }

    /// `bits` as this type, NULL where `nulls` says (never for `Bits`).
    fn array(self, bits: &[u64], nulls: Option<&NullBuffer>) -> ArrayRef {
        match self {
            Out::Bits => Arc::new(UInt64Array::from(bits.to_vec())),
            Out::Signed => Arc::new(Int64Array::new(
                bits.iter().map(|&b| b as i64).collect(),
                nulls.cloned(),
            )),
            Out::Text => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let mut out = StringBuilder::with_capacity(bits.len(), bits.len() * 16);
                for (i, &h) in bits.iter().enumerate() {
                    if nulls.is_some_and(|n| n.is_null(i)) {
                        out.append_null();
                        continue;
                    }
                    let digits: [u8; 16] = std::array::from_fn(|i| HEX[((h >> (60 - 4 * i)) & 0xf) as usize]);
                    out.append_value(std::str::from_utf8(&digits).unwrap_or_default());
                }
                Arc::new(out.finish())
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RowHash {
    signature: Signature,
    out: Out,
}

impl ScalarUDFImpl for RowHash {
    fn name(&self) -> &str {
        match self.out {
            Out::Signed => "lakemart_row_hash",
            Out::Text => "lakemart_row_hash_text",
            Out::Bits => "lakemart_row_hash_bits",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(self.out.data_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let n = args.number_rows;
        let columns = arrays(&args)?;
        let hashes = hash_rows(&columns, n)?;
        Ok(ColumnarValue::Array(self.out.array(&hashes, None)))
    }
}

/// A scalar function's arguments, each as an array of its rows.
pub(crate) fn arrays(args: &ScalarFunctionArgs) -> deltalake::datafusion::error::Result<Vec<ArrayRef>> {
    args.args
        .iter()
        .map(|a| a.clone().into_array(args.number_rows))
        .collect()
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct HashAs {
    signature: Signature,
    out: Out,
}

/// The value of each lowercase hex digit, and 0xff for any other byte.
const HEX_VALUE: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut c = 0;
    while c < 16 {
        table[b"0123456789abcdef"[c] as usize] = c as u8;
        c += 1;
    }
    table
};

/// See [`hash_bits`]: 16 lowercase hex digits, or else xxHash64 (seed 3) of the text
/// (NULL: of no bytes, seed 4).
fn bits_of(hash: Option<&str>) -> u64 {
    let Some(h) = hash else {
        return XxHash64::oneshot(4, b"");
    };
    // Every value of a snapshot is read so: one table lookup a digit, no branch.
    if let Ok(digits) = <&[u8; 16]>::try_from(h.as_bytes()) {
        let (mut v, mut bad) = (0u64, 0u8);
        for &c in digits {
            let d = HEX_VALUE[c as usize];
            bad |= d;
            v = (v << 4) | u64::from(d & 0xf);
        }
        if bad & 0xf0 == 0 {
            return v;
        }
    }
    XxHash64::oneshot(3, h.as_bytes())
}

/// [`hash_bits`] of each value of `a` (a `row_hash` column: `Int64`, or text).
pub fn bits_of_hashes(a: &ArrayRef) -> std::result::Result<UInt64Array, ArrowError> {
    if let Some(a) = a.as_primitive_opt::<Int64Type>() {
        return Ok(match a.null_count() {
            0 => UInt64Array::from_iter_values(a.values().iter().map(|&v| v as u64)),
            _ => a
                .iter()
                .map(|v| Some(v.map_or_else(|| bits_of(None), |v| v as u64)))
                .collect(),
        });
    }
    let a = cast(a, &DataType::Utf8)?;
    let a = a.as_string::<i32>();
    Ok(match a.null_count() {
        0 => UInt64Array::from_iter_values((0..a.len()).map(|i| bits_of(Some(a.value(i))))),
        _ => a.iter().map(|h| Some(bits_of(h))).collect(),
    })
}

impl ScalarUDFImpl for HashAs {
    fn name(&self) -> &str {
        match self.out {
            Out::Signed => "lakemart_hash_as_bigint",
            Out::Text => "lakemart_hash_as_text",
            Out::Bits => "lakemart_hash_bits",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> deltalake::datafusion::error::Result<DataType> {
        Ok(self.out.data_type())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> deltalake::datafusion::error::Result<ColumnarValue> {
        let n = args.number_rows;
        let a = args.args[0].clone().into_array(n)?;
        if self.out == Out::Text && stored_as(a.data_type()) == Out::Text {
            return Ok(ColumnarValue::Array(cast(&a, &DataType::Utf8)?));
        }
        let bits = bits_of_hashes(&a)?;
        Ok(ColumnarValue::Array(
            self.out.array(bits.values(), a.logical_nulls().as_ref()),
        ))
    }
}

/// One column's part of its rows' encoding (see [`row_hash`]): a NULL marker (0), or a
/// present marker (1) and the value's bytes. Rows are encoded a block at a time, column
/// after column, each column's loop made for its type.
trait Part {
    /// Add the bytes of rows `from..` to each row's length in `lens`.
    fn measure(&self, from: usize, lens: &mut [usize]);
    /// Write the bytes of rows `from..` into `buf`, each at its row's cursor in `at`,
    /// and move the cursor past them.
    fn write(&self, from: usize, buf: &mut [u8], at: &mut [usize]);
}

/// A column of values of `W` bytes each (`value(i)`).
struct Fixed<'a, const W: usize, F> {
    nulls: Option<&'a NullBuffer>,
    value: F,
}

impl<const W: usize, F: Fn(usize) -> [u8; W]> Part for Fixed<'_, W, F> {
    fn measure(&self, from: usize, lens: &mut [usize]) {
        for (i, l) in (from..).zip(lens) {
            *l += 1 + if self.nulls.is_some_and(|n| n.is_null(i)) { 0 } else { W };
        }
    }
    fn write(&self, from: usize, buf: &mut [u8], at: &mut [usize]) {
        for (i, a) in (from..).zip(at) {
            if self.nulls.is_some_and(|n| n.is_null(i)) {
                buf[*a] = 0;
                *a += 1;
            } else {
                buf[*a] = 1;
                buf[*a + 1..*a + 1 + W].copy_from_slice(&(self.value)(i));
                *a += 1 + W;
            }
        }
    }
}

/// A column of text (`value(i)`): its length as 8 bytes, then its bytes.
struct Text<'a, F> {
    nulls: Option<&'a NullBuffer>,
    value: F,
}

impl<'a, F: Fn(usize) -> &'a [u8]> Part for Text<'a, F> {
    fn measure(&self, from: usize, lens: &mut [usize]) {
        for (i, l) in (from..).zip(lens) {
            *l += 1 + match self.nulls.is_some_and(|n| n.is_null(i)) {
                true => 0,
                false => 8 + (self.value)(i).len(),
            };
        }
    }
    fn write(&self, from: usize, buf: &mut [u8], at: &mut [usize]) {
        for (i, a) in (from..).zip(at) {
            if self.nulls.is_some_and(|n| n.is_null(i)) {
                buf[*a] = 0;
                *a += 1;
            } else {
                let v = (self.value)(i);
                buf[*a] = 1;
                buf[*a + 1..*a + 9].copy_from_slice(&(v.len() as u64).to_le_bytes());
                buf[*a + 9..*a + 9 + v.len()].copy_from_slice(v);
                *a += 9 + v.len();
            }
        }
    }
}

/// The [`Part`] of `a`, whose type [`encodable`] has made one of those encoded: text,
/// a boolean as one byte, integers and dates widened to 8 bytes, decimals as their 16,
/// floats as the bits of their `f64`.
fn part(a: &ArrayRef) -> Box<dyn Part + '_> {
    fn fixed<'a, const W: usize>(a: &'a dyn Array, value: impl Fn(usize) -> [u8; W] + 'a) -> Box<dyn Part + 'a> {
        Box::new(Fixed {
            nulls: a.nulls(),
            value,
        })
    }
    fn text<'a>(a: &'a dyn Array, value: impl Fn(usize) -> &'a [u8] + 'a) -> Box<dyn Part + 'a> {
        Box::new(Text {
            nulls: a.nulls(),
            value,
        })
    }
    fn int<'a, T: ArrowPrimitiveType>(a: &'a ArrayRef, wide: impl Fn(T::Native) -> i64 + 'a) -> Box<dyn Part + 'a> {
        let p = a.as_primitive::<T>();
        fixed(p, move |i| wide(p.value(i)).to_le_bytes())
    }
    match a.data_type() {
        DataType::LargeUtf8 => {
            let s = a.as_string::<i64>();
            text(s, move |i| s.value(i).as_bytes())
        }
        DataType::Utf8View => {
            let s = a.as_string_view();
            text(s, move |i| s.value(i).as_bytes())
        }
        DataType::Boolean => {
            let v = a.as_boolean();
            fixed(v, move |i| [u8::from(v.value(i))])
        }
        DataType::Int8 => int::<Int8Type>(a, i64::from),
        DataType::Int16 => int::<Int16Type>(a, i64::from),
        DataType::Int32 => int::<Int32Type>(a, i64::from),
        DataType::Int64 => int::<Int64Type>(a, |v| v),
        DataType::UInt8 => int::<UInt8Type>(a, i64::from),
        DataType::UInt16 => int::<UInt16Type>(a, i64::from),
        DataType::UInt32 => int::<UInt32Type>(a, i64::from),
        DataType::Date32 => int::<Date32Type>(a, i64::from),
        DataType::UInt64 => {
            let p = a.as_primitive::<UInt64Type>();
            fixed(p, move |i| p.value(i).to_le_bytes())
        }
        DataType::Decimal128(..) => {
            let p = a.as_primitive::<Decimal128Type>();
            fixed(p, move |i| p.value(i).to_le_bytes())
        }
        DataType::Float32 => {
            let p = a.as_primitive::<Float32Type>();
            fixed(p, move |i| f64::from(p.value(i)).to_bits().to_le_bytes())
        }
        DataType::Float64 => {
            let p = a.as_primitive::<Float64Type>();
            fixed(p, move |i| p.value(i).to_bits().to_le_bytes())
        }
        // Utf8, and what `encodable` turned into it.
        _ => {
            let s = a.as_string::<i32>();
            text(s, move |i| s.value(i).as_bytes())
        }
    }
}

/// `a`, or `a` cast to the type it is encoded as: timestamps and Date64 as Int64,
/// types without an encoding of their own as their text.
fn encodable(a: &ArrayRef) -> deltalake::datafusion::error::Result<ArrayRef> {
    Ok(match a.data_type() {
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Date32
        | DataType::Decimal128(..)
        | DataType::Float32
        | DataType::Float64 => a.clone(),
        DataType::Timestamp(..) | DataType::Date64 => cast(a, &DataType::Int64)?,
        _ => cast(a, &DataType::Utf8)?,
    })
}

/// xxHash64 (seed 0) of each of the `n` rows' encoding of `columns`: a NULL marker, or
/// a present marker and the value (see [`row_hash`]), column after column, in one
/// buffer reused from row to row.
fn hash_rows(columns: &[ArrayRef], n: usize) -> deltalake::datafusion::error::Result<Vec<u64>> {
    let mut hashes = Vec::with_capacity(n);
    encode_rows(columns, n, |row| hashes.push(XxHash64::oneshot(0, row)))?;
    Ok(hashes)
}

/// Call `f` with each of the `n` rows' encoding of `columns`, row after row: rows are
/// encoded [`ENCODED_BLOCK`] at a time into one buffer reused from block to block.
fn encode_rows(columns: &[ArrayRef], n: usize, mut f: impl FnMut(&[u8])) -> deltalake::datafusion::error::Result<()> {
    let columns = columns
        .iter()
        .map(encodable)
        .collect::<deltalake::datafusion::error::Result<Vec<_>>>()?;
    let parts: Vec<Box<dyn Part + '_>> = columns.iter().map(part).collect();
    let (mut ends, mut buf) = (vec![0usize; ENCODED_BLOCK.min(n)], Vec::new());
    for from in (0..n).step_by(ENCODED_BLOCK) {
        let ends = &mut ends[..ENCODED_BLOCK.min(n - from)];
        ends.fill(0);
        for p in &parts {
            p.measure(from, ends);
        }
        // Each row's start, to be moved to its end as the columns are written.
        let mut total = 0;
        for e in ends.iter_mut() {
            (*e, total) = (total, total + *e);
        }
        buf.resize(total, 0);
        for p in &parts {
            p.write(from, &mut buf, ends);
        }
        let mut start = 0;
        for &end in ends.iter() {
            f(&buf[start..end]);
            start = end;
        }
    }
    Ok(())
}

/// Rows [`encode_rows`] encodes at a time.
const ENCODED_BLOCK: usize = 1024;

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
    /// Per `changed` row: where the snapshot had it, when its buckets say
    /// ([`POSITION`]); else empty.
    pub positions: Vec<u64>,
}

/// Why the snapshot cannot be compared.
pub enum Refused {
    /// The least duplicated key, how often it appears, and how many keys are duplicated.
    Duplicate { key: OwnedRow, times: u64, keys: u64 },
    /// A row of the snapshot has a NULL in a key column.
    NullKey,
}

/// Rows a bucket is meant to hold: a bucket of each side is compared in memory.
const BUCKET_ROWS: u64 = 1 << 20;
/// At most this many buckets (open spill files while bucketing).
const MAX_BUCKETS: usize = 512;
/// A kept set whose buckets hold more rows than this on average (the table grew) is
/// not used: the table's keys are bucketed again, in more buckets.
const MAX_KEPT_BUCKET_ROWS: u64 = 4 * BUCKET_ROWS;
/// The column of snapshot_diff's key buckets, after the key and the row hash, that says
/// where the snapshot had each row (`UInt64`); [`compare`] gives it back for the
/// changed rows.
pub const POSITION: &str = "__lakemart_position";
/// Keys per part of a bucket whose hash table is built at a time ([`compare_bucket`]):
/// the table (~16 bytes a key) stays in a core's cache.
const SUB_ROWS: usize = 16 * 1024;
/// Rows gathered per bucket before they are written to its spill file.
const SPILL_BATCH: usize = 8192;

/// How many buckets to split about `rows` keys into.
pub fn buckets_for(rows: u64) -> usize {
    (rows.div_ceil(BUCKET_ROWS) as usize).clamp(1, MAX_BUCKETS)
}

/// The bucket of each row of `keys` among `count`: xxHash64 of the key's values in
/// the row hash's encoding, so that it does not change between releases (kept files
/// depend on it) and string kinds and integer widths fall alike.
fn bucket_ids(keys: &[ArrayRef], count: usize) -> Result<Vec<u32>> {
    let n = keys.first().map_or(0, |k| k.len());
    Ok(hash_rows(keys, n)?
        .into_iter()
        .map(|h| (h % count as u64) as u32)
        .collect())
}

/// One side's `(key…, row_hash)` rows split into buckets by [`bucket_ids`], each in a
/// spill file of DataFusion's disk manager (deleted when dropped).
pub struct Bucketed {
    files: Vec<Spilled>,
    rows: Vec<u64>,
}

/// Batches written to a temporary file of DataFusion's disk manager (Arrow IPC).
pub struct SpillOut {
    file: Arc<dyn SpillFile>,
    writer: StreamWriter<std::io::BufWriter<Box<dyn SpillWriter>>>,
    schema: SchemaRef,
}

impl SpillOut {
    /// A new temporary file for batches of `schema`; `what` names it in errors.
    pub fn new(disk: &Arc<DiskManager>, schema: &SchemaRef, what: &str) -> Result<SpillOut> {
        let file = disk.create_tmp_file(what)?;
        let out = std::io::BufWriter::with_capacity(1 << 16, file.open_writer()?);
        let writer = StreamWriter::try_new(out, schema)?;
        Ok(SpillOut {
            file,
            writer,
            schema: schema.clone(),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        Ok(self.writer.write(batch)?)
    }

    /// The file, complete.
    pub fn finish(mut self) -> Result<Spilled> {
        self.writer.finish()?;
        let mut out = self
            .writer
            .into_inner()?
            .into_inner()
            .map_err(|e| spill_err(e.error()))?;
        out.finish()?;
        Ok(Spilled {
            file: self.file,
            schema: self.schema,
        })
    }
}

/// A temporary file of batches ([`SpillOut`]), deleted when dropped; read back in
/// order, and as a partition of a DataFusion table ([`PartitionStream`]).
pub struct Spilled {
    file: Arc<dyn SpillFile>,
    schema: SchemaRef,
}

impl Spilled {
    fn batches(&self) -> Result<impl Iterator<Item = std::result::Result<RecordBatch, ArrowError>> + Send + use<>> {
        let path = self
            .file
            .path()
            .ok_or_else(|| spill_err("DataFusion's temporary files must be local files"))?;
        let file = std::fs::File::open(path).map_err(spill_err)?;
        Ok(StreamReader::try_new(
            std::io::BufReader::with_capacity(1 << 16, file),
            None,
        )?)
    }

    fn read_all(&self) -> Result<Vec<RecordBatch>> {
        Ok(self.batches()?.collect::<std::result::Result<Vec<_>, _>>()?)
    }
}

impl std::fmt::Debug for Spilled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spilled({:?})", self.file.path())
    }
}

impl PartitionStream for Spilled {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batches: Box<dyn Iterator<Item = deltalake::datafusion::error::Result<RecordBatch>> + Send> =
            match self.batches() {
                Ok(b) => Box::new(b.map(|b| b.map_err(DataFusionError::from))),
                Err(e) => Box::new(std::iter::once(Err(DataFusionError::External(Box::new(e))))),
            };
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(batches),
        ))
    }
}

/// A bucket's spill file being written.
struct Spill {
    out: Option<SpillOut>,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    rows: u64,
}

impl Spill {
    fn write_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = concat_batches(&self.pending[0].schema(), &self.pending)?;
        self.pending.clear();
        self.pending_rows = 0;
        if let Some(out) = self.out.as_mut() {
            out.write(&batch)?;
        }
        Ok(())
    }
}

fn spill_err(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("snapshot_diff's key buckets: {e}"))
}

/// Splits `(key…, row_hash, …)` batches into buckets by [`bucket_ids`] as they come,
/// from any number of tasks (a clone each); [`Bucketing::finish`] once all are done.
#[derive(Clone)]
pub struct Bucketing {
    spills: Arc<Vec<std::sync::Mutex<Spill>>>,
    keys: usize,
}

/// A batch being scattered into buckets on a blocking thread.
pub struct Scattering(tokio::task::JoinHandle<Result<()>>);

impl Scattering {
    pub async fn done(self) -> Result<()> {
        self.0.await.map_err(spill_err)?
    }
}

impl Bucketing {
    /// `count` buckets of batches of `schema`, whose first `keys` columns are the key.
    pub fn new(schema: &SchemaRef, keys: usize, count: usize, disk: &Arc<DiskManager>) -> Result<Bucketing> {
        let mut spills = Vec::with_capacity(count);
        for _ in 0..count {
            spills.push(std::sync::Mutex::new(Spill {
                out: Some(SpillOut::new(disk, schema, "snapshot_diff key buckets")?),
                pending: Vec::new(),
                pending_rows: 0,
                rows: 0,
            }));
        }
        Ok(Bucketing {
            spills: Arc::new(spills),
            keys,
        })
    }

    /// Whether a row of `batch` has a NULL in its key (the first `keys` columns).
    pub fn null_key(batch: &RecordBatch, keys: usize) -> bool {
        batch.columns()[..keys].iter().any(|k| k.null_count() > 0)
    }

    /// Scatter `batch` into the buckets on a blocking thread.
    pub fn scatter(&self, batch: RecordBatch) -> Scattering {
        let (spills, keys) = (self.spills.clone(), self.keys);
        Scattering(tokio::task::spawn_blocking(move || scatter(&batch, keys, &spills)))
    }

    /// The buckets, once every clone is dropped and every batch scattered.
    pub fn finish(self) -> Result<Bucketed> {
        let spills = Arc::into_inner(self.spills).ok_or_else(|| spill_err("a bucketing task outlived its stream"))?;
        let mut files = Vec::with_capacity(spills.len());
        let mut rows = Vec::with_capacity(spills.len());
        for s in spills {
            let mut s = s.into_inner().map_err(spill_err)?;
            s.write_pending()?;
            let out = s.out.take().ok_or_else(|| spill_err("a bucket was finished twice"))?;
            files.push(out.finish()?);
            rows.push(s.rows);
        }
        Ok(Bucketed { files, rows })
    }
}

impl Bucketed {
    /// Split the `(key…, row_hash)` rows of `streams` (the partitions of one plan, read
    /// side by side, in any order) into `count` buckets; the first `keys` columns are
    /// the key. Refused when a key is NULL.
    pub async fn split(
        streams: Vec<SendableRecordBatchStream>,
        keys: usize,
        count: usize,
        disk: &Arc<DiskManager>,
    ) -> Result<std::result::Result<Bucketed, Refused>> {
        let Some(schema) = streams.first().map(|s| s.schema()) else {
            return Ok(Ok(Bucketed {
                files: Vec::new(),
                rows: Vec::new(),
            }));
        };
        let bucketing = Bucketing::new(&schema, keys, count, disk)?;
        let mut tasks = tokio::task::JoinSet::new();
        for mut stream in streams {
            let bucketing = bucketing.clone();
            tasks.spawn(async move {
                // A batch is scattered while the stream decodes the next one.
                let mut scattering: Option<Scattering> = None;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    if batch.num_rows() == 0 {
                        continue;
                    }
                    if Bucketing::null_key(&batch, keys) {
                        return Ok(false);
                    }
                    if let Some(s) = scattering.take() {
                        s.done().await?;
                    }
                    scattering = Some(bucketing.scatter(batch));
                }
                if let Some(s) = scattering {
                    s.done().await?;
                }
                Ok::<_, Error>(true)
            });
        }
        let mut null_key = false;
        while let Some(done) = tasks.join_next().await {
            null_key |= !done.map_err(spill_err)??;
        }
        if null_key {
            return Ok(Err(Refused::NullKey));
        }
        Ok(Ok(bucketing.finish()?))
    }

    /// How many buckets.
    pub fn count(&self) -> usize {
        self.files.len()
    }

    /// How many rows in all.
    pub fn rows(&self) -> u64 {
        self.rows.iter().sum()
    }

    /// The rows of bucket `i`.
    async fn read(&self, i: usize) -> Result<Vec<RecordBatch>> {
        self.files[i].read_all()
    }

    /// Write every bucket to `keeper`, in order (a table built whole: no comparison).
    pub async fn keep_all(self, keeper: &mut KeyKeeper) -> Result<()> {
        for i in 0..self.count() {
            keeper.write_bucket(self.read(i).await?).await;
        }
        Ok(())
    }
}

/// Append `batch`'s rows to the pending rows of their buckets, writing a bucket's
/// pending rows to its spill file once they are [`SPILL_BATCH`].
fn scatter(batch: &RecordBatch, keys: usize, spills: &[std::sync::Mutex<Spill>]) -> Result<()> {
    let count = spills.len();
    let ids = bucket_ids(&batch.columns()[..keys], count)?;
    // Rows grouped by bucket, each group a slice of one batch.
    let rows: Vec<u32> = (0..ids.len() as u32).collect();
    let (order, starts) = grouped(&rows, |&i| ids[i as usize] as usize, count);
    let grouped = take_record_batch(batch, &UInt32Array::from(order))?;
    for (b, spill) in spills.iter().enumerate() {
        let n = starts[b + 1] - starts[b];
        if n == 0 {
            continue;
        }
        let mut s = spill.lock().map_err(spill_err)?;
        s.pending.push(grouped.slice(starts[b], n));
        s.pending_rows += n;
        s.rows += n as u64;
        if s.pending_rows >= SPILL_BATCH {
            s.write_pending()?;
        }
    }
    Ok(())
}

/// The table's side of a comparison: its keys kept by an earlier run, or bucketed now.
pub enum OldKeys {
    Kept(KeptKeys),
    Bucketed(Bucketed),
}

impl OldKeys {
    pub fn count(&self) -> usize {
        match self {
            OldKeys::Kept(k) => k.groups.len(),
            OldKeys::Bucketed(b) => b.count(),
        }
    }

    async fn read(&self, i: usize) -> Result<Vec<RecordBatch>> {
        match self {
            OldKeys::Kept(k) => k.read(i).await,
            OldKeys::Bucketed(b) => b.read(i).await,
        }
    }
}

/// What one bucket changes.
struct BucketDiff {
    changed: Rows,
    inserted: Vec<bool>,
    positions: Vec<u64>,
    gone: Rows,
    /// The least duplicated key of the snapshot's bucket and its count, and how many.
    duplicate: Option<(OwnedRow, u64)>,
    duplicated: u64,
}

/// One row of a bucket as compared: a 128-bit digest of its key (two xxHash64 of the
/// key's encoding; two different keys share one with a chance of about 2^-128), the
/// bits of its row hash ([`hash_bits`]), and its index in the bucket.
#[derive(Clone, Copy, Default)]
struct Digest {
    key: u128,
    row: u64,
    at: u32,
}

/// Call `f` with the 128-bit digest of each row's key (`keys`, one array a column):
/// two xxHash64 (seeds 1 and 2) of the key's encoding (see [`row_hash`]).
pub(crate) fn key_digests(keys: &[ArrayRef], mut f: impl FnMut(u128)) -> Result<()> {
    let n = keys.first().map_or(0, |k| k.len());
    encode_rows(keys, n, |k| {
        f((u128::from(XxHash64::oneshot(1, k)) << 64) | u128::from(XxHash64::oneshot(2, k)))
    })?;
    Ok(())
}

/// The first half of each row's [`key_digests`] (xxHash64, seed 1, of the key's
/// encoding): the 64-bit key digest of snapshot_diff's fingerprints, without the second
/// hash.
pub(crate) fn key_digests64(keys: &[ArrayRef], mut f: impl FnMut(u64)) -> Result<()> {
    let n = keys.first().map_or(0, |k| k.len());
    encode_rows(keys, n, |k| f(XxHash64::oneshot(1, k)))?;
    Ok(())
}

/// The [`Digest`]s of `batch`'s rows (`(key…, row_hash)`), in order, into `out`.
fn digests(batch: &RecordBatch, keys: usize, out: &mut Vec<Digest>) -> Result<()> {
    out.clear();
    out.reserve(batch.num_rows());
    key_digests(&batch.columns()[..keys], |key| out.push(Digest { key, row: 0, at: 0 }))?;
    let hashes = batch
        .column(keys)
        .as_primitive_opt::<UInt64Type>()
        .ok_or_else(|| Error::Internal("snapshot_diff compares row hash bits (UInt64)".into()))?;
    for (i, (d, h)) in out.iter_mut().zip(hashes.values()).enumerate() {
        d.row = *h;
        d.at = i as u32;
    }
    Ok(())
}

/// `digests` grouped into `parts` by bits of their key digest, into `out`: the group
/// of each part, one after another; returns where each part starts.
fn by_part(digests: &[Digest], parts: usize, out: &mut Vec<Digest>) -> Vec<usize> {
    grouped_into(digests, |d| (d.key as usize) & (parts - 1), parts, out)
}

/// The vectors a bucket's comparison fills, kept from one bucket to the next: a
/// bucket's digests are tens of MB, and fresh ones cost a page fault every 4 kB.
#[derive(Default)]
struct Scratch {
    digests: Vec<Digest>,
    new: Vec<Digest>,
    old: Vec<Digest>,
}

/// A counting sort of `items` by their group in `0..groups` (`id`): the items, group
/// after group (each in the items' order), and where each group starts (`groups + 1`
/// offsets). Each item is read twice in order and written once.
fn grouped<T: Copy + Default>(items: &[T], id: impl Fn(&T) -> usize, groups: usize) -> (Vec<T>, Vec<usize>) {
    let mut out = Vec::new();
    let starts = grouped_into(items, id, groups, &mut out);
    (out, starts)
}

/// [`grouped`] into `out` (its items replaced); returns where each group starts.
fn grouped_into<T: Copy + Default>(
    items: &[T],
    id: impl Fn(&T) -> usize,
    groups: usize,
    out: &mut Vec<T>,
) -> Vec<usize> {
    let mut starts = vec![0usize; groups + 1];
    for item in items {
        starts[id(item) + 1] += 1;
    }
    for g in 0..groups {
        starts[g + 1] += starts[g];
    }
    let mut next = starts.clone();
    out.clear();
    out.resize(items.len(), T::default());
    for item in items {
        let g = id(item);
        out[next[g]] = *item;
        next[g] += 1;
    }
    starts
}

/// Compare one bucket: the snapshot's rows `new` and the table's `old`, both
/// `(key…, row_hash)`. Keys are matched by their 128-bit digests, in parts of about
/// [`SUB_ROWS`] so that each part's hash table stays in the core's cache and no key's
/// bytes are read at random; the snapshot's keys are the hash table, the table's
/// probe it. Only the keys found changed are converted to rows.
fn compare_bucket(
    converter: &RowConverter,
    keys: usize,
    new: &[RecordBatch],
    old: &[RecordBatch],
    scratch: &mut Scratch,
) -> Result<BucketDiff> {
    let mut out = BucketDiff {
        changed: converter.empty_rows(0, 0),
        inserted: Vec::new(),
        positions: Vec::new(),
        gone: converter.empty_rows(0, 0),
        duplicate: None,
        duplicated: 0,
    };
    // The snapshot's side may say where its rows are ([`POSITION`]); the table's not.
    let (Some(new_schema), Some(old_schema)) = (
        new.first().or(old.first()).map(|b| b.schema()),
        old.first().or(new.first()).map(|b| b.schema()),
    ) else {
        return Ok(out);
    };
    let new = concat_batches(&new_schema, new)?;
    let old = concat_batches(&old_schema, old)?;
    let parts = (new.num_rows() / SUB_ROWS).next_power_of_two();
    digests(&new, keys, &mut scratch.digests)?;
    let new_starts = by_part(&scratch.digests, parts, &mut scratch.new);
    digests(&old, keys, &mut scratch.digests)?;
    let old_starts = by_part(&scratch.digests, parts, &mut scratch.old);
    let (new_d, old_d) = (&scratch.new, &scratch.old);
    let mut matched = vec![false; new.num_rows()];
    let mut changed: Vec<(u32, bool)> = Vec::new();
    let mut gone: Vec<u32> = Vec::new();
    let mut repeats: HashMap<u32, u64> = HashMap::new();
    let mut index: HashMap<u128, (u32, u64)> = HashMap::new();
    for p in 0..parts {
        index.clear();
        for d in &new_d[new_starts[p]..new_starts[p + 1]] {
            match index.entry(d.key) {
                Entry::Occupied(first) => *repeats.entry(first.get().0).or_insert(1) += 1,
                Entry::Vacant(v) => {
                    v.insert((d.at, d.row));
                }
            }
        }
        if !repeats.is_empty() {
            continue;
        }
        for d in &old_d[old_starts[p]..old_starts[p + 1]] {
            match index.get(&d.key) {
                None => gone.push(d.at),
                Some(&(i, row)) => {
                    if std::mem::replace(&mut matched[i as usize], true) {
                        return Err(Error::Internal(
                            "the table holds a key twice; rebuild it with --full-refresh".into(),
                        ));
                    }
                    if row != d.row {
                        changed.push((i, false));
                    }
                }
            }
        }
    }
    let rows_at = |batch: &RecordBatch, at: &[u32]| -> Result<Rows> {
        let at = UInt32Array::from(at.to_vec());
        let columns = batch.columns()[..keys]
            .iter()
            .map(|c| take(c.as_ref(), &at, None))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(converter.convert_columns(&columns)?)
    };
    if !repeats.is_empty() {
        let at: Vec<u32> = repeats.keys().copied().collect();
        let rows = rows_at(&new, &at)?;
        out.duplicated = repeats.len() as u64;
        out.duplicate = (0..at.len())
            .min_by(|&a, &b| rows.row(a).cmp(&rows.row(b)))
            .map(|k| (rows.row(k).owned(), repeats[&at[k]]));
        return Ok(out);
    }
    changed.extend(
        matched
            .iter()
            .enumerate()
            .filter(|(_, seen)| !**seen)
            .map(|(i, _)| (i as u32, true)),
    );
    let at: Vec<u32> = changed.iter().map(|c| c.0).collect();
    if let Some(p) = new.schema().index_of(POSITION).ok().map(|i| new.column(i)) {
        let p = p
            .as_primitive_opt::<UInt64Type>()
            .ok_or_else(|| Error::Internal(format!("snapshot_diff's {POSITION} must be UInt64")))?;
        out.positions = at.iter().map(|&i| p.value(i as usize)).collect();
    }
    out.changed = rows_at(&new, &at)?;
    out.inserted = changed.into_iter().map(|c| c.1).collect();
    out.gone = rows_at(&old, &gone)?;
    Ok(out)
}

/// Compare the snapshot's bucketed keys `new` with the table's `old` (None for an
/// empty table; bucketed alike), bucket by bucket, two at a time, each bucket's pair in
/// memory (reserved from `pool`). The snapshot's buckets are also written to `keeper`,
/// in order, when there is one.
pub async fn compare(
    converter: Arc<RowConverter>,
    keys: usize,
    new: Bucketed,
    old: Option<OldKeys>,
    mut keeper: Option<&mut KeyKeeper>,
    pool: &Arc<dyn MemoryPool>,
) -> Result<std::result::Result<Compared, Refused>> {
    if let Some(o) = &old
        && o.count() != new.count()
    {
        return Err(Error::Internal(format!(
            "{} buckets of the table's keys against {} of the snapshot's",
            o.count(),
            new.count()
        )));
    }
    let (new, old) = (Arc::new(new), Arc::new(old));
    let lanes = lanes();
    // A lane's vectors serve bucket after bucket (each within its bucket's reservation).
    let scratches = Arc::new(std::sync::Mutex::new(Vec::<Scratch>::new()));
    let mut buckets = futures::stream::iter(0..new.count())
        .map(|i| {
            let (new, old, converter, pool) = (new.clone(), old.clone(), converter.clone(), pool.clone());
            let scratches = scratches.clone();
            async move {
                let new_batches = new.read(i).await?;
                let old_batches = match old.as_ref() {
                    Some(o) => o.read(i).await?,
                    None => Vec::new(),
                };
                // Both sides, the snapshot's rows and their hash table (~2x its rows).
                let size: usize = new_batches
                    .iter()
                    .chain(&old_batches)
                    .map(|b| b.get_array_memory_size())
                    .sum();
                let memory = MemoryConsumer::new("snapshot_diff bucket").register(&pool);
                memory.try_grow(3 * size).map_err(|e| {
                    Error::Internal(format!(
                        "snapshot_diff: a bucket of {} keys does not fit the memory pool ({e}); raise --memory-limit",
                        new.rows[i]
                    ))
                })?;
                let stopped =
                    |e: &dyn std::fmt::Display| Error::Internal(format!("snapshot_diff's comparison stopped: {e}"));
                let mut scratch = scratches.lock().map_err(|e| stopped(&e))?.pop().unwrap_or_default();
                let (diff, scratch) = tokio::task::spawn_blocking(move || {
                    let diff = compare_bucket(&converter, keys, &new_batches, &old_batches, &mut scratch);
                    (diff.map(|d| (d, new_batches)), scratch)
                })
                .await
                .map_err(|e| stopped(&e))?;
                scratches.lock().map_err(|e| stopped(&e))?.push(scratch);
                let diff = diff?;
                Ok::<_, Error>((diff, memory))
            }
        })
        .buffered(lanes);
    let mut out = Compared {
        changed: converter.empty_rows(0, 0),
        inserted: Vec::new(),
        gone: converter.empty_rows(0, 0),
        positions: Vec::new(),
    };
    let mut duplicate: Option<(OwnedRow, u64)> = None;
    let mut duplicated = 0;
    while let Some(bucket) = buckets.next().await {
        let ((diff, batches), _memory) = bucket?;
        if let Some(k) = keeper.as_deref_mut() {
            // The keys and row hashes are kept, not where this snapshot had them.
            let kept = batches
                .iter()
                .map(|b| b.project(&(0..=keys).collect::<Vec<_>>()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            k.write_bucket(kept).await;
        }
        duplicated += diff.duplicated;
        if let Some((key, times)) = diff.duplicate
            && duplicate.as_ref().is_none_or(|(d, _)| key.row() < d.row())
        {
            duplicate = Some((key, times));
        }
        for row in diff.changed.iter() {
            out.changed.push(row);
        }
        out.inserted.extend(diff.inserted);
        out.positions.extend(diff.positions);
        for row in diff.gone.iter() {
            out.gone.push(row);
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

/// How many buckets are compared, or files read back, at a time: one per core, up to
/// four.
pub fn lanes() -> usize {
    crate::engine::cores().min(4)
}

/// A file that snapshot_diff wrote of the snapshot as it bucketed its keys: the rows
/// `first..first + rows` of the plan's partition `part`.
pub struct WrittenFile {
    /// Relative to the table's root.
    pub path: Path,
    pub part: usize,
    pub first: u64,
    pub rows: u64,
}

/// The [`POSITION`] of row `ordinal` of the snapshot plan's partition `part`.
pub fn position(part: usize, ordinal: u64) -> u64 {
    ((part as u64) << 40) | ordinal
}

/// The rows at `picks` (a [`position`] and a flag: new) read back from the `files`
/// that hold them, cast to `schema` (the files' columns, then `change_type`: `I` for a
/// new key, else `U`), in `lanes` spill files. Only the picked rows' values are
/// decoded ([`RowSelection`]).
pub async fn pick(
    store: &ObjectStoreRef,
    files: &[WrittenFile],
    mut picks: Vec<(u64, bool)>,
    schema: &SchemaRef,
    disk: &Arc<DiskManager>,
    lanes: usize,
) -> Result<Vec<Spilled>> {
    picks.sort_unstable_by_key(|p| p.0);
    // Each lane's files, each with its picks: rows of the file, and their flags.
    let mut work: Vec<Vec<FilePicks>> = (0..lanes.max(1)).map(|_| Vec::new()).collect();
    let mut order: Vec<&WrittenFile> = files.iter().collect();
    order.sort_by_key(|f| position(f.part, f.first));
    let mut next = 0;
    for (n, f) in order.into_iter().enumerate() {
        let (start, end) = (position(f.part, f.first), position(f.part, f.first + f.rows));
        while next < picks.len() && picks[next].0 < start {
            next += 1;
        }
        let from = next;
        while next < picks.len() && picks[next].0 < end {
            next += 1;
        }
        if from == next {
            continue;
        }
        let rows = picks[from..next].iter().map(|p| p.0 - start).collect();
        let flags = picks[from..next].iter().map(|p| p.1).collect();
        let lane = n % work.len();
        work[lane].push(FilePicks {
            path: f.path.clone(),
            rows,
            flags,
        });
    }
    let found: usize = work.iter().flatten().map(|w| w.rows.len()).sum();
    if found != picks.len() {
        return Err(Error::Internal(format!(
            "snapshot_diff: {} changed rows are in none of the files written",
            picks.len() - found
        )));
    }
    let mut lanes = tokio::task::JoinSet::new();
    for files in work {
        let (store, schema) = (store.clone(), schema.clone());
        let mut out = SpillOut::new(disk, &schema, "snapshot_diff change set")?;
        lanes.spawn(async move {
            for f in files {
                pick_file(&store, &f.path, &f.rows, &f.flags, &schema, &mut out).await?;
            }
            out.finish()
        });
    }
    let mut spilled = Vec::new();
    while let Some(done) = lanes.join_next().await {
        spilled.push(done.map_err(|e| Error::Internal(format!("snapshot_diff's change set stopped: {e}")))??);
    }
    Ok(spilled)
}

/// The rows of one file to read back ([`pick`]): ascending, each with its flag.
struct FilePicks {
    path: Path,
    rows: Vec<u64>,
    flags: Vec<bool>,
}

/// The `rows` (ascending) of the file at `path`, with `change_type` from their
/// `flags`, cast to `schema`, written to `out`.
async fn pick_file(
    store: &ObjectStoreRef,
    path: &Path,
    rows: &[u64],
    flags: &[bool],
    schema: &SchemaRef,
    out: &mut SpillOut,
) -> Result<()> {
    let failed = |e: ParquetError| {
        Error::Delta(deltalake::DeltaTableError::Generic(format!(
            "reading back {path}, written by this run: {e}"
        )))
    };
    let file = StoreFile::open(store, path.clone()).await?;
    let builder = ParquetRecordBatchStreamBuilder::new(file).await.map_err(failed)?;
    let total = builder.metadata().file_metadata().num_rows() as usize;
    let ranges = rows.iter().map(|&r| r as usize..r as usize + 1);
    let mut stream = builder
        .with_row_selection(RowSelection::from_consecutive_ranges(ranges, total))
        .with_batch_size(SPILL_BATCH)
        .build()
        .map_err(failed)?;
    let mut done = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(failed)?;
        let n = batch.num_rows();
        let kinds = flags
            .get(done..done + n)
            .ok_or_else(|| Error::Internal(format!("{path} gave more rows than were picked")))?;
        done += n;
        let mut columns = Vec::with_capacity(schema.fields().len());
        for field in schema.fields().iter().take(schema.fields().len() - 1) {
            let column = batch
                .column_by_name(field.name())
                .ok_or_else(|| Error::Internal(format!("{path} has no column {}", field.name())))?;
            columns.push(cast(column, field.data_type())?);
        }
        columns.push(Arc::new(StringArray::from_iter_values(
            kinds.iter().map(|&new| if new { "I" } else { "U" }),
        )));
        out.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
    }
    if done != rows.len() {
        return Err(Error::Internal(format!(
            "{path} gave {done} of the {} rows picked from it",
            rows.len()
        )));
    }
    Ok(())
}

/// Where lakemart keeps a snapshot_diff table's `(key…, row_hash)` for a version, one
/// bucket ([`bucket_ids`]) after another, relative to the table's root. Delta readers
/// and VACUUM leave `_`-prefixed folders alone; lakemart prunes it ([`KEPT_VERSIONS`]).
pub const KEPT_KEYS_DIR: &str = "_lakemart/keys";
/// Where releases before 2026-12-04 kept the keys sorted; removed when keys are kept.
pub(crate) const OLD_KEPT_KEYS_DIR: &str = "_lakemart/sorted_keys";
/// Versions whose keys are kept: the newest, and the one a re-run of the same
/// business date compares with (each is ~22 bytes a row: 875 MB for 40M accounts).
pub const KEPT_VERSIONS: usize = 2;
/// The kept file's key-value metadata: the row groups of each bucket, in order.
const BUCKETS_KEY: &str = "lakemart.xxh64_key_buckets";
/// The kept file's key-value metadata: whether the version was written whole (`true`)
/// or its changes rewrote part of it (`false`).
const WHOLE_KEY: &str = "lakemart.written_whole";

fn kept_path(version: u64) -> Path {
    Path::from(format!("{KEPT_KEYS_DIR}/v{version:020}.parquet"))
}

/// The keys and row hashes kept for a version of the table, by bucket.
pub struct KeptKeys {
    file: StoreFile,
    metadata: ArrowReaderMetadata,
    /// The row groups of each bucket.
    groups: Vec<Vec<usize>>,
    /// Whether the version was written whole (so the next is likely to be): true
    /// unless the keeper said otherwise.
    pub whole: bool,
}

impl KeptKeys {
    /// How many buckets.
    pub fn count(&self) -> usize {
        self.groups.len()
    }

    /// The keys kept for the table's `version`; None when none were kept, they lack
    /// `schema`'s columns and types, or their buckets have grown too big (then the
    /// caller buckets the table's own keys).
    pub async fn open(store: &ObjectStoreRef, version: u64, schema: &SchemaRef) -> Result<Option<KeptKeys>> {
        let path = kept_path(version);
        let size = match store.head(&path).await {
            Ok(meta) => meta.size,
            Err(deltalake::ObjectStoreError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(Error::Delta(e.into())),
        };
        let mut file = StoreFile {
            store: store.clone(),
            path: path.clone(),
            size,
        };
        let metadata = match ArrowReaderMetadata::load_async(&mut file, ArrowReaderOptions::new()).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("{path}: {e}; bucketing the table's keys instead");
                return Ok(None);
            }
        };
        if !same_columns(metadata.schema(), schema) {
            return Ok(None);
        }
        let meta = metadata.metadata();
        let value = |key: &str| {
            meta.file_metadata()
                .key_value_metadata()
                .and_then(|kv| kv.iter().find(|kv| kv.key == key))
                .and_then(|kv| kv.value.clone())
        };
        let listed = value(BUCKETS_KEY);
        let whole = value(WHOLE_KEY).is_none_or(|v| v != "false");
        let Some(counts) = listed.and_then(|v| {
            v.split(',')
                .map(|n| n.parse::<usize>().ok())
                .collect::<Option<Vec<_>>>()
        }) else {
            return Ok(None);
        };
        let mut groups = Vec::with_capacity(counts.len());
        let mut next = 0;
        for n in counts {
            groups.push((next..next + n).collect::<Vec<_>>());
            next += n;
        }
        let rows = meta.file_metadata().num_rows() as u64;
        if next != meta.num_row_groups() || groups.is_empty() || rows / groups.len() as u64 > MAX_KEPT_BUCKET_ROWS {
            return Ok(None);
        }
        Ok(Some(KeptKeys {
            file,
            metadata,
            groups,
            whole,
        }))
    }

    async fn read(&self, i: usize) -> Result<Vec<RecordBatch>> {
        if self.groups[i].is_empty() {
            return Ok(Vec::new());
        }
        let path = self.file.path.clone();
        let file = StoreFile {
            store: self.file.store.clone(),
            path: path.clone(),
            size: self.file.size,
        };
        let read = async {
            ParquetRecordBatchStreamBuilder::new_with_metadata(file, self.metadata.clone())
                .with_row_groups(self.groups[i].clone())
                .with_batch_size(1 << 16)
                .build()?
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<ParquetResult<Vec<_>>>()
        };
        read.await.map_err(|e| {
            Error::Delta(deltalake::DeltaTableError::Generic(format!(
                "reading {path} (the table's keys, kept by lakemart: delete the file and the table's \
                 keys are read instead): {e}"
            )))
        })
    }
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

/// Keeps the snapshot's `(key…, row_hash)` for the version a run commits, one bucket
/// after another ([`KeyKeeper::write_bucket`]) in one Parquet file whose metadata
/// lists the row groups of each bucket; the file takes the version's name once it is
/// committed ([`KeyKeeper::keep`]). Keeping is an optimisation: a failure is logged,
/// never the run's error.
pub struct KeyKeeper {
    store: ObjectStoreRef,
    temp: Path,
    /// To the writing task, one bucket at a time; None once it stopped.
    sender: Option<tokio::sync::mpsc::Sender<Vec<RecordBatch>>>,
    /// The writing task: the writer and the row groups of each bucket, or None after
    /// a failure.
    task: tokio::task::JoinHandle<Option<(AsyncArrowWriter<BufWriter>, Vec<usize>)>>,
}

impl KeyKeeper {
    /// A keeper writing run `run_id`'s file of `schema` (`(key…, row_hash)`), by a task
    /// of its own so that the comparison does not wait on Parquet encoding.
    pub fn new(store: ObjectStoreRef, run_id: &str, schema: SchemaRef) -> Result<KeyKeeper> {
        let temp = Path::from(format!("{KEPT_KEYS_DIR}/run-{run_id}.parquet"));
        // Keys and hashes are unique: no dictionaries; digits and hex digits barely
        // compress, and the file is read back whole: no compression, no statistics.
        let props = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::None)
            .set_max_row_group_row_count(Some(1 << 20))
            .build();
        let mut writer = AsyncArrowWriter::try_new(BufWriter::new(store.clone(), temp.clone()), schema, Some(props))
            .map_err(|e| Error::Delta(e.into()))?;
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<RecordBatch>>(2);
        let name = temp.clone();
        let task = tokio::spawn(async move {
            let mut groups = Vec::new();
            let mut ok = true;
            while let Some(batches) = receiver.recv().await {
                if !ok {
                    continue;
                }
                let before = writer.flushed_row_groups().len();
                let written = async {
                    for b in &batches {
                        writer.write(b).await?;
                    }
                    writer.flush().await
                };
                match written.await {
                    Ok(()) => groups.push(writer.flushed_row_groups().len() - before),
                    Err(e) => {
                        tracing::warn!("{name}: {e}; the table's keys are not kept");
                        ok = false;
                    }
                }
            }
            ok.then_some((writer, groups))
        });
        Ok(KeyKeeper {
            store,
            temp,
            sender: Some(sender),
            task,
        })
    }

    /// Write the next bucket's rows, as row groups of their own.
    pub async fn write_bucket(&mut self, batches: Vec<RecordBatch>) {
        if let Some(s) = &self.sender
            && s.send(batches).await.is_err()
        {
            self.sender = None;
        }
    }

    /// Keep the file as the keys of the table's `version` (written `whole`, or changed
    /// in part), and drop those of all but the newest [`KEPT_VERSIONS`] (and any kept
    /// by earlier releases).
    pub async fn keep(self, version: u64, whole: bool) {
        let temp = self.temp.clone();
        if let Err(e) = self.try_keep(version, whole).await {
            tracing::warn!("{temp}: {e}; the keys of version {version} are not kept");
        }
    }

    async fn try_keep(mut self, version: u64, whole: bool) -> Result<()> {
        drop(self.sender.take());
        let written = (&mut self.task)
            .await
            .map_err(|e| Error::Internal(format!("the keys' writer stopped: {e}")))?;
        let Some((mut file, groups)) = written else {
            return Ok(());
        };
        let counts: Vec<String> = groups.iter().map(usize::to_string).collect();
        file.append_key_value_metadata(KeyValue::new(BUCKETS_KEY.to_string(), counts.join(",")));
        file.append_key_value_metadata(KeyValue::new(WHOLE_KEY.to_string(), whole.to_string()));
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
        let mut earlier = self.store.list(Some(&Path::from(OLD_KEPT_KEYS_DIR)));
        while let Some(meta) = earlier.next().await {
            self.store.delete(&meta.map_err(delta)?.location).await.map_err(delta)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::arrow::array::{Int32Array, StringArray};
    use deltalake::arrow::datatypes::{Field, Schema};
    use deltalake::datafusion::execution::memory_pool::UnboundedMemoryPool;
    use deltalake::datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;

    /// `(k, row_hash)` batches; the hashes given as text, compared as their bits.
    fn stream(batches: &[(&[&str], &[&str])]) -> SendableRecordBatchStream {
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("row_hash", DataType::UInt64, false),
        ]));
        let batches: Vec<_> = batches
            .iter()
            .map(|(k, h)| {
                Ok(RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from(k.to_vec())) as ArrayRef,
                        Arc::new(UInt64Array::from_iter_values(h.iter().map(|h| bits_of(Some(h))))),
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

    type Side<'a> = &'a [(&'a [&'a str], &'a [&'a str])];

    async fn split(side: Side<'_>, count: usize) -> Bucketed {
        let disk = RuntimeEnvBuilder::new().build_arc().unwrap().disk_manager.clone();
        let Ok(b) = Bucketed::split(vec![stream(side)], 1, count, &disk).await.unwrap() else {
            panic!("refused")
        };
        b
    }

    /// The comparison of `new` with `old` in `count` buckets: changed keys (sorted,
    /// with I or U) and gone keys (sorted).
    async fn diff(new: Side<'_>, old: Side<'_>, count: usize) -> (Vec<(String, bool)>, Vec<String>) {
        let c = Arc::new(key_converter(&[DataType::Utf8]).unwrap());
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        let old = OldKeys::Bucketed(split(old, count).await);
        let Ok(d) = compare(c.clone(), 1, split(new, count).await, Some(old), None, &pool)
            .await
            .unwrap()
        else {
            panic!("refused")
        };
        let mut changed: Vec<_> = keys(&c, &d.changed).into_iter().zip(d.inserted).collect();
        changed.sort();
        let mut gone = keys(&c, &d.gone);
        gone.sort();
        (changed, gone)
    }

    #[tokio::test]
    async fn keys_are_classified_in_any_order_and_any_bucket_count() {
        let new: Side = &[(&["A5", "A2"], &["h5", "h2x"]), (&["A4", "A1"], &["h4", "h1"])];
        let old: Side = &[(&["A3", "A1"], &["h3", "h1"]), (&["A4", "A2"], &["h4", "h2"])];
        for count in [1, 2, 7] {
            let (changed, gone) = diff(new, old, count).await;
            assert_eq!(
                changed,
                [("A2".to_string(), false), ("A5".to_string(), true)],
                "{count} buckets"
            );
            assert_eq!(gone, ["A3"], "{count} buckets");
        }
    }

    #[tokio::test]
    async fn a_bucket_of_many_parts_finds_every_change() {
        // 40,000 keys in one bucket: parts of 16k keys are compared one at a time.
        let keys: Vec<String> = (0..40_000).map(|i| format!("K{i:05}")).collect();
        let k: Vec<&str> = keys.iter().map(String::as_str).collect();
        let old_h = vec!["h"; k.len()];
        let mut new_h = old_h.clone();
        for i in (0..k.len()).step_by(1000) {
            new_h[i] = "changed";
        }
        // The old side lacks the last key (new), the new side the first (gone).
        let old: Side = &[(&k[..k.len() - 1], &old_h[..k.len() - 1])];
        let new: Side = &[(&k[1..], &new_h[1..])];
        let (changed, gone) = diff(new, old, 1).await;
        let mut expected: Vec<(String, bool)> =
            (1000..40_000).step_by(1000).map(|i| (keys[i].clone(), false)).collect();
        expected.push(("K39999".to_string(), true));
        assert_eq!(changed, expected);
        assert_eq!(gone, ["K00000"]);
    }

    #[tokio::test]
    async fn a_repeated_key_is_refused_with_the_least_key_and_its_count() {
        let c = Arc::new(key_converter(&[DataType::Utf8]).unwrap());
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        let new: Side = &[(&["A3", "A2"], &["h", "h"]), (&["A2", "A3", "A2", "A1"], &["h"; 4])];
        let new = split(new, 3).await;
        let Err(Refused::Duplicate { key, times, keys: n }) =
            compare(c.clone(), 1, new, None, None, &pool).await.unwrap()
        else {
            panic!("not refused")
        };
        let a = c.convert_rows([key.row()]).unwrap();
        assert_eq!(a[0].as_string::<i32>().value(0), "A2");
        assert_eq!((times, n), (3, 2));
    }

    #[tokio::test]
    async fn a_null_key_is_refused() {
        let disk = RuntimeEnvBuilder::new().build_arc().unwrap().disk_manager.clone();
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("row_hash", DataType::UInt64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec![Some("A1"), None])) as ArrayRef,
                Arc::new(UInt64Array::from(vec![1, 1])),
            ],
        )
        .unwrap();
        let s = Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::iter([Ok(batch)]),
        ));
        assert!(matches!(
            Bucketed::split(vec![s], 1, 2, &disk).await.unwrap(),
            Err(Refused::NullKey)
        ));
    }

    #[tokio::test]
    async fn kept_keys_are_read_back_bucket_by_bucket() {
        let dir = tempfile::tempdir().unwrap();
        let store: ObjectStoreRef =
            Arc::new(deltalake::logstore::object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let c = Arc::new(key_converter(&[DataType::Utf8]).unwrap());
        let pool: Arc<dyn MemoryPool> = Arc::new(UnboundedMemoryPool::default());
        // Five buckets for three keys: some are empty.
        let day1: Side = &[(&["A1", "A2", "A3"], &["h1", "h2", "h3"])];
        let schema = stream(day1).schema();
        let mut keeper = KeyKeeper::new(store.clone(), "r1", schema.clone()).unwrap();
        split(day1, 5).await.keep_all(&mut keeper).await.unwrap();
        keeper.keep(3, false).await;
        let kept = KeptKeys::open(&store, 3, &schema).await.unwrap().expect("kept");
        assert_eq!(kept.groups.len(), 5);
        // Version 3 changed in part: the next comparison should not expect a whole write.
        assert!(!kept.whole);
        let day2: Side = &[(&["A4", "A2", "A1"], &["h4", "h2x", "h1"])];
        let Ok(d) = compare(
            c.clone(),
            1,
            split(day2, 5).await,
            Some(OldKeys::Kept(kept)),
            None,
            &pool,
        )
        .await
        .unwrap() else {
            panic!("refused")
        };
        let mut changed = keys(&c, &d.changed);
        changed.sort();
        assert_eq!(changed, ["A2", "A4"]);
        assert_eq!(keys(&c, &d.gone), ["A3"]);
        // Other key columns, or row hashes kept as text (before 2026-12-04): not used.
        let other = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int32, true),
            Field::new("row_hash", DataType::UInt64, false),
        ]));
        assert!(KeptKeys::open(&store, 3, &other).await.unwrap().is_none());
        let text = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Utf8, true),
            Field::new("row_hash", DataType::Utf8, true),
        ]));
        assert!(KeptKeys::open(&store, 3, &text).await.unwrap().is_none());
        assert!(KeptKeys::open(&store, 4, &schema).await.unwrap().is_none());
    }

    #[test]
    fn the_row_hash_is_stable_and_separates_columns() {
        let hash = |cols: Vec<ArrayRef>| {
            let n = cols[0].len();
            hash_rows(&cols, n)
                .unwrap()
                .into_iter()
                .map(|h| format!("{h:016x}"))
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

    #[test]
    fn the_row_hash_of_every_column_kind_does_not_drift() {
        // Every encoded kind, NULLs in each column, strings of several lengths: the hashes
        // releases up to 2026-12-06 computed (tables and fingerprints keep them).
        let n = 5;
        let cols: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![
                Some("A1"),
                None,
                Some(""),
                Some("0123456789abcdefXYZ"),
                Some("é"),
            ])),
            Arc::new(deltalake::arrow::array::LargeStringArray::from(vec![
                Some("x"),
                Some("yy"),
                None,
                Some(""),
                Some("z"),
            ])),
            Arc::new(deltalake::arrow::array::StringViewArray::from(vec![
                Some("long enough to be out of line"),
                None,
                Some("s"),
                Some(""),
                Some("v"),
            ])),
            Arc::new(deltalake::arrow::array::BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                Some(false),
            ])),
            Arc::new(deltalake::arrow::array::Int8Array::from(vec![
                Some(-1),
                Some(0),
                Some(7),
                None,
                Some(127),
            ])),
            Arc::new(deltalake::arrow::array::Int16Array::from(vec![
                Some(-300),
                None,
                Some(0),
                Some(1),
                Some(2),
            ])),
            Arc::new(Int32Array::from(vec![Some(7), Some(-7), None, Some(i32::MAX), Some(0)])),
            Arc::new(Int64Array::from(vec![Some(i64::MIN), Some(1), Some(2), Some(3), None])),
            Arc::new(deltalake::arrow::array::UInt8Array::from(vec![
                Some(255),
                None,
                Some(1),
                Some(2),
                Some(3),
            ])),
            Arc::new(deltalake::arrow::array::UInt16Array::from(vec![
                Some(65535),
                Some(0),
                None,
                Some(2),
                Some(3),
            ])),
            Arc::new(deltalake::arrow::array::UInt32Array::from(vec![
                Some(u32::MAX),
                Some(0),
                Some(1),
                None,
                Some(3),
            ])),
            Arc::new(deltalake::arrow::array::UInt64Array::from(vec![
                Some(u64::MAX),
                Some(0),
                Some(1),
                Some(2),
                None,
            ])),
            Arc::new(deltalake::arrow::array::Date32Array::from(vec![
                None,
                Some(19905),
                Some(-1),
                Some(0),
                Some(2932896),
            ])),
            Arc::new(
                deltalake::arrow::array::Decimal128Array::from(vec![
                    Some(93649),
                    Some(-5),
                    None,
                    Some(0),
                    Some(i128::MAX),
                ])
                .with_precision_and_scale(38, 2)
                .unwrap(),
            ),
            Arc::new(deltalake::arrow::array::Float32Array::from(vec![
                Some(1.5),
                Some(-0.0),
                Some(f32::NAN),
                None,
                Some(3.25),
            ])),
            Arc::new(deltalake::arrow::array::Float64Array::from(vec![
                Some(0.1),
                None,
                Some(f64::INFINITY),
                Some(-2.5),
                Some(0.0),
            ])),
        ];
        let hashes: Vec<String> = hash_rows(&cols, n)
            .unwrap()
            .iter()
            .map(|h| format!("{h:016x}"))
            .collect();
        assert_eq!(
            hashes,
            [
                "d1c127b391ee2a4f",
                "54cb23fedcd02f84",
                "71ff284d4cf11b76",
                "ae26995ac2eec25f",
                "03464f7e51ac3602"
            ]
        );
        // Each row alone, as a batch of one, hashes the same.
        for (i, h) in hashes.iter().enumerate() {
            let one: Vec<ArrayRef> = cols.iter().map(|c| c.slice(i, 1)).collect();
            assert_eq!(&format!("{:016x}", hash_rows(&one, 1).unwrap()[0]), h, "row {i}");
        }
        // And a key's digest halves are the same encoding's other seeds.
        let mut digests = Vec::new();
        key_digests(&cols[..1], |d| digests.push(format!("{d:032x}"))).unwrap();
        assert_eq!(
            digests,
            [
                "a7487524612a8bcd1a6b0918be8d428c",
                "771917c7f6ee2451d7a8a58da712de2d",
                "70f97f7d52c14548fe529d80a46f8630",
                "5db6ca4fcee481cac46f58f0552ac2d1",
                "68c005ddb3c139d71fb4248a6a0c884e"
            ]
        );
        // The fingerprints' 64-bit digest is the first half.
        let mut halves = Vec::new();
        key_digests64(&cols[..1], |d| halves.push(format!("{d:016x}"))).unwrap();
        let firsts: Vec<String> = digests.iter().map(|d| d[..16].to_string()).collect();
        assert_eq!(halves, firsts);
    }

    #[test]
    fn a_bigint_row_hash_has_the_bits_its_hex_digits_spell() {
        let h = 0x9e7c_0af6_263f_a6e9u64;
        let signed: ArrayRef = Arc::new(Int64Array::from(vec![Some(h as i64), Some(-1), Some(0), None]));
        let bits = bits_of_hashes(&signed).unwrap();
        assert_eq!(bits.values().as_ref(), [h, u64::MAX, 0, bits_of(None)]);
        // As text: the digits an earlier release stored, which read back to the same bits.
        let text = Out::Text.array(bits.values(), signed.logical_nulls().as_ref());
        let text = text.as_string::<i32>();
        assert_eq!(
            text.iter().collect::<Vec<_>>(),
            [
                Some("9e7c0af6263fa6e9"),
                Some("ffffffffffffffff"),
                Some("0000000000000000"),
                None
            ]
        );
        let again = bits_of_hashes(&(Arc::new(text.clone()) as ArrayRef)).unwrap();
        assert_eq!(again.values(), bits.values());
        let back = Out::Signed.array(again.values(), text.logical_nulls().as_ref());
        assert_eq!(back.as_ref(), signed.as_ref());
    }

    #[test]
    fn hash_bits_read_the_hex_digits_back_and_set_other_hashes_apart() {
        assert_eq!(bits_of(Some("1e7c0af6263fa6e9")), 0x1e7c_0af6_263f_a6e9);
        assert_eq!(bits_of(Some("0000000000000000")), 0);
        assert_eq!(bits_of(Some("ffffffffffffffff")), u64::MAX);
        // An md5 (32 digits), upper case, text, and NULL: bits of their own, each apart.
        let md5 = "9e107d9d372bb6826bd81d3542a419d6";
        let others = [
            Some(md5),
            Some("1E7C0AF6263FA6E9"),
            Some("1e7c0af6263fa6eg"),
            Some(" 1e7c0af6263fa6e"),
            Some(""),
            None,
        ];
        let bits: Vec<u64> = others.iter().map(|h| bits_of(*h)).collect();
        for (i, b) in bits.iter().enumerate() {
            assert!(bits[..i].iter().all(|a| a != b), "{others:?} -> {bits:?}");
            assert_ne!(*b, 0x1e7c_0af6_263f_a6e9);
        }
    }
}
