-- foundation.fx_rate: closing exchange rates of the business date, CNY per unit
SELECT
    r.currency,
    r.currency_name,
    r.rate_to_cny,
    r.biz_date AS rate_date
FROM src.ref_fx_rate r
WHERE r.biz_date = $biz_date
