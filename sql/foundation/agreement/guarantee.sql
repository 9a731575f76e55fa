-- foundation.guarantee: Letters of guarantee issued for customers (off-balance contingent liabilities)
SELECT
    g.lg_no AS lg_no,
    g.cust_id AS customer_id,
    g.lg_type AS lg_type,
    CAST(g.lg_amount AS DECIMAL(18,2)) AS lg_amount_cny,
    g.expiry_date AS expiry_date,
    g.expiry_date >= $biz_date AS is_in_force,
    CAST(g.expiry_date - $biz_date AS INT) AS days_to_expiry
FROM src.trade_guarantee g
WHERE g.biz_date = $biz_date
