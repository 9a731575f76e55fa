-- foundation.td_interest_accrual: Daily interest accruals on time deposits, every ingested date up to the business date, tied to the holder and currency through the core account snapshot of the business date (accounts do not change holder), converted at the accrual date's rate
SELECT
    i.accrual_id AS accrual_id,
    i.acct_no AS acct_no,
    a.cust_id AS customer_id,
    i.accrual_date AS accrual_date,
    a.currency AS currency,
    CAST(i.interest AS DECIMAL(18,2)) AS interest,
    CAST(i.interest * COALESCE(r.rate_to_cny, 1) AS DECIMAL(18,2)) AS interest_cny
FROM src.tda_td_interest i
LEFT JOIN src.core_account a ON a.acct_no = i.acct_no AND a.biz_date = $biz_date
LEFT JOIN src.ref_fx_rate r ON r.currency = a.currency AND r.biz_date = i.biz_date
WHERE i.biz_date <= $biz_date AND i.accrual_date <= $biz_date
