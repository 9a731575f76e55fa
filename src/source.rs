//! Source extracts: find a table's file for a business date, read it
//! (delimited or Parquet), trim and type every column, and add `biz_date`.
//!
//! The result is a DataFusion plan, streamed by `run` into the staged table.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use deltalake::arrow::datatypes::{DataType, DecimalType, Field, Schema};
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::functions::expr_fn::{btrim, nullif};
use deltalake::datafusion::logical_expr::{Expr, LogicalPlan, cast, ident, lit};
use deltalake::datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

use crate::error::{Error, Result, df_message};
use crate::project::{FileFormat, SourceTable};
use crate::store::days_since_epoch;

/// The extract file of `table` for `date`: its pattern with `{biz_date}`
/// (`YYYY-MM-DD`) and `{yyyymmdd}` filled in, under the landing directory.
pub fn extract_path(landing: &Path, table: &SourceTable, date: NaiveDate) -> PathBuf {
    landing.join(fill(&table.file, date))
}

/// The control file of `table` for `date`, if the table declares one.
pub fn control_path(landing: &Path, table: &SourceTable, date: NaiveDate) -> Option<PathBuf> {
    table.control.as_ref().map(|c| landing.join(fill(&c.file, date)))
}

/// What marks a table's extract as landed: its control file if it has one, else the extract.
pub fn arrival_path(landing: &Path, table: &SourceTable, date: NaiveDate) -> PathBuf {
    control_path(landing, table, date).unwrap_or_else(|| extract_path(landing, table, date))
}

fn fill(pattern: &str, date: NaiveDate) -> String {
    pattern
        .replace("{biz_date}", &date.format("%Y-%m-%d").to_string())
        .replace("{yyyymmdd}", &date.format("%Y%m%d").to_string())
}

/// Check the extract against its control file before anything is committed: the
/// row count, and the sum of the declared amount column (exact, in its decimal scale).
pub async fn reconcile(
    ctx: &SessionContext,
    plan: &LogicalPlan,
    landing: &Path,
    table: &SourceTable,
    date: NaiveDate,
) -> Result<()> {
    let Some(path) = control_path(landing, table, date) else {
        return Ok(());
    };
    let name = table.qualified_name();
    let err = |message: String| Error::Source {
        table: name.clone(),
        message,
        transient: false,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        err(format!(
            "control file {} cannot be read ({e}); nothing was loaded",
            path.display()
        ))
    })?;
    let fields: Vec<&str> = text
        .lines()
        .next()
        .unwrap_or("")
        .split(|c: char| c == '|' || c == ',' || c.is_whitespace())
        .filter(|f| !f.is_empty())
        .collect();
    let expected_rows: u64 = fields.first().and_then(|f| f.parse().ok()).ok_or_else(|| {
        err(format!(
            "control file {} line 1: expected a row count, found '{}'",
            path.display(),
            text.lines().next().unwrap_or("")
        ))
    })?;
    let df = deltalake::datafusion::dataframe::DataFrame::new(ctx.state(), plan.clone());
    let mut aggregates = vec![deltalake::datafusion::functions_aggregate::expr_fn::count(lit(1)).alias("rows")];
    if let Some(column) = table.control.as_ref().and_then(|c| c.sum_column.as_ref()) {
        aggregates.push(deltalake::datafusion::functions_aggregate::expr_fn::sum(ident(column)).alias("total"));
    }
    let batches = df
        .aggregate(vec![], aggregates)
        .map_err(|e| err(df_message(&e)))?
        .collect()
        .await
        .map_err(|e| err(df_message(&e)))?;
    let batch = batches
        .first()
        .ok_or_else(|| Error::Internal("empty aggregate".into()))?;
    let rows = ScalarValue::try_from_array(batch.column(0).as_ref(), 0)?;
    let rows: u64 = match rows {
        ScalarValue::Int64(Some(n)) => n as u64,
        _ => 0,
    };
    if rows != expected_rows {
        return Err(err(format!(
            "{} holds {rows} rows but control file {} says {expected_rows}; nothing was loaded",
            extract_path(landing, table, date).display(),
            path.display()
        )));
    }
    if let Some(column) = table.control.as_ref().and_then(|c| c.sum_column.as_ref()) {
        let declared = fields.get(1).ok_or_else(|| {
            err(format!(
                "control file {} line 1: expected the sum of {column} after the row count",
                path.display()
            ))
        })?;
        let total = ScalarValue::try_from_array(batch.column(1).as_ref(), 0)?;
        let (actual, scale) = match &total {
            ScalarValue::Decimal128(v, _, s) => (v.unwrap_or(0), *s),
            other => {
                return Err(err(format!(
                    "control sum column {column} must be a decimal, it is {}",
                    other.data_type()
                )));
            }
        };
        let wanted = parse_scaled(declared, scale).ok_or_else(|| {
            err(format!(
                "control file {} line 1: '{declared}' is not an amount with at most {scale} decimals",
                path.display()
            ))
        })?;
        if actual != wanted {
            let shown = deltalake::arrow::datatypes::Decimal128Type::format_decimal(actual, 38, scale);
            return Err(err(format!(
                "sum of {column} is {shown} but control file {} says {declared}; nothing was loaded",
                path.display()
            )));
        }
    }
    Ok(())
}

