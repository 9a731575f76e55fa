//! Command-line definitions. The doc comments are the `--help` text.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use crate::query::QueryFormat;

/// lakemart builds a bank's customer data mart as Delta tables: sources are
/// staged, models (one SELECT each) run in dependency order, and analysts query the result.
#[derive(Debug, Parser)]
#[command(name = "lakemart", version, about, long_about = None)]
pub struct Cli {
    /// The project directory, holding lakemart.toml, models/ and sql/.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub project: PathBuf,

    /// The lakehouse: a path or a URL (file://, s3://, az://). Default: lakemart.toml's, else ./lakehouse.
    #[arg(long, global = true, value_name = "PATH_OR_URL")]
    pub lakehouse: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check every model without touching data: SQL, table references, layers,
    /// cycles, column types and metadata. Exit 2 lists every problem with its file and line.
    Compile {
        /// `text` prints a summary; `json` prints the manifest.
        #[arg(long, value_enum, default_value_t = CompileFormat::Text)]
        format: CompileFormat,
    },
    /// Ingest the sources of a business date and build every model into its Delta table.
    Run {
        /// The business date to build (YYYY-MM-DD). Default: the latest date in the landing directory.
        #[arg(long, value_parser = parse_date, conflicts_with_all = ["from", "to"])]
        date: Option<NaiveDate>,
        /// Build every landed business date from this one (inclusive), in date order.
        #[arg(long, value_parser = parse_date, requires = "to")]
        from: Option<NaiveDate>,
        /// The last business date of a --from range (inclusive).
        #[arg(long, value_parser = parse_date, requires = "from")]
        to: Option<NaiveDate>,
        /// How many models and sources run at once. Default: the number of cores.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// Run only these models or source tables (space or comma separated names).
        #[arg(long, num_args = 1.., value_delimiter = ',', value_name = "NAMES")]
        select: Vec<String>,
        /// `text` prints progress and a summary table; `json` prints one event per line.
        #[arg(long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
    },
    /// Run a SQL query over the lakehouse tables (`layer.model`, `src.<system>_<table>`).
    Query {
        /// The query.
        sql: String,
        #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
        format: QueryFormat,
    },
    /// Print the dependency graph of models and sources.
    Dag {
        #[arg(long, value_enum, default_value_t = DagFormat::Text)]
        format: DagFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompileFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RunFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DagFormat {
    /// Levels that may run in parallel, each model with what it reads.
    Text,
    /// Graphviz.
    Dot,
    /// A Mermaid flowchart.
    Mermaid,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date like 2024-06-30"))
}
