//! `lakemart ingest` (docs/ingest.md): extract formats and encodings, every cleansing
//! rule hard and soft, structural rejects, control files, empty and missing extracts,
//! reject limits, idempotent re-ingest, `--source`, ingest inside `run`, the JSON
//! events and `_lakemart.ingest`, and configuration errors.
//!
//! Written from docs/ingest.md alone. Every scenario builds a small project with one
//! source system (`models/sources/core.toml`, extracts under `landing/2024-06-30/core/`)
//! and checks what a user sees: the staged rows, the rejects (`line`, `column`, `rule`,
//! `reason`), the exit code and the figures.
//!
//! Readings of the document where it leaves room:
//! - `invalid UTF-8 at byte N of the line`: N is 1-based, like `line` and fixed-width
//!   `start` (the document counts every other position from 1).
//! - `line is N bytes, expected at least M`: N counts the bytes of the record without
//!   its line break; M is the end (start + length - 1) of the furthest declared field.
//! - Rules 4–7 (map, type, check/pattern, range) apply to non-NULL values only: an empty
//!   value in a mapped or checked column that is not `required` loads as NULL.
//! - A column's `trim = false` overrides the table's default `trim = true`.
//! - The `type` reason is `'<value>' is not a <type>` as in the document's decimal
//!   example; for `int` only the value and the type name are checked (the article
//!   "a"/"an" is left open), for `boolean` the literal pattern `is not a boolean`.
//! - `check` reasons follow the resident_id example: `'<value>' is not a valid <check>`.
//! - `range` reasons are checked with raw values that equal their canonical form
//!   (`-5.00` for a decimal(18,2), `2031-01-01` in the default date format), so it does
//!   not matter whether the raw or the parsed value is quoted.
//! - The `column` of a `duplicate` reject is not checked (a key problem, not one column).
//! - `file` (events, `_lakemart.ingest`, rejects) is checked by its ending
//!   `core/<name>_20240630.dat`: whether it is absolute or relative is left open.
//! - Errors of failed tables are checked for the file they name and the figure that
//!   disagrees, not for exact wording (the document gives none).
//! - Configuration errors name `models/sources/core.toml:<line>` with the line of the
//!   offending key; for a fixed column lacking `start`/`length` only the file and the
//!   column are checked (which line — the column's header or its name — is open).
//! - In `lakemart run`, a model reading a failed source is "skipped" or "failed" (the
//!   document says "fails exactly the models that read it"; run_failures.rs uses
//!   `skipped`); either is accepted, `success` is not.
//! - An empty extract allowed by `allow_empty` is checked with `header = false`.
//! - `rows_read` counts data records (header excluded): loaded + rejected; `soft_fixed`
//!   counts nulled values, so one row with three soft-fixed columns counts 3.
//! - `max_rejects = N` allows exactly N rejected rows ("more … fail the table").
//! - The control sum covers every record whose sum-column value parses, including records
//!   rejected for another column (taken literally from the document).
//! - Text output (`ingest` without `--format json`) is checked only for one line per table.

use serde_json::Value;

use crate::common::{Ran, TempProject};

const DATE: &str = "2024-06-30";

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// One `[[tables]]` entry of a source system, built up key by key.
struct Table {
    system: String,
    name: String,
    keys: Vec<String>,
    columns: Vec<String>,
}

/// A table `name` of system `core`, read from `{biz_date}/core/<name>_{yyyymmdd}.dat`.
fn table(name: &str) -> Table {
    table_of("core", name)
}

fn table_of(system: &str, name: &str) -> Table {
    Table {
        system: system.to_string(),
        name: name.to_string(),
        keys: Vec::new(),
        columns: Vec::new(),
    }
}

impl Table {
    /// A table-level TOML line, e.g. `delimiter = "|"`.
    fn key(mut self, line: &str) -> Table {
        self.keys.push(line.to_string());
        self
    }

    /// A column with its name and type.
    fn col(self, name: &str, ty: &str) -> Table {
        self.col_with(name, ty, "")
    }

    /// A column with extra TOML lines (`"required = true"`, several separated by `\n`).
    fn col_with(mut self, name: &str, ty: &str, extra: &str) -> Table {
        let mut c = format!("\n[[tables.columns]]\nname = \"{name}\"\ntype = \"{ty}\"\n");
        if !extra.is_empty() {
            c.push_str(extra);
            c.push('\n');
        }
        self.columns.push(c);
        self
    }

    fn toml(&self) -> String {
        let mut t = format!(
            "\n[[tables]]\nname = \"{}\"\nfile = \"{{biz_date}}/{}/{}_{{yyyymmdd}}.dat\"\n",
            self.name, self.system, self.name
        );
        if !self.keys.iter().any(|k| k.starts_with("format")) {
            t.push_str("format = \"delimited\"\n");
        }
        for k in &self.keys {
            t.push_str(k);
            t.push('\n');
        }
        for c in &self.columns {
            t.push_str(c);
        }
        t
    }
}

/// The text of `models/sources/<system>.toml`: system-level lines, then the tables.
fn source_toml(head: &str, tables: &[&Table]) -> String {
    let mut s = String::from("description = \"test system\"\n");
    if !head.is_empty() {
        s.push_str(head);
        s.push('\n');
    }
    for t in tables {
        s.push_str(&t.toml());
    }
    s
}

/// A project with the given source systems (`(system, toml text)`) and nothing else.
fn project_with(systems: &[(&str, String)]) -> TempProject {
    let p = TempProject::new(&[("lakemart.toml", "[project]\nname = \"t\"\nlanding = \"landing\"\n")]);
    for (system, text) in systems {
        p.write(&format!("models/sources/{system}.toml"), text);
    }
    p
}

/// A project whose system `core` holds the given tables (system-level lines in `head`).
fn project(head: &str, tables: &[&Table]) -> TempProject {
    project_with(&[("core", source_toml(head, tables))])
}

/// The landing path (relative to the project) of a table's extract for a date.
fn extract_path(system: &str, table: &str, date: &str) -> String {
    format!("landing/{date}/{system}/{table}_{}.dat", date.replace('-', ""))
}

/// Land the extract of `core.<table>` for `date` as raw bytes.
fn land_on(p: &TempProject, table: &str, date: &str, bytes: &[u8]) {
    land_sys(p, "core", table, date, bytes);
}

fn land_sys(p: &TempProject, system: &str, table: &str, date: &str, bytes: &[u8]) {
    let full = p.path().join(extract_path(system, table, date));
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, bytes).unwrap();
}

/// Land the extract of `core.<table>` for 2024-06-30.
fn land(p: &TempProject, table: &str, bytes: &[u8]) {
    land_on(p, table, DATE, bytes);
}

/// One table of system `core` with its 2024-06-30 extract.
fn one_table(t: &Table, data: &[u8]) -> TempProject {
    let p = project("", &[t]);
    land(&p, &t.name, data);
    p
}

/// `lakemart ingest --date D --format json [extra…]`: the run and its events.
fn ingest_on(p: &TempProject, date: &str, extra: &[&str]) -> (Ran, Vec<Value>) {
    let mut args = vec!["ingest", "--date", date, "--format", "json"];
    args.extend_from_slice(extra);
    let r = p.run(&args);
    let events = r
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("each line is JSON: {l}\nstderr: {}", r.stderr)))
        .collect();
    (r, events)
}

fn ingest(p: &TempProject) -> (Ran, Vec<Value>) {
    ingest_on(p, DATE, &[])
}

/// Ingest 2024-06-30 and require exit code 0.
#[track_caller]
fn ingest_ok(p: &TempProject) -> Vec<Value> {
    let (r, ev) = ingest(p);
    assert_eq!(
        r.code, 0,
        "ingest should succeed\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    ev
}

/// The `source_finished` event of a staged table (`src.core_cust`).
#[track_caller]
fn finished<'a>(events: &'a [Value], source: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["event"] == "source_finished" && e["source"] == source)
        .unwrap_or_else(|| panic!("no source_finished for {source}: {events:?}"))
}

/// The `source_finished` event of a table that must have failed; its error text.
#[track_caller]
fn failed_error(events: &[Value], source: &str) -> String {
    let e = finished(events, source);
    assert_eq!(e["status"], "failed", "{e}");
    e["error"]
        .as_str()
        .unwrap_or_else(|| panic!("a failed table says why: {e}"))
        .to_string()
}

/// (rows_read, rows_loaded, rows_rejected, soft_fixed) of a `source_finished` event.
fn figures(e: &Value) -> (u64, u64, u64, u64) {
    (
        e["rows_read"].as_u64().unwrap_or(u64::MAX),
        e["rows_loaded"].as_u64().unwrap_or(u64::MAX),
        e["rows_rejected"].as_u64().unwrap_or(u64::MAX),
        e["soft_fixed"].as_u64().unwrap_or(u64::MAX),
    )
}

