-- foundation.pension_account: Personal pension fund accounts, matched to the golden customer on the resident ID (the feed carries no customer number)
SELECT
    p.pension_acct AS pension_acct,
    g.customer_id AS customer_id,
    p.cert_no AS cert_no,
    p.person_name AS person_name,
    CAST(p.balance AS DECIMAL(18,2)) AS balance_cny,
    CAST(p.ytd_contribution AS DECIMAL(18,2)) AS ytd_contribution_cny,
    CAST(CASE WHEN p.ytd_contribution < 12000 THEN 12000 - p.ytd_contribution ELSE 0 END AS DECIMAL(18,2)) AS remaining_annual_cap_cny,
    p.ytd_contribution >= 12000 AS is_cap_reached,
    p.open_date AS open_date,
    g.customer_id IS NOT NULL AS is_matched
FROM src.pension_pension_acct p
LEFT JOIN foundation.customer g ON g.cert_no = p.cert_no
WHERE p.biz_date = $biz_date
