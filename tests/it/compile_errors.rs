//! Issue 2: every compile error is reported in one pass, with file, line and
//! the expected wording, and `compile` exits 2.

use crate::common::tiny_project;

#[test]
fn a_clean_project_compiles() {
    let p = tiny_project();
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("compiled 2 models"), "{}", r.stdout);
}

#[test]
fn every_kind_of_error_is_reported_with_file_and_line_in_one_pass() {
    let p = tiny_project();
    p.write(
        "sql/aggregation/customer/broken_syntax.sql",
        "SELECT customer_id\n  FROM foundation.customer\n WHERE x =\n",
    );
    p.write(
        "sql/aggregation/customer/typo.sql",
        "SELECT *\nFROM foundation.custmer\n",
    );
    p.write(
        "sql/aggregation/customer/cyc_a.sql",
        "SELECT * FROM aggregation.cyc_b\n",
    );
    p.write(
        "sql/aggregation/customer/cyc_b.sql",
        "SELECT * FROM aggregation.cyc_a\n",
    );
    p.write(
        "sql/foundation/customer/reads_up.sql",
        "SELECT c.customer_id\nFROM foundation.customer c\nJOIN application.customer_360 a ON a.customer_id = c.customer_id\n",
    );
    p.write(
        "sql/aggregation/customer/bad_column.sql",
        "-- misspelt column\nSELECT customer_id,\n       balanse\nFROM foundation.customer\n",
    );
    p.write(
        "sql/aggregation/customer/bad_type.sql",
        "SELECT customer_id,\n  open_date + true AS d\nFROM foundation.customer\n",
    );
    p.write(
        "models/foundation/customer.toml",
        "[[models]]\nname = \"customer\"\ndescription = \"x\"\n\n[[models.columns]]\nname = \"customer_idd\"\n\n[[models]]\nname = \"ghost\"\n",
    );

    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let expected = [
        "sql/aggregation/customer/broken_syntax.sql:3: error[syntax] in aggregation.broken_syntax: SQL syntax error: Expected: an expression, found: EOF",
        "sql/aggregation/customer/typo.sql:2:6: error[unknown-table] in aggregation.typo: unknown table 'foundation.custmer'; did you mean 'foundation.customer'?",
        "sql/aggregation/customer/cyc_a.sql:1:15: error[cycle] in aggregation.cyc_a: dependency cycle: aggregation.cyc_a → aggregation.cyc_b → aggregation.cyc_a",
        "sql/foundation/customer/reads_up.sql:3:6: error[layer] in foundation.reads_up: a foundation model may not read application.customer_360 from the higher application layer",
        "sql/aggregation/customer/bad_column.sql:3:8: error[plan] in aggregation.bad_column: Schema error: No field named balanse. Did you mean 'foundation.customer.balance'?",
        "sql/aggregation/customer/bad_type.sql:2:3: error[plan] in aggregation.bad_type:",
        "models/foundation/customer.toml:6: error[metadata] in foundation.customer: column 'customer_idd' is described but foundation.customer does not produce it; did you mean 'customer_id'?",
        "models/foundation/customer.toml:9: error[metadata] in foundation.ghost: metadata names model foundation.ghost, which has no SQL file (expected sql/foundation/customer/ghost.sql)",
    ];
    for line in expected {
        assert!(r.stderr.contains(line), "missing:\n{line}\n\nin:\n{}", r.stderr);
    }
    assert!(r.stderr.contains("8 errors found"), "{}", r.stderr);
    // Nothing was written.
    assert!(!p.lakehouse().exists());
}

