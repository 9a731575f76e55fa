//! Issue 7: `lakemart docs --out DIR`, the offline docs site. The sample mart is
//! built into a scratch lakehouse, the site is written, and its index and the
//! `application.customer_360` page are rendered from `file://` in headless Chromium
//! (Debian's `chromium`, which `.ci/run` installs): no console errors, the model's
//! columns, tests and run in the DOM, and the search filtering the catalog from a
//! `#q=` URL. Screenshots land in `<target>/tmp/docs-screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TempProject, lakemart};

/// Headless Chromium, as this machine's kind runs it (see the env notes): no network
/// chatter, a fresh profile per page, console messages logged to stderr.
struct Chromium {
    bin: PathBuf,
    scratch: tempfile::TempDir,
}

/// What Chromium printed for one page.
struct Rendered {
    stdout: String,
    stderr: String,
}

impl Rendered {
    /// Console output of the page: our pages log nothing, so any console line is an
    /// error (Chromium logs `console.error` and uncaught exceptions as `INFO:CONSOLE`).
    fn console_errors(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
            .collect()
    }
}

impl Chromium {
    fn find() -> Chromium {
        let bin = std::env::var_os("PATH")
            .into_iter()
            .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file());
        let Some(bin) = bin else {
            panic!(
                "`chromium` is not on PATH: this test renders the docs site in headless Chromium. \
                 `.ci/run` installs it (Debian package `chromium`); here run \
                 `apt-get update && apt-get install -y chromium`"
            );
        };
        Chromium {
            bin,
            scratch: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Load `url` headless with `extra` flags (`--dump-dom`, `--screenshot=…`).
    fn render(&self, url: &str, extra: &[&str]) -> Rendered {
        let run = tempfile::tempdir_in(self.scratch.path()).expect("temp dir");
        let profile = run.path().join("profile");
        let (out, err) = (run.path().join("stdout"), run.path().join("stderr"));
        let mut child = Command::new(&self.bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
                "--run-all-compositor-stages-before-draw",
                "--virtual-time-budget=5000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("chromium starts");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "chromium did not finish {url} in 120 s:\n{}",
                    std::fs::read_to_string(&err).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let rendered = Rendered {
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        };
        assert!(status.success(), "chromium failed on {url}:\n{}", rendered.stderr);
        rendered
    }

    fn dom(&self, url: &str) -> Rendered {
        let r = self.render(url, &["--dump-dom"]);
        assert!(r.stdout.contains("</html>"), "no DOM for {url}:\n{}", r.stderr);
        r
    }

    fn screenshot(&self, url: &str, png: &Path) {
        let _ = std::fs::remove_file(png);
        let r = self.render(
            url,
            &[&format!("--screenshot={}", png.display()), "--window-size=1280,900"],
        );
        let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("no screenshot {}: {e}\n{}", png.display(), r.stderr));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
            "{}",
            png.display()
        );
        println!("screenshot: {}", png.display());
    }
}

fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path).expect("absolute path").to_string()
}

/// The opening tag of the catalog entry that links to `name`.
fn entry_tag<'a>(dom: &'a str, name: &str) -> &'a str {
    let link = dom
        .find(&format!(">{name}</a>"))
        .unwrap_or_else(|| panic!("no entry for {name}"));
    let start = dom[..link].rfind("<li ").expect("entry element");
    let end = start + dom[start..].find('>').unwrap();
    &dom[start..=end]
}

/// Every relative link and its target file exists (anchors and the index's `?q=` aside).
fn assert_links_resolve(page: &Path, dom: &str) {
    let dir = page.parent().unwrap();
    let mut checked = 0;
    for part in dom.split("href=\"").skip(1) {
        let href = &part[..part.find('"').unwrap()];
        let file = href.split(['#', '?']).next().unwrap();
        if file.is_empty() {
            continue;
        }
        assert!(
            !href.contains("://"),
            "{} links out of the site: {href}",
            page.display()
        );
        assert!(dir.join(file).is_file(), "{} links to missing {href}", page.display());
        checked += 1;
    }
    assert!(checked > 5, "{} has only {checked} links", page.display());
}

