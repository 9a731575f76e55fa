//! The project a model developer edits: `lakemart.toml`, `models/` and `sql/`
//! read into a [`Project`]. Reading never touches data.
//!
//! Problems that belong to one file (a malformed TOML, a metadata entry with no
//! SQL) are collected as [`Diagnostic`]s so that `compile` reports them all at once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use deltalake::arrow::datatypes::{DataType, TimeUnit};
use serde::Deserialize;
use toml::Spanned;

use crate::error::{Diagnostic, Error, Result};

/// The four layers, bottom to top. A model reads its own layer or lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Staged source extracts, written by ingest.
    Src,
    /// Cleansed, integrated by subject area.
    Foundation,
    /// Customer and customer-month summaries.
    Aggregation,
    /// Customer 360, tags, scores, modelling tables.
    Application,
}

impl Layer {
    /// The model layers, bottom to top.
    pub const MODEL_LAYERS: [Layer; 3] = [Layer::Foundation, Layer::Aggregation, Layer::Application];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Src => "src",
            Layer::Foundation => "foundation",
            Layer::Aggregation => "aggregation",
            Layer::Application => "application",
        }
    }

    pub fn parse(name: &str) -> Option<Layer> {
        match name {
            "src" => Some(Layer::Src),
            "foundation" => Some(Layer::Foundation),
            "aggregation" => Some(Layer::Aggregation),
            "application" => Some(Layer::Application),
            _ => None,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A column type as written in a source definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int,
    BigInt,
    Decimal(u8, i8),
    Double,
    Boolean,
    Date,
    Timestamp,
}

impl ColumnType {
    /// Parse `string`, `int`, `bigint`, `decimal(p,s)`, `double`, `boolean`, `date`, `timestamp`.
    pub fn parse(text: &str) -> Option<ColumnType> {
        let t = text.trim().to_ascii_lowercase();
        Some(match t.as_str() {
            "string" | "varchar" | "text" => ColumnType::String,
            "int" | "integer" => ColumnType::Int,
            "bigint" | "long" => ColumnType::BigInt,
            "double" | "float" => ColumnType::Double,
            "boolean" | "bool" => ColumnType::Boolean,
            "date" => ColumnType::Date,
            "timestamp" => ColumnType::Timestamp,
            _ => {
                let inner = t.strip_prefix("decimal(")?.strip_suffix(')')?;
                let (p, s) = inner.split_once(',')?;
                let p: u8 = p.trim().parse().ok()?;
                let s: i8 = s.trim().parse().ok()?;
                if p == 0 || p > 38 || s < 0 || s as u8 > p {
                    return None;
                }
                ColumnType::Decimal(p, s)
            }
        })
    }

    /// The arrow type a staged column has.
    pub fn data_type(&self) -> DataType {
        match self {
            ColumnType::String => DataType::Utf8,
            ColumnType::Int => DataType::Int32,
            ColumnType::BigInt => DataType::Int64,
            ColumnType::Decimal(p, s) => DataType::Decimal128(*p, *s),
            ColumnType::Double => DataType::Float64,
            ColumnType::Boolean => DataType::Boolean,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }
}

/// Extract file formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileFormat {
    /// Delimited text: any delimiter string, an optional quote character, an optional header line.
    Delimited {
        delimiter: String,
        quote: Option<char>,
        header: bool,
    },
    /// Fixed-width text: each column has a byte position ([`SourceColumn::position`]).
    Fixed,
    Parquet,
}

impl FileFormat {
    /// A short name for people: `delimited '|@|'`, `fixed`, `parquet`.
    pub fn describe(&self) -> String {
        match self {
            FileFormat::Delimited { delimiter, header, .. } => format!(
                "delimited '{}'{}",
                delimiter.escape_debug(),
                if *header { " with header" } else { "" }
            ),
            FileFormat::Fixed => "fixed-width".into(),
            FileFormat::Parquet => "parquet".into(),
        }
    }
}

/// The character encoding of a text extract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Gbk,
    Gb18030,
}

impl TextEncoding {
    pub fn parse(name: &str) -> Option<TextEncoding> {
        match name.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "utf8" => Some(TextEncoding::Utf8),
            "gbk" | "cp936" => Some(TextEncoding::Gbk),
            "gb18030" => Some(TextEncoding::Gb18030),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Gbk => "GBK",
            TextEncoding::Gb18030 => "GB18030",
        }
    }
}

/// A cleansing rule that can be hard (reject the row) or soft (NULL the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    Map,
    Type,
    Check,
    Pattern,
    Range,
}

impl Rule {
    pub const ALL: [Rule; 5] = [Rule::Map, Rule::Type, Rule::Check, Rule::Pattern, Rule::Range];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Map => "map",
            Rule::Type => "type",
            Rule::Check => "check",
            Rule::Pattern => "pattern",
            Rule::Range => "range",
        }
    }
}

/// A built-in format check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// 18-character PRC resident identity number with its ISO 7064 MOD 11-2 check character.
    ResidentId,
    /// 11-digit mainland mobile number.
    Mobile,
    Email,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::ResidentId => "resident_id",
            Check::Mobile => "mobile",
            Check::Email => "email",
        }
    }
}

/// One column of a source extract table, with its cleansing rules.
#[derive(Debug, Clone)]
pub struct SourceColumn {
    pub name: String,
    pub ty: ColumnType,
    pub description: String,
    pub pii: bool,
    /// The source layout of a date or timestamp, as a chrono format (`%Y%m%d`).
    pub date_format: Option<String>,
    /// The same layout as written in the definition (`yyyyMMdd`), for messages.
    pub format_text: Option<String>,
    pub trim: bool,
    pub null_values: Vec<String>,
    pub required: bool,
    /// Code mapping: source value → code.
    pub map: Option<Vec<(String, String)>>,
    pub check: Option<Check>,
    pub pattern: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    /// Rules whose failure only NULLs the value (soft); the others reject the row.
    pub soft: Vec<Rule>,
    /// Fixed-width: 0-based byte offset and byte length.
    pub position: Option<(usize, usize)>,
}

impl SourceColumn {
    pub fn is_soft(&self, rule: Rule) -> bool {
        self.soft.contains(&rule)
    }
}

