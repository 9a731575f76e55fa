-- foundation.demand_account: Demand deposit accounts from the DDA mainframe snapshot (the same accounts as the core D1xx accounts) with available balance, holds and dormancy
SELECT
    d.acct_no AS acct_no,
    d.cust_id AS customer_id,
    d.acct_name AS acct_name,
    d.currency AS currency,
    CAST(d.balance AS DECIMAL(18,2)) AS balance,
    CAST(d.avail_balance AS DECIMAL(18,2)) AS avail_balance,
    CAST(d.balance - d.avail_balance AS DECIMAL(18,2)) AS held_amount,
    CAST(d.balance * r.rate_to_cny AS DECIMAL(18,2)) AS balance_cny,
    CAST(d.avail_balance * r.rate_to_cny AS DECIMAL(18,2)) AS avail_balance_cny,
    d.status AS status,
    d.open_date AS open_date,
    d.last_txn_date AS last_txn_date,
    CAST($biz_date - d.last_txn_date AS INT) AS days_since_last_txn,
    d.status = 'A' AND (d.last_txn_date IS NULL OR d.last_txn_date < CAST($biz_date AS DATE) - INTERVAL '365' DAY) AS is_dormant
FROM src.dda_dda_acct d
LEFT JOIN foundation.fx_rate r ON r.currency = d.currency
WHERE d.biz_date = $biz_date
