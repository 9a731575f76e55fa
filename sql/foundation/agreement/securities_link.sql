-- foundation.securities_link: Bank-securities links (third-party custody) with the transfers of the last 30 days
WITH t AS (SELECT cust_id, SUM(CASE WHEN direction = 'B2S' THEN amount END) AS b2s, SUM(CASE WHEN direction = 'S2B' THEN amount END) AS s2b, COUNT(*) AS cnt FROM src.sec_sec_transfer WHERE biz_date <= $biz_date AND CAST(trf_time AS DATE) > $biz_date - INTERVAL '30' DAY GROUP BY cust_id)
SELECT
    k.link_id AS link_id,
    k.cust_id AS customer_id,
    k.cert_no AS cert_no,
    k.broker AS broker,
    k.fund_acct AS fund_acct,
    k.link_date AS link_date,
    CAST($biz_date - k.link_date AS INT) AS link_age_days,
    CAST(COALESCE(t.b2s, 0) AS DECIMAL(18,2)) AS b2s_amount_cny_30d,
    CAST(COALESCE(t.s2b, 0) AS DECIMAL(18,2)) AS s2b_amount_cny_30d,
    CAST(COALESCE(t.cnt, 0) AS INT) AS transfer_cnt_30d
FROM src.sec_sec_link k
LEFT JOIN t ON t.cust_id = k.cust_id
WHERE k.biz_date = $biz_date
