//! Low-code tags and scorecards: `models/application/tags.toml` and `scores.toml`,
//! read into rules, checked against `application.customer_360`, and turned into
//! sqlparser ASTs (never SQL text): tag and score columns on the 360, and the
//! generated long-form models `application.customer_tag` and `application.customer_score`.
//!
//! ```text
//!  tags.toml / scores.toml ──parse──▶ LowCode (conditions parsed one by one)
//!        │  compile, once customer_360 is planned: check columns, functions, types
//!        ▼
//!  SELECT base.*, <tag_…>, <score_…>, <score_…_band> FROM (<user's 360 query>) AS base
//!  application.customer_tag    (UNION ALL of one SELECT per tag)
//!  application.customer_score  (UNION ALL of one SELECT per scorecard characteristic)
//! ```
//!
//! Business users write conditions such as `aum_cny >= 6000000 and age between 25
//! and 55`. Each is parsed on its own as one SQL expression, walked against an
//! allow-list (columns, literals, arithmetic, comparisons, BETWEEN, IN, LIKE, CASE,
//! a few scalar functions) and planned as a DataFusion expression over the 360's
//! own output schema, so a typo, a subquery or a type mismatch is a compile error
//! that names the file, the line and the tag.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::datafusion::common::DFSchema;
use deltalake::datafusion::common::utils::datafusion_strsim::levenshtein;
use deltalake::datafusion::error::DataFusionError;
use deltalake::datafusion::execution::SessionState;
use deltalake::datafusion::logical_expr::ExprSchemable;
use deltalake::datafusion::sql::parser::{DFParserBuilder, Statement};
use deltalake::datafusion::sql::sqlparser::ast::{
    self as sql, BinaryOperator, CaseWhen, CastKind, Expr as SqlExpr, ExprWithAlias, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, SelectItem, SetExpr, SetOperator, SetQuantifier, TableFactor, UnaryOperator, Value,
};
use deltalake::datafusion::sql::sqlparser::parser::ParserError;
use serde::Deserialize;
use toml::Spanned;

use crate::error::Diagnostic;
use crate::project::LineIndex;

/// The rule files, in `models/application/`.
pub const FILES: [&str; 2] = ["tags.toml", "scores.toml"];
/// The model whose columns the rules read and which gains the tag and score columns.
pub const CUSTOMER_360: &str = "application.customer_360";
/// The generated long-form tag model.
pub const CUSTOMER_TAG: &str = "application.customer_tag";
/// The generated long-form score model.
pub const CUSTOMER_SCORE: &str = "application.customer_score";

/// Scalar functions a condition may call.
pub const FUNCTIONS: &[&str] = &[
    "abs",
    "btrim",
    "ceil",
    "char_length",
    "character_length",
    "coalesce",
    "concat",
    "date_part",
    "date_trunc",
    "ends_with",
    "floor",
    "greatest",
    "least",
    "left",
    "length",
    "lower",
    "ltrim",
    "nullif",
    "power",
    "right",
    "round",
    "rtrim",
    "sqrt",
    "starts_with",
    "strpos",
    "substr",
    "trim",
    "trunc",
    "upper",
];

// ---------------------------------------------------------------- the rules

/// All rules of a project: tags from `tags.toml`, scorecards from `scores.toml`.
#[derive(Debug, Clone, Default)]
pub struct LowCode {
    /// `models/application/tags.toml`, relative to the project, when it exists.
    pub tags_file: Option<PathBuf>,
    /// `models/application/scores.toml`, relative to the project, when it exists.
    pub scores_file: Option<PathBuf>,
    pub tags: Vec<Tag>,
    pub scorecards: Vec<Scorecard>,
}

/// A condition as the user wrote it, with its parsed expression.
#[derive(Debug, Clone)]
pub struct Condition {
    pub text: String,
    /// Line of the condition in its file.
    pub line: usize,
    /// None when it did not parse (already reported).
    pub expr: Option<Box<SqlExpr>>,
}

/// A number from a rule file, kept as written for the SQL literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Num {
    pub value: f64,
    pub text: String,
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match toml::Value::deserialize(d)? {
            toml::Value::Integer(i) => Ok(Num {
                value: i as f64,
                text: i.to_string(),
            }),
            toml::Value::Float(x) if x.is_finite() => Ok(Num {
                value: x,
                text: x.to_string(),
            }),
            other => Err(serde::de::Error::custom(format!(
                "expected a number, found {}",
                other.type_str()
            ))),
        }
    }
}

/// `[min, max)`: either end may be open.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    pub min: Option<Num>,
    pub max: Option<Num>,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.min {
            Some(m) => write!(f, "[{m}, ")?,
            None => f.write_str("(-inf, ")?,
        }
        match &self.max {
            Some(m) => write!(f, "{m})"),
            None => f.write_str("+inf)"),
        }
    }
}

/// One tag: a flag (`when`) or a band tag (`bands`).
#[derive(Debug, Clone)]
pub struct Tag {
    /// `HNW`: upper-case letters, digits and `_`.
    pub code: String,
    pub name: String,
    pub category: String,
    pub description: String,
    /// `YYYY-MM-DD`: before it the tag is NULL on the 360 and has no rows.
    pub effective_from: Option<String>,
    /// Line of the tag's `code`.
    pub line: usize,
    pub kind: TagKind,
}

#[derive(Debug, Clone)]
pub enum TagKind {
    /// BOOLEAN: the condition holds (NULL counts as false).
    Flag(Condition),
    /// TEXT: the label of the `[min, max)` band the column falls in.
    Range {
        column: String,
        column_line: usize,
        bands: Vec<(String, Range, usize)>,
        else_label: Option<String>,
    },
    /// TEXT: the label of the first band whose condition holds.
    Conditions {
        bands: Vec<(String, Condition)>,
        else_label: Option<String>,
    },
}

impl Tag {
    /// The column on the 360: `tag_<code lowercase>`.
    pub fn column(&self) -> String {
        format!("tag_{}", self.code.to_lowercase())
    }

    fn is_flag(&self) -> bool {
        matches!(self.kind, TagKind::Flag(_))
    }
}

/// One scorecard: `base + Σ weight × points`, then a band.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub code: String,
    pub name: String,
    pub description: String,
    pub base: f64,
    pub line: usize,
    pub characteristics: Vec<Characteristic>,
    /// Score bands, `[min, max)`.
    pub bands: Vec<(String, Range, usize)>,
}

impl Scorecard {
    /// `score_<code lowercase>`.
    pub fn column(&self) -> String {
        format!("score_{}", self.code.to_lowercase())
    }

    /// `score_<code lowercase>_band`.
    pub fn band_column(&self) -> String {
        format!("score_{}_band", self.code.to_lowercase())
    }
}

/// One characteristic of a scorecard: bins over a column, first match wins.
#[derive(Debug, Clone)]
pub struct Characteristic {
    pub name: String,
    pub line: usize,
    /// The column the bins test (needed by range and value bins).
    pub column: Option<(String, usize)>,
    pub weight: f64,
    pub bins: Vec<Bin>,
    /// Points when the column is NULL.
    pub missing_points: f64,
    /// Points when no bin matches.
    pub else_points: f64,
}

