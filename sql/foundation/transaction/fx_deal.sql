-- foundation.fx_deal: retail FX deals up to the business date; the CNY value uses
-- the reference closing rate of the deal date, else the business date's
SELECT
    d.deal_id,
    d.cust_id AS customer_id,
    d.cert_no,
    d.currency,
    d.side,
    CASE d.side WHEN 'B' THEN 'D' WHEN 'S' THEN 'C' END AS direction,
    CAST(d.fx_amount AS DECIMAL(18,2)) AS fx_amount,
    CAST(d.fx_amount * COALESCE(r.rate_to_cny, f.rate_to_cny) AS DECIMAL(18,2)) AS amount_cny,
    d.purpose,
    CASE d.purpose WHEN '01' THEN 'TRAVEL' WHEN '02' THEN 'STUDY_ABROAD' WHEN '03' THEN 'MEDICAL' ELSE 'OTHER' END AS purpose_name,
    d.deal_time,
    CAST(d.deal_time AS DATE) AS deal_date,
    d.biz_date AS extract_date
FROM src.fx_fx_deal d
LEFT JOIN src.ref_fx_rate r ON r.currency = d.currency AND r.biz_date = CAST(d.deal_time AS DATE)
LEFT JOIN foundation.fx_rate f ON f.currency = d.currency
WHERE CAST(d.deal_time AS DATE) <= $biz_date
