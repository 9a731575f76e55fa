-- foundation.customer_rm_assignment: Relationship manager assigned to each CRM customer, with the RM's branch and role and the RM contacts of the last 30/90 days (crm.rm_visit partitions up to the business date)
WITH v AS (
    SELECT cust_id,
           COUNT(CASE WHEN CAST(visit_time AS DATE) > $biz_date - INTERVAL '30' DAY THEN 1 END) AS v30,
           COUNT(*) AS v90,
           MAX(CAST(visit_time AS DATE)) AS last_visit_date
    FROM src.crm_rm_visit
    WHERE biz_date <= $biz_date AND CAST(visit_time AS DATE) > $biz_date - INTERVAL '90' DAY
    GROUP BY cust_id
)
SELECT
    r.cust_id AS customer_id,
    r.rm_id AS rm_id,
    e.emp_name AS rm_name,
    e.branch_id AS rm_branch_id,
    e.role AS rm_role,
    e.role = 'RM' AS is_rm_role,
    e.branch_id = co.branch_id AS is_rm_in_home_branch,
    e.hire_date AS rm_hire_date,
    r.vip_level AS vip_level,
    CAST(COALESCE(v.v30, 0) AS INT) AS visit_cnt_30d,
    CAST(COALESCE(v.v90, 0) AS INT) AS visit_cnt_90d,
    v.last_visit_date AS last_visit_date,
    CAST($biz_date - v.last_visit_date AS INT) AS days_since_last_visit
FROM src.crm_crm_customer r
LEFT JOIN src.emp_employee e ON e.emp_id = r.rm_id AND e.biz_date = $biz_date
LEFT JOIN src.core_customer co ON co.cust_id = r.cust_id AND co.biz_date = $biz_date
LEFT JOIN v ON v.cust_id = r.cust_id
WHERE r.biz_date = $biz_date