#[test]
fn type_errors_name_the_types() {
    let p = tiny_project();
    p.write(
        "sql/aggregation/customer/bad_type.sql",
        "SELECT customer_id,\n  open_date + true AS d\nFROM foundation.customer\n",
    );
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("Date32") && r.stderr.contains("Boolean"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_model_must_be_one_select() {
    let p = tiny_project();
    p.write("sql/aggregation/customer/two.sql", "SELECT 1 AS a;\nSELECT 2 AS b;\n");
    p.write("sql/aggregation/customer/ddl.sql", "DROP TABLE foundation.customer\n");
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("aggregation.two: a model is exactly one SELECT statement"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("aggregation.ddl: a model is one SELECT statement"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_toml_is_located() {
    let p = tiny_project();
    p.write(
        "models/sources/core.toml",
        "description = \"x\"\n[[tables]]\nname = \"customer\"\nfile = 3\n",
    );
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("models/sources/core.toml:4: error[toml]"),
        "{}",
        r.stderr
    );
    // The model that read the broken source is reported too, not silently dropped.
    assert!(r.stderr.contains("unknown table 'src.core_customer'"), "{}", r.stderr);
}

#[test]
fn missing_project_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = crate::common::lakemart(dir.path(), &dir.path().join("lh"), &["compile"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no lakemart.toml here"), "{}", r.stderr);
}

#[test]
fn manifest_lists_models_columns_and_dependencies() {
    let p = tiny_project();
    let r = p.run(&["compile", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let c360 = m["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "application.customer_360")
        .unwrap();
    assert_eq!(c360["layer"], "application");
    assert_eq!(c360["subject"], "customer");
    assert_eq!(c360["depends_on"], serde_json::json!(["foundation.customer"]));
    let aum = c360["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "aum")
        .unwrap();
    assert_eq!(aum["type"], "decimal(18,2)");
    let cust = m["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "foundation.customer")
        .unwrap();
    assert_eq!(cust["depends_on"], serde_json::json!(["src.core_customer"]));
    assert_eq!(cust["columns"][0]["description"], "Customer number");
    assert_eq!(m["sources"][0]["name"], "src.core_customer");
    assert_eq!(m["sources"][0]["system"], "core");
}

#[test]
fn dag_renders_levels_dot_and_mermaid() {
    let p = tiny_project();
    let text = p.run(&["dag"]);
    assert_eq!(
        text.stdout,
        "level 0\n  src.core_customer\nlevel 1\n  foundation.customer <- src.core_customer\nlevel 2\n  application.customer_360 <- foundation.customer\n"
    );
    let dot = p.run(&["dag", "--format", "dot"]);
    assert!(
        dot.stdout
            .contains("\"foundation.customer\" -> \"application.customer_360\";"),
        "{}",
        dot.stdout
    );
    let mermaid = p.run(&["dag", "--format", "mermaid"]);
    assert!(
        mermaid
            .stdout
            .contains("foundation_customer --> application_customer_360"),
        "{}",
        mermaid.stdout
    );
}

/// A relationships test runs right after its model, so its target must be built
/// before it: a target the model does not read (directly or not) is refused,
/// because the test would check the target's previous business date — or fail
/// on a fresh lakehouse.
#[test]
fn a_relationship_to_a_table_the_model_does_not_read_is_refused() {
    let p = tiny_project();
    p.write(
        "models/foundation/customer.toml",
        "[[models]]\nname = \"customer\"\ndescription = \"Golden customer\"\n\n\
         [[models.tests]]\ntype = \"relationships\"\ncolumn = \"customer_id\"\n\
         to = \"application.customer_360\"\nfield = \"customer_id\"\n",
    );
    p.write(
        "models/application/customer.toml",
        "[[models]]\nname = \"customer_360\"\ndescription = \"360\"\n\n\
         [[models.tests]]\ntype = \"relationships\"\ncolumn = \"customer_id\"\n\
         to = \"foundation.customer\"\nfield = \"customer_id\"\n",
    );
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "models/foundation/customer.toml:5: error[test] in foundation.customer: test \
             'relationships(customer_id, application.customer_360.customer_id)': foundation.customer does not \
             read application.customer_360, directly or through what it reads, so the test could run before \
             application.customer_360 is built for the business date"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("1 error found"),
        "the 360's test on what it reads is fine:\n{}",
        r.stderr
    );
}

#[test]
fn model_settings_are_checked_against_datafusion_options() {
    let p = tiny_project();
    p.write(
        "models/foundation/customer.toml",
        "[[models]]\nname = \"customer\"\ndescription = \"x\"\n\n[models.settings]\n\
         \"datafusion.optimizer.prefer_hash_joins\" = false\n\
         \"datafusion.execution.batch_size\" = \"many\"\n\
         \"datafusion.sql_parser.dialect\" = \"mysql\"\n\
         \"datafusion.execution.target_partitions\" = [2]\n\
         datafusion.execution.time_zone = \"+08:00\"\n\
         datafusion.optimizer.prefer_hash_join = false\n",
    );
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    let expected = [
        "models/foundation/customer.toml:6: error[config] in foundation.customer: setting \
         'datafusion.optimizer.prefer_hash_joins' is not a DataFusion option; did you mean \
         'datafusion.optimizer.prefer_hash_join'",
        "models/foundation/customer.toml:7: error[config] in foundation.customer: setting \
         'datafusion.execution.batch_size' = many:",
        "models/foundation/customer.toml:8: error[config] in foundation.customer: setting \
         'datafusion.sql_parser.dialect': a model may set only datafusion.optimizer.* and \
         datafusion.execution.* options",
        "models/foundation/customer.toml:9: error[config] in foundation.customer: setting \
         'datafusion.execution.target_partitions': expected a string, number or boolean, found array",
    ];
    for line in expected {
        assert!(r.stderr.contains(line), "missing:\n{line}\n\nin:\n{}", r.stderr);
    }
    // Unquoted dotted keys are a nested table in TOML; they are read as the option's name.
    assert!(
        r.stderr.contains(
            "models/foundation/customer.toml:10: error[config] in foundation.customer: setting \
             'datafusion.execution.time_zone' may not be set per model: it changes the results of date and time functions"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("setting 'datafusion.optimizer.prefer_hash_join'"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("5 errors found"), "{}", r.stderr);
}
