-- foundation.wealth_holding: Holdings of wealth products and funds at market value, with product risk and suitability against the account's risk tolerance
SELECT
    h.holding_id AS holding_id,
    h.wm_acct AS wm_acct,
    h.cust_id AS customer_id,
    h.product_code AS product_code,
    p.product_family AS product_family,
    p.product_category AS product_category,
    h.units AS units,
    CAST(h.market_value AS DECIMAL(18,2)) AS market_value_cny,
    CAST(CASE WHEN h.units > 0 THEN h.market_value / h.units END AS DECIMAL(18,6)) AS nav,
    h.nav_date AS nav_date,
    pr.risk_rating AS product_risk_rating,
    w.risk_level AS customer_risk_level,
    CAST(CASE pr.risk_rating WHEN 'R1' THEN 1 WHEN 'R2' THEN 2 WHEN 'R3' THEN 3 WHEN 'R4' THEN 4 WHEN 'R5' THEN 5 END AS INT) > CAST(CASE w.risk_level WHEN 'R1' THEN 1 WHEN 'R2' THEN 2 WHEN 'R3' THEN 3 WHEN 'R4' THEN 4 WHEN 'R5' THEN 5 END AS INT) AS is_risk_mismatch
FROM src.wealth_wm_holding h
LEFT JOIN foundation.product p ON p.product_code = h.product_code
LEFT JOIN src.ref_product_risk pr ON pr.product_code = h.product_code AND pr.biz_date = $biz_date
LEFT JOIN src.wealth_wm_account w ON w.wm_acct = h.wm_acct AND w.biz_date = $biz_date
WHERE h.biz_date = $biz_date
