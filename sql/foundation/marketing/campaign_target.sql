-- foundation.campaign_target: target-list lines from the snapshot of the business date
SELECT
    t.target_id,
    t.campaign_id,
    t.cust_id AS customer_id,
    CAST(t.score AS DECIMAL(5,4)) AS score,
    t.list_date
FROM src.mkt_target t
WHERE t.biz_date = $biz_date
