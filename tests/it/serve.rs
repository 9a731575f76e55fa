//! Issue 7: `lakemart serve` — the sample mart over the PostgreSQL wire protocol,
//! checked with the real `psql` client and with Python psycopg 3 (installed by
//! `tests/interop/setup.sh`): the same rows as `lakemart query`, passwords,
//! read-only, pii masking however a column is reached, and new runs seen
//! without a restart.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{Ran, TempProject, bin, lakemart};

const ANALYST: (&str, &str) = ("analyst", "analyst-pw");
const OFFICER: (&str, &str) = ("officer", "officer pw 2");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The sample mart built for `dates` into a scratch lakehouse, and a users file:
/// `analyst` (no roles) and `officer` (role pii), hashed by `lakemart serve --hash-password`.
struct Mart {
    scratch: TempProject,
    users: PathBuf,
}

impl Mart {
    fn build(dates: &[&str]) -> Mart {
        let scratch = crate::common::sample_mart(dates);
        let users = scratch.path().join("users.toml");
        std::fs::write(
            &users,
            format!(
                "[[users]]\nname = \"{}\"\npassword = \"{}\"\n\n[[users]]\nname = \"{}\"\npassword = \"{}\"\nroles = [\"pii\"]\n",
                ANALYST.0,
                hash(ANALYST.1),
                OFFICER.0,
                hash(OFFICER.1)
            ),
        )
        .unwrap();
        Mart { scratch, users }
    }

    fn lakehouse(&self) -> PathBuf {
        self.scratch.lakehouse()
    }

    fn query_csv(&self, sql: &str) -> String {
        let r = lakemart(root(), &self.lakehouse(), &["query", sql, "--format", "csv"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    }

    fn serve(&self) -> Server {
        Server::start(&self.lakehouse(), &["--users", self.users.to_str().unwrap()])
    }
}

fn hash(password: &str) -> String {
    let mut child = bin()
        .args(["--project", root().to_str().unwrap(), "serve", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hash = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(hash.starts_with("pbkdf2-sha256$"), "{hash}");
    hash
}

/// A running `lakemart serve` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(lakehouse: &Path, args: &[&str]) -> Server {
        // Port 0 cannot be handed to psql: take a free port, release it, pass it on.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = bin()
            .arg("--project")
            .arg(root())
            .arg("--lakehouse")
            .arg(lakehouse)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut server = Server { child, port };
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) if line.starts_with("lakemart serve:") => server,
            other => {
                let _ = server.child.kill();
                let mut stderr = String::new();
                let _ = std::io::Read::read_to_string(server.child.stderr.as_mut().unwrap(), &mut stderr);
                panic!("lakemart serve did not start: {other:?}\n{stderr}");
            }
        }
    }

    /// `psql --csv -c sql` as `user`; exit code 1 when the statement fails, 2 when the connection does.
    fn psql(&self, (user, password): (&str, &str), sql: &str) -> Ran {
        Command::new(psql())
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                user,
                "-d",
                "lakemart",
            ])
            .args(["-X", "-w", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "10")
            .output()
            .expect("psql runs")
            .into()
    }

    /// One psycopg connection as `user`.
    fn psycopg(&self, (user, password): (&str, &str)) -> PyClient {
        let script = root().join("tests/interop/pg_client.py");
        let mut child = Command::new(python())
            .arg(script)
            .args(["127.0.0.1", &self.port.to_string(), user])
            .env("PGPASSWORD", password)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        PyClient { child, stdin, stdout }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn psql() -> PathBuf {
    let found = Command::new("sh").args(["-c", "command -v psql"]).output();
    match found {
        Ok(out) if out.status.success() => PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()),
        _ => panic!(
            "psql (the PostgreSQL client) is not installed; these tests need the real client. \
             `.ci/run` installs it (apt-get install -y postgresql-client)"
        ),
    }
}

