SELECT acct_no, cust_id, product_code, currency, open_date, status, balance, change_type
FROM foundation.account_current_changes
WHERE biz_date = $biz_date
