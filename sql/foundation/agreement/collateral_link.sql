-- foundation.collateral_link: Collateral pledged to loan contracts, with the appraisal and the loan's outstanding principal
SELECT
    k.coll_id AS coll_id,
    k.loan_no AS loan_no,
    l.cust_id AS customer_id,
    k.pledge_ratio AS pledge_ratio,
    CAST(c.appraised_value AS DECIMAL(18,2)) AS appraised_value_cny,
    CAST(c.appraised_value * k.pledge_ratio AS DECIMAL(18,2)) AS pledged_value_cny,
    CAST(l.outstanding * r.rate_to_cny AS DECIMAL(18,2)) AS loan_outstanding_cny,
    CAST(CASE WHEN c.appraised_value > 0 THEN l.outstanding * r.rate_to_cny / c.appraised_value END AS DECIMAL(9,4)) AS current_ltv
FROM src.coll_coll_link k
LEFT JOIN src.coll_collateral c ON c.coll_id = k.coll_id AND c.biz_date = $biz_date
LEFT JOIN src.loan_loan_contract l ON l.loan_no = k.loan_no AND l.biz_date = $biz_date
LEFT JOIN foundation.fx_rate r ON r.currency = COALESCE(l.currency, 'CNY')
WHERE k.biz_date = $biz_date
