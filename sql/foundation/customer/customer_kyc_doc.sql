-- foundation.customer_kyc_doc: Identity documents on file in the KYC system, one row per document, with expiry and a check against the golden certificate number
SELECT
    d.doc_id AS doc_id,
    d.cust_id AS customer_id,
    d.doc_type AS doc_type,
    CASE d.doc_type WHEN '01' THEN 'RESIDENT_ID' WHEN '02' THEN 'PASSPORT' WHEN '03' THEN 'HK_MACAU_PERMIT' ELSE 'OTHER' END AS doc_type_name,
    d.doc_no AS doc_no,
    d.issue_date AS issue_date,
    d.expiry_date AS expiry_date,
    d.expiry_date IS NULL AS is_long_term,
    COALESCE(d.expiry_date < $biz_date, false) AS is_expired,
    CAST(d.expiry_date - $biz_date AS INT) AS days_to_expiry,
    d.verified AS is_verified,
    d.verified_flag_src AS verified_flag_src,
    CASE WHEN d.doc_type = '01' THEN d.doc_no = g.cert_no END AS matches_golden_cert,
    d.doc_type = '01' AND COALESCE(d.verified, false) AND (d.expiry_date IS NULL OR d.expiry_date >= $biz_date) AS is_valid_verified_id
FROM src.kyc_kyc_doc d
LEFT JOIN foundation.customer g ON g.customer_id = d.cust_id
WHERE d.biz_date = $biz_date
