//! Issue 4: low-code tags and scorecards (docs/tags.md). A tiny hand-made project
//! whose customer_360 has five customers; every tag and score value below is
//! computed by hand from the extract. Then each compile error, with file and line.

use crate::common::TempProject;

const DATE: &str = "2024-06-30";

const SOURCE: &str = r#"description = "Core banking"

[[tables]]
name = "customer"
file = "{biz_date}/core/customer.csv"
format = "csv"
primary_key = ["cust_id"]

[[tables.columns]]
name = "cust_id"
type = "string"

[[tables.columns]]
name = "aum"
type = "decimal(18,2)"

[[tables.columns]]
name = "age"
type = "int"

[[tables.columns]]
name = "segment"
type = "string"

[[tables.columns]]
name = "mobile_txn"
type = "int"
"#;

const CUSTOMER_360: &str = "SELECT cust_id AS customer_id, aum AS aum_cny, age, segment AS segment_code,\n\
    mobile_txn AS mobile_txn_count_30d, $biz_date AS biz_date\n\
    FROM src.core_customer WHERE biz_date = $biz_date\n";

// C4 has no AUM (NULL) and no segment.
const EXTRACT: &str = "cust_id,aum,age,segment,mobile_txn\n\
    C1,7000000.00,40,PRIV,8\n\
    C2,60000.00,60,AFFL,0\n\
    C3,100.00,30,MASS,2\n\
    C4,,22,,6\n";

const TAGS: &str = r#"[[tags]]
code = "HNW"
name = "High net worth"
category = "value"
effective_from = 2024-01-01
description = "AUM of at least 6M CNY, working age"
when = "aum_cny >= 6000000 and age between 25 and 55"

[[tags]]
code = "AUM_TIER"
name = "AUM tier"
category = "value"
column = "aum_cny"
bands = [
  { label = "T1", max = 50000 },
  { label = "T2", min = 50000, max = 500000 },
  { label = "T3", min = 500000 },
]

[[tags]]
code = "PREF_CHANNEL"
name = "Customer's channel"
category = "channel"
bands = [
  { label = "MOBILE", when = "mobile_txn_count_30d > 5" },
  { label = "BRANCH", when = "age >= 60" },
]
else = "NONE"

[[tags]]
code = "FUTURE"
name = "Not yet in force"
category = "test"
effective_from = 2099-01-01
when = "age > 0"
"#;

const SCORES: &str = r#"[[scorecards]]
code = "VALUE"
name = "Customer value score"
description = "AUM and segment"
base = 300

[[scorecards.characteristics]]
name = "AUM"
column = "aum_cny"
bins = [
  { max = 50000, points = 0 },
  { min = 50000, max = 500000, points = 40 },
  { min = 500000, points = 90 },
]
missing_points = 5

[[scorecards.characteristics]]
name = "Segment"
column = "segment_code"
weight = 0.5
bins = [
  { values = ["PRIV", "WLTH"], points = 50 },
  { values = ["AFFL"], points = 20, label = "affluent" },
]
else_points = 10

[[scorecards.bands]]
label = "C"
max = 350

[[scorecards.bands]]
label = "B"
min = 350
max = 400

[[scorecards.bands]]
label = "A"
min = 400
"#;

fn project(tags: &str, scores: &str) -> TempProject {
    TempProject::new(&[
        (
            "lakemart.toml",
            "[project]\nname = \"lowcode\"\nlanding = \"landing\"\n",
        ),
        ("models/sources/core.toml", SOURCE),
        (&format!("landing/{DATE}/core/customer.csv"), EXTRACT),
        ("sql/application/customer/customer_360.sql", CUSTOMER_360),
        ("models/application/tags.toml", tags),
        ("models/application/scores.toml", scores),
    ])
}

#[track_caller]
fn csv(p: &TempProject, sql: &str) -> String {
    let r = p.run(&["query", sql, "--format", "csv"]);
    assert_eq!(r.code, 0, "query {sql}\n{}", r.stderr);
    r.stdout
}

