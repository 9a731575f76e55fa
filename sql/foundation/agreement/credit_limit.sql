-- foundation.credit_limit: Approved credit limits per customer with usage
SELECT
    l.limit_id AS limit_id,
    l.cust_id AS customer_id,
    CAST(l.limit_amount AS DECIMAL(18,2)) AS limit_amount_cny,
    CAST(l.used_amount AS DECIMAL(18,2)) AS used_amount_cny,
    CAST(l.limit_amount - l.used_amount AS DECIMAL(18,2)) AS available_amount_cny,
    CAST(CASE WHEN l.limit_amount > 0 THEN l.used_amount / l.limit_amount END AS DECIMAL(9,4)) AS usage_ratio,
    l.expiry_date AS expiry_date,
    l.expiry_date < $biz_date AS is_expired,
    CAST(l.expiry_date - $biz_date AS INT) AS days_to_expiry
FROM src.risk_credit_limit l
WHERE l.biz_date = $biz_date
