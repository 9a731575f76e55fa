-- foundation.utility_contract: payment contracts from the snapshot of the business date
SELECT
    c.contract_id,
    c.cust_id AS customer_id,
    c.biller,
    c.biller_ref,
    c.sign_date
FROM src.util_util_contract c
WHERE c.biz_date = $biz_date
