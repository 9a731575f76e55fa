//! The one integration-test binary: each area of lakemart in its own module.

mod analyst;
mod batch_ops;
mod common;
mod compile_errors;
mod docs_site;
mod ingest;
mod interop;
mod lineage;
mod lowcode;
mod materializations;
mod run_failures;
mod sample_mart;
mod serve;
mod time_travel;
