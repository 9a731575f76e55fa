//! Issue 7: column-level lineage. `lakemart lineage` on constructed models (renames,
//! expressions, aggregates, joins, CTEs, `SELECT *`, CASE, window functions) against
//! hand-written trees; the manifest's `lineage` and `filtered_by`; and the sample mart.

use std::path::Path;

use crate::common::{Ran, TempProject, lakemart, tiny_project};

/// Two source systems and five models:
///
/// ```text
/// src.core_customer ── foundation.customer ─────────────────────────┐
/// src.core_account ─┬─ foundation.account ── aggregation.customer_balance ── application.customer_360 ── application.aum_rank
/// src.ref_fx_rate ──┘
/// ```
fn mart() -> TempProject {
    TempProject::new(&[
        (
            "lakemart.toml",
            "[project]\nname = \"lineage\"\nlanding = \"landing\"\n",
        ),
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
name = "cust_name"
type = "string"

[[tables.columns]]
name = "branch_id"
type = "string"

[[tables]]
name = "account"
file = "{biz_date}/core/account_{yyyymmdd}.csv"
format = "csv"
primary_key = ["acct_no"]

[[tables.columns]]
name = "acct_no"
type = "string"

[[tables.columns]]
name = "cust_id"
type = "string"

[[tables.columns]]
name = "balance"
type = "decimal(18,2)"

[[tables.columns]]
name = "currency"
type = "string"

[[tables.columns]]
name = "status"
type = "string"
"#,
        ),
        (
            "models/sources/ref.toml",
            r#"description = "Reference data"

[[tables]]
name = "fx_rate"
file = "{biz_date}/ref/fx_rate_{yyyymmdd}.csv"
format = "csv"
primary_key = ["currency"]

[[tables.columns]]
name = "currency"
type = "string"

[[tables.columns]]
name = "rate_to_cny"
type = "decimal(18,6)"
"#,
        ),
        (
            "models/foundation/customer.toml",
            r#"[[models]]
name = "customer"
materialization = "scd2"
unique_key = ["customer_id"]
"#,
        ),
        (
            "sql/foundation/customer/customer.sql",
            "SELECT cust_id AS customer_id, cust_name AS customer_name, branch_id\n\
             FROM src.core_customer\n\
             WHERE biz_date = $biz_date\n",
        ),
        (
            "sql/foundation/agreement/account.sql",
            r#"WITH acct AS (
    SELECT acct_no, cust_id, balance, currency, status
    FROM src.core_account
    WHERE biz_date = $biz_date
)
SELECT
    a.acct_no AS account_id,
    a.cust_id AS customer_id,
    a.balance,
    CAST(a.balance * r.rate_to_cny AS DECIMAL(18,2)) AS balance_cny,
    CASE WHEN a.status = 'C' THEN 'CLOSED' WHEN a.balance < 0 THEN 'OVERDRAWN' ELSE 'OPEN' END AS state
FROM acct a
LEFT JOIN src.ref_fx_rate r ON r.currency = a.currency AND r.biz_date = $biz_date
"#,
        ),
        (
            "sql/aggregation/customer/customer_balance.sql",
            r#"SELECT
    customer_id,
    sum(balance_cny) AS aum_cny,
    count(*) AS accounts,
    max(balance) + min(balance) AS spread
FROM foundation.account
GROUP BY customer_id
"#,
        ),
        (
            "sql/application/customer/customer_360.sql",
            r#"SELECT c.*, b.aum_cny, b.accounts, b.aum_cny + b.spread AS score
FROM foundation.customer c
LEFT JOIN aggregation.customer_balance b ON b.customer_id = c.customer_id
WHERE c.is_current
"#,
        ),
        (
            "sql/application/customer/aum_rank.sql",
            r#"SELECT
    customer_id,
    rank() OVER (PARTITION BY branch_id ORDER BY aum_cny DESC) AS branch_rank
FROM application.customer_360
"#,
        ),
    ])
}

