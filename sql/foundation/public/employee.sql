-- foundation.employee: Employees with their branch and role, one row per employee, with the number of customers assigned to each relationship manager in CRM
WITH a AS (SELECT rm_id, COUNT(*) AS cnt FROM src.crm_crm_customer WHERE biz_date = $biz_date GROUP BY rm_id)
SELECT
    e.emp_id AS emp_id,
    e.emp_name AS emp_name,
    e.gender AS gender,
    e.branch_id AS branch_id,
    b.branch_name AS branch_name,
    b.city AS city,
    e.role AS role,
    e.role = 'RM' AS is_rm,
    e.mobile AS mobile,
    e.hire_date AS hire_date,
    CAST(date_part('year', $biz_date) - date_part('year', e.hire_date) - CASE WHEN date_part('month', $biz_date) * 100 + date_part('day', $biz_date) < date_part('month', e.hire_date) * 100 + date_part('day', e.hire_date) THEN 1 ELSE 0 END AS INT) AS service_years,
    CAST(COALESCE(a.cnt, 0) AS INT) AS assigned_customer_cnt
FROM src.emp_employee e
LEFT JOIN src.ref_branch b ON b.branch_id = e.branch_id AND b.biz_date = $biz_date
LEFT JOIN a ON a.rm_id = e.emp_id
WHERE e.biz_date = $biz_date
