//! Writing records: delimited, fixed-width (byte widths of the encoded line) and
//! Parquet (row groups), UTF-8/GBK/GB18030, each through a `BufWriter`; control files.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::parquet::arrow::ArrowWriter;
use deltalake::parquet::file::properties::WriterProperties;
use encoding_rs::Encoding;

use super::spec::{Col, Format};
use crate::error::{Error, Result};

/// Rows per Parquet row group (and per batch held in memory).
const ROW_GROUP: usize = 32 * 1024;

/// A file being written.
pub struct Sink {
    path: PathBuf,
    kind: Kind,
    /// Records written (header excluded).
    pub rows: u64,
    /// Sum, in units of 10^-scale, of the control-sum column over records whose value parses.
    pub sum: i128,
}

#[allow(clippy::large_enum_variant)] // one per open file, two files at a time
enum Kind {
    Text {
        out: BufWriter<File>,
        format: Format,
        encoding: Option<&'static Encoding>,
        widths: Vec<(usize, bool)>,
        line: Vec<u8>,
        bytes: u64,
    },
    Parquet {
        writer: ArrowWriter<BufWriter<File>>,
        schema: Arc<Schema>,
        columns: Vec<Builder>,
        pending: usize,
    },
}

enum Builder {
    Str(StringBuilder),
    Bool(BooleanBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    F64(Float64Builder),
    Dec(Decimal128Builder, u8, i8),
    Date(Date32Builder),
    Ts(TimestampMicrosecondBuilder),
}

fn data_type(ty: &str) -> DataType {
    match crate::project::ColumnType::parse(ty) {
        Some(t) => t.data_type(),
        None => DataType::Utf8,
    }
}

impl Sink {
    /// Create `path` (and its directory) for a table of `columns`.
    pub fn create(path: &Path, format: Format, encoding: &str, columns: &[Col]) -> Result<Sink> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        let out = BufWriter::with_capacity(256 * 1024, file);
        let kind = match format {
            Format::Parquet => {
                let fields: Vec<Field> = columns
                    .iter()
                    .map(|c| Field::new(c.name, data_type(c.ty), true))
                    .collect();
                let schema = Arc::new(Schema::new(fields));
                let props = WriterProperties::builder()
                    .set_max_row_group_row_count(Some(ROW_GROUP))
                    .build();
                let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))
                    .map_err(|e| Error::Internal(format!("parquet writer for {}: {e}", path.display())))?;
                let columns = columns.iter().map(|c| builder(&data_type(c.ty))).collect();
                Kind::Parquet {
                    writer,
                    schema,
                    columns,
                    pending: 0,
                }
            }
            _ => {
                let encoding = match encoding {
                    "gbk" => Some(encoding_rs::GBK),
                    "gb18030" => Some(encoding_rs::GB18030),
                    _ => None,
                };
                let mut sink = Kind::Text {
                    out,
                    format,
                    encoding,
                    widths: columns.iter().map(|c| (c.width, c.numeric())).collect(),
                    line: Vec::with_capacity(1024),
                    bytes: 0,
                };
                if let Format::Delimited { header: true, .. } = format {
                    let names: Vec<String> = columns.iter().map(|c| c.name.to_string()).collect();
                    write_text(&mut sink, &names, names.len(), path)?;
                }
                sink
            }
        };
        Ok(Sink {
            path: path.to_path_buf(),
            kind,
            rows: 0,
            sum: 0,
        })
    }

    /// Write one record of the first `n` fields (fewer than all: a malformed record).
    pub fn write(&mut self, fields: &[String], n: usize) -> Result<()> {
        self.rows += 1;
        match &mut self.kind {
            Kind::Parquet {
                writer,
                schema,
                columns,
                pending,
            } => {
                for (b, v) in columns.iter_mut().zip(fields) {
                    append(b, v);
                }
                *pending += 1;
                if *pending >= ROW_GROUP {
                    flush_batch(writer, schema, columns, &self.path)?;
                    *pending = 0;
                }
                Ok(())
            }
            kind => write_text(kind, fields, n, &self.path),
        }
    }

    /// Close the file; its size in bytes.
    pub fn finish(self) -> Result<u64> {
        let path = self.path;
        match self.kind {
            Kind::Text { mut out, bytes, .. } => {
                out.flush().map_err(|e| Error::io(&path, e))?;
                Ok(bytes)
            }
            Kind::Parquet {
                mut writer,
                schema,
                mut columns,
                pending,
            } => {
                if pending > 0 {
                    flush_batch(&mut writer, &schema, &mut columns, &path)?;
                }
                writer
                    .close()
                    .map_err(|e| Error::Internal(format!("parquet writer for {}: {e}", path.display())))?;
                Ok(std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len())
            }
        }
    }
}

