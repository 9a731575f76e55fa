-- foundation.loyalty_points_txn: loyalty point movements up to the business date
SELECT
    t.pt_txn_id,
    t.cust_id AS customer_id,
    CAST(t.points AS BIGINT) AS points,
    t.reason,
    t.reason LIKE 'EARN%' AS is_earn,
    t.reason LIKE 'REDEEM%' AS is_redeem,
    t.txn_date,
    t.biz_date AS extract_date
FROM src.loyalty_points_txn t
WHERE t.txn_date <= $biz_date
