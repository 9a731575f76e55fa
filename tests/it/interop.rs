//! Issue 2: an independent reader — the Python `deltalake` package, installed
//! by `tests/interop/setup.sh` — reads `application.customer_360` as lakemart
//! wrote it, and agrees with lakemart's own query on row count and checksum.

use std::path::Path;
use std::process::Command;

use deltalake::arrow::array::{Array, AsArray, RecordBatch};
use deltalake::arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, DecimalType, Int16Type, Int32Type, Int64Type, TimeUnit,
    TimestampMicrosecondType,
};
use sha2::{Digest, Sha256};

/// One value in the canonical form documented in `tests/interop/read_table.py`.
fn render(array: &dyn Array, i: usize) -> String {
    if array.is_null(i) {
        return "\\N".into();
    }
    let escape = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('|', "\\|")
            .replace('\n', "\\n")
            .replace('\r', "\\r")
    };
    match array.data_type() {
        DataType::Utf8 => escape(array.as_string::<i32>().value(i)),
        DataType::LargeUtf8 => escape(array.as_string::<i64>().value(i)),
        DataType::Utf8View => escape(array.as_string_view().value(i)),
        DataType::Boolean => array.as_boolean().value(i).to_string(),
        DataType::Int16 => array.as_primitive::<Int16Type>().value(i).to_string(),
        DataType::Int32 => array.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Decimal128(p, s) => {
            Decimal128Type::format_decimal(array.as_primitive::<Decimal128Type>().value(i), *p, *s)
        }
        DataType::Date32 => {
            let days = array.as_primitive::<Date32Type>().value(i);
            chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
                .unwrap()
                .to_string()
        }
        DataType::Timestamp(TimeUnit::Microsecond, None) => {
            let micros = array.as_primitive::<TimestampMicrosecondType>().value(i);
            let t = chrono::DateTime::from_timestamp_micros(micros).unwrap().naive_utc();
            let mut text = t.format("%Y-%m-%d %H:%M:%S").to_string();
            if micros.rem_euclid(1_000_000) != 0 {
                text.push_str(&format!(".{:06}", micros.rem_euclid(1_000_000)));
            }
            text
        }
        other => panic!("no canonical rendering for {other} in this test"),
    }
}

/// Row count and checksum of `batches`, sorted by `key`, as read_table.py computes them.
fn checksum(batches: &[RecordBatch], key: &str) -> (usize, String) {
    let mut lines: Vec<(String, String)> = Vec::new();
    for b in batches {
        let k = b.schema().index_of(key).unwrap();
        for row in 0..b.num_rows() {
            let values: Vec<String> = b.columns().iter().map(|c| render(c.as_ref(), row)).collect();
            lines.push((values[k].clone(), values.join("|") + "\n"));
        }
    }
    lines.sort();
    let mut h = Sha256::new();
    for (_, line) in &lines {
        h.update(line.as_bytes());
    }
    let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    (lines.len(), digest)
}

pub(crate) fn python() -> String {
    let setup = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/setup.sh");
    let out = Command::new("bash").arg(setup).output().expect("bash runs");
    assert!(
        out.status.success(),
        "tests/interop/setup.sh could not install the Python deltalake reader:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_deltalake_reads_customer_360_as_lakemart_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = crate::common::sample_mart(&["2024-06-29", "2024-06-30"]);
    let lh = scratch.lakehouse();

    // lakemart's own reading.
    let project = lakemart::project::Project::load(root).unwrap();
    let house = lakemart::store::Lakehouse::new(lh.to_str().unwrap(), Path::new("/")).unwrap();
    let ctx = lakemart::query::session(&project, &house).await.unwrap();
    let batches = lakemart::query::query(&ctx, "SELECT * FROM application.customer_360")
        .await
        .unwrap();
    let (rows, sum) = checksum(&batches, "customer_id");
    assert_eq!(rows, 200);

    // The independent reader's.
    let py = python();
    let script = root.join("tests/interop/read_table.py");
    let out = Command::new(py)
        .arg(script)
        .arg(lh.join("application/customer_360"))
        .arg("customer_id")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "read_table.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(theirs["rows"], rows as u64);
    assert_eq!(
        theirs["checksum"],
        sum.as_str(),
        "Python deltalake and lakemart disagree on the table's contents"
    );
}
