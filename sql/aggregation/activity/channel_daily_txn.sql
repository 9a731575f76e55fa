-- aggregation.channel_daily_txn: per channel and day; distinct customers through a
-- two-level GROUP BY (channel, day, customer first)
WITH c AS (
    SELECT t.channel, t.txn_date, t.customer_id,
           COUNT(*) AS txn_cnt,
           SUM(t.amount_cny) AS amount_cny,
           SUM(CASE WHEN t.direction = 'D' THEN t.amount_cny ELSE 0 END) AS debit_amount_cny,
           SUM(CASE WHEN t.direction = 'C' THEN t.amount_cny ELSE 0 END) AS credit_amount_cny,
           MAX(t.amount_cny) AS max_amount_cny
    FROM foundation.transaction_all t
    WHERE t.txn_date <= $biz_date
    GROUP BY t.channel, t.txn_date, t.customer_id
)
SELECT
    c.channel,
    c.txn_date,
    CAST(SUM(c.txn_cnt) AS BIGINT) AS txn_cnt,
    CAST(COUNT(*) AS BIGINT) AS customer_cnt,
    CAST(SUM(c.amount_cny) AS DECIMAL(18,2)) AS amount_cny,
    CAST(SUM(c.debit_amount_cny) AS DECIMAL(18,2)) AS debit_amount_cny,
    CAST(SUM(c.credit_amount_cny) AS DECIMAL(18,2)) AS credit_amount_cny,
    CAST(MAX(c.max_amount_cny) AS DECIMAL(18,2)) AS max_amount_cny,
    CAST(SUM(c.amount_cny) / SUM(c.txn_cnt) AS DECIMAL(18,2)) AS avg_ticket_cny
FROM c
GROUP BY c.channel, c.txn_date
