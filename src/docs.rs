//! The docs site: `lakemart docs --out DIR` writes a static HTML catalog of the mart
//! (models, sources, columns, data tests, SQL, a lineage graph in SVG, the last run).
//!
//! ```text
//!  Compiled (manifest, DAG, metadata) ─┐
//!  _lakemart.run / model_run /         ├─► index.html            search, catalog, graph, last run
//!  test_result (when the lakehouse     │   models/<model>.html   one page per model
//!  has them)                          ─┘   sources/<table>.html  one page per source table
//! ```
//!
//! Column lineage comes from [`crate::lineage`], the model graph from [`Compiled::dag`];
//! both are drawn by `Layout`, a layered left-to-right layout computed here.
//! Every page stands alone: CSS, JS, the search index and the SVG are inline, nothing
//! is fetched, and the site works from `file://`. Every text is HTML-escaped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::future::{Future, IntoFuture};
use std::path::PathBuf;
use std::pin::Pin;

use chrono::{DateTime, Utc};

use crate::compile::{Compiled, Manifest, ManifestColumn, ManifestModel, ManifestSource};
use crate::dag::Dag;
use crate::error::{Error, Result};
use crate::ledger::{self, ModelRun, RunRecord, TestResult};
use crate::lineage::Lineage;
use crate::project::{FileFormat, Layer};
use crate::store::Lakehouse;

/// How many past runs of one model its page lists.
const RECENT_RUNS: usize = 10;
/// How many business dates the index lists.
const RECENT_DATES: usize = 10;
/// Above this many models the index leaves the whole-mart graph out (each model's
/// page still draws its own neighbourhood).
const MAX_INDEX_GRAPH: usize = 400;
/// A column lineage graph with more nodes than this is left out (its list stays).
const MAX_COLUMN_GRAPH: usize = 80;
/// A model's or source's page draws its whole lineage up to this many tables, else
/// the tables a few steps away.
const MAX_PAGE_GRAPH: usize = 60;

// ---------------------------------------------------------------- the operation

/// Writes the docs site of a compiled project: `DocsSite::new(&compiled, out)
/// .with_lakehouse(&lakehouse).await`.
#[must_use = "a DocsSite writes nothing until it is awaited"]
pub struct DocsSite<'a> {
    /// The project the site describes.
    compiled: &'a Compiled,
    /// Where run records and test results are read from; `None` leaves run information out.
    lakehouse: Option<&'a Lakehouse>,
    /// The directory the site is written to (created when missing).
    out: PathBuf,
}

/// What [`DocsSite`] wrote.
#[derive(Debug, Clone)]
pub struct SiteSummary {
    /// The index page.
    pub index: PathBuf,
    /// Pages written, the index included.
    pub pages: usize,
    /// Why the site has no run information, when it has none.
    pub note: Option<String>,
}

impl<'a> DocsSite<'a> {
    pub fn new(compiled: &'a Compiled, out: impl Into<PathBuf>) -> Self {
        DocsSite {
            compiled,
            lakehouse: None,
            out: out.into(),
        }
    }

    /// Read the last runs and test results from this lakehouse.
    pub fn with_lakehouse(mut self, lakehouse: &'a Lakehouse) -> Self {
        self.lakehouse = Some(lakehouse);
        self
    }

    async fn write(self) -> Result<SiteSummary> {
        let run = match self.lakehouse {
            Some(l) => RunInfo::load(l).await,
            None => RunInfo {
                note: Some("no lakehouse was given".into()),
                ..RunInfo::default()
            },
        };
        let site = Site::new(self.compiled, run, Utc::now());
        let pages = site
            .render()
            .map_err(|_| Error::Internal("formatting a docs page failed".into()))?;
        for dir in ["models", "sources"] {
            let d = self.out.join(dir);
            std::fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
        }
        for (path, html) in &pages {
            let full = self.out.join(path);
            std::fs::write(&full, html).map_err(|e| Error::io(&full, e))?;
        }
        Ok(SiteSummary {
            index: self.out.join("index.html"),
            pages: pages.len(),
            note: site.run.note.clone(),
        })
    }
}

impl<'a> IntoFuture for DocsSite<'a> {
    type Output = Result<SiteSummary>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.write())
    }
}

// ---------------------------------------------------------------- run information

/// What the lakehouse recorded about runs and data tests.
#[derive(Debug, Default)]
struct RunInfo {
    /// The lakehouse, for "no run is recorded in …".
    root: Option<String>,
    runs: Vec<RunRecord>,
    model_runs: Vec<ModelRun>,
    tests: Vec<TestResult>,
    /// Why there is no run information, when reading it failed.
    note: Option<String>,
}

impl RunInfo {
    /// Read every record; a lakehouse that cannot be read gives a site without run
    /// information and a note saying why, never a failed `docs`.
    async fn load(lakehouse: &Lakehouse) -> RunInfo {
        let read = async {
            Ok::<_, Error>((
                ledger::runs(lakehouse).await?,
                ledger::model_runs(lakehouse, None).await?,
                ledger::test_results(lakehouse).await?,
            ))
        };
        let root = Some(lakehouse.root().to_string());
        match read.await {
            Ok((runs, model_runs, tests)) => RunInfo {
                root,
                runs,
                model_runs,
                tests,
                note: None,
            },
            Err(e) => RunInfo {
                root,
                note: Some(format!(
                    "the run records in {} could not be read: {e}",
                    lakehouse.root()
                )),
                ..RunInfo::default()
            },
        }
    }

    /// The most recently started run, at its final record when it has one.
    fn last_run(&self) -> Option<RunRecord> {
        ledger::last_per_date(&self.runs)
            .into_values()
            .max_by(|a, b| (a.started_at, &a.run_id).cmp(&(b.started_at, &b.run_id)))
    }

    /// The last run of each business date, newest date first.
    fn per_date(&self) -> Vec<RunRecord> {
        ledger::last_per_date(&self.runs).into_values().rev().collect()
    }

    /// The model's or source's run records, newest first.
    fn runs_of(&self, name: &str) -> Vec<&ModelRun> {
        let mut mine: Vec<&ModelRun> = self.model_runs.iter().filter(|m| m.model == name).collect();
        mine.sort_by(|a, b| (b.finished_at, &b.run_id).cmp(&(a.finished_at, &a.run_id)));
        mine
    }

    /// The latest outcome of each of the model's data tests, by test name.
    fn last_tests(&self, model: &str) -> BTreeMap<&str, &TestResult> {
        let mut out: BTreeMap<&str, &TestResult> = BTreeMap::new();
        for t in self.tests.iter().filter(|t| t.model == model) {
            let e = out.entry(t.test.as_str()).or_insert(t);
            if t.tested_at >= e.tested_at {
                *e = t;
            }
        }
        out
    }
}

// ---------------------------------------------------------------- the site

/// Where a page sits, for relative links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Root,
    Sub,
}

impl At {
    fn root(self) -> &'static str {
        match self {
            At::Root => "",
            At::Sub => "../",
        }
    }
}

/// Everything the pages are made from.
struct Site<'a> {
    compiled: &'a Compiled,
    manifest: Manifest,
    /// Column lineage of every model, read off the plans.
    lineage: Lineage,
    run: RunInfo,
    generated_at: DateTime<Utc>,
}

impl<'a> Site<'a> {
    fn new(compiled: &'a Compiled, run: RunInfo, generated_at: DateTime<Utc>) -> Self {
        let manifest = compiled.manifest();
        let lineage = Lineage::of(compiled);
        Site {
            compiled,
            manifest,
            lineage,
            run,
            generated_at,
        }
    }

    fn dag(&self) -> &Dag {
        &self.compiled.dag
    }

    /// Every page: its path under the output directory and its HTML.
    fn render(&self) -> Result<Vec<(String, String)>, fmt::Error> {
        let mut pages = vec![("index.html".to_string(), self.index()?)];
        for m in &self.manifest.models {
            pages.push((format!("models/{}", page_file(&m.name)), self.model_page(m)?));
        }
        for s in &self.manifest.sources {
            pages.push((format!("sources/{}", page_file(&s.name)), self.source_page(s)?));
        }
        Ok(pages)
    }

    fn is_source(&self, name: &str) -> bool {
        self.compiled.project.sources.contains_key(name)
    }

    /// The link from a page at `at` to the page of `name` (a model or a source).
    fn href(&self, at: At, name: &str) -> String {
        let dir = if self.is_source(name) { "sources" } else { "models" };
        format!("{}{dir}/{}", at.root(), page_file(name))
    }

    fn has_page(&self, name: &str) -> bool {
        self.is_source(name) || self.compiled.models.contains_key(name)
    }

