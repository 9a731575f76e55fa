-- foundation.mobile_user: mobile banking users from the snapshot of the business date
SELECT
    u.user_id,
    u.cust_id AS customer_id,
    u.register_date,
    u.device_os,
    u.biometric AS is_biometric_enabled
FROM src.mobile_mb_user u
WHERE u.biz_date = $biz_date