fn python() -> String {
    let setup = root().join("tests/interop/setup.sh");
    let out = Command::new("bash").arg(setup).output().expect("bash runs");
    assert!(
        out.status.success(),
        "tests/interop/setup.sh could not install psycopg:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `tests/interop/pg_client.py` on one connection: a statement in, a JSON line out.
struct PyClient {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl PyClient {
    fn run(&mut self, sql: &str) -> serde_json::Value {
        writeln!(self.stdin, "{sql}").unwrap();
        self.stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("pg_client.py said {line:?} to {sql}: {e}"));
        assert!(value.get("connect_error").is_none(), "{value}");
        value
    }

    /// The rows of a query that must succeed, NULL as "".
    fn rows(&mut self, sql: &str) -> Vec<Vec<String>> {
        let v = self.run(sql);
        let rows = v["rows"].as_array().unwrap_or_else(|| panic!("{sql}: {v}"));
        rows.iter()
            .map(|r| {
                r.as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap_or("").to_string())
                    .collect()
            })
            .collect()
    }
}

impl Drop for PyClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CSV without quoted fields (the columns these tests pick have no commas) → rows.
fn csv_rows(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// The one value of a one-row, one-column CSV result.
fn single(csv: &str) -> String {
    let rows = csv_rows(csv);
    assert_eq!(rows.len(), 1, "{csv}");
    rows[0][0].clone()
}

const C360: &str = "SELECT customer_id, customer_name, cert_no, mobile, birth_date, age, aum_cny, loan_balance_cny, \
                    last_txn_date, days_since_last_txn, value_segment FROM application.customer_360 ORDER BY customer_id";

#[test]
fn psql_and_psycopg_return_the_rows_of_lakemart_query() {
    let mart = Mart::build(&["2024-06-29", "2024-06-30"]);
    let server = mart.serve();
    let expected = mart.query_csv(C360);
    assert_eq!(csv_rows(&expected).len(), 200);

    // A pii user sees exactly what lakemart query prints, value for value.
    let r = server.psql(OFFICER, C360);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, expected);

    // Python psycopg (extended protocol), as the pii user.
    let mut py = server.psycopg(OFFICER);
    assert_eq!(py.rows(C360), csv_rows(&expected));
    // Aggregates, joins and parameters of the planner's own making agree too.
    let summary = "SELECT value_segment, count(*) AS customers, sum(aum_cny) AS aum FROM application.customer_360 \
                   GROUP BY value_segment ORDER BY value_segment";
    assert_eq!(py.rows(summary), csv_rows(&mart.query_csv(summary)));
    let joined = "SELECT a.customer_id, count(*) AS agreements FROM foundation.agreement a \
                  JOIN application.customer_360 c ON c.customer_id = a.customer_id \
                  GROUP BY a.customer_id ORDER BY a.customer_id LIMIT 20";
    assert_eq!(server.psql(ANALYST, joined).stdout, mart.query_csv(joined));

    // psql's catalog queries see the mart's tables.
    let r = Command::new(psql())
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port.to_string(),
            "-U",
            OFFICER.0,
            "-d",
            "lakemart",
            "-X",
            "-w",
        ])
        .args(["-c", "\\dt application.*"])
        .env("PGPASSWORD", OFFICER.1)
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&r.stdout);
    assert!(
        listing.contains("customer_360"),
        "{listing}\n{}",
        String::from_utf8_lossy(&r.stderr)
    );
}

