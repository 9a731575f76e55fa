-- foundation.atm_terminal: Self-service terminals with branch, type and age, and their switch activity on the business date
WITH x AS (
    SELECT terminal_id, COUNT(*) AS cnt,
           SUM(CASE WHEN txn_type = 'W' AND resp_code = '00' THEN amount END) AS wd,
           SUM(CASE WHEN txn_type = 'D' AND resp_code = '00' THEN amount END) AS dp,
           COUNT(CASE WHEN resp_code <> '00' THEN 1 END) AS dec
    FROM src.atm_atm_txn WHERE biz_date = $biz_date GROUP BY terminal_id
)
SELECT
    t.terminal_id AS terminal_id,
    t.branch_id AS branch_id,
    b.branch_name AS branch_name,
    b.city AS city,
    t.terminal_type AS terminal_type,
    t.install_date AS install_date,
    CAST($biz_date - t.install_date AS INT) AS age_days,
    CAST(COALESCE(x.cnt, 0) AS INT) AS txn_cnt_1d,
    CAST(COALESCE(x.wd, 0) AS DECIMAL(18,2)) AS withdrawal_amount_cny_1d,
    CAST(COALESCE(x.dp, 0) AS DECIMAL(18,2)) AS deposit_amount_cny_1d,
    CAST(COALESCE(x.dec, 0) AS INT) AS declined_cnt_1d
FROM src.atm_terminal t
LEFT JOIN src.ref_branch b ON b.branch_id = t.branch_id AND b.biz_date = $biz_date
LEFT JOIN x ON x.terminal_id = t.terminal_id
WHERE t.biz_date = $biz_date