fn write_text(kind: &mut Kind, fields: &[String], n: usize, path: &Path) -> Result<()> {
    let Kind::Text {
        out,
        format,
        encoding,
        widths,
        line,
        bytes,
    } = kind
    else {
        return Ok(());
    };
    line.clear();
    match *format {
        Format::Delimited { delimiter, quote, .. } => {
            let mut text = String::with_capacity(256);
            for (i, f) in fields[..n].iter().enumerate() {
                if i > 0 {
                    text.push_str(delimiter);
                }
                if quote && (f.contains(delimiter) || f.contains('"') || f.contains('\n')) {
                    text.push('"');
                    text.push_str(&f.replace('"', "\"\""));
                    text.push('"');
                } else {
                    text.push_str(f);
                }
            }
            encode_into(line, &text, *encoding);
        }
        Format::Fixed => {
            for (f, (width, right)) in fields[..n].iter().zip(widths.iter()) {
                let mut field = Vec::with_capacity(*width);
                encode_into(&mut field, f, *encoding);
                let mut s = f.as_str();
                while field.len() > *width && !s.is_empty() {
                    // Too long for its field: cut whole characters off the end.
                    let mut cut = s.len() - 1;
                    while !s.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    s = &s[..cut];
                    field.clear();
                    encode_into(&mut field, s, *encoding);
                }
                let pad = width - field.len();
                if *right {
                    line.extend(std::iter::repeat_n(b' ', pad));
                    line.extend_from_slice(&field);
                } else {
                    line.extend_from_slice(&field);
                    line.extend(std::iter::repeat_n(b' ', pad));
                }
            }
        }
        Format::Parquet => {}
    }
    line.push(b'\n');
    out.write_all(line).map_err(|e| Error::io(path, e))?;
    *bytes += line.len() as u64;
    Ok(())
}

fn encode_into(out: &mut Vec<u8>, text: &str, encoding: Option<&'static Encoding>) {
    match encoding {
        None => out.extend_from_slice(text.as_bytes()),
        Some(enc) => {
            let (bytes, _, _) = enc.encode(text);
            out.extend_from_slice(&bytes);
        }
    }
}

fn builder(ty: &DataType) -> Builder {
    match ty {
        DataType::Boolean => Builder::Bool(BooleanBuilder::new()),
        DataType::Int32 => Builder::I32(Int32Builder::new()),
        DataType::Int64 => Builder::I64(Int64Builder::new()),
        DataType::Float64 => Builder::F64(Float64Builder::new()),
        DataType::Decimal128(p, s) => Builder::Dec(Decimal128Builder::new(), *p, *s),
        DataType::Date32 => Builder::Date(Date32Builder::new()),
        DataType::Timestamp(_, _) => Builder::Ts(TimestampMicrosecondBuilder::new()),
        _ => Builder::Str(StringBuilder::new()),
    }
}

