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

    /// Memory DataFusion may use in this process (e.g. 6GiB, 512MiB); beyond it sorts
    /// and aggregations spill to disk. Default: $LAKEMART_MEMORY_LIMIT, else half of
    /// the machine's (or cgroup's) memory.
    #[arg(long, global = true, value_name = "SIZE", value_parser = crate::engine::parse_size)]
    pub memory_limit: Option<usize>,

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
        #[command(flatten)]
        selection: Selection,
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
        #[command(flatten)]
        selection: Selection,
        /// Re-run only what failed, was skipped or never ran in the last run of the date.
        #[arg(long)]
        resume: bool,
        /// After the first failure start nothing new (what is left is recorded as skipped, for --resume).
        #[arg(long)]
        fail_fast: bool,
        /// Further attempts after a transient failure (storage I/O, commit conflict); SQL errors are not retried.
        #[arg(long, default_value_t = 2, value_name = "N")]
        retries: u32,
        /// Fail a model that runs longer than this many seconds.
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// Rebuild the selected incremental models (merge, partition, append, scd2,
        /// snapshot_diff) from scratch instead of applying the date's changes.
        #[arg(long)]
        full_refresh: bool,
        /// `text` prints progress and a summary table; `json` prints one event per line.
        #[arg(long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
    },
    /// Ingest source extracts only: read, cleanse, reconcile with control files and stage
    /// them as `src.<system>_<table>`; rejected rows go to `_rejects.<system>_<table>`.
    /// Prints rows read, loaded, rejected and soft-fixed per table. See docs/ingest.md.
    Ingest {
        /// The business date (YYYY-MM-DD). Default: the latest date in the landing directory.
        #[arg(long, value_parser = parse_date, conflicts_with_all = ["from", "to"])]
        date: Option<NaiveDate>,
        /// Ingest every landed business date from this one (inclusive), in date order.
        #[arg(long, value_parser = parse_date, requires = "to")]
        from: Option<NaiveDate>,
        /// The last business date of a --from range (inclusive).
        #[arg(long, value_parser = parse_date, requires = "from")]
        to: Option<NaiveDate>,
        /// Only these source systems (`core`) or tables (`core_customer`); default every one.
        #[arg(long, num_args = 1.., value_name = "SOURCE")]
        source: Vec<String>,
        /// How many tables are ingested at once. Default: the number of cores.
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        /// `text` prints a table of figures; `json` one event per line.
        #[arg(long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
    },
    /// Generate a consistent set of extract files for every source system of the reference
    /// mart: the same customers and accounts across systems, realistic distributions and
    /// noise at declared rates. Same seed, same bytes. See docs/generator.md.
    Gen {
        /// Size: 1 is about 100,000 customers; 0.01 about 1,000; 10 about 1,000,000.
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// The last business date to generate (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        date: NaiveDate,
        /// How many consecutive business dates, ending at --date.
        #[arg(long, default_value_t = 1, value_name = "N")]
        days: u32,
        /// The landing directory to write into (one sub-directory per date).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The random seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Re-run what failed or was skipped in the last run of a date (same as `run --resume`).
    Retry {
        /// The business date. Default: the latest date that has landed.
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
        #[arg(long, value_name = "N")]
        threads: Option<usize>,
        #[arg(long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
    },
    /// The last run of each business date (or of --date): what failed and why, what it
    /// skipped, the slowest models and the critical path.
    Status {
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
        /// `text` for people, `json` for machines.
        #[arg(long, value_enum, default_value_t = RunFormat::Text)]
        format: RunFormat,
    },
    /// Run the data tests declared in model metadata against the tables as they are.
    Test {
        #[command(flatten)]
        selection: Selection,
        /// The business date the tests are about (for row-count change). Default: the latest landed.
        #[arg(long, value_parser = parse_date)]
        date: Option<NaiveDate>,
    },
    /// Wait until every source's extract for a date has landed.
    Wait {
        #[arg(long, value_parser = parse_date)]
        date: NaiveDate,
        /// Give up after this many seconds (exit 1, naming what is missing).
        #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
        timeout: u64,
        /// Look again every this many seconds.
        #[arg(long, default_value_t = 10, value_name = "SECONDS")]
        interval: u64,
    },
    /// Compact small files, Z-order where declared, checkpoint, and vacuum old files
    /// while keeping the time-travel window.
    Maintain {
        #[command(flatten)]
        selection: Selection,
        /// Keep removed files this many days, for time travel (never less than 7).
        #[arg(long, default_value_t = 30, value_name = "DAYS")]
        retention_days: u32,
    },
    /// Run a SQL query over the lakehouse tables (`layer.model`, `src.<system>_<table>`).
    Query {
        /// The query.
        sql: String,
        #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
        format: QueryFormat,
        /// Query every table as it was for this business date (YYYY-MM-DD): its latest
        /// version committed for that date or an earlier one. Tables that did not exist yet are absent.
        #[arg(long, value_parser = parse_date, value_name = "DATE")]
        as_of_date: Option<NaiveDate>,
        /// Write the result to this file instead of stdout (required for parquet).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// An interactive SQL shell over the lakehouse, with history. End statements
    /// with `;`. `\d` lists tables, `\d TABLE` describes one, `\f csv|json|table`
    /// sets the output format, `\refresh` picks up new table versions, `\q` quits.
    Shell {
        /// Query every table as it was for this business date.
        #[arg(long, value_parser = parse_date, value_name = "DATE")]
        as_of_date: Option<NaiveDate>,
    },
    /// Print the dependency graph of models and sources.
    Dag {
        #[arg(long, value_enum, default_value_t = DagFormat::Text)]
        format: DagFormat,
        #[command(flatten)]
        selection: Selection,
    },
    /// Column lineage: the tree of upstream columns a column is computed from, down to
    /// the source extract columns (`src.<system>_<table>.<column>`), read off the models'
    /// plans. Join keys and WHERE columns decide rows, not values: they are not in the tree
    /// (the manifest lists them per model as `filtered_by`).
    Lineage {
        /// The column, as layer.table.column: `application.customer_360.aum_cny`.
        column: String,
        /// The columns computed from it instead, up to the application layer.
        #[arg(long)]
        downstream: bool,
        /// `text` prints an indented tree; `json` the same tree as nested objects.
        #[arg(long, value_enum, default_value_t = crate::lineage::LineageFormat::Text)]
        format: crate::lineage::LineageFormat,
    },
    /// The versions of one table, newest first: commit time (UTC), operation (WRITE, MERGE,
    /// RESTORE, OPTIMIZE…), run id, business date, and rows added and removed where recorded.
    History {
        /// The table, as layer.table: `application.customer_360`, `src.core_customer`.
        model: String,
        /// `text` for people; `json` prints one object per version, a line each.
        #[arg(long, value_enum, default_value_t = crate::history::HistoryFormat::Text)]
        format: crate::history::HistoryFormat,
    },
    /// Put a table back to an earlier version. The restore is a new Delta commit (RESTORE),
    /// tagged with a fresh run id, the business date restored to and the model; nothing
    /// downstream is rebuilt. Takes the lakehouse lock like a run.
    #[command(group(clap::ArgGroup::new("target").required(true).args(["to_date", "to_version"])))]
    Restore {
        /// The table, as layer.table: `application.customer_360`, `src.core_customer`.
        model: String,
        /// Restore the version that was current for this business date (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date, value_name = "DATE")]
        to_date: Option<NaiveDate>,
        /// Restore this version number (see `lakemart history MODEL`).
        #[arg(long, value_name = "VERSION")]
        to_version: Option<u64>,
    },
    /// Write the docs site: a static HTML catalog of every model and source table (columns,
    /// types, PII flags, data tests and their last results, SQL, upstream and downstream,
    /// column lineage, lineage graphs) with a search, and the last run's status and timings
    /// from the lakehouse when it has run records. Works offline, from file://.
    Docs {
        /// The directory to write the site to (created when missing); open DIR/index.html.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Serve every built table over the PostgreSQL wire protocol (psql, DBeaver, Python),
    /// read-only, with passwords from a users file and pii columns masked for users
    /// without the `pii` role. Tables follow new Delta versions without a restart;
    /// `SET lakemart.as_of_date = 'YYYY-MM-DD'` travels back. See docs/analysts.md.
    Serve {
        /// Address and port to listen on. Default: `bind` under [serve] in lakemart.toml, else 127.0.0.1:5433.
        #[arg(long, value_name = "ADDR:PORT")]
        bind: Option<String>,
        /// The users file (names, password hashes, roles). Default: `users` under [serve] in lakemart.toml.
        #[arg(long, value_name = "FILE")]
        users: Option<PathBuf>,
        /// Read a password from standard input, print its hash for the users file, and exit.
        #[arg(long, conflicts_with_all = ["bind", "users"])]
        hash_password: bool,
    },
}

/// Which models and sources a command works on.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Selection {
    /// What to include: `name`, `+name` (with upstream), `name+` (with downstream),
    /// `layer:foundation`, `subject:customer`, `source:core`, `tag:daily`; several
    /// separated by spaces are a union, `a,b` in one term an intersection.
    #[arg(long, num_args = 1.., value_name = "SELECTOR")]
    pub select: Vec<String>,
    /// What to leave out, in the same syntax.
    #[arg(long, num_args = 1.., value_name = "SELECTOR")]
    pub exclude: Vec<String>,
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
