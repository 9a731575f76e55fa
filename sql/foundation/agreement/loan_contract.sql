-- foundation.loan_contract: Loan contracts (snapshot) with outstanding principal in CNY, five-grade class, overdue position and the next instalment
SELECT
    l.loan_no AS loan_no,
    l.cust_id AS customer_id,
    l.product_code AS product_code,
    p.product_category AS product_category,
    l.currency AS currency,
    CAST(l.principal AS DECIMAL(18,2)) AS principal,
    CAST(l.principal * r.rate_to_cny AS DECIMAL(18,2)) AS principal_cny,
    CAST(l.outstanding AS DECIMAL(18,2)) AS outstanding,
    CAST(l.outstanding * r.rate_to_cny AS DECIMAL(18,2)) AS outstanding_cny,
    CAST(CASE WHEN l.principal > 0 THEN (l.principal - l.outstanding) / l.principal END AS DECIMAL(9,4)) AS repaid_ratio,
    l.interest_rate AS interest_rate,
    l.start_date AS start_date,
    l.maturity_date AS maturity_date,
    CAST((date_part('year', l.maturity_date) - date_part('year', l.start_date)) * 12 + date_part('month', l.maturity_date) - date_part('month', l.start_date) AS INT) AS term_months,
    CAST((date_part('year', l.maturity_date) - date_part('year', $biz_date)) * 12 + date_part('month', l.maturity_date) - date_part('month', $biz_date) AS INT) AS remaining_months,
    l.five_class AS five_class,
    CASE l.five_class WHEN '1' THEN 'NORMAL' WHEN '2' THEN 'SPECIAL_MENTION' WHEN '3' THEN 'SUBSTANDARD' WHEN '4' THEN 'DOUBTFUL' WHEN '5' THEN 'LOSS' END AS five_class_name,
    l.five_class IN ('3', '4', '5') AS is_npl,
    l.outstanding = 0 AS is_settled,
    CAST(COALESCE(o.overdue_days, 0) AS INT) AS overdue_days,
    CAST((COALESCE(o.overdue_principal, 0) + COALESCE(o.overdue_interest, 0)) * r.rate_to_cny AS DECIMAL(18,2)) AS overdue_amount_cny,
    rp.due_date AS next_due_date,
    CAST(rp.instalment * r.rate_to_cny AS DECIMAL(18,2)) AS next_instalment_cny
FROM src.loan_loan_contract l
LEFT JOIN foundation.product p ON p.product_code = l.product_code
LEFT JOIN foundation.fx_rate r ON r.currency = l.currency
LEFT JOIN src.loan_overdue o ON o.loan_no = l.loan_no AND o.biz_date = $biz_date
LEFT JOIN src.loan_repay_plan rp ON rp.loan_no = l.loan_no AND rp.biz_date = $biz_date
WHERE l.biz_date = $biz_date
