-- foundation.customer_employer_link: Customers paid by a payroll-agreement employer: one row per customer × employer from the salary credits of all ingested dates up to the business date
WITH s AS (
    SELECT cust_id, employer_id, COUNT(*) AS cnt, SUM(amount) AS total, MIN(pay_date) AS first_pay_date, MAX(pay_date) AS last_pay_date, MAX(acct_no) AS acct_no
    FROM src.payroll_salary
    WHERE biz_date <= $biz_date AND pay_date <= $biz_date
    GROUP BY cust_id, employer_id
)
SELECT
    s.cust_id AS customer_id,
    s.employer_id AS employer_id,
    e.employer_name AS employer_name,
    e.branch_id AS employer_branch_id,
    e.pay_day AS pay_day,
    CAST(s.cnt AS INT) AS salary_credit_cnt,
    CAST(s.total AS DECIMAL(18,2)) AS salary_total_cny,
    CAST(s.total / s.cnt AS DECIMAL(18,2)) AS salary_avg_cny,
    s.first_pay_date AS first_pay_date,
    s.last_pay_date AS last_pay_date,
    CAST($biz_date - s.last_pay_date AS INT) AS days_since_last_pay,
    s.acct_no AS salary_acct_no
FROM s
LEFT JOIN src.payroll_employer e ON e.employer_id = s.employer_id AND e.biz_date = $biz_date
