-- foundation.aml_alert: AML scenario alerts up to the business date
SELECT
    a.alert_id,
    a.cust_id AS customer_id,
    a.rule_code,
    CAST(a.amount AS DECIMAL(18,2)) AS amount_cny,
    a.alert_date,
    a.biz_date AS extract_date
FROM src.aml_aml_alert a
WHERE a.alert_date <= $biz_date
