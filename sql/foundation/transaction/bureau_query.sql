-- foundation.bureau_query: credit bureau enquiries up to the business date; the
-- bureau carries only the identity number, matched to foundation.customer
SELECT
    q.query_id,
    c.customer_id,
    q.cert_no,
    q.reason,
    CASE q.reason WHEN '01' THEN 'LOAN_APPROVAL' WHEN '02' THEN 'CARD_APPROVAL' WHEN '03' THEN 'POST_LOAN' ELSE 'OTHER' END AS reason_name,
    q.query_time,
    CAST(q.query_time AS DATE) AS query_date,
    q.operator_id,
    q.biz_date AS extract_date
FROM src.bureau_query_log q
LEFT JOIN foundation.customer c ON c.cert_no = q.cert_no
WHERE CAST(q.query_time AS DATE) <= $biz_date
