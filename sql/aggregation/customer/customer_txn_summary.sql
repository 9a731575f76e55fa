-- aggregation.customer_txn_summary: activity of every customer over the 30 days
-- ending on the business date (biz_date - 29 .. biz_date), and the last
-- transaction over the whole history. Customers without activity get zeros.
WITH txn_30d AS (
    SELECT
        t.customer_id,
        COUNT(*) AS txn_count_30d,
        SUM(t.amount_cny) AS txn_amount_cny_30d,
        SUM(CASE WHEN t.direction = 'D' THEN t.amount_cny END) AS debit_amount_cny_30d,
        SUM(CASE WHEN t.direction = 'C' THEN t.amount_cny END) AS credit_amount_cny_30d,
        COUNT(CASE WHEN t.agreement_type = 'CARD' THEN 1 END) AS card_txn_count_30d,
        SUM(CASE WHEN t.agreement_type = 'CARD' THEN t.amount_cny END) AS card_spend_cny_30d,
        COUNT(CASE WHEN t.channel = 'MOB' THEN 1 END) AS mobile_txn_count_30d
    FROM foundation.transaction t
    WHERE t.txn_date > $biz_date - INTERVAL '30' DAY
      AND t.txn_date <= $biz_date
    GROUP BY t.customer_id
),
last_txn AS (
    SELECT t.customer_id, MAX(t.txn_date) AS last_txn_date
    FROM foundation.transaction t
    WHERE t.txn_date <= $biz_date
    GROUP BY t.customer_id
),
login_30d AS (
    SELECT
        l.customer_id,
        COUNT(CASE WHEN l.success THEN 1 END) AS mobile_login_count_30d,
        COUNT(CASE WHEN NOT l.success THEN 1 END) AS failed_login_count_30d,
        MAX(CASE WHEN l.success THEN l.login_time END) AS last_login_time
    FROM foundation.mobile_login l
    WHERE l.login_date > $biz_date - INTERVAL '30' DAY
      AND l.login_date <= $biz_date
    GROUP BY l.customer_id
)
SELECT
    c.customer_id,
    CAST(COALESCE(t.txn_count_30d, 0) AS INT) AS txn_count_30d,
    CAST(COALESCE(t.txn_amount_cny_30d, 0) AS DECIMAL(18,2)) AS txn_amount_cny_30d,
    CAST(COALESCE(t.debit_amount_cny_30d, 0) AS DECIMAL(18,2)) AS debit_amount_cny_30d,
    CAST(COALESCE(t.credit_amount_cny_30d, 0) AS DECIMAL(18,2)) AS credit_amount_cny_30d,
    CAST(COALESCE(t.card_txn_count_30d, 0) AS INT) AS card_txn_count_30d,
    CAST(COALESCE(t.card_spend_cny_30d, 0) AS DECIMAL(18,2)) AS card_spend_cny_30d,
    CAST(COALESCE(t.mobile_txn_count_30d, 0) AS INT) AS mobile_txn_count_30d,
    CAST(COALESCE(l.mobile_login_count_30d, 0) AS INT) AS mobile_login_count_30d,
    CAST(COALESCE(l.failed_login_count_30d, 0) AS INT) AS failed_login_count_30d,
    l.last_login_time,
    x.last_txn_date,
    CAST($biz_date - x.last_txn_date AS INT) AS days_since_last_txn,
    $biz_date AS biz_date
FROM foundation.customer c
LEFT JOIN txn_30d t ON t.customer_id = c.customer_id
LEFT JOIN last_txn x ON x.customer_id = c.customer_id
LEFT JOIN login_30d l ON l.customer_id = c.customer_id