#[derive(Debug, Clone)]
pub struct Bin {
    pub label: String,
    pub points: f64,
    pub line: usize,
    pub test: BinTest,
}

#[derive(Debug, Clone)]
pub enum BinTest {
    Range(Range),
    Values(Vec<toml::Value>),
    When(Condition),
}

// ---------------------------------------------------------------- file format

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsFile {
    #[serde(default)]
    tags: Vec<Spanned<TagFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagFile {
    code: Spanned<String>,
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    description: String,
    effective_from: Option<Spanned<toml::value::Datetime>>,
    when: Option<Spanned<String>>,
    column: Option<Spanned<String>>,
    bands: Option<Spanned<Vec<Spanned<BandFile>>>>,
    #[serde(rename = "else")]
    else_label: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BandFile {
    label: String,
    min: Option<Num>,
    max: Option<Num>,
    when: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoresFile {
    #[serde(default)]
    scorecards: Vec<Spanned<ScorecardFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScorecardFile {
    code: Spanned<String>,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    base: Option<Num>,
    #[serde(default)]
    characteristics: Vec<Spanned<CharacteristicFile>>,
    #[serde(default)]
    bands: Vec<Spanned<ScoreBandFile>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CharacteristicFile {
    name: String,
    column: Option<Spanned<String>>,
    weight: Option<Num>,
    #[serde(default)]
    bins: Vec<Spanned<BinFile>>,
    missing_points: Option<Num>,
    else_points: Option<Num>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BinFile {
    label: Option<String>,
    min: Option<Num>,
    max: Option<Num>,
    values: Option<Vec<toml::Value>>,
    when: Option<Spanned<String>>,
    points: Num,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScoreBandFile {
    label: String,
    min: Option<Num>,
    max: Option<Num>,
}

/// Collects diagnostics for one rule file.
struct Report<'a> {
    file: &'a Path,
    lines: LineIndex,
    out: Vec<Diagnostic>,
}

impl Report<'_> {
    fn push(&mut self, kind: &'static str, line: usize, message: String) {
        self.out
            .push(Diagnostic::new(self.file, kind, message).at(Some(line), None));
    }

    fn line(&self, span: std::ops::Range<usize>) -> usize {
        self.lines.line(span.start)
    }

    /// Parse one condition on its own: one SQL expression, nothing after it.
    fn condition(&mut self, owner: &str, text: Spanned<String>) -> Condition {
        let line = self.line(text.span());
        let text = text.into_inner();
        let expr = match parse_condition(&text) {
            Ok(expr) => Some(Box::new(expr)),
            Err(message) => {
                self.push(
                    "syntax",
                    line,
                    format!("{owner}: syntax error in \"{text}\": {message}"),
                );
                None
            }
        };
        Condition { text, line, expr }
    }
}

/// Parse a condition as exactly one SQL expression (DataFusion's parser and dialect).
pub fn parse_condition(text: &str) -> std::result::Result<SqlExpr, String> {
    let parsed = DFParserBuilder::new(text)
        .build()
        .and_then(|mut p| p.parse_into_expr())
        .map_err(|e| parser_message(&e))?;
    if let Some(alias) = parsed.alias {
        return Err(format!("a condition has no alias (remove \"AS {alias}\")"));
    }
    if text.trim().is_empty() {
        return Err("the condition is empty".into());
    }
    Ok(parsed.expr)
}

fn parser_message(e: &DataFusionError) -> String {
    let text = match e.find_root() {
        DataFusionError::SQL(pe, _) => match pe.as_ref() {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => m.clone(),
            other => other.to_string(),
        },
        other => crate::error::df_message(other),
    };
    match text.rfind(" at Line: ") {
        Some(pos) => text[..pos].to_string(),
        None => text,
    }
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

fn weight_of(n: &Option<Num>, default: f64) -> f64 {
    n.as_ref().map(|n| n.value).unwrap_or(default)
}

/// Numeric bands must be non-empty, in order of `min`, without overlaps or gaps.
fn check_ranges(report: &mut Report, owner: &str, what: &str, ranges: &[(String, Range, usize)]) {
    // `T1 [0, 50000)`, or just the range when the label is the range.
    let named = |label: &str, r: &Range| {
        let range = r.to_string();
        if label.is_empty() || label == range {
            range
        } else {
            format!("{label} {range}")
        }
    };
    for (label, r, line) in ranges {
        if r.min.is_none() && r.max.is_none() {
            report.push(
                "bands",
                *line,
                format!("{owner}: {what} {label} has neither min nor max; give at least one"),
            );
        }
        if let (Some(a), Some(b)) = (&r.min, &r.max)
            && a.value >= b.value
        {
            report.push(
                "bands",
                *line,
                format!("{owner}: {what} {} is empty: min must be below max", named(label, r)),
            );
        }
    }
    let mut sorted: Vec<&(String, Range, usize)> = ranges.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |r: &Range| r.min.as_ref().map(|m| m.value).unwrap_or(f64::NEG_INFINITY);
        key(&a.1).total_cmp(&key(&b.1))
    });
    for pair in sorted.windows(2) {
        let ((la, a, _), (lb, b, line)) = (pair[0], pair[1]);
        let a_max = a.max.as_ref().map(|m| m.value).unwrap_or(f64::INFINITY);
        let b_min = b.min.as_ref().map(|m| m.value).unwrap_or(f64::NEG_INFINITY);
        if a_max > b_min {
            report.push(
                "bands",
                *line,
                format!("{owner}: {what}s {} and {} overlap", named(la, a), named(lb, b)),
            );
        } else if a_max < b_min {
            report.push(
                "bands",
                *line,
                format!(
                    "{owner}: gap between {what}s {} and {}: values from {} up to {} fall in no {what}",
                    named(la, a),
                    named(lb, b),
                    a.max.as_ref().map(|m| m.text.as_str()).unwrap_or("+inf"),
                    b.min.as_ref().map(|m| m.text.as_str()).unwrap_or("-inf"),
                ),
            );
        }
    }
}

impl LowCode {
    /// Read the rule files (`(path relative to the project, text)`), collecting
    /// every problem that needs no schema: TOML errors, unknown keys, duplicate
    /// codes, syntax errors in conditions, empty, overlapping or gapped bands.
    pub fn parse(files: &[(PathBuf, String)]) -> (LowCode, Vec<Diagnostic>) {
        let mut lowcode = LowCode::default();
        let mut problems = Vec::new();
        for (file, text) in files {
            let mut report = Report {
                file,
                lines: LineIndex::new(text),
                out: Vec::new(),
            };
            if file.ends_with("tags.toml") {
                lowcode.tags_file = Some(file.clone());
                match toml::from_str::<TagsFile>(text) {
                    Ok(f) => lowcode.tags = parse_tags(&mut report, f),
                    Err(e) => toml_problem(&mut report, text, &e),
                }
            } else {
                lowcode.scores_file = Some(file.clone());
                match toml::from_str::<ScoresFile>(text) {
                    Ok(f) => lowcode.scorecards = parse_scores(&mut report, f),
                    Err(e) => toml_problem(&mut report, text, &e),
                }
            }
            problems.extend(report.out);
        }
        (lowcode, problems)
    }
}

fn toml_problem(report: &mut Report, text: &str, e: &toml::de::Error) {
    let line = e.span().map(|s| crate::project::line_of(text, s.start)).unwrap_or(1);
    report.push("toml", line, e.message().trim().to_string());
}

fn parse_tags(report: &mut Report, file: TagsFile) -> Vec<Tag> {
    let mut tags = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    if file.tags.is_empty() {
        report.push(
            "lowcode",
            1,
            "no tags: add a [[tags]] entry, or delete the file to stop generating application.customer_tag".into(),
        );
    }
    for spanned in file.tags {
        let t = spanned.into_inner();
        let line = report.line(t.code.span());
        let code = t.code.into_inner();
        let owner = format!("tag {code}");
        if !is_code(&code) {
            report.push(
                "config",
                line,
                format!("{owner}: a code is upper-case letters, digits and _ (like HNW or AUM_TIER)"),
            );
        }
        if let Some(first) = seen.insert(code.clone(), line) {
            report.push(
                "duplicate",
                line,
                format!("{owner}: code {code} is already used on line {first}"),
            );
        }
        let effective_from = t.effective_from.and_then(|d| {
            let dline = report.line(d.span());
            let d = d.into_inner();
            match (d.date, d.time) {
                (Some(date), None) => Some(format!("{:04}-{:02}-{:02}", date.year, date.month, date.day)),
                _ => {
                    report.push(
                        "config",
                        dline,
                        format!("{owner}: effective_from is a date like 2024-01-01, not {d}"),
                    );
                    None
                }
            }
        });
        let kind = match (t.when, t.bands) {
            (Some(_), Some(_)) => {
                report.push(
                    "config",
                    line,
                    format!("{owner}: give either `when` (a flag tag) or `bands` (a band tag), not both"),
                );
                continue;
            }
            (None, None) => {
                report.push(
                    "config",
                    line,
                    format!("{owner}: give `when` (a flag tag) or `bands` (a band tag)"),
                );
                continue;
            }
            (Some(when), None) => {
                if t.column.is_some() || t.else_label.is_some() {
                    report.push(
                        "config",
                        line,
                        format!("{owner}: `column` and `else` belong to band tags; a flag tag has only `when`"),
                    );
                }
                TagKind::Flag(report.condition(&owner, when))
            }
            (None, Some(bands)) => {
                let bands_line = report.line(bands.span());
                let bands = bands.into_inner();
                if bands.is_empty() {
                    report.push("bands", bands_line, format!("{owner}: bands is empty"));
                    continue;
                }
                match t.column {
                    Some(column) => {
                        let column_line = report.line(column.span());
                        let mut ranges = Vec::new();
                        for b in bands {
                            let bline = report.line(b.span());
                            let b = b.into_inner();
                            if b.when.is_some() {
                                report.push(
                                    "config",
                                    bline,
                                    format!(
                                        "{owner}: band {} has `when`, but this tag bands column {}: use min/max, \
                                         or drop `column` to band by conditions",
                                        b.label,
                                        column.get_ref()
                                    ),
                                );
                            }
                            ranges.push((b.label, Range { min: b.min, max: b.max }, bline));
                        }
                        check_ranges(report, &owner, "band", &ranges);
                        TagKind::Range {
                            column: column.into_inner(),
                            column_line,
                            bands: ranges,
                            else_label: t.else_label,
                        }
                    }
                    None => {
                        let mut out = Vec::new();
                        for b in bands {
                            let bline = report.line(b.span());
                            let b = b.into_inner();
                            if b.min.is_some() || b.max.is_some() {
                                report.push(
                                    "config",
                                    bline,
                                    format!(
                                        "{owner}: band {} has min/max but the tag has no `column` to compare them with",
                                        b.label
                                    ),
                                );
                            }
                            match b.when {
                                Some(when) => {
                                    let c = report.condition(&format!("{owner}, band {}", b.label), when);
                                    out.push((b.label, c));
                                }
                                None => report.push(
                                    "config",
                                    bline,
                                    format!("{owner}: band {} needs `when` (or give the tag a `column`)", b.label),
                                ),
                            }
                        }
                        TagKind::Conditions {
                            bands: out,
                            else_label: t.else_label,
                        }
                    }
                }
            }
        };
        tags.push(Tag {
            code,
            name: t.name,
            category: t.category,
            description: t.description,
            effective_from,
            line,
            kind,
        });
    }
    tags
}

fn parse_scores(report: &mut Report, file: ScoresFile) -> Vec<Scorecard> {
    let mut out = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    if file.scorecards.is_empty() {
        report.push(
            "lowcode",
            1,
            "no scorecards: add a [[scorecards]] entry, or delete the file to stop generating \
             application.customer_score"
                .into(),
        );
    }
    for spanned in file.scorecards {
        let s = spanned.into_inner();
        let line = report.line(s.code.span());
        let code = s.code.into_inner();
        let owner = format!("scorecard {code}");
        if !is_code(&code) {
            report.push(
                "config",
                line,
                format!("{owner}: a code is upper-case letters, digits and _ (like VALUE)"),
            );
        }
        if let Some(first) = seen.insert(code.clone(), line) {
            report.push(
                "duplicate",
                line,
                format!("{owner}: code {code} is already used on line {first}"),
            );
        }
        if s.characteristics.is_empty() {
            report.push(
                "config",
                line,
                format!("{owner}: no characteristics; add [[scorecards.characteristics]]"),
            );
        }
        if s.bands.is_empty() {
            report.push(
                "bands",
                line,
                format!("{owner}: no score bands; add [[scorecards.bands]] with label, min and max"),
            );
        }
        let mut names = BTreeSet::new();
        let mut characteristics = Vec::new();
        for c in s.characteristics {
            let cline = report.line(c.span());
            let c = c.into_inner();
            let cowner = format!("{owner}, characteristic {}", c.name);
            if !names.insert(c.name.clone()) {
                report.push(
                    "duplicate",
                    cline,
                    format!("{cowner}: the scorecard already has a characteristic of that name"),
                );
            }
            if c.bins.is_empty() {
                report.push("bands", cline, format!("{cowner}: bins is empty"));
            }
            let column = c.column.map(|col| (col.get_ref().clone(), report.line(col.span())));
            let mut bins = Vec::new();
            let mut ranges = Vec::new();
            for b in c.bins {
                let bline = report.line(b.span());
                let b = b.into_inner();
                let given = [b.min.is_some() || b.max.is_some(), b.values.is_some(), b.when.is_some()];
                if given.iter().filter(|g| **g).count() != 1 {
                    report.push(
                        "config",
                        bline,
                        format!("{cowner}: a bin has exactly one of min/max, values or when"),
                    );
                    continue;
                }
                let test = if let Some(when) = b.when {
                    BinTest::When(report.condition(&cowner, when))
                } else if let Some(values) = b.values {
                    if values.is_empty() {
                        report.push("bands", bline, format!("{cowner}: a bin has an empty values list"));
                    }
                    if column.is_none() {
                        report.push(
                            "config",
                            bline,
                            format!("{cowner}: values bins need the characteristic's `column`"),
                        );
                    }
                    BinTest::Values(values)
                } else {
                    if column.is_none() {
                        report.push(
                            "config",
                            bline,
                            format!("{cowner}: min/max bins need the characteristic's `column`"),
                        );
                    }
                    let r = Range { min: b.min, max: b.max };
                    ranges.push((b.label.clone().unwrap_or_else(|| r.to_string()), r.clone(), bline));
                    BinTest::Range(r)
                };
                let label = b.label.unwrap_or_else(|| match &test {
                    BinTest::Range(r) => r.to_string(),
                    BinTest::Values(v) => v.iter().map(value_text).collect::<Vec<_>>().join(", "),
                    BinTest::When(c) => c.text.clone(),
                });
                bins.push(Bin {
                    label,
                    points: b.points.value,
                    line: bline,
                    test,
                });
            }
            check_ranges(report, &cowner, "bin", &ranges);
            characteristics.push(Characteristic {
                name: c.name,
                line: cline,
                column,
                weight: weight_of(&c.weight, 1.0),
                bins,
                missing_points: weight_of(&c.missing_points, 0.0),
                else_points: weight_of(&c.else_points, 0.0),
            });
        }
        let bands: Vec<(String, Range, usize)> = s
            .bands
            .into_iter()
            .map(|b| {
                let bline = report.line(b.span());
                let b = b.into_inner();
                (b.label, Range { min: b.min, max: b.max }, bline)
            })
            .collect();
        check_ranges(report, &owner, "score band", &bands);
        out.push(Scorecard {
            code,
            name: s.name,
            description: s.description,
            base: weight_of(&s.base, 0.0),
            line,
            characteristics,
            bands,
        });
    }
    out
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------- checks against the 360

/// The kind of a value, for comparisons: DataFusion coerces across kinds silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Temporal,
    Boolean,
    Other,
}

fn kind_of(dt: &DataType) -> Option<Kind> {
    Some(match dt {
        DataType::Null => return None,
        d if d.is_numeric() => Kind::Number,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Kind::Text,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_) => {
            Kind::Temporal
        }
        DataType::Boolean => Kind::Boolean,
        _ => Kind::Other,
    })
}

/// Whether two kinds may be compared. A date against text is allowed (`'2024-01-01'`).
fn comparable(a: Kind, b: Kind) -> bool {
    a == b || matches!((a, b), (Kind::Temporal, Kind::Text) | (Kind::Text, Kind::Temporal))
}

/// Checks conditions against one schema (the user's 360 output).
struct Checker<'a> {
    state: &'a SessionState,
    schema: DFSchema,
    columns: Vec<String>,
    normalize: bool,
}

impl Checker<'_> {
    fn column_of(&self, ident: &Ident) -> Option<String> {
        let name = if ident.quote_style.is_none() && self.normalize {
            ident.value.to_lowercase()
        } else {
            ident.value.clone()
        };
        self.columns.iter().find(|c| **c == name).cloned()
    }

    fn unknown_column(&self, name: &str) -> String {
        let mut scored: Vec<(usize, &String)> = self.columns.iter().map(|c| (levenshtein(name, c), c)).collect();
        scored.sort();
        let limit = (name.len() / 3).max(2);
        match scored.first() {
            Some((d, c)) if *d <= limit => format!("unknown column \"{name}\"; did you mean \"{c}\"?"),
            _ => format!("unknown column \"{name}\" (customer_360 has no such column)"),
        }
    }

    /// Every problem of one condition, as messages without the owner.
    fn condition(&self, cond: &Condition) -> Vec<String> {
        let Some(expr) = &cond.expr else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        self.walk(expr, &mut errors);
        if !errors.is_empty() {
            return errors;
        }
        // Operand kinds first: DataFusion would coerce some mismatches silently and
        // fail on others with a message that does not say which operand.
        self.compare_kinds(expr, &cond.text, &mut errors);
        if !errors.is_empty() {
            return errors;
        }
        let ty = match self.type_of(expr) {
            Ok(ty) => ty,
            Err(e) => return vec![format!("in \"{}\": {e}", cond.text)],
        };
        if !matches!(ty, DataType::Boolean | DataType::Null) {
            errors.push(format!(
                "condition \"{}\" is {ty}, not BOOLEAN (true or false)",
                cond.text
            ));
        }
        errors
    }

    fn type_of(&self, expr: &SqlExpr) -> std::result::Result<DataType, String> {
        let planned = self
            .state
            .create_logical_expr_from_sql_expr(
                ExprWithAlias {
                    expr: expr.clone(),
                    alias: None,
                },
                &self.schema,
            )
            .map_err(|e| crate::error::df_message(&e))?;
        planned.get_type(&self.schema).map_err(|e| crate::error::df_message(&e))
    }

    /// The allow-list: what a condition may contain, and that its columns exist.
    fn walk(&self, expr: &SqlExpr, errors: &mut Vec<String>) {
        use SqlExpr as E;
        let mut go = |e: &SqlExpr| self.walk(e, errors);
        match expr {
            E::Identifier(ident) => {
                if self.column_of(ident).is_none() {
                    errors.push(self.unknown_column(&ident.value));
                }
            }
            E::CompoundIdentifier(parts) => errors.push(format!(
                "\"{}\": name columns without a table, like \"{}\"",
                expr,
                parts.last().map(|p| p.value.as_str()).unwrap_or_default()
            )),
            E::Value(v) => {
                if let Value::Placeholder(p) = &v.value {
                    errors.push(format!("parameter {p} is not allowed in a condition"));
                }
            }
            E::TypedString(_) => {}
            E::Interval(i) => go(&i.value),
            E::Nested(e)
            | E::IsNull(e)
            | E::IsNotNull(e)
            | E::IsTrue(e)
            | E::IsFalse(e)
            | E::IsNotTrue(e)
            | E::IsNotFalse(e) => go(e),
            E::IsDistinctFrom(a, b) | E::IsNotDistinctFrom(a, b) => {
                go(a);
                go(b);
            }
            E::UnaryOp { op, expr } => match op {
                UnaryOperator::Not | UnaryOperator::Minus | UnaryOperator::Plus => go(expr),
                other => errors.push(format!("operator {other} is not allowed in a condition")),
            },
            E::BinaryOp { left, op, right } => {
                use BinaryOperator as B;
                match op {
                    B::Plus
                    | B::Minus
                    | B::Multiply
                    | B::Divide
                    | B::Modulo
                    | B::StringConcat
                    | B::Gt
                    | B::Lt
                    | B::GtEq
                    | B::LtEq
                    | B::Eq
                    | B::NotEq
                    | B::And
                    | B::Or => {
                        go(left);
                        go(right);
                    }
                    other => errors.push(format!("operator {other} is not allowed in a condition")),
                }
            }
            E::Between { expr, low, high, .. } => {
                go(expr);
                go(low);
                go(high);
            }
            E::InList { expr, list, .. } => {
                go(expr);
                for e in list {
                    go(e);
                }
            }
            E::Like {
                any: false,
                expr,
                pattern,
                ..
            }
            | E::ILike {
                any: false,
                expr,
                pattern,
                ..
            } => {
                go(expr);
                go(pattern);
            }
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(o) = operand {
                    go(o);
                }
                for w in conditions {
                    go(&w.condition);
                    go(&w.result);
                }
                if let Some(e) = else_result {
                    go(e);
                }
            }
            E::Cast {
                kind: CastKind::Cast | CastKind::TryCast | CastKind::DoubleColon,
                expr,
                ..
            } => go(expr),
            E::Extract { expr, .. } => go(expr),
            E::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                go(expr);
                for e in substring_from.iter().chain(substring_for.iter()) {
                    go(e);
                }
            }
            E::Function(f) => self.function(f, errors),
            E::Subquery(_) | E::Exists { .. } | E::InSubquery { .. } => errors.push(format!(
                "subqueries are not allowed in a condition (\"{expr}\"): a condition looks at one \
                 customer's row of customer_360"
            )),
            E::Wildcard(_) | E::QualifiedWildcard(..) => errors.push(format!(
                "wildcards (\"{expr}\") are not allowed in a condition; name the columns"
            )),
            other => errors.push(format!("\"{other}\" is not allowed in a condition")),
        }
    }

    fn function(&self, f: &sql::Function, errors: &mut Vec<String>) {
        let name = f.name.to_string().to_lowercase();
        if self.state.aggregate_functions().contains_key(&name) {
            errors.push(format!(
                "aggregate function {name}() is not allowed: a condition looks at one customer's row \
                 of customer_360 (aggregate in the 360's SQL instead)"
            ));
            return;
        }
        if f.over.is_some() || self.state.window_functions().contains_key(&name) {
            errors.push(format!("window function {name}() is not allowed in a condition"));
            return;
        }
        if !FUNCTIONS.contains(&name.as_str()) {
            errors.push(if self.state.scalar_functions().contains_key(&name) {
                format!(
                    "function {name}() is not allowed in a condition (allowed: {})",
                    FUNCTIONS.join(", ")
                )
            } else {
                format!("unknown function {name}() (allowed: {})", FUNCTIONS.join(", "))
            });
            return;
        }
        if f.filter.is_some() || !f.within_group.is_empty() {
            errors.push(format!("{name}() takes no FILTER or WITHIN GROUP in a condition"));
        }
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(_) => {
                errors.push("subqueries are not allowed in a condition".into());
            }
            FunctionArguments::List(list) => {
                if list.duplicate_treatment.is_some() || !list.clauses.is_empty() {
                    errors.push(format!(
                        "{name}(): DISTINCT, ORDER BY and other clauses are not allowed"
                    ));
                }
                for arg in &list.args {
                    match arg {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => self.walk(e, errors),
                        FunctionArg::Unnamed(_) => {
                            errors.push(format!("wildcards are not allowed in a condition ({name}(*))"))
                        }
                        _ => errors.push(format!("{name}(): named arguments are not allowed")),
                    }
                }
            }
        }
    }

    /// Comparisons between mismatched kinds (number vs text, date vs number, …).
    fn compare_kinds(&self, expr: &SqlExpr, text: &str, errors: &mut Vec<String>) {
        use SqlExpr as E;
        let kind = |e: &SqlExpr| self.type_of(e).ok().map(|t| (kind_of(&t), t));
        let pair = |a: &SqlExpr, an: &str, b: &SqlExpr, bn: &str, errors: &mut Vec<String>| {
            if let (Some((Some(ka), ta)), Some((Some(kb), tb))) = (kind(a), kind(b))
                && !comparable(ka, kb)
            {
                errors.push(format!("in \"{text}\": {an} {a} is {ta}, {bn} {b} is {tb}"));
            }
        };
        match expr {
            E::BinaryOp { left, op, right } => {
                use BinaryOperator as B;
                if matches!(op, B::Gt | B::Lt | B::GtEq | B::LtEq | B::Eq | B::NotEq) {
                    pair(left, "left operand", right, "right operand", errors);
                }
                self.compare_kinds(left, text, errors);
                self.compare_kinds(right, text, errors);
            }
            E::Between { expr, low, high, .. } => {
                pair(expr, "operand", low, "lower bound", errors);
                pair(expr, "operand", high, "upper bound", errors);
            }
            E::InList { expr, list, .. } => {
                for item in list {
                    pair(expr, "operand", item, "list item", errors);
                }
            }
            E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => {
                for (e, what) in [(expr, "operand"), (pattern, "pattern")] {
                    if let Some((Some(k), t)) = kind(e)
                        && k != Kind::Text
                    {
                        errors.push(format!("in \"{text}\": LIKE compares text, but {what} {e} is {t}"));
                    }
                }
            }
            E::Nested(e) | E::UnaryOp { expr: e, .. } => self.compare_kinds(e, text, errors),
            E::Case {
                conditions,
                else_result,
                ..
            } => {
                for w in conditions {
                    self.compare_kinds(&w.condition, text, errors);
                    self.compare_kinds(&w.result, text, errors);
                }
                if let Some(e) = else_result {
                    self.compare_kinds(e, text, errors);
                }
            }
            _ => {}
        }
    }

    /// The kind and type of a column, or the unknown-column message.
    fn column_type(&self, name: &str) -> std::result::Result<DataType, String> {
        self.schema
            .field_with_unqualified_name(name)
            .map(|f| f.data_type().clone())
            .map_err(|_| self.unknown_column(name))
    }
}