/// A minimal CSV reader for `lakemart query --format csv` (quotes, `""`, line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(c);
            }
        } else {
            match c {
                '"' => in_quotes = true,
                ',' => row.push(std::mem::take(&mut field)),
                '\r' => {}
                '\n' => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                _ => field.push(c),
            }
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// `lakemart query SQL --format csv`, parsed, header dropped (NULL reads as "").
#[track_caller]
fn rows(p: &TempProject, sql: &str) -> Vec<Vec<String>> {
    let q = p.run(&["query", sql, "--format", "csv"]);
    assert_eq!(q.code, 0, "query failed: {sql}\n{}\n{}", q.stdout, q.stderr);
    let mut all = parse_csv(&q.stdout);
    assert!(!all.is_empty(), "CSV output has a header line: {sql}\n{}", q.stdout);
    all.remove(0);
    all
}

/// `line, column, rule, reason` of a table's rejects, by line.
#[track_caller]
fn rejects(p: &TempProject, table: &str) -> Vec<Vec<String>> {
    rows(
        p,
        &format!("SELECT line, \"column\", rule, reason FROM _rejects.core_{table} ORDER BY line"),
    )
}

/// Number of rows of `table` (e.g. `src.core_cust`) for a business date.
#[track_caller]
fn count_on(p: &TempProject, table: &str, date: &str) -> String {
    let r = rows(
        p,
        &format!("SELECT count(*) AS n FROM {table} WHERE biz_date = DATE '{date}'"),
    );
    r[0][0].clone()
}

/// The 1-based line of `needle` in `text`.
#[track_caller]
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in\n{text}"))
        + 1
}

/// A resident ID: 17 digits and their ISO 7064 MOD 11-2 check character.
fn resident_id(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8] = b"10X98765432";
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    format!("{first17}{}", CHECK[(sum % 11) as usize] as char)
}

/// The same ID with a wrong check character.
fn wrong_check(id: &str) -> String {
    let (body, check) = id.split_at(17);
    let other = if check == "0" { '1' } else { '0' };
    format!("{body}{other}")
}

/// `cust_id,name,balance` customers, comma CSV with a header.
fn customers() -> Table {
    table("cust")
        .col("cust_id", "string")
        .col("name", "string")
        .col("balance", "decimal(18,2)")
}

// ---------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------

#[test]
fn quoted_csv_fields_keep_delimiters_doubled_quotes_and_line_breaks() {
    let t = table("cust")
        .key("format = \"csv\"")
        .key("quote = '\"'")
        .col("cust_id", "string")
        .col("name", "string")
        .col("note", "string");
    let data = "cust_id,name,note\n\
                C1,\"Smith, John\",\"say \"\"hi\"\"\"\n\
                C2,\"two\nlines\",plain\n\
                C3,only two\n\
                C4,Ann,\"x\"\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 3, 1, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name, note FROM src.core_cust ORDER BY cust_id"),
        [
            ["C1", "Smith, John", "say \"hi\""],
            ["C2", "two\nlines", "plain"],
            ["C4", "Ann", "x"],
        ]
    );
    // The record after the two-line record starts on physical line 5.
    assert_eq!(
        rejects(&p, "cust"),
        [["5", "", "columns", "expected 3 fields, found 2"]]
    );
    assert_eq!(rows(&p, "SELECT raw_line FROM _rejects.core_cust"), [["C3,only two"]]);
}

#[test]
fn without_a_header_the_first_line_is_data() {
    let t = customers().key("header = false").key("delimiter = \"|\"");
    let p = one_table(&t, b"C1|Ann|1.00\nC2|Bob\nC3|Cy|3.00\n");
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (3, 2, 1, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name, balance FROM src.core_cust ORDER BY cust_id"),
        [["C1", "Ann", "1.00"], ["C3", "Cy", "3.00"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [["2", "", "columns", "expected 3 fields, found 2"]]
    );
}

#[test]
fn a_multi_character_delimiter_splits_only_on_the_whole_string() {
    let t = table("cust")
        .key("delimiter = \"|@|\"")
        .col("cust_id", "string")
        .col("name", "string")
        .col("note", "string");
    let data = "cust_id|@|name|@|note\nC1|@|a|b|@|x@y\nC2|@|Bob|@|\nC3|@|only\n";
    let p = one_table(&t, data.as_bytes());
    ingest_ok(&p);
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, name, coalesce(note, '<null>') FROM src.core_cust ORDER BY cust_id"
        ),
        [["C1", "a|b", "x@y"], ["C2", "Bob", "<null>"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [["4", "", "columns", "expected 3 fields, found 2"]]
    );
}

#[test]
fn a_control_character_delimiter_declared_with_a_toml_unicode_escape() {
    // TOML decodes "\u0001" itself: lakemart receives the one character U+0001.
    let t = customers().key(r#"delimiter = "\u0001""#).key("header = false");
    let p = one_table(&t, b"C1\x01Ann, Jr. | x\x0112.50\nC2\x01Bob\x017\n");
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (2, 2, 0, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name, balance FROM src.core_cust ORDER BY cust_id"),
        [["C1", "Ann, Jr. | x", "12.50"], ["C2", "Bob", "7.00"]]
    );
}

#[test]
fn delimiter_escapes_spelled_in_literal_strings() {
    // TOML literal strings keep the backslash: lakemart reads the escapes \x01, \u0001, \t.
    let hex = table("hex")
        .key(r"delimiter = '\x01'")
        .key("header = false")
        .col("id", "string")
        .col("name", "string");
    let uni = table("uni")
        .key(r"delimiter = '\u0001'")
        .key("header = false")
        .col("id", "string")
        .col("name", "string");
    let tab = table("tab")
        .key(r"delimiter = '\t'")
        .key("header = false")
        .col("id", "string")
        .col("name", "string");
    let p = project("", &[&hex, &uni, &tab]);
    land(&p, "hex", b"H1\x01a,b|c\nH2\x01d\n");
    land(&p, "uni", b"U1\x01e\tf\n");
    land(&p, "tab", b"T1\tg\x01h\n");
    let ev = ingest_ok(&p);
    for (source, n) in [("src.core_hex", 2), ("src.core_uni", 1), ("src.core_tab", 1)] {
        assert_eq!(figures(finished(&ev, source)), (n, n, 0, 0), "{source}");
    }
    assert_eq!(
        rows(&p, "SELECT id, name FROM src.core_hex ORDER BY id"),
        [["H1", "a,b|c"], ["H2", "d"]]
    );
    assert_eq!(rows(&p, "SELECT id, name FROM src.core_uni"), [["U1", "e\tf"]]);
    assert_eq!(rows(&p, "SELECT id, name FROM src.core_tab"), [["T1", "g\u{1}h"]]);
}

fn fixed_customers() -> Table {
    table("cust")
        .key("format = \"fixed\"")
        .col_with("cust_id", "string", "start = 1\nlength = 5")
        .col_with("name", "string", "start = 6\nlength = 10")
        .col_with("balance", "decimal(18,2)", "start = 16\nlength = 10")
        .col_with("open_date", "date", "start = 26\nlength = 8\nformat = \"yyyyMMdd\"")
}

#[test]
fn fixed_width_fields_are_cut_by_start_and_length() {
    let data = "C0001Alice     0000012.5020200131\n\
                C0002Bob       0000000.0019991231   trailing filler\n\
                C0003Carol\n\
                C0004Dan       00000x1.0020200101\n";
    let p = one_table(&fixed_customers(), data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 2, 2, 0));
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, name, balance, open_date FROM src.core_cust ORDER BY cust_id"
        ),
        [
            ["C0001", "Alice", "12.50", "2020-01-31"],
            ["C0002", "Bob", "0.00", "1999-12-31"],
        ]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["3", "", "length", "line is 10 bytes, expected at least 33"],
            ["4", "balance", "type", "'00000x1.00' is not a decimal(18,2)"],
        ]
    );
}

