-- foundation.etc_pass: ETC toll passages up to the business date, holder from the
-- ETC card snapshot of the business date
SELECT
    p.pass_id,
    c.cust_id AS customer_id,
    p.etc_card_no,
    c.plate_no,
    c.debit_card_no,
    CAST(p.toll AS DECIMAL(18,2)) AS toll,
    CAST(p.toll AS DECIMAL(18,2)) AS amount_cny,
    p.exit_time,
    CAST(p.exit_time AS DATE) AS exit_date,
    p.biz_date AS extract_date
FROM src.etc_etc_pass p
LEFT JOIN src.etc_etc_card c ON c.etc_card_no = p.etc_card_no AND c.biz_date = $biz_date
WHERE CAST(p.exit_time AS DATE) <= $biz_date