/// One extract table of a source system, staged as `src.<system>_<table>`.
#[derive(Debug, Clone)]
pub struct SourceTable {
    /// The source system, e.g. `core`.
    pub system: String,
    /// The extract table within the system, e.g. `customer`.
    pub table: String,
    pub description: String,
    /// File name pattern under the landing directory.
    pub file: String,
    pub format: FileFormat,
    pub encoding: TextEncoding,
    pub primary_key: Vec<String>,
    /// With a primary key: keep the row with the greatest value of this column per key.
    pub dedup_order_by: Option<String>,
    /// More rejected rows than this fail the table.
    pub max_rejects: u64,
    /// A larger share of the rows read rejected fails the table, however few: a file
    /// whose rows are nearly all rejected has another layout than the one declared.
    pub max_reject_rate: f64,
    /// An empty (0-byte) extract is loaded as no rows instead of failing.
    pub allow_empty: bool,
    /// The control file that lands with the extract, if the system sends one.
    pub control: Option<ControlFile>,
    pub columns: Vec<SourceColumn>,
    /// The definition file, relative to the project root.
    pub toml_path: PathBuf,
}

/// A control file: its name pattern, its layout, and the column whose sum it carries.
#[derive(Debug, Clone)]
pub struct ControlFile {
    pub file: String,
    pub sum_column: Option<String>,
    /// The field separator; None splits on any of `|`, `,`, tab and spaces.
    pub delimiter: Option<String>,
    /// The fields of its first line, by position: `rows`, `sum`, `bytes`, or ignored names.
    pub fields: Vec<String>,
}

impl SourceTable {
    /// The staged table's name in the `src` layer: `<system>_<table>`.
    pub fn staged_name(&self) -> String {
        format!("{}_{}", self.system, self.table)
    }

    /// The fully qualified name: `src.<system>_<table>`.
    pub fn qualified_name(&self) -> String {
        format!("src.{}", self.staged_name())
    }
}

/// Documentation of one model column.
#[derive(Debug, Clone)]
pub struct ColumnMeta {
    pub name: String,
    pub description: String,
    pub pii: bool,
    /// Line of the column entry in the metadata file.
    pub line: usize,
}

/// A model's metadata from `models/<layer>/<subject>.toml`.
#[derive(Debug, Clone)]
pub struct ModelMeta {
    pub description: String,
    pub materialization: Materialization,
    /// Free labels for selection (`--select tag:daily`).
    pub tags: Vec<String>,
    /// Columns `lakemart maintain` Z-orders the table by.
    pub zorder: Vec<String>,
    /// Data tests run right after the model is built, each with its line in the file.
    pub tests: Vec<(crate::datatest::DataTestSpec, usize)>,
    /// Key of merge, scd2 and snapshot_diff models.
    pub unique_key: Vec<String>,
    /// Columns a merge updates (default: every non-key column).
    pub update_columns: Option<Vec<String>>,
    /// A predicate over incoming rows: a merge deletes the matching table row.
    pub delete_when: Option<String>,
    /// Partition columns of `partition` models.
    pub partition_by: Vec<String>,
    /// Columns whose change opens a new scd2 version (default: every non-key column).
    pub tracked_columns: Option<Vec<String>>,
    /// What an scd2 model's SQL returns: a full snapshot, or a change set.
    pub scd2_input: Scd2Input,
    pub on_schema_change: OnSchemaChange,
    /// DataFusion settings for this model's query only (`[models.settings]`), by their
    /// full names (`datafusion.optimizer.prefer_hash_join`); checked when the project is read.
    pub settings: BTreeMap<String, String>,
    pub columns: Vec<ColumnMeta>,
    /// The metadata file, relative to the project root.
    pub file: PathBuf,
    /// Line of the model entry in the metadata file.
    pub line: usize,
}

/// How a model's result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Materialization {
    /// Full rebuild: the table is overwritten by every run.
    #[default]
    Table,
    /// Upsert on `unique_key`.
    Merge,
    /// Replace exactly the `partition_by` values the run produces.
    Partition,
    /// Append once per business date.
    Append,
    /// History as a zipper table (valid_from, valid_to, is_current).
    Scd2,
    /// Compare a full snapshot with the table and apply only the changes.
    SnapshotDiff,
}

impl Materialization {
    pub fn parse(text: &str) -> Option<Materialization> {
        Some(match text {
            "table" => Materialization::Table,
            "merge" => Materialization::Merge,
            "partition" => Materialization::Partition,
            "append" => Materialization::Append,
            "scd2" => Materialization::Scd2,
            "snapshot_diff" => Materialization::SnapshotDiff,
            _ => return None,
        })
    }

    /// Whether a run builds on what the table already holds.
    pub fn is_incremental(self) -> bool {
        self != Materialization::Table
    }

    /// Whether the table is kept by `unique_key` (merge, snapshot_diff, scd2): written
    /// sorted by it, and rewritten in place by the day's changes.
    pub fn is_keyed(self) -> bool {
        matches!(
            self,
            Materialization::Merge | Materialization::SnapshotDiff | Materialization::Scd2
        )
    }
}

/// What an scd2 model's SQL returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scd2Input {
    /// The full current snapshot, one row per key: a key missing from it is closed.
    #[default]
    Snapshot,
    /// This date's change set, one row per changed key with a `change_type` of `I`,
    /// `U` or `D` (as a snapshot_diff model writes to `<model>_changes`): keys not in
    /// it are left alone.
    Changes,
}

/// What an incremental model does when its SQL's columns differ from the table's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnSchemaChange {
    /// Stop the model, listing added, removed and retyped columns.
    #[default]
    Fail,
    /// Add new columns; removed or retyped ones still fail.
    AppendNewColumns,
    /// Rebuild the table in the new schema from this run's rows.
    Sync,
}

/// One model: a SELECT in `sql/<layer>/<subject>/<name>.sql`.
#[derive(Debug, Clone)]
pub struct Model {
    /// `layer.stem`, e.g. `foundation.customer`.
    pub name: String,
    pub layer: Layer,
    pub subject: String,
    /// The SQL file, relative to the project root.
    pub sql_path: PathBuf,
    pub sql: String,
    pub meta: Option<ModelMeta>,
}

