-- foundation.deposit_account: Deposit accounts of the core account master (demand, time, certificates of deposit) on the business date, with product, CNY balance and age
SELECT
    a.acct_no AS acct_no,
    a.cust_id AS customer_id,
    a.product_code AS product_code,
    p.product_name AS product_name,
    CASE WHEN a.product_code LIKE 'D1%' THEN 'DEMAND' WHEN a.product_code = 'D301' THEN 'CD' ELSE 'TIME' END AS deposit_kind,
    a.currency AS currency,
    a.currency <> 'CNY' AS is_fx,
    CAST(a.balance AS DECIMAL(18,2)) AS balance,
    CAST(a.balance * r.rate_to_cny AS DECIMAL(18,2)) AS balance_cny,
    a.open_date AS open_date,
    CAST($biz_date - a.open_date AS INT) AS account_age_days,
    a.status AS status,
    a.status = 'A' AS is_active,
    a.balance = 0 AS is_zero_balance
FROM src.core_account a
LEFT JOIN foundation.product p ON p.product_code = a.product_code
LEFT JOIN foundation.fx_rate r ON r.currency = a.currency
WHERE a.biz_date = $biz_date
