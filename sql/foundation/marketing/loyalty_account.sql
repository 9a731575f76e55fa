-- foundation.loyalty_account: points accounts from the snapshot of the business date
SELECT
    a.cust_id AS customer_id,
    CAST(a.points AS BIGINT) AS points,
    a.tier,
    CAST(a.expiring_points AS BIGINT) AS expiring_points,
    a.update_ts
FROM src.loyalty_points_acct a
WHERE a.biz_date = $biz_date
