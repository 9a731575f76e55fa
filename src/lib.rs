//! lakemart builds a bank's customer data mart on a Delta Lake lakehouse.
//!
//! ```text
//!  landing/<biz_date>/<system>/…       extract files of the source systems
//!        │  source: read, trim, type, add biz_date
//!        ▼
//!  <lakehouse>/src/<system>_<table>    staged sources, partitioned by biz_date
//!        │  project → compile: SQL → table refs → Dag → LogicalPlan per model
//!        ▼
//!  <lakehouse>/foundation/<model>      subject-area integration
//!  <lakehouse>/aggregation/<model>     customer summaries
//!  <lakehouse>/application/<model>     customer_360 and friends, with the tag and score
//!                                      columns and the customer_tag and customer_score
//!                                      models that lowcode makes from tags.toml, scores.toml
//!        │  query: every table as layer.table
//!        ▼
//!  analysts (lakemart query, any Delta reader)
//! ```
//!
//! Every arrow is a streamed DataFusion plan written as one Delta commit tagged
//! with the run id, business date and model. Calls point one way:
//! `commands` → `run`/`query` → `compile`, `source`, `store` → `project`.

pub mod cli;
pub mod commands;
pub mod compile;
pub mod dag;
pub mod datatest;
pub mod docs;
pub mod engine;
pub mod error;
pub mod fingerprint;
pub mod generator;
pub mod history;
pub mod ledger;
pub mod lineage;
pub mod lowcode;
pub mod maintain;
pub mod materialize;
pub mod patch;
pub mod project;
pub mod query;
pub mod rowdiff;
pub mod run;
pub mod select;
pub mod serve;
pub mod shell;
pub mod source;
pub mod status;
pub mod store;
pub mod testing;

pub use error::{Diagnostic, Error, Result};
