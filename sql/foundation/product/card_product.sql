-- foundation.card_product: Credit card products (C codes): standard, gold, platinum
SELECT
    p.product_code AS product_code,
    p.product_name AS product_name,
    p.product_family AS product_family,
    p.product_category AS product_category,
    p.launch_date AS launch_date,
    CAST(date_part('year', $biz_date) - date_part('year', p.launch_date) AS INT) AS years_on_market,
    r.risk_rating AS risk_rating,
    CAST(CASE r.risk_rating WHEN 'R1' THEN 1 WHEN 'R2' THEN 2 WHEN 'R3' THEN 3 WHEN 'R4' THEN 4 WHEN 'R5' THEN 5 END AS INT) AS risk_rank,
    CAST(CASE p.product_category WHEN 'STANDARD' THEN 1 WHEN 'GOLD' THEN 2 WHEN 'PLATINUM' THEN 3 END AS INT) AS card_tier_rank
FROM src.ref_product p
LEFT JOIN src.ref_product_risk r ON r.product_code = p.product_code AND r.biz_date = $biz_date
WHERE p.biz_date = $biz_date AND p.product_family IN ('CARD')
