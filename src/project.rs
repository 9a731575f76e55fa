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
    Csv { delimiter: u8, header: bool },
    Parquet,
}

/// One column of a source extract table.
#[derive(Debug, Clone)]
pub struct SourceColumn {
    pub name: String,
    pub ty: ColumnType,
    pub description: String,
    pub pii: bool,
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
    pub primary_key: Vec<String>,
    /// The control file that lands with the extract, if the system sends one.
    pub control: Option<ControlFile>,
    pub columns: Vec<SourceColumn>,
    /// The definition file, relative to the project root.
    pub toml_path: PathBuf,
}

/// A control file: its name pattern, and the column whose sum it carries, if any.
/// Its first line holds the row count, then optionally the sum, separated by
/// `|`, `,`, a tab or spaces.
#[derive(Debug, Clone)]
pub struct ControlFile {
    pub file: String,
    pub sum_column: Option<String>,
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
    pub on_schema_change: OnSchemaChange,
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
    #[serde(default)]
    tables: Vec<Spanned<SourceTableFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceTableFile {
    name: String,
    #[serde(default)]
    description: String,
    file: String,
    format: String,
    delimiter: Option<String>,
    header: Option<bool>,
    #[serde(default)]
    primary_key: Vec<String>,
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
    on_schema_change: OnSchemaChange,
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
        };
        project.load_sources()?;
        project.load_sql()?;
        project.load_metadata()?;
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
                let at = |kind, msg: String| Diagnostic::new(&rel, kind, msg).at(Some(line), None);
                let format = match t.format.as_str() {
                    "csv" => {
                        let delimiter = match t.delimiter.as_deref().unwrap_or(",").as_bytes() {
                            [b] => *b,
                            _ => {
                                self.diagnostics.push(at(
                                    "config",
                                    format!("table '{}': delimiter must be a single character", t.name),
                                ));
                                continue;
                            }
                        };
                        FileFormat::Csv {
                            delimiter,
                            header: t.header.unwrap_or(true),
                        }
                    }
                    "parquet" => FileFormat::Parquet,
                    other => {
                        self.diagnostics.push(at(
                            "config",
                            format!("table '{}': unknown format '{other}' (expected csv or parquet)", t.name),
                        ));
                        continue;
                    }
                };
                let mut columns = Vec::new();
                for c in t.columns {
                    let cline = lines.line(c.span().start);
                    let c = c.into_inner();
                    match ColumnType::parse(&c.ty) {
                        Some(ty) => columns.push(SourceColumn {
                            name: c.name,
                            ty,
                            description: c.description,
                            pii: c.pii,
                        }),
                        None => self.diagnostics.push(
                            Diagnostic::new(
                                &rel,
                                "config",
                                format!(
                                    "column '{}' of table '{}': unknown type '{}' (expected string, int, bigint, \
                                     decimal(p,s), double, boolean, date or timestamp)",
                                    c.name, t.name, c.ty
                                ),
                            )
                            .at(Some(cline), None),
                        ),
                    }
                }
                let table = SourceTable {
                    system: system.clone(),
                    table: t.name,
                    description: t.description,
                    file: t.file,
                    format,
                    primary_key: t.primary_key,
                    control: t.control_file.map(|file| ControlFile {
                        file,
                        sum_column: t.control_sum_column,
                    }),
                    columns,
                    toml_path: rel.clone(),
                };
                let key = table.qualified_name();
                if self.sources.contains_key(&key) {
                    self.diagnostics
                        .push(at("duplicate", format!("source table {key} is defined twice")));
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
                        on_schema_change: m.on_schema_change,
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
