-- foundation.payee: Saved payees of customers (payment agreements of the transfer service)
SELECT
    p.payee_id AS payee_id,
    p.cust_id AS customer_id,
    p.payee_name AS payee_name,
    p.payee_acct AS payee_acct,
    p.added_date AS added_date,
    p.added_date > CAST($biz_date AS DATE) - INTERVAL '30' DAY AS is_added_30d
FROM src.pay_payee p
WHERE p.biz_date = $biz_date
