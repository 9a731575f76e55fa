-- foundation.repayment_plan: Next loan instalment falling due in the 30 days after the business date, per loan
SELECT
    p.loan_no AS loan_no,
    l.cust_id AS customer_id,
    p.due_date AS due_date,
    CAST(p.due_date - $biz_date AS INT) AS days_to_due,
    CAST(p.instalment AS DECIMAL(18,2)) AS instalment,
    CAST(p.instalment * r.rate_to_cny AS DECIMAL(18,2)) AS instalment_cny,
    p.debit_acct AS debit_acct,
    CAST(a.balance * ra.rate_to_cny AS DECIMAL(18,2)) AS debit_acct_balance_cny,
    a.balance * ra.rate_to_cny >= p.instalment * r.rate_to_cny AS is_covered
FROM src.loan_repay_plan p
LEFT JOIN src.loan_loan_contract l ON l.loan_no = p.loan_no AND l.biz_date = $biz_date
LEFT JOIN foundation.fx_rate r ON r.currency = COALESCE(l.currency, 'CNY')
LEFT JOIN src.core_account a ON a.acct_no = p.debit_acct AND a.biz_date = $biz_date
LEFT JOIN foundation.fx_rate ra ON ra.currency = a.currency
WHERE p.biz_date = $biz_date
