-- foundation.pension_contribution: Pension contributions, every ingested date up to the business date, matched to the golden customer on the resident ID
SELECT
    x.contrib_id AS contrib_id,
    g.customer_id AS customer_id,
    x.cert_no AS cert_no,
    CAST(x.amount AS DECIMAL(18,2)) AS amount_cny,
    x.contrib_date AS contrib_date
FROM src.pension_contribution x
LEFT JOIN foundation.customer g ON g.cert_no = x.cert_no
WHERE x.biz_date <= $biz_date AND x.contrib_date <= $biz_date