impl Model {
    /// The table name inside its layer (the file stem).
    pub fn table(&self) -> &str {
        self.name.split_once('.').map(|(_, t)| t).unwrap_or(&self.name)
    }
}

/// A whole lakemart project.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project directory.
    pub root: PathBuf,
    pub name: String,
    /// The lakehouse location from `lakemart.toml`: a URL, or a path relative to `root`.
    pub lakehouse: String,
    /// Where extracts land, one directory per business date.
    pub landing: PathBuf,
    /// Source tables by qualified name (`src.core_customer`).
    pub sources: BTreeMap<String, SourceTable>,
    /// Models by name (`foundation.customer`).
    pub models: BTreeMap<String, Model>,
    /// Problems found while reading, reported by `compile`.
    pub diagnostics: Vec<Diagnostic>,
    /// `[serve]`: how `lakemart serve` listens and whom it lets in.
    pub serve: ServeSettings,
    /// Low-code tags and scorecards (`models/application/tags.toml`, `scores.toml`),
    /// when either file exists; `crate::lowcode` turns them into columns and models.
    pub lowcode: Option<std::sync::Arc<crate::lowcode::LowCode>>,
}

/// `[serve]` in `lakemart.toml`; `lakemart serve --bind/--users` override it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSettings {
    /// Address and port, e.g. `127.0.0.1:5433` (the default).
    pub bind: Option<String>,
    /// The users file, relative to the project directory.
    pub users: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    project: ProjectSection,
    #[serde(default)]
    serve: ServeSettings,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectSection {
    name: String,
    #[serde(default = "default_lakehouse")]
    lakehouse: String,
    #[serde(default = "default_landing")]
    landing: String,
}

fn default_lakehouse() -> String {
    "lakehouse".into()
}

fn default_landing() -> String {
    "landing".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceFile {
    #[serde(default)]
    description: String,
    encoding: Option<Spanned<String>>,
    control: Option<ControlLayoutFile>,
    #[serde(default)]
    tables: Vec<Spanned<SourceTableFile>>,
}

#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct ControlLayoutFile {
    delimiter: Option<String>,
    fields: Option<Vec<String>>,
}

