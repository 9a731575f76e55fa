//! Issue 2: `run` builds in dependency order, records who wrote each commit,
//! is repeatable, and a failure skips exactly its downstream (exit 1).

use crate::common::tiny_project;

fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn finished<'a>(events: &'a [serde_json::Value], model: &str) -> &'a serde_json::Value {
    events
        .iter()
        .find(|e| e["event"] == "model_finished" && e["model"] == model)
        .unwrap_or_else(|| panic!("no model_finished for {model}"))
}

#[test]
fn run_builds_tables_and_query_reads_them() {
    let p = tiny_project();
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("application.customer_360  success"), "{}", r.stdout);
    assert!(r.stdout.contains("3 succeeded, 0 failed, 0 skipped"), "{}", r.stdout);

    let q = p.run(&[
        "query",
        "SELECT customer_id, aum, biz_date FROM application.customer_360 ORDER BY customer_id",
        "--format",
        "csv",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    // Trimmed, empty → NULL → 0.00, money kept as decimal.
    assert_eq!(
        q.stdout,
        "customer_id,aum,biz_date\nC1,100.50,2024-06-30\nC2,0.00,2024-06-30\nC3,7.25,2024-06-30\n"
    );

    let json = p.run(&[
        "query",
        "SELECT cust_id, balance, open_date FROM src.core_customer WHERE cust_id = 'C3'",
        "--format",
        "json",
    ]);
    assert_eq!(
        json.stdout.trim(),
        r#"[{"cust_id":"C3","balance":7.25,"open_date":null}]"#
    );

    let table = p.run(&["query", "SELECT count(*) AS n FROM foundation.customer"]);
    assert!(table.stdout.contains("| 3 |"), "{}", table.stdout);
}

#[test]
fn staged_sources_keep_every_date_and_a_rerun_replaces_only_its_own() {
    let p = tiny_project();
    assert_eq!(p.run(&["run", "--from", "2024-06-29", "--to", "2024-06-30"]).code, 0);
    assert_eq!(
        p.run(&["run", "--date", "2024-06-29", "--select", "src.core_customer"])
            .code,
        0
    );
    let q = p.run(&["query", "SELECT biz_date, count(*) AS n, sum(balance) AS total FROM src.core_customer GROUP BY biz_date ORDER BY biz_date", "--format", "csv"]);
    assert_eq!(q.stdout, "biz_date,n,total\n2024-06-29,2,105.00\n2024-06-30,3,107.75\n");
}

#[test]
fn a_second_run_of_the_same_date_gives_identical_tables() {
    let p = tiny_project();
    let sql = "SELECT * FROM application.customer_360 ORDER BY customer_id";
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 0);
    let first = p.run(&["query", sql, "--format", "csv"]).stdout;
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 0);
    let second = p.run(&["query", sql, "--format", "csv"]).stdout;
    assert_eq!(first, second);
    let staged = p
        .run(&[
            "query",
            "SELECT count(*) AS n FROM src.core_customer",
            "--format",
            "csv",
        ])
        .stdout;
    assert_eq!(staged, "n\n3\n", "re-ingesting a date must not duplicate rows");
}

