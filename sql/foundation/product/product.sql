-- foundation.product: product catalogue as of the business date
SELECT
    p.product_code,
    p.product_name,
    p.product_family,
    p.product_category,
    p.launch_date
FROM src.ref_product p
WHERE p.biz_date = $biz_date
