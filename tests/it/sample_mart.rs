//! The reference customer mart (this repository's own project and its
//! `data-samples/`) builds both business dates with every model, and holds the
//! values computed by hand for a few named customers.
//!
//! Where the numbers come from: `data-samples/expected_values.py` reads the raw
//! extract files with its own reader, following only the layouts of
//! `models/sources/*.toml` (delimiters, quoting, GBK, fixed byte positions,
//! Parquet, trim, null tokens, code maps, checks, dedup), and computes the
//! values from the written model descriptions (`models/<layer>/*.toml`,
//! `models/application/tags.toml`, `scores.toml`) in exact decimals. It never
//! reads the models' SQL, so these tests compare two independent derivations.
//! Regenerate with `python3 data-samples/expected_values.py` (pyarrow for the
//! Parquet extracts); the customers and why each was chosen are listed there.
//!
//! The sample mart is built once (`run --date 2024-06-29`, then `2024-06-30`;
//! `common::sample_mart`) and every test gets its own copy.

use std::path::{Path, PathBuf};

use crate::common::{TempProject, lakemart};

const FIRST: &str = "2024-06-29";
const LAST: &str = "2024-06-30";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn query_csv(lh: &Path, sql: &str) -> String {
    let r = lakemart(root(), lh, &["query", sql, "--format", "csv"]);
    assert_eq!(r.code, 0, "{sql}\n{}", r.stderr);
    r.stdout
}

