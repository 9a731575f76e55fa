-- foundation.channel_event: customer x channel x event time. Mobile logins have
-- no serial: their id is customer_id + '@' + login time.
SELECT customer_id, 'MOB' AS channel, 'mobile' AS source_system,
       customer_id || '@' || CAST(login_time AS VARCHAR) AS event_id,
       CASE WHEN success THEN 'LOGIN' ELSE 'LOGIN_FAILED' END AS event_type,
       login_time AS event_time, login_date AS event_date, success AS is_success
FROM foundation.mobile_login
UNION ALL
SELECT customer_id, 'WEB', 'ebank', session_id, 'SESSION', login_time, login_date, TRUE
FROM foundation.ebank_session
UNION ALL
SELECT customer_id, 'TEL', 'callc', call_id, 'CALL_' || direction, start_time, call_date, TRUE
FROM foundation.call_record
UNION ALL
SELECT customer_id, 'RM', 'crm', visit_id, 'RM_' || method, visit_time, visit_date, TRUE
FROM foundation.rm_visit
UNION ALL
SELECT customer_id, 'ATM', 'atm', txn_id, 'ATM_' || txn_type_name, txn_time, txn_date, is_approved
FROM foundation.atm_txn WHERE customer_id IS NOT NULL
UNION ALL
SELECT customer_id, 'CNT', 'teller', txn_id, 'TELLER_' || biz_type_code, txn_time, txn_date, TRUE
FROM foundation.teller_txn
