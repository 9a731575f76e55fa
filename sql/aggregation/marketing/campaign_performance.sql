-- aggregation.campaign_performance: per campaign from foundation.campaign_contact;
-- distinct customers through a two-level GROUP BY
WITH per_cust AS (
    SELECT x.campaign_id, x.customer_id,
           COUNT(*) AS line_cnt,
           MAX(CASE WHEN x.has_responded THEN 1 ELSE 0 END) AS responded,
           MAX(CASE WHEN x.has_accepted THEN 1 ELSE 0 END) AS accepted,
           MAX(CASE WHEN x.has_opted_out THEN 1 ELSE 0 END) AS opted_out,
           AVG(x.score) AS score,
           MIN(CASE WHEN x.days_to_first_response >= 0 THEN x.days_to_first_response END) AS days_to_response
    FROM foundation.campaign_contact x
    GROUP BY x.campaign_id, x.customer_id
),
k AS (
    SELECT campaign_id,
           SUM(line_cnt) AS line_cnt,
           COUNT(*) AS customer_cnt,
           SUM(responded) AS responded_customer_cnt,
           SUM(accepted) AS accepted_customer_cnt,
           SUM(opted_out) AS opted_out_customer_cnt,
           AVG(score) AS avg_score,
           AVG(CASE WHEN accepted = 1 THEN score END) AS avg_score_accepted,
           AVG(CAST(days_to_response AS DECIMAL(9,4))) AS avg_days_to_response
    FROM per_cust
    GROUP BY campaign_id
)
SELECT
    c.campaign_id,
    c.campaign_name,
    c.channel,
    c.start_date,
    c.budget_cny,
    c.days_running,
    CAST(COALESCE(k.line_cnt, 0) AS INT) AS target_line_cnt,
    CAST(COALESCE(k.customer_cnt, 0) AS INT) AS target_customer_cnt,
    CAST(COALESCE(k.responded_customer_cnt, 0) AS INT) AS responded_customer_cnt,
    CAST(COALESCE(k.accepted_customer_cnt, 0) AS INT) AS accepted_customer_cnt,
    CAST(COALESCE(k.opted_out_customer_cnt, 0) AS INT) AS opted_out_customer_cnt,
    c.response_cnt AS total_response_cnt,
    c.accept_cnt AS total_accept_cnt,
    CAST(CASE WHEN k.customer_cnt > 0 THEN k.responded_customer_cnt * 1.0 / k.customer_cnt ELSE 0 END AS DECIMAL(9,4)) AS customer_response_rate,
    CAST(CASE WHEN k.customer_cnt > 0 THEN k.accepted_customer_cnt * 1.0 / k.customer_cnt ELSE 0 END AS DECIMAL(9,4)) AS customer_accept_rate,
    CAST(k.avg_score AS DECIMAL(9,4)) AS avg_target_score,
    CAST(k.avg_score_accepted AS DECIMAL(9,4)) AS avg_score_accepted,
    CAST(k.avg_days_to_response AS DECIMAL(9,4)) AS avg_days_to_response,
    CAST(CASE WHEN k.accepted_customer_cnt > 0 THEN c.budget_cny / k.accepted_customer_cnt END AS DECIMAL(18,2)) AS cost_per_accepted_customer_cny
FROM foundation.campaign c
LEFT JOIN k ON k.campaign_id = c.campaign_id