#[test]
fn fixed_width_positions_count_bytes_of_the_gbk_line() {
    let t = table("cust")
        .key("format = \"fixed\"")
        .key("encoding = \"gbk\"")
        .col_with("cust_id", "string", "start = 1\nlength = 5")
        .col_with("name", "string", "start = 6\nlength = 8")
        .col_with("city", "string", "start = 14\nlength = 6");
    let mut data = Vec::new();
    // 张三 and 李四 are 2 bytes per character in GBK: 4 bytes + 4 spaces = 8.
    data.extend_from_slice(b"C0001\xd5\xc5\xc8\xfd    BJ    \n");
    data.extend_from_slice(b"C0002\xc0\xee\xcb\xc4    SH    \n");
    // 王五 alone: 5 + 4 = 9 bytes, short of 19.
    data.extend_from_slice(b"C0003\xcd\xf5\xce\xe5\n");
    let p = one_table(&t, &data);
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (3, 2, 1, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name, city FROM src.core_cust ORDER BY cust_id"),
        [["C0001", "张三", "BJ"], ["C0002", "李四", "SH"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [["3", "", "length", "line is 9 bytes, expected at least 19"]]
    );
    assert_eq!(rows(&p, "SELECT raw_line FROM _rejects.core_cust"), [["C0003王五"]]);
}

#[test]
fn crlf_line_endings_and_a_utf8_byte_order_mark_are_handled() {
    let t = table("cust")
        .col("cust_id", "string")
        .col_with("name", "string", "trim = false");
    let p = one_table(&t, "\u{FEFF}cust_id,name\r\nC1,Ann\r\nC2,Bob\r\n".as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (2, 2, 0, 0));
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, '[' || name || ']' FROM src.core_cust ORDER BY cust_id"
        ),
        [["C1", "[Ann]"], ["C2", "[Bob]"]]
    );
}

// ---------------------------------------------------------------------------------------
// Encodings
// ---------------------------------------------------------------------------------------

#[test]
fn a_gbk_extract_decodes_chinese_names_and_a_table_can_override_the_system_encoding() {
    let gbk = table("cust")
        .key("delimiter = \"|\"")
        .col("cust_id", "string")
        .col("name", "string");
    let utf = table("addr")
        .key("delimiter = \"|\"")
        .key("encoding = \"utf-8\"")
        .col("cust_id", "string")
        .col("city", "string");
    let p = project("encoding = \"gbk\"", &[&gbk, &utf]);
    land(
        &p,
        "cust",
        b"cust_id|name\nC1|\xd5\xc5\xc8\xfd\nC2|\xc0\xee\xcb\xc4\nC3|A\xffB\n",
    );
    land(&p, "addr", "cust_id|city\nC1|北京\n".as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (3, 2, 1, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name FROM src.core_cust ORDER BY cust_id"),
        [["C1", "张三"], ["C2", "李四"]]
    );
    assert_eq!(
        rows(&p, "SELECT cust_id FROM src.core_cust WHERE name = '张三'"),
        [["C1"]]
    );
    assert_eq!(rows(&p, "SELECT city FROM src.core_addr"), [["北京"]]);
    // A byte that is no GBK character rejects its line.
    let r = rejects(&p, "cust");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0][0].as_str(), r[0][1].as_str(), r[0][2].as_str()),
        ("4", "", "encoding")
    );
    assert!(r[0][3].starts_with("invalid GBK"), "{r:?}");
}

#[test]
fn a_gbk_character_whose_second_byte_is_a_pipe_does_not_split_the_field() {
    // 0x81 0x7C is 亅 (U+4E85) in GBK: its second byte is '|'.
    let t = table("cust")
        .key("delimiter = \"|\"")
        .key("encoding = \"gbk\"")
        .col("cust_id", "string")
        .col("name", "string")
        .col("city", "string");
    let data = b"cust_id|name|city\nC1|\x81\x7c|BJ\nC2|\xcd\xf5\x81\x7c\xce\xe5|SH\n";
    let p = one_table(&t, data);
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (2, 2, 0, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name, city FROM src.core_cust ORDER BY cust_id"),
        [["C1", "亅", "BJ"], ["C2", "王亅五", "SH"]]
    );
}

#[test]
fn a_gb18030_extract_decodes_four_byte_characters() {
    let t = table("cust")
        .key("delimiter = \"|\"")
        .key("header = false")
        .col("cust_id", "string")
        .col("name", "string");
    let p = project("encoding = \"gb18030\"", &[&t]);
    // 𠀀 (U+20000) is 0x95 0x32 0x82 0x36 in GB18030; € is 0xA2 0xE3.
    land(&p, "cust", b"C1|\x95\x32\x82\x36\nC2|\xa2\xe3\n");
    ingest_ok(&p);
    assert_eq!(
        rows(&p, "SELECT cust_id, name FROM src.core_cust ORDER BY cust_id"),
        [["C1", "\u{20000}"], ["C2", "€"]]
    );
}

#[test]
fn invalid_utf8_rejects_the_line_and_the_others_load() {
    let t = table("cust")
        .col("cust_id", "string")
        .col("name", "string")
        .col("city", "string");
    let p = one_table(&t, b"cust_id,name,city\nC1,Ann,Paris\nC2,A\xffB,Rome\nC3,Cy,Oslo\n");
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (3, 2, 1, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id FROM src.core_cust ORDER BY cust_id"),
        [["C1"], ["C3"]]
    );
    // 0xFF is the 5th byte of `C2,A\xffB,Rome`.
    assert_eq!(
        rejects(&p, "cust"),
        [["3", "", "encoding", "invalid UTF-8 at byte 5 of the line"]]
    );
    assert_eq!(
        rows(&p, "SELECT raw_line FROM _rejects.core_cust"),
        [["C2,A\u{FFFD}B,Rome"]]
    );
}

// ---------------------------------------------------------------------------------------
// Cleansing rules
// ---------------------------------------------------------------------------------------

#[test]
fn trim_strips_spaces_unless_the_column_turns_it_off_and_empty_is_null_by_default() {
    let t = table("cust")
        .col("cust_id", "string")
        .col("name", "string")
        .col_with("code", "string", "trim = false");
    let data = "cust_id,name,code\n  C1 ,  Alice  ,  x  \nC2,   ,\nC3,NULL,y\n";
    let p = one_table(&t, data.as_bytes());
    ingest_ok(&p);
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, coalesce('[' || name || ']', '<null>'), coalesce('[' || code || ']', '<null>') \
             FROM src.core_cust ORDER BY cust_id"
        ),
        [
            ["C1", "[Alice]", "[  x  ]"],
            ["C2", "<null>", "<null>"],
            // Only "" is a NULL token by default.
            ["C3", "[NULL]", "[y]"],
        ]
    );
}

#[test]
fn null_values_of_the_table_and_a_columns_own_tokens_that_replace_them() {
    let t = table("cust")
        .key(r#"null_values = ["", "NULL", "\\N"]"#)
        .col("cust_id", "string")
        .col("name", "string")
        .col_with("close_date", "date", r#"null_values = ["", "9999-12-31"]"#);
    let data = "cust_id,name,close_date\n\
                C1,\\N,9999-12-31\n\
                C2,NULL,2024-01-31\n\
                C3,Bob,NULL\n\
                C4,  NULL  ,\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 3, 1, 0));
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, coalesce(name, '<null>'), coalesce(CAST(close_date AS VARCHAR), '<null>') \
             FROM src.core_cust ORDER BY cust_id"
        ),
        [
            ["C1", "<null>", "<null>"],
            ["C2", "<null>", "2024-01-31"],
            ["C4", "<null>", "<null>"],
        ]
    );
    // close_date's tokens replace the table's: "NULL" is not a NULL there.
    assert_eq!(
        rejects(&p, "cust"),
        [["4", "close_date", "type", "'NULL' is not a date in format yyyy-MM-dd"]]
    );
}

#[test]
fn required_rejects_an_empty_value_even_with_on_invalid_null() {
    let t = table("cust").col_with("cust_id", "string", "required = true").col_with(
        "name",
        "string",
        "required = true\non_invalid = \"null\"",
    );
    let t = t.key("max_reject_rate = 1");
    let data = "cust_id,name\n,Alice\n   ,Bob\nC3,\nC4,Dan\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 1, 3, 0));
    assert_eq!(rows(&p, "SELECT cust_id, name FROM src.core_cust"), [["C4", "Dan"]]);
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["2", "cust_id", "required", "cust_id is empty"],
            ["3", "cust_id", "required", "cust_id is empty"],
            ["4", "name", "required", "name is empty"],
        ]
    );
}

const GENDER_MAP: &str = r#"map = { "1" = "M", "M" = "M", "男" = "M", "2" = "F", "F" = "F", "女" = "F" }"#;

#[test]
fn a_hard_map_replaces_codes_and_rejects_an_unknown_one() {
    let t = table("cust")
        .col("cust_id", "string")
        .col_with("gender", "string", GENDER_MAP);
    let data = "cust_id,gender\nC1,1\nC2,女\nC3,X\nC4,\nC5,F\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (5, 4, 1, 0));
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, coalesce(gender, '<null>') FROM src.core_cust ORDER BY cust_id"
        ),
        [["C1", "M"], ["C2", "F"], ["C4", "<null>"], ["C5", "F"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [["4", "gender", "map", "'X' is not a code of gender"]]
    );
}

