-- aggregation.customer_profile_features: Profile features of every customer of foundation.customer from the customer-side and agreement foundation models: demographics derived from the golden record (birth year, generation, resident-ID area and gender check), contact quality, RM coverage, payroll, loyalty, social security card, pension, wealth risk tolerance, time-deposit maturities, dormant accounts, insurance cover, metals, securities, e-CNY and ETC usage. One row per customer; missing data gives 0 / 0.00 / false
WITH pr AS (SELECT customer_id, COUNT(*) AS employer_cnt, SUM(salary_total_cny) / SUM(salary_credit_cnt) AS salary_avg, MAX(last_pay_date) AS last_pay_date FROM foundation.customer_employer_link GROUP BY customer_id),
ss AS (SELECT customer_id, MAX(CASE WHEN is_active THEN 1 ELSE 0 END) = 1 AS active FROM foundation.customer_sscard WHERE customer_id IS NOT NULL GROUP BY customer_id),
pn AS (SELECT customer_id, SUM(ytd_contribution_cny) AS ytd, MAX(CASE WHEN is_cap_reached THEN 1 ELSE 0 END) = 1 AS cap FROM foundation.pension_account WHERE customer_id IS NOT NULL GROUP BY customer_id),
wa AS (SELECT customer_id, MAX(risk_rank) AS risk_rank, MIN(CASE WHEN is_assessment_expired THEN 1 ELSE 0 END) = 1 AS expired FROM foundation.wealth_account GROUP BY customer_id),
td AS (
    SELECT customer_id,
           SUM(CASE WHEN matures_within_30d AND status = 'A' THEN principal_cny END) AS maturing,
           COUNT(CASE WHEN is_auto_renew AND status = 'A' THEN 1 END) AS auto_renew,
           SUM(CASE WHEN status = 'A' THEN principal_cny * interest_rate END) / SUM(CASE WHEN status = 'A' AND principal_cny > 0 THEN principal_cny END) AS avg_rate
    FROM foundation.time_deposit GROUP BY customer_id
),
dd AS (SELECT customer_id, COUNT(CASE WHEN is_dormant THEN 1 END) AS dormant FROM foundation.demand_account GROUP BY customer_id),
ip AS (SELECT customer_id, SUM(CASE WHEN is_in_force THEN sum_insured_cny END) AS sum_insured, COUNT(CASE WHEN is_in_force THEN 1 END) AS in_force FROM foundation.insurance_policy WHERE customer_id IS NOT NULL GROUP BY customer_id),
mt AS (SELECT customer_id, SUM(grams) AS grams FROM foundation.metal_account GROUP BY customer_id),
sl AS (SELECT customer_id, MAX(b2s_amount_cny_30d) - MAX(s2b_amount_cny_30d) AS net FROM foundation.securities_link GROUP BY customer_id),
ec AS (SELECT customer_id, SUM(pay_amount_cny_30d) AS pay FROM foundation.ecny_wallet GROUP BY customer_id),
et AS (SELECT customer_id, SUM(toll_amount_cny_30d) AS toll FROM foundation.etc_card GROUP BY customer_id)
SELECT
    c.customer_id AS customer_id,
    CAST(date_part('year', c.birth_date) AS INT) AS birth_year,
    CAST(date_part('month', c.birth_date) AS INT) AS birth_month,
    date_part('month', c.birth_date) = date_part('month', $biz_date) AS is_birthday_month,
    CASE WHEN c.birth_date IS NULL THEN NULL WHEN date_part('year', c.birth_date) < 1960 THEN 'PRE_60' WHEN date_part('year', c.birth_date) < 1970 THEN '60S' WHEN date_part('year', c.birth_date) < 1980 THEN '70S' WHEN date_part('year', c.birth_date) < 1990 THEN '80S' WHEN date_part('year', c.birth_date) < 2000 THEN '90S' ELSE '00S' END AS generation,
    COALESCE(c.age >= 60, false) AS is_senior,
    SUBSTRING(c.cert_no, 1, 2) AS cert_province_code,
    SUBSTRING(c.cert_no, 1, 6) AS cert_area_code,
    CASE WHEN c.cert_type = '01' AND LENGTH(c.cert_no) = 18 THEN CASE WHEN CAST(SUBSTRING(c.cert_no, 17, 1) AS INT) % 2 = 1 THEN 'M' ELSE 'F' END END AS cert_gender,
    CASE WHEN c.cert_type = '01' AND LENGTH(c.cert_no) = 18 AND c.gender IS NOT NULL THEN (CASE WHEN CAST(SUBSTRING(c.cert_no, 17, 1) AS INT) % 2 = 1 THEN 'M' ELSE 'F' END) = c.gender END AS is_cert_gender_consistent,
    CAST(COALESCE(TRY_CAST(c.vip_level AS INT), 0) AS INT) AS vip_level_num,
    COALESCE(ct.has_email, c.email IS NOT NULL) AS has_email,
    ct.email_domain AS email_domain,
    COALESCE(ct.is_mobile_consistent, false) AS is_mobile_consistent,
    ct.days_since_update AS contact_days_since_update,
    rm.rm_branch_id AS rm_branch_id,
    COALESCE(rm.is_rm_in_home_branch, false) AS is_rm_in_home_branch,
    CAST(COALESCE(rm.visit_cnt_30d, 0) AS INT) AS rm_visit_cnt_30d,
    CAST(COALESCE(rm.visit_cnt_90d, 0) AS INT) AS rm_visit_cnt_90d,
    rm.days_since_last_visit AS days_since_last_rm_visit,
    pr.customer_id IS NOT NULL AS is_payroll_customer,
    CAST(COALESCE(pr.employer_cnt, 0) AS INT) AS payroll_employer_cnt,
    CAST(COALESCE(pr.salary_avg, 0) AS DECIMAL(18,2)) AS salary_avg_cny,
    pr.last_pay_date AS salary_last_pay_date,
    CAST(COALESCE(ly.points, 0) AS BIGINT) AS loyalty_points,
    ly.tier AS loyalty_tier,
    CAST(COALESCE(ly.expiring_points, 0) AS BIGINT) AS loyalty_expiring_points,
    CAST(COALESCE(ly.points_earned_30d, 0) AS BIGINT) AS loyalty_points_earned_30d,
    ss.customer_id IS NOT NULL AS has_sscard,
    COALESCE(ss.active, false) AS has_active_sscard,
    CAST(COALESCE(pn.ytd, 0) AS DECIMAL(18,2)) AS pension_ytd_contribution_cny,
    COALESCE(pn.cap, false) AS is_pension_cap_reached,
    CAST(COALESCE(wa.risk_rank, 0) AS INT) AS wealth_risk_rank,
    COALESCE(wa.expired, false) AS is_wealth_assessment_expired,
    CAST(COALESCE(td.maturing, 0) AS DECIMAL(18,2)) AS td_maturing_30d_cny,
    CAST(COALESCE(td.auto_renew, 0) AS INT) AS td_auto_renew_cnt,
    CAST(td.avg_rate AS DECIMAL(9,6)) AS td_avg_rate,
    CAST(COALESCE(dd.dormant, 0) AS INT) AS dormant_demand_acct_cnt,
    CAST(COALESCE(ip.sum_insured, 0) AS DECIMAL(18,2)) AS insurance_sum_insured_cny,
    CAST(COALESCE(ip.in_force, 0) AS INT) AS insurance_in_force_cnt,
    CAST(COALESCE(mt.grams, 0) AS DECIMAL(14,4)) AS metal_grams,
    CAST(COALESCE(sl.net, 0) AS DECIMAL(18,2)) AS sec_transfer_net_cny_30d,
    CAST(COALESCE(ec.pay, 0) AS DECIMAL(18,2)) AS ecny_pay_amount_cny_30d,
    CAST(COALESCE(et.toll, 0) AS DECIMAL(18,2)) AS etc_toll_amount_cny_30d
FROM foundation.customer c
LEFT JOIN foundation.customer_contact ct ON ct.customer_id = c.customer_id
LEFT JOIN foundation.customer_rm_assignment rm ON rm.customer_id = c.customer_id
LEFT JOIN pr ON pr.customer_id = c.customer_id
LEFT JOIN foundation.customer_loyalty_account ly ON ly.customer_id = c.customer_id
LEFT JOIN ss ON ss.customer_id = c.customer_id
LEFT JOIN pn ON pn.customer_id = c.customer_id
LEFT JOIN wa ON wa.customer_id = c.customer_id
LEFT JOIN td ON td.customer_id = c.customer_id
LEFT JOIN dd ON dd.customer_id = c.customer_id
LEFT JOIN ip ON ip.customer_id = c.customer_id
LEFT JOIN mt ON mt.customer_id = c.customer_id
LEFT JOIN sl ON sl.customer_id = c.customer_id
LEFT JOIN ec ON ec.customer_id = c.customer_id
LEFT JOIN et ON et.customer_id = c.customer_id