/// Models plus staged source tables of the manifest: what one business date runs.
fn manifest_node_count(lh: &Path) -> usize {
    let r = lakemart(root(), lh, &["compile", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    m["models"].as_array().unwrap().len() + m["sources"].as_array().unwrap().len()
}

/// A copy of the sample mart built for both business dates.
fn build_sample_mart() -> (TempProject, PathBuf) {
    let scratch = crate::common::sample_mart(&[FIRST, LAST]);
    let lh = scratch.lakehouse();
    (scratch, lh)
}

/// Each business date runs every model and source table of the manifest, and
/// every one succeeds, data tests included.
#[test]
fn every_model_and_source_succeeds_on_both_dates() {
    let (scratch, lh) = build_sample_mart();
    let n = manifest_node_count(&lh);
    assert!(
        n >= 133 + 80,
        "the reference mart has at least 133 models besides its 80 source tables: {n}"
    );
    for date in [FIRST, LAST] {
        let out = std::fs::read_to_string(scratch.path().join(format!("run-{date}.out"))).unwrap();
        let summary = out.lines().find(|l| l.contains(" succeeded, ")).unwrap_or_default();
        assert!(
            summary.starts_with(&format!("{n} succeeded, 0 failed, 0 skipped")),
            "{date}: expected all {n} models and sources to succeed: {summary}\n{out}"
        );
    }
}

/// Every foundation and application model declares its key: a `not_null` and a
/// `unique` data test (run with the model, so the runs above passing means the
/// tests pass on both dates).
#[test]
fn every_foundation_and_application_model_tests_its_key() {
    let mut missing = Vec::new();
    let mut models = 0;
    for layer in ["foundation", "application"] {
        for entry in std::fs::read_dir(root().join("models").join(layer)).unwrap() {
            let path = entry.unwrap().path();
            let doc: toml::Value = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for m in doc.get("models").and_then(|m| m.as_array()).into_iter().flatten() {
                models += 1;
                let kinds: Vec<&str> = m
                    .get("tests")
                    .and_then(|t| t.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("type").and_then(|k| k.as_str()))
                    .collect();
                if !(kinds.contains(&"not_null") && kinds.contains(&"unique")) {
                    missing.push(format!("{layer}.{} ({})", m["name"].as_str().unwrap(), path.display()));
                }
            }
        }
    }
    assert!(models >= 100, "{models} models");
    assert!(
        missing.is_empty(),
        "models without a not_null and a unique test: {missing:?}"
    );
}

/// foundation.customer: the golden record takes each attribute from the best
/// source by the declared priority (core > crm > ebank/wealth/sec/fx >
/// ins/bureau/pension/sscard). C000000009's core mobile fails the mobile check,
/// so its mobile is CRM's; C000000057's CRM row is rejected by ingest (bad
/// resident-ID check character), so it has no CRM attributes; C000000138 is
/// also held by ins, pension and sscard, which carry only the resident ID.
#[test]
fn golden_customer_records_take_each_attribute_from_the_best_source() {
    let (_scratch, lh) = build_sample_mart();
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, customer_name, cert_type, cert_no, gender, birth_date, age, mobile, open_date, tenure_years, branch_id, branch_name, city, region, segment_code, customer_id_source, master_source, source_systems, source_count, is_in_core, is_in_crm, email, address, postcode, vip_level, rm_id, kyc_status, kyc_doc_count, aml_risk_level, is_pep, wealth_risk_level, has_ebank FROM foundation.customer WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,customer_name,cert_type,cert_no,gender,birth_date,age,mobile,open_date,tenure_years,branch_id,branch_name,city,region,segment_code,customer_id_source,master_source,source_systems,source_count,is_in_core,is_in_crm,email,address,postcode,vip_level,rm_id,kyc_status,kyc_doc_count,aml_risk_level,is_pep,wealth_risk_level,has_ebank\n\
C000000009,冯玲,01,420106199905065566,F,1999-05-06,25,15246061429,2009-01-16,15,B028,武汉分行营业部,武汉,华中,MASS,core,core,\"core,crm,bureau\",3,true,true,feng77715@foxmail.com,湖北省武汉市解放路613号,289607,0,E00272,VERIFIED,1,M,false,,false\n\
C000000035,马梓芳,01,12010119890919494X,F,1989-09-19,34,13184975850,2014-12-07,9,B057,合肥城东支行,合肥,华东,MASS,core,core,\"core,crm,ebank,wealth,bureau\",5,true,true,ma7664@qq.com,安徽省合肥市滨江路831号,844628,0,E00564,VERIFIED,2,M,false,R3,true\n\
C000000057,彭勇,01,440106197210122792,M,1972-10-12,51,15919385064,2018-04-12,6,B050,青岛高新支行,青岛,华东,MASS,core,core,\"core,ins,sscard\",3,true,false,peng98988@foxmail.com,山东省青岛市解放路285号,759324,,,VERIFIED,2,L,false,,false\n\
C000000138,沈鑫,01,610113198708193491,M,1987-08-19,36,19944471438,2024-04-29,0,B056,合肥高新支行,合肥,华东,MASS,core,core,\"core,crm,ebank,ins,pension,sscard\",6,true,true,shen48134@outlook.com,安徽省合肥市中山路672号,822560,0,E00553,VERIFIED,1,L,false,,true\n\
C000000148,程凯,01,510107198107158470,M,1981-07-15,42,13054940567,2024-05-09,0,B023,成都高新支行,成都,西南,MASS,core,core,\"core,crm,ebank,sec,bureau\",5,true,true,cheng44797@outlook.com,四川省成都市人民路295号,650598,0,E00225,UNVERIFIED,1,L,false,,true\n\
C000000189,宋勇刚,01,410105197306077074,M,1973-06-07,51,15967821783,2024-06-19,0,B043,郑州分行营业部,郑州,华中,MASS,core,core,\"core,crm,bureau,pension,sscard\",5,true,true,song67667@foxmail.com,河南省郑州市人民路443号,492129,0,E00426,VERIFIED,2,L,false,,false\n"
    );
}

/// aggregation.customer_balance (deposits only), aggregation.customer_aum (every
/// AUM family) and their columns on customer_360: foreign-currency balances are
/// converted at the business date's closing rate, per account, to the cent.
#[test]
fn aum_and_its_split_by_family_in_cny() {
    let (_scratch, lh) = build_sample_mart();
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, deposit_balance_cny, time_deposit_balance_cny, fx_deposit_balance_cny, loan_balance_cny, card_balance_cny, aum_cny, deposit_count, card_count, loan_count FROM aggregation.customer_balance WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,deposit_balance_cny,time_deposit_balance_cny,fx_deposit_balance_cny,loan_balance_cny,card_balance_cny,aum_cny,deposit_count,card_count,loan_count\n\
C000000009,4254505.94,3763300.00,213754.77,0.00,0.00,4254505.94,55,0,0\n\
C000000035,3240744.24,3039700.00,61158.63,0.00,1230.32,3240744.24,35,1,0\n\
C000000057,4571604.66,3711759.97,1128491.50,0.00,9558.72,4571604.66,51,1,0\n\
C000000138,4672128.87,4334000.00,29369.36,0.00,2095.87,4672128.87,56,1,0\n\
C000000148,9595674.57,9434343.76,6854432.24,1641223.73,7115.64,9595674.57,44,2,2\n\
C000000189,329432.18,328500.00,0.00,2299495.88,872.28,329432.18,2,1,2\n"
    );
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, deposit_demand_cny, deposit_time_cny, deposit_cd_cny, deposit_fx_cny, deposit_cny, wealth_cny, fund_cny, insurance_premium_cny, banca_premium_cny, metal_cny, pension_cny, ecny_cny, insurance_cny, investment_cny, aum_cny, aum_family_cnt, aum_tier FROM aggregation.customer_aum WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,deposit_demand_cny,deposit_time_cny,deposit_cd_cny,deposit_fx_cny,deposit_cny,wealth_cny,fund_cny,insurance_premium_cny,banca_premium_cny,metal_cny,pension_cny,ecny_cny,insurance_cny,investment_cny,aum_cny,aum_family_cnt,aum_tier\n\
C000000009,491205.94,1613300.00,2150000.00,213754.77,4254505.94,0.00,0.00,0.00,0.00,0.00,0.00,308.90,0.00,0.00,4254814.84,2,WEALTH\n\
C000000035,201044.24,2199700.00,840000.00,61158.63,3240744.24,25939.95,784963.30,0.00,0.00,0.00,0.00,80.04,0.00,810903.25,4051727.53,4,WEALTH\n\
C000000057,859844.69,3231759.97,480000.00,1128491.50,4571604.66,0.00,0.00,15085.66,0.00,0.00,0.00,0.00,15085.66,0.00,4586690.32,2,WEALTH\n\
C000000138,338128.87,2274000.00,2060000.00,29369.36,4672128.87,0.00,0.00,1407.82,0.00,0.00,14661.34,77.12,1407.82,0.00,4688275.15,4,WEALTH\n\
C000000148,161330.81,8544343.76,890000.00,6854432.24,9595674.57,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,0.00,9595674.57,1,PRIVATE\n\
C000000189,932.18,328500.00,0.00,0.00,329432.18,0.00,0.00,0.00,0.00,0.00,11232.51,0.00,0.00,0.00,340664.69,2,AFFLUENT\n"
    );
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, deposit_balance_cny, time_deposit_balance_cny, fx_deposit_balance_cny, loan_balance_cny, card_balance_cny, aum_cny, total_aum_cny, net_position_cny, product_count, has_card, has_loan, value_segment FROM application.customer_360 WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,deposit_balance_cny,time_deposit_balance_cny,fx_deposit_balance_cny,loan_balance_cny,card_balance_cny,aum_cny,total_aum_cny,net_position_cny,product_count,has_card,has_loan,value_segment\n\
C000000009,4254505.94,3763300.00,213754.77,0.00,0.00,4254505.94,4254814.84,4254505.94,55,false,false,WEALTH\n\
C000000035,3240744.24,3039700.00,61158.63,0.00,1230.32,3240744.24,4051727.53,3239513.92,36,true,false,WEALTH\n\
C000000057,4571604.66,3711759.97,1128491.50,0.00,9558.72,4571604.66,4586690.32,4562045.94,52,true,false,WEALTH\n\
C000000138,4672128.87,4334000.00,29369.36,0.00,2095.87,4672128.87,4688275.15,4670033.00,57,true,false,WEALTH\n\
C000000148,9595674.57,9434343.76,6854432.24,1641223.73,7115.64,9595674.57,9595674.57,7947335.20,48,true,true,PRIVATE\n\
C000000189,329432.18,328500.00,0.00,2299495.88,872.28,329432.18,340664.69,-1970935.98,5,true,true,AFFLUENT\n"
    );

    // Money stays decimal all the way up.
    let r = lakemart(root(), &lh, &["compile", "--format", "json"]);
    let m: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
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
}

