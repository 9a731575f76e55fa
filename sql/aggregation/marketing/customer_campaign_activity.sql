-- aggregation.customer_campaign_activity: campaign contacts (target-list lines,
-- contact date = list date) and responses of every customer of foundation.customer;
-- distinct campaigns through a two-level GROUP BY.
WITH t AS (
    SELECT x.customer_id,
        COUNT(CASE WHEN x.contact_date > $biz_date - INTERVAL '90' DAY AND x.contact_date <= $biz_date THEN 1 END) AS contact_cnt_3m,
        COUNT(CASE WHEN x.contact_date > $biz_date - INTERVAL '365' DAY AND x.contact_date <= $biz_date THEN 1 END) AS contact_cnt_12m,
        COUNT(CASE WHEN x.contact_date > $biz_date - INTERVAL '30' DAY AND x.contact_date <= $biz_date THEN 1 END) AS contact_cnt_1m,
        COUNT(CASE WHEN x.contact_date > $biz_date - INTERVAL '180' DAY AND x.contact_date <= $biz_date THEN 1 END) AS contact_cnt_6m,
        COUNT(CASE WHEN x.campaign_channel = 'SMS' AND x.contact_date > $biz_date - INTERVAL '365' DAY AND x.contact_date <= $biz_date THEN 1 END) AS sms_contact_cnt_12m,
        COUNT(CASE WHEN x.campaign_channel = 'MOB' AND x.contact_date > $biz_date - INTERVAL '365' DAY AND x.contact_date <= $biz_date THEN 1 END) AS mob_contact_cnt_12m,
        COUNT(CASE WHEN x.campaign_channel = 'TEL' AND x.contact_date > $biz_date - INTERVAL '365' DAY AND x.contact_date <= $biz_date THEN 1 END) AS tel_contact_cnt_12m,
        COUNT(*) AS contact_cnt_total,
        COUNT(CASE WHEN x.has_responded THEN 1 END) AS responded_contact_cnt,
        COUNT(CASE WHEN x.has_accepted THEN 1 END) AS accepted_contact_cnt,
        AVG(x.score) AS avg_score,
        MAX(x.score) AS max_score,
        MAX(CASE WHEN x.contact_date <= $biz_date THEN x.contact_date END) AS last_contact_date,
        AVG(CASE WHEN x.days_to_first_response >= 0 THEN CAST(x.days_to_first_response AS DECIMAL(9,4)) END) AS avg_days_to_response
    FROM foundation.campaign_contact x
    GROUP BY x.customer_id
),
r AS (
    SELECT r.customer_id,
        COUNT(CASE WHEN r.response_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS response_cnt_3m,
        COUNT(CASE WHEN r.response_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS response_cnt_12m,
        COUNT(CASE WHEN r.response_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS response_cnt_1m,
        COUNT(CASE WHEN r.response_date > $biz_date - INTERVAL '180' DAY THEN 1 END) AS response_cnt_6m,
        COUNT(CASE WHEN r.response = 'ACCEPT' AND r.response_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS accept_cnt_3m,
        COUNT(CASE WHEN r.response = 'CLICK' AND r.response_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS click_cnt_3m,
        COUNT(CASE WHEN r.response = 'DECLINE' AND r.response_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS decline_cnt_3m,
        COUNT(CASE WHEN r.response = 'OPTOUT' AND r.response_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS optout_cnt_3m,
        COUNT(CASE WHEN r.response = 'ACCEPT' AND r.response_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS accept_cnt_12m,
        COUNT(CASE WHEN r.response = 'CLICK' AND r.response_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS click_cnt_12m,
        COUNT(CASE WHEN r.response = 'DECLINE' AND r.response_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS decline_cnt_12m,
        COUNT(CASE WHEN r.response = 'OPTOUT' AND r.response_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS optout_cnt_12m,
        COUNT(*) AS response_cnt_total,
        MAX(r.response_date) AS last_response_date,
        MAX(CASE WHEN r.response = 'OPTOUT' THEN 1 ELSE 0 END) AS has_optout,
        MAX(CASE WHEN r.response = 'ACCEPT' THEN r.response_date END) AS last_accept_date
    FROM foundation.campaign_response r
    GROUP BY r.customer_id
),
g0 AS (
    SELECT customer_id, campaign_id FROM foundation.campaign_target GROUP BY customer_id, campaign_id
),
g AS (
    SELECT customer_id, COUNT(*) AS campaign_cnt FROM g0 GROUP BY customer_id
)
SELECT
    c.customer_id AS customer_id,
    CAST(COALESCE(t.contact_cnt_3m, 0) AS INT) AS contact_cnt_3m,
    CAST(COALESCE(r.response_cnt_3m, 0) AS INT) AS response_cnt_3m,
    CAST(COALESCE(t.contact_cnt_12m, 0) AS INT) AS contact_cnt_12m,
    CAST(COALESCE(r.response_cnt_12m, 0) AS INT) AS response_cnt_12m,
    CAST(COALESCE(t.contact_cnt_1m, 0) AS INT) AS contact_cnt_1m,
    CAST(COALESCE(r.response_cnt_1m, 0) AS INT) AS response_cnt_1m,
    CAST(COALESCE(t.contact_cnt_6m, 0) AS INT) AS contact_cnt_6m,
    CAST(COALESCE(r.response_cnt_6m, 0) AS INT) AS response_cnt_6m,
    CAST(COALESCE(r.accept_cnt_3m, 0) AS INT) AS accept_cnt_3m,
    CAST(COALESCE(r.click_cnt_3m, 0) AS INT) AS click_cnt_3m,
    CAST(COALESCE(r.decline_cnt_3m, 0) AS INT) AS decline_cnt_3m,
    CAST(COALESCE(r.optout_cnt_3m, 0) AS INT) AS optout_cnt_3m,
    CAST(CASE WHEN t.contact_cnt_3m > 0 THEN COALESCE(r.response_cnt_3m, 0) * 1.0 / t.contact_cnt_3m ELSE 0 END AS DECIMAL(9,4)) AS response_rate_3m,
    CAST(CASE WHEN t.contact_cnt_3m > 0 THEN COALESCE(r.accept_cnt_3m, 0) * 1.0 / t.contact_cnt_3m ELSE 0 END AS DECIMAL(9,4)) AS accept_rate_3m,
    CAST(COALESCE(r.accept_cnt_12m, 0) AS INT) AS accept_cnt_12m,
    CAST(COALESCE(r.click_cnt_12m, 0) AS INT) AS click_cnt_12m,
    CAST(COALESCE(r.decline_cnt_12m, 0) AS INT) AS decline_cnt_12m,
    CAST(COALESCE(r.optout_cnt_12m, 0) AS INT) AS optout_cnt_12m,
    CAST(CASE WHEN t.contact_cnt_12m > 0 THEN COALESCE(r.response_cnt_12m, 0) * 1.0 / t.contact_cnt_12m ELSE 0 END AS DECIMAL(9,4)) AS response_rate_12m,
    CAST(CASE WHEN t.contact_cnt_12m > 0 THEN COALESCE(r.accept_cnt_12m, 0) * 1.0 / t.contact_cnt_12m ELSE 0 END AS DECIMAL(9,4)) AS accept_rate_12m,
    CAST(COALESCE(t.sms_contact_cnt_12m, 0) AS INT) AS sms_contact_cnt_12m,
    CAST(COALESCE(t.mob_contact_cnt_12m, 0) AS INT) AS mob_contact_cnt_12m,
    CAST(COALESCE(t.tel_contact_cnt_12m, 0) AS INT) AS tel_contact_cnt_12m,
    CAST(COALESCE(t.contact_cnt_total, 0) AS INT) AS contact_cnt_total,
    CAST(COALESCE(r.response_cnt_total, 0) AS INT) AS response_cnt_total,
    CAST(COALESCE(t.responded_contact_cnt, 0) AS INT) AS responded_contact_cnt,
    CAST(COALESCE(t.accepted_contact_cnt, 0) AS INT) AS accepted_contact_cnt,
    CAST(COALESCE(g.campaign_cnt, 0) AS INT) AS campaign_cnt,
    CAST(t.avg_score AS DECIMAL(9,4)) AS avg_target_score,
    CAST(t.max_score AS DECIMAL(9,4)) AS max_target_score,
    CAST(t.avg_days_to_response AS DECIMAL(9,4)) AS avg_days_to_response,
    t.last_contact_date AS last_contact_date,
    CAST($biz_date - t.last_contact_date AS INT) AS days_since_last_contact,
    r.last_response_date AS last_response_date,
    CAST($biz_date - r.last_response_date AS INT) AS days_since_last_response,
    r.last_accept_date AS last_accept_date,
    COALESCE(r.has_optout, 0) = 1 AS has_opted_out
FROM foundation.customer c
LEFT JOIN t ON t.customer_id = c.customer_id
LEFT JOIN r ON r.customer_id = c.customer_id
LEFT JOIN g ON g.customer_id = c.customer_id
