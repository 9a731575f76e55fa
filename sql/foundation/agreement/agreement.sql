-- foundation.agreement: every customer agreement of the business date in one
-- shape: deposit accounts (core), credit card accounts (card) and loans (loan).
-- balance is in the agreement currency; balance_cny uses the day's closing rate.
-- Statuses are harmonised to ACTIVE / FROZEN / CLOSED.
WITH agreements AS (
    SELECT
        a.acct_no AS agreement_id,
        a.cust_id AS customer_id,
        'DEPOSIT' AS agreement_type,
        'core' AS source_system,
        a.product_code,
        a.currency,
        a.balance,
        a.open_date,
        CAST(NULL AS DATE) AS maturity_date,
        CASE a.status WHEN 'A' THEN 'ACTIVE' WHEN 'C' THEN 'CLOSED' ELSE 'UNKNOWN' END AS status
    FROM src.core_account a
    WHERE a.biz_date = $biz_date

    UNION ALL

    SELECT
        k.card_no AS agreement_id,
        k.cust_id AS customer_id,
        'CARD' AS agreement_type,
        'card' AS source_system,
        k.product_code,
        'CNY' AS currency,
        k.balance,
        k.open_date,
        CAST(NULL AS DATE) AS maturity_date,
        CASE k.status WHEN 'N' THEN 'ACTIVE' WHEN 'F' THEN 'FROZEN' WHEN 'C' THEN 'CLOSED' ELSE 'UNKNOWN' END AS status
    FROM src.card_card_account k
    WHERE k.biz_date = $biz_date

    UNION ALL

    SELECT
        l.loan_no AS agreement_id,
        l.cust_id AS customer_id,
        'LOAN' AS agreement_type,
        'loan' AS source_system,
        l.product_code,
        l.currency,
        l.outstanding AS balance,
        l.start_date AS open_date,
        l.maturity_date,
        CASE WHEN l.outstanding > 0 THEN 'ACTIVE' ELSE 'CLOSED' END AS status
    FROM src.loan_loan_contract l
    WHERE l.biz_date = $biz_date
)
SELECT
    g.agreement_id,
    g.customer_id,
    g.agreement_type,
    g.source_system,
    g.product_code,
    p.product_name,
    p.product_category,
    g.currency,
    CAST(g.balance AS DECIMAL(18,2)) AS balance,
    CAST(g.balance * r.rate_to_cny AS DECIMAL(18,2)) AS balance_cny,
    g.open_date,
    g.maturity_date,
    g.status
FROM agreements g
LEFT JOIN foundation.product p ON p.product_code = g.product_code
LEFT JOIN foundation.fx_rate r ON r.currency = g.currency