#[test]
fn tags_and_scores_have_the_hand_computed_values() {
    let p = project(TAGS, SCORES);
    let r = p.run(&["run", "--date", DATE]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);

    // The 360 keeps the user's columns and gains one column per tag and two per scorecard.
    assert_eq!(
        csv(
            &p,
            "SELECT customer_id, tag_hnw, tag_aum_tier, tag_pref_channel, tag_future, score_value, \
             score_value_band FROM application.customer_360 ORDER BY customer_id"
        ),
        "customer_id,tag_hnw,tag_aum_tier,tag_pref_channel,tag_future,score_value,score_value_band\n\
         C1,true,T3,MOBILE,,415.00,A\n\
         C2,false,T2,BRANCH,,350.00,B\n\
         C3,false,T1,NONE,,305.00,C\n\
         C4,false,,MOBILE,,305.00,C\n"
    );

    // Long form: only tags that apply; FUTURE (effective 2099) has no rows, and C4's
    // NULL AUM gives no AUM_TIER row. The quote in a name is data, not SQL.
    assert_eq!(
        csv(
            &p,
            "SELECT customer_id, tag_code, tag_name, category, tag_value, biz_date FROM application.customer_tag \
             ORDER BY customer_id, tag_code"
        ),
        "customer_id,tag_code,tag_name,category,tag_value,biz_date\n\
         C1,AUM_TIER,AUM tier,value,T3,2024-06-30\n\
         C1,HNW,High net worth,value,Y,2024-06-30\n\
         C1,PREF_CHANNEL,Customer's channel,channel,MOBILE,2024-06-30\n\
         C2,AUM_TIER,AUM tier,value,T2,2024-06-30\n\
         C2,PREF_CHANNEL,Customer's channel,channel,BRANCH,2024-06-30\n\
         C3,AUM_TIER,AUM tier,value,T1,2024-06-30\n\
         C3,PREF_CHANNEL,Customer's channel,channel,NONE,2024-06-30\n\
         C4,PREF_CHANNEL,Customer's channel,channel,MOBILE,2024-06-30\n"
    );

    // One row per customer and characteristic, with weighted points.
    assert_eq!(
        csv(
            &p,
            "SELECT customer_id, characteristic, characteristic_value, bin_label, points, score, score_band \
             FROM application.customer_score ORDER BY customer_id, characteristic"
        ),
        "customer_id,characteristic,characteristic_value,bin_label,points,score,score_band\n\
         C1,AUM,7000000.00,\"[500000, +inf)\",90.00,415.00,A\n\
         C1,Segment,PRIV,\"PRIV, WLTH\",25.00,415.00,A\n\
         C2,AUM,60000.00,\"[50000, 500000)\",40.00,350.00,B\n\
         C2,Segment,AFFL,affluent,10.00,350.00,B\n\
         C3,AUM,100.00,\"(-inf, 50000)\",0.00,305.00,C\n\
         C3,Segment,MASS,else,5.00,305.00,C\n\
         C4,AUM,,missing,5.00,305.00,C\n\
         C4,Segment,,missing,0.00,305.00,C\n"
    );

    // The explanation adds up: the points of a customer's rows are score - base.
    assert_eq!(
        csv(
            &p,
            "SELECT count(*) AS wrong FROM (SELECT customer_id, sum(points) AS p, max(score) AS s \
             FROM application.customer_score GROUP BY customer_id) WHERE s - p <> 300"
        ),
        "wrong\n0\n"
    );
}

