-- foundation.product_risk: Product risk rating (R1-R5) of every product of the catalogue, for suitability checks against the customer's risk tolerance
SELECT
    p.product_code AS product_code,
    p.product_name AS product_name,
    p.product_family AS product_family,
    r.risk_rating AS risk_rating,
    CAST(CASE r.risk_rating WHEN 'R1' THEN 1 WHEN 'R2' THEN 2 WHEN 'R3' THEN 3 WHEN 'R4' THEN 4 WHEN 'R5' THEN 5 END AS INT) AS risk_rank,
    r.risk_rating IS NOT NULL AS is_rated,
    r.risk_rating AS min_customer_risk_level
FROM src.ref_product p
LEFT JOIN src.ref_product_risk r ON r.product_code = p.product_code AND r.biz_date = $biz_date
WHERE p.biz_date = $biz_date
