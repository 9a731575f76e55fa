SELECT acct_no, cust_id, product_code, currency, open_date, status, balance
FROM src.core_account_delta
WHERE biz_date = $biz_date
