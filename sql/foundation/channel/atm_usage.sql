-- foundation.atm_usage: one row per customer, terminal and day of ATM use
SELECT
    t.customer_id,
    t.terminal_id,
    t.txn_date AS usage_date,
    MAX(t.branch_id) AS branch_id,
    MAX(t.terminal_type) AS terminal_type,
    CAST(COUNT(*) AS INT) AS request_cnt,
    CAST(COUNT(CASE WHEN t.txn_type = 'W' THEN 1 END) AS INT) AS withdrawal_cnt,
    CAST(COUNT(CASE WHEN t.txn_type = 'D' THEN 1 END) AS INT) AS deposit_cnt,
    CAST(COUNT(CASE WHEN t.txn_type = 'T' THEN 1 END) AS INT) AS transfer_cnt,
    CAST(COUNT(CASE WHEN t.txn_type = 'Q' THEN 1 END) AS INT) AS enquiry_cnt,
    CAST(COUNT(CASE WHEN NOT t.is_approved THEN 1 END) AS INT) AS declined_cnt,
    CAST(COALESCE(SUM(CASE WHEN t.txn_type = 'W' AND t.is_approved THEN t.amount END), 0) AS DECIMAL(18,2)) AS withdrawal_amount_cny,
    CAST(COALESCE(SUM(CASE WHEN t.txn_type = 'D' AND t.is_approved THEN t.amount END), 0) AS DECIMAL(18,2)) AS deposit_amount_cny,
    MIN(t.txn_time) AS first_txn_time,
    MAX(t.txn_time) AS last_txn_time
FROM foundation.atm_txn t
WHERE t.customer_id IS NOT NULL
GROUP BY t.customer_id, t.terminal_id, t.txn_date