/// aggregation.customer_txn_channel_activity over the 90 days ending on
/// 2024-06-30 (every money movement of foundation.transaction_all: core
/// postings, card purchases, approved ATM withdrawals and deposits, teller
/// cash and transfers, succeeded payments, …), and the 30-day deposit and card
/// activity of aggregation.customer_txn_summary.
#[test]
fn three_month_transaction_totals_by_channel() {
    let (_scratch, lh) = build_sample_mart();
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, txn_cnt_3m, txn_amount_cny_3m, debit_txn_cnt_3m, debit_txn_amount_cny_3m, credit_txn_cnt_3m, credit_txn_amount_cny_3m, net_flow_cny_3m, max_txn_amount_cny_3m FROM aggregation.customer_txn_channel_activity WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,txn_cnt_3m,txn_amount_cny_3m,debit_txn_cnt_3m,debit_txn_amount_cny_3m,credit_txn_cnt_3m,credit_txn_amount_cny_3m,net_flow_cny_3m,max_txn_amount_cny_3m\n\
C000000009,3,18691.14,2,7431.55,1,11259.59,3828.04,11259.59\n\
C000000035,4,210679.00,3,106278.42,1,104400.58,-1877.84,104400.58\n\
C000000057,9,42834.89,8,42432.85,1,402.04,-42030.81,15481.21\n\
C000000138,9,109797.32,4,105281.79,5,4515.53,-100766.26,93784.92\n\
C000000148,6,129563.22,5,120273.83,1,9289.39,-110984.44,83615.40\n\
C000000189,2,2112.36,2,2112.36,0,0.00,-2112.36,1951.62\n"
    );
    // Per channel, for the customers whose movements all have a documented
    // channel (e-CNY, utility, salary, acquiring and ETC movements have none).
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, mob_txn_cnt_3m, mob_txn_amount_cny_3m, web_txn_cnt_3m, web_txn_amount_cny_3m, atm_txn_cnt_3m, atm_txn_amount_cny_3m, cnt_txn_cnt_3m, cnt_txn_amount_cny_3m, pos_txn_cnt_3m, pos_txn_amount_cny_3m, sys_txn_cnt_3m, sys_txn_amount_cny_3m FROM aggregation.customer_txn_channel_activity WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,mob_txn_cnt_3m,mob_txn_amount_cny_3m,web_txn_cnt_3m,web_txn_amount_cny_3m,atm_txn_cnt_3m,atm_txn_amount_cny_3m,cnt_txn_cnt_3m,cnt_txn_amount_cny_3m,pos_txn_cnt_3m,pos_txn_amount_cny_3m,sys_txn_cnt_3m,sys_txn_amount_cny_3m\n\
C000000009,0,0.00,0,0.00,1,2162.50,1,11259.59,0,0.00,1,5269.05\n\
C000000035,4,210679.00,0,0.00,0,0.00,0,0.00,0,0.00,0,0.00\n\
C000000057,1,15481.21,1,12807.14,1,402.04,0,0.00,3,846.21,0,0.00\n\
C000000148,1,32.21,2,92904.79,0,0.00,0,0.00,1,1861.12,0,0.00\n\
C000000189,0,0.00,0,0.00,0,0.00,0,0.00,1,160.74,0,0.00\n"
    );
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, txn_count_30d, txn_amount_cny_30d, debit_amount_cny_30d, credit_amount_cny_30d, card_txn_count_30d, card_spend_cny_30d, mobile_txn_count_30d, mobile_login_count_30d, last_txn_date, days_since_last_txn FROM aggregation.customer_txn_summary WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,txn_count_30d,txn_amount_cny_30d,debit_amount_cny_30d,credit_amount_cny_30d,card_txn_count_30d,card_spend_cny_30d,mobile_txn_count_30d,mobile_login_count_30d,last_txn_date,days_since_last_txn\n\
C000000009,3,18691.14,7431.55,11259.59,0,0.00,0,0,2024-06-30,0\n\
C000000035,4,210679.00,106278.42,104400.58,0,0.00,4,0,2024-06-30,0\n\
C000000057,5,29134.56,29134.56,0.00,3,846.21,1,4,2024-06-30,0\n\
C000000138,5,109316.14,105281.79,4034.35,0,0.00,2,1,2024-06-29,1\n\
C000000148,4,94798.12,85508.73,9289.39,2,1893.33,1,4,2024-06-30,0\n\
C000000189,1,160.74,160.74,0.00,1,160.74,0,0,2024-06-30,0\n"
    );
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, txn_cnt_3m, txn_amount_cny_3m, debit_txn_cnt_3m, credit_txn_amount_cny_3m, net_flow_cny_3m, txn_count_30d, is_active_30d, days_since_last_txn FROM application.customer_360 WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,txn_cnt_3m,txn_amount_cny_3m,debit_txn_cnt_3m,credit_txn_amount_cny_3m,net_flow_cny_3m,txn_count_30d,is_active_30d,days_since_last_txn\n\
C000000009,3,18691.14,2,11259.59,3828.04,3,true,0\n\
C000000035,4,210679.00,3,104400.58,-1877.84,4,true,0\n\
C000000057,9,42834.89,8,402.04,-42030.81,5,true,0\n\
C000000138,9,109797.32,4,4515.53,-100766.26,5,true,1\n\
C000000148,6,129563.22,5,9289.39,-110984.44,4,true,0\n\
C000000189,2,2112.36,2,0.00,-2112.36,1,true,0\n"
    );
}

