-- foundation.customer_contact: Customer contact details from the core customer information file (the latest correction per customer, ingest dedups on update_ts), with CRM as fallback for e-mail and address, one row per customer of the contact file
SELECT
    t.cust_id AS customer_id,
    t.cust_name AS contact_name,
    t.mobile AS mobile,
    COALESCE(t.email, r.email) AS email,
    CASE WHEN COALESCE(t.email, r.email) LIKE '%@%' THEN SUBSTRING(COALESCE(t.email, r.email), POSITION('@' IN COALESCE(t.email, r.email)) + 1) END AS email_domain,
    COALESCE(t.address, r.address) AS address,
    t.postcode AS postcode,
    r.mobile AS crm_mobile,
    t.mobile IS NOT NULL AND r.mobile IS NOT NULL AND t.mobile = r.mobile AS is_mobile_consistent,
    t.mobile IS NOT NULL AS has_valid_mobile,
    COALESCE(t.email, r.email) IS NOT NULL AS has_email,
    CASE WHEN t.email IS NOT NULL THEN 'core' WHEN r.email IS NOT NULL THEN 'crm' END AS email_source,
    t.update_ts AS update_ts,
    CAST($biz_date - CAST(t.update_ts AS DATE) AS INT) AS days_since_update
FROM src.core_cust_contact t
LEFT JOIN src.crm_crm_customer r ON r.cust_id = t.cust_id AND r.biz_date = $biz_date
WHERE t.biz_date = $biz_date
