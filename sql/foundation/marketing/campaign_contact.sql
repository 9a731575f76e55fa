-- foundation.campaign_contact: target lines with campaign attributes and the
-- customer's responses to the same campaign (aggregated per campaign x customer)
WITH resp AS (
    SELECT
        campaign_id,
        customer_id,
        COUNT(*) AS response_cnt,
        MIN(response_time) AS first_response_time,
        MAX(response_time) AS last_response_time,
        MAX(CASE WHEN response = 'CLICK' THEN 1 ELSE 0 END) AS has_click,
        MAX(CASE WHEN response = 'ACCEPT' THEN 1 ELSE 0 END) AS has_accept,
        MAX(CASE WHEN response = 'DECLINE' THEN 1 ELSE 0 END) AS has_decline,
        MAX(CASE WHEN response = 'OPTOUT' THEN 1 ELSE 0 END) AS has_optout
    FROM foundation.campaign_response
    GROUP BY campaign_id, customer_id
)
SELECT
    t.target_id,
    t.campaign_id,
    t.customer_id,
    c.campaign_name,
    c.channel AS campaign_channel,
    c.start_date AS campaign_start_date,
    t.score,
    t.list_date AS contact_date,
    CAST(COALESCE(r.response_cnt, 0) AS INT) AS response_cnt,
    COALESCE(r.response_cnt, 0) > 0 AS has_responded,
    COALESCE(r.has_click, 0) = 1 AS has_clicked,
    COALESCE(r.has_accept, 0) = 1 AS has_accepted,
    COALESCE(r.has_decline, 0) = 1 AS has_declined,
    COALESCE(r.has_optout, 0) = 1 AS has_opted_out,
    r.first_response_time,
    CAST(r.first_response_time AS DATE) AS first_response_date,
    r.last_response_time,
    CAST(CAST(r.first_response_time AS DATE) - t.list_date AS INT) AS days_to_first_response
FROM foundation.campaign_target t
LEFT JOIN foundation.campaign c ON c.campaign_id = t.campaign_id
LEFT JOIN resp r ON r.campaign_id = t.campaign_id AND r.customer_id = t.customer_id
