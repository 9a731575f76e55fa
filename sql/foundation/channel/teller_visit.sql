-- foundation.teller_visit: one row per customer, branch and day at the counter;
-- the number of tellers is counted in two levels (per teller first) rather than
-- with COUNT(DISTINCT) next to the other aggregates
WITH per_teller AS (
    SELECT
        t.customer_id,
        t.branch_id,
        t.txn_date,
        t.teller_id,
        COUNT(*) AS txn_cnt,
        COUNT(CASE WHEN t.biz_type_code = 'DEPOSIT' THEN 1 END) AS deposit_cnt,
        COUNT(CASE WHEN t.biz_type_code = 'WITHDRAWAL' THEN 1 END) AS withdrawal_cnt,
        COUNT(CASE WHEN t.biz_type_code = 'TRANSFER' THEN 1 END) AS transfer_cnt,
        COUNT(CASE WHEN t.biz_type_code IN ('ACCOUNT_OPEN', 'ACCOUNT_CLOSE') THEN 1 END) AS servicing_cnt,
        SUM(t.amount) AS amount_cny,
        MIN(t.txn_time) AS first_txn_time,
        MAX(t.txn_time) AS last_txn_time
    FROM foundation.teller_txn t
    WHERE t.customer_id IS NOT NULL
    GROUP BY t.customer_id, t.branch_id, t.txn_date, t.teller_id
)
SELECT
    p.customer_id,
    p.branch_id,
    p.txn_date AS visit_date,
    CAST(SUM(p.txn_cnt) AS INT) AS txn_cnt,
    CAST(SUM(p.deposit_cnt) AS INT) AS deposit_cnt,
    CAST(SUM(p.withdrawal_cnt) AS INT) AS withdrawal_cnt,
    CAST(SUM(p.transfer_cnt) AS INT) AS transfer_cnt,
    CAST(SUM(p.servicing_cnt) AS INT) AS servicing_cnt,
    CAST(COALESCE(SUM(p.amount_cny), 0) AS DECIMAL(18,2)) AS amount_cny,
    CAST(COUNT(p.teller_id) AS INT) AS teller_cnt,
    MIN(p.first_txn_time) AS first_txn_time,
    MAX(p.last_txn_time) AS last_txn_time
FROM per_teller p
GROUP BY p.customer_id, p.branch_id, p.txn_date
