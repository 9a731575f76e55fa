-- foundation.campaign: campaigns from the snapshot of the business date with the
-- size of their current target list and responses received up to the business date
WITH tgt AS (
    SELECT campaign_id, COUNT(*) AS target_cnt FROM src.mkt_target WHERE biz_date = $biz_date GROUP BY campaign_id
),
resp AS (
    SELECT campaign_id,
           COUNT(*) AS response_cnt,
           COUNT(CASE WHEN response = 'ACCEPT' THEN 1 END) AS accept_cnt,
           COUNT(CASE WHEN response = 'CLICK' THEN 1 END) AS click_cnt,
           COUNT(CASE WHEN response = 'DECLINE' THEN 1 END) AS decline_cnt,
           COUNT(CASE WHEN response = 'OPTOUT' THEN 1 END) AS optout_cnt,
           MAX(response_time) AS last_response_time
    FROM src.mkt_response
    WHERE CAST(response_time AS DATE) <= $biz_date
    GROUP BY campaign_id
)
SELECT
    c.campaign_id,
    c.campaign_name,
    c.channel,
    c.start_date,
    CAST(c.budget AS DECIMAL(18,2)) AS budget_cny,
    CAST($biz_date - c.start_date AS INT) AS days_running,
    CAST(COALESCE(t.target_cnt, 0) AS INT) AS target_cnt,
    CAST(COALESCE(r.response_cnt, 0) AS INT) AS response_cnt,
    CAST(COALESCE(r.accept_cnt, 0) AS INT) AS accept_cnt,
    CAST(COALESCE(r.click_cnt, 0) AS INT) AS click_cnt,
    CAST(COALESCE(r.decline_cnt, 0) AS INT) AS decline_cnt,
    CAST(COALESCE(r.optout_cnt, 0) AS INT) AS optout_cnt,
    CAST(CASE WHEN t.target_cnt > 0 THEN COALESCE(r.accept_cnt, 0) * 1.0 / t.target_cnt END AS DECIMAL(9,4)) AS accept_rate,
    CAST(CASE WHEN r.accept_cnt > 0 THEN c.budget / r.accept_cnt END AS DECIMAL(18,2)) AS cost_per_accept_cny,
    r.last_response_time
FROM src.mkt_campaign c
LEFT JOIN tgt t ON t.campaign_id = c.campaign_id
LEFT JOIN resp r ON r.campaign_id = c.campaign_id
WHERE c.biz_date = $biz_date
