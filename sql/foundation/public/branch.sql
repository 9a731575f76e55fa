-- foundation.branch: branch directory as of the business date
SELECT
    b.branch_id,
    b.branch_name,
    b.city,
    b.region
FROM src.ref_branch b
WHERE b.biz_date = $biz_date