/// `"123.4"` at scale 2 → 12340; None when it has more decimals than `scale`.
fn parse_scaled(text: &str, scale: i8) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let scale = usize::try_from(scale).ok()?;
    if frac.len() > scale || int.is_empty() && frac.is_empty() {
        return None;
    }
    let padded = format!("{int}{frac:0<scale$}");
    let value: i128 = padded.parse().ok()?;
    Some(if neg { -value } else { value })
}

/// Business dates that have landed: directories under `landing` named
/// `YYYY-MM-DD` or `YYYYMMDD`, oldest first.
pub fn landed_dates(landing: &Path) -> Result<Vec<NaiveDate>> {
    let entries = std::fs::read_dir(landing).map_err(|e| Error::io(landing, e))?;
    let mut dates = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(landing, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir()
            && let Ok(d) =
                NaiveDate::parse_from_str(&name, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(&name, "%Y%m%d"))
        {
            dates.push(d);
        }
    }
    dates.sort();
    Ok(dates)
}

/// The plan that reads `table`'s extract for `date` as typed, trimmed columns plus `biz_date`.
pub async fn extract_plan(
    ctx: &SessionContext,
    landing: &Path,
    table: &SourceTable,
    date: NaiveDate,
) -> Result<LogicalPlan> {
    let name = table.qualified_name();
    let err = |message: String| Error::Source {
        table: name.clone(),
        message,
        transient: false,
    };
    let path = extract_path(landing, table, date);
    if !path.is_file() {
        return Err(err(format!(
            "extract file {} has not landed for {date}",
            path.display()
        )));
    }
    let path_str = path
        .to_str()
        .ok_or_else(|| err(format!("path {} is not UTF-8", path.display())))?;
    let biz_date = lit(ScalarValue::Date32(Some(days_since_epoch(date)))).alias("biz_date");

    let plan = match &table.format {
        FileFormat::Csv { delimiter, header } => {
            if *header {
                check_header(&path, table, *delimiter).map_err(err)?;
            }
            // Read every field as text; typing happens below, with trimming and empty → NULL.
            let text_schema = Schema::new(
                table
                    .columns
                    .iter()
                    .map(|c| Field::new(&c.name, DataType::Utf8, true))
                    .collect::<Vec<_>>(),
            );
            let extension = path
                .extension()
                .map(|e| format!(".{}", e.to_string_lossy()))
                .unwrap_or_default();
            let options = CsvReadOptions::new()
                .has_header(*header)
                .delimiter(*delimiter)
                .schema(&text_schema)
                .file_extension(&extension);
            let df = ctx.read_csv(path_str, options).await.map_err(|e| err(df_message(&e)))?;
            let exprs: Vec<Expr> = table
                .columns
                .iter()
                .map(|c| {
                    let text = nullif(btrim(vec![ident(&c.name)]), lit(""));
                    match c.ty.data_type() {
                        DataType::Utf8 => text.alias(&c.name),
                        dt => cast(text, dt).alias(&c.name),
                    }
                })
                .chain([biz_date])
                .collect();
            df.select(exprs)
                .map_err(|e| err(df_message(&e)))?
                .into_unoptimized_plan()
        }
        FileFormat::Parquet => {
            let df = ctx
                .read_parquet(path_str, ParquetReadOptions::default().file_extension(""))
                .await
                .map_err(|e| err(format!("{}: {}", path.display(), df_message(&e))))?;
            let present: Vec<String> = df.schema().fields().iter().map(|f| f.name().clone()).collect();
            let missing: Vec<&str> = table
                .columns
                .iter()
                .map(|c| c.name.as_str())
                .filter(|c| !present.iter().any(|p| p == c))
                .collect();
            if !missing.is_empty() {
                return Err(err(format!(
                    "{} lacks declared column(s) {} (it has {})",
                    path.display(),
                    missing.join(", "),
                    present.join(", ")
                )));
            }
            let exprs: Vec<Expr> = table
                .columns
                .iter()
                .map(|c| cast(ident(&c.name), c.ty.data_type()).alias(&c.name))
                .chain([biz_date])
                .collect();
            df.select(exprs)
                .map_err(|e| err(df_message(&e)))?
                .into_unoptimized_plan()
        }
    };
    Ok(plan)
}

/// The header line must name the declared columns, in order.
fn check_header(path: &Path, table: &SourceTable, delimiter: u8) -> std::result::Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut first = String::new();
    std::io::BufReader::new(file)
        .read_line(&mut first)
        .map_err(|e| format!("{}: line 1 is not readable text: {e}", path.display()))?;
    let first = first.trim_start_matches('\u{feff}').trim_end_matches(['\r', '\n']);
    if first.is_empty() {
        return Err(format!("{} is empty: expected a header line", path.display()));
    }
    let found: Vec<String> = first
        .split(delimiter as char)
        .map(|s| s.trim().trim_matches('"').to_string())
        .collect();
    let expected: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    if found != expected {
        return Err(format!(
            "{} line 1: header is [{}] but {} declares [{}]",
            path.display(),
            found.join(", "),
            table.toml_path.display(),
            expected.join(", ")
        ));
    }
    Ok(())
}
