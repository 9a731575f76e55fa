-- foundation.customer: golden customer record, one row per customer of the core
-- banking snapshot of the business date, with the home branch and the age in
-- completed years on the business date.
SELECT
    c.cust_id AS customer_id,
    c.cust_name AS customer_name,
    c.cert_type,
    c.cert_no,
    c.gender,
    c.birth_date,
    CAST(
        date_part('year', $biz_date) - date_part('year', c.birth_date)
        - CASE
            WHEN date_part('month', $biz_date) * 100 + date_part('day', $biz_date)
               < date_part('month', c.birth_date) * 100 + date_part('day', c.birth_date)
            THEN 1
            ELSE 0
          END
    AS INT) AS age,
    c.mobile,
    c.open_date,
    CAST(
        date_part('year', $biz_date) - date_part('year', c.open_date)
        - CASE
            WHEN date_part('month', $biz_date) * 100 + date_part('day', $biz_date)
               < date_part('month', c.open_date) * 100 + date_part('day', c.open_date)
            THEN 1
            ELSE 0
          END
    AS INT) AS tenure_years,
    c.branch_id,
    b.branch_name,
    b.city,
    b.region,
    c.segment_code
FROM src.core_customer c
LEFT JOIN foundation.branch b ON b.branch_id = c.branch_id
WHERE c.biz_date = $biz_date
