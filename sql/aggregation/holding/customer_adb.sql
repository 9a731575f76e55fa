-- aggregation.customer_adb: Average daily balances per customer holding any balance in the 90 days ending on the business date: deposits (demand, time, FX), wealth, metals, loans and cards over the current month, 30 and 90 days, CNY. Each day's snapshot partition is converted at that day's closing rate; the divisor is the number of business dates available in the window
WITH fx AS (
    SELECT currency, biz_date, rate_to_cny FROM src.ref_fx_rate WHERE biz_date <= $biz_date AND biz_date > $biz_date - INTERVAL '90' DAY
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
    WHERE a.biz_date <= $biz_date AND a.biz_date > $biz_date - INTERVAL '90' DAY
    UNION ALL
    SELECT h.cust_id, h.biz_date, NULL, NULL, NULL, NULL, h.market_value, NULL, NULL, NULL
    FROM src.wealth_wm_holding h WHERE h.biz_date <= $biz_date AND h.biz_date > $biz_date - INTERVAL '90' DAY
    UNION ALL
    SELECT m.cust_id, m.biz_date, NULL, NULL, NULL, NULL, NULL, m.market_value, NULL, NULL
    FROM src.metal_metal_acct m WHERE m.biz_date <= $biz_date AND m.biz_date > $biz_date - INTERVAL '90' DAY
    UNION ALL
    SELECT l.cust_id, l.biz_date, NULL, NULL, NULL, NULL, NULL, NULL, l.outstanding * r.rate_to_cny, NULL
    FROM src.loan_loan_contract l
    JOIN fx r ON r.currency = l.currency AND r.biz_date = l.biz_date
    WHERE l.biz_date <= $biz_date AND l.biz_date > $biz_date - INTERVAL '90' DAY
    UNION ALL
    SELECT k.cust_id, k.biz_date, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.balance
    FROM src.card_card_account k WHERE k.biz_date <= $biz_date AND k.biz_date > $biz_date - INTERVAL '90' DAY
),
days AS (SELECT DISTINCT biz_date FROM fx),
n AS (
    SELECT CAST(COUNT(CASE WHEN biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN 1 END) AS DECIMAL(18,0)) AS days_mtd,
           CAST(COUNT(CASE WHEN biz_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS DECIMAL(18,0)) AS days_1m,
           CAST(COUNT(*) AS DECIMAL(18,0)) AS days_3m
    FROM days
),
s AS (
    SELECT d.customer_id,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.deposit_cny END) AS deposit_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.demand_cny END) AS demand_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.time_cny END) AS time_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.fx_cny END) AS fx_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.wealth_cny END) AS wealth_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.metal_cny END) AS metal_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.loan_cny END) AS loan_mtd,
    SUM(CASE WHEN d.biz_date >= CAST(date_trunc('month', $biz_date) AS DATE) THEN d.card_cny END) AS card_mtd,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.deposit_cny END) AS deposit_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.demand_cny END) AS demand_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.time_cny END) AS time_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.fx_cny END) AS fx_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.wealth_cny END) AS wealth_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.metal_cny END) AS metal_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.loan_cny END) AS loan_1m,
    SUM(CASE WHEN d.biz_date > $biz_date - INTERVAL '30' DAY THEN d.card_cny END) AS card_1m,
    SUM(d.deposit_cny) AS deposit_3m,
    SUM(d.demand_cny) AS demand_3m,
    SUM(d.time_cny) AS time_3m,
    SUM(d.fx_cny) AS fx_3m,
    SUM(d.wealth_cny) AS wealth_3m,
    SUM(d.metal_cny) AS metal_3m,
    SUM(d.loan_cny) AS loan_3m,
    SUM(d.card_cny) AS card_3m,
    SUM(CASE WHEN d.biz_date = $biz_date THEN d.deposit_cny END) AS deposit_today
    FROM daily d
    GROUP BY d.customer_id
)
SELECT
    s.customer_id AS customer_id,
    CAST(COALESCE(s.deposit_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_deposit_mtd_cny,
    CAST(COALESCE(s.demand_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_demand_mtd_cny,
    CAST(COALESCE(s.time_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_time_mtd_cny,
    CAST(COALESCE(s.fx_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_fx_mtd_cny,
    CAST(COALESCE(s.wealth_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_wealth_mtd_cny,
    CAST(COALESCE(s.metal_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_metal_mtd_cny,
    CAST(COALESCE(s.loan_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_loan_mtd_cny,
    CAST(COALESCE(s.card_mtd, 0) / n.days_mtd AS DECIMAL(18,2)) AS adb_card_mtd_cny,
    CAST(COALESCE(s.deposit_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_deposit_1m_cny,
    CAST(COALESCE(s.demand_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_demand_1m_cny,
    CAST(COALESCE(s.time_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_time_1m_cny,
    CAST(COALESCE(s.fx_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_fx_1m_cny,
    CAST(COALESCE(s.wealth_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_wealth_1m_cny,
    CAST(COALESCE(s.metal_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_metal_1m_cny,
    CAST(COALESCE(s.loan_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_loan_1m_cny,
    CAST(COALESCE(s.card_1m, 0) / n.days_1m AS DECIMAL(18,2)) AS adb_card_1m_cny,
    CAST(COALESCE(s.deposit_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_deposit_3m_cny,
    CAST(COALESCE(s.demand_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_demand_3m_cny,
    CAST(COALESCE(s.time_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_time_3m_cny,
    CAST(COALESCE(s.fx_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_fx_3m_cny,
    CAST(COALESCE(s.wealth_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_wealth_3m_cny,
    CAST(COALESCE(s.metal_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_metal_3m_cny,
    CAST(COALESCE(s.loan_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_loan_3m_cny,
    CAST(COALESCE(s.card_3m, 0) / n.days_3m AS DECIMAL(18,2)) AS adb_card_3m_cny,
    CAST((COALESCE(s.deposit_3m, 0) + COALESCE(s.wealth_3m, 0) + COALESCE(s.metal_3m, 0)) / n.days_3m AS DECIMAL(18,2)) AS adb_aum_3m_cny,
    CAST((COALESCE(s.deposit_1m, 0) + COALESCE(s.wealth_1m, 0) + COALESCE(s.metal_1m, 0)) / n.days_1m AS DECIMAL(18,2)) AS adb_aum_1m_cny,
    CAST(n.days_mtd AS INT) AS days_mtd,
    CAST(n.days_1m AS INT) AS days_1m,
    CAST(n.days_3m AS INT) AS days_3m,
    CAST(COALESCE(s.deposit_today, 0) AS DECIMAL(18,2)) AS deposit_eod_cny,
    CAST(CASE WHEN COALESCE(s.deposit_3m, 0) > 0 THEN s.deposit_today * n.days_3m / s.deposit_3m END AS DECIMAL(18,4)) AS deposit_vs_adb_3m_ratio,
    $biz_date AS biz_date
FROM s
CROSS JOIN n
