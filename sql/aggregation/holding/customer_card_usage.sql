-- aggregation.customer_card_usage: Credit card usage per cardholder on the business date: cards, limits, balances, utilisation of limit, over-limit cards and the latest statements, CNY
WITH k AS (
    SELECT customer_id,
           COUNT(CASE WHEN status <> 'C' THEN 1 END) AS card_cnt,
           COUNT(CASE WHEN status = 'N' THEN 1 END) AS active_cnt,
           COUNT(CASE WHEN status = 'F' THEN 1 END) AS frozen_cnt,
           COUNT(CASE WHEN status = 'C' THEN 1 END) AS cancelled_cnt,
           COALESCE(SUM(CASE WHEN status <> 'C' THEN credit_limit_cny END), 0) AS limit_cny,
           COALESCE(SUM(CASE WHEN status <> 'C' THEN balance_cny END), 0) AS balance_cny,
           MAX(CASE WHEN status <> 'C' THEN utilisation END) AS max_util,
           COUNT(CASE WHEN is_over_limit AND status <> 'C' THEN 1 END) AS over_cnt,
           MAX(CASE WHEN status <> 'C' THEN credit_limit_cny END) AS max_limit,
           MAX(CASE WHEN status <> 'C' THEN CASE card_tier WHEN 'STANDARD' THEN 1 WHEN 'GOLD' THEN 2 WHEN 'PLATINUM' THEN 3 END END) AS top_tier,
           SUM(last_stmt_balance_cny) AS stmt_bal,
           SUM(last_min_payment_cny) AS min_pay,
           MIN(open_date) AS first_open
    FROM foundation.card_account
    GROUP BY customer_id
)
SELECT
    k.customer_id AS customer_id,
    CAST(COALESCE(k.card_cnt, 0) AS INT) AS card_cnt,
    CAST(COALESCE(k.active_cnt, 0) AS INT) AS card_active_cnt,
    CAST(COALESCE(k.frozen_cnt, 0) AS INT) AS card_frozen_cnt,
    CAST(COALESCE(k.cancelled_cnt, 0) AS INT) AS card_cancelled_cnt,
    CAST(COALESCE(k.limit_cny, 0) AS DECIMAL(18,2)) AS card_limit_cny,
    CAST(COALESCE(k.balance_cny, 0) AS DECIMAL(18,2)) AS card_balance_cny,
    CAST(COALESCE(k.limit_cny - k.balance_cny, 0) AS DECIMAL(18,2)) AS card_available_cny,
    CAST(CASE WHEN k.limit_cny > 0 THEN k.balance_cny / k.limit_cny ELSE 0 END AS DECIMAL(18,4)) AS card_utilisation,
    CAST(COALESCE(k.max_util, 0) AS DECIMAL(9,4)) AS card_max_utilisation,
    CAST(COALESCE(k.over_cnt, 0) AS INT) AS card_over_limit_cnt,
    CAST(COALESCE(k.max_limit, 0) AS DECIMAL(18,2)) AS card_max_limit_cny,
    CAST(COALESCE(k.top_tier, 0) AS INT) AS card_top_tier_rank,
    COALESCE(k.top_tier, 0) = 3 AS has_platinum_card,
    CAST(COALESCE(k.stmt_bal, 0) AS DECIMAL(18,2)) AS last_stmt_balance_cny,
    CAST(COALESCE(k.min_pay, 0) AS DECIMAL(18,2)) AS last_min_payment_cny,
    k.first_open AS first_card_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', k.first_open)) * 12 + date_part('month', $biz_date) - date_part('month', k.first_open) AS INT) AS card_tenure_months,
    $biz_date AS biz_date
FROM k