/// `lakemart lineage ARGS…` in `p`, which must succeed.
fn lineage(p: &TempProject, args: &[&str]) -> String {
    let r = p.run(&[&["lineage"], args].concat());
    assert_eq!(r.code, 0, "lineage {args:?}:\n{}{}", r.stdout, r.stderr);
    assert_eq!(r.stderr, "");
    r.stdout
}

#[test]
fn a_rename_through_a_cte_in_the_tiny_project() {
    let p = tiny_project();
    assert_eq!(
        lineage(&p, &["application.customer_360.aum"]),
        "application.customer_360.aum\n\
         └── foundation.customer.balance\n\
         \u{20}   └── src.core_customer.balance\n"
    );
    assert_eq!(
        lineage(&p, &["application.customer_360.customer_id"]),
        "application.customer_360.customer_id\n\
         └── foundation.customer.customer_id\n\
         \u{20}   └── src.core_customer.cust_id\n"
    );
    assert_eq!(
        lineage(&p, &["application.customer_360.biz_date"]),
        "application.customer_360.biz_date  (no upstream column: a constant, $biz_date or a row count)\n"
    );
}

#[test]
fn a_change_set_leads_back_to_its_snapshot_diff_model() {
    let p = tiny_project();
    p.write(
        "models/foundation/customer.toml",
        "[[models]]\nname = \"customer\"\nmaterialization = \"snapshot_diff\"\nunique_key = [\"customer_id\"]\n",
    );
    p.write(
        "sql/application/customer/balance_change.sql",
        "SELECT customer_id, balance AS new_balance, change_type\n\
         FROM foundation.customer_changes WHERE biz_date = $biz_date\n",
    );
    assert_eq!(
        lineage(&p, &["application.balance_change.new_balance"]),
        "application.balance_change.new_balance\n\
         └── foundation.customer_changes.balance\n\
         \u{20}   └── foundation.customer.balance\n\
         \u{20}       └── src.core_customer.balance\n"
    );
    assert_eq!(
        lineage(&p, &["application.balance_change.change_type"]),
        "application.balance_change.change_type\n\
         └── foundation.customer_changes.change_type  (written by the materialization)\n"
    );
}

#[test]
fn renames_through_select_star() {
    let p = mart();
    // c.* of an scd2 model, whose own SQL renames cust_name.
    assert_eq!(
        lineage(&p, &["application.customer_360.customer_name"]),
        "application.customer_360.customer_name\n\
         └── foundation.customer.customer_name\n\
         \u{20}   └── src.core_customer.cust_name\n"
    );
    // Columns the materialization writes end the tree, with a note.
    assert_eq!(
        lineage(&p, &["application.customer_360.valid_from"]),
        "application.customer_360.valid_from\n\
         └── foundation.customer.valid_from  (written by the materialization)\n"
    );
}

#[test]
fn an_expression_reads_both_operands() {
    let p = mart();
    assert_eq!(
        lineage(&p, &["application.customer_360.score"]),
        "application.customer_360.score\n\
         ├── aggregation.customer_balance.aum_cny\n\
         │   └── foundation.account.balance_cny\n\
         │       ├── src.core_account.balance\n\
         │       └── src.ref_fx_rate.rate_to_cny\n\
         └── aggregation.customer_balance.spread\n\
         \u{20}   └── foundation.account.balance\n\
         \u{20}       └── src.core_account.balance\n"
    );
}

#[test]
fn aggregates_read_their_arguments_and_count_star_reads_nothing() {
    let p = mart();
    assert_eq!(
        lineage(&p, &["aggregation.customer_balance.aum_cny"]),
        "aggregation.customer_balance.aum_cny\n\
         └── foundation.account.balance_cny\n\
         \u{20}   ├── src.core_account.balance\n\
         \u{20}   └── src.ref_fx_rate.rate_to_cny\n"
    );
    assert_eq!(
        lineage(&p, &["application.customer_360.accounts"]),
        "application.customer_360.accounts\n\
         └── aggregation.customer_balance.accounts  (no upstream column: a constant, $biz_date or a row count)\n"
    );
    assert_eq!(
        lineage(&p, &["aggregation.customer_balance.customer_id"]),
        "aggregation.customer_balance.customer_id\n\
         └── foundation.account.customer_id\n\
         \u{20}   └── src.core_account.cust_id\n"
    );
}