    /// `<a href=…>name</a>`, or the bare name when it has no page.
    fn link(&self, out: &mut String, at: At, name: &str) -> fmt::Result {
        if self.has_page(name) {
            write!(
                out,
                r#"<a class="mono" href="{}">{}</a>"#,
                Esc(&self.href(at, name)),
                Esc(name)
            )
        } else {
            write!(out, r#"<span class="mono">{}</span>"#, Esc(name))
        }
    }

    // ------------------------------------------------------------ shell

    fn head(&self, out: &mut String, title: &str, at: At) -> fmt::Result {
        write!(
            out,
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"generator\" content=\"lakemart {}\">\
             <title>{} · {} data catalog</title><style>{CSS}</style></head>\n<body>\n",
            env!("CARGO_PKG_VERSION"),
            Esc(title),
            Esc(&self.manifest.project)
        )?;
        write!(
            out,
            "<header class=\"top\"><div class=\"wrap\"><a class=\"brand\" href=\"{}index.html\">{}\
             <small>data catalog</small></a>",
            at.root(),
            Esc(&self.manifest.project)
        )?;
        if at == At::Sub {
            write!(
                out,
                "<form class=\"find\" action=\"../index.html\" method=\"get\" role=\"search\">\
                 <input type=\"search\" name=\"q\" placeholder=\"Search models and columns\" \
                 aria-label=\"Search models and columns\"></form>"
            )?;
        }
        out.push_str("</div></header>\n<main class=\"wrap\">\n");
        Ok(())
    }

    fn foot(&self, out: &mut String, script: &str) -> fmt::Result {
        write!(
            out,
            "</main>\n<footer>Generated by lakemart {} on {} from project <span class=\"mono\">{}</span>",
            env!("CARGO_PKG_VERSION"),
            self.generated_at.format("%Y-%m-%d %H:%M UTC"),
            Esc(&self.manifest.project)
        )?;
        if let Some(root) = &self.run.root {
            write!(out, " and lakehouse <span class=\"mono\">{}</span>", Esc(root))?;
        }
        out.push_str(".</footer>\n");
        if !script.is_empty() {
            writeln!(out, "<script>{script}</script>")?;
        }
        out.push_str("</body></html>\n");
        Ok(())
    }

    // ------------------------------------------------------------ index

    fn index(&self) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(64 * 1024);
        let o = &mut out;
        self.head(o, "Catalog", At::Root)?;
        let m = &self.manifest;
        let systems: BTreeSet<&str> = m.sources.iter().map(|s| s.system.as_str()).collect();
        let columns: usize = m.models.iter().map(|x| x.columns.len()).sum();
        let pii: usize = m.models.iter().flat_map(|x| &x.columns).filter(|c| c.pii).count();
        write!(
            o,
            "<h1>{} <span class=\"muted\">data catalog</span></h1>\
             <p class=\"lead\">Every model of the mart and every source table it is built from: what \
             each column means, where it comes from, how it is tested, and how the last run went.</p>",
            Esc(&m.project)
        )?;

        // Figures.
        o.push_str("<section class=\"stats\">");
        let by_layer: Vec<String> = Layer::MODEL_LAYERS
            .iter()
            .map(|l| format!("{} {l}", m.models.iter().filter(|x| x.layer == *l).count()))
            .collect();
        stat(o, "Models", &m.models.len().to_string(), &by_layer.join(" · "))?;
        stat(
            o,
            "Source tables",
            &m.sources.len().to_string(),
            &format!("from {} source system{}", systems.len(), plural(systems.len())),
        )?;
        stat(
            o,
            "Model columns",
            &thousands(columns as i64),
            &format!("{pii} flagged PII"),
        )?;
        match self.run.last_run() {
            Some(r) => {
                let (class, label) = run_state(&r);
                write!(
                    o,
                    "<div class=\"stat\"><div class=\"k\">Last run</div><div class=\"v\">\
                     <span class=\"pill {class}\">{label}</span></div><div class=\"s\">business date {} · {}</div></div>",
                    r.biz_date,
                    r.finished_at
                        .map(|f| duration((f - r.started_at).num_milliseconds()))
                        .unwrap_or_else(|| "not finished".into())
                )?;
            }
            None => stat(o, "Last run", "—", "no run recorded")?,
        }
        o.push_str("</section>\n");

        // Search and catalog.
        o.push_str(
            "<section class=\"search\"><label for=\"q\" class=\"k\">Search</label>\
             <input id=\"q\" type=\"search\" autocomplete=\"off\" spellcheck=\"false\" \
             placeholder=\"A model, a source table, a column or a word of a description — press / to focus\">\
             <div id=\"count\" class=\"muted\" aria-live=\"polite\"></div></section>\n",
        );
        let mut index = Vec::new();
        o.push_str("<section id=\"catalog\">");
        for layer in Layer::MODEL_LAYERS {
            let mut by_subject: BTreeMap<&str, Vec<&ManifestModel>> = BTreeMap::new();
            for x in m.models.iter().filter(|x| x.layer == layer) {
                by_subject.entry(x.subject.as_str()).or_default().push(x);
            }
            if by_subject.is_empty() {
                continue;
            }
            write!(
                o,
                "<div data-group=\"layer\"><h2>{} <span class=\"muted\">layer · {}</span></h2><div class=\"list\">",
                Esc(&capitalise(layer.as_str())),
                layer_blurb(layer)
            )?;
            for (subject, models) in by_subject {
                write!(
                    o,
                    "<div data-group=\"subject\"><h3>{}</h3><ul class=\"entries\">",
                    Esc(subject)
                )?;
                for x in models {
                    let i = index.len();
                    index.push(serde_json::json!({
                        "name": x.name, "kind": "model", "layer": layer.as_str(), "subject": x.subject,
                        "description": x.description,
                        "columns": x.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                    }));
                    write!(
                        o,
                        "<li class=\"entry\" data-i=\"{i}\"><div class=\"who\"><a class=\"name mono\" href=\"{}\">{}</a> \
                         <span class=\"badge\">{}</span></div><p class=\"desc\">{}</p>\
                         <p class=\"meta\">{} column{}{}</p><p class=\"match\" hidden></p></li>",
                        Esc(&self.href(At::Root, &x.name)),
                        Esc(&x.name),
                        materialization(x),
                        Esc(or_dash(&x.description)),
                        x.columns.len(),
                        plural(x.columns.len()),
                        match x.columns.iter().filter(|c| c.pii).count() {
                            0 => String::new(),
                            n => format!(" · {n} PII"),
                        }
                    )?;
                }
                o.push_str("</ul></div>");
            }
            o.push_str("</div></div>\n");
        }
        if !m.sources.is_empty() {
            o.push_str(
                "<div data-group=\"layer\"><h2>Sources <span class=\"muted\">staged extracts of the \
                 source systems, partitioned by business date</span></h2><div class=\"list\">",
            );
            let mut by_system: BTreeMap<&str, Vec<&ManifestSource>> = BTreeMap::new();
            for s in &m.sources {
                by_system.entry(s.system.as_str()).or_default().push(s);
            }
            for (system, sources) in by_system {
                write!(
                    o,
                    "<div data-group=\"subject\"><h3>{}</h3><ul class=\"entries\">",
                    Esc(system)
                )?;
                for s in sources {
                    let i = index.len();
                    index.push(serde_json::json!({
                        "name": s.name, "kind": "source", "layer": "src", "subject": s.system,
                        "description": s.description,
                        "columns": s.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
                    }));
                    write!(
                        o,
                        "<li class=\"entry\" data-i=\"{i}\"><div class=\"who\"><a class=\"name mono\" href=\"{}\">{}</a> \
                         <span class=\"badge\">{}</span></div><p class=\"desc\">{} <span class=\"file mono\">{}</span></p>\
                         <p class=\"meta\">{} column{}{}</p><p class=\"match\" hidden></p></li>",
                        Esc(&self.href(At::Root, &s.name)),
                        Esc(&s.name),
                        match self.compiled.project.sources[&s.name].format {
                            FileFormat::Delimited { .. } => "delimited",
                            FileFormat::Fixed => "fixed-width",
                            FileFormat::Parquet => "parquet",
                        },
                        Esc(or_dash(&s.description)),
                        Esc(&s.file),
                        s.columns.len(),
                        plural(s.columns.len()),
                        match s.columns.iter().filter(|c| c.pii).count() {
                            0 => String::new(),
                            n => format!(" · {n} PII"),
                        }
                    )?;
                }
                o.push_str("</ul></div>");
            }
            o.push_str("</div></div>\n");
        }
        o.push_str("<p id=\"nothing\" class=\"empty\" hidden>Nothing matches. Try a column name such as <span class=\"mono\">customer_id</span>.</p>");
        o.push_str("</section>\n");

        // The graph of models.
        o.push_str("<section><h2>Lineage <span class=\"muted\">models, left to right in build order</span></h2>");
        let models: BTreeSet<String> = m.models.iter().map(|x| x.name.clone()).collect();
        if models.len() > MAX_INDEX_GRAPH {
            write!(
                o,
                "<p class=\"empty\">The mart has {} models, too many to draw at once: each model's page draws \
                 its own upstream and downstream.</p>",
                models.len()
            )?;
        } else if !models.is_empty() {
            let layout = Layout::new(self.dag(), &models);
            o.push_str("<div class=\"graph\">");
            self.svg(o, &layout, None, "g", &|n| self.table_node(At::Root, n))?;
            o.push_str("</div>");
            legend(
                o,
                "arrows point from a table to the models that read it; click a box to open its page",
            )?;
        }
        o.push_str("</section>\n");

        self.index_runs(o)?;

        let json = serde_json::to_string(&index).map_err(|_| fmt::Error)?;
        writeln!(
            o,
            "<script type=\"application/json\" id=\"search-index\">{}</script>",
            script_json(&json)
        )?;
        self.foot(o, INDEX_JS)?;
        Ok(out)
    }

