-- foundation.merchant: Acquiring merchants with their signing branch, owner customer (when a personal customer of the bank) and settled volume of the business date
WITH x AS (SELECT merchant_id, COUNT(*) AS cnt, SUM(amount) AS amt, SUM(fee) AS fee FROM src.acq_acq_txn WHERE biz_date = $biz_date GROUP BY merchant_id)
SELECT
    m.merchant_id AS merchant_id,
    m.merchant_name AS merchant_name,
    m.mcc AS mcc,
    m.branch_id AS branch_id,
    CASE WHEN m.owner_cust_id = '' THEN NULL ELSE m.owner_cust_id END AS owner_customer_id,
    COALESCE(m.owner_cust_id, '') <> '' AS has_owner_customer,
    m.sign_date AS sign_date,
    CAST($biz_date - m.sign_date AS INT) AS tenure_days,
    CAST(COALESCE(x.cnt, 0) AS INT) AS settled_txn_cnt_1d,
    CAST(COALESCE(x.amt, 0) AS DECIMAL(18,2)) AS settled_amount_cny_1d,
    CAST(COALESCE(x.fee, 0) AS DECIMAL(18,2)) AS fee_cny_1d
FROM src.acq_merchant m
LEFT JOIN x ON x.merchant_id = m.merchant_id
WHERE m.biz_date = $biz_date
