-- foundation.atm_txn: ATM switch records up to the business date; acct_no is the
-- customer's primary account, resolved to the customer through the core account
-- snapshot of the business date; the terminal gives branch and type.
SELECT
    t.txn_id,
    a.cust_id AS customer_id,
    t.acct_no,
    t.terminal_id,
    m.terminal_type,
    m.branch_id,
    t.txn_type,
    CASE t.txn_type WHEN 'W' THEN 'WITHDRAWAL' WHEN 'D' THEN 'DEPOSIT' WHEN 'T' THEN 'TRANSFER' WHEN 'Q' THEN 'ENQUIRY' ELSE 'OTHER' END AS txn_type_name,
    CASE t.txn_type WHEN 'W' THEN 'D' WHEN 'T' THEN 'D' WHEN 'D' THEN 'C' END AS direction,
    CAST(t.amount AS DECIMAL(18,2)) AS amount,
    CAST(t.amount AS DECIMAL(18,2)) AS amount_cny,
    t.txn_time,
    CAST(t.txn_time AS DATE) AS txn_date,
    t.resp_code,
    t.resp_code = '00' AS is_approved,
    t.biz_date AS extract_date
FROM src.atm_atm_txn t
LEFT JOIN src.core_account a ON a.acct_no = t.acct_no AND a.biz_date = $biz_date
LEFT JOIN src.atm_terminal m ON m.terminal_id = t.terminal_id AND m.biz_date = $biz_date
WHERE CAST(t.txn_time AS DATE) <= $biz_date
