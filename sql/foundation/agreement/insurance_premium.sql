-- foundation.insurance_premium: Insurance premiums collected, every ingested date up to the business date, matched to the golden customer on the holder's resident ID
SELECT
    x.receipt_no AS receipt_no,
    g.customer_id AS customer_id,
    x.holder_cert_no AS holder_cert_no,
    CAST(x.amount AS DECIMAL(18,2)) AS amount_cny,
    x.pay_date AS pay_date,
    CAST(date_trunc('month', x.pay_date) AS DATE) AS pay_month
FROM src.ins_premium x
LEFT JOIN foundation.customer g ON g.cert_no = x.holder_cert_no
WHERE x.biz_date <= $biz_date AND x.pay_date <= $biz_date
