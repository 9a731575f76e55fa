-- foundation.insurance_policy: Insurance policies sold by the bank as agent (ins feed, no customer number): the holder is matched to the golden customer on the resident ID
SELECT
    i.policy_no AS policy_no,
    g.customer_id AS customer_id,
    i.holder_cert_no AS holder_cert_no,
    i.holder_name AS holder_name,
    i.holder_gender AS holder_gender,
    i.insurer AS insurer,
    i.product_code AS product_code,
    p.product_category AS product_category,
    CAST(i.annual_premium AS DECIMAL(18,2)) AS annual_premium_cny,
    CAST(i.sum_insured AS DECIMAL(18,2)) AS sum_insured_cny,
    i.effective_date AS effective_date,
    CAST(date_part('year', $biz_date) - date_part('year', i.effective_date) AS INT) AS policy_years,
    i.status AS status,
    CASE i.status WHEN '1' THEN 'IN_FORCE' WHEN '2' THEN 'LAPSED' WHEN '3' THEN 'SURRENDERED' END AS status_name,
    i.status = '1' AS is_in_force,
    g.customer_id IS NOT NULL AS is_matched
FROM src.ins_policy i
LEFT JOIN foundation.customer g ON g.cert_no = i.holder_cert_no
LEFT JOIN foundation.product p ON p.product_code = i.product_code
WHERE i.biz_date = $biz_date
