-- foundation.account_hold: Holds and freezes on demand accounts (judicial freezes, pre-authorisations, stop payments) with the account holder
SELECT
    h.hold_id AS hold_id,
    h.acct_no AS acct_no,
    a.cust_id AS customer_id,
    h.hold_type AS hold_type,
    CASE h.hold_type WHEN 'J' THEN 'JUDICIAL_FREEZE' WHEN 'P' THEN 'PRE_AUTH' WHEN 'S' THEN 'STOP_PAYMENT' END AS hold_type_name,
    CAST(h.hold_amount AS DECIMAL(18,2)) AS hold_amount,
    CAST(h.hold_amount * r.rate_to_cny AS DECIMAL(18,2)) AS hold_amount_cny,
    h.start_date AS start_date,
    h.end_date AS end_date,
    h.end_date IS NULL AS is_open_ended,
    h.start_date <= $biz_date AND (h.end_date IS NULL OR h.end_date >= $biz_date) AS is_in_force,
    h.reason AS reason
FROM src.dda_dda_hold h
LEFT JOIN src.core_account a ON a.acct_no = h.acct_no AND a.biz_date = $biz_date
LEFT JOIN foundation.fx_rate r ON r.currency = a.currency
WHERE h.biz_date = $biz_date
