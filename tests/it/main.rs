//! The one integration-test binary: each area of lakemart in its own module.

mod batch_ops;
mod common;
mod compile_errors;
mod interop;
mod materializations;
mod run_failures;
mod sample_mart;
mod time_travel;
