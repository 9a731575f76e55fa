-- foundation.core_txn: core banking deposit postings over every ingested date
-- up to the business date. The customer and currency come from the account
-- snapshot of the business date (accounts are never deleted from it); the CNY
-- amount uses the closing rate of the transaction date, else the business date's.
SELECT
    t.txn_id,
    a.cust_id AS customer_id,
    t.acct_no,
    a.product_code,
    a.currency,
    t.txn_date,
    t.txn_time,
    CAST(t.amount AS DECIMAL(18,2)) AS amount,
    CAST(t.amount * COALESCE(r.rate_to_cny, f.rate_to_cny) AS DECIMAL(18,2)) AS amount_cny,
    t.direction,
    t.channel,
    t.counterparty,
    t.biz_date AS extract_date
FROM src.core_transaction t
LEFT JOIN src.core_account a ON a.acct_no = t.acct_no AND a.biz_date = $biz_date
LEFT JOIN src.ref_fx_rate r ON r.currency = a.currency AND r.biz_date = t.txn_date
LEFT JOIN foundation.fx_rate f ON f.currency = a.currency
WHERE t.txn_date <= $biz_date
