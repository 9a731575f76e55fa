-- foundation.securities_transfer: bank <-> broker transfers up to the business date
SELECT
    s.trf_id,
    s.cust_id AS customer_id,
    s.direction AS transfer_direction,
    CASE s.direction WHEN 'B2S' THEN 'D' WHEN 'S2B' THEN 'C' END AS direction,
    CAST(s.amount AS DECIMAL(18,2)) AS amount,
    CAST(s.amount AS DECIMAL(18,2)) AS amount_cny,
    s.trf_time,
    CAST(s.trf_time AS DATE) AS trf_date,
    s.biz_date AS extract_date
FROM src.sec_sec_transfer s
WHERE CAST(s.trf_time AS DATE) <= $biz_date
