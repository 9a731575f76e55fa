-- foundation.acquiring_txn: acquiring settlements up to the business date with
-- the merchant (snapshot of the business date) and its owner when a customer
SELECT
    a.txn_id,
    m.owner_cust_id AS customer_id,
    a.merchant_id,
    m.merchant_name,
    m.mcc,
    m.branch_id,
    a.card_bin,
    CAST(a.amount AS DECIMAL(18,2)) AS amount,
    CAST(a.amount AS DECIMAL(18,2)) AS amount_cny,
    CAST(a.fee AS DECIMAL(18,2)) AS fee,
    CAST(a.amount - a.fee AS DECIMAL(18,2)) AS net_amount,
    a.settle_date,
    a.biz_date AS extract_date
FROM src.acq_acq_txn a
LEFT JOIN src.acq_merchant m ON m.merchant_id = a.merchant_id AND m.biz_date = $biz_date
WHERE a.settle_date <= $biz_date
