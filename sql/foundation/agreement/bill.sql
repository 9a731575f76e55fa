-- foundation.bill: Bills held or discounted (acceptances and discounts)
SELECT
    b.bill_no AS bill_no,
    b.cust_id AS customer_id,
    b.bill_type AS bill_type,
    CAST(b.face_amount AS DECIMAL(18,2)) AS face_amount_cny,
    b.issue_date AS issue_date,
    b.due_date AS due_date,
    CAST(b.due_date - $biz_date AS INT) AS days_to_due,
    b.due_date >= $biz_date AS is_outstanding
FROM src.bill_bill b
WHERE b.biz_date = $biz_date
