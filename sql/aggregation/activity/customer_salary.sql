-- aggregation.customer_salary: salary credits per customer; rn = 1 marks the
-- latest credit (by date, then serial) for the last-employer columns
WITH s AS (
    SELECT c.*, ROW_NUMBER() OVER (PARTITION BY c.customer_id ORDER BY c.pay_date DESC, c.credit_id DESC) AS rn
    FROM foundation.salary_credit c
    WHERE c.customer_id IS NOT NULL AND c.pay_date <= $biz_date
)
SELECT
    s.customer_id AS customer_id,
    CAST(COUNT(CASE WHEN s.pay_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS INT) AS salary_cnt_1m,
    CAST(COALESCE(SUM(CASE WHEN s.pay_date > $biz_date - INTERVAL '30' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS salary_amount_cny_1m,
    CAST(COUNT(CASE WHEN s.pay_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS INT) AS salary_cnt_3m,
    CAST(COALESCE(SUM(CASE WHEN s.pay_date > $biz_date - INTERVAL '90' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS salary_amount_cny_3m,
    CAST(COUNT(CASE WHEN s.pay_date > $biz_date - INTERVAL '180' DAY THEN 1 END) AS INT) AS salary_cnt_6m,
    CAST(COALESCE(SUM(CASE WHEN s.pay_date > $biz_date - INTERVAL '180' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS salary_amount_cny_6m,
    CAST(COUNT(CASE WHEN s.pay_date > $biz_date - INTERVAL '365' DAY THEN 1 END) AS INT) AS salary_cnt_12m,
    CAST(COALESCE(SUM(CASE WHEN s.pay_date > $biz_date - INTERVAL '365' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS salary_amount_cny_12m,
    CAST(COALESCE(AVG(CASE WHEN s.pay_date > $biz_date - INTERVAL '90' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS avg_salary_cny_3m,
    CAST(COALESCE(AVG(CASE WHEN s.pay_date > $biz_date - INTERVAL '365' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS avg_salary_cny_12m,
    CAST(COALESCE(MAX(CASE WHEN s.pay_date > $biz_date - INTERVAL '365' DAY THEN s.amount_cny END), 0) AS DECIMAL(18,2)) AS max_salary_cny_12m,
    MIN(s.pay_date) AS first_salary_date,
    MAX(s.pay_date) AS last_salary_date,
    CAST($biz_date - MAX(s.pay_date) AS INT) AS days_since_last_salary,
    MAX(CASE WHEN s.rn = 1 THEN s.employer_id END) AS last_employer_id,
    MAX(CASE WHEN s.rn = 1 THEN s.employer_name END) AS last_employer_name,
    CAST(MAX(CASE WHEN s.rn = 1 THEN s.amount_cny END) AS DECIMAL(18,2)) AS last_salary_amount_cny,
    COUNT(CASE WHEN s.pay_date > $biz_date - INTERVAL '90' DAY THEN 1 END) > 0 AS is_payroll_customer
FROM s
GROUP BY s.customer_id
