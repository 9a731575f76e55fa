//! `lakemart gen`: a consistent set of extract files for every source system of
//! the reference mart, streamed to disk with bounded memory. See docs/generator.md.

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    /// 1.0 is about 100,000 customers.
    pub scale: f64,
    /// The last business date; `days` dates end with it.
    pub last_date: NaiveDate,
    pub days: u32,
    /// The landing directory (one sub-directory per date).
    pub out: PathBuf,
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct GenSummary {
    pub files: usize,
    pub bytes: u64,
    pub customers: u64,
    pub accounts: u64,
}

/// Write the extracts.
pub fn generate(options: &GenOptions) -> Result<GenSummary> {
    let _ = options;
    Err(Error::Internal("lakemart gen is not built yet".into()))
}
