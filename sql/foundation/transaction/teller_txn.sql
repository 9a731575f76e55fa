-- foundation.teller_txn: counter transactions up to the business date; the
-- Chinese business type is mapped to DEPOSIT / WITHDRAWAL / TRANSFER /
-- ACCOUNT_OPEN / ACCOUNT_CLOSE / OTHER and to a direction.
SELECT
    t.txn_id,
    t.cust_id AS customer_id,
    t.branch_id,
    t.teller_id,
    t.biz_type,
    CASE t.biz_type
        WHEN '存款' THEN 'DEPOSIT' WHEN '取款' THEN 'WITHDRAWAL' WHEN '转账' THEN 'TRANSFER'
        WHEN '开户' THEN 'ACCOUNT_OPEN' WHEN '销户' THEN 'ACCOUNT_CLOSE' ELSE 'OTHER'
    END AS biz_type_code,
    CASE t.biz_type WHEN '存款' THEN 'C' WHEN '取款' THEN 'D' WHEN '转账' THEN 'D' END AS direction,
    CAST(t.amount AS DECIMAL(18,2)) AS amount,
    CAST(t.amount AS DECIMAL(18,2)) AS amount_cny,
    t.txn_time,
    CAST(t.txn_time AS DATE) AS txn_date,
    t.biz_date AS extract_date
FROM src.teller_teller_txn t
WHERE CAST(t.txn_time AS DATE) <= $biz_date
