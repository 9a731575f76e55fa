//! Data tests against built tables: right after a model within `run`, and on
//! demand with `lakemart test`. Outcomes land in `_lakemart.test_result`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::NaiveDate;
use deltalake::datafusion::execution::runtime_env::RuntimeEnv;

use crate::compile::Compiled;
use crate::datatest::{self, TestKind, TestOutcome, TestStatus};
use crate::engine;
use crate::error::{Error, Result};
use crate::ledger;
use crate::run::split_name;
use crate::store::Lakehouse;

/// Run `model`'s declared tests against its table as it is now.
pub async fn test_model(
    compiled: &Compiled,
    lakehouse: &Lakehouse,
    model: &str,
    biz_date: NaiveDate,
    runtime: Arc<RuntimeEnv>,
) -> Result<Vec<TestOutcome>> {
    let Some(meta) = compiled.project.models.get(model).and_then(|m| m.meta.as_ref()) else {
        return Ok(Vec::new());
    };
    if meta.tests.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = engine::session_in(engine::cores(), &Default::default(), runtime)?;
    let mut tables: BTreeSet<&str> = BTreeSet::from([model]);
    for (spec, _) in &meta.tests {
        if let TestKind::Relationships { to, .. } = &spec.kind {
            tables.insert(to.as_str());
        }
    }
    for name in tables {
        let (layer, table) = split_name(name)?;
        let t = lakehouse.open(layer, table).await?.ok_or_else(|| Error::Model {
            model: model.to_string(),
            message: format!("cannot test: table {name} has not been built"),
            transient: false,
        })?;
        engine::register_delta(&ctx, layer.as_str(), table, &t).await?;
    }
    let previous = if meta
        .tests
        .iter()
        .any(|(s, _)| matches!(s.kind, TestKind::RowCountChange { .. }))
    {
        ledger::previous_rows(lakehouse, model, biz_date).await?
    } else {
        None
    };
    let mut outcomes = Vec::new();
    for (spec, _) in &meta.tests {
        outcomes.push(datatest::run_test(&ctx, model, spec, previous).await?);
    }
    Ok(outcomes)
}

/// The error that fails a model whose `error`-severity tests failed, if any did.
pub fn failure(model: &str, outcomes: &[TestOutcome]) -> Option<Error> {
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == TestStatus::Fail)
        .map(|o| format!("{}: {}", o.name, o.message))
        .collect();
    (!failed.is_empty()).then(|| Error::Model {
        model: model.to_string(),
        message: format!("data test failed: {}", failed.join("; ")),
        transient: false,
    })
}

/// `lakemart test`: every selected model's tests; exit 1 when an `error` test fails.
pub async fn run_tests_command(
    compiled: &Compiled,
    lakehouse: &Lakehouse,
    nodes: &BTreeSet<String>,
    biz_date: NaiveDate,
) -> Result<i32> {
    let run_id = crate::run::new_run_id();
    let (mut pass, mut warn, mut fail) = (0, 0, 0);
    for model in compiled.model_order().iter().filter(|m| nodes.contains(*m)) {
        let outcomes = test_model(compiled, lakehouse, model, biz_date, engine::runtime()?).await?;
        for o in &outcomes {
            match o.status {
                TestStatus::Pass => pass += 1,
                TestStatus::Warn => warn += 1,
                TestStatus::Fail => fail += 1,
            }
            println!("{:<4}  {model}  {} — {}", o.status, o.name, o.message);
            for row in &o.sample {
                println!("        {row}");
            }
        }
        ledger::record_tests(lakehouse, &run_id, biz_date, model, &outcomes).await?;
    }
    println!("{pass} passed, {fail} failed, {warn} warned");
    Ok(if fail > 0 { 1 } else { 0 })
}