/// The default `max_reject_rate`: more than half of a file's rows rejected fails it.
pub const DEFAULT_MAX_REJECT_RATE: f64 = 0.5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceTableFile {
    name: String,
    #[serde(default)]
    description: String,
    file: String,
    format: String,
    delimiter: Option<String>,
    quote: Option<String>,
    header: Option<bool>,
    encoding: Option<Spanned<String>>,
    trim: Option<bool>,
    null_values: Option<Vec<String>>,
    #[serde(default)]
    primary_key: Vec<String>,
    dedup_order_by: Option<Spanned<String>>,
    max_rejects: Option<u64>,
    max_reject_rate: Option<Spanned<f64>>,
    #[serde(default)]
    allow_empty: bool,
    control_file: Option<String>,
    control_sum_column: Option<String>,
    columns: Vec<Spanned<SourceColumnFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceColumnFile {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    pii: bool,
    format: Option<Spanned<String>>,
    trim: Option<bool>,
    null_values: Option<Vec<String>>,
    #[serde(default)]
    required: bool,
    map: Option<toml::Table>,
    check: Option<Spanned<String>>,
    pattern: Option<Spanned<String>>,
    min: Option<Spanned<toml::Value>>,
    max: Option<Spanned<toml::Value>>,
    on_invalid: Option<Spanned<toml::Value>>,
    start: Option<usize>,
    length: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelsFile {
    #[serde(default)]
    models: Vec<Spanned<ModelFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    materialization: Option<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    zorder: Vec<String>,
    #[serde(default)]
    tests: Vec<Spanned<crate::datatest::DataTestSpec>>,
    #[serde(default)]
    unique_key: Vec<String>,
    update_columns: Option<Vec<String>>,
    delete_when: Option<String>,
    #[serde(default)]
    partition_by: Vec<String>,
    tracked_columns: Option<Vec<String>>,
    #[serde(default)]
    scd2_input: Option<Scd2Input>,
    #[serde(default)]
    on_schema_change: OnSchemaChange,
    #[serde(default)]
    settings: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    columns: Vec<Spanned<ColumnFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ColumnFile {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    pii: bool,
}

/// Options under `datafusion.optimizer` and `datafusion.execution` that change what
/// a model computes or the types it writes, not only how it runs.
const MEANING_SETTINGS: &[(&str, &str)] = &[
    (
        "datafusion.execution.time_zone",
        "it changes the results of date and time functions",
    ),
    (
        "datafusion.execution.enable_ansi_mode",
        "it changes the results of casts and arithmetic",
    ),
    (
        "datafusion.execution.parquet.schema_force_view_types",
        "it changes the string types the model reads and writes (lakemart reads Utf8)",
    ),
    (
        "datafusion.execution.parquet.binary_as_string",
        "it changes the types the model reads",
    ),
    (
        "datafusion.execution.parquet.coerce_int96",
        "it changes the types the model reads",
    ),
    (
        "datafusion.execution.parquet.coerce_int96_tz",
        "it changes the types the model reads",
    ),
    (
        "datafusion.optimizer.hash_join_inlist_pushdown_max_size",
        "delta-rs keeps it at 0 for its scans",
    ),
];

/// One model setting as the text DataFusion parses, or why it cannot be set.
fn check_setting(
    key: &str,
    value: &toml::Value,
    known: &[String],
    scratch: &mut deltalake::datafusion::config::ConfigOptions,
) -> std::result::Result<String, String> {
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        other => {
            return Err(format!(
                "setting '{key}': expected a string, number or boolean, found {}",
                other.type_str()
            ));
        }
    };
    if !key.starts_with("datafusion.optimizer.") && !key.starts_with("datafusion.execution.") {
        return Err(format!(
            "setting '{key}': a model may set only datafusion.optimizer.* and datafusion.execution.* \
             options (how it runs, not what its SQL means)"
        ));
    }
    if let Some((_, why)) = MEANING_SETTINGS.iter().find(|(k, _)| *k == key) {
        return Err(format!("setting '{key}' may not be set per model: {why}"));
    }
    if !known.iter().any(|k| k == key) {
        let hint = crate::compile::suggest(key, known.iter().map(String::as_str));
        return Err(format!("setting '{key}' is not a DataFusion option{hint}"));
    }
    scratch
        .set(key, &text)
        .map_err(|e| format!("setting '{key}' = {text}: {}", crate::error::df_message(&e)))?;
    Ok(text)
}

/// A model's `[models.settings]` as DataFusion option names and values, each checked
/// against DataFusion's own options: an unknown name (with the closest known ones) or a
/// value of the wrong type is reported at its line and left out.
fn model_settings(
    settings: BTreeMap<String, Spanned<toml::Value>>,
    rel: &Path,
    lines: &LineIndex,
    model: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> BTreeMap<String, String> {
    use deltalake::datafusion::config::ConfigOptions;
    let known: Vec<String> = ConfigOptions::default().entries().into_iter().map(|e| e.key).collect();
    let mut checked = BTreeMap::new();
    let mut scratch = ConfigOptions::default();
    // An unquoted dotted key (`datafusion.optimizer.prefer_hash_join = false`) is a
    // nested table in TOML: flatten it back into the option's name.
    let mut flat: Vec<(String, toml::Value, usize)> = Vec::new();
    for (key, value) in settings {
        let line = lines.line(value.span().start);
        let mut stack = vec![(key, value.into_inner())];
        while let Some((key, value)) = stack.pop() {
            match value {
                toml::Value::Table(t) => stack.extend(t.into_iter().map(|(k, v)| (format!("{key}.{k}"), v))),
                other => flat.push((key, other, line)),
            }
        }
    }
    flat.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, value, line) in flat {
        match check_setting(&key, &value, &known, &mut scratch) {
            Ok(text) => {
                checked.insert(key, text);
            }
            Err(message) => diagnostics.push(
                Diagnostic::new(rel, "config", message)
                    .at(Some(line), None)
                    .in_model(model),
            ),
        }
    }
    checked
}

/// What a source system file sets for all its tables.
struct SystemDefaults<'a> {
    /// The system's encoding and the line it is set on.
    encoding: Option<(&'a str, usize)>,
    control: ControlLayoutFile,
}

/// Validate one `[[tables]]` entry of a source system into a [`SourceTable`],
/// or every problem found in it, each at its line.
fn source_table(
    system: &str,
    rel: &Path,
    lines: &LineIndex,
    line: usize,
    t: SourceTableFile,
    defaults: &SystemDefaults,
) -> std::result::Result<SourceTable, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let name = t.name.clone();
    let mut at = |line: usize, msg: String| problems.push(Diagnostic::new(rel, "config", msg).at(Some(line), None));
    let format = match t.format.as_str() {
        "delimited" | "csv" => {
            let delimiter = match unescape(t.delimiter.as_deref().unwrap_or(",")) {
                Ok(d) if d.is_empty() => {
                    at(line, format!("table '{name}': delimiter is empty"));
                    String::new()
                }
                Ok(d) if d.contains(['\n', '\r']) => {
                    at(line, format!("table '{name}': delimiter may not contain a line break"));
                    d
                }
                Ok(d) => d,
                Err(e) => {
                    at(line, format!("table '{name}': delimiter: {e}"));
                    String::new()
                }
            };
            let quote = match t.quote.as_deref() {
                // `csv` means RFC 4180 quoting unless told otherwise.
                None if t.format == "csv" => Some('"'),
                None | Some("") => None,
                Some(q) => match unescape(q) {
                    Ok(q) if q.len() == 1 && q.is_ascii() && !delimiter.contains(&q) => q.chars().next(),
                    _ => {
                        at(
                            line,
                            format!("table '{name}': quote must be one ASCII character that is not in the delimiter"),
                        );
                        None
                    }
                },
            };
            FileFormat::Delimited {
                delimiter,
                quote,
                header: t.header.unwrap_or(true),
            }
        }
        "fixed" => FileFormat::Fixed,
        "parquet" => FileFormat::Parquet,
        other => {
            at(
                line,
                format!("table '{name}': unknown format '{other}' (expected delimited, csv, fixed or parquet)"),
            );
            FileFormat::Parquet
        }
    };
    if !matches!(format, FileFormat::Delimited { .. }) {
        for (key, set) in [
            ("delimiter", t.delimiter.is_some()),
            ("quote", t.quote.is_some()),
            ("header", t.header.is_some()),
        ] {
            if set {
                at(
                    line,
                    format!("table '{name}': '{key}' applies to delimited extracts only"),
                );
            }
        }
    }
    let (encoding_name, encoding_line) = t
        .encoding
        .as_ref()
        .map(|e| (e.get_ref().as_str(), lines.line(e.span().start)))
        .or(defaults.encoding)
        .unwrap_or(("utf-8", line));
    let encoding = TextEncoding::parse(encoding_name).unwrap_or_else(|| {
        at(
            encoding_line,
            format!("table '{name}': unknown encoding '{encoding_name}' (expected utf-8, gbk or gb18030)"),
        );
        TextEncoding::Utf8
    });
    let table_trim = t.trim.unwrap_or(true);
    let table_nulls = t.null_values.clone().unwrap_or_else(|| vec![String::new()]);
    let mut columns = Vec::new();
    for c in t.columns {
        let cline = lines.line(c.span().start);
        let c = c.into_inner();
        let cname = c.name.clone();
        let what = format!("column '{cname}' of table '{name}'");
        let Some(ty) = ColumnType::parse(&c.ty) else {
            at(
                cline,
                format!(
                    "{what}: unknown type '{}' (expected string, int, bigint, decimal(p,s), double, boolean, date or timestamp)",
                    c.ty
                ),
            );
            continue;
        };
        let is_text = !matches!(format, FileFormat::Parquet);
        let has_rules = c.format.is_some()
            || c.trim.is_some()
            || c.null_values.is_some()
            || c.required
            || c.map.is_some()
            || c.check.is_some()
            || c.pattern.is_some()
            || c.min.is_some()
            || c.max.is_some()
            || c.on_invalid.is_some();
        if !is_text && has_rules {
            at(
                cline,
                format!("{what}: cleansing rules apply to text extracts; a Parquet column is typed already"),
            );
        }
        let key_line = |span: std::ops::Range<usize>| lines.line(span.start);
        let (date_format, format_text) = match (&c.format, &ty) {
            (None, _) => (None, None),
            (Some(f), ColumnType::Date | ColumnType::Timestamp) => match java_date_format(f.get_ref()) {
                Ok(chrono) => (Some(chrono), Some(f.get_ref().clone())),
                Err(e) => {
                    at(key_line(f.span()), format!("{what}: format '{}': {e}", f.get_ref()));
                    (None, None)
                }
            },
            (Some(_), _) => {
                at(cline, format!("{what}: 'format' applies to date and timestamp columns"));
                (None, None)
            }
        };
        let map = c.map.map(|m| {
            m.into_iter()
                .filter_map(|(k, v)| match v {
                    toml::Value::String(v) => Some((k, v)),
                    other => {
                        at(
                            cline,
                            format!("{what}: map value for '{k}' must be a string, not {other}"),
                        );
                        None
                    }
                })
                .collect::<Vec<_>>()
        });
        let check_line = c.check.as_ref().map(|c| key_line(c.span())).unwrap_or(cline);
        let check = match c.check.as_ref().map(|c| c.get_ref().as_str()) {
            None => None,
            Some("resident_id") => Some(Check::ResidentId),
            Some("mobile") => Some(Check::Mobile),
            Some("email") => Some(Check::Email),
            Some(other) => {
                at(
                    check_line,
                    format!("{what}: unknown check '{other}' (expected resident_id, mobile or email)"),
                );
                None
            }
        };
        if check.is_some() && ty != ColumnType::String {
            at(cline, format!("{what}: check applies to string columns"));
        }
        if let Some(p) = &c.pattern
            && let Err(e) = regex::Regex::new(p.get_ref())
        {
            at(
                key_line(p.span()),
                format!("{what}: pattern is not a regular expression: {e}"),
            );
        }
        let pattern = c.pattern.map(Spanned::into_inner);
        let mut bound = |value: Option<Spanned<toml::Value>>, key: &str| -> Option<String> {
            let value = value?;
            let cline = key_line(value.span());
            let text = match value.into_inner() {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    at(
                        cline,
                        format!("{what}: {key} must be a value of type {}, not {other}", c.ty),
                    );
                    return None;
                }
            };
            if !valid_literal(&ty, &text) {
                at(cline, format!("{what}: {key} '{text}' is not a {}", ty_name(&ty)));
                return None;
            }
            Some(text)
        };
        let min = bound(c.min, "min");
        let max = bound(c.max, "max");
        if (min.is_some() || max.is_some()) && matches!(ty, ColumnType::String | ColumnType::Boolean) {
            at(
                cline,
                format!("{what}: min and max apply to numbers, dates and timestamps"),
            );
        }
        let invalid_line = c.on_invalid.as_ref().map(|v| key_line(v.span())).unwrap_or(cline);
        let soft = match c.on_invalid.map(Spanned::into_inner) {
            None => Vec::new(),
            Some(toml::Value::String(action)) => match severity(&action) {
                Some(true) => Rule::ALL.to_vec(),
                Some(false) => Vec::new(),
                None => {
                    at(
                        invalid_line,
                        format!("{what}: on_invalid = '{action}': expected \"reject\" (hard) or \"null\" (soft)"),
                    );
                    Vec::new()
                }
            },
            Some(toml::Value::Table(per_rule)) => {
                let mut soft = Vec::new();
                for (rule, action) in per_rule {
                    let Some(r) = Rule::ALL.into_iter().find(|r| r.as_str() == rule) else {
                        at(
                            invalid_line,
                            format!(
                                "{what}: on_invalid names unknown rule '{rule}' (expected map, type, check, pattern or range)"
                            ),
                        );
                        continue;
                    };
                    match action.as_str().and_then(severity) {
                        Some(true) => soft.push(r),
                        Some(false) => {}
                        None => at(
                            invalid_line,
                            format!("{what}: on_invalid.{rule} = {action}: expected \"reject\" or \"null\""),
                        ),
                    }
                }
                soft
            }
            Some(other) => {
                at(
                    invalid_line,
                    format!("{what}: on_invalid must be \"reject\", \"null\" or a table of rule = action, not {other}"),
                );
                Vec::new()
            }
        };
        let position = match (&format, c.start, c.length) {
            (FileFormat::Fixed, Some(start), Some(length)) if start >= 1 && length >= 1 => Some((start - 1, length)),
            (FileFormat::Fixed, Some(_), Some(_)) => {
                at(cline, format!("{what}: start and length count from 1"));
                None
            }
            (FileFormat::Fixed, _, _) => {
                at(
                    cline,
                    format!("{what}: a fixed-width column needs start (1-based byte position) and length (bytes)"),
                );
                None
            }
            (_, None, None) => None,
            _ => {
                at(cline, format!("{what}: start and length apply to fixed-width extracts"));
                None
            }
        };
        columns.push(SourceColumn {
            name: cname,
            ty,
            description: c.description,
            pii: c.pii,
            date_format,
            format_text,
            trim: c.trim.unwrap_or(table_trim),
            null_values: c.null_values.unwrap_or_else(|| table_nulls.clone()),
            required: c.required,
            map,
            check,
            pattern,
            min,
            max,
            soft,
            position,
        });
    }
    let has = |col: &str| columns.iter().any(|c| c.name == col);
    for key in &t.primary_key {
        if !has(key) {
            at(
                line,
                format!("table '{name}': primary_key names unknown column '{key}'"),
            );
        }
    }
    if let Some(order) = &t.dedup_order_by {
        let line = lines.line(order.span().start);
        let order = order.get_ref();
        if t.primary_key.is_empty() {
            at(line, format!("table '{name}': dedup_order_by needs a primary_key"));
        }
        if !has(order) {
            at(
                line,
                format!("table '{name}': dedup_order_by names unknown column '{order}'"),
            );
        }
        if matches!(format, FileFormat::Parquet) {
            at(line, format!("table '{name}': dedup_order_by applies to text extracts"));
        }
    }
    if let Some(sum) = &t.control_sum_column {
        match columns.iter().find(|c| &c.name == sum) {
            Some(c) if matches!(c.ty, ColumnType::Decimal(..)) => {}
            Some(_) => at(
                line,
                format!("table '{name}': control_sum_column '{sum}' must be a decimal column"),
            ),
            None => at(
                line,
                format!("table '{name}': control_sum_column names unknown column '{sum}'"),
            ),
        }
        if t.control_file.is_none() {
            at(line, format!("table '{name}': control_sum_column needs a control_file"));
        }
    }
    let fields = defaults
        .control
        .fields
        .clone()
        .unwrap_or_else(|| vec!["rows".into(), "sum".into()]);
    if t.control_file.is_some() && !fields.iter().any(|f| f == "rows") {
        at(
            line,
            format!("table '{name}': the system's [control] fields must include \"rows\""),
        );
    }
    if let Some(rate) = &t.max_reject_rate
        && !(*rate.get_ref() > 0.0 && *rate.get_ref() <= 1.0)
    {
        let (line, rate) = (lines.line(rate.span().start), rate.get_ref());
        at(
            line,
            format!(
                "table '{name}': max_reject_rate must be above 0 and at most 1 (a share of the rows read), not {rate}"
            ),
        );
    }
    let control_delimiter = match defaults.control.delimiter.as_deref().map(unescape) {
        None => None,
        Some(Ok(d)) if !d.is_empty() => Some(d),
        Some(_) => {
            at(line, "[control] delimiter must be a non-empty string".into());
            None
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SourceTable {
        system: system.to_string(),
        table: t.name,
        description: t.description,
        file: t.file,
        format,
        encoding,
        primary_key: t.primary_key,
        dedup_order_by: t.dedup_order_by.map(Spanned::into_inner),
        max_rejects: t.max_rejects.unwrap_or(10_000),
        max_reject_rate: t.max_reject_rate.map_or(DEFAULT_MAX_REJECT_RATE, Spanned::into_inner),
        allow_empty: t.allow_empty,
        control: t.control_file.map(|file| ControlFile {
            file,
            sum_column: t.control_sum_column,
            delimiter: control_delimiter,
            fields,
        }),
        columns,
        toml_path: rel.to_path_buf(),
    })
}

/// `"reject"`/`"hard"` → false, `"null"`/`"soft"` → true.
fn severity(action: &str) -> Option<bool> {
    match action {
        "reject" | "hard" => Some(false),
        "null" | "soft" => Some(true),
        _ => None,
    }
}

/// How a type is named in messages: `decimal(18,2)`, `date`.
pub fn ty_name(ty: &ColumnType) -> String {
    match ty {
        ColumnType::String => "string".into(),
        ColumnType::Int => "int".into(),
        ColumnType::BigInt => "bigint".into(),
        ColumnType::Decimal(p, s) => format!("decimal({p},{s})"),
        ColumnType::Double => "double".into(),
        ColumnType::Boolean => "boolean".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Timestamp => "timestamp".into(),
    }
}

/// Whether `text` is a value of `ty` as written in a definition (ISO dates).
fn valid_literal(ty: &ColumnType, text: &str) -> bool {
    match ty {
        ColumnType::String => true,
        ColumnType::Int => text.parse::<i32>().is_ok(),
        ColumnType::BigInt => text.parse::<i64>().is_ok(),
        ColumnType::Double => text.parse::<f64>().is_ok(),
        ColumnType::Boolean => matches!(text, "true" | "false"),
        ColumnType::Decimal(p, s) => crate::source::parse_decimal(text, *p, *s).is_some(),
        ColumnType::Date => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
        ColumnType::Timestamp => chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").is_ok(),
    }
}

/// Text with `\t`, `\n`, `\\`, `\xNN` and `\uNNNN` escapes written out, as a
/// delimiter may be spelled in TOML literal strings (`'\x01'`).
pub fn unescape(text: &str) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some(kind @ ('x' | 'u')) => {
                let digits: String = chars.by_ref().take(if kind == 'x' { 2 } else { 4 }).collect();
                let code = u32::from_str_radix(&digits, 16)
                    .ok()
                    .and_then(char::from_u32)
                    .ok_or_else(|| format!("'\\{kind}{digits}' is not a character escape"))?;
                out.push(code);
            }
            Some(other) => return Err(format!("unknown escape '\\{other}' (use \\t, \\xNN or \\uNNNN)")),
            None => return Err("ends with a lone backslash".into()),
        }
    }
    Ok(out)
}

