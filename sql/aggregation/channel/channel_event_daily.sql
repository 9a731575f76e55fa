-- aggregation.channel_event_daily: events per channel, type and day; distinct
-- customers through a two-level GROUP BY
WITH c AS (
    SELECT e.channel, e.event_type, e.event_date, e.customer_id,
           COUNT(*) AS event_cnt,
           COUNT(CASE WHEN e.is_success THEN 1 END) AS success_cnt
    FROM foundation.channel_event e
    WHERE e.event_date <= $biz_date
    GROUP BY e.channel, e.event_type, e.event_date, e.customer_id
)
SELECT
    c.channel,
    c.event_type,
    c.event_date,
    CAST(SUM(c.event_cnt) AS BIGINT) AS event_cnt,
    CAST(SUM(c.success_cnt) AS BIGINT) AS success_cnt,
    CAST(COUNT(*) AS BIGINT) AS customer_cnt,
    CAST(SUM(c.success_cnt) * 1.0 / SUM(c.event_cnt) AS DECIMAL(9,4)) AS success_rate
FROM c
GROUP BY c.channel, c.event_type, c.event_date
