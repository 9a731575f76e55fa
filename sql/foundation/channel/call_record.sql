-- foundation.call_record: call-centre calls up to the business date
SELECT
    c.call_id,
    c.cust_id AS customer_id,
    c.caller_no,
    c.direction,
    c.start_time,
    CAST(c.start_time AS DATE) AS call_date,
    CAST(c.duration_sec AS INT) AS duration_sec,
    c.category,
    CAST(c.satisfaction AS INT) AS satisfaction,
    c.satisfaction <= 2 AS is_dissatisfied
FROM src.callc_call_record c
WHERE CAST(c.start_time AS DATE) <= $biz_date
