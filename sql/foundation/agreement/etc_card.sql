-- foundation.etc_card: ETC (electronic toll) cards with the vehicle and the tolls of the last 30 days
WITH t AS (SELECT etc_card_no, COUNT(*) AS cnt, SUM(toll) AS amt, MAX(exit_time) AS last_time FROM src.etc_etc_pass WHERE biz_date <= $biz_date AND CAST(exit_time AS DATE) > $biz_date - INTERVAL '30' DAY GROUP BY etc_card_no)
SELECT
    e.etc_card_no AS etc_card_no,
    e.cust_id AS customer_id,
    e.plate_no AS plate_no,
    e.debit_card_no AS debit_card_no,
    e.issue_date AS issue_date,
    CAST(COALESCE(t.cnt, 0) AS INT) AS toll_cnt_30d,
    CAST(COALESCE(t.amt, 0) AS DECIMAL(18,2)) AS toll_amount_cny_30d,
    t.last_time AS last_pass_time
FROM src.etc_etc_card e
LEFT JOIN t ON t.etc_card_no = e.etc_card_no
WHERE e.biz_date = $biz_date
