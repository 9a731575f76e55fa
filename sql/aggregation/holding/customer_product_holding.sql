-- aggregation.customer_product_holding: Product holding per customer on the business date: agreements not closed per kind (from foundation.agreement_all), distinct products, families and kinds (two-level GROUP BY, no COUNT(DISTINCT)), and saved payees
WITH g AS (
    SELECT customer_id, agreement_type, product_code, product_family, product_category, currency
    FROM foundation.agreement_all
    WHERE status <> 'CLOSED'
),
h AS (
    SELECT customer_id,
    COUNT(CASE WHEN agreement_type = 'DEPOSIT' THEN 1 END) AS deposit,
    COUNT(CASE WHEN agreement_type = 'CARD' THEN 1 END) AS card,
    COUNT(CASE WHEN agreement_type = 'LOAN' THEN 1 END) AS loan,
    COUNT(CASE WHEN agreement_type = 'WEALTH' THEN 1 END) AS wealth,
    COUNT(CASE WHEN agreement_type = 'INSURANCE' THEN 1 END) AS insurance,
    COUNT(CASE WHEN agreement_type = 'BANCA' THEN 1 END) AS banca,
    COUNT(CASE WHEN agreement_type = 'METAL' THEN 1 END) AS metal,
    COUNT(CASE WHEN agreement_type = 'PENSION' THEN 1 END) AS pension,
    COUNT(CASE WHEN agreement_type = 'SECURITIES_LINK' THEN 1 END) AS securities_link,
    COUNT(CASE WHEN agreement_type = 'ECNY_WALLET' THEN 1 END) AS ecny_wallet,
    COUNT(CASE WHEN agreement_type = 'ETC_CARD' THEN 1 END) AS etc_card,
    COUNT(CASE WHEN agreement_type = 'CREDIT_LIMIT' THEN 1 END) AS credit_limit,
    COUNT(CASE WHEN agreement_type = 'GUARANTEE' THEN 1 END) AS guarantee,
    COUNT(CASE WHEN agreement_type = 'LETTER_OF_CREDIT' THEN 1 END) AS lc,
    COUNT(CASE WHEN agreement_type = 'BILL' THEN 1 END) AS bill,
    COUNT(CASE WHEN agreement_type = 'UTILITY' THEN 1 END) AS utility,
    COUNT(CASE WHEN agreement_type = 'DEPOSIT' AND product_category = 'DEMAND' THEN 1 END) AS demand,
    COUNT(CASE WHEN agreement_type = 'DEPOSIT' AND product_category = 'TIME' THEN 1 END) AS time_dep,
    COUNT(CASE WHEN agreement_type = 'DEPOSIT' AND currency <> 'CNY' THEN 1 END) AS fx_dep,
    COUNT(CASE WHEN agreement_type = 'WEALTH' AND product_family = 'FUND' THEN 1 END) AS fund,
    COUNT(*) AS total
    FROM g GROUP BY customer_id
),
dp AS (SELECT customer_id, COUNT(*) AS cnt FROM (SELECT customer_id, product_code FROM g WHERE product_code IS NOT NULL GROUP BY customer_id, product_code) x GROUP BY customer_id),
df AS (SELECT customer_id, COUNT(*) AS cnt FROM (SELECT customer_id, product_family FROM g GROUP BY customer_id, product_family) x GROUP BY customer_id),
dt AS (SELECT customer_id, COUNT(*) AS cnt FROM (SELECT customer_id, agreement_type FROM g GROUP BY customer_id, agreement_type) x GROUP BY customer_id),
py AS (SELECT customer_id, COUNT(*) AS cnt FROM foundation.payee GROUP BY customer_id)
SELECT
    h.customer_id AS customer_id,
    CAST(COALESCE(h.deposit, 0) AS INT) AS deposit_cnt,
    CAST(COALESCE(h.card, 0) AS INT) AS card_cnt,
    CAST(COALESCE(h.loan, 0) AS INT) AS loan_cnt,
    CAST(COALESCE(h.wealth, 0) AS INT) AS wealth_cnt,
    CAST(COALESCE(h.insurance, 0) AS INT) AS insurance_cnt,
    CAST(COALESCE(h.banca, 0) AS INT) AS banca_cnt,
    CAST(COALESCE(h.metal, 0) AS INT) AS metal_cnt,
    CAST(COALESCE(h.pension, 0) AS INT) AS pension_cnt,
    CAST(COALESCE(h.securities_link, 0) AS INT) AS securities_link_cnt,
    CAST(COALESCE(h.ecny_wallet, 0) AS INT) AS ecny_wallet_cnt,
    CAST(COALESCE(h.etc_card, 0) AS INT) AS etc_card_cnt,
    CAST(COALESCE(h.credit_limit, 0) AS INT) AS credit_limit_cnt,
    CAST(COALESCE(h.guarantee, 0) AS INT) AS guarantee_cnt,
    CAST(COALESCE(h.lc, 0) AS INT) AS lc_cnt,
    CAST(COALESCE(h.bill, 0) AS INT) AS bill_cnt,
    CAST(COALESCE(h.utility, 0) AS INT) AS utility_cnt,
    CAST(COALESCE(h.demand, 0) AS INT) AS demand_deposit_cnt,
    CAST(COALESCE(h.time_dep, 0) AS INT) AS time_deposit_cnt,
    CAST(COALESCE(h.fx_dep, 0) AS INT) AS fx_deposit_cnt,
    CAST(COALESCE(h.fund, 0) AS INT) AS fund_holding_cnt,
    CAST(COALESCE(h.total, 0) AS INT) AS agreement_cnt,
    CAST(COALESCE(dp.cnt, 0) AS INT) AS distinct_product_cnt,
    CAST(COALESCE(df.cnt, 0) AS INT) AS distinct_family_cnt,
    CAST(COALESCE(dt.cnt, 0) AS INT) AS distinct_type_cnt,
    CAST(COALESCE(py.cnt, 0) AS INT) AS payee_cnt,
    COALESCE(h.deposit, 0) > 0 AS has_deposit,
    COALESCE(h.wealth, 0) + COALESCE(h.metal, 0) > 0 AS has_investment,
    COALESCE(h.insurance, 0) + COALESCE(h.banca, 0) > 0 AS has_insurance,
    COALESCE(h.card, 0) + COALESCE(h.loan, 0) > 0 AS has_credit,
    $biz_date AS biz_date
FROM h
LEFT JOIN dp ON dp.customer_id = h.customer_id
LEFT JOIN df ON df.customer_id = h.customer_id
LEFT JOIN dt ON dt.customer_id = h.customer_id
LEFT JOIN py ON py.customer_id = h.customer_id
