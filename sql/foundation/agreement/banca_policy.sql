-- foundation.banca_policy: Bancassurance policies (bank channel sales, customer number carried), with the seller and commissions accrued to date
WITH m AS (SELECT policy_no, SUM(amount) AS amt FROM src.banca_commission WHERE biz_date <= $biz_date AND accrual_date <= $biz_date GROUP BY policy_no)
SELECT
    b.policy_no AS policy_no,
    b.cust_id AS customer_id,
    b.product_code AS product_code,
    p.product_category AS product_category,
    CAST(b.premium AS DECIMAL(18,2)) AS premium_cny,
    b.pay_term_years AS pay_term_years,
    b.pay_term_years <= 1 AS is_single_premium,
    CAST(b.premium * CASE WHEN b.pay_term_years > 1 THEN b.pay_term_years ELSE 1 END AS DECIMAL(18,2)) AS total_premium_cny,
    b.sale_date AS sale_date,
    b.seller_id AS seller_id,
    e.branch_id AS seller_branch_id,
    CAST(COALESCE(m.amt, 0) AS DECIMAL(18,2)) AS commission_cny
FROM src.banca_banca_policy b
LEFT JOIN foundation.product p ON p.product_code = b.product_code
LEFT JOIN src.emp_employee e ON e.emp_id = b.seller_id AND e.biz_date = $biz_date
LEFT JOIN m ON m.policy_no = b.policy_no
WHERE b.biz_date = $biz_date
