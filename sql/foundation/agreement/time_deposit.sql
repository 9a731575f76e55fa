-- foundation.time_deposit: Time deposits and certificates of deposit (TDA snapshot) with term, rate, maturity and the interest accrued over the ingested dates
WITH i AS (SELECT acct_no, SUM(interest) AS interest FROM src.tda_td_interest WHERE biz_date <= $biz_date AND accrual_date <= $biz_date GROUP BY acct_no)
SELECT
    t.acct_no AS acct_no,
    t.cust_id AS customer_id,
    t.product_code AS product_code,
    t.currency AS currency,
    CAST(t.principal AS DECIMAL(18,2)) AS principal,
    CAST(t.principal * r.rate_to_cny AS DECIMAL(18,2)) AS principal_cny,
    t.rate AS interest_rate,
    t.term_months AS term_months,
    t.value_date AS value_date,
    t.maturity_date AS maturity_date,
    CAST(t.maturity_date - $biz_date AS INT) AS days_to_maturity,
    t.maturity_date >= $biz_date AND t.maturity_date <= CAST($biz_date AS DATE) + INTERVAL '30' DAY AS matures_within_30d,
    t.auto_renew AS is_auto_renew,
    t.status AS status,
    CAST(t.principal * t.rate * t.term_months / 12 * r.rate_to_cny AS DECIMAL(18,2)) AS expected_interest_cny,
    CAST(COALESCE(i.interest, 0) * r.rate_to_cny AS DECIMAL(18,2)) AS accrued_interest_cny
FROM src.tda_td_acct t
LEFT JOIN foundation.fx_rate r ON r.currency = t.currency
LEFT JOIN i ON i.acct_no = t.acct_no
WHERE t.biz_date = $biz_date