/// The 13 tags of models/application/tags.toml: tag_* columns of customer_360
/// and the rows of application.customer_tag (flag tags only when true, as Y).
#[test]
fn tags_follow_the_rules_of_tags_toml() {
    let (_scratch, lh) = build_sample_mart();
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, tag_hnw, tag_aum_tier, tag_time_deposit_saver, tag_fx_holder, tag_new_customer, tag_life_stage, tag_dormant, tag_multi_product, tag_borrower, tag_card_spend_tier, tag_pref_channel, tag_silver_mobile, tag_net_debtor FROM application.customer_360 WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,tag_hnw,tag_aum_tier,tag_time_deposit_saver,tag_fx_holder,tag_new_customer,tag_life_stage,tag_dormant,tag_multi_product,tag_borrower,tag_card_spend_tier,tag_pref_channel,tag_silver_mobile,tag_net_debtor\n\
C000000009,false,T3,true,true,false,YOUNG,false,true,false,LOW,COUNTER,false,false\n\
C000000035,false,T3,true,true,false,ESTABLISHING,false,true,false,LOW,NONE,false,false\n\
C000000057,false,T3,true,true,false,MATURE,false,true,false,LOW,COUNTER,false,false\n\
C000000138,false,T3,true,true,true,ESTABLISHING,false,true,false,LOW,COUNTER,false,false\n\
C000000148,true,T4,true,true,true,ESTABLISHING,false,true,true,MID,COUNTER,false,false\n\
C000000189,false,T2,true,false,true,MATURE,false,true,true,LOW,COUNTER,false,true\n"
    );
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, tag_code, tag_name, category, tag_value FROM application.customer_tag WHERE biz_date = DATE '2024-06-30' AND tag_code IN ('HNW', 'AUM_TIER', 'TIME_DEPOSIT_SAVER', 'FX_HOLDER', 'NEW_CUSTOMER', 'LIFE_STAGE', 'DORMANT', 'MULTI_PRODUCT', 'BORROWER', 'CARD_SPEND_TIER', 'PREF_CHANNEL', 'SILVER_MOBILE', 'NET_DEBTOR') AND customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id, tag_code"
        ),
        "customer_id,tag_code,tag_name,category,tag_value\n\
C000000009,AUM_TIER,AUM tier,value,T3\n\
C000000009,CARD_SPEND_TIER,Card spend tier,product,LOW\n\
C000000009,FX_HOLDER,Foreign-currency holder,value,Y\n\
C000000009,LIFE_STAGE,Life stage,lifecycle,YOUNG\n\
C000000009,MULTI_PRODUCT,Multi-product holder,product,Y\n\
C000000009,PREF_CHANNEL,Preferred channel,channel,COUNTER\n\
C000000009,TIME_DEPOSIT_SAVER,Time-deposit saver,value,Y\n\
C000000035,AUM_TIER,AUM tier,value,T3\n\
C000000035,CARD_SPEND_TIER,Card spend tier,product,LOW\n\
C000000035,FX_HOLDER,Foreign-currency holder,value,Y\n\
C000000035,LIFE_STAGE,Life stage,lifecycle,ESTABLISHING\n\
C000000035,MULTI_PRODUCT,Multi-product holder,product,Y\n\
C000000035,PREF_CHANNEL,Preferred channel,channel,NONE\n\
C000000035,TIME_DEPOSIT_SAVER,Time-deposit saver,value,Y\n\
C000000057,AUM_TIER,AUM tier,value,T3\n\
C000000057,CARD_SPEND_TIER,Card spend tier,product,LOW\n\
C000000057,FX_HOLDER,Foreign-currency holder,value,Y\n\
C000000057,LIFE_STAGE,Life stage,lifecycle,MATURE\n\
C000000057,MULTI_PRODUCT,Multi-product holder,product,Y\n\
C000000057,PREF_CHANNEL,Preferred channel,channel,COUNTER\n\
C000000057,TIME_DEPOSIT_SAVER,Time-deposit saver,value,Y\n\
C000000138,AUM_TIER,AUM tier,value,T3\n\
C000000138,CARD_SPEND_TIER,Card spend tier,product,LOW\n\
C000000138,FX_HOLDER,Foreign-currency holder,value,Y\n\
C000000138,LIFE_STAGE,Life stage,lifecycle,ESTABLISHING\n\
C000000138,MULTI_PRODUCT,Multi-product holder,product,Y\n\
C000000138,NEW_CUSTOMER,New customer,lifecycle,Y\n\
C000000138,PREF_CHANNEL,Preferred channel,channel,COUNTER\n\
C000000138,TIME_DEPOSIT_SAVER,Time-deposit saver,value,Y\n\
C000000148,AUM_TIER,AUM tier,value,T4\n\
C000000148,BORROWER,Borrower,product,Y\n\
C000000148,CARD_SPEND_TIER,Card spend tier,product,MID\n\
C000000148,FX_HOLDER,Foreign-currency holder,value,Y\n\
C000000148,HNW,High net worth,value,Y\n\
C000000148,LIFE_STAGE,Life stage,lifecycle,ESTABLISHING\n\
C000000148,MULTI_PRODUCT,Multi-product holder,product,Y\n\
C000000148,NEW_CUSTOMER,New customer,lifecycle,Y\n\
C000000148,PREF_CHANNEL,Preferred channel,channel,COUNTER\n\
C000000148,TIME_DEPOSIT_SAVER,Time-deposit saver,value,Y\n\
C000000189,AUM_TIER,AUM tier,value,T2\n\
C000000189,BORROWER,Borrower,product,Y\n\
C000000189,CARD_SPEND_TIER,Card spend tier,product,LOW\n\
C000000189,LIFE_STAGE,Life stage,lifecycle,MATURE\n\
C000000189,MULTI_PRODUCT,Multi-product holder,product,Y\n\
C000000189,NET_DEBTOR,Net debtor,risk,Y\n\
C000000189,NEW_CUSTOMER,New customer,lifecycle,Y\n\
C000000189,PREF_CHANNEL,Preferred channel,channel,COUNTER\n\
C000000189,TIME_DEPOSIT_SAVER,Time-deposit saver,value,Y\n"
    );
}

