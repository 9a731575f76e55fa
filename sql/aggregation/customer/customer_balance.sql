-- aggregation.customer_balance: balances and agreement counts per customer on
-- the business date, in CNY. AUM (assets under management) = deposits.
-- Counts exclude closed agreements; balances of closed agreements are 0.00.
SELECT
    g.customer_id,
    CAST(COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' THEN g.balance_cny END), 0) AS DECIMAL(18,2)) AS deposit_balance_cny,
    CAST(COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.product_category = 'TIME' THEN g.balance_cny END), 0) AS DECIMAL(18,2)) AS time_deposit_balance_cny,
    CAST(COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.currency <> 'CNY' THEN g.balance_cny END), 0) AS DECIMAL(18,2)) AS fx_deposit_balance_cny,
    CAST(COALESCE(SUM(CASE WHEN g.agreement_type = 'LOAN' THEN g.balance_cny END), 0) AS DECIMAL(18,2)) AS loan_balance_cny,
    CAST(COALESCE(SUM(CASE WHEN g.agreement_type = 'CARD' THEN g.balance_cny END), 0) AS DECIMAL(18,2)) AS card_balance_cny,
    CAST(COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' THEN g.balance_cny END), 0) AS DECIMAL(18,2)) AS aum_cny,
    CAST(COUNT(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.status <> 'CLOSED' THEN 1 END) AS INT) AS deposit_count,
    CAST(COUNT(CASE WHEN g.agreement_type = 'CARD' AND g.status <> 'CLOSED' THEN 1 END) AS INT) AS card_count,
    CAST(COUNT(CASE WHEN g.agreement_type = 'LOAN' AND g.status <> 'CLOSED' THEN 1 END) AS INT) AS loan_count,
    $biz_date AS biz_date
FROM foundation.agreement g
GROUP BY g.customer_id
