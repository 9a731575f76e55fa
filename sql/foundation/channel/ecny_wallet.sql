-- foundation.ecny_wallet: e-CNY wallets from the snapshot of the business date
SELECT
    w.wallet_id,
    w.cust_id AS customer_id,
    w.mobile,
    CAST(w.wallet_level AS INT) AS wallet_level,
    CAST(w.balance AS DECIMAL(18,2)) AS balance_cny,
    w.open_date
FROM src.ecny_wallet w
WHERE w.biz_date = $biz_date