    /// The index's run section: the last run in detail, its timings, and recent dates.
    fn index_runs(&self, o: &mut String) -> fmt::Result {
        o.push_str("<section id=\"last-run\"><h2>Last run</h2>");
        let Some(r) = self.run.last_run() else {
            match (&self.run.note, &self.run.root) {
                (Some(note), _) => write!(o, "<p class=\"empty\">No run information: {}.</p>", Esc(note))?,
                (None, Some(root)) => write!(
                    o,
                    "<p class=\"empty\">No run is recorded in <span class=\"mono\">{}</span> yet: run \
                     <span class=\"mono\">lakemart run</span>, then build the site again.</p>",
                    Esc(root)
                )?,
                (None, None) => o.push_str("<p class=\"empty\">No run information.</p>"),
            }
            o.push_str("</section>\n");
            return Ok(());
        };
        let mine: Vec<ModelRun> = self
            .run
            .model_runs
            .iter()
            .filter(|m| m.run_id == r.run_id)
            .cloned()
            .collect();
        let (class, label) = run_state(&r);
        let count = |s: &str| mine.iter().filter(|m| m.status == s).count();
        o.push_str("<div class=\"card\"><dl class=\"kv\">");
        write!(o, "<dt>Status</dt><dd><span class=\"pill {class}\">{label}</span></dd>")?;
        write!(o, "<dt>Business date</dt><dd>{}</dd>", r.biz_date)?;
        write!(
            o,
            "<dt>Run</dt><dd><span class=\"mono\">{}</span> ({}{})</dd>",
            Esc(&r.run_id),
            Esc(&r.command),
            if r.selection.is_empty() {
                String::new()
            } else {
                format!(", selection {}", Esc(&r.selection))
            }
        )?;
        write!(
            o,
            "<dt>Started</dt><dd>{} on {}</dd>",
            when(&r.started_at),
            Esc(&r.host)
        )?;
        if let Some(f) = r.finished_at {
            write!(
                o,
                "<dt>Took</dt><dd>{} (finished {})</dd>",
                duration((f - r.started_at).num_milliseconds()),
                when(&f)
            )?;
        }
        write!(
            o,
            "<dt>Models and sources</dt><dd>{} succeeded · {} failed · {} skipped</dd>",
            count("success"),
            count("failed"),
            count("skipped")
        )?;
        let path = crate::status::critical_path(self.compiled, &mine);
        if !path.is_empty() {
            let total: i64 = path.iter().map(|(_, ms)| ms).sum();
            write!(o, "<dt>Critical path</dt><dd>{} — ", duration(total))?;
            for (i, (node, ms)) in path.iter().enumerate() {
                if i > 0 {
                    o.push_str(" → ");
                }
                self.link(o, At::Root, node)?;
                write!(o, " <span class=\"muted nowrap\">{}</span>", duration(*ms))?;
            }
            o.push_str("</dd>");
        }
        o.push_str("</dl></div>\n");

        let failed: Vec<&ModelRun> = mine.iter().filter(|m| m.status != "success").collect();
        if !failed.is_empty() {
            o.push_str("<h3>Failed and skipped</h3><table><thead><tr><th>Model</th><th>Status</th><th>Why</th></tr></thead><tbody>");
            for m in failed {
                o.push_str("<tr><td>");
                self.link(o, At::Root, &m.model)?;
                write!(
                    o,
                    "</td><td>{}</td><td><pre class=\"err\">{}</pre></td></tr>",
                    status_pill(&m.status),
                    Esc(m.error.as_deref().unwrap_or(""))
                )?;
            }
            o.push_str("</tbody></table>");
        }

        // Timings: one bar per model and source over the run's wall clock.
        if !mine.is_empty() {
            let t0 = mine.iter().map(|m| m.started_at).min().unwrap_or(r.started_at);
            let t1 = mine.iter().map(|m| m.finished_at).max().unwrap_or(t0);
            let span = (t1 - t0).num_milliseconds().max(1) as f64;
            let mut rows: Vec<&ModelRun> = mine.iter().collect();
            rows.sort_by(|a, b| (a.started_at, &a.model).cmp(&(b.started_at, &b.model)));
            write!(
                o,
                "<details class=\"timings\"{}><summary>Timings of {} models and sources</summary>\
                 <table><thead><tr><th>Model or source</th><th>Status</th><th class=\"num\">Rows</th>\
                 <th class=\"num\">Seconds</th><th class=\"bars\">Over the run ({})</th></tr></thead><tbody>",
                if rows.len() <= 40 { " open" } else { "" },
                rows.len(),
                duration(span as i64)
            )?;
            for m in rows {
                let ms = (m.finished_at - m.started_at).num_milliseconds().max(0);
                let left = (m.started_at - t0).num_milliseconds().max(0) as f64 / span * 100.0;
                let width = (ms as f64 / span * 100.0).clamp(0.4, 100.0 - left.min(99.6));
                o.push_str("<tr><td>");
                self.link(o, At::Root, &m.model)?;
                write!(
                    o,
                    "</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td>\
                     <td class=\"bars\"><div class=\"bar\"><span class=\"{}\" style=\"left:{left:.2}%;width:{width:.2}%\"></span></div></td></tr>",
                    status_pill(&m.status),
                    thousands(m.rows),
                    ms as f64 / 1000.0,
                    Esc(&m.status)
                )?;
            }
            o.push_str("</tbody></table></details>");
        }

        let dates = self.run.per_date();
        if dates.len() > 1 {
            o.push_str(
                "<h3>Recent business dates</h3><table><thead><tr><th>Business date</th><th>Status</th><th>Run</th>\
                 <th>Started</th><th class=\"num\">Took</th><th class=\"num\">Succeeded</th><th class=\"num\">Failed</th>\
                 <th class=\"num\">Skipped</th></tr></thead><tbody>",
            );
            for d in dates.iter().take(RECENT_DATES) {
                let (class, label) = run_state(d);
                write!(
                    o,
                    "<tr><td>{}</td><td><span class=\"pill {class}\">{label}</span></td><td class=\"mono\">{}</td>\
                     <td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    d.biz_date,
                    Esc(&d.run_id),
                    when(&d.started_at),
                    d.finished_at
                        .map(|f| duration((f - d.started_at).num_milliseconds()))
                        .unwrap_or_else(|| "—".into()),
                    d.success,
                    d.failed,
                    d.skipped
                )?;
            }
            o.push_str("</tbody></table>");
        }
        o.push_str("</section>\n");
        Ok(())
    }

    // ------------------------------------------------------------ model page

    fn model_page(&self, m: &ManifestModel) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(32 * 1024);
        let o = &mut out;
        let model = &self.compiled.project.models[&m.name];
        let meta = model.meta.as_ref();
        self.head(o, &m.name, At::Sub)?;
        write!(
            o,
            "<nav class=\"crumbs\"><a href=\"../index.html\">Catalog</a> › {} › {}</nav>\
             <h1 class=\"mono\">{}</h1><p class=\"lead\">{}</p>",
            Esc(m.layer.as_str()),
            Esc(&m.subject),
            Esc(&m.name),
            Esc(if m.description.is_empty() {
                "No description yet: add one in the model's metadata file."
            } else {
                &m.description
            })
        )?;

        // Facts and the last run, side by side.
        o.push_str("<div class=\"grid\"><div class=\"card\"><h3 class=\"card-title\">Model</h3><dl class=\"kv\">");
        write!(
            o,
            "<dt>Layer</dt><dd>{}</dd><dt>Subject</dt><dd>{}</dd>\
             <dt>Materialization</dt><dd><span class=\"badge\">{}</span></dd>",
            Esc(m.layer.as_str()),
            Esc(&m.subject),
            materialization(m)
        )?;
        if let Some(meta) = meta {
            for (label, list) in [
                ("Unique key", &meta.unique_key),
                ("Partitioned by", &meta.partition_by),
                ("Z-ordered by", &meta.zorder),
                ("Tags", &meta.tags),
            ] {
                if !list.is_empty() {
                    write!(o, "<dt>{label}</dt><dd class=\"mono\">{}</dd>", Esc(&list.join(", ")))?;
                }
            }
        }
        write!(
            o,
            "<dt>Columns</dt><dd>{} ({} PII)</dd><dt>SQL</dt><dd class=\"mono\">{}</dd>",
            m.columns.len(),
            m.columns.iter().filter(|c| c.pii).count(),
            Esc(&m.sql_path)
        )?;
        if let Some(meta) = meta {
            write!(
                o,
                "<dt>Metadata</dt><dd class=\"mono\">{}:{}</dd>",
                Esc(&meta.file.display().to_string()),
                meta.line
            )?;
        }
        self.neighbours(o, &m.name)?;
        o.push_str("</dl></div>");
        self.last_run_card(o, &m.name)?;
        o.push_str("</div>\n");

        // Lineage.
        self.neighbourhood(o, &m.name)?;

        // Columns.
        write!(
            o,
            "<section><h2>Columns <span class=\"muted\">{}</span></h2>\
             <input id=\"colfilter\" class=\"filter\" type=\"search\" placeholder=\"Filter columns\" aria-label=\"Filter columns\">",
            m.columns.len()
        )?;
        self.columns_table(o, &m.name, &m.columns, true)?;
        o.push_str("</section>\n");

        // Column lineage.
        self.column_lineage(o, &m.name, &m.columns)?;

        // Data tests.
        self.tests_section(o, &m.name)?;

        // SQL.
        writeln!(
            o,
            "<section><h2>SQL <span class=\"muted mono\">{}</span></h2><pre class=\"sql\"><code>{}</code></pre></section>",
            Esc(&m.sql_path),
            Esc(model.sql.trim_end())
        )?;

