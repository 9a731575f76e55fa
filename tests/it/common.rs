//! Helpers shared by the integration tests: temporary projects and the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The lakemart binary Cargo built for these tests.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lakemart"));
    cmd.env_remove("RUST_LOG");
    cmd
}

/// A finished command, with its output as text.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Ran {
    fn from(o: Output) -> Self {
        Ran {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Run `lakemart --project P --lakehouse L args…`.
pub fn lakemart(project: &Path, lakehouse: &Path, args: &[&str]) -> Ran {
    let out = bin()
        .arg("--project")
        .arg(project)
        .arg("--lakehouse")
        .arg(lakehouse)
        .args(args)
        .output()
        .expect("lakemart binary runs");
    out.into()
}

/// A scratch project: files written under a temporary directory.
pub struct TempProject {
    pub dir: tempfile::TempDir,
}

impl TempProject {
    pub fn new(files: &[(&str, &str)]) -> TempProject {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = TempProject { dir };
        for (path, text) in files {
            p.write(path, text);
        }
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn lakehouse(&self) -> PathBuf {
        self.dir.path().join("lakehouse")
    }

    pub fn write(&self, path: &str, text: &str) {
        let full = self.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Ran {
        lakemart(self.path(), &self.lakehouse(), args)
    }
}

/// A small working project: one source system, a foundation model and a customer 360.
pub fn tiny_project() -> TempProject {
    TempProject::new(&[
        ("lakemart.toml", "[project]\nname = \"tiny\"\nlanding = \"landing\"\n"),
        (
            "models/sources/core.toml",
            r#"description = "Core banking"

[[tables]]
name = "customer"
file = "{biz_date}/core/customer_{yyyymmdd}.csv"
format = "csv"
primary_key = ["cust_id"]

[[tables.columns]]
name = "cust_id"
type = "string"

[[tables.columns]]
name = "balance"
type = "decimal(18,2)"

[[tables.columns]]
name = "open_date"
type = "date"
"#,
        ),
        (
            "landing/2024-06-29/core/customer_20240629.csv",
            "cust_id,balance,open_date\nC1,100.00,2020-01-01\nC2,5.00,2021-02-03\n",
        ),
        (
            "landing/2024-06-30/core/customer_20240630.csv",
            "cust_id,balance,open_date\nC1, 100.50 ,2020-01-01\nC2,,2021-02-03\nC3,7.25,\n",
        ),
        (
            "models/foundation/customer.toml",
            r#"[[models]]
name = "customer"
description = "Golden customer record"

[[models.columns]]
name = "customer_id"
description = "Customer number"
"#,
        ),
        (
            "sql/foundation/customer/customer.sql",
            "-- golden customer\nSELECT cust_id AS customer_id, balance, open_date\nFROM src.core_customer\nWHERE biz_date = $biz_date\n",
        ),
        (
            "sql/application/customer/customer_360.sql",
            "WITH b AS (SELECT customer_id, coalesce(balance, 0) AS bal FROM foundation.customer)\n\
             SELECT customer_id, CAST(bal AS DECIMAL(18,2)) AS aum, $biz_date AS biz_date FROM b\n",
        ),
    ])
}

/// The repository root: the reference project over `data-samples/`.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory whose `lakehouse()` holds the sample mart (the repository's
/// project over `data-samples/`) built for `dates`, in order, each its own run;
/// the standard output of each run is beside it as `run-<date>.out`.
///
/// The mart has over 200 models and sources, so it is built once per state of the
/// binary, models, SQL and sample files (a key over their sizes and times) into
/// `CARGO_TARGET_TMPDIR`, and each caller gets its own copy to change at will.
/// Concurrent test processes wait for the one that builds it.
pub fn sample_mart(dates: &[&str]) -> TempProject {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sample-mart");
    let built = cache.join(format!("{:016x}-{}", sample_key(), dates.join("_")));
    let done = built.join("done");
    let lock = built.with_extension("lock");
    std::fs::create_dir_all(&cache).unwrap();
    let started = std::time::Instant::now();
    while !done.exists() {
        if std::fs::create_dir(&lock).is_ok() {
            let _ = std::fs::remove_dir_all(&built);
            for date in dates {
                let r = lakemart(repo_root(), &built.join("lakehouse"), &["run", "--date", date]);
                if r.code != 0 {
                    let _ = std::fs::remove_dir(&lock);
                    panic!("the sample mart does not build for {date}:\n{}\n{}", r.stdout, r.stderr);
                }
                std::fs::write(built.join(format!("run-{date}.out")), &r.stdout).unwrap();
            }
            std::fs::write(&done, "").unwrap();
            let _ = std::fs::remove_dir(&lock);
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1800),
            "waited 30 minutes for another test to build the sample mart ({} exists)",
            lock.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let copy = TempProject::new(&[]);
    copy_dir(&built.join("lakehouse"), &copy.lakehouse());
    for date in dates {
        let out = format!("run-{date}.out");
        std::fs::copy(built.join(&out), copy.path().join(&out)).unwrap();
    }
    copy
}

/// What the sample mart depends on: the binary and every project and sample file.
fn sample_key() -> u64 {
    let mut files = vec![
        PathBuf::from(env!("CARGO_BIN_EXE_lakemart")),
        repo_root().join("lakemart.toml"),
    ];
    for dir in ["models", "sql", "data-samples"] {
        collect_files(&repo_root().join(dir), &mut files);
    }
    files.sort();
    // FNV-1a over path, size and modification time.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in files {
        let meta = std::fs::metadata(&f).ok();
        let mtime = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let len = meta.map(|m| m.len()).unwrap_or(0);
        for b in format!("{}|{len}|{mtime}\n", f.display()).bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
