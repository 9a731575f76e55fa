-- aggregation.customer_tenure: Relationship and product tenure of every golden customer: relationship age, oldest and newest agreement, first opening per family and new agreements of the last 30/90 days
WITH t AS (
    SELECT customer_id,
    MIN(CASE WHEN agreement_type = 'DEPOSIT' THEN open_date END) AS deposit_first,
    MIN(CASE WHEN agreement_type = 'CARD' THEN open_date END) AS card_first,
    MIN(CASE WHEN agreement_type = 'LOAN' THEN open_date END) AS loan_first,
    MIN(CASE WHEN agreement_type = 'WEALTH' THEN open_date END) AS wealth_first,
    MIN(CASE WHEN agreement_type = 'INSURANCE' THEN open_date END) AS insurance_first,
    MIN(CASE WHEN agreement_type = 'METAL' THEN open_date END) AS metal_first,
    MIN(open_date) AS first_date,
    MAX(open_date) AS last_date,
    COUNT(CASE WHEN open_date > $biz_date - INTERVAL '30' DAY THEN 1 END) AS new_30d,
    COUNT(CASE WHEN open_date > $biz_date - INTERVAL '90' DAY THEN 1 END) AS new_90d
    FROM foundation.agreement_all
    WHERE open_date <= $biz_date
    GROUP BY customer_id
)
SELECT
    c.customer_id AS customer_id,
    c.open_date AS relationship_open_date,
    CAST($biz_date - c.open_date AS INT) AS relationship_tenure_days,
    CAST((date_part('year', $biz_date) - date_part('year', c.open_date)) * 12 + date_part('month', $biz_date) - date_part('month', c.open_date) AS INT) AS relationship_tenure_months,
    t.first_date AS first_agreement_date,
    t.last_date AS last_agreement_date,
    CAST($biz_date - t.last_date AS INT) AS days_since_last_agreement,
    CAST(COALESCE(t.new_30d, 0) AS INT) AS new_agreement_cnt_30d,
    CAST(COALESCE(t.new_90d, 0) AS INT) AS new_agreement_cnt_90d,
    COALESCE(c.open_date > CAST($biz_date AS DATE) - INTERVAL '90' DAY, false) AS is_new_customer_90d,
    t.deposit_first AS deposit_first_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', t.deposit_first)) * 12 + date_part('month', $biz_date) - date_part('month', t.deposit_first) AS INT) AS deposit_tenure_months,
    t.card_first AS card_first_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', t.card_first)) * 12 + date_part('month', $biz_date) - date_part('month', t.card_first) AS INT) AS card_tenure_months,
    t.loan_first AS loan_first_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', t.loan_first)) * 12 + date_part('month', $biz_date) - date_part('month', t.loan_first) AS INT) AS loan_tenure_months,
    t.wealth_first AS wealth_first_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', t.wealth_first)) * 12 + date_part('month', $biz_date) - date_part('month', t.wealth_first) AS INT) AS wealth_tenure_months,
    t.insurance_first AS insurance_first_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', t.insurance_first)) * 12 + date_part('month', $biz_date) - date_part('month', t.insurance_first) AS INT) AS insurance_tenure_months,
    t.metal_first AS metal_first_open_date,
    CAST((date_part('year', $biz_date) - date_part('year', t.metal_first)) * 12 + date_part('month', $biz_date) - date_part('month', t.metal_first) AS INT) AS metal_tenure_months,
    $biz_date AS biz_date
FROM foundation.customer c
LEFT JOIN t ON t.customer_id = c.customer_id
