-- foundation.customer_bureau_report: Latest credit bureau report summary per customer, matched to the golden customer on the certificate number (the bureau feed has no customer number), with the bank's own bureau enquiries of the last 30 and 180 days
WITH ql AS (
    SELECT cert_no, reason, query_time,
           ROW_NUMBER() OVER (PARTITION BY cert_no ORDER BY query_time DESC, query_id DESC) AS rn
    FROM src.bureau_query_log
    WHERE biz_date <= $biz_date AND CAST(query_time AS DATE) > $biz_date - INTERVAL '180' DAY
),
q AS (
    SELECT cert_no,
           COUNT(CASE WHEN CAST(query_time AS DATE) > $biz_date - INTERVAL '30' DAY THEN 1 END) AS q30,
           COUNT(*) AS q180,
           MAX(CASE WHEN rn = 1 THEN reason END) AS last_reason
    FROM ql GROUP BY cert_no
),
matched AS (
SELECT
    g.customer_id AS customer_id,
    b.report_no AS report_no,
    b.cert_no AS cert_no,
    b.person_name AS person_name,
    b.person_name = g.customer_name AS is_name_match,
    b.report_date AS report_date,
    CAST($biz_date - b.report_date AS INT) AS report_age_days,
    b.loan_count AS bureau_loan_cnt,
    b.card_count AS bureau_card_cnt,
    CAST(b.total_debt AS DECIMAL(18,2)) AS bureau_total_debt_cny,
    b.overdue_months_24 AS overdue_months_24,
    b.overdue_months_24 > 0 AS has_bureau_overdue_24m,
    b.query_count_6m AS query_count_6m,
    CAST(COALESCE(q.q30, 0) AS INT) AS bank_query_cnt_30d,
    CAST(COALESCE(q.q180, 0) AS INT) AS bank_query_cnt_180d,
    q.last_reason AS last_bank_query_reason
FROM src.bureau_credit_report b
JOIN foundation.customer g ON g.cert_no = b.cert_no
LEFT JOIN q ON q.cert_no = b.cert_no
WHERE b.biz_date = $biz_date
),
ranked AS (
    -- The latest report per customer: a certificate may carry several reports.
    SELECT m.*, ROW_NUMBER() OVER (PARTITION BY m.customer_id ORDER BY m.report_date DESC, m.report_no DESC) AS report_rank
    FROM matched m
)
SELECT
    customer_id, report_no, cert_no, person_name, is_name_match, report_date, report_age_days,
    bureau_loan_cnt, bureau_card_cnt, bureau_total_debt_cny, overdue_months_24, has_bureau_overdue_24m,
    query_count_6m, bank_query_cnt_30d, bank_query_cnt_180d, last_bank_query_reason
FROM ranked
WHERE report_rank = 1
