-- aggregation.customer_risk_summary: Risk summary of every golden customer: KYC, AML, internal rating, credit bureau, account holds, arrears and wealth suitability, in one row
WITH kd AS (
    SELECT customer_id, COUNT(CASE WHEN is_expired THEN 1 END) AS expired,
           COUNT(CASE WHEN days_to_expiry BETWEEN 0 AND 90 THEN 1 END) AS expiring
    FROM foundation.customer_kyc_doc GROUP BY customer_id
),
h AS (
    SELECT customer_id, COUNT(CASE WHEN hold_type = 'J' THEN 1 END) AS judicial, COUNT(*) AS holds, SUM(hold_amount_cny) AS held_cny
    FROM foundation.account_hold WHERE is_in_force AND customer_id IS NOT NULL GROUP BY customer_id
),
w AS (
    SELECT customer_id, COUNT(CASE WHEN is_risk_mismatch THEN 1 END) AS mismatch
    FROM foundation.wealth_holding GROUP BY customer_id
)
SELECT
    c.customer_id AS customer_id,
    c.kyc_status AS kyc_status,
    CAST(COALESCE(kd.expired, 0) AS INT) AS kyc_expired_doc_cnt,
    CAST(COALESCE(kd.expiring, 0) AS INT) AS kyc_doc_expiring_90d_cnt,
    a.risk_level AS aml_risk_level,
    CAST(COALESCE(a.risk_level_rank, 0) AS INT) AS aml_risk_rank,
    COALESCE(a.is_pep, false) AS is_pep,
    COALESCE(a.is_review_overdue, false) AS aml_review_overdue,
    CAST(COALESCE(a.alert_cnt_30d, 0) AS INT) AS aml_alert_cnt_30d,
    CAST(COALESCE(a.alert_cnt_365d, 0) AS INT) AS aml_alert_cnt_365d,
    r.grade AS rating_grade,
    CAST(COALESCE(r.grade_rank, 0) AS INT) AS rating_grade_rank,
    r.pd AS rating_pd,
    r.pd_band AS rating_pd_band,
    COALESCE(r.is_rating_stale, false) AS is_rating_stale,
    b.customer_id IS NOT NULL AS has_bureau_report,
    CAST(COALESCE(b.bureau_loan_cnt, 0) AS INT) AS bureau_loan_cnt,
    CAST(COALESCE(b.bureau_card_cnt, 0) AS INT) AS bureau_card_cnt,
    CAST(COALESCE(b.bureau_total_debt_cny, 0) AS DECIMAL(18,2)) AS bureau_total_debt_cny,
    CAST(COALESCE(b.overdue_months_24, 0) AS INT) AS bureau_overdue_months_24,
    CAST(COALESCE(b.query_count_6m, 0) AS INT) AS bureau_query_cnt_6m,
    CAST(COALESCE(b.bank_query_cnt_30d, 0) AS INT) AS bank_bureau_query_cnt_30d,
    CAST(COALESCE(h.judicial, 0) AS INT) AS judicial_freeze_cnt,
    CAST(COALESCE(h.holds, 0) AS INT) AS hold_cnt,
    CAST(COALESCE(h.held_cny, 0) AS DECIMAL(18,2)) AS held_amount_cny,
    CAST(COALESCE(x.max_overdue_days, 0) AS INT) AS max_overdue_days,
    x.worst_five_class AS worst_five_class,
    CAST(COALESCE(w.mismatch, 0) AS INT) AS wealth_risk_mismatch_cnt,
    CAST(CASE WHEN a.risk_level = 'H' THEN 1 ELSE 0 END + CASE WHEN COALESCE(a.is_pep, false) THEN 1 ELSE 0 END + CASE WHEN COALESCE(x.max_overdue_days, 0) > 30 THEN 1 ELSE 0 END + CASE WHEN COALESCE(h.judicial, 0) > 0 THEN 1 ELSE 0 END + CASE WHEN c.kyc_status <> 'VERIFIED' THEN 1 ELSE 0 END + CASE WHEN COALESCE(b.overdue_months_24, 0) > 0 THEN 1 ELSE 0 END AS INT) AS risk_flag_cnt,
    $biz_date AS biz_date
FROM foundation.customer c
LEFT JOIN foundation.customer_aml_risk a ON a.customer_id = c.customer_id
LEFT JOIN foundation.customer_credit_rating r ON r.customer_id = c.customer_id
LEFT JOIN foundation.customer_bureau_report b ON b.customer_id = c.customer_id
LEFT JOIN kd ON kd.customer_id = c.customer_id
LEFT JOIN h ON h.customer_id = c.customer_id
LEFT JOIN aggregation.customer_loan_exposure x ON x.customer_id = c.customer_id
LEFT JOIN w ON w.customer_id = c.customer_id