/// `yyyyMMdd HH:mm:ss.SSS` → chrono's `%Y%m%d %H:%M:%S%.3f`.
pub fn java_date_format(text: &str) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (token, chrono) = [
            ("yyyy", "%Y"),
            ("MM", "%m"),
            ("dd", "%d"),
            ("HH", "%H"),
            ("mm", "%M"),
            ("ss", "%S"),
            (".SSS", "%.3f"),
            ("SSS", "%3f"),
        ]
        .into_iter()
        .find(|(t, _)| rest.starts_with(t))
        .unwrap_or(("", ""));
        if token.is_empty() {
            let c = rest.chars().next().unwrap_or(' ');
            if c.is_ascii_alphabetic() {
                return Err(format!(
                    "unknown letter '{c}' (use yyyy, MM, dd, HH, mm, ss, SSS and separators)"
                ));
            }
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
            rest = &rest[c.len_utf8()..];
        } else {
            out.push_str(chrono);
            rest = &rest[token.len()..];
        }
    }
    Ok(out)
}

/// 1-based line of a byte offset.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    LineIndex::new(text).line(offset)
}

/// Byte offsets of line starts, for many line look-ups in one file.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line of a byte offset.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset)
    }
}

impl Project {
    /// Read the project at `root`. Fails only when `lakemart.toml` itself is unusable;
    /// every other problem lands in [`Project::diagnostics`].
    pub fn load(root: &Path) -> Result<Project> {
        let toml_path = root.join("lakemart.toml");
        let text = std::fs::read_to_string(&toml_path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::config(
                    &toml_path,
                    "no lakemart.toml here: point --project at a lakemart project directory",
                )
            } else {
                Error::io(&toml_path, e)
            }
        })?;
        let file: ProjectFile = toml::from_str(&text).map_err(|e| Error::config(&toml_path, toml_error(&text, &e)))?;
        let mut project = Project {
            root: root.to_path_buf(),
            name: file.project.name,
            lakehouse: file.project.lakehouse,
            landing: root.join(file.project.landing),
            sources: BTreeMap::new(),
            models: BTreeMap::new(),
            diagnostics: Vec::new(),
            serve: file.serve,
            lowcode: None,
        };
        project.load_sources()?;
        project.load_sql()?;
        project.load_metadata()?;
        project.load_lowcode()?;
        Ok(project)
    }

    fn rel(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.root).unwrap_or(path).to_path_buf()
    }

    fn load_sources(&mut self) -> Result<()> {
        for path in files_with_ext(&self.root.join("models").join("sources"), "toml")? {
            let rel = self.rel(&path);
            let system = stem(&path);
            let text = read(&path)?;
            let lines = LineIndex::new(&text);
            let file: SourceFile = match toml::from_str(&text) {
                Ok(f) => f,
                Err(e) => {
                    self.push_toml_error(&rel, &text, &e);
                    continue;
                }
            };
            let _ = file.description;
            for spanned in file.tables {
                let line = lines.line(spanned.span().start);
                let t = spanned.into_inner();
                let defaults = SystemDefaults {
                    encoding: file
                        .encoding
                        .as_ref()
                        .map(|e| (e.get_ref().as_str(), lines.line(e.span().start))),
                    control: file.control.clone().unwrap_or_default(),
                };
                let table = match source_table(&system, &rel, &lines, line, t, &defaults) {
                    Ok(table) => table,
                    Err(problems) => {
                        self.diagnostics.extend(problems);
                        continue;
                    }
                };
                let key = table.qualified_name();
                if self.sources.contains_key(&key) {
                    self.diagnostics.push(
                        Diagnostic::new(&rel, "duplicate", format!("source table {key} is defined twice"))
                            .at(Some(line), None),
                    );
                    continue;
                }
                self.sources.insert(key, table);
            }
        }
        Ok(())
    }

    fn load_sql(&mut self) -> Result<()> {
        let sql_root = self.root.join("sql");
        for layer_dir in dirs(&sql_root)? {
            let layer_name = file_name(&layer_dir);
            let Some(layer) = Layer::parse(&layer_name).filter(|l| *l != Layer::Src) else {
                self.diagnostics.push(Diagnostic::new(
                    self.rel(&layer_dir),
                    "layout",
                    format!(
                        "'{layer_name}' is not a model layer: SQL goes under sql/foundation, sql/aggregation or sql/application"
                    ),
                ));
                continue;
            };
            for subject_dir in dirs(&layer_dir)? {
                let subject = file_name(&subject_dir);
                for path in files_with_ext(&subject_dir, "sql")? {
                    let name = format!("{layer}.{}", stem(&path));
                    let rel = self.rel(&path);
                    if let Some(other) = self.models.get(&name) {
                        self.diagnostics.push(Diagnostic::new(
                            &rel,
                            "duplicate",
                            format!("model {name} is also defined in {}", other.sql_path.display()),
                        ));
                        continue;
                    }
                    let sql = read(&path)?;
                    self.models.insert(
                        name.clone(),
                        Model {
                            name,
                            layer,
                            subject: subject.clone(),
                            sql_path: rel,
                            sql,
                            meta: None,
                        },
                    );
                }
            }
        }
        Ok(())
    }

    fn load_metadata(&mut self) -> Result<()> {
        for layer in Layer::MODEL_LAYERS {
            for path in files_with_ext(&self.root.join("models").join(layer.as_str()), "toml")? {
                // Low-code rule files are read by `load_lowcode`, not as model metadata.
                if layer == Layer::Application && crate::lowcode::FILES.contains(&file_name(&path).as_str()) {
                    continue;
                }
                let rel = self.rel(&path);
                let text = read(&path)?;
                let lines = LineIndex::new(&text);
                let file: ModelsFile = match toml::from_str(&text) {
                    Ok(f) => f,
                    Err(e) => {
                        self.push_toml_error(&rel, &text, &e);
                        continue;
                    }
                };
                for spanned in file.models {
                    let m = spanned.into_inner();
                    let line = lines.line(m.name.span().start);
                    let name = format!("{layer}.{}", m.name.get_ref());
                    let materialization = match &m.materialization {
                        None => Materialization::Table,
                        Some(s) if Materialization::parse(s.get_ref()).is_some() => {
                            Materialization::parse(s.get_ref()).unwrap_or_default()
                        }
                        Some(s) => {
                            self.diagnostics.push(
                                Diagnostic::new(
                                    &rel,
                                    "config",
                                    format!(
                                        "unknown materialization '{}' (expected table, merge, partition, append, scd2 \
                                         or snapshot_diff)",
                                        s.get_ref()
                                    ),
                                )
                                .at(Some(lines.line(s.span().start)), None)
                                .in_model(&name),
                            );
                            Materialization::Table
                        }
                    };
                    let columns = m
                        .columns
                        .into_iter()
                        .map(|c| {
                            let c = c.into_inner();
                            let line = lines.line(c.name.span().start);
                            ColumnMeta {
                                name: c.name.into_inner(),
                                description: c.description,
                                pii: c.pii,
                                line,
                            }
                        })
                        .collect();
                    let meta = ModelMeta {
                        description: m.description,
                        materialization,
                        tags: m.tags,
                        zorder: m.zorder,
                        tests: m
                            .tests
                            .into_iter()
                            .map(|t| {
                                let line = lines.line(t.span().start);
                                (t.into_inner(), line)
                            })
                            .collect(),
                        unique_key: m.unique_key,
                        update_columns: m.update_columns,
                        delete_when: m.delete_when,
                        partition_by: m.partition_by,
                        tracked_columns: m.tracked_columns,
                        scd2_input: m.scd2_input.unwrap_or_default(),
                        on_schema_change: m.on_schema_change,
                        settings: model_settings(m.settings, &rel, &lines, &name, &mut self.diagnostics),
                        columns,
                        file: rel.clone(),
                        line,
                    };
                    match self.models.get_mut(&name) {
                        Some(model) if model.meta.is_some() => self.diagnostics.push(
                            Diagnostic::new(&rel, "duplicate", format!("model {name} is described twice"))
                                .at(Some(line), None)
                                .in_model(&name),
                        ),
                        Some(model) => model.meta = Some(meta),
                        None => {
                            let expected = self
                                .root
                                .join("sql")
                                .join(layer.as_str())
                                .join(file_name(&path).trim_end_matches(".toml"))
                                .join(format!("{}.sql", m.name.get_ref()));
                            self.diagnostics.push(
                                Diagnostic::new(
                                    &rel,
                                    "metadata",
                                    format!(
                                        "metadata names model {name}, which has no SQL file (expected {})",
                                        self.rel(&expected).display()
                                    ),
                                )
                                .at(Some(line), None)
                                .in_model(&name),
                            )
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Read `models/application/tags.toml` and `scores.toml`: rule problems become
    /// diagnostics; the generated models `application.customer_tag` and
    /// `application.customer_score` join [`Project::models`], and the tag and score
    /// columns join the metadata of `application.customer_360`.
    fn load_lowcode(&mut self) -> Result<()> {
        let dir = self.root.join("models").join(Layer::Application.as_str());
        let mut files = Vec::new();
        for name in crate::lowcode::FILES {
            let path = dir.join(name);
            if path.is_file() {
                files.push((self.rel(&path), read(&path)?));
            }
        }
        if files.is_empty() {
            return Ok(());
        }
        let (lowcode, problems) = crate::lowcode::LowCode::parse(&files);
        self.diagnostics.extend(problems);
        let Some(customer_360) = self.models.get_mut(crate::lowcode::CUSTOMER_360) else {
            for (rel, _) in &files {
                self.diagnostics.push(
                    Diagnostic::new(
                        rel,
                        "lowcode",
                        format!(
                            "tags and scorecards are computed on {}, which has no SQL file \
                             (expected sql/application/customer/customer_360.sql)",
                            crate::lowcode::CUSTOMER_360
                        ),
                    )
                    .at(Some(1), None),
                );
            }
            return Ok(());
        };
        let meta = customer_360.meta.get_or_insert_with(|| ModelMeta {
            description: String::new(),
            materialization: Materialization::Table,
            tags: Vec::new(),
            zorder: Vec::new(),
            tests: Vec::new(),
            unique_key: Vec::new(),
            update_columns: None,
            delete_when: None,
            partition_by: Vec::new(),
            tracked_columns: None,
            scd2_input: Scd2Input::Snapshot,
            on_schema_change: OnSchemaChange::Fail,
            settings: BTreeMap::new(),
            columns: Vec::new(),
            file: customer_360.sql_path.clone(),
            line: 1,
        });
        let subject = customer_360.subject.clone();
        for (name, description, line) in lowcode.customer_360_columns() {
            meta.columns.push(ColumnMeta {
                name,
                description,
                pii: false,
                line,
            });
        }
        for generated in lowcode.generated_models() {
            if let Some(other) = self.models.get(&generated.name) {
                self.diagnostics.push(
                    Diagnostic::new(
                        &generated.file,
                        "duplicate",
                        format!(
                            "{} is generated from this file, but {} defines it too; rename that model",
                            generated.name,
                            other.sql_path.display()
                        ),
                    )
                    .at(Some(1), None),
                );
                continue;
            }
            let model = Model {
                name: generated.name.clone(),
                layer: Layer::Application,
                subject: subject.clone(),
                sql_path: generated.file.clone(),
                sql: generated.sql,
                meta: Some(ModelMeta {
                    description: generated.description,
                    materialization: Materialization::Partition,
                    tags: vec!["lowcode".into()],
                    zorder: Vec::new(),
                    tests: Vec::new(),
                    unique_key: Vec::new(),
                    update_columns: None,
                    delete_when: None,
                    partition_by: vec!["biz_date".into()],
                    tracked_columns: None,
                    scd2_input: Scd2Input::Snapshot,
                    on_schema_change: OnSchemaChange::Fail,
                    settings: BTreeMap::new(),
                    columns: generated
                        .columns
                        .into_iter()
                        .map(|(name, description)| ColumnMeta {
                            name: name.into(),
                            description: description.into(),
                            pii: false,
                            line: 1,
                        })
                        .collect(),
                    file: generated.file,
                    line: 1,
                }),
            };
            self.models.insert(generated.name, model);
        }
        self.lowcode = Some(std::sync::Arc::new(lowcode));
        Ok(())
    }

    fn push_toml_error(&mut self, rel: &Path, text: &str, e: &toml::de::Error) {
        let line = e.span().map(|s| line_of(text, s.start));
        self.diagnostics
            .push(Diagnostic::new(rel, "toml", e.message().trim().to_string()).at(line, None));
    }

    /// Every table name a model may read: sources and models.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.sources
            .keys()
            .map(String::as_str)
            .chain(self.models.keys().map(String::as_str))
    }
}

fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => format!("line {}: {}", line_of(text, span.start), e.message().trim()),
        None => e.message().trim().to_string(),
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Sorted entries of `dir` (missing dir → none).
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

fn dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?.into_iter().filter(|p| p.is_dir()).collect())
}

fn files_with_ext(dir: &Path, ext: &str) -> Result<Vec<PathBuf>> {
    Ok(entries(dir)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == ext))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_types_parse() {
        assert_eq!(ColumnType::parse("decimal(18, 2)"), Some(ColumnType::Decimal(18, 2)));
        assert_eq!(ColumnType::parse("DATE"), Some(ColumnType::Date));
        assert_eq!(ColumnType::parse("decimal(2,5)"), None);
        assert_eq!(ColumnType::parse("money"), None);
    }

    #[test]
    fn lines_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
