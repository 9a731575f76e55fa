-- foundation.customer_loyalty_account: Loyalty point account per customer (latest record; ingest dedups on update_ts) with the point movements of the last 30 days
WITH t AS (
    SELECT cust_id,
           SUM(CASE WHEN points > 0 THEN points ELSE 0 END) AS earned,
           SUM(CASE WHEN points < 0 THEN -points ELSE 0 END) AS redeemed,
           COUNT(*) AS cnt
    FROM src.loyalty_points_txn
    WHERE biz_date <= $biz_date AND txn_date > $biz_date - INTERVAL '30' DAY AND txn_date <= $biz_date
    GROUP BY cust_id
)
SELECT
    p.cust_id AS customer_id,
    p.points AS points,
    p.tier AS tier,
    p.expiring_points AS expiring_points,
    CAST(CASE WHEN p.points > 0 THEN CAST(p.expiring_points AS DECIMAL(18,4)) / p.points END AS DECIMAL(9,4)) AS expiring_share,
    CAST(COALESCE(t.earned, 0) AS BIGINT) AS points_earned_30d,
    CAST(COALESCE(t.redeemed, 0) AS BIGINT) AS points_redeemed_30d,
    CAST(COALESCE(t.cnt, 0) AS INT) AS point_txn_cnt_30d,
    p.update_ts AS update_ts
FROM src.loyalty_points_acct p
LEFT JOIN t ON t.cust_id = p.cust_id
WHERE p.biz_date = $biz_date
