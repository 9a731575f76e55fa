//! Determinism, checksums, control files and encodings of generated extracts.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::*;

fn gen_into(dir: &Path, seed: u64) -> GenSummary {
    generate(&GenOptions {
        scale: 0.002,
        last_date: NaiveDate::from_ymd_opt(2024, 6, 30).unwrap(),
        days: 2,
        out: dir.to_path_buf(),
        seed,
    })
    .unwrap()
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let sa = gen_into(a.path(), 42);
    gen_into(b.path(), 42);
    gen_into(c.path(), 43);
    let (fa, fb, fc) = (files(a.path()), files(b.path()), files(c.path()));
    assert_eq!(fa.len(), sa.files);
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between two runs with the same seed");
    }
    assert_ne!(fa["2024-06-30/core/customer.csv"], fc["2024-06-30/core/customer.csv"]);
}

#[test]
fn resident_ids_pass_the_checksum_except_declared_noise() {
    let dir = tempfile::tempdir().unwrap();
    gen_into(dir.path(), 42);
    let text = std::fs::read_to_string(dir.path().join("2024-06-30/core/customer.csv")).unwrap();
    let mut rows = 0;
    let mut bad = 0;
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < 3 {
            continue;
        }
        rows += 1;
        if !bank::resident_id_valid(fields[2].trim()) {
            bad += 1;
        }
    }
    assert_eq!(rows, 200);
    // 0.02 % of records: at 200 rows almost always none, never more than a couple.
    assert!(bad <= 2, "{bad} bad resident IDs");
}

#[test]
fn control_files_count_every_record() {
    let dir = tempfile::tempdir().unwrap();
    gen_into(dir.path(), 42);
    let day = dir.path().join("2024-06-30");
    let ctl = std::fs::read_to_string(day.join("dda/DDA.ACCT.D20240630.CTL")).unwrap();
    let fields: Vec<&str> = ctl.trim().split('|').collect();
    let data = std::fs::read(day.join("dda/DDA.ACCT.D20240630.DAT")).unwrap();
    let lines = data.iter().filter(|b| **b == b'\n').count();
    assert_eq!(fields[0].parse::<usize>().unwrap(), lines);
    assert_eq!(fields[2].parse::<usize>().unwrap(), data.len());
    // A header file: rows exclude the header.
    let ctl = std::fs::read_to_string(day.join("crm/crm_customer_20240630.ctl")).unwrap();
    let rows: usize = ctl.trim().split(',').nth(1).unwrap().parse().unwrap();
    let text = std::fs::read_to_string(day.join("crm/crm_customer_20240630.csv")).unwrap();
    assert_eq!(rows, text.lines().count() - 1);
}

#[test]
fn gbk_files_decode_to_chinese_names() {
    let dir = tempfile::tempdir().unwrap();
    gen_into(dir.path(), 42);
    let bytes = std::fs::read(dir.path().join("2024-06-30/core/CIF_CONTACT_20240630.dat")).unwrap();
    assert!(std::str::from_utf8(&bytes).is_err(), "GBK bytes are not UTF-8");
    let (text, _, errors) = encoding_rs::GBK.decode(&bytes);
    assert!(!errors);
    let first = text.lines().next().unwrap();
    let name = first.split("|@|").nth(1).unwrap();
    assert!(name.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{name}");
}

#[test]
fn source_definitions_match_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sources");
    let all = systems();
    assert_eq!(all.len(), 39);
    for sys in &all {
        let path = root.join(format!("{}.toml", sys.name));
        let want = render_toml(sys);
        if std::env::var_os("LAKEMART_BLESS").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is out of date: run with LAKEMART_BLESS=1",
            path.display()
        );
    }
}
