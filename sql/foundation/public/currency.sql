-- foundation.currency: Currencies of the business date with the closing rate to CNY and the board buy/sell rates per unit (board rates are quoted per 100)
SELECT
    r.currency AS currency,
    r.currency_name AS currency_name,
    r.currency <> 'CNY' AS is_foreign,
    r.rate_to_cny AS rate_to_cny,
    CAST(f.buy_rate / 100 AS DECIMAL(18,6)) AS board_buy_rate,
    CAST(f.sell_rate / 100 AS DECIMAL(18,6)) AS board_sell_rate,
    CAST(CASE WHEN f.buy_rate > 0 THEN (f.sell_rate - f.buy_rate) / f.buy_rate * 100 END AS DECIMAL(9,4)) AS board_spread_pct,
    f.rate_date AS board_rate_date,
    $biz_date AS rate_date
FROM src.ref_fx_rate r
LEFT JOIN src.fx_board_rate f ON f.currency = r.currency AND f.biz_date = $biz_date
WHERE r.biz_date = $biz_date
