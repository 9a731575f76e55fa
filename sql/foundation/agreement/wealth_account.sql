-- foundation.wealth_account: Wealth management accounts with the customer's risk assessment (latest record; ingest dedups on update_ts) and the account's holdings
WITH h AS (SELECT wm_acct, COUNT(*) AS cnt, SUM(market_value) AS mv FROM src.wealth_wm_holding WHERE biz_date = $biz_date GROUP BY wm_acct)
SELECT
    w.wm_acct AS wm_acct,
    w.cust_id AS customer_id,
    w.cert_no AS cert_no,
    w.risk_level AS risk_level,
    CAST(CASE w.risk_level WHEN 'R1' THEN 1 WHEN 'R2' THEN 2 WHEN 'R3' THEN 3 WHEN 'R4' THEN 4 WHEN 'R5' THEN 5 END AS INT) AS risk_rank,
    w.assess_date AS assess_date,
    CAST($biz_date - w.assess_date AS INT) AS assessment_age_days,
    $biz_date - w.assess_date > 365 AS is_assessment_expired,
    w.open_date AS open_date,
    CAST(COALESCE(h.cnt, 0) AS INT) AS holding_cnt,
    CAST(COALESCE(h.mv, 0) AS DECIMAL(18,2)) AS market_value_cny,
    w.update_ts AS update_ts
FROM src.wealth_wm_account w
LEFT JOIN h ON h.wm_acct = w.wm_acct
WHERE w.biz_date = $biz_date
