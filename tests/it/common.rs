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
