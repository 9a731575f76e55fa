//! Analyst SQL over the lakehouse: every table that exists is registered as
//! `layer.table` at its latest version (or as of a business date), and results
//! print as text, CSV or JSON.

use std::sync::Arc;

use chrono::NaiveDate;
use deltalake::arrow::array::RecordBatch;
use deltalake::arrow::util::pretty::pretty_format_batches;
use deltalake::datafusion::prelude::SessionContext;

use crate::error::{Error, Result, df_message};
use crate::project::{Layer, Project};
use crate::store::Lakehouse;
use crate::{engine, history};

/// Output formats of `lakemart query`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum QueryFormat {
    /// An aligned text table.
    Table,
    /// CSV with a header line.
    Csv,
    /// A JSON array of objects.
    Json,
    /// A Parquet file (needs --out), streamed, not collected.
    Parquet,
}

/// A session with every built table of the project registered at its latest version.
pub async fn session(project: &Project, lakehouse: &Lakehouse) -> Result<SessionContext> {
    session_as_of(project, lakehouse, None).await
}

/// A session with every built table registered at its latest version, or, with
/// `as_of`, at its version for that business date ([`history::version_as_of`]):
/// tables that did not exist then are absent. `_lakemart.*` run records are always current.
pub async fn session_as_of(
    project: &Project,
    lakehouse: &Lakehouse,
    as_of: Option<NaiveDate>,
) -> Result<SessionContext> {
    let ctx = engine::session(engine::cores())?;
    let tables = project
        .sources
        .values()
        .map(|s| (Layer::Src, s.staged_name()))
        .chain(project.models.values().map(|m| (m.layer, m.table().to_string())))
        .chain(
            project
                .models
                .values()
                .filter(|m| {
                    m.meta
                        .as_ref()
                        .is_some_and(|x| x.materialization == crate::project::Materialization::SnapshotDiff)
                })
                .map(|m| (m.layer, format!("{}_changes", m.table()))),
        );
    for (layer, table) in tables {
        let opened = match as_of {
            None => lakehouse.open(layer, &table).await?,
            Some(date) => history::open_as_of(lakehouse, layer, &table, date).await?,
        };
        if let Some(t) = opened {
            engine::register_delta(&ctx, layer.as_str(), &table, &t).await?;
        }
    }
    for name in ["run", "model_run", "test_result", "ingest"] {
        if let Some(t) = lakehouse.open_system(name).await? {
            engine::register_delta(&ctx, crate::store::SYSTEM, name, &t).await?;
        }
    }
    for source in project.sources.values() {
        if let Some(t) = lakehouse.open_rejects(&source.staged_name()).await? {
            engine::register_delta(&ctx, crate::store::REJECTS, &source.staged_name(), &t).await?;
        }
    }
    Ok(ctx)
}

/// Run `sql` and collect its result (analyst queries are expected to be small).
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    let df = ctx
        .sql(sql)
        .await
        .map_err(|e| Error::Usage(format!("query: {}", df_message(&e))))?;
    let schema = Arc::new(df.schema().as_arrow().clone());
    let mut batches = df.collect().await?;
    if batches.is_empty() {
        // An empty result still has columns: CSV prints its header, a table its frame.
        batches.push(RecordBatch::new_empty(schema));
    }
    Ok(batches)
}

/// Run `sql` and write the result in `format` to `out` (a file) or stdout.
/// Parquet streams straight into the file; the other formats are collected first.
pub async fn run_to(ctx: &SessionContext, sql: &str, format: QueryFormat, out: Option<&std::path::Path>) -> Result<()> {
    if format == QueryFormat::Parquet {
        let out = out.ok_or_else(|| Error::Usage("--format parquet writes a file: give it with --out FILE".into()))?;
        let path = out
            .to_str()
            .ok_or_else(|| Error::Usage(format!("--out {} is not UTF-8", out.display())))?;
        let df = ctx
            .sql(sql)
            .await
            .map_err(|e| Error::Usage(format!("query: {}", df_message(&e))))?;
        let options = deltalake::datafusion::dataframe::DataFrameWriteOptions::new().with_single_file_output(true);
        let written = df.write_parquet(path, options, None).await?;
        let rows: u64 = written
            .first()
            .and_then(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<deltalake::arrow::array::UInt64Array>()
            })
            .map(|a| a.iter().flatten().sum())
            .unwrap_or(0);
        eprintln!("wrote {rows} rows to {}", out.display());
        return Ok(());
    }
    let text = render(&query(ctx, sql).await?, format)?;
    match out {
        Some(path) => std::fs::write(path, text).map_err(|e| Error::io(path, e)),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// Render batches in `format`.
pub fn render(batches: &[RecordBatch], format: QueryFormat) -> Result<String> {
    use deltalake::arrow::{csv, json};
    Ok(match format {
        QueryFormat::Table => {
            pretty_format_batches(batches)
                .map_err(|e| Error::Internal(e.to_string()))?
                .to_string()
                + "\n"
        }
        QueryFormat::Csv => {
            let mut buf = Vec::new();
            {
                let mut w = csv::WriterBuilder::new().with_header(true).build(&mut buf);
                for b in batches {
                    w.write(b).map_err(|e| Error::Internal(e.to_string()))?;
                }
            }
            String::from_utf8_lossy(&buf).into_owned()
        }
        QueryFormat::Parquet => {
            return Err(Error::Usage(
                "--format parquet writes a file: give it with --out FILE".into(),
            ));
        }
        QueryFormat::Json => {
            let mut buf = Vec::new();
            {
                let mut w = json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, json::writer::JsonArray>(&mut buf);
                for b in batches {
                    w.write(b).map_err(|e| Error::Internal(e.to_string()))?;
                }
                w.finish().map_err(|e| Error::Internal(e.to_string()))?;
            }
            let mut s = String::from_utf8_lossy(&buf).into_owned();
            if s.is_empty() {
                s.push_str("[]");
            }
            s.push('\n');
            s
        }
    })
}