#[test]
fn a_soft_map_nulls_unknown_codes_and_counts_them() {
    let t = table("cust").col("cust_id", "string").col_with(
        "gender",
        "string",
        &format!("{GENDER_MAP}\non_invalid = \"null\""),
    );
    let data = "cust_id,gender\nC1,男\nC2,X\nC3,2\nC4,?\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    let e = finished(&ev, "src.core_cust");
    assert_eq!(figures(e), (4, 4, 0, 2));
    assert_eq!(e["soft_fixed_detail"], serde_json::json!({"gender": 2}));
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, coalesce(gender, '<null>') FROM src.core_cust ORDER BY cust_id"
        ),
        [["C1", "M"], ["C2", "<null>"], ["C3", "F"], ["C4", "<null>"]]
    );
    assert!(rejects(&p, "cust").is_empty());
    let rec = rows(
        &p,
        "SELECT soft_fixed, soft_fixed_detail FROM _lakemart.ingest WHERE source = 'src.core_cust'",
    );
    assert_eq!(rec.len(), 1, "{rec:?}");
    assert_eq!(rec[0][0], "2");
    let detail: Value = serde_json::from_str(&rec[0][1]).expect("soft_fixed_detail is JSON");
    assert_eq!(detail, serde_json::json!({"gender": 2}));
}

#[test]
fn type_errors_quote_the_value_and_decimals_are_never_rounded() {
    let t = table("acct")
        .col("acct_id", "string")
        .col("balance", "decimal(18,2)")
        .col("rate", "decimal(5,2)")
        .col_with("open_date", "date", "format = \"yyyyMMdd\"")
        .key("max_reject_rate = 1");
    let data = "acct_id,balance,rate,open_date\n\
                A1,12.3,1.5,20240229\n\
                A2,12.345,1.00,20240101\n\
                A3,1.00,1234.5,20240101\n\
                A4,1.00,1.00,20240231\n\
                A5,-0.01,999.99,19000101\n\
                A6,1.00,1.00,2024-01-01\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_acct")), (6, 2, 4, 0));
    assert_eq!(
        rows(
            &p,
            "SELECT acct_id, balance, rate, open_date FROM src.core_acct ORDER BY acct_id"
        ),
        [
            ["A1", "12.30", "1.50", "2024-02-29"],
            ["A5", "-0.01", "999.99", "1900-01-01"],
        ]
    );
    assert_eq!(
        rejects(&p, "acct"),
        [
            ["3", "balance", "type", "'12.345' is not a decimal(18,2)"],
            ["4", "rate", "type", "'1234.5' is not a decimal(5,2)"],
            ["5", "open_date", "type", "'20240231' is not a date in format yyyyMMdd"],
            [
                "7",
                "open_date",
                "type",
                "'2024-01-01' is not a date in format yyyyMMdd"
            ],
        ]
    );
}

#[test]
fn an_int_that_does_not_parse_is_a_type_reject() {
    let t = table("cust").col("cust_id", "string").col("age", "int");
    let p = one_table(&t, b"cust_id,age\nC1,42\nC2,12a\nC3,-7\n");
    ingest_ok(&p);
    assert_eq!(
        rows(&p, "SELECT cust_id, age FROM src.core_cust ORDER BY cust_id"),
        [["C1", "42"], ["C3", "-7"]]
    );
    let r = rejects(&p, "cust");
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        (r[0][0].as_str(), r[0][1].as_str(), r[0][2].as_str()),
        ("3", "age", "type")
    );
    assert!(
        r[0][3].starts_with("'12a' is not a") && r[0][3].ends_with("int"),
        "{r:?}"
    );
}

#[test]
fn booleans_accept_the_listed_spellings() {
    let t = table("cust").col("cust_id", "string").col("vip", "boolean");
    let data = "cust_id,vip\nC1,true\nC2,false\nC3,1\nC4,0\nC5,y\nC6,n\nC7,yes\nC8,no\nC9,maybe\n";
    let p = one_table(&t, data.as_bytes());
    ingest_ok(&p);
    assert_eq!(
        rows(&p, "SELECT cust_id, vip FROM src.core_cust ORDER BY cust_id"),
        [
            ["C1", "true"],
            ["C2", "false"],
            ["C3", "true"],
            ["C4", "false"],
            ["C5", "true"],
            ["C6", "false"],
            ["C7", "true"],
            ["C8", "false"],
        ]
    );
    assert_eq!(rejects(&p, "cust"), [["10", "vip", "type", "'maybe' is not a boolean"]]);
}

#[test]
fn resident_ids_need_a_real_birth_date_and_the_right_check_character() {
    assert_eq!(resident_id("11010519491231002"), "11010519491231002X");
    let good = resident_id("44030019900307123");
    let good_x = resident_id("11010519491231002");
    let bad_check = wrong_check(&good);
    let bad_date = resident_id("11010519900231001"); // 1990-02-31
    let t = table("cust")
        .col("cust_id", "string")
        .col_with("cert_no", "string", "check = \"resident_id\"\npii = true")
        .key("max_reject_rate = 1");
    let bad_check_reason = format!("'{bad_check}' is not a valid resident_id");
    let bad_date_reason = format!("'{bad_date}' is not a valid resident_id");
    let data = format!("cust_id,cert_no\nC1,{good}\nC2,{bad_check}\nC3,{good_x}\nC4,{bad_date}\nC5,4403001990030712\n");
    let p = one_table(&t, data.as_bytes());
    ingest_ok(&p);
    assert_eq!(
        rows(&p, "SELECT cust_id, cert_no FROM src.core_cust ORDER BY cust_id"),
        [["C1", good.as_str()], ["C3", good_x.as_str()]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["3", "cert_no", "check", bad_check_reason.as_str()],
            ["5", "cert_no", "check", bad_date_reason.as_str()],
            ["6", "cert_no", "check", "'4403001990030712' is not a valid resident_id"],
        ]
    );
}

#[test]
fn mobile_and_email_checks() {
    let t = table("cust")
        .col("cust_id", "string")
        .col_with("mobile", "string", "check = \"mobile\"")
        .col_with("email", "string", "check = \"email\"")
        .key("max_reject_rate = 1");
    let data = "cust_id,mobile,email\n\
                C1,13812345678,li.si@example.com\n\
                C2,12812345678,a@example.com\n\
                C3,1381234567,a@example.com\n\
                C4,19912345678,not-an-email\n\
                C5,,\n";
    let p = one_table(&t, data.as_bytes());
    ingest_ok(&p);
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, coalesce(mobile, '<null>'), coalesce(email, '<null>') FROM src.core_cust ORDER BY cust_id"
        ),
        [["C1", "13812345678", "li.si@example.com"], ["C5", "<null>", "<null>"],]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["3", "mobile", "check", "'12812345678' is not a valid mobile"],
            ["4", "mobile", "check", "'1381234567' is not a valid mobile"],
            ["5", "email", "check", "'not-an-email' is not a valid email"],
        ]
    );
}

