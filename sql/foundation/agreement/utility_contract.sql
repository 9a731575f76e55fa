-- foundation.utility_contract: Standing utility payment agreements with the payments of the last 30 days to the same biller
WITH p AS (SELECT cust_id, biller, COUNT(*) AS cnt, SUM(amount) AS amt FROM src.util_util_payment WHERE biz_date <= $biz_date AND pay_date > $biz_date - INTERVAL '30' DAY AND pay_date <= $biz_date GROUP BY cust_id, biller)
SELECT
    u.contract_id AS contract_id,
    u.cust_id AS customer_id,
    u.biller AS biller,
    u.biller_ref AS biller_ref,
    u.sign_date AS sign_date,
    CAST(COALESCE(p.cnt, 0) AS INT) AS payment_cnt_30d,
    CAST(COALESCE(p.amt, 0) AS DECIMAL(18,2)) AS payment_amount_cny_30d
FROM src.util_util_contract u
LEFT JOIN p ON p.cust_id = u.cust_id AND p.biller = u.biller
WHERE u.biz_date = $biz_date