#[test]
fn every_commit_records_run_id_business_date_and_model() {
    let p = tiny_project();
    let r = p.run(&["run", "--date", "2024-06-30", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ev = events(&r.stdout);
    let run_id = ev[0]["run_id"].as_str().unwrap().to_string();
    let log = p
        .lakehouse()
        .join("application/customer_360/_delta_log/00000000000000000000.json");
    let text = std::fs::read_to_string(log).unwrap();
    let info: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v.get("commitInfo").is_some())
        .unwrap();
    let ci = &info["commitInfo"];
    assert_eq!(ci["lakemart.run_id"], run_id.as_str());
    assert_eq!(ci["lakemart.biz_date"], "2024-06-30");
    assert_eq!(ci["lakemart.model"], "application.customer_360");
    let done = finished(&ev, "application.customer_360");
    assert_eq!(done["rows"], 3);
    assert_eq!(done["delta_version"], 0);
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    assert_eq!(last["success"], 3);
}

#[test]
fn a_failing_model_skips_exactly_its_downstream() {
    let p = tiny_project();
    // Compiles (types are fine) but divides by zero at run time.
    p.write(
        "sql/foundation/customer/risky.sql",
        "SELECT customer_id, CAST(1 AS BIGINT) / (count(*) OVER () - count(*) OVER ()) AS ratio FROM foundation.customer\n",
    );
    p.write(
        "sql/aggregation/customer/after_risky.sql",
        "SELECT * FROM foundation.risky\n",
    );
    p.write(
        "sql/application/customer/after_after.sql",
        "SELECT * FROM aggregation.after_risky\n",
    );
    let r = p.run(&["run", "--date", "2024-06-30", "--format", "json"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let ev = events(&r.stdout);
    assert_eq!(finished(&ev, "foundation.risky")["status"], "failed");
    assert!(
        finished(&ev, "foundation.risky")["error"]
            .as_str()
            .unwrap()
            .contains("Divide by zero")
    );
    assert_eq!(finished(&ev, "aggregation.after_risky")["status"], "skipped");
    assert_eq!(
        finished(&ev, "aggregation.after_risky")["error"],
        "upstream foundation.risky failed"
    );
    assert_eq!(finished(&ev, "application.after_after")["status"], "skipped");
    // Independent branches still ran.
    assert_eq!(finished(&ev, "application.customer_360")["status"], "success");
    let last = ev.last().unwrap();
    assert_eq!(
        (
            last["success"].as_u64(),
            last["failed"].as_u64(),
            last["skipped"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );

    let text = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(text.code, 1);
    assert!(
        text.stdout
            .contains("FAILED foundation.risky\n  model foundation.risky: Divide by zero error"),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr.contains("1 of 6 models and sources failed for 2024-06-30"),
        "{}",
        text.stderr
    );
}

#[test]
fn a_missing_extract_fails_its_source_and_what_reads_it() {
    let p = tiny_project();
    let r = p.run(&["run", "--date", "2024-07-01", "--format", "json"]);
    assert_eq!(r.code, 1);
    let ev = events(&r.stdout);
    let src = finished(&ev, "src.core_customer");
    assert_eq!(src["status"], "failed");
    assert!(
        src["error"]
            .as_str()
            .unwrap()
            .contains("customer_20240701.csv has not landed for 2024-07-01"),
        "{src}"
    );
    assert_eq!(finished(&ev, "foundation.customer")["status"], "skipped");
}

#[test]
fn a_bad_value_is_rejected_and_a_bad_header_fails_the_source_committing_nothing() {
    let p = tiny_project();
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 0);
    p.write(
        "landing/2024-06-30/core/customer_20240630.csv",
        "cust_id,balance,open_date\nC1,12x.00,2020-01-01\nC2,3.00,2020-01-02\n",
    );
    // A value that is not a decimal rejects its row; the others load.
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let q = p.run(&[
        "query",
        "SELECT line, \"column\", rule, reason FROM _rejects.core_customer",
        "--format",
        "csv",
    ]);
    assert_eq!(
        q.stdout,
        "line,column,rule,reason\n2,balance,type,\"'12x.00' is not a decimal(18,2)\"\n"
    );
    p.write(
        "landing/2024-06-30/core/customer_20240630.csv",
        "cust_id,bal,open_date\nC1,1.00,2020-01-01\n",
    );
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("FAILED src.core_customer"), "{}", r.stdout);
    assert!(
        r.stdout.contains("line 1: header is [cust_id, bal, open_date] but models/sources/core.toml declares [cust_id, balance, open_date]"),
        "{}",
        r.stdout
    );
    // The earlier good load is intact.
    let q = p.run(&[
        "query",
        "SELECT count(*) AS n FROM src.core_customer",
        "--format",
        "csv",
    ]);
    assert_eq!(q.stdout, "n\n1\n");
}

#[test]
fn selecting_an_unknown_model_suggests_names() {
    let p = tiny_project();
    let r = p.run(&["run", "--select", "foundation.custmer"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no model or source table named 'foundation.custmer'; did you mean 'foundation.customer'"),
        "{}",
        r.stderr
    );
}

#[test]
fn selecting_a_model_whose_upstream_was_never_built_says_so() {
    let p = tiny_project();
    let r = p.run(&["run", "--date", "2024-06-30", "--select", "application.customer_360"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("upstream table foundation.customer has not been built in this lakehouse yet"),
        "{}",
        r.stdout
    );
}

#[test]
fn row_numbers_are_stored_as_signed_integers() {
    let p = tiny_project();
    p.write(
        "sql/foundation/customer/ranked.sql",
        "SELECT customer_id, ROW_NUMBER() OVER (ORDER BY customer_id) AS rn FROM foundation.customer\n",
    );
    let manifest = p.run(&["compile", "--format", "json"]);
    assert!(
        manifest
            .stdout
            .contains("\"name\": \"rn\",\n          \"type\": \"bigint\""),
        "{}",
        manifest.stdout
    );
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let q = p.run(&[
        "query",
        "SELECT customer_id, rn FROM foundation.ranked ORDER BY rn",
        "--format",
        "csv",
    ]);
    assert_eq!(q.stdout, "customer_id,rn\nC1,1\nC2,2\nC3,3\n");
}

#[test]
fn a_row_with_the_wrong_number_of_fields_is_rejected_with_its_line() {
    let p = tiny_project();
    p.write(
        "landing/2024-06-30/core/customer_20240630.csv",
        "cust_id,balance,open_date\nC1,1.00,2020-01-01\nC2,2.00\n",
    );
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let q = p.run(&[
        "query",
        "SELECT line, rule, reason, raw_line FROM _rejects.core_customer",
        "--format",
        "csv",
    ]);
    assert_eq!(
        q.stdout,
        "line,rule,reason,raw_line\n3,columns,\"expected 3 fields, found 2\",\"C2,2.00\"\n"
    );
}

/// The tiny project with a control file declared for core.customer.
fn with_control_file() -> crate::common::TempProject {
    let p = tiny_project();
    let toml = std::fs::read_to_string(p.path().join("models/sources/core.toml")).unwrap();
    let toml = toml.replace(
        "primary_key = [\"cust_id\"]",
        "primary_key = [\"cust_id\"]\ncontrol_file = \"{biz_date}/core/customer_{yyyymmdd}.ctl\"\ncontrol_sum_column = \"balance\"",
    );
    p.write("models/sources/core.toml", &toml);
    p
}

#[test]
fn control_files_reconcile_rows_and_amounts_before_anything_is_committed() {
    let p = with_control_file();
    // 2024-06-29: 2 rows, 100.00 + 5.00.
    p.write("landing/2024-06-29/core/customer_20240629.ctl", "2|105.00\n");
    let r = p.run(&["run", "--date", "2024-06-29"]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // 2024-06-30: 3 rows, 107.75 — a wrong count, then a wrong sum, then no control file.
    p.write("landing/2024-06-30/core/customer_20240630.ctl", "4|107.75\n");
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("customer_20240630.csv holds 3 rows but control file")
            && r.stdout.contains("customer_20240630.ctl says 4; nothing was loaded"),
        "{}",
        r.stdout
    );
    p.write("landing/2024-06-30/core/customer_20240630.ctl", "3|107.70\n");
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("sum of balance is 107.75 but control file"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("says 107.70; nothing was loaded"), "{}", r.stdout);
    std::fs::remove_file(p.path().join("landing/2024-06-30/core/customer_20240630.ctl")).unwrap();
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("customer_20240630.ctl has not landed; nothing was loaded"),
        "{}",
        r.stdout
    );
    // Nothing of 2024-06-30 reached the staged table; 2024-06-29 is intact.
    let q = p.run(&[
        "query",
        "SELECT biz_date, count(*) AS n FROM src.core_customer GROUP BY biz_date",
        "--format",
        "csv",
    ]);
    assert_eq!(q.stdout, "biz_date,n\n2024-06-29,2\n");
    // `wait` waits for the control file, not the extract.
    let w = p.run(&["wait", "--date", "2024-06-30", "--timeout", "1", "--interval", "1"]);
    assert_eq!(w.code, 1);
    assert!(w.stderr.contains("customer_20240630.ctl"), "{}", w.stderr);
    p.write("landing/2024-06-30/core/customer_20240630.ctl", "3 107.75\n");
    assert_eq!(p.run(&["wait", "--date", "2024-06-30", "--timeout", "1"]).code, 0);
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 0);
}

/// `--memory-limit` bounds DataFusion's pool: a sort larger than the limit
/// spills and still answers; a hash join whose build side cannot spill fails
/// with the limit and the way to raise it, exit 1. A bad size is a usage error.
#[test]
fn the_memory_limit_bounds_queries_and_says_how_to_raise_it() {
    let p = tiny_project();
    let sorted = p.run(&[
        "--memory-limit",
        "32MiB",
        "query",
        "SELECT v FROM (SELECT value * 7919 % 3000017 AS v FROM generate_series(1, 3000000)) ORDER BY v DESC LIMIT 2 OFFSET 1000",
        "--format",
        "csv",
    ]);
    assert_eq!(sorted.code, 0, "{}", sorted.stderr);
    assert_eq!(sorted.stdout, "v\n2999016\n2999015\n");

    let join = "SELECT count(*) AS n FROM generate_series(1, 5000000) a JOIN generate_series(1, 5000000) b ON a.value = b.value";
    let r = p.run(&["--memory-limit", "64MiB", "query", join]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Resources exhausted"), "{}", r.stderr);
    assert!(
        r.stderr.contains("it needs more memory than its pool allows")
            && r.stderr
                .contains("raise --memory-limit (or LAKEMART_MEMORY_LIMIT) from 0.06 GiB"),
        "{}",
        r.stderr
    );
    let env = crate::common::bin()
        .env("LAKEMART_MEMORY_LIMIT", "1GiB")
        .arg("--project")
        .arg(p.path())
        .args(["query", join, "--format", "csv"])
        .output()
        .expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&env.stdout),
        "n\n5000000\n",
        "{}",
        String::from_utf8_lossy(&env.stderr)
    );

    let bad = p.run(&["--memory-limit", "6 parsecs", "compile"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("unknown size unit \"parsecs\""), "{}", bad.stderr);
}

/// DataFusion settings come from `DATAFUSION_*` variables (docs/operations.md):
/// one that changes a plan shows in EXPLAIN; a wrong value is a usage error
/// naming the variable.
#[test]
fn datafusion_settings_come_from_the_environment() {
    let p = tiny_project();
    let explain = |value: Option<&str>| {
        let mut cmd = crate::common::bin();
        if let Some(v) = value {
            cmd.env("DATAFUSION_OPTIMIZER_PREFER_HASH_JOIN", v);
        }
        let out = cmd
            .arg("--project")
            .arg(p.path())
            .args([
                "query",
                "EXPLAIN SELECT count(*) FROM generate_series(1, 10) a JOIN generate_series(1, 10) b ON a.value = b.value",
            ])
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, plan, err) = explain(None);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        plan.contains("HashJoinExec") && !plan.contains("SortMergeJoin"),
        "{plan}"
    );
    let (code, plan, err) = explain(Some("false"));
    assert_eq!(code, Some(0), "{err}");
    assert!(plan.contains("SortMergeJoin"), "{plan}");
    let (code, _, err) = explain(Some("maybe"));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("environment variable DATAFUSION_OPTIMIZER_PREFER_HASH_JOIN=maybe"),
        "{err}"
    );
}

/// `[models.settings]` reach the model's own query, and only its: a sort that must
/// reserve 1 GiB for merging fails in a 64 MiB pool, and runs once the setting goes.
/// The manifest shows the settings.
#[test]
fn a_model_runs_with_its_own_datafusion_settings() {
    let p = tiny_project();
    p.write(
        "sql/aggregation/customer/ranked.sql",
        "SELECT customer_id, balance,\n       ROW_NUMBER() OVER (ORDER BY balance DESC, customer_id) AS balance_rank\nFROM foundation.customer\n",
    );
    let meta = |settings: &str| {
        format!(
            "[[models]]\nname = \"ranked\"\ndescription = \"Customers by balance\"\n\n[models.settings]\n{settings}"
        )
    };
    p.write(
        "models/aggregation/customer.toml",
        &meta("\"datafusion.execution.sort_spill_reservation_bytes\" = 1073741824\n"),
    );
    let r = p.run(&["run", "--date", "2024-06-30", "--memory-limit", "64MiB"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("FAILED aggregation.ranked"), "{}", r.stdout);
    assert!(r.stdout.contains("Resources exhausted"), "{}", r.stdout);
    // Only the model that sets it: its upstream, in the same run, built.
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("foundation.customer ") && l.contains(" success ")),
        "{}",
        r.stdout
    );

    p.write(
        "models/aggregation/customer.toml",
        &meta("\"datafusion.optimizer.prefer_hash_join\" = false\n"),
    );
    let r = p.run(&["run", "--date", "2024-06-30", "--memory-limit", "64MiB"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let q = p.run(&[
        "query",
        "SELECT customer_id, balance_rank FROM aggregation.ranked ORDER BY balance_rank",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    // DESC puts the NULL balance (C2) first, as SQL does.
    let ranks: Vec<&str> = q.stdout.lines().filter(|l| l.starts_with("| C")).collect();
    assert_eq!(
        ranks,
        [
            "| C2          | 1            |",
            "| C1          | 2            |",
            "| C3          | 3            |"
        ],
        "{}",
        q.stdout
    );
    let m = p.run(&["compile", "--format", "json"]);
    let manifest: serde_json::Value = serde_json::from_str(&m.stdout).expect("manifest json");
    let ranked = manifest["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "aggregation.ranked")
        .expect("ranked in manifest");
    assert_eq!(ranked["settings"]["datafusion.optimizer.prefer_hash_join"], "false");
}

/// A source that loads with rejected rows says so in the run's progress, with the
/// table that holds them, rather than only a smaller row count.
#[test]
fn a_run_says_how_many_rows_a_source_rejected_and_where_they_are() {
    let p = tiny_project();
    p.write(
        "landing/2024-06-30/core/customer_20240630.csv",
        "cust_id,balance,open_date\nC1,100.50,2020-01-01\nC2,abc,2021-02-03\nC3,7.25,\n",
    );
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .lines()
            .any(|l| l.contains("success  src.core_customer — 2 rows in")
                && l.ends_with("(1 rejected: see _rejects.core_customer)")),
        "{}",
        r.stderr
    );
    let q = p.run(&[
        "query",
        "SELECT line, reason FROM _rejects.core_customer",
        "--format",
        "csv",
    ]);
    assert_eq!(
        q.stdout, "line,reason\n3,\"'abc' is not a decimal(18,2)\"\n",
        "{}",
        q.stderr
    );
}
