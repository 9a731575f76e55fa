-- foundation.card_account: Credit card accounts (snapshot) with limit, utilisation and the latest statement
WITH s AS (SELECT card_no, stmt_date, due_date, stmt_balance, min_payment, ROW_NUMBER() OVER (PARTITION BY card_no ORDER BY stmt_date DESC, stmt_id DESC) AS rn FROM src.card_card_stmt WHERE biz_date <= $biz_date AND stmt_date <= $biz_date)
SELECT
    k.card_no AS card_no,
    k.cust_id AS customer_id,
    k.product_code AS product_code,
    p.product_category AS card_tier,
    CAST(k.credit_limit AS DECIMAL(18,2)) AS credit_limit_cny,
    CAST(k.balance AS DECIMAL(18,2)) AS balance_cny,
    CAST(k.credit_limit - k.balance AS DECIMAL(18,2)) AS available_limit_cny,
    CAST(CASE WHEN k.credit_limit > 0 THEN k.balance / k.credit_limit END AS DECIMAL(9,4)) AS utilisation,
    k.balance > k.credit_limit AS is_over_limit,
    k.status AS status,
    k.status = 'N' AS is_active,
    k.open_date AS open_date,
    CAST((date_part('year', $biz_date) - date_part('year', k.open_date)) * 12 + date_part('month', $biz_date) - date_part('month', k.open_date) AS INT) AS card_age_months,
    s.stmt_date AS last_stmt_date,
    CAST(s.stmt_balance AS DECIMAL(18,2)) AS last_stmt_balance_cny,
    CAST(s.min_payment AS DECIMAL(18,2)) AS last_min_payment_cny,
    s.due_date AS last_due_date
FROM src.card_card_account k
LEFT JOIN foundation.product p ON p.product_code = k.product_code
LEFT JOIN s ON s.card_no = k.card_no AND s.rn = 1
WHERE k.biz_date = $biz_date
