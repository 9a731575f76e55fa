//! Issue 2: the sample mart (this repository's own project and data-samples/)
//! builds both business dates, and `application.customer_360` holds the values
//! that `data-samples/expected_values.py` computes from the extract files in
//! plain Python, independently of the models' SQL.

use std::path::Path;

use crate::common::{TempProject, lakemart};

fn query_csv(lh: &Path, sql: &str) -> String {
    let r = lakemart(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        lh,
        &["query", sql, "--format", "csv"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[test]
fn sample_mart_builds_with_hand_computed_customer_360_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = TempProject::new(&[]);
    let lh = scratch.lakehouse();

    let first = lakemart(root, &lh, &["run", "--date", "2024-06-29"]);
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains("90 succeeded, 0 failed, 0 skipped"),
        "{}",
        first.stdout
    );
    // C000042 turns 40 on 2024-06-30.
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, age FROM application.customer_360 WHERE customer_id = 'C000042'"
        ),
        "customer_id,age\nC000042,39\n"
    );

    let second = lakemart(root, &lh, &["run", "--date", "2024-06-30"]);
    assert_eq!(second.code, 0, "{}\n{}", second.stdout, second.stderr);
    for model in [
        "foundation.customer",
        "foundation.agreement",
        "aggregation.customer_balance",
        "application.customer_360",
    ] {
        assert!(
            second.stdout.contains(&format!("{model} ")),
            "summary lacks {model}:\n{}",
            second.stdout
        );
    }

    let named = query_csv(
        &lh,
        "SELECT customer_id, age, aum_cny, loan_balance_cny, card_balance_cny, net_position_cny, \
                deposit_count, card_count, loan_count, txn_count_30d, txn_amount_cny_30d, \
                debit_amount_cny_30d, credit_amount_cny_30d, mobile_login_count_30d, last_txn_date, \
                days_since_last_txn, value_segment \
         FROM application.customer_360 WHERE customer_id IN ('C000018', 'C000042', 'C000137') ORDER BY customer_id",
    );
    assert_eq!(
        named,
        "customer_id,age,aum_cny,loan_balance_cny,card_balance_cny,net_position_cny,deposit_count,card_count,loan_count,\
txn_count_30d,txn_amount_cny_30d,debit_amount_cny_30d,credit_amount_cny_30d,mobile_login_count_30d,last_txn_date,\
days_since_last_txn,value_segment\n\
C000018,41,8116321.33,0.00,1036.58,8115284.75,5,1,0,4,589.38,589.38,0.00,0,2024-06-30,0,PRIVATE\n\
C000042,40,237525.65,1993618.93,13347.27,-1769440.55,2,1,1,8,35716.14,17156.14,18560.00,4,2024-06-30,0,AFFLUENT\n\
C000137,29,821.70,0.00,0.00,821.70,1,0,0,0,0.00,0.00,0.00,0,,,MASS\n"
    );

    assert_eq!(
        query_csv(
            &lh,
            "SELECT count(*) AS customers, sum(aum_cny) AS aum FROM application.customer_360"
        ),
        "customers,aum\n200,63521230.12\n"
    );
    // Money stays decimal all the way up.
    let manifest = lakemart(root, &lh, &["compile", "--format", "json"]);
    let m: serde_json::Value = serde_json::from_str(&manifest.stdout).unwrap();
    let c360 = m["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["name"] == "application.customer_360")
        .unwrap();
    let aum = c360["columns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "aum_cny")
        .unwrap();
    assert_eq!(aum["type"], "decimal(18,2)");
    assert!(!aum["description"].as_str().unwrap().is_empty());
}

#[test]
fn rerunning_a_date_leaves_the_mart_identical() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = TempProject::new(&[]);
    let lh = scratch.lakehouse();
    let all = "SELECT * FROM application.customer_360 ORDER BY customer_id";
    assert_eq!(
        lakemart(root, &lh, &["run", "--from", "2024-06-29", "--to", "2024-06-30"]).code,
        0
    );
    let before = query_csv(&lh, all);
    let staged = query_csv(&lh, "SELECT count(*) AS n FROM src.core_transaction");
    assert_eq!(lakemart(root, &lh, &["run", "--date", "2024-06-30"]).code, 0);
    assert_eq!(query_csv(&lh, all), before);
    assert_eq!(query_csv(&lh, "SELECT count(*) AS n FROM src.core_transaction"), staged);
}