#[test]
fn joins_and_ctes_give_values_from_both_sides_and_keys_only_as_filters() {
    let p = mart();
    // balance_cny multiplies a column of the CTE by one of the joined rate table.
    assert_eq!(
        lineage(&p, &["foundation.account.balance_cny"]),
        "foundation.account.balance_cny\n\
         ├── src.core_account.balance\n\
         └── src.ref_fx_rate.rate_to_cny\n"
    );
    // cust_id feeds customer_balance.customer_id, which customer_360 only joins on.
    assert_eq!(
        lineage(&p, &["src.core_account.cust_id", "--downstream"]),
        "src.core_account.cust_id\n\
         └── foundation.account.customer_id\n\
         \u{20}   └── aggregation.customer_balance.customer_id\n"
    );
}

#[test]
fn a_case_reads_its_conditions_and_results() {
    let p = mart();
    assert_eq!(
        lineage(&p, &["foundation.account.state"]),
        "foundation.account.state\n\
         ├── src.core_account.balance\n\
         └── src.core_account.status\n"
    );
}

#[test]
fn a_window_function_reads_its_partition_and_order() {
    let p = mart();
    assert_eq!(
        lineage(&p, &["application.aum_rank.branch_rank"]),
        "application.aum_rank.branch_rank\n\
         ├── application.customer_360.aum_cny\n\
         │   └── aggregation.customer_balance.aum_cny\n\
         │       └── foundation.account.balance_cny\n\
         │           ├── src.core_account.balance\n\
         │           └── src.ref_fx_rate.rate_to_cny\n\
         └── application.customer_360.branch_id\n\
         \u{20}   └── foundation.customer.branch_id\n\
         \u{20}       └── src.core_customer.branch_id\n"
    );
}

#[test]
fn downstream_reaches_the_application_layer() {
    let p = mart();
    assert_eq!(
        lineage(&p, &["src.core_account.balance", "--downstream"]),
        "src.core_account.balance\n\
         ├── foundation.account.balance\n\
         │   └── aggregation.customer_balance.spread\n\
         │       └── application.customer_360.score\n\
         ├── foundation.account.balance_cny\n\
         │   └── aggregation.customer_balance.aum_cny\n\
         │       ├── application.customer_360.aum_cny\n\
         │       │   └── application.aum_rank.branch_rank\n\
         │       └── application.customer_360.score\n\
         └── foundation.account.state\n"
    );
    let json: serde_json::Value = serde_json::from_str(&lineage(
        &p,
        &["src.ref_fx_rate.rate_to_cny", "--downstream", "--format", "json"],
    ))
    .unwrap();
    assert_eq!(
        json,
        serde_json::json!({"column": "src.ref_fx_rate.rate_to_cny", "downstream": [
            {"column": "foundation.account.balance_cny", "downstream": [
                {"column": "aggregation.customer_balance.aum_cny", "downstream": [
                    {"column": "application.customer_360.aum_cny", "downstream": [
                        {"column": "application.aum_rank.branch_rank", "downstream": []}
                    ]},
                    {"column": "application.customer_360.score", "downstream": []}
                ]}
            ]}
        ]})
    );
}

