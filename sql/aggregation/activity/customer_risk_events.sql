-- aggregation.customer_risk_events: AML alerts and bureau enquiries per customer
WITH a AS (
    SELECT a.customer_id,
        COUNT(CASE WHEN a.alert_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS aml_alert_cnt_1m,
        COUNT(CASE WHEN a.alert_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS aml_alert_cnt_3m,
        COUNT(CASE WHEN a.alert_date > $biz_date - INTERVAL '180' DAY THEN 1 END) AS aml_alert_cnt_6m,
        COUNT(CASE WHEN a.alert_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS aml_alert_cnt_12m,
        SUM(CASE WHEN a.alert_date > $biz_date - INTERVAL '365' DAY THEN a.amount_cny ELSE 0 END) AS aml_alert_amount_cny_12m,
        MAX(a.alert_date) AS last_aml_alert_date
    FROM foundation.aml_alert a
    GROUP BY a.customer_id
),
q AS (
    SELECT q.customer_id,
        COUNT(CASE WHEN q.query_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS bureau_query_cnt_1m,
        COUNT(CASE WHEN q.query_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS bureau_query_cnt_3m,
        COUNT(CASE WHEN q.query_date > $biz_date - INTERVAL '180' DAY THEN 1 END) AS bureau_query_cnt_6m,
        COUNT(CASE WHEN q.query_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS bureau_query_cnt_12m,
        COUNT(CASE WHEN q.reason = '01' AND q.query_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS loan_query_cnt_12m,
        COUNT(CASE WHEN q.reason = '02' AND q.query_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS card_query_cnt_12m,
        COUNT(CASE WHEN q.reason = '03' AND q.query_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS post_loan_query_cnt_12m,
        MAX(q.query_date) AS last_bureau_query_date
    FROM foundation.bureau_query q
    WHERE q.customer_id IS NOT NULL
    GROUP BY q.customer_id
)
SELECT
    c.customer_id AS customer_id,
    CAST(COALESCE(a.aml_alert_cnt_1m, 0) AS INT) AS aml_alert_cnt_1m,
    CAST(COALESCE(q.bureau_query_cnt_1m, 0) AS INT) AS bureau_query_cnt_1m,
    CAST(COALESCE(a.aml_alert_cnt_3m, 0) AS INT) AS aml_alert_cnt_3m,
    CAST(COALESCE(q.bureau_query_cnt_3m, 0) AS INT) AS bureau_query_cnt_3m,
    CAST(COALESCE(a.aml_alert_cnt_6m, 0) AS INT) AS aml_alert_cnt_6m,
    CAST(COALESCE(q.bureau_query_cnt_6m, 0) AS INT) AS bureau_query_cnt_6m,
    CAST(COALESCE(a.aml_alert_cnt_12m, 0) AS INT) AS aml_alert_cnt_12m,
    CAST(COALESCE(q.bureau_query_cnt_12m, 0) AS INT) AS bureau_query_cnt_12m,
    CAST(COALESCE(q.loan_query_cnt_12m, 0) AS INT) AS loan_bureau_query_cnt_12m,
    CAST(COALESCE(q.card_query_cnt_12m, 0) AS INT) AS card_bureau_query_cnt_12m,
    CAST(COALESCE(q.post_loan_query_cnt_12m, 0) AS INT) AS post_loan_bureau_query_cnt_12m,
    CAST(COALESCE(a.aml_alert_amount_cny_12m, 0) AS DECIMAL(18,2)) AS aml_alert_amount_cny_12m,
    a.last_aml_alert_date AS last_aml_alert_date,
    q.last_bureau_query_date AS last_bureau_query_date,
    CAST($biz_date - q.last_bureau_query_date AS INT) AS days_since_last_bureau_query
FROM foundation.customer c
LEFT JOIN a ON a.customer_id = c.customer_id
LEFT JOIN q ON q.customer_id = c.customer_id
