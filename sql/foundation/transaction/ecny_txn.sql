-- foundation.ecny_txn: e-CNY wallet transactions up to the business date; the
-- wallet snapshot of the business date gives holder and wallet class.
SELECT
    t.txn_id,
    w.cust_id AS customer_id,
    t.wallet_id,
    w.wallet_level,
    t.txn_type,
    CASE t.txn_type WHEN 'PAY' THEN 'D' WHEN 'TOPUP' THEN 'C' WHEN 'REFUND' THEN 'C' END AS direction,
    CAST(t.amount AS DECIMAL(18,2)) AS amount,
    CAST(t.amount AS DECIMAL(18,2)) AS amount_cny,
    t.txn_time,
    CAST(t.txn_time AS DATE) AS txn_date,
    t.biz_date AS extract_date
FROM src.ecny_wallet_txn t
LEFT JOIN src.ecny_wallet w ON w.wallet_id = t.wallet_id AND w.biz_date = $biz_date
WHERE CAST(t.txn_time AS DATE) <= $biz_date
