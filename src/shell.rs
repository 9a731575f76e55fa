//! `lakemart shell`: an interactive SQL prompt over the lakehouse with line
//! editing and history kept in `~/.lakemart_history`.

use chrono::NaiveDate;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::error::{Error, Result};
use crate::project::Project;
use crate::query::{self, QueryFormat};
use crate::store::Lakehouse;

const HELP: &str = "End SQL statements with ';'.  \\d  list tables   \\d TABLE  describe   \\f csv|json|table  output format\n\\refresh  pick up new table versions   \\h  this help   \\q  quit";

/// Run the shell until `\q` or end of input; exit code 0.
pub async fn shell(project: &Project, lakehouse: &Lakehouse, as_of: Option<NaiveDate>) -> Result<i32> {
    let mut ctx = query::session_as_of(project, lakehouse, as_of).await?;
    let mut editor = DefaultEditor::new().map_err(|e| Error::Usage(format!("cannot start the shell: {e}")))?;
    let history = std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".lakemart_history"));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    let mut format = QueryFormat::Table;
    let mut pending = String::new();
    eprintln!(
        "lakemart shell on {}{} — \\h for help",
        lakehouse.root(),
        as_of.map(|d| format!(" as of {d}")).unwrap_or_default()
    );
    loop {
        let prompt = if pending.is_empty() { "lakemart> " } else { "     ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("shell: {e}"))),
        };
        let trimmed = line.trim();
        if pending.is_empty() && trimmed.starts_with('\\') {
            let _ = editor.add_history_entry(trimmed);
            let mut words = trimmed.split_whitespace();
            match (words.next(), words.next()) {
                (Some("\\q"), _) => break,
                (Some("\\h"), _) | (Some("\\?"), _) => println!("{HELP}"),
                (Some("\\refresh"), _) => {
                    ctx = query::session_as_of(project, lakehouse, as_of).await?;
                    println!("tables refreshed");
                }
                (Some("\\f"), Some(f)) => match f {
                    "csv" => format = QueryFormat::Csv,
                    "json" => format = QueryFormat::Json,
                    "table" => format = QueryFormat::Table,
                    other => println!("unknown format '{other}': csv, json or table"),
                },
                (Some("\\d"), None) => {
                    run(
                        &ctx,
                        "SELECT table_schema || '.' || table_name AS \"table\" FROM information_schema.tables \
                               WHERE table_schema NOT IN ('information_schema', 'pg_catalog') ORDER BY 1",
                        QueryFormat::Table,
                    )
                    .await
                }
                (Some("\\d"), Some(table)) => describe(&ctx, table).await,
                _ => println!("unknown command '{trimmed}'\n{HELP}"),
            }
            continue;
        }
        if trimmed.is_empty() && pending.is_empty() {
            continue;
        }
        pending.push_str(&line);
        pending.push('\n');
        if !trimmed.ends_with(';') {
            continue;
        }
        let sql = std::mem::take(&mut pending);
        let _ = editor.add_history_entry(sql.trim());
        run(&ctx, sql.trim().trim_end_matches(';'), format).await;
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    Ok(0)
}

/// Run one statement, printing its result or its error (the shell goes on).
async fn run(ctx: &deltalake::datafusion::prelude::SessionContext, sql: &str, format: QueryFormat) {
    if let Err(e) = query::run_to(ctx, sql, format, None).await {
        println!("error: {e}");
    }
}

/// `\d TABLE`: its columns and types.
async fn describe(ctx: &deltalake::datafusion::prelude::SessionContext, table: &str) {
    let Some((schema, name)) = table.split_once('.') else {
        println!("name the table as layer.table");
        return;
    };
    match ctx
        .table(deltalake::datafusion::common::TableReference::partial(schema, name))
        .await
    {
        Ok(df) => {
            for f in df.schema().fields() {
                println!(
                    "  {:<32} {}{}",
                    f.name(),
                    crate::compile::type_name(f.data_type()),
                    if f.is_nullable() { "" } else { " not null" }
                );
            }
        }
        Err(e) => println!("error: {}", crate::error::df_message(&e)),
    }
}