#[test]
fn a_pattern_must_match() {
    let t = table("cust")
        .col("cust_id", "string")
        .col_with("branch_id", "string", r#"pattern = "^[0-9]{6}$""#)
        .key("max_reject_rate = 1");
    let p = one_table(&t, b"cust_id,branch_id\nC1,123456\nC2,A12\nC3,1234567\n");
    ingest_ok(&p);
    assert_eq!(
        rows(&p, "SELECT cust_id, branch_id FROM src.core_cust"),
        [["C1", "123456"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["3", "branch_id", "pattern", "'A12' does not match ^[0-9]{6}$"],
            ["4", "branch_id", "pattern", "'1234567' does not match ^[0-9]{6}$"],
        ]
    );
}

#[test]
fn min_and_max_are_inclusive_bounds() {
    let t = table("acct")
        .col("acct_id", "string")
        .col_with("balance", "decimal(18,2)", "min = \"0\"")
        .col_with("open_date", "date", "min = \"1900-01-01\"\nmax = \"2030-12-31\"");
    let data = "acct_id,balance,open_date\n\
                A1,0.00,2030-12-31\n\
                A2,-5.00,2020-01-01\n\
                A3,1.00,2031-01-01\n\
                A4,1.00,1900-01-01\n";
    let p = one_table(&t, data.as_bytes());
    ingest_ok(&p);
    assert_eq!(
        rows(
            &p,
            "SELECT acct_id, balance, open_date FROM src.core_acct ORDER BY acct_id"
        ),
        [["A1", "0.00", "2030-12-31"], ["A4", "1.00", "1900-01-01"]]
    );
    assert_eq!(
        rejects(&p, "acct"),
        [
            ["3", "balance", "range", "'-5.00' is below the minimum 0"],
            [
                "4",
                "open_date",
                "range",
                "'2031-01-01' is above the maximum 2030-12-31"
            ],
        ]
    );
}

#[test]
fn on_invalid_per_rule_softens_only_that_rule() {
    let t = table("cust")
        .col("cust_id", "string")
        .col_with(
            "gender",
            "string",
            &format!("{GENDER_MAP}\non_invalid = {{ map = \"null\" }}"),
        )
        .col_with(
            "amount",
            "decimal(18,2)",
            "min = \"0\"\non_invalid = { range = \"null\" }",
        )
        .col_with(
            "branch_id",
            "string",
            "pattern = \"^[0-9]{6}$\"\non_invalid = { pattern = \"null\", range = \"reject\" }",
        );
    let data = "cust_id,gender,amount,branch_id\n\
                C1,X,-5.00,A12\n\
                C2,M,abc,123456\n\
                C3,F,1.00,123456\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    let e = finished(&ev, "src.core_cust");
    assert_eq!(figures(e), (3, 2, 1, 3));
    assert_eq!(
        e["soft_fixed_detail"],
        serde_json::json!({"gender": 1, "amount": 1, "branch_id": 1})
    );
    assert_eq!(
        rows(
            &p,
            "SELECT cust_id, coalesce(gender, '<null>'), coalesce(CAST(amount AS VARCHAR), '<null>'), \
             coalesce(branch_id, '<null>') FROM src.core_cust ORDER BY cust_id"
        ),
        [["C1", "<null>", "<null>", "<null>"], ["C3", "F", "1.00", "123456"],]
    );
    // The type rule of amount stays hard.
    assert_eq!(
        rejects(&p, "cust"),
        [["3", "amount", "type", "'abc' is not a decimal(18,2)"]]
    );
}

#[test]
fn a_row_is_rejected_once_for_its_first_failing_column() {
    let t = table("cust")
        .col("cust_id", "string")
        .col("a", "int")
        .col_with("b", "string", "required = true")
        .col("c", "date")
        .key("max_reject_rate = 1");
    let data = "cust_id,a,b,c\nC1,x,,bad\nC2,1,,bad\nC3,1,2,bad\nC4,1,2,2024-06-30\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 1, 3, 0));
    let r = rows(
        &p,
        "SELECT line, \"column\", rule FROM _rejects.core_cust ORDER BY line",
    );
    assert_eq!(r, [["2", "a", "type"], ["3", "b", "required"], ["4", "c", "type"]]);
}

#[test]
fn dedup_keeps_the_latest_row_per_key_and_rejects_the_others_naming_the_winner() {
    let t = table("cust")
        .key("primary_key = [\"cust_id\"]")
        .key("dedup_order_by = \"update_ts\"")
        .col("cust_id", "string")
        .col("name", "string")
        .col("update_ts", "timestamp");
    let data = "cust_id,name,update_ts\n\
                C1,old,2024-06-30 08:00:00\n\
                C2,first,2024-06-30 09:00:00\n\
                C1,new,2024-06-30 10:00:00\n\
                C2,second,2024-06-30 09:00:00\n\
                C3,only,2024-06-30 07:00:00\n\
                C3,older,2024-06-30 06:00:00\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (6, 3, 3, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name FROM src.core_cust ORDER BY cust_id"),
        [["C1", "new"], ["C2", "second"], ["C3", "only"]]
    );
    assert_eq!(
        rows(&p, "SELECT line, rule, reason FROM _rejects.core_cust ORDER BY line"),
        [
            ["2", "duplicate", "duplicate key cust_id=C1: line 4 wins by update_ts"],
            // A tie: the later line wins.
            ["3", "duplicate", "duplicate key cust_id=C2: line 5 wins by update_ts"],
            ["7", "duplicate", "duplicate key cust_id=C3: line 6 wins by update_ts"],
        ]
    );
}

// ---------------------------------------------------------------------------------------
// Structure
// ---------------------------------------------------------------------------------------

#[test]
fn a_record_with_the_wrong_number_of_fields_is_a_columns_reject() {
    let p = one_table(
        &customers(),
        b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob\nC3,Cy,3.00,extra\nC4,Dan,4.00\n",
    );
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 2, 2, 0));
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["3", "", "columns", "expected 3 fields, found 2"],
            ["4", "", "columns", "expected 3 fields, found 4"],
        ]
    );
    assert_eq!(
        rows(&p, "SELECT raw_line FROM _rejects.core_cust ORDER BY line"),
        [["C2,Bob"], ["C3,Cy,3.00,extra"]]
    );
}

#[test]
fn a_short_last_line_without_a_line_break_is_flagged_as_truncated() {
    let t = customers().key("max_reject_rate = 1");
    let p = one_table(&t, b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob\nC3,Cy");
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (3, 1, 2, 0));
    assert_eq!(
        rejects(&p, "cust"),
        [
            ["3", "", "columns", "expected 3 fields, found 2"],
            [
                "4",
                "",
                "columns",
                "expected 3 fields, found 2; the file ends without a line break: truncated?"
            ],
        ]
    );
    // A complete last line without a line break is fine.
    land_on(
        &p,
        "cust",
        "2024-07-01",
        b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,2.00",
    );
    let (r, ev) = ingest_on(&p, "2024-07-01", &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (2, 2, 0, 0));
}

