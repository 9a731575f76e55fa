-- foundation.channel_signup: customer x channel with the earliest sign-up date
-- and whether one of the customer's registrations is active
WITH s AS (
    SELECT customer_id, 'MOB' AS channel, register_date AS signup_date, user_id AS registration_id, TRUE AS is_active FROM foundation.mobile_user
    UNION ALL
    SELECT customer_id, 'WEB', register_date, user_id, is_active FROM foundation.ebank_user
    UNION ALL
    SELECT customer_id, 'ECNY', open_date, wallet_id, TRUE FROM foundation.ecny_wallet
    UNION ALL
    SELECT cust_id, 'ETC', issue_date, etc_card_no, TRUE FROM src.etc_etc_card WHERE biz_date = $biz_date
    UNION ALL
    SELECT cust_id, 'SEC', link_date, link_id, TRUE FROM src.sec_sec_link WHERE biz_date = $biz_date
    UNION ALL
    SELECT customer_id, 'UTIL', sign_date, contract_id, TRUE FROM foundation.utility_contract
)
SELECT
    customer_id,
    channel,
    MIN(signup_date) AS signup_date,
    MAX(signup_date) AS last_signup_date,
    MIN(registration_id) AS registration_id,
    CAST(COUNT(*) AS INT) AS registration_cnt,
    MAX(CASE WHEN is_active THEN 1 ELSE 0 END) = 1 AS is_active
FROM s
WHERE customer_id IS NOT NULL
GROUP BY customer_id, channel