#[test]
fn the_manifest_carries_column_lineage_and_filters() {
    let p = mart();
    let r = p.run(&["compile", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let model = |name: &str| {
        m["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()
            .clone()
    };
    let c360 = model("application.customer_360");
    let columns: Vec<(String, serde_json::Value)> = c360["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["lineage"].clone()))
        .collect();
    assert_eq!(
        serde_json::json!(columns),
        serde_json::json!([
            ["customer_id", ["foundation.customer.customer_id"]],
            ["customer_name", ["foundation.customer.customer_name"]],
            ["branch_id", ["foundation.customer.branch_id"]],
            ["row_hash", ["foundation.customer.row_hash"]],
            ["valid_from", ["foundation.customer.valid_from"]],
            ["valid_to", ["foundation.customer.valid_to"]],
            ["is_current", ["foundation.customer.is_current"]],
            ["aum_cny", ["aggregation.customer_balance.aum_cny"]],
            ["accounts", ["aggregation.customer_balance.accounts"]],
            [
                "score",
                [
                    "aggregation.customer_balance.aum_cny",
                    "aggregation.customer_balance.spread"
                ]
            ]
        ])
    );
    // Join keys and WHERE columns decide rows, not values.
    assert_eq!(
        c360["filtered_by"],
        serde_json::json!([
            "aggregation.customer_balance.customer_id",
            "foundation.customer.customer_id",
            "foundation.customer.is_current"
        ])
    );
    assert_eq!(
        model("foundation.account")["filtered_by"],
        serde_json::json!([
            "src.core_account.biz_date",
            "src.core_account.currency",
            "src.ref_fx_rate.biz_date",
            "src.ref_fx_rate.currency"
        ])
    );
    // The scd2 model's own columns: its SQL's, then the ones the materialization writes.
    let customer = model("foundation.customer");
    assert_eq!(
        customer["columns"][0]["lineage"],
        serde_json::json!(["src.core_customer.cust_id"])
    );
    assert_eq!(customer["columns"][4]["name"], "valid_from");
    assert_eq!(customer["columns"][4]["lineage"], serde_json::json!([]));
    // Source columns have no lineage field: they are where lineage ends.
    assert!(m["sources"][0]["columns"][0].get("lineage").is_none());
}

#[test]
fn an_unknown_column_is_a_usage_error_with_the_closest_names() {
    let p = mart();
    let r: Ran = p.run(&["lineage", "application.customer_360.scroe"]);
    assert_eq!(r.code, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "error: application.customer_360 has no column 'scroe'; did you mean 'score'?\n"
    );
    let r = p.run(&["lineage", "application.customer_36.score"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: unknown table 'application.customer_36'; did you mean 'application.customer_360'?\n"
    );
    let r = p.run(&["lineage", "aum_cny"]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: 'aum_cny': name a column as layer.table.column, e.g. application.customer_360.aum_cny; \
         did you mean 'aggregation.customer_balance.aum_cny' or 'application.customer_360.aum_cny'?\n"
    );
}

#[test]
fn sample_mart_aum_reaches_account_balances_and_fx_rates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = TempProject::new(&[]);
    let r = lakemart(
        root,
        &scratch.lakehouse(),
        &["lineage", "application.customer_360.aum_cny"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    // aum_cny = customer_balance.aum_cny = sum of deposit agreements' balance_cny,
    // the agreement balance times the day's rate (sql/foundation/agreement/agreement.sql).
    assert_eq!(
        r.stdout,
        "application.customer_360.aum_cny\n\
         └── aggregation.customer_balance.aum_cny\n\
         \u{20}   ├── foundation.agreement.agreement_type  (no upstream column: a constant, $biz_date or a row count)\n\
         \u{20}   └── foundation.agreement.balance_cny\n\
         \u{20}       ├── foundation.fx_rate.rate_to_cny\n\
         \u{20}       │   └── src.ref_fx_rate.rate_to_cny\n\
         \u{20}       ├── src.card_card_account.balance\n\
         \u{20}       ├── src.core_account.balance\n\
         \u{20}       └── src.loan_loan_contract.outstanding\n"
    );
    assert!(r.stdout.contains("src.core_account.balance\n"));
    assert!(r.stdout.contains("src.ref_fx_rate.rate_to_cny\n"));
}