/// The VALUE and ENGAGEMENT scorecards of models/application/scores.toml: each
/// characteristic's value, bin and weighted points in application.customer_score
/// add up to the score on customer_360 (VALUE from a base of 300).
#[test]
fn scores_are_explained_characteristic_by_characteristic() {
    let (_scratch, lh) = build_sample_mart();
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, score_value, score_value_band, score_engagement, score_engagement_band FROM application.customer_360 WHERE customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id"
        ),
        "customer_id,score_value,score_value_band,score_engagement,score_engagement_band\n\
C000000009,490.00,B,70.00,MEDIUM\n\
C000000035,470.00,B,70.00,MEDIUM\n\
C000000057,470.00,B,110.00,HIGH\n\
C000000138,450.00,B,90.00,MEDIUM\n\
C000000148,510.00,A,110.00,HIGH\n\
C000000189,400.00,C,90.00,MEDIUM\n"
    );
    assert_eq!(
        query_csv(
            &lh,
            "SELECT customer_id, scorecard_code, characteristic, characteristic_value, bin_label, points, score, score_band FROM application.customer_score WHERE biz_date = DATE '2024-06-30' AND scorecard_code IN ('VALUE', 'ENGAGEMENT') AND customer_id IN ('C000000009', 'C000000035', 'C000000057', 'C000000138', 'C000000148', 'C000000189') ORDER BY customer_id, scorecard_code, characteristic"
        ),
        "customer_id,scorecard_code,characteristic,characteristic_value,bin_label,points,score,score_band\n\
C000000009,ENGAGEMENT,Card,,else,0.00,70.00,MEDIUM\n\
C000000009,ENGAGEMENT,Mobile logins,0,\"(-inf, 1)\",0.00,70.00,MEDIUM\n\
C000000009,ENGAGEMENT,Recency,0,this week,40.00,70.00,MEDIUM\n\
C000000009,ENGAGEMENT,Transactions,3,\"[1, 10)\",30.00,70.00,MEDIUM\n\
C000000009,VALUE,AUM,4254505.94,\"[500000, 6000000)\",90.00,490.00,B\n\
C000000009,VALUE,Products,55,\"[4, +inf)\",60.00,490.00,B\n\
C000000009,VALUE,Segment,MASS,else,0.00,490.00,B\n\
C000000009,VALUE,Tenure,15,\"[10, +inf)\",40.00,490.00,B\n\
C000000035,ENGAGEMENT,Card,,else,0.00,70.00,MEDIUM\n\
C000000035,ENGAGEMENT,Mobile logins,0,\"(-inf, 1)\",0.00,70.00,MEDIUM\n\
C000000035,ENGAGEMENT,Recency,0,this week,40.00,70.00,MEDIUM\n\
C000000035,ENGAGEMENT,Transactions,4,\"[1, 10)\",30.00,70.00,MEDIUM\n\
C000000035,VALUE,AUM,3240744.24,\"[500000, 6000000)\",90.00,470.00,B\n\
C000000035,VALUE,Products,36,\"[4, +inf)\",60.00,470.00,B\n\
C000000035,VALUE,Segment,MASS,else,0.00,470.00,B\n\
C000000035,VALUE,Tenure,9,\"[3, 10)\",20.00,470.00,B\n\
C000000057,ENGAGEMENT,Card,,active card,20.00,110.00,HIGH\n\
C000000057,ENGAGEMENT,Mobile logins,4,\"[1, 8)\",20.00,110.00,HIGH\n\
C000000057,ENGAGEMENT,Recency,0,this week,40.00,110.00,HIGH\n\
C000000057,ENGAGEMENT,Transactions,5,\"[1, 10)\",30.00,110.00,HIGH\n\
C000000057,VALUE,AUM,4571604.66,\"[500000, 6000000)\",90.00,470.00,B\n\
C000000057,VALUE,Products,52,\"[4, +inf)\",60.00,470.00,B\n\
C000000057,VALUE,Segment,MASS,else,0.00,470.00,B\n\
C000000057,VALUE,Tenure,6,\"[3, 10)\",20.00,470.00,B\n\
C000000138,ENGAGEMENT,Card,,else,0.00,90.00,MEDIUM\n\
C000000138,ENGAGEMENT,Mobile logins,1,\"[1, 8)\",20.00,90.00,MEDIUM\n\
C000000138,ENGAGEMENT,Recency,1,this week,40.00,90.00,MEDIUM\n\
C000000138,ENGAGEMENT,Transactions,5,\"[1, 10)\",30.00,90.00,MEDIUM\n\
C000000138,VALUE,AUM,4672128.87,\"[500000, 6000000)\",90.00,450.00,B\n\
C000000138,VALUE,Products,57,\"[4, +inf)\",60.00,450.00,B\n\
C000000138,VALUE,Segment,MASS,else,0.00,450.00,B\n\
C000000138,VALUE,Tenure,0,\"(-inf, 3)\",0.00,450.00,B\n\
C000000148,ENGAGEMENT,Card,,active card,20.00,110.00,HIGH\n\
C000000148,ENGAGEMENT,Mobile logins,4,\"[1, 8)\",20.00,110.00,HIGH\n\
C000000148,ENGAGEMENT,Recency,0,this week,40.00,110.00,HIGH\n\
C000000148,ENGAGEMENT,Transactions,4,\"[1, 10)\",30.00,110.00,HIGH\n\
C000000148,VALUE,AUM,9595674.57,\"[6000000, +inf)\",150.00,510.00,A\n\
C000000148,VALUE,Products,48,\"[4, +inf)\",60.00,510.00,A\n\
C000000148,VALUE,Segment,MASS,else,0.00,510.00,A\n\
C000000148,VALUE,Tenure,0,\"(-inf, 3)\",0.00,510.00,A\n\
C000000189,ENGAGEMENT,Card,,active card,20.00,90.00,MEDIUM\n\
C000000189,ENGAGEMENT,Mobile logins,0,\"(-inf, 1)\",0.00,90.00,MEDIUM\n\
C000000189,ENGAGEMENT,Recency,0,this week,40.00,90.00,MEDIUM\n\
C000000189,ENGAGEMENT,Transactions,1,\"[1, 10)\",30.00,90.00,MEDIUM\n\
C000000189,VALUE,AUM,329432.18,\"[50000, 500000)\",40.00,400.00,C\n\
C000000189,VALUE,Products,5,\"[4, +inf)\",60.00,400.00,C\n\
C000000189,VALUE,Segment,MASS,else,0.00,400.00,C\n\
C000000189,VALUE,Tenure,0,\"(-inf, 3)\",0.00,400.00,C\n"
    );
}

/// Re-running a business date replaces its partitions: the 360 and the staged
/// transactions are the same as after the first run.
#[test]
fn rerunning_a_date_leaves_the_mart_identical() {
    let (_scratch, lh) = build_sample_mart();
    let all = "SELECT * FROM application.customer_360 ORDER BY customer_id";
    let before = query_csv(&lh, all);
    let staged = query_csv(&lh, "SELECT count(*) AS n FROM src.core_transaction");
    let tags = query_csv(
        &lh,
        "SELECT biz_date, count(*) AS n FROM application.customer_tag GROUP BY biz_date ORDER BY biz_date",
    );
    let again = lakemart(root(), &lh, &["run", "--date", LAST]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(query_csv(&lh, all), before);
    assert_eq!(query_csv(&lh, "SELECT count(*) AS n FROM src.core_transaction"), staged);
    assert_eq!(
        query_csv(
            &lh,
            "SELECT biz_date, count(*) AS n FROM application.customer_tag GROUP BY biz_date ORDER BY biz_date",
        ),
        tags
    );
}