fn append(b: &mut Builder, v: &str) {
    let v = v.trim();
    match b {
        Builder::Str(b) => b.append_value(v),
        Builder::Bool(b) => b.append_option(match v {
            "Y" | "y" | "true" | "1" => Some(true),
            "N" | "n" | "false" | "0" => Some(false),
            _ => None,
        }),
        Builder::I32(b) => b.append_option(v.parse().ok()),
        Builder::I64(b) => b.append_option(v.parse().ok()),
        Builder::F64(b) => b.append_option(v.parse().ok()),
        Builder::Dec(b, _, s) => b.append_option(parse_decimal(v, *s as u32)),
        Builder::Date(b) => b.append_option(
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .map(|d| (d - chrono::NaiveDate::default()).num_days() as i32 + EPOCH_1970_OFFSET),
        ),
        Builder::Ts(b) => b.append_option(
            chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc().timestamp_micros()),
        ),
    }
}

/// `NaiveDate::default()` is 1970-01-01, so no offset is needed.
const EPOCH_1970_OFFSET: i32 = 0;

/// Parse decimal text into units of 10^-scale; None when it does not fit the scale.
pub fn parse_decimal(v: &str, scale: u32) -> Option<i128> {
    let (neg, v) = match v.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if int.is_empty() || frac.len() > scale as usize || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut x: i128 = int.parse().ok()?;
    for i in 0..scale as usize {
        x = x * 10 + frac.as_bytes().get(i).map_or(0, |b| (b - b'0') as i128);
    }
    Some(if neg { -x } else { x })
}

fn flush_batch(
    writer: &mut ArrowWriter<BufWriter<File>>,
    schema: &Arc<Schema>,
    columns: &mut [Builder],
    path: &Path,
) -> Result<()> {
    let arrays: Vec<ArrayRef> = columns
        .iter_mut()
        .map(|b| -> ArrayRef {
            match b {
                Builder::Str(b) => Arc::new(b.finish()),
                Builder::Bool(b) => Arc::new(b.finish()),
                Builder::I32(b) => Arc::new(b.finish()),
                Builder::I64(b) => Arc::new(b.finish()),
                Builder::F64(b) => Arc::new(b.finish()),
                Builder::Dec(b, p, s) => Arc::new(
                    b.finish()
                        .with_precision_and_scale(*p, *s)
                        .unwrap_or_else(|_| deltalake::arrow::array::Decimal128Array::from(Vec::<i128>::new())),
                ),
                Builder::Date(b) => Arc::new(b.finish()),
                Builder::Ts(b) => Arc::new(b.finish()),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| Error::Internal(format!("parquet batch for {}: {e}", path.display())))?;
    writer
        .write(&batch)
        .map_err(|e| Error::Internal(format!("parquet writer for {}: {e}", path.display())))
}

/// Write a control file: the declared fields in order, joined by the delimiter.
pub fn write_control(
    path: &Path,
    layout: (&str, &[&str]),
    rows: u64,
    sum: Option<(i128, u32)>,
    bytes: u64,
    biz_date: &str,
) -> Result<u64> {
    let (delimiter, fields) = layout;
    let values: Vec<String> = fields
        .iter()
        .map(|f| match *f {
            "rows" => rows.to_string(),
            "sum" => match sum {
                Some((units, scale)) => decimal_text(units, scale),
                None => "0.00".into(),
            },
            "bytes" => bytes.to_string(),
            "biz_date" => biz_date.to_string(),
            "file_name" => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            _ => String::new(),
        })
        .collect();
    let text = format!("{}\n", values.join(delimiter));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(path, &text).map_err(|e| Error::io(path, e))?;
    Ok(text.len() as u64)
}

/// Units of 10^-scale as decimal text.
pub fn decimal_text(units: i128, scale: u32) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let u = units.unsigned_abs();
    if scale == 0 {
        return format!("{sign}{u}");
    }
    let p = 10u128.pow(scale);
    format!("{sign}{}.{:0width$}", u / p, u % p, width = scale as usize)
}
