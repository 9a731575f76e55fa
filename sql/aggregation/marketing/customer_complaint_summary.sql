-- aggregation.customer_complaint_summary: one scan of foundation.complaint
SELECT
    x.customer_id AS customer_id,
    CAST(COUNT(CASE WHEN x.received_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS INT) AS complaint_cnt_1m,
    CAST(COUNT(CASE WHEN x.received_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS INT) AS complaint_cnt_3m,
    CAST(COUNT(CASE WHEN x.received_date > $biz_date - INTERVAL '180' DAY THEN 1 END) AS INT) AS complaint_cnt_6m,
    CAST(COUNT(CASE WHEN x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.category = 'FEE' AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS fee_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.category = 'SERVICE' AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS service_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.category = 'CARD' AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS card_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.category = 'LOAN' AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS loan_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.category = 'WEALTH' AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS wealth_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.category = 'FRAUD' AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS fraud_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.severity = 1 AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS low_severity_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.severity = 2 AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS medium_severity_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.severity = 3 AND x.received_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS high_severity_complaint_cnt_12m,
    CAST(COUNT(CASE WHEN x.severity = 3 AND x.received_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS INT) AS high_severity_complaint_cnt_3m,
    CAST(COUNT(*) AS INT) AS complaint_cnt_total,
    CAST(MAX(CASE WHEN x.received_date > $biz_date - INTERVAL '365' DAY THEN x.severity END) AS INT) AS max_severity_12m,
    MIN(x.received_date) AS first_complaint_date,
    MAX(x.received_date) AS last_complaint_date,
    CAST($biz_date - MAX(x.received_date) AS INT) AS days_since_last_complaint
FROM foundation.complaint x
WHERE x.customer_id IS NOT NULL
GROUP BY x.customer_id
