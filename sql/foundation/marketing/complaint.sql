-- foundation.complaint: complaints up to the business date
SELECT
    c.complaint_id,
    c.cust_id AS customer_id,
    c.mobile,
    c.category,
    c.description,
    CAST(c.severity AS INT) AS severity,
    c.received_time,
    CAST(c.received_time AS DATE) AS received_date
FROM src.cmpl_complaint c
WHERE CAST(c.received_time AS DATE) <= $biz_date
