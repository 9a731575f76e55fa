//! Errors: user errors (config, SQL, graph, bad input) kept apart from
//! internal ones, each carrying the file, model or table it is about.

use std::fmt;
use std::path::PathBuf;

use deltalake::DeltaTableError;
use deltalake::datafusion::error::DataFusionError;

/// `Result` with lakemart's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem found in the project, located as precisely as we can.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// The file the problem is in, relative to the project root.
    pub file: PathBuf,
    /// 1-based line, where one is known.
    pub line: Option<usize>,
    /// 1-based column, where one is known.
    pub column: Option<usize>,
    /// The model or source table the problem belongs to.
    pub model: Option<String>,
    /// A short, stable name for the kind of problem (`syntax`, `unknown-table`, …).
    pub kind: &'static str,
    /// What is wrong, in words, with what to do about it where we know.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(file: impl Into<PathBuf>, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: None,
            column: None,
            model: None,
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn at(mut self, line: Option<usize>, column: Option<usize>) -> Self {
        self.line = line;
        self.column = column;
        self
    }

    pub(crate) fn in_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": error[{}]", self.kind)?;
        if let Some(model) = &self.model {
            write!(f, " in {model}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything that can go wrong in lakemart.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project does not compile; every problem found in one pass.
    #[error("{}\n{} error{} found", render(.0), .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Compile(Vec<Diagnostic>),

    /// A configuration file is missing or malformed.
    #[error("{}: {message}", .file.display())]
    Config { file: PathBuf, message: String },

    /// The command line asks for something that cannot be done.
    #[error("{0}")]
    Usage(String),

    /// A source extract could not be ingested.
    #[error("source {table}: {message}")]
    Source {
        table: String,
        message: String,
        /// Worth retrying (storage trouble rather than bad data).
        transient: bool,
    },

    /// A model failed while running.
    #[error("model {model}: {message}")]
    Model {
        model: String,
        message: String,
        /// Worth retrying (storage trouble rather than bad SQL).
        transient: bool,
    },

    /// Another run holds the lakehouse.
    #[error("another run holds the lakehouse: run {run_id} on host {host} (pid {pid}), started {started_at}")]
    Locked {
        run_id: String,
        host: String,
        pid: u32,
        started_at: String,
    },

    /// A run finished with failed models or sources (their errors were already reported).
    #[error("{failed} of {total} models and sources failed")]
    RunFailed { failed: usize, total: usize },

    /// File-system trouble outside Delta.
    #[error("{}: {source}", .path.display())]
    Io { path: PathBuf, source: std::io::Error },

    #[error(transparent)]
    Delta(#[from] DeltaTableError),

    #[error("{}{}", .0, memory_hint(.0))]
    DataFusion(#[from] DataFusionError),

    /// A broken invariant: this is a bug in lakemart.
    #[error("internal error (this is a bug in lakemart): {0}")]
    Internal(String),
}

impl From<deltalake::arrow::error::ArrowError> for Error {
    fn from(e: deltalake::arrow::error::ArrowError) -> Error {
        Error::DataFusion(e.into())
    }
}

impl Error {
    /// The process exit code for this error (see docs/operations in DESIGN.md):
    /// 1 a model, test or source failed; 2 usage, config or compile error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Compile(_) | Error::Config { .. } | Error::Usage(_) => 2,
            Error::Locked { .. } => 3,
            _ => 1,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn config(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.into(),
            message: message.into(),
        }
    }
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// DataFusion's message without its backtrace and its "Error during planning:" wrapper noise.
pub(crate) fn df_message(e: &DataFusionError) -> String {
    let root = e.find_root();
    let text = match root {
        DataFusionError::Diagnostic(_, inner) => inner.strip_backtrace(),
        other => other.strip_backtrace(),
    };
    let text = match root {
        DataFusionError::ResourcesExhausted(_) => shorten_consumers(text.trim()),
        _ => shorten_valid_fields(text.trim()),
    };
    format!("{text}{}", memory_hint(e))
}

/// DataFusion follows "No field named x" with every column in scope ("Valid fields
/// are …"): over 5,000 characters for one typo in a model that joins a customer 360
/// table. Keep the first few and say how many more, and of which relations.
fn shorten_valid_fields(text: &str) -> String {
    const SHOWN: usize = 10;
    const LEAD: &str = "\nValid fields are ";
    let Some(at) = text.find(LEAD) else {
        return text.to_string();
    };
    let (head, rest) = text.split_at(at + LEAD.len());
    let (list, tail) = match rest.find(".\n") {
        Some(end) => rest.split_at(end),
        None => match rest.strip_suffix('.') {
            Some(list) => (list, "."),
            None => (rest, ""),
        },
    };
    let fields: Vec<&str> = list.split(", ").collect();
    if fields.len() <= 2 * SHOWN {
        return text.to_string();
    }
    let mut relations: Vec<&str> = Vec::new();
    for f in &fields {
        if let Some((relation, _)) = f.rsplit_once('.')
            && !relations.contains(&relation)
        {
            relations.push(relation);
        }
    }
    let of = match relations.len() {
        0 => String::new(),
        _ => format!(" (of {})", relations.join(", ")),
    };
    format!(
        "{head}{}, … and {} more{of}{tail}",
        fields[..SHOWN].join(", "),
        fields.len() - SHOWN
    )
}

/// DataFusion names an aggregation's memory consumer after all its aggregate
/// expressions ("GroupedHashAggregateStream[0] (count(1), sum(…), …)"), thousands
/// of characters for a wide model; keep the start of any such name.
fn shorten_consumers(text: &str) -> String {
    const KEEP: usize = 100;
    let mut out = String::with_capacity(text.len().min(4096));
    let mut rest = text;
    while let Some(i) = rest.find(" for ") {
        let (head, tail) = rest.split_at(i + 5);
        out.push_str(head);
        match tail.find(" with ") {
            Some(j) if j > 2 * KEEP => {
                let mut cut = KEEP;
                while !tail.is_char_boundary(cut) {
                    cut -= 1;
                }
                out.push_str(&tail[..cut]);
                out.push_str(" …)");
                rest = &tail[j..];
            }
            _ => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// What to do about a query that outgrew the memory pool; empty for other errors.
fn memory_hint(e: &DataFusionError) -> String {
    if !matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)) {
        return String::new();
    }
    memory_advice()
}

/// What to do when memory ran out: raise the limit or build fewer models at once.
fn memory_advice() -> String {
    let limit = crate::engine::memory_limit() as f64 / (1u64 << 30) as f64;
    format!(
        "\n  it needs more memory than its pool allows (operators that cannot spill to disk hold it): raise \
         --memory-limit (or LAKEMART_MEMORY_LIMIT) from {limit:.2} GiB; a run shares it equally among the \
         models it builds at once (--threads)"
    )
}

/// An error's message without lakemart's own wrapping (the root DataFusion
/// message, the arrow message inside a Delta error).
pub(crate) fn plain_message(e: Error) -> String {
    match e {
        Error::DataFusion(e) => df_message(&e),
        Error::Delta(deltalake::DeltaTableError::Arrow { source }) => source.to_string(),
        // delta-rs passes DataFusion's errors from a write on as text.
        Error::Delta(e) if e.to_string().contains("Resources exhausted") => {
            format!("{}{}", shorten_consumers(&e.to_string()), memory_advice())
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{shorten_consumers, shorten_valid_fields};

    #[test]
    fn a_long_list_of_valid_fields_is_cut_to_the_first_few() {
        let fields: Vec<String> = (0..300)
            .map(|i| format!("c.col_{i}"))
            .chain((0..200).map(|i| format!("pf.feature_{i}")))
            .collect();
        let text = format!(
            "Schema error: No field named c.customer_idd. Did you mean 'c.customer_id'?.\nValid fields are {}.",
            fields.join(", ")
        );
        assert_eq!(
            shorten_valid_fields(&text),
            "Schema error: No field named c.customer_idd. Did you mean 'c.customer_id'?.\nValid fields are c.col_0, \
             c.col_1, c.col_2, c.col_3, c.col_4, c.col_5, c.col_6, c.col_7, c.col_8, c.col_9, … and 490 more (of c, \
             pf)."
        );
        let short = "Schema error: No field named x.\nValid fields are a, b, t.c.";
        assert_eq!(shorten_valid_fields(short), short);
        assert_eq!(shorten_valid_fields("Divide by zero error"), "Divide by zero error");
    }

    #[test]
    fn long_memory_consumer_names_are_cut() {
        let exprs = (0..50)
            .map(|i| format!("sum(CASE WHEN t.c = {i} THEN t.amount_cny END)"))
            .collect::<Vec<_>>();
        let text = format!(
            "Resources exhausted: Failed to allocate additional 312.8 MB for GroupedHashAggregateStream[0] ({}) \
             with 8.2 KB already allocated for this reservation - 256.0 MB remain available",
            exprs.join(", ")
        );
        let short = shorten_consumers(&text);
        assert!(short.len() < 400, "{short}");
        assert!(short.starts_with(
            "Resources exhausted: Failed to allocate additional 312.8 MB for GroupedHashAggregateStream[0] (sum(CASE"
        ));
        assert!(short.ends_with(" …) with 8.2 KB already allocated for this reservation - 256.0 MB remain available"));
        let plain = "Failed to allocate additional 28.6 MB for HashJoinInput[1] with 0 B already allocated";
        assert_eq!(shorten_consumers(plain), plain);
    }
}
