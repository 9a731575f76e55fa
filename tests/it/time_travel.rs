//! Issue 5, time travel and history: `query --as-of-date`, `history` and
//! `restore` over the commits lakemart tags with run id and business date.

use crate::common::{TempProject, tiny_project};

const ROWS_0629: &str = "customer_id,aum,biz_date\nC1,100.00,2024-06-29\nC2,5.00,2024-06-29\n";
const ROWS_0630: &str = "customer_id,aum,biz_date\nC1,100.50,2024-06-30\nC2,0.00,2024-06-30\nC3,7.25,2024-06-30\n";
const CUSTOMER_360: &str = "SELECT * FROM application.customer_360 ORDER BY customer_id";

/// The tiny project with 2024-06-29 and then 2024-06-30 built.
fn built_twice() -> TempProject {
    let p = tiny_project();
    for date in ["2024-06-29", "2024-06-30"] {
        let r = p.run(&["run", "--date", date]);
        assert_eq!(r.code, 0, "run {date}: {}\n{}", r.stdout, r.stderr);
    }
    p
}

fn csv(p: &TempProject, extra: &[&str], sql: &str) -> String {
    let mut args = vec!["query", sql, "--format", "csv"];
    args.extend_from_slice(extra);
    let r = p.run(&args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

/// `history --format json`, one object per version, newest first.
fn history(p: &TempProject, model: &str) -> Vec<serde_json::Value> {
    let r = p.run(&["history", model, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn query_as_of_date_sees_each_table_at_its_version_for_that_date() {
    let p = built_twice();
    assert_eq!(csv(&p, &["--as-of-date", "2024-06-29"], CUSTOMER_360), ROWS_0629);
    assert_eq!(csv(&p, &["--as-of-date", "2024-06-30"], CUSTOMER_360), ROWS_0630);
    // A later date sees the latest version; no date means the latest too.
    assert_eq!(csv(&p, &["--as-of-date", "2024-07-31"], CUSTOMER_360), ROWS_0630);
    assert_eq!(csv(&p, &[], CUSTOMER_360), ROWS_0630);
    // Staged sources travel too: the source table held only 06-29's partition then.
    assert_eq!(
        csv(
            &p,
            &["--as-of-date", "2024-06-29"],
            "SELECT biz_date, count(*) AS n FROM src.core_customer GROUP BY biz_date"
        ),
        "biz_date,n\n2024-06-29,2\n"
    );

    // Before the first run the table did not exist: DataFusion's own not-found error.
    let r = p.run(&["query", CUSTOMER_360, "--as-of-date", "2024-06-28"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("table 'datafusion.application.customer_360' not found"),
        "{}",
        r.stderr
    );

    let r = p.run(&["query", CUSTOMER_360, "--as-of-date", "2024-13-01"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("'2024-13-01' is not a date like 2024-06-30"),
        "{}",
        r.stderr
    );
}

#[test]
fn history_lists_every_version_newest_first_with_run_and_business_date() {
    let p = built_twice();
    let versions = history(&p, "application.customer_360");
    let summary: Vec<(u64, &str, &str, u64)> = versions
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["operation"].as_str().unwrap(),
                v["biz_date"].as_str().unwrap(),
                v["rows_added"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![(1, "WRITE", "2024-06-30", 3), (0, "WRITE", "2024-06-29", 2)]
    );
    // The run ids are those of the runs that built each version.
    let runs = csv(
        &p,
        &[],
        "SELECT delta_version, run_id FROM _lakemart.model_run \
         WHERE model = 'application.customer_360' ORDER BY delta_version DESC",
    );
    let from_history: String = versions
        .iter()
        .map(|v| format!("{},{}\n", v["version"], v["run_id"].as_str().unwrap()))
        .collect();
    assert_eq!(runs, format!("delta_version,run_id\n{from_history}"));
    assert_ne!(versions[0]["run_id"], versions[1]["run_id"]);
    assert!(versions.iter().all(|v| v["model"] == "application.customer_360"));
    assert!(versions.iter().all(|v| v["timestamp"].as_str().unwrap().ends_with('Z')));

    // The text form: a header, then one line per version, newest first.
    let r = p.run(&["history", "application.customer_360"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.stdout);
    assert!(lines[0].starts_with("version  committed (UTC)"), "{}", r.stdout);
    for (line, (version, date, rows)) in lines[1..].iter().zip([(1, "2024-06-30", 3), (0, "2024-06-29", 2)]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[0], version.to_string(), "{line}");
        assert_eq!(cells[3], "WRITE", "{line}");
        assert_eq!(cells[5], date, "{line}");
        assert_eq!(cells[6], rows.to_string(), "{line}");
    }

    // Staged sources have a history too.
    assert_eq!(history(&p, "src.core_customer").len(), 2);
}

#[test]
fn history_of_an_unknown_or_unbuilt_table_says_so() {
    let p = tiny_project();
    let r = p.run(&["history", "application.customer_36"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown model 'application.customer_36'")
            && r.stderr.contains("did you mean 'application.customer_360'?"),
        "{}",
        r.stderr
    );
    let r = p.run(&["history", "application.customer_360"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("model application.customer_360: has not been built in this lakehouse yet"),
        "{}",
        r.stderr
    );
    let r = p.run(&["restore", "application.customer_360", "--to-version", "0"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn restore_to_a_date_is_a_new_tagged_commit_and_queries_see_the_old_rows() {
    let p = built_twice();
    let r = p.run(&["restore", "application.customer_360", "--to-date", "2024-06-29"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "restored application.customer_360 to version 0 (business date 2024-06-29) as version 2\n"
    );
    assert_eq!(csv(&p, &[], CUSTOMER_360), ROWS_0629);
    assert!(
        !p.lakehouse().join("_lakemart/lock.json").exists(),
        "the lock is released"
    );

    let versions = history(&p, "application.customer_360");
    assert_eq!(versions.len(), 3);
    let restore = &versions[0];
    assert_eq!(restore["version"], 2);
    assert_eq!(restore["operation"], "RESTORE");
    assert_eq!(restore["biz_date"], "2024-06-29");
    assert_eq!(restore["model"], "application.customer_360");
    // A fresh run id, not either nightly run's.
    let run_id = restore["run_id"].as_str().unwrap();
    assert!(!run_id.is_empty());
    assert!(versions[1..].iter().all(|v| v["run_id"] != run_id));
    let r = p.run(&["history", "application.customer_360"]);
    assert!(r.stdout.lines().nth(1).unwrap().contains("RESTORE"), "{}", r.stdout);

    // Restoring again to the same date changes nothing.
    let r = p.run(&["restore", "application.customer_360", "--to-date", "2024-06-29"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "application.customer_360 is already at version 2 (business date 2024-06-29); nothing to restore\n"
    );
    assert_eq!(history(&p, "application.customer_360").len(), 3);

    // And forward again by version number.
    let r = p.run(&["restore", "application.customer_360", "--to-version", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "restored application.customer_360 to version 1 (business date 2024-06-30) as version 3\n"
    );
    assert_eq!(csv(&p, &[], CUSTOMER_360), ROWS_0630);
}

#[test]
fn restore_to_a_version_or_date_that_does_not_exist_fails_clearly() {
    let p = built_twice();
    let r = p.run(&["restore", "application.customer_360", "--to-version", "99"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("application.customer_360 has no version 99 to restore: its versions are 0 to 1"),
        "{}",
        r.stderr
    );
    let r = p.run(&["restore", "application.customer_360", "--to-date", "2024-06-01"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains(
            "application.customer_360 did not exist yet on business date 2024-06-01: its first business date is 2024-06-29"
        ),
        "{}",
        r.stderr
    );
    let r = p.run(&["restore", "application.customer_360"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("<--to-date <DATE>|--to-version <VERSION>>"),
        "{}",
        r.stderr
    );
    let r = p.run(&[
        "restore",
        "application.customer_360",
        "--to-date",
        "2024-06-29",
        "--to-version",
        "0",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);

    // A run holds the lakehouse: restore waits its turn like a run would (exit 3).
    let lock = p.lakehouse().join("_lakemart/lock.json");
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let live = serde_json::json!({"run_id": "R-LIVE", "host": host, "pid": std::process::id(),
        "started_at": "2024-06-30T01:00:00+00:00", "heartbeat": chrono::Utc::now().timestamp()});
    std::fs::write(&lock, live.to_string()).unwrap();
    let r = p.run(&["restore", "application.customer_360", "--to-date", "2024-06-29"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("another run holds the lakehouse: run R-LIVE"),
        "{}",
        r.stderr
    );
    std::fs::remove_file(&lock).unwrap();

    // Nothing was committed by the failed attempts.
    assert_eq!(history(&p, "application.customer_360").len(), 2);
    assert_eq!(csv(&p, &[], CUSTOMER_360), ROWS_0630);

    // Version 0's data file vacuumed away: listed in history, but not restorable.
    let table = p.lakehouse().join("application/customer_360");
    let log = std::fs::read_to_string(table.join("_delta_log/00000000000000000000.json")).unwrap();
    let add = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find_map(|a| a["add"]["path"].as_str().map(str::to_string))
        .unwrap();
    std::fs::remove_file(table.join(&add)).unwrap();
    let r = p.run(&["restore", "application.customer_360", "--to-version", "0"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains(
            "model application.customer_360: cannot restore version 0 \
             (its data files are older than the vacuum retention of `lakemart maintain`)"
        ) && r.stderr.contains(&add),
        "{}",
        r.stderr
    );
    assert_eq!(history(&p, "application.customer_360").len(), 2);
}
