-- foundation.loan_overdue: Loans in arrears on the business date with days-past-due bucket and amounts in CNY
SELECT
    o.loan_no AS loan_no,
    l.cust_id AS customer_id,
    o.overdue_days AS overdue_days,
    CASE WHEN o.overdue_days <= 30 THEN 'M1' WHEN o.overdue_days <= 60 THEN 'M2' WHEN o.overdue_days <= 90 THEN 'M3' ELSE 'M3+' END AS dpd_bucket,
    CAST(o.overdue_principal * r.rate_to_cny AS DECIMAL(18,2)) AS overdue_principal_cny,
    CAST(o.overdue_interest * r.rate_to_cny AS DECIMAL(18,2)) AS overdue_interest_cny,
    CAST((o.overdue_principal + o.overdue_interest) * r.rate_to_cny AS DECIMAL(18,2)) AS overdue_total_cny,
    o.since_date AS since_date,
    l.five_class AS five_class
FROM src.loan_overdue o
LEFT JOIN src.loan_loan_contract l ON l.loan_no = o.loan_no AND l.biz_date = $biz_date
LEFT JOIN foundation.fx_rate r ON r.currency = COALESCE(l.currency, 'CNY')
WHERE o.biz_date = $biz_date
