-- aggregation.customer_aum: Assets under management per customer holding any AUM agreement on the business date, split by product family (deposits demand/time/CD/FX, wealth, funds, insurance, bancassurance, metals, pension, e-CNY), CNY, from foundation.agreement_all
WITH a AS (
    SELECT g.customer_id,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.product_category = 'DEMAND' THEN g.balance_cny END), 0) AS deposit_demand_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.product_category = 'TIME' AND g.product_code <> 'D301' THEN g.balance_cny END), 0) AS deposit_time_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.product_code = 'D301' THEN g.balance_cny END), 0) AS deposit_cd_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' AND g.currency <> 'CNY' THEN g.balance_cny END), 0) AS deposit_fx_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'DEPOSIT' THEN g.balance_cny END), 0) AS deposit_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'WEALTH' AND g.product_family = 'WEALTH' THEN g.balance_cny END), 0) AS wealth_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'WEALTH' AND g.product_family = 'FUND' THEN g.balance_cny END), 0) AS fund_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'INSURANCE' AND g.status = 'ACTIVE' THEN g.balance_cny END), 0) AS insurance_premium_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'BANCA' THEN g.balance_cny END), 0) AS banca_premium_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'METAL' THEN g.balance_cny END), 0) AS metal_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'PENSION' THEN g.balance_cny END), 0) AS pension_cny,
    COALESCE(SUM(CASE WHEN g.agreement_type = 'ECNY_WALLET' THEN g.balance_cny END), 0) AS ecny_cny
    FROM foundation.agreement_all g
    WHERE g.is_aum
    GROUP BY g.customer_id
)
SELECT
    a.customer_id AS customer_id,
    CAST(COALESCE(a.deposit_demand_cny, 0) AS DECIMAL(18,2)) AS deposit_demand_cny,
    CAST(COALESCE(a.deposit_time_cny, 0) AS DECIMAL(18,2)) AS deposit_time_cny,
    CAST(COALESCE(a.deposit_cd_cny, 0) AS DECIMAL(18,2)) AS deposit_cd_cny,
    CAST(COALESCE(a.deposit_fx_cny, 0) AS DECIMAL(18,2)) AS deposit_fx_cny,
    CAST(COALESCE(a.deposit_cny, 0) AS DECIMAL(18,2)) AS deposit_cny,
    CAST(COALESCE(a.wealth_cny, 0) AS DECIMAL(18,2)) AS wealth_cny,
    CAST(COALESCE(a.fund_cny, 0) AS DECIMAL(18,2)) AS fund_cny,
    CAST(COALESCE(a.insurance_premium_cny, 0) AS DECIMAL(18,2)) AS insurance_premium_cny,
    CAST(COALESCE(a.banca_premium_cny, 0) AS DECIMAL(18,2)) AS banca_premium_cny,
    CAST(COALESCE(a.metal_cny, 0) AS DECIMAL(18,2)) AS metal_cny,
    CAST(COALESCE(a.pension_cny, 0) AS DECIMAL(18,2)) AS pension_cny,
    CAST(COALESCE(a.ecny_cny, 0) AS DECIMAL(18,2)) AS ecny_cny,
    CAST(COALESCE(a.insurance_premium_cny + a.banca_premium_cny, 0) AS DECIMAL(18,2)) AS insurance_cny,
    CAST(COALESCE(a.wealth_cny + a.fund_cny + a.metal_cny, 0) AS DECIMAL(18,2)) AS investment_cny,
    CAST(COALESCE((a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny), 0) AS DECIMAL(18,2)) AS aum_cny,
    CAST(CASE WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) > 0 THEN a.deposit_cny / (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) ELSE 0 END AS DECIMAL(9,4)) AS deposit_share,
    CAST(CASE WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) > 0 THEN (a.deposit_time_cny + a.deposit_cd_cny) / (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) ELSE 0 END AS DECIMAL(9,4)) AS time_deposit_share,
    CAST(CASE WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) > 0 THEN (a.wealth_cny + a.fund_cny + a.metal_cny) / (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) ELSE 0 END AS DECIMAL(9,4)) AS investment_share,
    CAST(CASE WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) > 0 THEN (a.insurance_premium_cny + a.banca_premium_cny) / (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) ELSE 0 END AS DECIMAL(9,4)) AS insurance_share,
    CAST(CASE WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) > 0 THEN a.deposit_fx_cny / (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) ELSE 0 END AS DECIMAL(9,4)) AS fx_share,
    CAST(CASE WHEN a.deposit_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.wealth_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.fund_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.insurance_premium_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.banca_premium_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.metal_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.pension_cny > 0 THEN 1 ELSE 0 END + CASE WHEN a.ecny_cny > 0 THEN 1 ELSE 0 END AS INT) AS aum_family_cnt,
    CASE WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) >= 6000000 THEN 'PRIVATE' WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) >= 500000 THEN 'WEALTH' WHEN (a.deposit_cny + a.wealth_cny + a.fund_cny + a.insurance_premium_cny + a.banca_premium_cny + a.metal_cny + a.pension_cny + a.ecny_cny) >= 50000 THEN 'AFFLUENT' ELSE 'MASS' END AS aum_tier,
    $biz_date AS biz_date
FROM a
