-- aggregation.customer_loyalty_summary: points account and movements per customer
WITH p AS (
    SELECT p.customer_id,
        SUM(CASE WHEN p.is_earn AND p.txn_date > $biz_date - INTERVAL '30' DAY THEN p.points ELSE 0 END) AS points_earned_1m,
        SUM(CASE WHEN p.is_redeem AND p.txn_date > $biz_date - INTERVAL '30' DAY THEN -p.points ELSE 0 END) AS points_redeemed_1m,
        SUM(CASE WHEN p.reason = 'EXPIRE' AND p.txn_date > $biz_date - INTERVAL '30' DAY THEN -p.points ELSE 0 END) AS points_expired_1m,
        COUNT(CASE WHEN p.txn_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS points_txn_cnt_1m,
        SUM(CASE WHEN p.is_earn AND p.txn_date > $biz_date - INTERVAL '90' DAY THEN p.points ELSE 0 END) AS points_earned_3m,
        SUM(CASE WHEN p.is_redeem AND p.txn_date > $biz_date - INTERVAL '90' DAY THEN -p.points ELSE 0 END) AS points_redeemed_3m,
        SUM(CASE WHEN p.reason = 'EXPIRE' AND p.txn_date > $biz_date - INTERVAL '90' DAY THEN -p.points ELSE 0 END) AS points_expired_3m,
        COUNT(CASE WHEN p.txn_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS points_txn_cnt_3m,
        SUM(CASE WHEN p.is_earn AND p.txn_date > $biz_date - INTERVAL '180' DAY THEN p.points ELSE 0 END) AS points_earned_6m,
        SUM(CASE WHEN p.is_redeem AND p.txn_date > $biz_date - INTERVAL '180' DAY THEN -p.points ELSE 0 END) AS points_redeemed_6m,
        SUM(CASE WHEN p.reason = 'EXPIRE' AND p.txn_date > $biz_date - INTERVAL '180' DAY THEN -p.points ELSE 0 END) AS points_expired_6m,
        COUNT(CASE WHEN p.txn_date > $biz_date - INTERVAL '180' DAY THEN 1 END) AS points_txn_cnt_6m,
        SUM(CASE WHEN p.is_earn AND p.txn_date > $biz_date - INTERVAL '365' DAY THEN p.points ELSE 0 END) AS points_earned_12m,
        SUM(CASE WHEN p.is_redeem AND p.txn_date > $biz_date - INTERVAL '365' DAY THEN -p.points ELSE 0 END) AS points_redeemed_12m,
        SUM(CASE WHEN p.reason = 'EXPIRE' AND p.txn_date > $biz_date - INTERVAL '365' DAY THEN -p.points ELSE 0 END) AS points_expired_12m,
        COUNT(CASE WHEN p.txn_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS points_txn_cnt_12m,
        MAX(CASE WHEN p.is_earn THEN p.txn_date END) AS last_earn_date,
        MAX(CASE WHEN p.is_redeem THEN p.txn_date END) AS last_redeem_date
    FROM foundation.loyalty_points_txn p
    GROUP BY p.customer_id
)
SELECT
    c.customer_id AS customer_id,
    CAST(COALESCE(a.points, 0) AS BIGINT) AS points_balance,
    a.tier AS loyalty_tier,
    CAST(COALESCE(a.expiring_points, 0) AS BIGINT) AS expiring_points,
    a.customer_id IS NOT NULL AS has_loyalty_account,
    CAST(COALESCE(p.points_earned_1m, 0) AS BIGINT) AS points_earned_1m,
    CAST(COALESCE(p.points_redeemed_1m, 0) AS BIGINT) AS points_redeemed_1m,
    CAST(COALESCE(p.points_expired_1m, 0) AS BIGINT) AS points_expired_1m,
    CAST(COALESCE(p.points_txn_cnt_1m, 0) AS INT) AS points_txn_cnt_1m,
    CAST(COALESCE(p.points_earned_3m, 0) AS BIGINT) AS points_earned_3m,
    CAST(COALESCE(p.points_redeemed_3m, 0) AS BIGINT) AS points_redeemed_3m,
    CAST(COALESCE(p.points_expired_3m, 0) AS BIGINT) AS points_expired_3m,
    CAST(COALESCE(p.points_txn_cnt_3m, 0) AS INT) AS points_txn_cnt_3m,
    CAST(COALESCE(p.points_earned_6m, 0) AS BIGINT) AS points_earned_6m,
    CAST(COALESCE(p.points_redeemed_6m, 0) AS BIGINT) AS points_redeemed_6m,
    CAST(COALESCE(p.points_expired_6m, 0) AS BIGINT) AS points_expired_6m,
    CAST(COALESCE(p.points_txn_cnt_6m, 0) AS INT) AS points_txn_cnt_6m,
    CAST(COALESCE(p.points_earned_12m, 0) AS BIGINT) AS points_earned_12m,
    CAST(COALESCE(p.points_redeemed_12m, 0) AS BIGINT) AS points_redeemed_12m,
    CAST(COALESCE(p.points_expired_12m, 0) AS BIGINT) AS points_expired_12m,
    CAST(COALESCE(p.points_txn_cnt_12m, 0) AS INT) AS points_txn_cnt_12m,
    p.last_earn_date AS last_earn_date,
    p.last_redeem_date AS last_redeem_date,
    CAST($biz_date - p.last_redeem_date AS INT) AS days_since_last_redeem
FROM foundation.customer c
LEFT JOIN foundation.loyalty_account a ON a.customer_id = c.customer_id
LEFT JOIN p ON p.customer_id = c.customer_id
