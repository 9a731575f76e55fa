-- foundation.rm_visit: relationship-manager contacts up to the business date
SELECT
    v.visit_id,
    v.cust_id AS customer_id,
    v.rm_id,
    v.visit_time,
    CAST(v.visit_time AS DATE) AS visit_date,
    v.method,
    v.note
FROM src.crm_rm_visit v
WHERE CAST(v.visit_time AS DATE) <= $biz_date