#[test]
fn an_unterminated_quote_rejects_its_own_line_and_the_next_lines_are_read() {
    // A quote inside a field is a character; one opening a field and never closed
    // costs its line only, not every line after it.
    let t = customers().key("quote = '\"'");
    let p = one_table(
        &t,
        b"cust_id,name,balance\nC1,O\"Neil,1.00\nC2,\"Bob,2.00\nC3,Cy,3.00\nC4,Di,4.00\n",
    );
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (4, 3, 1, 0));
    assert_eq!(
        rows(&p, "SELECT cust_id, name, balance FROM src.core_cust ORDER BY cust_id"),
        [["C1", "O\"Neil", "1.00"], ["C3", "Cy", "3.00"], ["C4", "Di", "4.00"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [[
            "3",
            "",
            "quote",
            "unterminated quoted field: not closed within 1 MiB nor by the end of the file, so only this line is \
             rejected"
        ]]
    );
}

#[test]
fn a_header_that_does_not_match_fails_the_table_naming_the_file() {
    let p = one_table(&customers(), b"cust_id,nm,balance\nC1,Ann,1.00\n");
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_cust");
    assert!(err.contains("cust_20240630.dat"), "{err}");
    assert!(err.contains("header"), "{err}");
    let rec = rows(&p, "SELECT status FROM _lakemart.ingest WHERE source = 'src.core_cust'");
    assert_eq!(rec, [["failed"]]);
}

// ---------------------------------------------------------------------------------------
// Control files
// ---------------------------------------------------------------------------------------

const CONTROL: &str = "[control]\ndelimiter = \"|\"\nfields = [\"rows\", \"batch_no\", \"sum\"]";

fn controlled() -> Table {
    table("acct")
        .key("control_file = \"{biz_date}/core/acct_{yyyymmdd}.ctl\"")
        .key("control_sum_column = \"balance\"")
        .col("acct_id", "string")
        .col("balance", "decimal(18,2)")
        .col("open_date", "date")
}

/// 4 records; A2 is rejected for its date but its balance parses (counted in the sum);
/// A4's balance does not parse (counted in rows, not in the sum). Sum: 107.75.
const ACCT: &str = "acct_id,balance,open_date\n\
                    A1,100.00,2020-01-01\n\
                    A2,5.00,2020-02-31\n\
                    A3,2.75,2021-03-04\n\
                    A4,12x,2021-03-04\n";

fn land_ctl(p: &TempProject, date: &str, text: &str) {
    p.write(&format!("landing/{date}/core/acct_{}.ctl", date.replace('-', "")), text);
}

/// A controlled project already holding a good load of 2024-06-29 (with one reject),
/// so that both the staged and the rejects table exist.
fn controlled_project_with_a_good_day() -> TempProject {
    let p = project(CONTROL, &[&controlled()]);
    land_on(
        &p,
        "acct",
        "2024-06-29",
        b"acct_id,balance,open_date\nB1,1.00,2020-01-01\nB2,2.00,x\n",
    );
    land_ctl(&p, "2024-06-29", "2|B1|3.00\n");
    let (r, _) = ingest_on(&p, "2024-06-29", &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    land(&p, "acct", ACCT.as_bytes());
    p
}

#[test]
fn a_matching_control_file_counts_every_record_and_sums_every_parsing_value() {
    let p = project(CONTROL, &[&controlled()]);
    land(&p, "acct", ACCT.as_bytes());
    land_ctl(&p, DATE, "4|B20240630|107.75\n");
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_acct")), (4, 2, 2, 0));
    assert_eq!(
        rows(&p, "SELECT acct_id, balance FROM src.core_acct ORDER BY acct_id"),
        [["A1", "100.00"], ["A3", "2.75"]]
    );
}

#[test]
fn a_control_count_mismatch_fails_the_table_and_commits_nothing() {
    let p = controlled_project_with_a_good_day();
    land_ctl(&p, DATE, "17|B20240630|107.75\n");
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_acct");
    assert!(err.contains("acct_20240630.ctl") && err.contains("17"), "{err}");
    assert_eq!(count_on(&p, "src.core_acct", DATE), "0");
    assert_eq!(count_on(&p, "_rejects.core_acct", DATE), "0");
    assert_eq!(count_on(&p, "src.core_acct", "2024-06-29"), "1");
    assert_eq!(count_on(&p, "_rejects.core_acct", "2024-06-29"), "1");
    assert_eq!(
        rows(
            &p,
            "SELECT status, error IS NOT NULL FROM _lakemart.ingest WHERE biz_date = DATE '2024-06-30'"
        ),
        [["failed", "true"]]
    );
}

#[test]
fn a_control_sum_mismatch_fails_the_table_and_commits_nothing() {
    let p = controlled_project_with_a_good_day();
    // 102.75 would be the sum without the rejected row's balance: rejected rows count.
    land_ctl(&p, DATE, "4|B20240630|102.75\n");
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_acct");
    assert!(err.contains("102.75") && err.contains("107.75"), "{err}");
    assert_eq!(count_on(&p, "src.core_acct", DATE), "0");
    assert_eq!(count_on(&p, "_rejects.core_acct", DATE), "0");
    assert_eq!(
        rows(
            &p,
            "SELECT status FROM _lakemart.ingest WHERE biz_date = DATE '2024-06-30'"
        ),
        [["failed"]]
    );
}

#[test]
fn a_missing_control_file_fails_the_table() {
    let p = controlled_project_with_a_good_day();
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_acct");
    assert!(err.contains("acct_20240630.ctl"), "{err}");
    assert_eq!(count_on(&p, "src.core_acct", DATE), "0");
}

#[test]
fn a_control_bytes_field_must_equal_the_extract_size() {
    // No delimiter declared: the default accepts spaces.
    let t = customers().key("control_file = \"{biz_date}/core/cust_{yyyymmdd}.ctl\"");
    let p = project("[control]\nfields = [\"rows\", \"bytes\"]", &[&t]);
    let data = b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,2.00\n";
    land(&p, "cust", data);
    let ctl = "landing/2024-06-30/core/cust_20240630.ctl";
    p.write(ctl, &format!("2 {}\n", data.len() + 1));
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_cust");
    assert!(err.contains(&(data.len() + 1).to_string()), "{err}");
    p.write(ctl, &format!("2 {}\n", data.len()));
    let ev = ingest_ok(&p);
    let e = finished(&ev, "src.core_cust");
    assert_eq!(figures(e), (2, 2, 0, 0));
    assert_eq!(e["bytes"], data.len());
}

// ---------------------------------------------------------------------------------------
// Empty and missing extracts, reject limits
// ---------------------------------------------------------------------------------------

#[test]
fn an_empty_extract_fails_unless_allow_empty() {
    let t = customers().key("header = false");
    let p = one_table(&t, b"");
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_cust");
    assert!(err.contains("cust_20240630.dat") && err.contains("empty"), "{err}");

    let allowed = customers().key("header = false").key("allow_empty = true");
    p.write("models/sources/core.toml", &source_toml("", &[&allowed]));
    let ev = ingest_ok(&p);
    let e = finished(&ev, "src.core_cust");
    assert_eq!(e["status"], "ok");
    assert_eq!(figures(e), (0, 0, 0, 0));
    assert_eq!(e["bytes"], 0);
}

#[test]
fn a_missing_extract_fails_its_table_naming_the_path_and_the_others_load() {
    let cust = customers();
    let acct = table("acct").col("acct_id", "string");
    let p = project("", &[&cust, &acct]);
    land(&p, "acct", b"acct_id\nA1\n");
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_cust");
    assert!(err.contains("core/cust_20240630.dat"), "{err}");
    assert_eq!(finished(&ev, "src.core_acct")["status"], "ok");
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "ingest_finished");
    assert_eq!(last["tables"], 2);
    assert_eq!(last["failed"], 1);
    assert_eq!(last["rows_loaded"], 1);
    assert_eq!(rows(&p, "SELECT acct_id FROM src.core_acct"), [["A1"]]);
}

#[test]
fn more_rejects_than_max_rejects_fail_the_table_and_keep_the_previous_load() {
    let t = customers().key("max_rejects = 1");
    let p = one_table(&t, b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,x\nC3,Cy,3.00\n");
    // Exactly max_rejects rejected rows: loaded, exit 0.
    let ev = ingest_ok(&p);
    assert_eq!(figures(finished(&ev, "src.core_cust")), (3, 2, 1, 0));

    land(
        &p,
        "cust",
        b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,x\nC3,Cy,y\nC4,Dan,4.00\n",
    );
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    failed_error(&ev, "src.core_cust");
    // Nothing of the failed attempt was committed: the first load of the date stands.
    assert_eq!(
        rows(&p, "SELECT cust_id FROM src.core_cust ORDER BY cust_id"),
        [["C1"], ["C3"]]
    );
    assert_eq!(
        rejects(&p, "cust"),
        [["3", "balance", "type", "'x' is not a decimal(18,2)"]]
    );
}

#[test]
fn a_file_with_most_rows_rejected_fails_the_table_as_laid_out_otherwise() {
    // A header-less `|@|` extract that arrives comma-separated one day: every row is
    // rejected, far fewer than max_rejects, and a table of no rows would look like a day
    // on which every customer left.
    let t = customers().key("header = false").key("delimiter = \"|@|\"");
    let p = one_table(&t, b"C1|@|Ann|@|1.00\nC2|@|Bob|@|2.00\nC3|@|Cy|@|3.00\n");
    assert_eq!(figures(finished(&ingest_ok(&p), "src.core_cust")), (3, 3, 0, 0));
    land(&p, "cust", b"C1,Ann,1.00\nC2,Bob,2.00\nC3,Cy,3.00\n");
    let (r, ev) = ingest(&p);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let err = failed_error(&ev, "src.core_cust");
    assert!(
        err.starts_with("source src.core_cust: 3 of 3 rows rejected, more than max_reject_rate 0.5 allows: is "),
        "{err}"
    );
    assert!(
        err.ends_with(
            "core/cust_20240630.dat laid out as models/sources/core.toml declares? first: line 1: expected 3 \
             fields, found 1; nothing was loaded"
        ),
        "{err}"
    );
    // Nothing of the failed attempt was committed: the first load of the date stands.
    assert_eq!(
        rows(&p, "SELECT cust_id, balance FROM src.core_cust ORDER BY cust_id"),
        [["C1", "1.00"], ["C2", "2.00"], ["C3", "3.00"]]
    );

    // Half rejected is within the default; more fails it unless the table allows more.
    land(
        &p,
        "cust",
        b"C1|@|Ann|@|1.00\nC2,Bob,2.00\nC3,Cy,3.00\nC4|@|Di|@|4.00\n",
    );
    assert_eq!(figures(finished(&ingest_ok(&p), "src.core_cust")), (4, 2, 2, 0));
    land(&p, "cust", b"C1|@|Ann|@|1.00\nC2,Bob,2.00\nC3,Cy,3.00\n");
    assert_eq!(ingest(&p).0.code, 1);
    let t = t.key("max_reject_rate = 0.7");
    let p = one_table(&t, b"C1|@|Ann|@|1.00\nC2,Bob,2.00\nC3,Cy,3.00\n");
    assert_eq!(figures(finished(&ingest_ok(&p), "src.core_cust")), (3, 1, 2, 0));
}

#[test]
fn a_max_reject_rate_outside_0_to_1_is_a_configuration_error() {
    for rate in ["0", "1.5", "-0.1"] {
        let t = customers().key(&format!("max_reject_rate = {rate}"));
        let toml = source_toml("", &[&t]);
        let err = config_error(&toml, &["cust"]);
        let line = line_of(&toml, "max_reject_rate");
        assert!(err.contains(&format!("models/sources/core.toml:{line}")), "{err}");
        assert!(
            err.contains(&format!(
                "table 'cust': max_reject_rate must be above 0 and at most 1 (a share of the rows read), not {}",
                rate.parse::<f64>().unwrap_or(f64::NAN)
            )),
            "{err}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Idempotence and dates
// ---------------------------------------------------------------------------------------

const STAGED: &str = "SELECT biz_date, cust_id, name, balance FROM src.core_cust ORDER BY biz_date, cust_id";
const REJECTED: &str = "SELECT biz_date, file, line, raw_line, \"column\", rule, reason \
                        FROM _rejects.core_cust ORDER BY biz_date, line";

#[test]
fn ingesting_a_date_twice_gives_identical_staged_and_rejects_tables() {
    let p = one_table(
        &customers(),
        b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,x\nC3,Cy,3.00\n",
    );
    ingest_ok(&p);
    let staged = rows(&p, STAGED);
    let rejected = rows(&p, REJECTED);
    assert_eq!(staged.len(), 2);
    assert_eq!(rejected.len(), 1);
    ingest_ok(&p);
    assert_eq!(rows(&p, STAGED), staged);
    assert_eq!(rows(&p, REJECTED), rejected);
}

#[test]
fn re_ingesting_a_corrected_extract_replaces_the_rows_and_the_rejects_of_the_date() {
    let p = one_table(
        &customers(),
        b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,x\nC3,Cy,3.00\n",
    );
    ingest_ok(&p);
    land(&p, "cust", b"cust_id,name,balance\nC1,Ann,1.50\nC2,Bob,2.00\n");
    ingest_ok(&p);
    assert_eq!(
        rows(&p, "SELECT cust_id, balance FROM src.core_cust ORDER BY cust_id"),
        [["C1", "1.50"], ["C2", "2.00"]]
    );
    assert_eq!(count_on(&p, "_rejects.core_cust", DATE), "0");
}

#[test]
fn a_second_date_adds_its_partition_and_leaves_the_first() {
    let p = one_table(
        &customers(),
        b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,x\nC3,Cy,3.00\n",
    );
    land_on(
        &p,
        "cust",
        "2024-07-01",
        b"cust_id,name,balance\nC1,Ann,1.10\nC2,Bob,2.00\nC4,,4.00\nC5,E,bad\n",
    );
    ingest_ok(&p);
    let (r, _) = ingest_on(&p, "2024-07-01", &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        rows(
            &p,
            "SELECT biz_date, count(*), sum(balance) FROM src.core_cust GROUP BY biz_date ORDER BY biz_date"
        ),
        [["2024-06-30", "2", "4.00"], ["2024-07-01", "3", "7.10"]]
    );
    assert_eq!(
        rows(
            &p,
            "SELECT biz_date, line, raw_line FROM _rejects.core_cust ORDER BY biz_date, line"
        ),
        [["2024-06-30", "3", "C2,Bob,x"], ["2024-07-01", "5", "C5,E,bad"]]
    );
    // Re-ingesting the first date changes nothing of the second.
    ingest_ok(&p);
    assert_eq!(count_on(&p, "src.core_cust", "2024-07-01"), "3");
    assert_eq!(count_on(&p, "src.core_cust", DATE), "2");
}

// ---------------------------------------------------------------------------------------
// Selection and `run`
// ---------------------------------------------------------------------------------------

/// Systems `core` (table cust) and `card` (table txn), both landed for 2024-06-30.
fn two_systems() -> TempProject {
    let cust = customers();
    let txn = table_of("card", "txn")
        .col("txn_id", "string")
        .col("cust_id", "string")
        .col("amount", "decimal(18,2)");
    let p = project_with(&[("core", source_toml("", &[&cust])), ("card", source_toml("", &[&txn]))]);
    land(&p, "cust", b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,2.00\n");
    land_sys(
        &p,
        "card",
        "txn",
        DATE,
        b"txn_id,cust_id,amount\nT1,C1,10.00\nT2,C1,5.50\nT3,C2,oops\nT4,C2,1.25\n",
    );
    p
}

#[test]
fn source_option_ingests_only_that_system_or_table() {
    let p = two_systems();
    let (r, ev) = ingest_on(&p, DATE, &["--source", "core"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let sources: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "source_finished")
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["src.core_cust"]);
    assert_eq!(ev.last().unwrap()["tables"], 1);
    assert_eq!(rows(&p, "SELECT source FROM _lakemart.ingest"), [["src.core_cust"]]);
    // card was not ingested: its table does not exist or holds nothing.
    let q = p.run(&["query", "SELECT count(*) AS n FROM src.card_txn", "--format", "csv"]);
    assert!(q.code != 0 || q.stdout == "n\n0\n", "{}", q.stdout);

    let (r, ev) = ingest_on(&p, DATE, &["--source", "card_txn"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let sources: Vec<&str> = ev
        .iter()
        .filter(|e| e["event"] == "source_finished")
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["src.card_txn"]);
    assert_eq!(count_on(&p, "src.card_txn", DATE), "3");
}

#[test]
fn run_fails_the_models_that_read_a_failing_source_and_builds_the_others() {
    let p = two_systems();
    // core's extract has not landed.
    std::fs::remove_file(p.path().join(extract_path("core", "cust", DATE))).unwrap();
    p.write(
        "sql/foundation/customer/core_names.sql",
        "SELECT cust_id, name FROM src.core_cust WHERE biz_date = $biz_date\n",
    );
    p.write(
        "sql/aggregation/customer/core_counts.sql",
        "SELECT count(*) AS n FROM foundation.core_names\n",
    );
    p.write(
        "sql/foundation/card/card_totals.sql",
        "SELECT cust_id, sum(amount) AS total FROM src.card_txn WHERE biz_date = $biz_date GROUP BY cust_id\n",
    );
    let r = p.run(&["run", "--date", DATE, "--format", "json"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let ev: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    let status = |model: &str| -> String {
        ev.iter()
            .find(|e| e["event"] == "model_finished" && e["model"] == model)
            .unwrap_or_else(|| panic!("no model_finished for {model}: {}", r.stdout))["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for model in ["foundation.core_names", "aggregation.core_counts"] {
        let s = status(model);
        assert!(s == "skipped" || s == "failed", "{model}: {s}");
    }
    assert_eq!(status("foundation.card_totals"), "success");
    // The run ingested card with its cleansing: the bad amount was rejected, not loaded.
    assert_eq!(
        rows(&p, "SELECT cust_id, total FROM foundation.card_totals ORDER BY cust_id"),
        [["C1", "15.50"], ["C2", "1.25"]]
    );
    assert_eq!(
        rows(&p, "SELECT line, \"column\", rule FROM _rejects.card_txn"),
        [["4", "amount", "type"]]
    );
}

// ---------------------------------------------------------------------------------------
// Events and records
// ---------------------------------------------------------------------------------------

#[test]
fn json_events_and_the_ingest_record_carry_the_figures() {
    let t = table("cust")
        .col_with("cust_id", "string", "required = true")
        .col_with("gender", "string", &format!("{GENDER_MAP}\non_invalid = \"null\""))
        .col("balance", "decimal(18,2)");
    let data = "cust_id,gender,balance\nC1,1,1.00\nC2,Q,2.00\n,2,3.00\nC4,F,4.00\n";
    let p = one_table(&t, data.as_bytes());
    let ev = ingest_ok(&p);
    let e = finished(&ev, "src.core_cust");
    assert_eq!(e["biz_date"], DATE);
    assert_eq!(e["status"], "ok");
    assert!(e["file"].as_str().unwrap().ends_with("core/cust_20240630.dat"), "{e}");
    assert_eq!(figures(e), (4, 3, 1, 1));
    assert_eq!(e["soft_fixed_detail"], serde_json::json!({"gender": 1}));
    assert_eq!(e["bytes"], data.len());
    assert!(e["duration_ms"].is_u64(), "{e}");
    assert!(e["error"].is_null(), "{e}");
    let last = ev.last().unwrap();
    assert_eq!(last["event"], "ingest_finished");
    assert_eq!(last["biz_date"], DATE);
    assert_eq!(last["tables"], 1, "{last}");
    assert_eq!(last["failed"], 0, "{last}");
    assert_eq!(last["rows_loaded"], 3, "{last}");
    assert_eq!(last["rows_rejected"], 1, "{last}");

    let size = data.len().to_string();
    let rec = rows(
        &p,
        "SELECT CAST(biz_date AS VARCHAR), source, status, rows_read, rows_loaded, rows_rejected, \
         soft_fixed, bytes, error IS NULL FROM _lakemart.ingest",
    );
    assert_eq!(
        rec,
        [[DATE, "src.core_cust", "ok", "4", "3", "1", "1", size.as_str(), "true"]]
    );
    let file = rows(&p, "SELECT file FROM _lakemart.ingest");
    assert!(file[0][0].ends_with("core/cust_20240630.dat"), "{file:?}");
    // The reject and the record share the run.
    let ids = rows(
        &p,
        "SELECT r.run_id = i.run_id, r.line, r.reason FROM _rejects.core_cust r, _lakemart.ingest i",
    );
    assert_eq!(ids, [["true", "4", "cust_id is empty"]]);
    let rf = rows(&p, "SELECT file FROM _rejects.core_cust");
    assert!(rf[0][0].ends_with("core/cust_20240630.dat"), "{rf:?}");
}

#[test]
fn text_output_prints_one_line_per_table() {
    let cust = customers();
    let acct = table("acct").col("acct_id", "string");
    let p = project("", &[&cust, &acct]);
    land(&p, "cust", b"cust_id,name,balance\nC1,Ann,1.00\nC2,Bob,x\n");
    land(&p, "acct", b"acct_id\nA1\n");
    let r = p.run(&["ingest", "--date", DATE]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    for source in ["src.core_cust", "src.core_acct"] {
        let n = r.stdout.lines().filter(|l| l.contains(source)).count();
        assert_eq!(n, 1, "{source} once in:\n{}", r.stdout);
    }
}

// ---------------------------------------------------------------------------------------
// Configuration errors
// ---------------------------------------------------------------------------------------

/// Ingest a project whose `core.toml` is `toml` (an extract is landed for every table);
/// expect exit 2, nothing read, and stderr naming `core.toml`; returns stderr.
#[track_caller]
fn config_error(toml: &str, table_names: &[&str]) -> String {
    let p = project_with(&[("core", toml.to_string())]);
    for name in table_names {
        land(&p, name, b"cust_id,name,balance\nC1,Ann,1.00\n");
    }
    let r = p.run(&["ingest", "--date", DATE, "--format", "json"]);
    assert_eq!(r.code, 2, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("source_finished"), "nothing is read: {}", r.stdout);
    assert!(r.stderr.contains("models/sources/core.toml"), "{}", r.stderr);
    r.stderr
}

#[test]
fn an_unknown_encoding_is_a_configuration_error() {
    let toml = source_toml("encoding = \"latin9\"", &[&customers()]);
    let err = config_error(&toml, &["cust"]);
    let line = line_of(&toml, "latin9");
    assert!(err.contains(&format!("models/sources/core.toml:{line}")), "{err}");
    assert!(err.contains("latin9"), "{err}");
}

#[test]
fn a_fixed_column_without_start_and_length_is_a_configuration_error() {
    let t = table("cust")
        .key("format = \"fixed\"")
        .col_with("cust_id", "string", "start = 1\nlength = 5")
        .col("cust_name", "string");
    let toml = source_toml("", &[&t]);
    let err = config_error(&toml, &["cust"]);
    assert!(err.contains("cust_name") && err.contains("start"), "{err}");
}

#[test]
fn an_unknown_check_is_a_configuration_error() {
    let t = customers().col_with("cert_no", "string", "check = \"bogus\"");
    let toml = source_toml("", &[&t]);
    let err = config_error(&toml, &["cust"]);
    let line = line_of(&toml, "bogus");
    assert!(err.contains(&format!("models/sources/core.toml:{line}")), "{err}");
    assert!(err.contains("bogus"), "{err}");
}

#[test]
fn an_unknown_on_invalid_is_a_configuration_error() {
    let t = customers().col_with("gender", "string", &format!("{GENDER_MAP}\non_invalid = \"maybe\""));
    let toml = source_toml("", &[&t]);
    let err = config_error(&toml, &["cust"]);
    let line = line_of(&toml, "maybe");
    assert!(err.contains(&format!("models/sources/core.toml:{line}")), "{err}");
    assert!(err.contains("maybe"), "{err}");
}

#[test]
fn dedup_order_by_naming_an_unknown_column_is_a_configuration_error() {
    let t = customers()
        .key("primary_key = [\"cust_id\"]")
        .key("dedup_order_by = \"update_tsx\"");
    let toml = source_toml("", &[&t]);
    let err = config_error(&toml, &["cust"]);
    let line = line_of(&toml, "update_tsx");
    assert!(err.contains(&format!("models/sources/core.toml:{line}")), "{err}");
    assert!(err.contains("update_tsx"), "{err}");
}

#[test]
fn a_min_that_is_not_a_value_of_the_column_type_is_a_configuration_error() {
    let t = table("cust").col("cust_id", "string").col("name", "string").col_with(
        "balance",
        "decimal(18,2)",
        "min = \"zero\"",
    );
    let toml = source_toml("", &[&t]);
    let err = config_error(&toml, &["cust"]);
    let line = line_of(&toml, "zero");
    assert!(err.contains(&format!("models/sources/core.toml:{line}")), "{err}");
    assert!(err.contains("zero") && err.contains("balance"), "{err}");
}

// ---------------------------------------------------------------------------------------
// The helpers themselves
// ---------------------------------------------------------------------------------------

#[test]
fn the_test_helpers_read_csv_and_compute_resident_ids() {
    assert_eq!(
        parse_csv("a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n"),
        [["a", "b"], ["x, y", "say \"hi\""], ["two\nlines", ""]]
    );
    assert_eq!(resident_id("11010519491231002"), "11010519491231002X");
    assert_eq!(resident_id("44030019900307123"), "440300199003071234");
    assert_eq!(wrong_check("440300199003071234"), "440300199003071230");
    let toml = source_toml("encoding = \"gbk\"", &[&customers().key("header = false")]);
    assert_eq!(line_of(&toml, "header = false"), 8);
}

/// The reference project declares the 39 source systems of the issue.
#[test]
fn the_reference_project_declares_39_source_systems() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = TempProject::new(&[]);
    let r = crate::common::lakemart(root, &scratch.lakehouse(), &["compile", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let systems: std::collections::BTreeSet<&str> = m["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["system"].as_str().unwrap())
        .collect();
    assert_eq!(systems.len(), 39, "{systems:?}");
    assert!(m["sources"].as_array().unwrap().len() >= 78);
}

/// `lakemart gen` output ingests with the reference project's source definitions:
/// every table loads, the injected noise lands in `_rejects` with its reasons, and
/// generating twice with one seed gives the same bytes.
#[test]
fn generated_extracts_ingest_with_the_reference_definitions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = TempProject::new(&[]);
    let out = scratch.path().join("landing");
    let generate = |dir: &std::path::Path| {
        crate::common::bin()
            .args(["gen", "--scale", "0.005", "--date", "2024-06-30", "--out"])
            .arg(dir)
            .output()
            .unwrap()
    };
    let g = generate(&out);
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    assert!(String::from_utf8_lossy(&g.stdout).contains("500 customers, 20000 accounts"));
    let again = scratch.path().join("again");
    assert!(generate(&again).status.success());
    let a = std::fs::read(out.join("2024-06-30/core/account.csv")).unwrap();
    let b = std::fs::read(again.join("2024-06-30/core/account.csv")).unwrap();
    assert_eq!(a, b, "same seed, same bytes");

    // A project that is the reference project with the generated landing directory.
    scratch.write("lakemart.toml", "[project]\nname = \"gen\"\nlanding = \"landing\"\n");
    for dir in ["models", "sql"] {
        std::os::unix::fs::symlink(root.join(dir), scratch.path().join(dir)).unwrap();
    }
    let r = scratch.run(&["ingest", "--date", "2024-06-30", "--format", "json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let done: serde_json::Value = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["event"] == "ingest_finished")
        .unwrap();
    assert_eq!(done["failed"], 0);
    assert!(done["tables"].as_u64().unwrap() >= 78);
    assert!(done["rows_rejected"].as_u64().unwrap() > 0, "noise is rejected: {done}");
    let q = scratch.run(&[
        "query",
        "SELECT DISTINCT rule FROM _rejects.core_account ORDER BY rule",
        "--format",
        "csv",
    ]);
    assert_eq!(q.code, 0, "{}", q.stderr);
    assert!(q.stdout.starts_with("rule\n"), "{}", q.stdout);
    let q = scratch.run(&["query", "SELECT count(*) AS n FROM src.core_account", "--format", "csv"]);
    let loaded: u64 = q.stdout.lines().nth(1).unwrap().parse().unwrap();
    assert!(loaded > 19_900 && loaded <= 20_000, "{loaded}");
}