#[test]
fn compile_lists_the_generated_models_and_the_tag_columns() {
    let p = project(TAGS, SCORES);
    let r = p.run(&["compile", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let manifest: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let models = manifest["models"].as_array().unwrap();
    let model = |name: &str| {
        models
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in the manifest"))
    };
    let columns = |name: &str| -> Vec<(String, String)> {
        model(name)["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let c360 = columns("application.customer_360");
    for (name, ty) in [
        ("tag_hnw", "boolean"),
        ("tag_aum_tier", "string"),
        ("tag_pref_channel", "string"),
        ("score_value", "decimal(10,2)"),
        ("score_value_band", "string"),
    ] {
        assert!(
            c360.contains(&(name.to_string(), ty.to_string())),
            "{name} {ty} in {c360:?}"
        );
    }
    let hnw = model("application.customer_360")["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "tag_hnw")
        .unwrap()["description"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        hnw.contains("High net worth") && hnw.contains("AUM of at least 6M CNY"),
        "{hnw}"
    );

    let tag = model("application.customer_tag");
    assert_eq!(tag["materialization"], "partition");
    assert_eq!(tag["depends_on"], serde_json::json!(["application.customer_360"]));
    // The generated SELECT is in the manifest, for reviewers and other engines.
    let tag_sql = tag["compiled_sql"].as_str().unwrap();
    assert!(
        tag_sql.contains("'HNW' AS tag_code") && tag_sql.contains("FROM application.customer_360 WHERE tag_hnw = true"),
        "{tag_sql}"
    );
    let names: Vec<String> = columns("application.customer_tag").into_iter().map(|c| c.0).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "tag_code",
            "tag_name",
            "category",
            "tag_value",
            "biz_date"
        ]
    );
    let score = model("application.customer_score");
    assert_eq!(score["materialization"], "partition");
    assert!(
        columns("application.customer_score").contains(&("points".into(), "decimal(10,2)".into())),
        "{score}"
    );

    // And without the rule files there are no generated models.
    std::fs::remove_file(p.path().join("models/application/tags.toml")).unwrap();
    std::fs::remove_file(p.path().join("models/application/scores.toml")).unwrap();
    let r = p.run(&["compile", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("customer_tag") && !r.stdout.contains("tag_hnw"));
}

/// Compile `tags`/`scores`; every expected `(file:line, text)` must be among the errors.
#[track_caller]
fn assert_errors(tags: &str, scores: &str, expected: &[(&str, &str)]) {
    let p = project(tags, scores);
    let r = p.run(&["compile"]);
    assert_eq!(r.code, 2, "compile should fail\n{}\n{}", r.stdout, r.stderr);
    for (at, text) in expected {
        assert!(
            r.stderr
                .lines()
                .any(|l| l.trim_start_matches("error: ").starts_with(&format!("{at}:")) && l.contains(text)),
            "expected at {at}: {text}\ngot:\n{}",
            r.stderr
        );
    }
}

const TAGS_FILE: &str = "models/application/tags.toml";
const SCORES_FILE: &str = "models/application/scores.toml";

#[test]
fn condition_errors_name_the_tag_the_file_and_the_line() {
    let tags = r#"[[tags]]
code = "TYPO"
name = "Typo"
when = "aum_cn >= 6000000"

[[tags]]
code = "OLD"
name = "Old"
when = "age >= 'old'"

[[tags]]
code = "INJECT"
name = "Injection attempt"
when = "1=1) OR (1=1"

[[tags]]
code = "DROP"
name = "Injection attempt"
when = "age > 1; DROP TABLE application.customer_360"

[[tags]]
code = "AGG"
name = "Aggregate"
when = "sum(aum_cny) > 0"

[[tags]]
code = "SUBQ"
name = "Subquery"
when = "customer_id IN (SELECT customer_id FROM application.customer_360)"

[[tags]]
code = "FUNC"
name = "Unknown function"
when = "frobnicate(age) > 1"

[[tags]]
code = "NOTBOOL"
name = "Not a condition"
when = "age + 1"

[[tags]]
code = "DATE_NUM"
name = "Date against a number"
when = "biz_date > 5 or segment_code = 'PRIV'"

[[tags]]
code = "BAND_TEXT"
name = "Band on text"
column = "segment_code"
bands = [ { label = "X", max = 5 } ]
"#;
    // Every problem of the file in one compile.
    assert_errors(
        tags,
        SCORES,
        &[
            (
                &format!("{TAGS_FILE}:4"),
                "tag TYPO: unknown column \"aum_cn\"; did you mean \"aum_cny\"?",
            ),
            (
                &format!("{TAGS_FILE}:9"),
                "tag OLD: in \"age >= 'old'\": left operand age is Int32, right operand 'old' is Utf8",
            ),
            (
                &format!("{TAGS_FILE}:14"),
                "tag INJECT: syntax error in \"1=1) OR (1=1\": Expected: end of expression, found: )",
            ),
            (
                &format!("{TAGS_FILE}:19"),
                "tag DROP: syntax error in \"age > 1; DROP TABLE application.customer_360\": Expected: end of expression, found: ;",
            ),
            (
                &format!("{TAGS_FILE}:24"),
                "tag AGG: aggregate function sum() is not allowed",
            ),
            (&format!("{TAGS_FILE}:29"), "tag SUBQ: subqueries are not allowed"),
            (&format!("{TAGS_FILE}:34"), "tag FUNC: unknown function frobnicate()"),
            (
                &format!("{TAGS_FILE}:39"),
                "tag NOTBOOL: condition \"age + 1\" is Int64, not BOOLEAN",
            ),
            (
                &format!("{TAGS_FILE}:44"),
                "tag DATE_NUM: in \"biz_date > 5 or segment_code = 'PRIV'\": left operand biz_date is Date32, \
                 right operand 5 is Int64",
            ),
            (
                &format!("{TAGS_FILE}:49"),
                "tag BAND_TEXT: band column segment_code is Utf8; min/max bands need a numeric column",
            ),
        ],
    );
}

#[test]
fn overlapping_and_gapped_bins_are_reported_with_both_ranges() {
    let scores = r#"[[scorecards]]
code = "VALUE"
name = "Value"
base = 300

[[scorecards.characteristics]]
name = "AUM"
column = "aum_cny"
bins = [
  { max = 50000, points = 0 },
  { min = 40000, max = 500000, points = 40 },
  { min = 600000, points = 90 },
]

[[scorecards.bands]]
label = "A"
min = 0
"#;
    assert_errors(
        TAGS,
        scores,
        &[
            (
                &format!("{SCORES_FILE}:11"),
                "scorecard VALUE, characteristic AUM: bins (-inf, 50000) and [40000, 500000) overlap",
            ),
            (
                &format!("{SCORES_FILE}:12"),
                "scorecard VALUE, characteristic AUM: gap between bins [40000, 500000) and \
                 [600000, +inf): values from 500000 up to 600000 fall in no bin",
            ),
        ],
    );
}

#[test]
fn structural_mistakes_are_reported() {
    let tags = r#"[[tags]]
code = "HNW"
name = "High net worth"
when = "aum_cny >= 6000000"

[[tags]]
code = "HNW"
name = "Again"
when = "age > 1"

[[tags]]
code = "EMPTY"
name = "No bands"
column = "aum_cny"
bands = []
"#;
    assert_errors(
        tags,
        SCORES,
        &[
            (&format!("{TAGS_FILE}:7"), "tag HNW: code HNW is already used on line 2"),
            (&format!("{TAGS_FILE}:15"), "tag EMPTY: bands is empty"),
        ],
    );
    // Unknown keys are TOML errors on their line.
    assert_errors(
        "[[tags]]\ncode = \"HNW\"\nname = \"x\"\nwhen = \"age > 1\"\ncolour = \"red\"\n",
        SCORES,
        &[(&format!("{TAGS_FILE}:5"), "unknown field `colour`")],
    );
}