#[test]
fn wrong_passwords_and_unknown_users_are_refused() {
    let mart = Mart::build(&["2024-06-30"]);
    let server = mart.serve();
    for (user, password) in [(ANALYST.0, "not-it"), (OFFICER.0, ANALYST.1), ("mallory", "x")] {
        let r = server.psql((user, password), "SELECT 1");
        assert_eq!(r.code, 2, "{user}: {}", r.stdout);
        assert!(
            r.stderr
                .contains(&format!("Password authentication failed for user \"{user}\"")),
            "{user}: {}",
            r.stderr
        );
    }
    // psql without any password: the server asks for one and psql (-w) gives up.
    let r = server.psql((ANALYST.0, ""), "SELECT 1");
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("no password supplied"), "{}", r.stderr);

    let mut py = server.psycopg((OFFICER.0, "wrong"));
    let mut line = String::new();
    py.stdout.read_line(&mut line).unwrap();
    assert!(
        line.contains("connect_error") && line.contains("authentication failed"),
        "{line}"
    );

    // The right password still works.
    let r = server.psql(ANALYST, "SELECT count(*) AS n FROM application.customer_360");
    assert_eq!(r.stdout, "n\n200\n", "{}", r.stderr);
}

#[test]
fn no_users_file_no_server_and_anonymous_access_only_when_allowed() {
    let mart = Mart::build(&["2024-06-30"]);
    let r = lakemart(root(), &mart.lakehouse(), &["serve", "--bind", "127.0.0.1:1"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("needs a users file") && r.stderr.contains("--hash-password"),
        "{}",
        r.stderr
    );

    let open = mart.scratch.path().join("anonymous.toml");
    std::fs::write(&open, "allow_anonymous = true\n").unwrap();
    let server = Server::start(&mart.lakehouse(), &["--users", open.to_str().unwrap()]);
    let r = server.psql(
        ("guest", ""),
        "SELECT cert_no FROM application.customer_360 WHERE customer_id = 'C000000042'",
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout, "cert_no\n320505********6568\n",
        "anonymous users never see pii"
    );
}

#[test]
fn ddl_and_dml_are_refused_and_leave_the_tables_alone() {
    let mart = Mart::build(&["2024-06-30"]);
    let server = mart.serve();
    let history = || {
        lakemart(
            root(),
            &mart.lakehouse(),
            &["history", "foundation.customer", "--format", "json"],
        )
        .stdout
    };
    let before = history();
    for (sql, what) in [
        ("CREATE TABLE scratch AS SELECT 1 AS x", "CREATE TABLE"),
        ("CREATE VIEW v AS SELECT * FROM foundation.customer", "CREATE VIEW"),
        (
            "INSERT INTO foundation.customer SELECT * FROM foundation.customer",
            "INSERT",
        ),
        ("UPDATE foundation.customer SET age = 0", "UPDATE"),
        ("DELETE FROM foundation.customer", "DELETE"),
        ("DROP TABLE foundation.customer", "DROP TABLE"),
        ("TRUNCATE foundation.customer", "TRUNCATE"),
        ("COPY foundation.customer TO '/tmp/lakemart-serve-copy.csv'", "COPY"),
        ("SELECT * INTO stolen FROM foundation.customer", "SELECT … INTO"),
        (
            "WITH gone AS (DELETE FROM foundation.customer RETURNING *) SELECT * FROM gone",
            "DELETE",
        ),
    ] {
        for user in [ANALYST, OFFICER] {
            let r = server.psql(user, sql);
            assert_eq!(r.code, 1, "{sql} as {}: {}", user.0, r.stdout);
            assert!(
                r.stderr
                    .contains(&format!("lakemart serve is read-only: {what} is refused")),
                "{sql}: {}",
                r.stderr
            );
        }
    }
    // Through the extended protocol too, with the SQLSTATE of a read-only transaction.
    let mut py = server.psycopg(OFFICER);
    for sql in [
        "INSERT INTO foundation.customer SELECT * FROM foundation.customer",
        "DROP TABLE foundation.customer",
    ] {
        let v = py.run(sql);
        assert_eq!(v["error"]["sqlstate"], "25006", "{sql}: {v}");
    }
    // Server settings and roles are not the connection's to change.
    let r = server.psql(ANALYST, "SET datafusion.execution.target_partitions = 1");
    assert!(r.stderr.contains("setting of the whole server"), "{}", r.stderr);
    let r = server.psql(ANALYST, "SET ROLE pii");
    assert!(
        r.stderr.contains("roles come from the lakemart serve users file"),
        "{}",
        r.stderr
    );

    assert_eq!(history(), before, "no commit was made");
    assert_eq!(
        single(&mart.query_csv("SELECT count(*) AS n FROM foundation.customer")),
        "200"
    );
    assert!(!Path::new("/tmp/lakemart-serve-copy.csv").exists());
}

/// The masks of the clear values, as the issue draws them.
fn id_mask(v: &str) -> String {
    format!("{}********{}", &v[..6], &v[14..])
}

fn name_mask(v: &str) -> String {
    let mut c = v.chars();
    let first = c.next().unwrap();
    std::iter::once(first).chain(c.map(|_| '*')).collect()
}

#[test]
fn non_pii_users_see_masked_values_however_they_reach_them() {
    let mart = Mart::build(&["2024-06-30"]);
    let server = mart.serve();
    let clear = csv_rows(&mart.query_csv(
        "SELECT customer_name, cert_no, mobile, birth_date FROM application.customer_360 WHERE customer_id = 'C000000042'",
    ))
    .remove(0);
    let (name, cert, mobile, birth) = (&clear[0], &clear[1], &clear[2], &clear[3]);
    assert_eq!(cert.len(), 18);
    let (name_m, cert_m) = (name_mask(name), id_mask(cert));
    let mobile_m = format!("{}****{}", &mobile[..3], &mobile[7..]);
    let birth_m = format!("{}-**-**", &birth[..4]);

    // SELECT *: every pii column of customer_360 masked, the rest as it is.
    let star = server.psql(
        ANALYST,
        "SELECT * FROM application.customer_360 WHERE customer_id = 'C000000042'",
    );
    assert_eq!(star.code, 0, "{}", star.stderr);
    let header: Vec<&str> = star.stdout.lines().next().unwrap().split(',').collect();
    let row = csv_rows(&star.stdout).remove(0);
    let col = |name: &str| row[header.iter().position(|h| *h == name).unwrap()].clone();
    assert_eq!(col("customer_name"), name_m);
    assert_eq!(col("cert_no"), cert_m);
    assert_eq!(col("mobile"), mobile_m);
    assert_eq!(col("birth_date"), birth_m);
    assert_eq!(col("value_segment"), "WEALTH");
    assert!(!star.stdout.contains(cert.as_str()) && !star.stdout.contains(mobile.as_str()));

    // Expressions over a pii column see only the mask.
    let r = server.psql(
        ANALYST,
        "SELECT upper(customer_name) AS u, substr(cert_no, 1, 18) AS s, cert_no || '' AS c, \
                concat('ID ', cert_no) AS d, length(cert_no) AS n \
         FROM application.customer_360 WHERE customer_id = 'C000000042'",
    );
    assert_eq!(
        r.stdout,
        format!("u,s,c,d,n\n{name_m},{cert_m},{cert_m},ID {cert_m},18\n"),
        "{}",
        r.stderr
    );
    // A predicate cannot probe the clear value either.
    let r = server.psql(
        ANALYST,
        &format!("SELECT count(*) AS n FROM application.customer_360 WHERE cert_no = '{cert}'"),
    );
    assert_eq!(r.stdout, "n\n0\n", "{}", r.stderr);

    // A join, through a pii column of another model and of a staged source.
    let joined = "SELECT c.cert_no, k.cust_name, k.mobile, a.agreement_id \
                  FROM application.customer_360 c \
                  JOIN src.core_customer k ON k.cust_id = c.customer_id \
                  JOIN foundation.agreement a ON a.customer_id = c.customer_id \
                  WHERE c.customer_id = 'C000000042' ORDER BY a.agreement_id";
    let masked = server.psql(ANALYST, joined);
    assert_eq!(masked.code, 0, "{}", masked.stderr);
    let clear_join = mart.query_csv(joined);
    assert_eq!(csv_rows(&clear_join).len(), csv_rows(&masked.stdout).len());
    for (m, c) in csv_rows(&masked.stdout).iter().zip(csv_rows(&clear_join)) {
        assert_eq!(m[0], cert_m);
        assert_eq!(m[1], name_m);
        assert_eq!(m[2], mobile_m);
        assert_ne!(m[3], c[3], "agreement numbers are pii in foundation.agreement");
        assert!(
            m[3].contains('*') && m[3].ends_with(&c[3][c[3].len() - 4..]),
            "{} vs {}",
            m[3],
            c[3]
        );
    }

    // The pii user sees the same queries in clear, as lakemart query does.
    assert_eq!(server.psql(OFFICER, joined).stdout, clear_join);
    let r = server.psql(
        OFFICER,
        "SELECT upper(customer_name) AS u, substr(cert_no, 1, 18) AS s FROM application.customer_360 \
         WHERE customer_id = 'C000000042'",
    );
    assert_eq!(r.stdout, format!("u,s\n{name},{cert}\n"));

    // psycopg: SELECT * masked for the analyst, clear for the officer.
    let star = "SELECT * FROM foundation.customer WHERE customer_id = 'C000000042'";
    let mut py = server.psycopg(ANALYST);
    let v = py.run(star);
    let cols: Vec<&str> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let cert_at = cols.iter().position(|c| *c == "cert_no").unwrap();
    assert_eq!(v["rows"][0][cert_at], cert_m.as_str());
    let mut py = server.psycopg(OFFICER);
    assert_eq!(py.run(star)["rows"][0][cert_at], cert.as_str());
    // Plans with column statistics are the pii role's.
    let v = server
        .psycopg(ANALYST)
        .run("EXPLAIN VERBOSE SELECT cert_no FROM foundation.customer");
    assert_eq!(v["error"]["sqlstate"], "42501", "{v}");
}

#[test]
fn a_run_between_two_queries_is_visible_without_restart() {
    let mart = Mart::build(&["2024-06-29"]);
    let server = mart.serve();
    let count = "SELECT count(*) AS n FROM application.customer_360";
    let mut py = server.psycopg(ANALYST);
    // Six times: psycopg prepares the statement on the server from the fifth on.
    for _ in 0..6 {
        assert_eq!(py.rows(count), vec![vec!["199".to_string()]]);
    }
    assert_eq!(server.psql(ANALYST, count).stdout, "n\n199\n");

    let r = lakemart(root(), &mart.lakehouse(), &["run", "--date", "2024-06-30"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // The same connection and the same prepared statement see the new version.
    assert_eq!(py.rows(count), vec![vec!["200".to_string()]]);
    assert_eq!(server.psql(ANALYST, count).stdout, "n\n200\n");
    // And time travel reaches back on the same connection.
    assert_eq!(py.run("SET lakemart.as_of_date = '2024-06-29'")["status"], "SET");
    assert_eq!(
        py.rows("SHOW lakemart.as_of_date"),
        vec![vec!["2024-06-29".to_string()]]
    );
    assert_eq!(py.rows(count), vec![vec!["199".to_string()]]);
    assert_eq!(py.run("RESET lakemart.as_of_date")["status"], "RESET");
    assert_eq!(py.rows(count), vec![vec!["200".to_string()]]);
    let r = server.psql(ANALYST, &format!("SET lakemart.as_of_date = '2024-06-29'; {count}"));
    assert_eq!(r.stdout, "n\n199\n", "{}", r.stderr);
    // Before the first run the table did not exist, and the error says so.
    let r = server.psql(ANALYST, &format!("SET lakemart.as_of_date = '2024-06-01'; {count}"));
    assert_eq!(r.code, 1);
    assert!(
        r.stderr
            .contains("application.customer_360 did not exist yet for business date 2024-06-01"),
        "{}",
        r.stderr
    );
}
