-- foundation.card_statement: Credit card monthly statements issued up to the business date (all ingested partitions)
SELECT
    s.stmt_id AS stmt_id,
    s.card_no AS card_no,
    k.cust_id AS customer_id,
    s.stmt_date AS stmt_date,
    CAST(date_trunc('month', s.stmt_date) AS DATE) AS stmt_month,
    s.due_date AS due_date,
    CAST(s.due_date - s.stmt_date AS INT) AS grace_days,
    CAST(s.stmt_balance AS DECIMAL(18,2)) AS stmt_balance_cny,
    CAST(s.min_payment AS DECIMAL(18,2)) AS min_payment_cny,
    CAST(CASE WHEN s.stmt_balance > 0 THEN s.min_payment / s.stmt_balance END AS DECIMAL(9,4)) AS min_payment_ratio
FROM src.card_card_stmt s
LEFT JOIN src.card_card_account k ON k.card_no = s.card_no AND k.biz_date = $biz_date
WHERE s.biz_date <= $biz_date AND s.stmt_date <= $biz_date