        // Run history.
        self.run_history(o, &m.name)?;
        self.foot(o, MODEL_JS)?;
        Ok(out)
    }

    /// The card with the last run of a model or source.
    fn last_run_card(&self, o: &mut String, name: &str) -> fmt::Result {
        o.push_str("<div class=\"card\"><h3 class=\"card-title\">Last run</h3>");
        let runs = self.run.runs_of(name);
        let Some(r) = runs.first() else {
            o.push_str("<p class=\"empty\">No run of it is recorded.</p></div>");
            return Ok(());
        };
        o.push_str("<dl class=\"kv\">");
        write!(
            o,
            "<dt>Status</dt><dd>{}</dd><dt>Business date</dt><dd>{}</dd>",
            status_pill(&r.status),
            r.biz_date
        )?;
        if r.status == "success" {
            write!(
                o,
                "<dt>Rows</dt><dd>{}</dd><dt>Took</dt><dd>{}</dd>",
                thousands(r.rows),
                duration((r.finished_at - r.started_at).num_milliseconds())
            )?;
        }
        write!(o, "<dt>Finished</dt><dd>{}</dd>", when(&r.finished_at))?;
        if let Some(v) = r.delta_version {
            write!(o, "<dt>Delta version</dt><dd>{v}</dd>")?;
        }
        write!(
            o,
            "<dt>Run</dt><dd class=\"mono\">{}</dd><dt>Attempt</dt><dd>{}</dd>",
            Esc(&r.run_id),
            r.attempt
        )?;
        o.push_str("</dl>");
        if let Some(e) = r.error.as_deref().filter(|e| !e.is_empty()) {
            write!(o, "<pre class=\"err\">{}</pre>", Esc(e))?;
        }
        o.push_str("</div>");
        Ok(())
    }

    /// The last runs of a model or source.
    fn run_history(&self, o: &mut String, name: &str) -> fmt::Result {
        let runs = self.run.runs_of(name);
        if runs.len() < 2 {
            return Ok(());
        }
        o.push_str(
            "<section><h2>Recent runs</h2><table><thead><tr><th>Business date</th><th>Status</th>\
             <th class=\"num\">Rows</th><th class=\"num\">Seconds</th><th class=\"num\">Version</th>\
             <th>Finished</th><th>Run</th></tr></thead><tbody>",
        );
        for r in runs.iter().take(RECENT_RUNS) {
            write!(
                o,
                "<tr><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td>\
                 <td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td></tr>",
                r.biz_date,
                status_pill(&r.status),
                thousands(r.rows),
                (r.finished_at - r.started_at).num_milliseconds().max(0) as f64 / 1000.0,
                r.delta_version.map(|v| v.to_string()).unwrap_or_else(|| "—".into()),
                when(&r.finished_at),
                Esc(&r.run_id)
            )?;
        }
        o.push_str("</tbody></table></section>\n");
        Ok(())
    }

    /// The columns of a table; a model's with the columns each is computed from, a
    /// source's with the model columns computed from it.
    fn columns_table(&self, o: &mut String, table: &str, columns: &[ManifestColumn], model: bool) -> fmt::Result {
        write!(
            o,
            "<table id=\"columns\" class=\"columns\"><thead><tr><th class=\"num\">#</th><th>Column</th><th>Type</th>\
             <th>Null</th><th>Description</th><th>{}</th></tr></thead><tbody>",
            if model { "Comes from" } else { "Flows into" }
        )?;
        for (i, c) in columns.iter().enumerate() {
            write!(
                o,
                "<tr id=\"col-{}\" data-search=\"{}\"><td class=\"num muted\">{}</td><td><span class=\"mono name\">{}</span>{}</td>\
                 <td class=\"mono\">{}</td><td>{}</td><td>{}</td>",
                Esc(&c.name),
                Esc(&format!("{} {} {}", c.name, c.data_type, c.description).to_lowercase()),
                i + 1,
                Esc(&c.name),
                if c.pii {
                    " <span class=\"badge pii\" title=\"Personal data: masked for users without the pii grant\">PII</span>"
                } else {
                    ""
                },
                Esc(&c.data_type),
                if c.nullable {
                    "<span class=\"muted\">nullable</span>"
                } else {
                    "not null"
                },
                if c.description.is_empty() {
                    "<span class=\"muted\">—</span>".to_string()
                } else {
                    Esc(&c.description).to_string()
                }
            )?;
            {
                o.push_str("<td class=\"from\">");
                let id = format!("{table}.{}", c.name);
                let linked: Vec<&str> = if model {
                    self.lineage.upstream(&id).collect()
                } else {
                    self.lineage.downstream(&id).collect()
                };
                if linked.is_empty() {
                    o.push_str(if model {
                        "<span class=\"muted\">no column (a constant, a count or written by the materialization)</span>"
                    } else {
                        "<span class=\"muted\">no model reads it</span>"
                    });
                }
                for (k, up) in linked.iter().enumerate() {
                    if k > 0 {
                        o.push_str("<br>");
                    }
                    self.column_link(o, up)?;
                }
                if self.column_graph(&id).is_some() {
                    write!(
                        o,
                        " <a class=\"see\" href=\"#lineage-{}\" title=\"Draw the lineage of {}\">graph</a>",
                        Esc(&c.name),
                        Esc(&c.name)
                    )?;
                }
                o.push_str("</td>");
            }
            o.push_str("</tr>");
        }
        o.push_str("</tbody></table>");
        Ok(())
    }

    /// A link to a column (`layer.table.column`) on its table's page.
    fn column_link(&self, o: &mut String, column: &str) -> fmt::Result {
        match column.rsplit_once('.') {
            Some((table, col)) if self.has_page(table) => write!(
                o,
                "<a class=\"mono\" href=\"{}#col-{}\">{}</a>",
                Esc(&self.href(At::Sub, table)),
                Esc(col),
                Esc(column)
            ),
            _ => write!(o, "<span class=\"mono\">{}</span>", Esc(column)),
        }
    }

    /// The columns a column is computed from and computed into, all the way up and
    /// down, as a graph; `None` when it has neither or the graph is too big to draw.
    fn column_graph(&self, column: &str) -> Option<(Dag, BTreeSet<String>)> {
        let mut dag = Dag::new();
        dag.add_node(column);
        let mut seen = BTreeSet::from([column.to_string()]);
        for upstream in [true, false] {
            let mut stack = vec![column.to_string()];
            while let Some(c) = stack.pop() {
                let next: Vec<String> = if upstream {
                    self.lineage.upstream(&c).map(str::to_string).collect()
                } else {
                    self.lineage.downstream(&c).map(str::to_string).collect()
                };
                for n in next {
                    if upstream {
                        dag.add_edge(&c, &n);
                    } else {
                        dag.add_edge(&n, &c);
                    }
                    if seen.insert(n.clone()) {
                        if seen.len() > MAX_COLUMN_GRAPH {
                            return None;
                        }
                        stack.push(n);
                    }
                }
            }
        }
        (seen.len() > 1).then_some((dag, seen))
    }

    /// A model page's column lineage: one graph per column, the first shown; the select
    /// (or `#lineage-COLUMN`) shows another.
    fn column_lineage(&self, o: &mut String, model: &str, columns: &[ManifestColumn]) -> fmt::Result {
        let graphs: Vec<(&str, Dag, BTreeSet<String>)> = columns
            .iter()
            .filter_map(|c| {
                let (dag, keep) = self.column_graph(&format!("{model}.{}", c.name))?;
                Some((c.name.as_str(), dag, keep))
            })
            .collect();
        o.push_str(
            "<section id=\"column-lineage\"><h2>Column lineage <span class=\"muted\">what each value is \
             computed from, down to the source extracts, and what is computed from it</span></h2>",
        );
        if graphs.is_empty() {
            o.push_str("<p class=\"empty\">No column here is computed from another column, nor into one.</p>");
        } else {
            o.push_str("<p class=\"pick\"><label for=\"colpick\">Column</label> <select id=\"colpick\">");
            for (name, _, _) in &graphs {
                write!(o, "<option value=\"{}\">{}</option>", Esc(name), Esc(name))?;
            }
            o.push_str("</select></p>");
            for (i, (name, dag, keep)) in graphs.iter().enumerate() {
                let layout = Layout::new(dag, keep);
                let focus = format!("{model}.{name}");
                write!(
                    o,
                    "<div class=\"graph colgraph{}\" id=\"lineage-{}\" data-col=\"{}\">",
                    if i == 0 { " shown" } else { "" },
                    Esc(name),
                    Esc(name)
                )?;
                self.svg(o, &layout, Some(&focus), &format!("c{i}"), &|n| self.column_node(n))?;
                o.push_str("</div>");
            }
            legend(
                o,
                "arrows point from a column to the columns computed from it; click a box to open its table",
            )?;
        }
        if let Some(filters) = self.lineage.model(model).map(|m| &m.filters).filter(|f| !f.is_empty()) {
            o.push_str(
                "<p class=\"filters\"><span class=\"muted\">Which rows the model holds, and how they pair up, \
                 is decided by (WHERE, JOIN, HAVING):</span> ",
            );
            for (k, f) in filters.iter().enumerate() {
                if k > 0 {
                    o.push_str(", ");
                }
                self.column_link(o, f)?;
            }
            o.push_str("</p>");
        }
        o.push_str("</section>\n");
        Ok(())
    }

    /// How a table (model or source) is drawn in a graph on a page at `at`.
    fn table_node(&self, at: At, name: &str) -> NodeText {
        let (layer, label) = name.split_once('.').unwrap_or(("", name));
        NodeText {
            layer: layer.to_string(),
            top: layer.to_uppercase(),
            label: truncate(label, 24),
            href: self.has_page(name).then(|| self.href(at, name)),
        }
    }

    /// How a column (`layer.table.column`) is drawn in a column graph on a model page.
    fn column_node(&self, column: &str) -> NodeText {
        let (table, col) = column.rsplit_once('.').unwrap_or(("", column));
        let layer = table.split_once('.').map(|(l, _)| l).unwrap_or("");
        NodeText {
            layer: layer.to_string(),
            top: truncate(table, 30),
            label: truncate(col, 24),
            href: self
                .has_page(table)
                .then(|| format!("{}#col-{col}", self.href(At::Sub, table))),
        }
    }

    fn tests_section(&self, o: &mut String, name: &str) -> fmt::Result {
        let declared: Vec<&crate::datatest::DataTestSpec> = self.compiled.project.models[name]
            .meta
            .iter()
            .flat_map(|m| m.tests.iter().map(|(spec, _)| spec))
            .collect();
        write!(
            o,
            "<section id=\"tests\"><h2>Data tests <span class=\"muted\">{}</span></h2>",
            declared.len()
        )?;
        if declared.is_empty() {
            o.push_str(
                "<p class=\"empty\">No data tests are declared. Add <span class=\"mono\">[[models.tests]]</span> \
                 to the model's metadata (see docs/project-format.md).</p></section>\n",
            );
            return Ok(());
        }
        let last = self.run.last_tests(name);
        o.push_str(
            "<table><thead><tr><th>Test</th><th>Type</th><th>Severity</th><th>Last result</th>\
             <th class=\"num\">Failing rows</th><th>Details</th><th class=\"num\">Business date</th></tr></thead><tbody>",
        );
        for spec in declared {
            let test = spec.name();
            let severity = match spec.severity() {
                crate::datatest::Severity::Error => "error",
                crate::datatest::Severity::Warn => "warn",
            };
            write!(
                o,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{severity}</td>",
                Esc(&test),
                spec.kind.type_name()
            )?;
            match last.get(test.as_str()) {
                Some(t) => {
                    write!(
                        o,
                        "<td>{}</td><td class=\"num\">{}</td><td>{}",
                        test_pill(&t.status),
                        thousands(t.failing_rows),
                        Esc(&t.message)
                    )?;
                    if !t.sample.is_empty() {
                        write!(o, "<pre class=\"err\">{}</pre>", Esc(&t.sample))?;
                    }
                    write!(
                        o,
                        "</td><td class=\"num\" title=\"tested {}\">{}</td></tr>",
                        when(&t.tested_at),
                        t.biz_date
                    )?;
                }
                None => o.push_str(
                    "<td><span class=\"pill skip\">not run</span></td><td class=\"num\">—</td><td></td><td></td></tr>",
                ),
            }
        }
        o.push_str("</tbody></table></section>\n");
        Ok(())
    }

    /// `Reads` and `Read by` rows of a page's facts: the direct neighbours, linked.
    fn neighbours(&self, o: &mut String, name: &str) -> fmt::Result {
        let dag = self.dag();
        for (label, list, none) in [
            ("Reads", dag.deps(name).collect::<Vec<_>>(), "no table"),
            ("Read by", dag.dependents(name).collect::<Vec<_>>(), "no model yet"),
        ] {
            if label == "Reads" && self.is_source(name) {
                continue;
            }
            write!(o, "<dt>{label}</dt><dd>")?;
            if list.is_empty() {
                write!(o, "<span class=\"muted\">{none}</span>")?;
            }
            for (i, n) in list.iter().enumerate() {
                if i > 0 {
                    o.push_str("<br>");
                }
                self.link(o, At::Sub, n)?;
            }
            o.push_str("</dd>");
        }
        Ok(())
    }

    /// `name` and the tables up- and downstream of it, at most `steps` edges away (all with `None`).
    fn within(&self, name: &str, steps: Option<usize>) -> BTreeSet<String> {
        let dag = self.dag();
        let mut keep = BTreeSet::from([name.to_string()]);
        for upstream in [true, false] {
            let mut frontier = vec![name.to_string()];
            let mut depth = 0;
            while !frontier.is_empty() && steps.is_none_or(|s| depth < s) {
                depth += 1;
                let mut next = Vec::new();
                for n in &frontier {
                    let around: Vec<&str> = if upstream {
                        dag.deps(n).collect()
                    } else {
                        dag.dependents(n).collect()
                    };
                    for a in around {
                        if keep.insert(a.to_string()) {
                            next.push(a.to_string());
                        }
                    }
                }
                frontier = next;
            }
        }
        keep
    }

    /// The lineage section of a model's or source's page: everything upstream and
    /// downstream of it as a graph, its direct neighbours highlighted.
    fn neighbourhood(&self, o: &mut String, name: &str) -> fmt::Result {
        let dag = self.dag();
        let (ups, downs) = (dag.upstream(name).len(), dag.downstream(name).len());
        write!(
            o,
            "<section id=\"lineage\"><h2>Lineage <span class=\"muted\">{ups} table{} upstream, {downs} downstream; \
             direct neighbours outlined</span></h2>",
            plural(ups)
        )?;
        // Everything up- and downstream; in a big mart, only the tables a few steps away.
        let all = ups + downs + 1;
        let Some((keep, steps)) = [None, Some(3), Some(2), Some(1)].into_iter().find_map(|steps| {
            let keep = self.within(name, steps);
            (keep.len() <= MAX_PAGE_GRAPH || steps == Some(1)).then_some((keep, steps))
        }) else {
            return Ok(());
        };
        if keep.len() > MAX_PAGE_GRAPH {
            write!(
                o,
                "<p class=\"empty\">{} tables are read by it or read it directly, too many to draw: \
                 see Reads and Read by above.</p>",
                keep.len() - 1
            )?;
        } else if keep.len() > 1 {
            if let Some(steps) = steps {
                write!(
                    o,
                    "<p class=\"muted\">Showing the {} tables up to {steps} step{} away, of the {} in its whole lineage.</p>",
                    keep.len() - 1,
                    plural(steps),
                    all - 1
                )?;
            }
            let layout = Layout::new(dag, &keep);
            o.push_str("<div class=\"graph\">");
            self.svg(o, &layout, Some(name), "g", &|n| self.table_node(At::Sub, n))?;
            o.push_str("</div>");
            legend(
                o,
                "arrows point from a table to the models that read it; click a box to open its page",
            )?;
        }
        o.push_str("</section>\n");
        Ok(())
    }

    // ------------------------------------------------------------ source page

    fn source_page(&self, s: &ManifestSource) -> Result<String, fmt::Error> {
        let mut out = String::with_capacity(16 * 1024);
        let o = &mut out;
        let table = &self.compiled.project.sources[&s.name];
        self.head(o, &s.name, At::Sub)?;
        write!(
            o,
            "<nav class=\"crumbs\"><a href=\"../index.html\">Catalog</a> › sources › {}</nav>\
             <h1 class=\"mono\">{}</h1><p class=\"lead\">{}</p>",
            Esc(&s.system),
            Esc(&s.name),
            Esc(if s.description.is_empty() {
                "No description yet."
            } else {
                &s.description
            })
        )?;
        o.push_str(
            "<div class=\"grid\"><div class=\"card\"><h3 class=\"card-title\">Source table</h3><dl class=\"kv\">",
        );
        let format = match &table.format {
            FileFormat::Delimited { delimiter, header, .. } => format!(
                "{}, delimiter {}, {}, {}",
                if delimiter == "," { "CSV" } else { "Delimited text" },
                match delimiter.as_str() {
                    "\t" => "tab".to_string(),
                    "," => "comma".to_string(),
                    "|" => "pipe".to_string(),
                    d => format!("'{}'", d.escape_debug()),
                },
                if *header { "with a header row" } else { "no header row" },
                table.encoding.name()
            ),
            FileFormat::Fixed => format!("Fixed-width, {}", table.encoding.name()),
            FileFormat::Parquet => "Parquet".into(),
        };
        write!(
            o,
            "<dt>System</dt><dd>{}</dd><dt>Extract table</dt><dd class=\"mono\">{}</dd>\
             <dt>File pattern</dt><dd class=\"mono\">{}</dd><dt>Format</dt><dd>{}</dd>",
            Esc(&s.system),
            Esc(&s.table),
            Esc(&s.file),
            Esc(&format)
        )?;
        if !s.primary_key.is_empty() {
            write!(
                o,
                "<dt>Primary key</dt><dd class=\"mono\">{}</dd>",
                Esc(&s.primary_key.join(", "))
            )?;
        }
        write!(
            o,
            "<dt>Staged as</dt><dd>Delta table <span class=\"mono\">{}</span>, partitioned by \
             <span class=\"mono\">biz_date</span></dd><dt>Defined in</dt><dd class=\"mono\">{}</dd>",
            Esc(&s.name),
            Esc(&table.toml_path.display().to_string())
        )?;
        self.neighbours(o, &s.name)?;
        o.push_str("</dl></div>");
        self.last_run_card(o, &s.name)?;
        o.push_str("</div>\n");
        self.neighbourhood(o, &s.name)?;
        write!(
            o,
            "<section><h2>Columns <span class=\"muted\">{}</span></h2>",
            s.columns.len()
        )?;
        self.columns_table(o, &s.name, &s.columns, false)?;
        o.push_str(
            "<p class=\"muted\">Ingest adds <span class=\"mono\">biz_date</span> (date, not null), the business \
             date of the extract.</p></section>\n",
        );
        self.column_lineage(o, &s.name, &s.columns)?;
        self.run_history(o, &s.name)?;
        self.foot(o, MODEL_JS)?;
        Ok(out)
    }

    // ------------------------------------------------------------ SVG

    /// Draw a laid-out graph. With `focus`, that node is highlighted, its direct
    /// neighbours and their edges accented. `id` keeps the arrow markers of several
    /// graphs on one page apart; `node` says how each node is labelled and linked.
    fn svg(
        &self,
        o: &mut String,
        layout: &Layout,
        focus: Option<&str>,
        id: &str,
        node: &dyn Fn(&str) -> NodeText,
    ) -> fmt::Result {
        let near: BTreeSet<&str> = match focus {
            Some(f) => layout
                .edges
                .iter()
                .filter_map(|Edge { up, down, .. }| {
                    if up == f {
                        Some(down.as_str())
                    } else if down == f {
                        Some(up.as_str())
                    } else {
                        None
                    }
                })
                .collect(),
            None => BTreeSet::new(),
        };
        write!(
            o,
            "<svg class=\"lineage\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"Lineage graph of {n} nodes\">\
             <defs><marker id=\"{id}-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
             markerHeight=\"7\" orient=\"auto\"><path d=\"M0,1 L9,5 L0,9 z\" fill=\"#a7b1bc\"/></marker>\
             <marker id=\"{id}-hot\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" \
             markerHeight=\"7\" orient=\"auto\"><path d=\"M0,1 L9,5 L0,9 z\" fill=\"#0b3a66\"/></marker></defs>",
            w = layout.width,
            h = layout.height,
            n = layout.nodes.len(),
            id = Esc(id)
        )?;
        for Edge { up, down, lanes: via } in &layout.edges {
            let (Some(a), Some(b)) = (layout.nodes.get(up), layout.nodes.get(down)) else {
                continue;
            };
            let hot = focus.is_some_and(|f| up == f || down == f);
            // Out of the upstream box's right side, through the gaps kept for the
            // edge in the levels it crosses, into the downstream box's left side.
            let mut d = String::new();
            let (mut x, mut y) = (a.0 + NODE_W, a.1 + NODE_H / 2.0);
            write!(d, "M{x:.1},{y:.1}")?;
            let ends = via
                .iter()
                .map(|(vx, vy)| ((*vx, *vy), Some(*vx + NODE_W)))
                .chain(std::iter::once(((b.0 - 2.0, b.1 + NODE_H / 2.0), None)));
            for ((tx, ty), through) in ends {
                let dx = ((tx - x) / 2.0).max(16.0);
                write!(d, " C{:.1},{y:.1} {:.1},{ty:.1} {tx:.1},{ty:.1}", x + dx, tx - dx)?;
                (x, y) = (tx, ty);
                if let Some(x_out) = through {
                    write!(d, " L{x_out:.1},{y:.1}")?;
                    x = x_out;
                }
            }
            write!(
                o,
                "<path class=\"edge{}\" d=\"{d}\" marker-end=\"url(#{}-{})\"/>",
                if hot { " hot" } else { "" },
                Esc(id),
                if hot { "hot" } else { "arrow" }
            )?;
        }
        for (name, (x, y)) in &layout.nodes {
            let text = node(name);
            let class = match focus {
                Some(f) if f == name => " self",
                Some(_) if near.contains(name.as_str()) => " near",
                _ => "",
            };
            let body = format!(
                "<g class=\"node l-{}{class}\" transform=\"translate({x:.1},{y:.1})\"><title>{}</title>\
                 <rect width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"4\"/>\
                 <text class=\"layer\" x=\"10\" y=\"15\">{}</text><text class=\"label\" x=\"10\" y=\"31\">{}</text></g>",
                Esc(&text.layer),
                Esc(name),
                Esc(&text.top),
                Esc(&text.label)
            );
            match text.href.filter(|_| class != " self") {
                Some(href) => write!(o, "<a href=\"{}\">{body}</a>", Esc(&href))?,
                None => o.push_str(&body),
            }
        }
        o.push_str("</svg>");
        Ok(())
    }
}

