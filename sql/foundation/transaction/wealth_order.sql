-- foundation.wealth_order: wealth product orders up to the business date
SELECT
    o.order_id,
    o.cust_id AS customer_id,
    o.product_code,
    o.side,
    CASE o.side WHEN 'S' THEN 'D' WHEN 'R' THEN 'C' END AS direction,
    CAST(o.amount AS DECIMAL(18,2)) AS amount,
    CAST(o.amount AS DECIMAL(18,2)) AS amount_cny,
    o.channel,
    o.order_time,
    CAST(o.order_time AS DATE) AS order_date,
    o.biz_date AS extract_date
FROM src.wealth_wm_order o
WHERE CAST(o.order_time AS DATE) <= $biz_date
