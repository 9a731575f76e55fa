-- foundation.salary_credit: salary credits up to the business date with the
-- employer from the employer snapshot of the business date
SELECT
    s.credit_id,
    s.cust_id AS customer_id,
    s.employer_id,
    e.employer_name,
    e.pay_day AS employer_pay_day,
    s.acct_no,
    CAST(s.amount AS DECIMAL(18,2)) AS amount,
    CAST(s.amount AS DECIMAL(18,2)) AS amount_cny,
    s.pay_date,
    s.biz_date AS extract_date
FROM src.payroll_salary s
LEFT JOIN src.payroll_employer e ON e.employer_id = s.employer_id AND e.biz_date = $biz_date
WHERE s.pay_date <= $biz_date