/// How one node of a graph is drawn.
struct NodeText {
    /// The layer, for the node's colour.
    layer: String,
    /// The small line on top.
    top: String,
    /// The main line.
    label: String,
    /// Where a click goes.
    href: Option<String>,
}

// ---------------------------------------------------------------- graph layout

const NODE_W: f64 = 190.0;
const NODE_H: f64 = 40.0;
/// The room an edge takes where it crosses a level.
const LANE_H: f64 = 8.0;
const GAP_X: f64 = 48.0;
const GAP_Y: f64 = 12.0;
const PAD: f64 = 12.0;

/// One edge of a [`Layout`]: from `up` to `down`, through `lanes` (the middle of each
/// lane's left end) in the levels between them.
#[derive(Debug)]
struct Edge {
    up: String,
    down: String,
    lanes: Vec<(f64, f64)>,
}

/// Boxes placed by DAG level, left to right (a layered, Sugiyama-style drawing): an
/// edge that spans several levels gets a lane in each level it crosses, so it runs
/// between boxes rather than through them, and each level is ordered by the mean
/// position of its neighbours to keep edges short and crossings few.
#[derive(Debug)]
struct Layout {
    /// Top-left corner of each node's box.
    nodes: BTreeMap<String, (f64, f64)>,
    edges: Vec<Edge>,
    width: f64,
    height: f64,
}

