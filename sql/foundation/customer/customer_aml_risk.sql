-- foundation.customer_aml_risk: AML risk classification per customer (latest record; ingest dedups on update_ts) with the alerts of the last 30 and 365 days from all alert partitions up to the business date
WITH al AS (
    SELECT cust_id,
           COUNT(CASE WHEN alert_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS alert_cnt_30d,
           COUNT(CASE WHEN alert_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS alert_cnt_365d,
           SUM(CASE WHEN alert_date > $biz_date - INTERVAL '30' DAY THEN amount END) AS alert_amount_30d,
           MAX(alert_date) AS last_alert_date
    FROM src.aml_aml_alert
    WHERE biz_date <= $biz_date AND alert_date <= $biz_date
    GROUP BY cust_id
)
SELECT
    r.cust_id AS customer_id,
    r.risk_level AS risk_level,
    CASE r.risk_level WHEN 'L' THEN 1 WHEN 'M' THEN 2 WHEN 'H' THEN 3 END AS risk_level_rank,
    r.risk_level = 'H' AS is_high_risk,
    r.pep AS is_pep,
    r.review_date AS review_date,
    CAST($biz_date - r.review_date AS INT) AS days_since_review,
    CASE r.risk_level WHEN 'H' THEN $biz_date - r.review_date > 365 WHEN 'M' THEN $biz_date - r.review_date > 730 ELSE $biz_date - r.review_date > 1095 END AS is_review_overdue,
    CAST(COALESCE(al.alert_cnt_30d, 0) AS INT) AS alert_cnt_30d,
    CAST(COALESCE(al.alert_cnt_365d, 0) AS INT) AS alert_cnt_365d,
    CAST(COALESCE(al.alert_amount_30d, 0) AS DECIMAL(18,2)) AS alert_amount_cny_30d,
    al.last_alert_date AS last_alert_date,
    r.update_ts AS update_ts
FROM src.aml_aml_risk r
LEFT JOIN al ON al.cust_id = r.cust_id
WHERE r.biz_date = $biz_date
