-- foundation.product_family: Product family dimension: one row per family with its English name, balance-sheet side, whether it counts into AUM, and its products
WITH p AS (
    SELECT product_family, COUNT(*) AS product_cnt, MIN(launch_date) AS first_launch_date, MAX(launch_date) AS last_launch_date
    FROM src.ref_product WHERE biz_date = $biz_date GROUP BY product_family
),
k AS (
    SELECT product_family, COUNT(*) AS category_cnt
    FROM (SELECT DISTINCT product_family, product_category FROM src.ref_product WHERE biz_date = $biz_date) d
    GROUP BY product_family
)
SELECT
    p.product_family AS product_family,
    CASE p.product_family WHEN 'DEPOSIT' THEN 'Deposits' WHEN 'CARD' THEN 'Credit cards' WHEN 'LOAN' THEN 'Loans' WHEN 'WEALTH' THEN 'Wealth management' WHEN 'FUND' THEN 'Mutual funds' WHEN 'INSURANCE' THEN 'Insurance' WHEN 'METAL' THEN 'Precious metals' ELSE p.product_family END AS family_name,
    CASE WHEN p.product_family IN ('CARD', 'LOAN') THEN 'ASSET' WHEN p.product_family = 'DEPOSIT' THEN 'LIABILITY' ELSE 'OFF_BALANCE' END AS balance_side,
    p.product_family IN ('DEPOSIT', 'WEALTH', 'FUND', 'INSURANCE', 'METAL') AS is_aum,
    p.product_family IN ('CARD', 'LOAN') AS is_credit,
    CAST(p.product_cnt AS INT) AS product_cnt,
    CAST(k.category_cnt AS INT) AS category_cnt,
    p.first_launch_date AS first_launch_date,
    p.last_launch_date AS last_launch_date
FROM p
JOIN k ON k.product_family = p.product_family
