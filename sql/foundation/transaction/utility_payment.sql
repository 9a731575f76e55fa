-- foundation.utility_payment: utility payments up to the business date, with the
-- customer's contract for the same biller from the contract snapshot
WITH contract AS (
    SELECT c.cust_id, c.biller, MIN(c.sign_date) AS sign_date, MIN(c.contract_id) AS contract_id
    FROM src.util_util_contract c
    WHERE c.biz_date = $biz_date
    GROUP BY c.cust_id, c.biller
)
SELECT
    p.payment_id,
    p.cust_id AS customer_id,
    p.biller,
    CAST(p.amount AS DECIMAL(18,2)) AS amount,
    CAST(p.amount AS DECIMAL(18,2)) AS amount_cny,
    p.pay_date,
    c.contract_id,
    c.sign_date AS contract_sign_date,
    c.contract_id IS NOT NULL AS has_contract,
    p.biz_date AS extract_date
FROM src.util_util_payment p
LEFT JOIN contract c ON c.cust_id = p.cust_id AND c.biller = p.biller
WHERE p.pay_date <= $biz_date
