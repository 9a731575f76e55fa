-- foundation.letter_of_credit: Letters of credit issued for customers, in currency and CNY
SELECT
    l.lc_no AS lc_no,
    l.cust_id AS customer_id,
    l.currency AS currency,
    CAST(l.lc_amount AS DECIMAL(18,2)) AS lc_amount,
    CAST(l.lc_amount * r.rate_to_cny AS DECIMAL(18,2)) AS lc_amount_cny,
    l.issue_date AS issue_date,
    l.expiry_date AS expiry_date,
    CAST(l.expiry_date - l.issue_date AS INT) AS tenor_days,
    l.expiry_date >= $biz_date AS is_in_force
FROM src.trade_lc l
LEFT JOIN foundation.fx_rate r ON r.currency = l.currency
WHERE l.biz_date = $biz_date
