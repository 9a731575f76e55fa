-- foundation.loan_product: Loan products (L codes): mortgage, consumer, business, auto
SELECT
    p.product_code AS product_code,
    p.product_name AS product_name,
    p.product_family AS product_family,
    p.product_category AS product_category,
    p.launch_date AS launch_date,
    CAST(date_part('year', $biz_date) - date_part('year', p.launch_date) AS INT) AS years_on_market,
    r.risk_rating AS risk_rating,
    CAST(CASE r.risk_rating WHEN 'R1' THEN 1 WHEN 'R2' THEN 2 WHEN 'R3' THEN 3 WHEN 'R4' THEN 4 WHEN 'R5' THEN 5 END AS INT) AS risk_rank,
    p.product_category IN ('MORTGAGE', 'AUTO') AS is_secured
FROM src.ref_product p
LEFT JOIN src.ref_product_risk r ON r.product_code = p.product_code AND r.biz_date = $biz_date
WHERE p.biz_date = $biz_date AND p.product_family IN ('LOAN')
