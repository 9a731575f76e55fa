//! Issue 7: the analyst's command line — `query --format parquet --out` and `lakemart shell`.

use std::io::Write;
use std::process::Stdio;

use crate::common::tiny_project;

#[test]
fn query_writes_parquet_files_streamed() {
    let p = tiny_project();
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 0);
    let out = p.path().join("customers.parquet");
    let r = p.run(&[
        "query",
        "SELECT * FROM application.customer_360",
        "--format",
        "parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("wrote 3 rows to"), "{}", r.stderr);
    let file = std::fs::File::open(&out).unwrap();
    let reader = deltalake::parquet::file::reader::SerializedFileReader::new(file).unwrap();
    use deltalake::parquet::file::reader::FileReader;
    assert_eq!(reader.metadata().file_metadata().num_rows(), 3);
    // Without --out there is nowhere to write Parquet.
    let r = p.run(&["query", "SELECT 1", "--format", "parquet"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("--format parquet writes a file: give it with --out FILE"),
        "{}",
        r.stderr
    );
    // Other formats can go to a file too.
    let csv = p.path().join("c.csv");
    assert_eq!(
        p.run(&[
            "query",
            "SELECT count(*) AS n FROM foundation.customer",
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap()
        ])
        .code,
        0
    );
    assert_eq!(std::fs::read_to_string(csv).unwrap(), "n\n3\n");
}

#[test]
fn the_shell_runs_statements_and_meta_commands_and_survives_errors() {
    let p = tiny_project();
    assert_eq!(p.run(&["run", "--date", "2024-06-30"]).code, 0);
    let mut child = crate::common::bin()
        .arg("--project")
        .arg(p.path())
        .arg("--lakehouse")
        .arg(p.lakehouse())
        .arg("shell")
        .env("HOME", p.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"\\f csv\nSELECT customer_id, aum\n  FROM application.customer_360\n  ORDER BY customer_id;\nSELECT nope;\n\\d foundation.customer\n\\q\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("customer_id,aum\nC1,100.50\nC2,0.00\nC3,7.25\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error: query: Schema error: No field named nope."),
        "{stdout}"
    );
    assert!(
        stdout.contains("  balance                          decimal(18,2)"),
        "{stdout}"
    );
    // History is kept for the next session.
    let history = std::fs::read_to_string(p.path().join(".lakemart_history")).unwrap();
    assert!(history.contains("FROM application.customer_360"), "{history}");
}
