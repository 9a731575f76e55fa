-- foundation.ecny_wallet: e-CNY wallets with level, balance and the payments of the last 30 days
WITH t AS (SELECT wallet_id, SUM(CASE WHEN txn_type = 'PAY' THEN amount END) AS pay, SUM(CASE WHEN txn_type = 'TOPUP' THEN amount END) AS topup, COUNT(*) AS cnt FROM src.ecny_wallet_txn WHERE biz_date <= $biz_date AND CAST(txn_time AS DATE) > $biz_date - INTERVAL '30' DAY GROUP BY wallet_id)
SELECT
    w.wallet_id AS wallet_id,
    w.cust_id AS customer_id,
    w.mobile AS mobile,
    w.wallet_level AS wallet_level,
    w.wallet_level = 4 AS is_anonymous,
    CAST(w.balance AS DECIMAL(18,2)) AS balance_cny,
    w.open_date AS open_date,
    CAST(COALESCE(t.pay, 0) AS DECIMAL(18,2)) AS pay_amount_cny_30d,
    CAST(COALESCE(t.topup, 0) AS DECIMAL(18,2)) AS topup_amount_cny_30d,
    CAST(COALESCE(t.cnt, 0) AS INT) AS txn_cnt_30d
FROM src.ecny_wallet w
LEFT JOIN t ON t.wallet_id = w.wallet_id
WHERE w.biz_date = $biz_date
