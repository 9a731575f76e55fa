-- foundation.org_hierarchy: Organisation hierarchy (head office, city branches, sub-branches) flattened to three levels, one row per organisation unit, with the branch directory attributes for branches
WITH ch AS (SELECT parent_org_id, COUNT(*) AS cnt FROM src.ref_org WHERE biz_date = $biz_date GROUP BY parent_org_id)
SELECT
    o.org_id AS org_id,
    o.org_name AS org_name,
    o.org_level AS org_level,
    CASE o.org_level WHEN 1 THEN 'HEAD_OFFICE' WHEN 2 THEN 'CITY_BRANCH' WHEN 3 THEN 'SUB_BRANCH' END AS org_level_name,
    CASE WHEN o.parent_org_id = '' THEN NULL ELSE o.parent_org_id END AS parent_org_id,
    p.org_name AS parent_org_name,
    CASE o.org_level WHEN 2 THEN o.org_id WHEN 3 THEN o.parent_org_id END AS city_branch_id,
    CASE o.org_level WHEN 2 THEN o.org_name WHEN 3 THEN p.org_name END AS city_branch_name,
    CASE o.org_level WHEN 1 THEN o.org_id WHEN 2 THEN o.parent_org_id WHEN 3 THEN p.parent_org_id END AS head_office_id,
    b.city AS city,
    b.region AS region,
    CAST(COALESCE(ch.cnt, 0) AS INT) AS child_cnt
FROM src.ref_org o
LEFT JOIN src.ref_org p ON p.org_id = o.parent_org_id AND p.biz_date = $biz_date
LEFT JOIN src.ref_branch b ON b.branch_id = o.org_id AND b.biz_date = $biz_date
LEFT JOIN ch ON ch.parent_org_id = o.org_id
WHERE o.biz_date = $biz_date
