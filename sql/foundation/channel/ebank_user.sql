-- foundation.ebank_user: web banking users from the snapshot of the business date
SELECT
    u.user_id,
    u.cust_id AS customer_id,
    u.cert_type,
    u.usb_key AS has_usb_key,
    u.register_date,
    u.status,
    CASE u.status WHEN 'N' THEN 'NORMAL' WHEN 'L' THEN 'LOCKED' WHEN 'C' THEN 'CANCELLED' ELSE 'UNKNOWN' END AS status_name,
    u.status = 'N' AS is_active
FROM src.ebank_eb_user u
WHERE u.biz_date = $biz_date
