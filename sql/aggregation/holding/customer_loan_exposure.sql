-- aggregation.customer_loan_exposure: Credit exposure per customer with a loan, credit limit, guarantee, LC or bill on the business date: loan outstanding by category, arrears, worst five-grade class, collateral coverage, limits and contingent liabilities, CNY
WITH l AS (
    SELECT l.customer_id,
    SUM(CASE WHEN l.product_category = 'MORTGAGE' THEN l.outstanding_cny END) AS mortgage_cny,
    SUM(CASE WHEN l.product_category = 'CONSUMER' THEN l.outstanding_cny END) AS consumer_cny,
    SUM(CASE WHEN l.product_category = 'BUSINESS' THEN l.outstanding_cny END) AS business_cny,
    SUM(CASE WHEN l.product_category = 'AUTO' THEN l.outstanding_cny END) AS auto_cny,
    SUM(l.outstanding_cny) AS outstanding_cny,
    SUM(CASE WHEN NOT l.is_settled THEN l.principal_cny END) AS principal_cny,
    COUNT(CASE WHEN NOT l.is_settled THEN 1 END) AS active_cnt,
    COUNT(CASE WHEN l.is_settled THEN 1 END) AS settled_cnt,
    COUNT(CASE WHEN l.overdue_days > 0 THEN 1 END) AS overdue_cnt,
    SUM(l.overdue_amount_cny) AS overdue_amount_cny,
    MAX(l.overdue_days) AS max_overdue_days,
    MAX(CASE WHEN NOT l.is_settled THEN l.five_class END) AS worst_five_class,
    SUM(CASE WHEN l.is_npl THEN l.outstanding_cny END) AS npl_cny,
    SUM(CASE WHEN NOT l.is_settled THEN l.outstanding_cny * l.interest_rate END) / SUM(CASE WHEN NOT l.is_settled AND l.outstanding_cny > 0 THEN l.outstanding_cny END) AS wavg_rate,
    SUM(l.next_instalment_cny) AS next_instalment_cny,
    MIN(l.start_date) AS first_loan_date,
    MAX(l.start_date) AS last_loan_date
    FROM foundation.loan_contract l
    GROUP BY l.customer_id
),
k AS (
    SELECT customer_id, SUM(pledged_value_cny) AS pledged_value_cny, SUM(appraised_value_cny) AS appraised_cny
    FROM foundation.collateral_link
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id
),
cl AS (
    SELECT customer_id, SUM(limit_amount_cny) AS limit_cny, SUM(used_amount_cny) AS used_cny
    FROM foundation.credit_limit WHERE NOT is_expired GROUP BY customer_id
),
tr AS (
    SELECT customer_id,
           SUM(CASE WHEN agreement_type = 'GUARANTEE' THEN balance_cny END) AS lg_cny,
           SUM(CASE WHEN agreement_type = 'LETTER_OF_CREDIT' THEN balance_cny END) AS lc_cny,
           SUM(CASE WHEN agreement_type = 'BILL' THEN balance_cny END) AS bill_cny
    FROM foundation.agreement_all
    WHERE agreement_type IN ('GUARANTEE', 'LETTER_OF_CREDIT', 'BILL') AND status = 'ACTIVE'
    GROUP BY customer_id
),
ids AS (
    SELECT customer_id FROM l UNION SELECT customer_id FROM cl UNION SELECT customer_id FROM tr
)
SELECT
    ids.customer_id AS customer_id,
    CAST(COALESCE(l.mortgage_cny, 0) AS DECIMAL(18,2)) AS loan_mortgage_outstanding_cny,
    CAST(COALESCE(l.consumer_cny, 0) AS DECIMAL(18,2)) AS loan_consumer_outstanding_cny,
    CAST(COALESCE(l.business_cny, 0) AS DECIMAL(18,2)) AS loan_business_outstanding_cny,
    CAST(COALESCE(l.auto_cny, 0) AS DECIMAL(18,2)) AS loan_auto_outstanding_cny,
    CAST(COALESCE(l.outstanding_cny, 0) AS DECIMAL(18,2)) AS loan_outstanding_cny,
    CAST(COALESCE(l.principal_cny, 0) AS DECIMAL(18,2)) AS loan_principal_cny,
    CAST(COALESCE(l.active_cnt, 0) AS INT) AS loan_active_cnt,
    CAST(COALESCE(l.settled_cnt, 0) AS INT) AS loan_settled_cnt,
    CAST(COALESCE(l.overdue_cnt, 0) AS INT) AS loan_overdue_cnt,
    CAST(COALESCE(l.overdue_amount_cny, 0) AS DECIMAL(18,2)) AS loan_overdue_amount_cny,
    CAST(COALESCE(l.max_overdue_days, 0) AS INT) AS max_overdue_days,
    COALESCE(l.max_overdue_days, 0) > 30 AS has_overdue_30d,
    COALESCE(l.max_overdue_days, 0) > 90 AS has_overdue_90d,
    l.worst_five_class AS worst_five_class,
    CASE l.worst_five_class WHEN '1' THEN 'NORMAL' WHEN '2' THEN 'SPECIAL_MENTION' WHEN '3' THEN 'SUBSTANDARD' WHEN '4' THEN 'DOUBTFUL' WHEN '5' THEN 'LOSS' END AS worst_five_class_name,
    COALESCE(l.worst_five_class IN ('3', '4', '5'), false) AS is_npl,
    CAST(COALESCE(l.npl_cny, 0) AS DECIMAL(18,2)) AS npl_outstanding_cny,
    CAST(l.wavg_rate AS DECIMAL(9,6)) AS avg_interest_rate,
    CAST(COALESCE(l.next_instalment_cny, 0) AS DECIMAL(18,2)) AS next_instalment_cny,
    l.first_loan_date AS first_loan_date,
    l.last_loan_date AS last_loan_date,
    CAST(COALESCE(k.pledged_value_cny, 0) AS DECIMAL(18,2)) AS collateral_value_cny,
    CAST(COALESCE(k.appraised_cny, 0) AS DECIMAL(18,2)) AS collateral_appraised_cny,
    CAST(CASE WHEN COALESCE(l.outstanding_cny, 0) > 0 THEN COALESCE(k.appraised_cny, 0) / l.outstanding_cny END AS DECIMAL(18,4)) AS collateral_coverage_ratio,
    CAST(COALESCE(CASE WHEN COALESCE(l.outstanding_cny, 0) > COALESCE(k.appraised_cny, 0) THEN l.outstanding_cny - COALESCE(k.appraised_cny, 0) ELSE 0 END, 0) AS DECIMAL(18,2)) AS unsecured_outstanding_cny,
    CAST(COALESCE(cl.limit_cny, 0) AS DECIMAL(18,2)) AS credit_limit_cny,
    CAST(COALESCE(cl.used_cny, 0) AS DECIMAL(18,2)) AS credit_limit_used_cny,
    CAST(CASE WHEN COALESCE(cl.limit_cny, 0) > 0 THEN cl.used_cny / cl.limit_cny END AS DECIMAL(18,4)) AS credit_limit_usage,
    CAST(COALESCE(tr.lg_cny, 0) AS DECIMAL(18,2)) AS guarantee_amount_cny,
    CAST(COALESCE(tr.lc_cny, 0) AS DECIMAL(18,2)) AS lc_amount_cny,
    CAST(COALESCE(tr.bill_cny, 0) AS DECIMAL(18,2)) AS bill_amount_cny,
    $biz_date AS biz_date
FROM ids
LEFT JOIN l ON l.customer_id = ids.customer_id
LEFT JOIN k ON k.customer_id = ids.customer_id
LEFT JOIN cl ON cl.customer_id = ids.customer_id
LEFT JOIN tr ON tr.customer_id = ids.customer_id
