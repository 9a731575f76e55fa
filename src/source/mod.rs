//! Source extracts: find a table's file for a business date, read it
//! (delimited, fixed-width or Parquet; UTF-8, GBK or GB18030), cleanse it by
//! its declared rules, reconcile it with its control file, and stage it as
//! `src.<system>_<table>` with its rejects in `_rejects.<system>_<table>`.
//! See docs/ingest.md.

mod ingest;
mod reader;
mod rules;

pub use ingest::{SourceStats, ingest};
pub use rules::{parse_decimal, valid_resident_id};

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::logical_expr::{Expr, cast, ident, lit};
use deltalake::datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::error::{Error, Result, df_message, plain_message};
use crate::project::{Layer, SourceTable};
use crate::store::{CommitTag, Lakehouse, WriteOutcome, days_since_epoch};

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

/// A Parquet extract: columns found by name and cast to their declared types.
async fn ingest_parquet(
    ctx: &SessionContext,
    lakehouse: &Lakehouse,
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
    let path_str = path
        .to_str()
        .ok_or_else(|| err(format!("path {} is not UTF-8", path.display())))?;
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
    let biz_date = lit(ScalarValue::Date32(Some(days_since_epoch(tag.biz_date)))).alias("biz_date");
    let exprs: Vec<Expr> = table
        .columns
        .iter()
        .map(|c| cast(ident(&c.name), c.ty.data_type()).alias(&c.name))
        .chain([biz_date])
        .collect();
    let plan = df
        .select(exprs)
        .map_err(|e| err(df_message(&e)))?
        .into_unoptimized_plan();
    let written = lakehouse
        .replace_biz_date(Layer::Src, &table.staged_name(), plan, ctx.state(), tag)
        .await
        .map_err(|e| err(format!("{}: {}", path.display(), plain_message(e))))?;
    stats.rows_read = written.rows;
    stats.rows_loaded = written.rows;
    Ok(written)
}
