-- foundation.payee: saved payees from the payee snapshot of the business date
SELECT
    p.payee_id,
    p.cust_id AS customer_id,
    p.payee_name,
    p.payee_acct,
    p.added_date
FROM src.pay_payee p
WHERE p.biz_date = $biz_date
