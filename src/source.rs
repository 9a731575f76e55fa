//! Source extracts: find a table's file for a business date, read it
//! (delimited or Parquet), trim and type every column, and add `biz_date`.
//!
//! The result is a DataFusion plan, streamed by `run` into the staged table.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use deltalake::arrow::datatypes::{DataType, Field, Schema};
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
    let name = table
        .file
        .replace("{biz_date}", &date.format("%Y-%m-%d").to_string())
        .replace("{yyyymmdd}", &date.format("%Y%m%d").to_string());
    landing.join(name)
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
