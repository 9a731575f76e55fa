-- foundation.customer_sscard: Social security cards with financial function issued by the bank, one row per card, matched to the golden customer on the certificate number
SELECT
    x.sscard_no AS sscard_no,
    g.customer_id AS customer_id,
    x.cert_no AS cert_no,
    x.person_name AS person_name,
    x.gender AS gender,
    x.birth_date AS birth_date,
    x.bank_acct AS bank_acct,
    x.city AS city,
    x.status AS status,
    CASE x.status WHEN '1' THEN 'ACTIVE' WHEN '2' THEN 'LOST' WHEN '3' THEN 'CANCELLED' END AS status_name,
    x.status = '1' AS is_active,
    x.issue_date AS issue_date,
    CAST(date_part('year', $biz_date) - date_part('year', x.issue_date) - CASE WHEN date_part('month', $biz_date) * 100 + date_part('day', $biz_date) < date_part('month', x.issue_date) * 100 + date_part('day', x.issue_date) THEN 1 ELSE 0 END AS INT) AS card_age_years,
    x.birth_date = g.birth_date AS is_birth_date_match
FROM src.sscard_sscard x
LEFT JOIN foundation.customer g ON g.cert_no = x.cert_no
WHERE x.biz_date = $biz_date