impl Layout {
    /// Lay out the part of `dag` made of `keep`.
    fn new(dag: &Dag, keep: &BTreeSet<String>) -> Layout {
        let sub = dag.subgraph(keep);
        let levels = sub
            .topological_levels()
            .unwrap_or_else(|_| vec![keep.iter().cloned().collect()]);
        let level_of: HashMap<&str, usize> = levels
            .iter()
            .enumerate()
            .flat_map(|(i, l)| l.iter().map(move |n| (n.as_str(), i)))
            .collect();

        // Slots: the nodes, then one lane per level an edge crosses. Each slot has a
        // sort name (nodes by name, lanes after them) and links to the next level.
        let mut names: Vec<String> = Vec::new();
        let mut lane: Vec<bool> = Vec::new();
        let mut slot_of: HashMap<&str, usize> = HashMap::new();
        let mut order: Vec<Vec<usize>> = vec![Vec::new(); levels.len()];
        for (li, level) in levels.iter().enumerate() {
            for n in level {
                slot_of.insert(n.as_str(), names.len());
                order[li].push(names.len());
                names.push(n.clone());
                lane.push(false);
            }
        }
        let mut ups: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        let mut downs: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        let mut edges: Vec<(String, String, Vec<usize>)> = Vec::new();
        for n in sub.nodes() {
            for d in sub.deps(n) {
                let (from, to) = (level_of[d], level_of[n]);
                let mut chain = vec![slot_of[d]];
                let mut lanes = Vec::new();
                for level in order.iter_mut().take(to).skip(from + 1) {
                    let id = names.len();
                    names.push(format!("\u{10FFFF}{d}\u{0}{n}"));
                    lane.push(true);
                    ups.push(Vec::new());
                    downs.push(Vec::new());
                    level.push(id);
                    chain.push(id);
                    lanes.push(id);
                }
                chain.push(slot_of[n]);
                for w in chain.windows(2) {
                    downs[w[0]].push(w[1]);
                    ups[w[1]].push(w[0]);
                }
                edges.push((d.to_string(), n.to_string(), lanes));
            }
        }

        // Barycentre sweeps, down then up; positions are centred so levels of any size compare.
        for level in order.iter_mut() {
            level.sort_by(|a, b| names[*a].cmp(&names[*b]));
        }
        let mut pos = vec![0.0; names.len()];
        let centre = |order: &[Vec<usize>], pos: &mut Vec<f64>| {
            for level in order {
                let mid = (level.len() as f64 - 1.0) / 2.0;
                for (i, s) in level.iter().enumerate() {
                    pos[*s] = i as f64 - mid;
                }
            }
        };
        centre(&order, &mut pos);
        for _ in 0..6 {
            for down in [true, false] {
                let todo: Vec<usize> = if down {
                    (1..order.len()).collect()
                } else {
                    (0..order.len().saturating_sub(1)).rev().collect()
                };
                for li in todo {
                    let mut keyed: Vec<(f64, usize)> = order[li]
                        .iter()
                        .map(|s| {
                            let next = if down { &ups[*s] } else { &downs[*s] };
                            let key = if next.is_empty() {
                                pos[*s]
                            } else {
                                next.iter().map(|t| pos[*t]).sum::<f64>() / next.len() as f64
                            };
                            (key, *s)
                        })
                        .collect();
                    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| names[a.1].cmp(&names[b.1])));
                    order[li] = keyed.into_iter().map(|(_, s)| s).collect();
                    centre(&order, &mut pos);
                }
            }
        }

        // Coordinates: each level a column, centred on the tallest.
        let size = |s: usize| if lane[s] { LANE_H } else { NODE_H };
        let column_height = |level: &Vec<usize>| -> f64 {
            level.iter().map(|s| size(*s)).sum::<f64>() + (level.len() as f64 - 1.0).max(0.0) * GAP_Y
        };
        let tallest = order.iter().map(column_height).fold(0.0, f64::max);
        let mut at = vec![(0.0, 0.0); names.len()];
        for (li, level) in order.iter().enumerate() {
            let x = PAD + li as f64 * (NODE_W + GAP_X);
            let mut y = PAD + (tallest - column_height(level)) / 2.0;
            for s in level {
                at[*s] = (x, y);
                y += size(*s) + GAP_Y;
            }
        }
        let nodes = levels
            .iter()
            .flatten()
            .map(|n| (n.clone(), at[slot_of[n.as_str()]]))
            .collect();
        let edges = edges
            .into_iter()
            .map(|(up, down, lanes)| Edge {
                up,
                down,
                lanes: lanes.iter().map(|s| (at[*s].0, at[*s].1 + LANE_H / 2.0)).collect(),
            })
            .collect();
        let columns = order.len() as f64;
        Layout {
            nodes,
            edges,
            width: (2.0 * PAD + columns * NODE_W + (columns - 1.0).max(0.0) * GAP_X).ceil(),
            height: (2.0 * PAD + tallest).ceil(),
        }
    }
}

// ---------------------------------------------------------------- small pieces

/// Text escaped for HTML content and attribute values.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(pos) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..pos])?;
            f.write_str(match rest.as_bytes()[pos] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[pos + 1..];
        }
        f.write_str(rest)
    }
}

/// JSON made safe inside `<script>`: no `<`, `>` or `&` can end the element or start a comment.
fn script_json(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// The file of a model's or source's page: its name, with anything but
/// letters, digits, `.`, `_` and `-` replaced.
fn page_file(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{safe}.html")
}

fn stat(o: &mut String, key: &str, value: &str, sub: &str) -> fmt::Result {
    write!(
        o,
        "<div class=\"stat\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"s\">{}</div></div>",
        Esc(key),
        Esc(value),
        Esc(sub)
    )
}

/// The colours of the layers, and what an arrow means (`arrows`).
fn legend(o: &mut String, arrows: &str) -> fmt::Result {
    write!(
        o,
        "<p class=\"legend\"><span class=\"sw l-src\"></span>source <span class=\"sw l-foundation\"></span>foundation \
         <span class=\"sw l-aggregation\"></span>aggregation <span class=\"sw l-application\"></span>application \
         <span class=\"muted\">· {arrows}</span></p>"
    )
}

fn layer_blurb(layer: Layer) -> &'static str {
    match layer {
        Layer::Src => "staged extracts",
        Layer::Foundation => "cleansed and integrated by subject area",
        Layer::Aggregation => "customer and customer-month summaries",
        Layer::Application => "customer 360, tags, scores and modelling tables",
    }
}