#[test]
fn docs_site_renders_in_chromium_with_columns_tests_runs_and_search() {
    let chrome = Chromium::find();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = crate::common::sample_mart(&["2024-06-29", "2024-06-30"]);
    let lh = scratch.lakehouse();

    let site = scratch.path().join("site");
    let r = lakemart(root, &lh, &["docs", "--out", site.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("pages; open "), "{}", r.stdout);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let index = site.join("index.html");
    let c360 = site.join("models/application.customer_360.html");
    assert!(site.join("sources/src.core_customer.html").is_file());

    // Offline: nothing is loaded from anywhere, not even from the site itself.
    for page in [&index, &c360] {
        let html = std::fs::read_to_string(page).unwrap();
        for fetch in ["<link", "<script src", " src=\"", "@import", "url(http"] {
            assert!(!html.contains(fetch), "{} fetches something: {fetch}", page.display());
        }
    }

    // A page with a script error is caught, so a clean page below means something.
    let broken = scratch.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!doctype html><p>x</p><script>undefinedThing.call();</script>",
    )
    .unwrap();
    let caught = chrome.dom(&file_url(&broken));
    assert!(
        caught.console_errors().iter().any(|l| l.contains("undefinedThing")),
        "the console check missed a script error:\n{}",
        caught.stderr
    );

    // The model page.
    let page = chrome.dom(&file_url(&c360));
    assert_eq!(page.console_errors(), Vec::<&str>::new(), "{}", page.stderr);
    let dom = &page.stdout;
    for column in [
        "customer_id",
        "aum_cny",
        "net_position_cny",
        "value_segment",
        "days_since_last_txn",
    ] {
        assert!(dom.contains(&format!("id=\"col-{column}\"")), "no column {column}");
    }
    assert!(dom.contains("<td class=\"mono\">decimal(18,2)</td>"));
    let cert = &dom[dom.find("id=\"col-cert_no\"").unwrap()..];
    assert!(
        cert[..cert.find("</tr>").unwrap()].contains("badge pii"),
        "cert_no lacks its PII badge"
    );
    assert!(dom.contains("Customer 360: one row per customer"));
    // Data tests with their last results, from _lakemart.test_result.
    assert!(dom.contains("not_null(customer_id, aum_cny, value_segment)"));
    assert!(dom.contains("aum_not_negative"));
    assert!(dom.contains(">PASS<"));
    assert!(!dom.contains(">not run<"), "a test shows no result");
    // The last run of the model, from _lakemart.model_run.
    assert!(dom.contains(">Success<") && dom.contains("2024-06-30"));
    // Upstream links, the SQL (escaped), the graph with the model highlighted.
    assert!(dom.contains("href=\"../models/aggregation.customer_balance.html\""));
    assert!(dom.contains("<pre class=\"sql\"><code>") && dom.contains("FROM foundation.customer"));
    assert!(dom.contains("<svg class=\"lineage\"") && dom.contains("class=\"node l-application self\""));
    // Column lineage: where aum_cny comes from, and its graph.
    let aum = &dom[dom.find("id=\"col-aum_cny\"").unwrap()..];
    assert!(
        aum[..aum.find("</tr>").unwrap()].contains("aggregation.customer_balance.aum_cny"),
        "aum_cny's upstream column is not shown"
    );
    assert!(dom.contains("id=\"lineage-aum_cny\""));
    assert_links_resolve(&c360, dom);

    // The index: the catalog, the search index, the last run.
    let home = chrome.dom(&file_url(&index));
    assert_eq!(home.console_errors(), Vec::<&str>::new(), "{}", home.stderr);
    let dom = &home.stdout;
    assert!(dom.contains("id=\"search-index\"") && dom.contains("id=\"q\""));
    assert!(
        dom.contains("219 models and source tables"),
        "the search script did not run"
    );
    assert!(dom.contains("Succeeded") && dom.contains("Critical path"));
    assert!(!entry_tag(dom, "foundation.fx_rate").contains("hidden"));
    assert_links_resolve(&index, dom);

    // The search, driven by the URL: a word of names and descriptions …
    let found = chrome.dom(&format!("{}#q=agreement", file_url(&index)));
    assert_eq!(found.console_errors(), Vec::<&str>::new(), "{}", found.stderr);
    let dom = &found.stdout;
    assert!(!entry_tag(dom, "foundation.agreement").contains("hidden"));
    assert!(entry_tag(dom, "foundation.fx_rate").contains("hidden"));
    assert!(entry_tag(dom, "src.ref_branch").contains("hidden"));
    assert!(dom.contains(" of 219 match"), "no match count");
    // … and a column name, shown under the entries that have it.
    let by_column = chrome.dom(&format!("{}#q=aum_cny", file_url(&index)));
    let dom = &by_column.stdout;
    assert!(!entry_tag(dom, "application.customer_360").contains("hidden"));
    assert!(!entry_tag(dom, "aggregation.customer_balance").contains("hidden"));
    assert!(entry_tag(dom, "foundation.customer").contains("hidden"));
    assert!(dom.contains("Columns: aum_cny"));

    // Screenshots for people to look at.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    chrome.screenshot(&file_url(&index), &shots.join("index.png"));
    chrome.screenshot(&file_url(&c360), &shots.join("application.customer_360.png"));
}

#[test]
fn docs_site_without_run_records_says_so() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = TempProject::new(&[]);
    let site = scratch.path().join("site");
    // A lakehouse that was never built: the site is written, without run information.
    let r = lakemart(
        root,
        &scratch.path().join("never-built"),
        &["docs", "--out", site.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let index = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        index.contains("No run is recorded in"),
        "index does not say there is no run"
    );
    assert!(index.contains("application.customer_360"));
    let page = std::fs::read_to_string(site.join("models/application.customer_360.html")).unwrap();
    assert!(page.contains("No run of it is recorded."));
    assert!(page.contains(">not run<"));
    assert!(page.contains("id=\"col-aum_cny\""));
    let source = std::fs::read_to_string(site.join("sources/src.core_customer.html")).unwrap();
    assert!(
        source.contains("{biz_date}/core/customer.csv"),
        "source page lacks its file pattern"
    );
    assert!(source.contains("id=\"col-cert_no\""));
}
