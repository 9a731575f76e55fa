-- foundation.mobile_login: mobile banking login attempts over every ingested
-- date up to the business date
SELECT
    l.cust_id AS customer_id,
    l.login_time,
    CAST(l.login_time AS DATE) AS login_date,
    l.device_os,
    l.success
FROM src.mobile_login_event l
WHERE CAST(l.login_time AS DATE) <= $biz_date
