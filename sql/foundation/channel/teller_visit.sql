-- foundation.teller_visit: one row per customer, branch and day at the counter
SELECT
    t.customer_id,
    t.branch_id,
    t.txn_date AS visit_date,
    CAST(COUNT(*) AS INT) AS txn_cnt,
    CAST(COUNT(CASE WHEN t.biz_type_code = 'DEPOSIT' THEN 1 END) AS INT) AS deposit_cnt,
    CAST(COUNT(CASE WHEN t.biz_type_code = 'WITHDRAWAL' THEN 1 END) AS INT) AS withdrawal_cnt,
    CAST(COUNT(CASE WHEN t.biz_type_code = 'TRANSFER' THEN 1 END) AS INT) AS transfer_cnt,
    CAST(COUNT(CASE WHEN t.biz_type_code IN ('ACCOUNT_OPEN', 'ACCOUNT_CLOSE') THEN 1 END) AS INT) AS servicing_cnt,
    CAST(COALESCE(SUM(t.amount), 0) AS DECIMAL(18,2)) AS amount_cny,
    CAST(COUNT(DISTINCT t.teller_id) AS INT) AS teller_cnt,
    MIN(t.txn_time) AS first_txn_time,
    MAX(t.txn_time) AS last_txn_time
FROM foundation.teller_txn t
WHERE t.customer_id IS NOT NULL
GROUP BY t.customer_id, t.branch_id, t.txn_date
