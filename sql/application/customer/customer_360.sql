-- application.customer_360: one row per customer of foundation.customer with
-- profile, holdings, balances and 30-day activity. Customers without agreements
-- or activity get 0 counts and 0.00 amounts.
WITH base AS (
    SELECT
        c.customer_id,
        c.customer_name,
        c.cert_type,
        c.cert_no,
        c.gender,
        c.birth_date,
        c.age,
        c.mobile,
        c.open_date,
        c.tenure_years,
        c.branch_id,
        c.branch_name,
        c.city,
        c.region,
        c.segment_code,
        CAST(COALESCE(b.deposit_balance_cny, 0) AS DECIMAL(18,2)) AS deposit_balance_cny,
        CAST(COALESCE(b.time_deposit_balance_cny, 0) AS DECIMAL(18,2)) AS time_deposit_balance_cny,
        CAST(COALESCE(b.fx_deposit_balance_cny, 0) AS DECIMAL(18,2)) AS fx_deposit_balance_cny,
        CAST(COALESCE(b.loan_balance_cny, 0) AS DECIMAL(18,2)) AS loan_balance_cny,
        CAST(COALESCE(b.card_balance_cny, 0) AS DECIMAL(18,2)) AS card_balance_cny,
        CAST(COALESCE(b.aum_cny, 0) AS DECIMAL(18,2)) AS aum_cny,
        CAST(COALESCE(b.deposit_count, 0) AS INT) AS deposit_count,
        CAST(COALESCE(b.card_count, 0) AS INT) AS card_count,
        CAST(COALESCE(b.loan_count, 0) AS INT) AS loan_count,
        CAST(COALESCE(s.txn_count_30d, 0) AS INT) AS txn_count_30d,
        CAST(COALESCE(s.txn_amount_cny_30d, 0) AS DECIMAL(18,2)) AS txn_amount_cny_30d,
        CAST(COALESCE(s.debit_amount_cny_30d, 0) AS DECIMAL(18,2)) AS debit_amount_cny_30d,
        CAST(COALESCE(s.credit_amount_cny_30d, 0) AS DECIMAL(18,2)) AS credit_amount_cny_30d,
        CAST(COALESCE(s.card_spend_cny_30d, 0) AS DECIMAL(18,2)) AS card_spend_cny_30d,
        CAST(COALESCE(s.mobile_txn_count_30d, 0) AS INT) AS mobile_txn_count_30d,
        CAST(COALESCE(s.mobile_login_count_30d, 0) AS INT) AS mobile_login_count_30d,
        s.last_login_time,
        s.last_txn_date,
        s.days_since_last_txn
    FROM foundation.customer c
    LEFT JOIN aggregation.customer_balance b ON b.customer_id = c.customer_id
    LEFT JOIN aggregation.customer_txn_summary s ON s.customer_id = c.customer_id
)
SELECT
    customer_id,
    customer_name,
    cert_type,
    cert_no,
    gender,
    birth_date,
    age,
    CASE
        WHEN age < 30 THEN '18-29'
        WHEN age < 40 THEN '30-39'
        WHEN age < 50 THEN '40-49'
        WHEN age < 60 THEN '50-59'
        ELSE '60+'
    END AS age_band,
    mobile,
    open_date,
    tenure_years,
    branch_id,
    branch_name,
    city,
    region,
    segment_code,
    deposit_balance_cny,
    time_deposit_balance_cny,
    fx_deposit_balance_cny,
    loan_balance_cny,
    card_balance_cny,
    aum_cny,
    CAST(aum_cny - loan_balance_cny - card_balance_cny AS DECIMAL(18,2)) AS net_position_cny,
    deposit_count,
    card_count,
    loan_count,
    CAST(deposit_count + card_count + loan_count AS INT) AS product_count,
    card_count > 0 AS has_card,
    loan_count > 0 AS has_loan,
    txn_count_30d,
    txn_amount_cny_30d,
    debit_amount_cny_30d,
    credit_amount_cny_30d,
    card_spend_cny_30d,
    mobile_txn_count_30d,
    mobile_login_count_30d,
    last_login_time,
    last_txn_date,
    days_since_last_txn,
    txn_count_30d > 0 OR mobile_login_count_30d > 0 AS is_active_30d,
    CASE
        WHEN aum_cny >= 6000000 THEN 'PRIVATE'
        WHEN aum_cny >= 500000 THEN 'WEALTH'
        WHEN aum_cny >= 50000 THEN 'AFFLUENT'
        ELSE 'MASS'
    END AS value_segment,
    $biz_date AS biz_date
FROM base
