-- aggregation.customer_month_balance: Month-end and month-average balances per customer and month (the 12 months ending on the business date, each month over its available business dates), by family: deposits (demand, time, FX), wealth, metals, loans, cards, CNY
WITH dep AS (
    SELECT a.cust_id AS customer_id, a.biz_date,
           SUM(a.balance * r.rate_to_cny) AS deposit_cny,
           SUM(CASE WHEN a.product_code LIKE 'D1%' THEN a.balance * r.rate_to_cny END) AS demand_cny,
           SUM(CASE WHEN a.product_code NOT LIKE 'D1%' THEN a.balance * r.rate_to_cny END) AS time_cny,
           SUM(CASE WHEN a.currency <> 'CNY' THEN a.balance * r.rate_to_cny END) AS fx_cny
    FROM src.core_account a
    JOIN src.ref_fx_rate r ON r.currency = a.currency AND r.biz_date = a.biz_date
    WHERE a.biz_date <= $biz_date AND a.biz_date > $biz_date - INTERVAL '365' DAY
    GROUP BY a.cust_id, a.biz_date
),
wm AS (
    SELECT h.cust_id AS customer_id, h.biz_date, SUM(h.market_value) AS wealth_cny
    FROM src.wealth_wm_holding h
    WHERE h.biz_date <= $biz_date AND h.biz_date > $biz_date - INTERVAL '365' DAY
    GROUP BY h.cust_id, h.biz_date
),
mt AS (
    SELECT m.cust_id AS customer_id, m.biz_date, SUM(m.market_value) AS metal_cny
    FROM src.metal_metal_acct m
    WHERE m.biz_date <= $biz_date AND m.biz_date > $biz_date - INTERVAL '365' DAY
    GROUP BY m.cust_id, m.biz_date
),
ln AS (
    SELECT l.cust_id AS customer_id, l.biz_date, SUM(l.outstanding * r.rate_to_cny) AS loan_cny
    FROM src.loan_loan_contract l
    JOIN src.ref_fx_rate r ON r.currency = l.currency AND r.biz_date = l.biz_date
    WHERE l.biz_date <= $biz_date AND l.biz_date > $biz_date - INTERVAL '365' DAY
    GROUP BY l.cust_id, l.biz_date
),
cd AS (
    SELECT k.cust_id AS customer_id, k.biz_date, SUM(k.balance) AS card_cny
    FROM src.card_card_account k
    WHERE k.biz_date <= $biz_date AND k.biz_date > $biz_date - INTERVAL '365' DAY
    GROUP BY k.cust_id, k.biz_date
),
daily AS (
    SELECT customer_id, biz_date,
           SUM(deposit_cny) AS deposit_cny, SUM(demand_cny) AS demand_cny, SUM(time_cny) AS time_cny, SUM(fx_cny) AS fx_cny,
           SUM(wealth_cny) AS wealth_cny, SUM(metal_cny) AS metal_cny, SUM(loan_cny) AS loan_cny, SUM(card_cny) AS card_cny
    FROM (
        SELECT customer_id, biz_date, deposit_cny, demand_cny, time_cny, fx_cny, CAST(NULL AS DECIMAL(38,6)) AS wealth_cny, CAST(NULL AS DECIMAL(38,6)) AS metal_cny, CAST(NULL AS DECIMAL(38,6)) AS loan_cny, CAST(NULL AS DECIMAL(38,6)) AS card_cny FROM dep
        UNION ALL SELECT customer_id, biz_date, NULL, NULL, NULL, NULL, wealth_cny, NULL, NULL, NULL FROM wm
        UNION ALL SELECT customer_id, biz_date, NULL, NULL, NULL, NULL, NULL, metal_cny, NULL, NULL FROM mt
        UNION ALL SELECT customer_id, biz_date, NULL, NULL, NULL, NULL, NULL, NULL, loan_cny, NULL FROM ln
        UNION ALL SELECT customer_id, biz_date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, card_cny FROM cd
    ) u
    GROUP BY customer_id, biz_date
),
n AS (
    SELECT CAST(date_trunc('month', biz_date) AS DATE) AS month, MAX(biz_date) AS last_date, CAST(COUNT(*) AS DECIMAL(18,0)) AS day_cnt
    FROM (SELECT DISTINCT biz_date FROM src.core_account WHERE biz_date <= $biz_date AND biz_date > $biz_date - INTERVAL '365' DAY) x
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
