-- foundation.metal_trade: precious-metal trades up to the business date
SELECT
    m.trade_id,
    m.cust_id AS customer_id,
    m.side,
    CASE m.side WHEN 'B' THEN 'D' WHEN 'S' THEN 'C' END AS direction,
    CAST(m.grams AS DECIMAL(14,4)) AS grams,
    CAST(m.amount AS DECIMAL(18,2)) AS amount,
    CAST(m.amount AS DECIMAL(18,2)) AS amount_cny,
    CAST(CASE WHEN m.grams > 0 THEN m.amount / m.grams END AS DECIMAL(18,2)) AS price_per_gram_cny,
    m.trade_time,
    CAST(m.trade_time AS DATE) AS trade_date,
    m.biz_date AS extract_date
FROM src.metal_metal_trade m
WHERE CAST(m.trade_time AS DATE) <= $biz_date
