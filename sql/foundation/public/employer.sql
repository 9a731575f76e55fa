-- foundation.employer: Employers with a payroll agreement, with their servicing branch and the salary credits of the 30 days ending on the business date
WITH pc AS (
    SELECT employer_id, cust_id, COUNT(*) AS cnt, SUM(amount) AS amt
    FROM src.payroll_salary
    WHERE biz_date <= $biz_date AND pay_date > $biz_date - INTERVAL '30' DAY AND pay_date <= $biz_date
    GROUP BY employer_id, cust_id
),
s AS (SELECT employer_id, SUM(cnt) AS cnt, SUM(amt) AS amt, COUNT(*) AS cust FROM pc GROUP BY employer_id)
SELECT
    e.employer_id AS employer_id,
    e.employer_name AS employer_name,
    e.branch_id AS branch_id,
    b.branch_name AS branch_name,
    e.pay_day AS pay_day,
    CAST(COALESCE(s.cnt, 0) AS INT) AS salary_credit_cnt_30d,
    CAST(COALESCE(s.amt, 0) AS DECIMAL(18,2)) AS salary_amount_cny_30d,
    CAST(COALESCE(s.cust, 0) AS INT) AS employee_customer_cnt_30d
FROM src.payroll_employer e
LEFT JOIN src.ref_branch b ON b.branch_id = e.branch_id AND b.biz_date = $biz_date
LEFT JOIN s ON s.employer_id = e.employer_id
WHERE e.biz_date = $biz_date
