//! Issue 6: run records, resume after failure or a kill, fail-fast, locking,
//! status, selection, source arrival and maintenance.

use std::path::Path;
use std::time::Duration;

use crate::common::{TempProject, lakemart, tiny_project};

fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn started(ev: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = ev
        .iter()
        .filter(|e| e["event"] == "model_started")
        .map(|e| e["model"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

const RISKY_BROKEN: &str =
    "SELECT customer_id, CAST(1 AS BIGINT) / (count(*) OVER () - count(*) OVER ()) AS ratio FROM foundation.customer\n";
const RISKY_FIXED: &str = "SELECT customer_id, CAST(1 AS BIGINT) AS ratio FROM foundation.customer\n";

fn risky_project() -> TempProject {
    let p = tiny_project();
    p.write("sql/foundation/customer/risky.sql", RISKY_BROKEN);
    p.write(
        "sql/aggregation/customer/after_risky.sql",
        "SELECT * FROM foundation.risky\n",
    );
    p.write(
        "sql/application/customer/after_after.sql",
        "SELECT customer_id, ratio * 2 AS r2 FROM aggregation.after_risky\n",
    );
    p
}

fn csv(p: &TempProject, sql: &str) -> String {
    let r = p.run(&["query", sql, "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[test]
fn resume_runs_exactly_what_failed_or_was_skipped() {
    let p = risky_project();
    let first = p.run(&["run", "--date", "2024-06-30", "--format", "json"]);
    assert_eq!(first.code, 1);

    // The developer fixes the model; resume touches nothing that succeeded.
    p.write("sql/foundation/customer/risky.sql", RISKY_FIXED);
    let resumed = p.run(&["run", "--date", "2024-06-30", "--resume", "--format", "json"]);
    assert_eq!(resumed.code, 0, "{}\n{}", resumed.stdout, resumed.stderr);
    assert_eq!(
        started(&events(&resumed.stdout)),
        vec!["aggregation.after_risky", "application.after_after", "foundation.risky"]
    );
    // Same tables as an uninterrupted run.
    let clean = risky_project();
    clean.write("sql/foundation/customer/risky.sql", RISKY_FIXED);
    assert_eq!(clean.run(&["run", "--date", "2024-06-30"]).code, 0);
    for sql in [
        "SELECT * FROM application.after_after ORDER BY customer_id",
        "SELECT * FROM application.customer_360 ORDER BY customer_id",
    ] {
        assert_eq!(csv(&p, sql), csv(&clean, sql));
    }
    // A second resume finds nothing left to do.
    let again = p.run(&["retry", "--date", "2024-06-30", "--format", "json"]);
    assert_eq!(again.code, 0);
    assert!(started(&events(&again.stdout)).is_empty(), "{}", again.stdout);
}

#[test]
fn fail_fast_records_the_rest_as_skipped_and_resume_runs_them() {
    let p = risky_project();
    // Independent of risky, and scheduled after it (ready models start in name order).
    p.write(
        "sql/foundation/customer/zz_later.sql",
        "SELECT customer_id FROM foundation.customer\n",
    );
    // One at a time, so fail-fast has something left to not start.
    let r = p.run(&[
        "run",
        "--date",
        "2024-06-30",
        "--threads",
        "1",
        "--fail-fast",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1);
    let ev = events(&r.stdout);
    let skipped: Vec<&serde_json::Value> = ev
        .iter()
        .filter(|e| e["event"] == "model_finished" && e["status"] == "skipped")
        .collect();
    assert!(
        skipped.iter().any(|e| e["error"]
            .as_str()
            .unwrap()
            .starts_with("not started: --fail-fast after foundation.risky failed")),
        "{}",
        r.stdout
    );
    let recorded = csv(
        &p,
        "SELECT status, count(*) AS n FROM _lakemart.model_run GROUP BY status ORDER BY status",
    );
    let last = ev.last().unwrap();
    assert_eq!(
        recorded,
        format!(
            "status,n\nfailed,{}\nskipped,{}\nsuccess,{}\n",
            last["failed"], last["skipped"], last["success"]
        )
    );
    p.write("sql/foundation/customer/risky.sql", RISKY_FIXED);
    let resumed = p.run(&["run", "--date", "2024-06-30", "--resume", "--format", "json"]);
    assert_eq!(resumed.code, 0, "{}", resumed.stdout);
    let resumed_models = started(&events(&resumed.stdout));
    let mut expected: Vec<String> = skipped
        .iter()
        .map(|e| e["model"].as_str().unwrap().to_string())
        .collect();
    expected.push("foundation.risky".into());
    expected.sort();
    assert_eq!(resumed_models, expected);
}

#[test]
fn json_events_match_the_run_tables() {
    let p = risky_project();
    let r = p.run(&["run", "--date", "2024-06-30", "--format", "json"]);
    let ev = events(&r.stdout);
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "run_finished");
    let run_id = last["run_id"].as_str().unwrap();
    let runs = csv(
        &p,
        "SELECT run_id, command, status, success, failed, skipped FROM _lakemart.run WHERE finished_at IS NOT NULL",
    );
    assert_eq!(
        runs,
        format!("run_id,command,status,success,failed,skipped\n{run_id},run,failed,3,1,2\n")
    );
    let rows = csv(
        &p,
        "SELECT model, rows FROM _lakemart.model_run WHERE model = 'application.customer_360'",
    );
    assert_eq!(rows, "model,rows\napplication.customer_360,3\n");
}

#[test]
fn status_names_the_failure_its_error_and_the_skipped_downstream() {
    let p = risky_project();
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 1);
    let s = p.run(&["status", "--date", "2024-06-30"]);
    assert_eq!(s.code, 1, "{}", s.stdout);
    assert!(s.stdout.contains("2024-06-30  run "), "{}", s.stdout);
    assert!(s.stdout.contains("(run) failed in "), "{}", s.stdout);
    assert!(
        s.stdout.contains(": 3 succeeded, 1 failed, 2 skipped; started "),
        "{}",
        s.stdout
    );
    assert!(
        s.stdout
            .contains("  failed   foundation.risky (attempt 1): model foundation.risky: Divide by zero error"),
        "{}",
        s.stdout
    );
    assert!(
        s.stdout
            .contains("  skipped  aggregation.after_risky (upstream foundation.risky failed)"),
        "{}",
        s.stdout
    );
    assert!(
        s.stdout
            .contains("  skipped  application.after_after (upstream foundation.risky failed)"),
        "{}",
        s.stdout
    );
    assert!(s.stdout.contains("critical path"), "{}", s.stdout);
    assert!(s.stdout.contains("src.core_customer"), "{}", s.stdout);
    let nothing = p.run(&["status", "--date", "2024-01-01"]);
    assert_eq!(nothing.code, 1);
    assert!(nothing.stdout.contains("no run of 2024-01-01 is recorded"));
}

#[test]
fn a_live_lock_refuses_a_second_run_and_a_stale_one_is_taken_over() {
    let p = tiny_project();
    let lock_dir = p.lakehouse().join("_lakemart");
    std::fs::create_dir_all(&lock_dir).unwrap();
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let now = chrono::Utc::now().timestamp();
    // Held by this very test process: alive.
    let live = serde_json::json!({"run_id": "R-LIVE", "host": host, "pid": std::process::id(), "started_at": "2024-06-30T01:00:00+00:00", "heartbeat": now});
    std::fs::write(lock_dir.join("lock.json"), live.to_string()).unwrap();
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 3, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "another run holds the lakehouse: run R-LIVE on host {host} (pid {})",
            std::process::id()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("started 2024-06-30T01:00:00+00:00"), "{}", r.stderr);
    // Held by a process that is gone: taken over, and released afterwards.
    let dead = serde_json::json!({"run_id": "R-DEAD", "host": host, "pid": 999_999_999u32, "started_at": "2024-06-30T01:00:00+00:00", "heartbeat": now});
    std::fs::write(lock_dir.join("lock.json"), dead.to_string()).unwrap();
    let r = p.run(&["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!lock_dir.join("lock.json").exists());
}

#[test]
fn a_killed_run_always_resumes_to_the_same_result() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // The slice of the sample mart below customer_balance: sources, foundation and
    // aggregation models, a dozen commits for a kill to land between.
    let slice = ["--select", "+aggregation.customer_balance"];
    let reference = TempProject::new(&[]);
    let r = lakemart(
        root,
        &reference.lakehouse(),
        &[&["run", "--date", "2024-06-29"][..], &slice].concat(),
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let sql = "SELECT * FROM aggregation.customer_balance ORDER BY customer_id";
    let want = lakemart(root, &reference.lakehouse(), &["query", sql, "--format", "csv"]).stdout;

    // Kill at spread-out points (seeded, so a failure can be replayed), then resume.
    let mut seed: u64 = 20240629;
    for _ in 0..3 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = Duration::from_millis(100 + (seed >> 33) % 1200);
        let scratch = TempProject::new(&[]);
        let lh = scratch.lakehouse();
        let mut child = crate::common::bin()
            .arg("--project")
            .arg(root)
            .arg("--lakehouse")
            .arg(&lh)
            .args(["run", "--date", "2024-06-29", "--format", "json"])
            .args(slice)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // (A kill before the first run record leaves nothing to resume: then it runs in full.)
        let resumed = lakemart(
            root,
            &lh,
            &[&["run", "--date", "2024-06-29", "--resume"][..], &slice].concat(),
        );
        assert_eq!(
            resumed.code, 0,
            "after a kill at {delay:?}: {}\n{}",
            resumed.stdout, resumed.stderr
        );
        let got = lakemart(root, &lh, &["query", sql, "--format", "csv"]).stdout;
        assert_eq!(got, want, "after a kill at {delay:?}");
    }
}

#[test]
fn selectors_pick_the_expected_models() {
    let p = risky_project();
    let dag = |sel: &[&str]| {
        let mut args = vec!["dag", "--select"];
        args.extend_from_slice(sel);
        let r = p.run(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut nodes: Vec<String> = r
            .stdout
            .lines()
            .filter(|l| l.starts_with("  "))
            .map(|l| l.trim().split(' ').next().unwrap().to_string())
            .collect();
        nodes.sort();
        nodes
    };
    assert_eq!(
        dag(&["foundation.risky+"]),
        ["aggregation.after_risky", "application.after_after", "foundation.risky"]
    );
    assert_eq!(
        dag(&["+aggregation.after_risky"]),
        [
            "aggregation.after_risky",
            "foundation.customer",
            "foundation.risky",
            "src.core_customer"
        ]
    );
    assert_eq!(
        dag(&["layer:application"]),
        ["application.after_after", "application.customer_360"]
    );
    assert_eq!(
        dag(&["layer:foundation", "layer:aggregation"]),
        ["aggregation.after_risky", "foundation.customer", "foundation.risky"]
    );
    assert_eq!(dag(&["layer:foundation,foundation.risky+"]), ["foundation.risky"]);
    let r = p.run(&["dag", "--select", "source:core", "--exclude", "layer:application"]);
    let mut nodes: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| l.trim().split(' ').next().unwrap())
        .collect();
    nodes.sort();
    assert_eq!(
        nodes,
        [
            "aggregation.after_risky",
            "foundation.customer",
            "foundation.risky",
            "src.core_customer"
        ]
    );
}

#[test]
fn wait_reports_missing_extracts_and_returns_once_they_land() {
    let p = tiny_project();
    let r = p.run(&["wait", "--date", "2024-07-01", "--timeout", "1", "--interval", "1"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("1 of 1 extracts for 2024-07-01 have not landed"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("customer_20240701.csv"), "{}", r.stderr);
    let ok = p.run(&["wait", "--date", "2024-06-30", "--timeout", "1"]);
    assert_eq!(ok.code, 0);
    assert_eq!(ok.stdout, "all 1 extracts for 2024-06-30 have landed\n");
}

#[test]
fn maintain_compacts_checkpoints_and_keeps_the_time_travel_window() {
    let p = tiny_project();
    assert_eq!(p.run(&["run", "--from", "2024-06-29", "--to", "2024-06-30"]).code, 0);
    let r = p.run(&["maintain", "--select", "src.core_customer"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("src.core_customer"), "{}", r.stdout);
    assert!(r.stdout.contains("checkpoint at v"), "{}", r.stdout);
    assert!(r.stdout.contains("keeping 30 days"), "{}", r.stdout);
    // The data is unchanged.
    assert_eq!(csv(&p, "SELECT count(*) AS n FROM src.core_customer"), "n\n5\n");
    let refused = p.run(&["maintain", "--retention-days", "1"]);
    assert_eq!(refused.code, 2);
    assert!(refused.stderr.contains("would break time travel"), "{}", refused.stderr);
}

#[test]
fn a_failing_error_test_blocks_downstream_and_a_warning_does_not() {
    let p = tiny_project();
    p.write(
        "models/foundation/customer.toml",
        r#"[[models]]
name = "customer"
description = "Golden customer record"

[[models.tests]]
type = "not_null"
columns = ["balance"]

[[models.tests]]
type = "accepted_values"
column = "customer_id"
values = ["C1", "C2"]
severity = "warn"
"#,
    );
    let r = p.run(&["run", "--date", "2024-06-30", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let ev = events(&r.stdout);
    let cust = ev
        .iter()
        .find(|e| e["event"] == "model_finished" && e["model"] == "foundation.customer")
        .unwrap();
    assert_eq!(cust["status"], "failed");
    assert_eq!(
        cust["error"],
        "model foundation.customer: data test failed: not_null(balance): 1 row where balance is NULL"
    );
    let c360 = ev
        .iter()
        .find(|e| e["event"] == "model_finished" && e["model"] == "application.customer_360")
        .unwrap();
    assert_eq!(c360["status"], "skipped");
    let results = csv(
        &p,
        "SELECT test, status, failing_rows FROM _lakemart.test_result ORDER BY test",
    );
    assert_eq!(
        results,
        "test,status,failing_rows\naccepted_values(customer_id),warn,1\nnot_null(balance),fail,1\n"
    );

    // `lakemart test` on its own: the same verdicts, sample rows shown, exit 1.
    let t = p.run(&["test", "--select", "foundation.customer", "--date", "2024-06-30"]);
    assert_eq!(t.code, 1, "{}", t.stdout);
    assert!(
        t.stdout
            .contains("FAIL  foundation.customer  not_null(balance) — 1 row where balance is NULL"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout
            .contains("WARN  foundation.customer  accepted_values(customer_id)"),
        "{}",
        t.stdout
    );
    assert!(t.stdout.contains("customer_id=C3"), "{}", t.stdout);
    assert!(t.stdout.contains("0 passed, 1 failed, 1 warned"), "{}", t.stdout);
}

#[test]
fn a_test_on_an_unknown_column_is_a_compile_error() {
    let p = tiny_project();
    p.write(
        "models/foundation/customer.toml",
        "[[models]]\nname = \"customer\"\n\n[[models.tests]]\ntype = \"unique\"\ncolumns = [\"custmer_id\"]\n",
    );
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "models/foundation/customer.toml:4: error[test] in foundation.customer: test 'unique(custmer_id)'"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean 'customer_id'?"), "{}", r.stderr);
}

#[test]
fn a_model_over_its_time_limit_fails_and_is_not_retried() {
    let p = tiny_project();
    p.write(
        "sql/aggregation/customer/slow.sql",
        "SELECT c.customer_id, count(*) AS n FROM foundation.customer c CROSS JOIN generate_series(1, 3000000000) g GROUP BY c.customer_id\n",
    );
    let started = std::time::Instant::now();
    let r = p.run(&["run", "--date", "2024-06-30", "--timeout", "1", "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let ev = events(&r.stdout);
    let slow = ev
        .iter()
        .find(|e| e["event"] == "model_finished" && e["model"] == "aggregation.slow")
        .unwrap();
    assert_eq!(slow["status"], "failed");
    assert_eq!(slow["error"], "model aggregation.slow: timed out after 1s");
    assert_eq!(slow["attempt"], 1);
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn resuming_a_date_that_never_ran_runs_it_in_full() {
    let p = tiny_project();
    let r = p.run(&["retry", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("nothing to resume: 2024-06-30 has not run in this lakehouse yet; running it in full")
    );
    assert!(r.stdout.contains("3 succeeded, 0 failed, 0 skipped"), "{}", r.stdout);
}
