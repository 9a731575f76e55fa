-- foundation.campaign_response: campaign responses up to the business date
SELECT
    r.response_id,
    r.campaign_id,
    r.cust_id AS customer_id,
    r.response,
    r.response IN ('CLICK', 'ACCEPT') AS is_positive,
    r.response_time,
    CAST(r.response_time AS DATE) AS response_date
FROM src.mkt_response r
WHERE CAST(r.response_time AS DATE) <= $biz_date
