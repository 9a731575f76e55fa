-- foundation.customer_xref: Cross-reference of the golden customer to every source-system key: one row per customer × source system × source key on the business date. Systems keyed by customer id link directly; ins, bureau, pension and sscard link through the certificate number of foundation.customer.
WITH by_cert AS (
    SELECT customer_id, cert_no FROM foundation.customer
),
x AS (
    SELECT cust_id AS customer_id, 'core' AS source_system, cust_id AS source_key, 'cust_id' AS key_type FROM src.core_customer WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'crm' AS source_system, cust_id AS source_key, 'cust_id' AS key_type FROM src.crm_crm_customer WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'ebank' AS source_system, user_id AS source_key, 'user_id' AS key_type FROM src.ebank_eb_user WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'mobile' AS source_system, user_id AS source_key, 'user_id' AS key_type FROM src.mobile_mb_user WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'wealth' AS source_system, wm_acct AS source_key, 'wm_acct' AS key_type FROM src.wealth_wm_account WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'sec' AS source_system, link_id AS source_key, 'link_id' AS key_type FROM src.sec_sec_link WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'aml' AS source_system, cust_id AS source_key, 'cust_id' AS key_type FROM src.aml_aml_risk WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'loyalty' AS source_system, cust_id AS source_key, 'cust_id' AS key_type FROM src.loyalty_points_acct WHERE biz_date = $biz_date
    UNION ALL SELECT cust_id AS customer_id, 'risk' AS source_system, cust_id AS source_key, 'cust_id' AS key_type FROM src.risk_rating WHERE biz_date = $biz_date
    UNION ALL SELECT c.customer_id, 'ins' AS source_system, i.holder_cert_no AS source_key, 'cert_no' AS key_type FROM (SELECT DISTINCT holder_cert_no FROM src.ins_policy WHERE biz_date = $biz_date) i JOIN by_cert c ON c.cert_no = i.holder_cert_no
    UNION ALL SELECT c.customer_id, 'bureau', b.report_no, 'report_no' FROM src.bureau_credit_report b JOIN by_cert c ON c.cert_no = b.cert_no WHERE b.biz_date = $biz_date
    UNION ALL SELECT c.customer_id, 'pension', p.pension_acct, 'pension_acct' FROM src.pension_pension_acct p JOIN by_cert c ON c.cert_no = p.cert_no WHERE p.biz_date = $biz_date
    UNION ALL SELECT c.customer_id, 'sscard', s.sscard_no, 'sscard_no' FROM src.sscard_sscard s JOIN by_cert c ON c.cert_no = s.cert_no WHERE s.biz_date = $biz_date
)
SELECT
    x.customer_id AS customer_id,
    x.source_system AS source_system,
    x.source_key AS source_key,
    x.key_type AS key_type,
    CASE WHEN x.key_type IN ('cert_no', 'report_no', 'pension_acct', 'sscard_no') THEN 'CERT_NO' ELSE 'CUSTOMER_ID' END AS match_method,
    g.customer_id IS NOT NULL AS is_golden_customer,
    $biz_date AS biz_date
FROM x
LEFT JOIN by_cert g ON g.customer_id = x.customer_id
WHERE x.customer_id IS NOT NULL AND x.source_key IS NOT NULL
