-- foundation.customer_credit_rating: Internal credit rating per customer (risk system snapshot) with the rating model and derived grade rank and PD band
SELECT
    r.cust_id AS customer_id,
    r.model_id AS model_id,
    m.model_name AS model_name,
    m.version AS model_version,
    r.grade AS grade,
    CASE r.grade WHEN 'AAA' THEN 1 WHEN 'AA' THEN 2 WHEN 'A' THEN 3 WHEN 'BBB' THEN 4 WHEN 'BB' THEN 5 WHEN 'B' THEN 6 WHEN 'CCC' THEN 7 WHEN 'CC' THEN 8 WHEN 'C' THEN 9 END AS grade_rank,
    r.grade IN ('AAA', 'AA', 'A', 'BBB') AS is_investment_grade,
    r.pd AS pd,
    CASE WHEN r.pd < 0.005 THEN 'P1' WHEN r.pd < 0.02 THEN 'P2' WHEN r.pd < 0.05 THEN 'P3' WHEN r.pd < 0.2 THEN 'P4' ELSE 'P5' END AS pd_band,
    r.rating_date AS rating_date,
    CAST($biz_date - r.rating_date AS INT) AS rating_age_days,
    $biz_date - r.rating_date > 365 AS is_rating_stale
FROM src.risk_rating r
LEFT JOIN src.risk_rating_model m ON m.model_id = r.model_id AND m.biz_date = $biz_date
WHERE r.biz_date = $biz_date
