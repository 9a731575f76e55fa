-- foundation.code_value: Shared code table (certificate types, account statuses, risk levels, genders, five-grade classes, segments) with Chinese labels
SELECT
    v.code_type AS code_type,
    v.code_value AS code_value,
    v.code_name AS code_name,
    CAST(ROW_NUMBER() OVER (PARTITION BY v.code_type ORDER BY v.code_value) AS INT) AS code_order
FROM src.ref_code_value v
WHERE v.biz_date = $biz_date
