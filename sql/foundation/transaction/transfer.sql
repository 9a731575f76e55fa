-- foundation.transfer: payment instructions up to the business date; the latest
-- extract of a payment wins (status may move from P to S or F).
WITH ranked AS (
    SELECT p.*, ROW_NUMBER() OVER (PARTITION BY p.pay_id ORDER BY p.biz_date DESC, p.update_ts DESC) AS rn
    FROM src.pay_transfer p
    WHERE CAST(p.pay_time AS DATE) <= $biz_date
)
SELECT
    p.pay_id,
    p.cust_id AS customer_id,
    p.debit_acct,
    p.payee_name,
    p.payee_bank,
    p.payee_bank = '本行' AS is_intra_bank_payee,
    p.pay_type,
    CAST(p.amount AS DECIMAL(18,2)) AS amount,
    CAST(p.amount AS DECIMAL(18,2)) AS amount_cny,
    p.pay_time,
    CAST(p.pay_time AS DATE) AS pay_date,
    p.status,
    CASE p.status WHEN 'S' THEN 'SUCCEEDED' WHEN 'F' THEN 'FAILED' WHEN 'P' THEN 'PENDING' ELSE 'UNKNOWN' END AS status_name,
    p.status = 'S' AS is_success,
    p.update_ts
FROM ranked p
WHERE p.rn = 1