impl LowCode {
    /// Check every rule against the 360's own output schema (the user's query,
    /// before the tag columns are added). All problems are returned together.
    pub fn check(&self, state: &SessionState, schema: &SchemaRef) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let df_schema = match DFSchema::try_from(schema.as_ref().clone()) {
            Ok(s) => s,
            Err(e) => {
                out.push(Diagnostic::new(
                    self.tags_file.clone().or(self.scores_file.clone()).unwrap_or_default(),
                    "internal",
                    crate::error::df_message(&e),
                ));
                return out;
            }
        };
        let checker = Checker {
            state,
            schema: df_schema,
            columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
            normalize: state.config().options().sql_parser.enable_ident_normalization,
        };
        let existing: BTreeSet<&str> = checker.columns.iter().map(String::as_str).collect();
        if !existing.contains("customer_id") {
            for file in self.tags_file.iter().chain(self.scores_file.iter()) {
                out.push(
                    Diagnostic::new(
                        file,
                        "lowcode",
                        "customer_360 has no customer_id column, which customer_tag and customer_score \
                         are keyed on",
                    )
                    .at(Some(1), None),
                );
            }
        }
        if let Some(file) = &self.tags_file {
            let mut push = |kind: &'static str, line: usize, message: String| {
                out.push(Diagnostic::new(file, kind, message).at(Some(line), None))
            };
            for tag in &self.tags {
                let owner = format!("tag {}", tag.code);
                if existing.contains(tag.column().as_str()) {
                    push(
                        "duplicate",
                        tag.line,
                        format!(
                            "{owner}: customer_360 already has a column {}; rename the tag or that column",
                            tag.column()
                        ),
                    );
                }
                let mut conditions: Vec<&Condition> = Vec::new();
                match &tag.kind {
                    TagKind::Flag(c) => conditions.push(c),
                    TagKind::Conditions { bands, .. } => conditions.extend(bands.iter().map(|(_, c)| c)),
                    TagKind::Range {
                        column, column_line, ..
                    } => match checker.column_type(column) {
                        Err(m) => push("unknown-column", *column_line, format!("{owner}: {m}")),
                        Ok(t) if kind_of(&t) != Some(Kind::Number) => push(
                            "type",
                            *column_line,
                            format!("{owner}: band column {column} is {t}; min/max bands need a numeric column"),
                        ),
                        Ok(_) => {}
                    },
                }
                for c in conditions {
                    for m in checker.condition(c) {
                        let kind = if m.starts_with("unknown column") {
                            "unknown-column"
                        } else {
                            "condition"
                        };
                        push(kind, c.line, format!("{owner}: {m}"));
                    }
                }
            }
        }
        if let Some(file) = &self.scores_file {
            let mut push = |kind: &'static str, line: usize, message: String| {
                out.push(Diagnostic::new(file, kind, message).at(Some(line), None))
            };
            for card in &self.scorecards {
                for col in [card.column(), card.band_column()] {
                    if existing.contains(col.as_str()) {
                        push(
                            "duplicate",
                            card.line,
                            format!(
                                "scorecard {}: customer_360 already has a column {col}; rename the scorecard or \
                                 that column",
                                card.code
                            ),
                        );
                    }
                }
                for ch in &card.characteristics {
                    let owner = format!("scorecard {}, characteristic {}", card.code, ch.name);
                    let column_type = match &ch.column {
                        Some((column, line)) => match checker.column_type(column) {
                            Ok(t) => Some((column, t)),
                            Err(m) => {
                                push("unknown-column", *line, format!("{owner}: {m}"));
                                None
                            }
                        },
                        None => None,
                    };
                    for bin in &ch.bins {
                        match &bin.test {
                            BinTest::When(c) => {
                                for m in checker.condition(c) {
                                    let kind = if m.starts_with("unknown column") {
                                        "unknown-column"
                                    } else {
                                        "condition"
                                    };
                                    push(kind, c.line, format!("{owner}: {m}"));
                                }
                            }
                            BinTest::Range(r) => {
                                if let Some((column, t)) = &column_type
                                    && kind_of(t) != Some(Kind::Number)
                                {
                                    push(
                                        "type",
                                        bin.line,
                                        format!("{owner}: bin {r} needs a numeric column, but {column} is {t}"),
                                    );
                                }
                            }
                            BinTest::Values(values) => {
                                let Some((column, t)) = &column_type else {
                                    continue;
                                };
                                for v in values {
                                    let vk = match v {
                                        toml::Value::String(_) => Kind::Text,
                                        toml::Value::Integer(_) | toml::Value::Float(_) => Kind::Number,
                                        toml::Value::Boolean(_) => Kind::Boolean,
                                        _ => Kind::Other,
                                    };
                                    if kind_of(t).is_some_and(|k| !comparable(k, vk)) || vk == Kind::Other {
                                        push(
                                            "type",
                                            bin.line,
                                            format!("{owner}: value {v} does not match column {column}, which is {t}"),
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------- AST building

fn ident(name: &str) -> Ident {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ident::new(name)
    } else {
        Ident::with_quote('"', name)
    }
}

fn col(name: &str) -> SqlExpr {
    SqlExpr::Identifier(ident(name))
}

fn text(s: &str) -> SqlExpr {
    SqlExpr::value(Value::SingleQuotedString(s.to_string()))
}

fn number(n: &Num) -> SqlExpr {
    SqlExpr::value(Value::Number(n.text.clone(), false))
}

fn null() -> SqlExpr {
    SqlExpr::value(Value::Null)
}

fn boolean(b: bool) -> SqlExpr {
    SqlExpr::value(Value::Boolean(b))
}

fn biz_date() -> SqlExpr {
    SqlExpr::value(Value::Placeholder("$biz_date".into()))
}

fn date(d: &str) -> SqlExpr {
    SqlExpr::TypedString(sql::TypedString {
        data_type: sql::DataType::Date,
        value: Value::SingleQuotedString(d.to_string()).into(),
        uses_odbc_syntax: false,
    })
}

fn cast(expr: SqlExpr, data_type: sql::DataType) -> SqlExpr {
    SqlExpr::Cast {
        kind: CastKind::Cast,
        expr: Box::new(expr),
        data_type,
        array: false,
        format: None,
    }
}

fn varchar() -> sql::DataType {
    sql::DataType::Varchar(None)
}

fn decimal_10_2() -> sql::DataType {
    sql::DataType::Decimal(sql::ExactNumberInfo::PrecisionAndScale(10, 2))
}

/// Points as DECIMAL(10,2), cast from text so that 0.29 stays 0.29.
fn points(value: f64) -> SqlExpr {
    cast(text(&format!("{value:.2}")), decimal_10_2())
}

fn binary(left: SqlExpr, op: BinaryOperator, right: SqlExpr) -> SqlExpr {
    SqlExpr::BinaryOp {
        left: Box::new(left),
        op,
        right: Box::new(right),
    }
}

fn nested(e: SqlExpr) -> SqlExpr {
    SqlExpr::Nested(Box::new(e))
}

fn case(whens: Vec<(SqlExpr, SqlExpr)>, else_result: Option<SqlExpr>) -> SqlExpr {
    SqlExpr::Case {
        case_token: sql::helpers::attached_token::AttachedToken::empty(),
        end_token: sql::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: whens
            .into_iter()
            .map(|(condition, result)| CaseWhen { condition, result })
            .collect(),
        else_result: else_result.map(Box::new),
    }
}

/// `column >= min AND column < max`.
fn in_range(column: &str, r: &Range) -> SqlExpr {
    let lower = r
        .min
        .as_ref()
        .map(|m| binary(col(column), BinaryOperator::GtEq, number(m)));
    let upper = r
        .max
        .as_ref()
        .map(|m| binary(col(column), BinaryOperator::Lt, number(m)));
    match (lower, upper) {
        (Some(l), Some(u)) => binary(l, BinaryOperator::And, u),
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => boolean(true),
    }
}

fn condition_expr(c: &Condition) -> Option<SqlExpr> {
    c.expr.as_deref().cloned().map(nested)
}

fn toml_literal(v: &toml::Value) -> SqlExpr {
    match v {
        toml::Value::String(s) => text(s),
        toml::Value::Integer(i) => SqlExpr::value(Value::Number(i.to_string(), false)),
        toml::Value::Float(f) => SqlExpr::value(Value::Number(f.to_string(), false)),
        toml::Value::Boolean(b) => boolean(*b),
        other => text(&other.to_string()),
    }
}

/// A SELECT skeleton from fixed text (no user input), filled in as AST.
fn skeleton(sql_text: &str) -> Option<Box<sql::Query>> {
    let statement = DFParserBuilder::new(sql_text)
        .build()
        .ok()?
        .parse_statements()
        .ok()?
        .pop_front()?;
    match statement {
        Statement::Statement(s) => match *s {
            sql::Statement::Query(q) => Some(q),
            _ => None,
        },
        _ => None,
    }
}

fn select_of(q: &mut sql::Query) -> Option<&mut sql::Select> {
    match q.body.as_mut() {
        SetExpr::Select(s) => Some(s),
        _ => None,
    }
}

fn statement(q: Box<sql::Query>) -> Statement {
    Statement::Statement(Box::new(sql::Statement::Query(q)))
}

fn union_all(parts: Vec<SetExpr>) -> Option<SetExpr> {
    let mut parts = parts.into_iter();
    let first = parts.next()?;
    Some(parts.fold(first, |left, right| SetExpr::SetOperation {
        left: Box::new(left),
        op: SetOperator::Union,
        set_quantifier: SetQuantifier::All,
        right: Box::new(right),
    }))
}

fn aliased(expr: SqlExpr, alias: &str) -> SelectItem {
    SelectItem::ExprWithAlias {
        expr,
        alias: ident(alias),
    }
}

impl Tag {
    /// The tag's value on the 360: BOOLEAN for a flag, the band label otherwise;
    /// NULL before `effective_from`. None when a condition did not parse.
    pub fn value_expr(&self) -> Option<SqlExpr> {
        let mut whens = Vec::new();
        if let Some(from) = &self.effective_from {
            whens.push((binary(biz_date(), BinaryOperator::Lt, date(from)), null()));
        }
        let else_result = match &self.kind {
            TagKind::Flag(c) => {
                whens.push((condition_expr(c)?, boolean(true)));
                Some(boolean(false))
            }
            TagKind::Range {
                column,
                bands,
                else_label,
                ..
            } => {
                for (label, r, _) in bands {
                    whens.push((in_range(column, r), text(label)));
                }
                Some(
                    else_label
                        .as_deref()
                        .map(text)
                        .unwrap_or_else(|| cast(null(), varchar())),
                )
            }
            TagKind::Conditions { bands, else_label } => {
                for (label, c) in bands {
                    whens.push((condition_expr(c)?, text(label)));
                }
                Some(
                    else_label
                        .as_deref()
                        .map(text)
                        .unwrap_or_else(|| cast(null(), varchar())),
                )
            }
        };
        Some(case(whens, else_result))
    }
}

impl Characteristic {
    fn bin_test(&self, bin: &Bin) -> Option<SqlExpr> {
        let column = self.column.as_ref().map(|(c, _)| c.as_str());
        Some(match &bin.test {
            BinTest::Range(r) => in_range(column?, r),
            BinTest::Values(values) => SqlExpr::InList {
                expr: Box::new(col(column?)),
                list: values.iter().map(toml_literal).collect(),
                negated: false,
            },
            BinTest::When(c) => condition_expr(c)?,
        })
    }

    /// CASE over the bins giving `f(bin)`, with the missing and else results.
    fn bin_case(&self, of_bin: impl Fn(&Bin) -> SqlExpr, missing: SqlExpr, otherwise: SqlExpr) -> Option<SqlExpr> {
        let mut whens = Vec::new();
        if let Some((column, _)) = &self.column {
            whens.push((SqlExpr::IsNull(Box::new(col(column))), missing));
        }
        for bin in &self.bins {
            whens.push((self.bin_test(bin)?, of_bin(bin)));
        }
        Some(case(whens, Some(otherwise)))
    }

    /// Weighted points, DECIMAL(10,2).
    pub fn points_expr(&self) -> Option<SqlExpr> {
        let w = self.weight;
        self.bin_case(
            |b| points(w * b.points),
            points(w * self.missing_points),
            points(w * self.else_points),
        )
    }

    /// The label of the matching bin; `missing` and `else` otherwise.
    pub fn label_expr(&self) -> Option<SqlExpr> {
        self.bin_case(|b| text(&b.label), text("missing"), text("else"))
    }
}

impl Scorecard {
    /// `CAST(base + Σ weighted points AS DECIMAL(10,2))`.
    pub fn score_expr(&self) -> Option<SqlExpr> {
        let mut sum = points(self.base);
        for ch in &self.characteristics {
            sum = binary(sum, BinaryOperator::Plus, ch.points_expr()?);
        }
        Some(cast(sum, decimal_10_2()))
    }

    /// The band label of the score, NULL outside every band.
    pub fn band_expr(&self, score: SqlExpr) -> SqlExpr {
        let whens = self
            .bands
            .iter()
            .map(|(label, r, _)| {
                let lower = r
                    .min
                    .as_ref()
                    .map(|m| binary(score.clone(), BinaryOperator::GtEq, number(m)));
                let upper = r
                    .max
                    .as_ref()
                    .map(|m| binary(score.clone(), BinaryOperator::Lt, number(m)));
                let test = match (lower, upper) {
                    (Some(l), Some(u)) => binary(l, BinaryOperator::And, u),
                    (Some(x), None) | (None, Some(x)) => x,
                    (None, None) => boolean(true),
                };
                (test, text(label))
            })
            .collect();
        case(whens, Some(cast(null(), varchar())))
    }
}

/// A generated model, ready to join the project.
#[derive(Debug, Clone)]
pub struct GeneratedModel {
    pub name: String,
    /// The rule file it comes from.
    pub file: PathBuf,
    /// The rendered statement, for people (docs); compile uses the AST.
    pub sql: String,
    pub description: String,
    pub columns: Vec<(&'static str, &'static str)>,
}

impl LowCode {
    /// Whether every condition parsed, so the ASTs can be built.
    fn complete(&self) -> bool {
        self.tags.iter().all(|t| t.value_expr().is_some())
            && self
                .scorecards
                .iter()
                .all(|s| s.score_expr().is_some() && s.characteristics.iter().all(|c| c.label_expr().is_some()))
    }

    /// The columns the rules add to the 360, with their descriptions and lines.
    pub fn customer_360_columns(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        for t in &self.tags {
            let kind = match &t.kind {
                TagKind::Flag(_) => "Flag tag (true/false)".to_string(),
                TagKind::Range { column, bands, .. } => format!(
                    "Band tag on {column}: {}",
                    bands
                        .iter()
                        .map(|(l, r, _)| format!("{l} {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                TagKind::Conditions { bands, .. } => format!(
                    "Band tag, first match of {}",
                    bands.iter().map(|(l, _)| l.as_str()).collect::<Vec<_>>().join(", ")
                ),
            };
            let from = t
                .effective_from
                .as_ref()
                .map(|d| format!("; empty before {d}"))
                .unwrap_or_default();
            let description = if t.description.is_empty() {
                String::new()
            } else {
                format!(": {}", t.description)
            };
            out.push((
                t.column(),
                format!("{} ({}){description}. {kind}{from}", t.name, t.code),
                t.line,
            ));
        }
        for s in &self.scorecards {
            let description = if s.description.is_empty() {
                String::new()
            } else {
                format!(": {}", s.description)
            };
            out.push((
                s.column(),
                format!(
                    "{} ({}){description}. Score = {} + weighted points of {}",
                    s.name,
                    s.code,
                    s.base,
                    s.characteristics
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                s.line,
            ));
            out.push((
                s.band_column(),
                format!(
                    "Band of {} ({}): {}",
                    s.column(),
                    s.name,
                    s.bands
                        .iter()
                        .map(|(l, r, _)| format!("{l} {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                s.line,
            ));
        }
        out
    }

    /// `SELECT base.*, <tags>, <scores> FROM (<user query>) AS base`.
    /// None when the user statement is not a query or a condition did not parse.
    pub fn wrap_customer_360(&self, user: &Statement) -> Option<Statement> {
        let Statement::Statement(s) = user else {
            return None;
        };
        let sql::Statement::Query(user_query) = s.as_ref() else {
            return None;
        };
        let mut q = skeleton("SELECT base.* FROM (SELECT 1) AS base")?;
        let select = select_of(&mut q)?;
        match &mut select.from.first_mut()?.relation {
            TableFactor::Derived { subquery, .. } => *subquery = user_query.clone(),
            _ => return None,
        }
        for t in &self.tags {
            select.projection.push(aliased(t.value_expr()?, &t.column()));
        }
        for s in &self.scorecards {
            let score = s.score_expr()?;
            select.projection.push(aliased(score.clone(), &s.column()));
            select.projection.push(aliased(s.band_expr(score), &s.band_column()));
        }
        Some(statement(q))
    }

    /// The AST of a generated model, by name.
    pub fn statement(&self, model: &str) -> Option<Statement> {
        match model {
            CUSTOMER_TAG if self.tags_file.is_some() => self.customer_tag(),
            CUSTOMER_SCORE if self.scores_file.is_some() => self.customer_score(),
            _ => None,
        }
    }

    /// One SELECT per tag over the 360, UNION ALL.
    fn customer_tag(&self) -> Option<Statement> {
        let mut parts = Vec::new();
        for t in &self.tags {
            let mut q = skeleton("SELECT customer_id FROM application.customer_360")?;
            let select = select_of(&mut q)?;
            let column = col(&t.column());
            let value = if t.is_flag() { text("Y") } else { column.clone() };
            select.projection.extend([
                aliased(text(&t.code), "tag_code"),
                aliased(text(&t.name), "tag_name"),
                aliased(text(&t.category), "category"),
                aliased(value, "tag_value"),
                aliased(cast(biz_date(), sql::DataType::Date), "biz_date"),
            ]);
            select.selection = Some(if t.is_flag() {
                binary(column, BinaryOperator::Eq, boolean(true))
            } else {
                SqlExpr::IsNotNull(Box::new(column))
            });
            parts.push(*q.body);
        }
        let mut q = skeleton("SELECT 1")?;
        q.body = Box::new(union_all(parts)?);
        Some(statement(q))
    }

    /// One SELECT per scorecard characteristic over the 360, UNION ALL.
    fn customer_score(&self) -> Option<Statement> {
        let mut parts = Vec::new();
        for s in &self.scorecards {
            for ch in &s.characteristics {
                let mut q = skeleton("SELECT customer_id FROM application.customer_360")?;
                let select = select_of(&mut q)?;
                let value = match &ch.column {
                    Some((c, _)) => cast(col(c), varchar()),
                    None => cast(null(), varchar()),
                };
                select.projection.extend([
                    aliased(text(&s.code), "scorecard_code"),
                    aliased(text(&ch.name), "characteristic"),
                    aliased(value, "characteristic_value"),
                    aliased(ch.label_expr()?, "bin_label"),
                    aliased(ch.points_expr()?, "points"),
                    aliased(col(&s.column()), "score"),
                    aliased(col(&s.band_column()), "score_band"),
                    aliased(cast(biz_date(), sql::DataType::Date), "biz_date"),
                ]);
                parts.push(*q.body);
            }
        }
        let mut q = skeleton("SELECT 1")?;
        q.body = Box::new(union_all(parts)?);
        Some(statement(q))
    }

    /// The generated models of the files that exist.
    pub fn generated_models(&self) -> Vec<GeneratedModel> {
        let complete = self.complete();
        let render = |name: &str| {
            if complete {
                // sqlparser's pretty form (`{:#}`): one clause per line, for the docs.
                match self.statement(name) {
                    Some(Statement::Statement(s)) => format!("{s:#}"),
                    Some(other) => other.to_string(),
                    None => String::new(),
                }
            } else {
                String::new()
            }
        };
        let mut out = Vec::new();
        if let Some(file) = &self.tags_file {
            out.push(GeneratedModel {
                name: CUSTOMER_TAG.into(),
                file: file.clone(),
                sql: render(CUSTOMER_TAG),
                description: format!(
                    "Customer tags, long form: one row per customer per tag that applies on the business \
                     date (generated from {})",
                    file.display()
                ),
                columns: vec![
                    ("customer_id", "Bank-wide customer number"),
                    ("tag_code", "Tag code, as in tags.toml"),
                    ("tag_name", "Tag name"),
                    ("category", "Tag category"),
                    ("tag_value", "Y for a flag tag; the band label for a band tag"),
                    ("biz_date", "Business date the tag was evaluated on"),
                ],
            });
        }
        if let Some(file) = &self.scores_file {
            out.push(GeneratedModel {
                name: CUSTOMER_SCORE.into(),
                file: file.clone(),
                sql: render(CUSTOMER_SCORE),
                description: format!(
                    "Scorecard points explained: one row per customer, scorecard and characteristic; a \
                     customer's points on a scorecard sum to score minus base (generated from {})",
                    file.display()
                ),
                columns: vec![
                    ("customer_id", "Bank-wide customer number"),
                    ("scorecard_code", "Scorecard code, as in scores.toml"),
                    ("characteristic", "Characteristic name"),
                    (
                        "characteristic_value",
                        "The customer's value of the characteristic's column, as text",
                    ),
                    (
                        "bin_label",
                        "The bin the value fell in; missing (NULL value) or else (no bin)",
                    ),
                    ("points", "Points of that bin times the characteristic's weight"),
                    (
                        "score",
                        "The customer's score on the scorecard: base + the sum of points",
                    ),
                    ("score_band", "The score's band"),
                    ("biz_date", "Business date the score was computed on"),
                ],
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_is_one_expression() {
        assert!(parse_condition("aum_cny >= 6000000 and age between 25 and 55").is_ok());
        let e = parse_condition("1=1) OR (1=1").unwrap_err();
        assert!(e.contains("end of expression"), "{e}");
        let e = parse_condition("x; DROP TABLE y").unwrap_err();
        assert!(e.contains("end of expression"), "{e}");
        assert!(parse_condition("x AS y").is_err());
    }

    #[test]
    fn ranges_report_overlaps_and_gaps() {
        let n = |v: i64| {
            Some(Num {
                value: v as f64,
                text: v.to_string(),
            })
        };
        let file = PathBuf::from("models/application/tags.toml");
        let mut report = Report {
            file: &file,
            lines: LineIndex::new(""),
            out: Vec::new(),
        };
        let ranges = vec![
            ("T1".to_string(), Range { min: None, max: n(10) }, 1),
            ("T2".to_string(), Range { min: n(5), max: n(20) }, 2),
            ("T3".to_string(), Range { min: n(30), max: None }, 3),
        ];
        check_ranges(&mut report, "tag X", "band", &ranges);
        let messages: Vec<&str> = report.out.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "tag X: bands T1 (-inf, 10) and T2 [5, 20) overlap",
                "tag X: gap between bands T2 [5, 20) and T3 [30, +inf): values from 20 up to 30 fall in no band",
            ]
        );
    }
}
