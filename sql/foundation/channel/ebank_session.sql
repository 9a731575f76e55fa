-- foundation.ebank_session: web banking sessions up to the business date
SELECT
    s.session_id,
    s.cust_id AS customer_id,
    s.login_time,
    CAST(s.login_time AS DATE) AS login_date,
    s.ip_addr,
    s.browser
FROM src.ebank_eb_session s
WHERE CAST(s.login_time AS DATE) <= $biz_date
