-- aggregation.customer_month_balance: Month-end and month-average balances per customer and month (the 12 months ending on the business date, each month over its available business dates), by family: deposits (demand, time, FX), wealth, metals, loans, cards, CNY
WITH fx AS (
    SELECT currency, biz_date, rate_to_cny FROM src.ref_fx_rate WHERE biz_date <= $biz_date AND biz_date > $biz_date - INTERVAL '365' DAY
),
daily AS (
    SELECT a.cust_id AS customer_id, a.biz_date,
           a.balance * r.rate_to_cny AS deposit_cny,
           CASE WHEN a.product_code LIKE 'D1%' THEN a.balance * r.rate_to_cny END AS demand_cny,
           CASE WHEN a.product_code NOT LIKE 'D1%' THEN a.balance * r.rate_to_cny END AS time_cny,
           CASE WHEN a.currency <> 'CNY' THEN a.balance * r.rate_to_cny END AS fx_cny,
           CAST(NULL AS DECIMAL(38,8)) AS wealth_cny, CAST(NULL AS DECIMAL(38,8)) AS metal_cny,
           CAST(NULL AS DECIMAL(38,8)) AS loan_cny, CAST(NULL AS DECIMAL(38,8)) AS card_cny
    FROM src.core_account a
    JOIN fx r ON r.currency = a.currency AND r.biz_date = a.biz_date
    WHERE a.biz_date <= $biz_date AND a.biz_date > $biz_date - INTERVAL '365' DAY
    UNION ALL
    SELECT h.cust_id, h.biz_date, NULL, NULL, NULL, NULL, h.market_value, NULL, NULL, NULL
    FROM src.wealth_wm_holding h WHERE h.biz_date <= $biz_date AND h.biz_date > $biz_date - INTERVAL '365' DAY
    UNION ALL
    SELECT m.cust_id, m.biz_date, NULL, NULL, NULL, NULL, NULL, m.market_value, NULL, NULL
    FROM src.metal_metal_acct m WHERE m.biz_date <= $biz_date AND m.biz_date > $biz_date - INTERVAL '365' DAY
    UNION ALL
    SELECT l.cust_id, l.biz_date, NULL, NULL, NULL, NULL, NULL, NULL, l.outstanding * r.rate_to_cny, NULL
    FROM src.loan_loan_contract l
    JOIN fx r ON r.currency = l.currency AND r.biz_date = l.biz_date
    WHERE l.biz_date <= $biz_date AND l.biz_date > $biz_date - INTERVAL '365' DAY
    UNION ALL
    SELECT k.cust_id, k.biz_date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.balance
    FROM src.card_card_account k WHERE k.biz_date <= $biz_date AND k.biz_date > $biz_date - INTERVAL '365' DAY
),
n AS (
    SELECT CAST(date_trunc('month', biz_date) AS DATE) AS month, MAX(biz_date) AS last_date, CAST(COUNT(*) AS DECIMAL(18,0)) AS day_cnt
    FROM (SELECT DISTINCT biz_date FROM fx) x
    GROUP BY CAST(date_trunc('month', biz_date) AS DATE)
),
m AS (
    SELECT d.customer_id, n.month,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.deposit_cny END) AS deposit_me,
    SUM(d.deposit_cny) AS deposit_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.demand_cny END) AS demand_me,
    SUM(d.demand_cny) AS demand_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.time_cny END) AS time_me,
    SUM(d.time_cny) AS time_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.fx_cny END) AS fx_me,
    SUM(d.fx_cny) AS fx_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.wealth_cny END) AS wealth_me,
    SUM(d.wealth_cny) AS wealth_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.metal_cny END) AS metal_me,
    SUM(d.metal_cny) AS metal_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.loan_cny END) AS loan_me,
    SUM(d.loan_cny) AS loan_sum,
    SUM(CASE WHEN d.biz_date = n.last_date THEN d.card_cny END) AS card_me,
    SUM(d.card_cny) AS card_sum
    FROM daily d
    JOIN n ON n.month = CAST(date_trunc('month', d.biz_date) AS DATE)
    GROUP BY d.customer_id, n.month
)
SELECT
    m.customer_id AS customer_id,
    m.month AS month,
    CAST(n.day_cnt AS INT) AS day_cnt,
    n.last_date AS month_end_date,
    m.month = CAST(date_trunc('month', $biz_date) AS DATE) AS is_current_month,
    CAST(COALESCE(m.deposit_me, 0) AS DECIMAL(18,2)) AS deposit_month_end_cny,
    CAST(COALESCE(m.deposit_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS deposit_month_avg_cny,
    CAST(COALESCE(m.demand_me, 0) AS DECIMAL(18,2)) AS demand_month_end_cny,
    CAST(COALESCE(m.demand_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS demand_month_avg_cny,
    CAST(COALESCE(m.time_me, 0) AS DECIMAL(18,2)) AS time_month_end_cny,
    CAST(COALESCE(m.time_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS time_month_avg_cny,
    CAST(COALESCE(m.fx_me, 0) AS DECIMAL(18,2)) AS fx_month_end_cny,
    CAST(COALESCE(m.fx_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS fx_month_avg_cny,
    CAST(COALESCE(m.wealth_me, 0) AS DECIMAL(18,2)) AS wealth_month_end_cny,
    CAST(COALESCE(m.wealth_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS wealth_month_avg_cny,
    CAST(COALESCE(m.metal_me, 0) AS DECIMAL(18,2)) AS metal_month_end_cny,
    CAST(COALESCE(m.metal_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS metal_month_avg_cny,
    CAST(COALESCE(m.loan_me, 0) AS DECIMAL(18,2)) AS loan_month_end_cny,
    CAST(COALESCE(m.loan_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS loan_month_avg_cny,
    CAST(COALESCE(m.card_me, 0) AS DECIMAL(18,2)) AS card_month_end_cny,
    CAST(COALESCE(m.card_sum, 0) / n.day_cnt AS DECIMAL(18,2)) AS card_month_avg_cny,
    CAST(COALESCE(COALESCE(m.deposit_me, 0) + COALESCE(m.wealth_me, 0) + COALESCE(m.metal_me, 0), 0) AS DECIMAL(18,2)) AS aum_month_end_cny,
    CAST((COALESCE(m.deposit_sum, 0) + COALESCE(m.wealth_sum, 0) + COALESCE(m.metal_sum, 0)) / n.day_cnt AS DECIMAL(18,2)) AS aum_month_avg_cny,
    CAST(COALESCE(COALESCE(m.loan_me, 0) + COALESCE(m.card_me, 0), 0) AS DECIMAL(18,2)) AS debt_month_end_cny
FROM m
JOIN n ON n.month = m.month
