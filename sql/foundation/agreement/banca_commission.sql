-- foundation.banca_commission: Bancassurance commission accruals, every ingested date up to the business date, with the policy's customer and seller
SELECT
    m.comm_id AS comm_id,
    m.policy_no AS policy_no,
    b.cust_id AS customer_id,
    b.seller_id AS seller_id,
    CAST(m.amount AS DECIMAL(18,2)) AS amount_cny,
    m.accrual_date AS accrual_date,
    CAST(CASE WHEN b.premium > 0 THEN m.amount / b.premium END AS DECIMAL(9,4)) AS commission_rate
FROM src.banca_commission m
LEFT JOIN src.banca_banca_policy b ON b.policy_no = m.policy_no AND b.biz_date = $biz_date
WHERE m.biz_date <= $biz_date AND m.accrual_date <= $biz_date