fn materialization(m: &ManifestModel) -> String {
    serde_json::to_value(m.materialization)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The pill class and words for a run record.
fn run_state(r: &RunRecord) -> (&'static str, &'static str) {
    match (r.finished_at, r.status.as_str()) {
        (None, _) => ("warn", "Did not finish"),
        (_, "success") => ("ok", "Succeeded"),
        _ => ("bad", "Failed"),
    }
}

fn status_pill(status: &str) -> String {
    let class = match status {
        "success" => "ok",
        "failed" => "bad",
        "skipped" => "skip",
        _ => "warn",
    };
    format!("<span class=\"pill {class}\">{}</span>", Esc(&capitalise(status)))
}

fn test_pill(status: &str) -> String {
    let class = match status {
        "pass" => "ok",
        "fail" => "bad",
        _ => "warn",
    };
    format!("<span class=\"pill {class}\">{}</span>", Esc(&status.to_uppercase()))
}

fn when(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `0.42 s`, `12.3 s`, `4 min 05 s`.
fn duration(ms: i64) -> String {
    let ms = ms.max(0);
    if ms < 10_000 {
        format!("{:.2} s", ms as f64 / 1000.0)
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        let s = ms / 1000;
        format!("{} min {:02} s", s / 60, s % 60)
    }
}

/// `1,234,567`.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "—" } else { s }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}

// ---------------------------------------------------------------- CSS and JS

const CSS: &str = r#"
:root{--ink:#1b2430;--muted:#5b6776;--line:#dde2e8;--bg:#f5f6f8;--card:#fff;--navy:#0b3a66;--navy2:#1f5f99;
--ok:#1d6b40;--okbg:#e3f3e9;--bad:#a61b12;--badbg:#fdebe9;--warn:#8a5a00;--warnbg:#fff3d1;--skip:#4d5865;--skipbg:#eceff3}
*{box-sizing:border-box}
html{font-size:15px;-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:1rem/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans","PingFang SC","Microsoft YaHei",sans-serif}
a{color:var(--navy2);text-decoration:none}a:hover{text-decoration:underline}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace;font-size:.88em}
pre code{font-size:1em}
.wrap{max-width:1240px;margin:0 auto;padding:0 1.5rem}
.top{background:var(--navy);color:#fff;border-bottom:3px solid #c9a227}
.top .wrap{display:flex;align-items:center;gap:1rem;padding-top:.75rem;padding-bottom:.75rem}
.brand{color:#fff;font-weight:600;font-size:1.05rem;letter-spacing:.01em}
.brand small{font-weight:400;opacity:.75;margin-left:.5rem;font-size:.85rem;text-transform:uppercase;letter-spacing:.08em}
.brand:hover{text-decoration:none}
.find{margin-left:auto}
.find input{width:18rem;max-width:100%;padding:.35rem .6rem;border-radius:4px;border:1px solid #3c6690;background:#13487a;color:#fff;font:inherit;font-size:.9rem}
.find input::placeholder{color:#b7c8da}
main.wrap{padding-top:1.6rem;padding-bottom:3rem}
h1{font-size:1.65rem;line-height:1.25;margin:.25rem 0 .35rem;font-weight:600;word-break:break-word}
h1.mono{font-size:1.5rem}
h2{font-size:1.15rem;margin:2.2rem 0 .8rem;font-weight:600;border-bottom:1px solid var(--line);padding-bottom:.4rem}
h3{font-size:.8rem;margin:1.3rem 0 .5rem;color:var(--muted);text-transform:uppercase;letter-spacing:.07em;font-weight:600}
.card-title{margin-top:0}
.muted{color:var(--muted);font-weight:400}
h2 .muted{font-size:.85rem;margin-left:.35rem}
.lead{color:#3a4654;margin:.2rem 0 1.3rem;max-width:62rem;font-size:1.05rem}
.crumbs{font-size:.85rem;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem 1.2rem;min-width:0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem}
.kv{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.3rem 1.2rem;margin:0}
.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:1rem;margin-bottom:1.5rem}
.stat{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--navy);border-radius:6px;padding:.8rem 1rem}
.stat .k{font-size:.75rem;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
.stat .v{font-size:1.6rem;font-weight:600;line-height:1.3;font-variant-numeric:tabular-nums}
.stat .v .pill{font-size:.95rem;vertical-align:middle}
.stat .s{font-size:.85rem;color:var(--muted)}
.search{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.9rem 1.1rem;display:grid;grid-template-columns:max-content 1fr max-content;gap:.4rem 1rem;align-items:center;position:sticky;top:0;z-index:2;box-shadow:0 2px 6px rgba(20,30,45,.05)}
.search .k{font-weight:600}
#q,.filter{font:inherit;padding:.5rem .7rem;border:1px solid #b9c2cc;border-radius:4px;width:100%;background:#fff;color:var(--ink)}
#q:focus,.filter:focus{outline:2px solid var(--navy2);outline-offset:1px;border-color:var(--navy2)}
.filter{max-width:22rem;margin:0 0 .7rem}
.list{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.2rem 0 .4rem}
.list h3{margin:.9rem 1rem .3rem}
.entries{list-style:none;margin:0;padding:0}
.entry{display:grid;grid-template-columns:minmax(15rem,22rem) minmax(0,1fr) 8.5rem;gap:.2rem 1.2rem;align-items:baseline;padding:.5rem 1rem;border-top:1px solid #edf0f3}
.entry:hover{background:#f8fafc}
.entry .name{font-weight:600;font-size:.92rem}
.entry p{margin:0;font-size:.9rem;color:#3a4654}
.entry .file{display:block;color:var(--muted);font-size:.78rem;margin-top:.1rem}
.entry p.meta{color:var(--muted);font-size:.82rem;text-align:right;white-space:nowrap}
.entry p.match{grid-column:1/-1;color:var(--navy);font-size:.82rem}
.empty{color:var(--muted);font-style:italic}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);font-size:.92rem}
th,td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-weight:600;font-size:.8rem;color:#3a4654;text-transform:uppercase;letter-spacing:.04em}
tbody tr:hover{background:#fafbfc}
tr:target{background:#fff6d8}
.nowrap{white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td .name{font-weight:600}
.columns td:nth-child(2){white-space:nowrap}
.columns td:nth-child(3){white-space:nowrap}
.pill{display:inline-block;padding:.05rem .55rem;border-radius:999px;font-size:.75rem;font-weight:600;letter-spacing:.03em;white-space:nowrap}
.pill.ok{background:var(--okbg);color:var(--ok)}.pill.bad{background:var(--badbg);color:var(--bad)}
.pill.warn{background:var(--warnbg);color:var(--warn)}.pill.skip{background:var(--skipbg);color:var(--skip)}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.72rem;background:#eef1f5;color:#3a4654;border:1px solid var(--line);vertical-align:1px}
.badge.pii{background:var(--badbg);color:var(--bad);border-color:#f3c4bf;font-weight:600}
pre.sql{background:#fbfcfd;border:1px solid var(--line);border-left:4px solid var(--navy);border-radius:6px;padding:1rem 1.2rem;overflow:auto;line-height:1.5;margin:0}
pre.err{white-space:pre-wrap;background:var(--badbg);color:#5a130d;border-radius:4px;padding:.4rem .6rem;margin:.4rem 0 0;font-size:.8rem;max-height:12rem;overflow:auto}
.graph{background:var(--card);border:1px solid var(--line);border-radius:6px;overflow:auto;padding:.4rem;max-height:44rem}
.graph svg{display:block}
.colgraph{display:none}.colgraph.shown{display:block}
.pick{margin:0 0 .6rem}.pick label{font-weight:600;margin-right:.4rem}
.pick select{font:inherit;padding:.3rem .5rem;border:1px solid #b9c2cc;border-radius:4px;background:#fff;min-width:16rem}
.filters{font-size:.9rem;margin-top:.8rem}
td.from{font-size:.85rem}
a.see{font-size:.75rem;border:1px solid var(--line);border-radius:3px;padding:0 .35rem;margin-left:.2rem;white-space:nowrap}
svg .node rect{fill:#fff;stroke:#b8c2cc;stroke-width:1}
svg .l-src rect{fill:#f2f3f5;stroke:#b3bac3}
svg .l-foundation rect{fill:#eaf0f8;stroke:#9db3cf}
svg .l-aggregation rect{fill:#e8f3ed;stroke:#98c3ab}
svg .l-application rect{fill:#fbf2e3;stroke:#d8b98a}
svg .node text{fill:#1b2430;font-size:12px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
svg .node text.layer{fill:#5b6776;font-size:9px;letter-spacing:.08em;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
svg .node.near rect{stroke:#0b3a66;stroke-width:1.8}
svg .node.self rect{fill:#0b3a66;stroke:#0b3a66}
svg .node.self text{fill:#fff}
svg a:hover .node rect{stroke:#1f5f99;stroke-width:2}
svg .edge{fill:none;stroke:#a7b1bc;stroke-width:1.2}
svg .edge.hot{stroke:#0b3a66;stroke-width:1.8}
.legend{font-size:.82rem;color:#3a4654;margin:.5rem 0 0}
.legend .sw{display:inline-block;width:.9rem;height:.9rem;border-radius:2px;vertical-align:-2px;margin:0 .3rem 0 .6rem;border:1px solid #b8c2cc}
.legend .sw:first-child{margin-left:0}
.sw.l-src{background:#f2f3f5}.sw.l-foundation{background:#eaf0f8;border-color:#9db3cf}
.sw.l-aggregation{background:#e8f3ed;border-color:#98c3ab}.sw.l-application{background:#fbf2e3;border-color:#d8b98a}
details.timings{margin-top:1rem}
details.timings summary{cursor:pointer;font-weight:600;margin-bottom:.6rem}
td.bars,th.bars{width:40%}
.bar{position:relative;height:.7rem;background:#eef1f5;border-radius:2px;margin-top:.35rem}
.bar span{position:absolute;top:0;bottom:0;border-radius:2px;background:var(--navy2)}
.bar span.failed{background:var(--bad)}.bar span.skipped{background:#b8c2cc}
footer{color:var(--muted);font-size:.8rem;padding:1.5rem;text-align:center;border-top:1px solid var(--line)}
[hidden]{display:none!important}
@media (max-width:760px){
html{font-size:14px}.wrap{padding:0 .9rem}
.top .wrap{flex-wrap:wrap}.find{margin-left:0;width:100%}.find input{width:100%}
.search{grid-template-columns:1fr;position:static}
.grid{grid-template-columns:1fr}
.entry{grid-template-columns:1fr}.entry p.meta{text-align:left}
table{display:block;overflow-x:auto}
td.bars,th.bars{min-width:8rem}
}
@media print{.top,.search,.find,.filter{display:none}body{background:#fff}}
"#;

/// The index's search: filters the catalog by every word typed (in names,
/// descriptions, layers, subjects and column names); reads `#q=` or `?q=`.
const INDEX_JS: &str = r#"
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('search-index').textContent);
  var input = document.getElementById('q');
  var count = document.getElementById('count');
  var nothing = document.getElementById('nothing');
  var items = Array.prototype.slice.call(document.querySelectorAll('[data-i]'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('[data-group]'));
  function words(q) { return q.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; }); }
  function apply(q) {
    var ws = words(q), shown = 0;
    items.forEach(function (el) {
      var e = data[+el.getAttribute('data-i')];
      var text = (e.name + ' ' + e.description + ' ' + e.layer + ' ' + e.subject + ' ' + e.kind).toLowerCase();
      var cols = [], ok = true;
      for (var i = 0; i < ws.length && ok; i++) {
        var w = ws[i];
        var hits = e.columns.filter(function (c) { return c.toLowerCase().indexOf(w) >= 0; });
        if (text.indexOf(w) < 0 && hits.length === 0) { ok = false; }
        hits.forEach(function (c) { if (cols.indexOf(c) < 0) { cols.push(c); } });
      }
      el.hidden = !ok;
      var m = el.querySelector('.match');
      m.textContent = ok && cols.length ? 'Columns: ' + cols.slice(0, 8).join(', ') + (cols.length > 8 ? ', …' : '') : '';
      m.hidden = m.textContent === '';
      if (ok) { shown++; }
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector('[data-i]:not([hidden])'); });
    nothing.hidden = shown > 0;
    count.textContent = ws.length ? shown + ' of ' + items.length + ' match' : items.length + ' models and source tables';
  }
  function fromUrl() {
    var m = /^#q=(.*)$/.exec(location.hash);
    if (!m) { return new URLSearchParams(location.search).get('q') || ''; }
    try { return decodeURIComponent(m[1].replace(/\+/g, ' ')); } catch (e) { return m[1]; }
  }
  input.value = fromUrl();
  apply(input.value);
  input.addEventListener('input', function () {
    apply(input.value);
    try { history.replaceState(null, '', input.value ? '#q=' + encodeURIComponent(input.value) : location.pathname); } catch (e) { /* file:// in some browsers */ }
  });
  window.addEventListener('hashchange', function () { input.value = fromUrl(); apply(input.value); });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === '/' && document.activeElement !== input) { ev.preventDefault(); input.focus(); }
  });
  input.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') {
      var first = document.querySelector('[data-i]:not([hidden]) a');
      if (first) { location.href = first.href; }
    }
  });
})();
"#;

/// A model page's column filter, and (on model and source pages) the choice of the column whose lineage is drawn
/// (the select, or `#lineage-COLUMN`).
const MODEL_JS: &str = r#"
(function () {
  'use strict';
  var f = document.getElementById('colfilter');
  if (f) {
    var rows = Array.prototype.slice.call(document.querySelectorAll('#columns tbody tr'));
    f.addEventListener('input', function () {
      var w = f.value.toLowerCase().trim();
      rows.forEach(function (r) { r.hidden = w !== '' && r.getAttribute('data-search').indexOf(w) < 0; });
    });
  }
  // Bring the page's own table into view in a graph too big for its box.
  var own = document.querySelector('#lineage .node.self');
  if (own) {
    var box = own.closest('.graph'), r = own.getBoundingClientRect(), b = box.getBoundingClientRect();
    box.scrollTop += r.top - b.top - (box.clientHeight - r.height) / 2;
    box.scrollLeft += r.left - b.left - (box.clientWidth - r.width) / 2;
  }
  var pick = document.getElementById('colpick');
  if (!pick) { return; }
  var graphs = Array.prototype.slice.call(document.querySelectorAll('.colgraph'));
  function show(col) {
    var found = graphs.some(function (g) { return g.getAttribute('data-col') === col; });
    if (!found) { return false; }
    graphs.forEach(function (g) { g.classList.toggle('shown', g.getAttribute('data-col') === col); });
    pick.value = col;
    return true;
  }
  function fromHash() {
    var m = /^#lineage-(.*)$/.exec(location.hash), col;
    if (!m) { return; }
    try { col = decodeURIComponent(m[1]); } catch (e) { col = m[1]; }
    if (show(col)) { document.getElementById('column-lineage').scrollIntoView(); }
  }
  pick.addEventListener('change', function () {
    show(pick.value);
    try { history.replaceState(null, '', '#lineage-' + encodeURIComponent(pick.value)); } catch (e) { /* file:// */ }
  });
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_html() {
        assert_eq!(
            Esc(r#"<b>"a" & 'b'</b>"#).to_string(),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
        assert_eq!(Esc("客户 360").to_string(), "客户 360");
    }

    #[test]
    fn json_cannot_close_its_script_element() {
        let json = serde_json::to_string(&serde_json::json!({"d": "</script><!-- & x"})).unwrap();
        let safe = script_json(&json);
        assert!(
            !safe.contains('<') && !safe.contains('>') && !safe.contains('&'),
            "{safe}"
        );
        let back: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(back["d"], "</script><!-- & x");
    }

    #[test]
    fn layout_puts_levels_left_to_right() {
        //   s
        //  / \
        // a   b
        //  \ /
        //   c
        let mut dag = Dag::new();
        for (n, up) in [("a", "s"), ("b", "s"), ("c", "a"), ("c", "b")] {
            dag.add_edge(n, up);
        }
        let keep: BTreeSet<String> = dag.nodes().map(str::to_string).collect();
        let l = Layout::new(&dag, &keep);
        let x = |n: &str| l.nodes[n].0;
        let y = |n: &str| l.nodes[n].1;
        assert!(x("s") < x("a") && x("a") == x("b") && x("b") < x("c"));
        assert_ne!(y("a"), y("b"));
        // The single nodes sit midway between the two of the middle level.
        assert_eq!(y("s"), (y("a") + y("b")) / 2.0);
        assert_eq!(y("c"), y("s"));
        assert_eq!(l.edges.len(), 4);
        assert!(l.edges.iter().all(|e| e.lanes.is_empty()));
        assert_eq!(l.width, 2.0 * PAD + 3.0 * NODE_W + 2.0 * GAP_X);
    }

    #[test]
    fn a_cycle_is_drawn_in_one_level_rather_than_panicking() {
        // a → b → a (compile refuses this; a column graph must not crash on it either)
        let mut dag = Dag::new();
        dag.add_edge("a", "b");
        dag.add_edge("b", "a");
        let keep: BTreeSet<String> = dag.nodes().map(str::to_string).collect();
        let l = Layout::new(&dag, &keep);
        assert_eq!(l.nodes.len(), 2);
        assert_eq!(l.nodes["a"].0, l.nodes["b"].0);
    }

    #[test]
    fn a_long_edge_runs_through_a_lane_between_boxes() {
        // s → a → b, and s → b directly: the direct edge crosses a's level in a lane.
        let mut dag = Dag::new();
        for (n, up) in [("a", "s"), ("b", "a"), ("b", "s")] {
            dag.add_edge(n, up);
        }
        let keep: BTreeSet<String> = dag.nodes().map(str::to_string).collect();
        let l = Layout::new(&dag, &keep);
        let lanes = &l.edges.iter().find(|e| e.up == "s" && e.down == "b").unwrap().lanes;
        assert_eq!(lanes.len(), 1);
        let (lx, ly) = lanes[0];
        let (ax, ay) = l.nodes["a"];
        assert_eq!(lx, ax);
        // The lane is above or below a's box, never inside it.
        assert!(ly < ay || ly > ay + NODE_H, "lane at {ly}, box {ay}..{}", ay + NODE_H);
    }

    #[test]
    fn small_formats() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1000), "-1,000");
        assert_eq!(thousands(12), "12");
        assert_eq!(duration(420), "0.42 s");
        assert_eq!(duration(12_345), "12.3 s");
        assert_eq!(duration(125_000), "2 min 05 s");
        assert_eq!(page_file("application.customer_360"), "application.customer_360.html");
        assert_eq!(page_file("a/b c"), "a_b_c.html");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
