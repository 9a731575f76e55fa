-- foundation.metal_account: Gold and silver accumulation accounts with grams held and market value, and the trades of the last 30 days
WITH t AS (SELECT cust_id, SUM(CASE WHEN side = 'B' THEN amount END) AS buy, SUM(CASE WHEN side = 'S' THEN amount END) AS sell FROM src.metal_metal_trade WHERE biz_date <= $biz_date AND CAST(trade_time AS DATE) > $biz_date - INTERVAL '30' DAY GROUP BY cust_id)
SELECT
    m.metal_acct AS metal_acct,
    m.cust_id AS customer_id,
    m.product_code AS product_code,
    CASE m.product_code WHEN 'M101' THEN 'XAU' WHEN 'M201' THEN 'XAG' END AS metal,
    m.grams AS grams,
    CAST(m.market_value AS DECIMAL(18,2)) AS market_value_cny,
    CAST(CASE WHEN m.grams > 0 THEN m.market_value / m.grams END AS DECIMAL(18,4)) AS price_per_gram_cny,
    m.open_date AS open_date,
    CAST(COALESCE(t.buy, 0) AS DECIMAL(18,2)) AS buy_amount_cny_30d,
    CAST(COALESCE(t.sell, 0) AS DECIMAL(18,2)) AS sell_amount_cny_30d
FROM src.metal_metal_acct m
LEFT JOIN t ON t.cust_id = m.cust_id
WHERE m.biz_date = $biz_date
