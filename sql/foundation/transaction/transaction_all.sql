-- foundation.transaction_all: money movements of every source in one shape.
-- Rows without a resolved customer, ATM enquiries and declined ATM requests,
-- teller account servicing without money and failed or pending transfers are
-- left out. Sources without a channel field get: ATM -> ATM, teller -> CNT,
-- e-CNY -> MOB (wallet app), salary / utility / acquiring / ETC -> SYS (batch),
-- transfers, securities, FX and metal -> OTH (channel not recorded).
WITH u AS (
    SELECT 'core' AS source_system, txn_id, customer_id, txn_date, txn_time, channel, 'CORE' AS txn_category,
           CASE direction WHEN 'D' THEN 'CORE_DEBIT' ELSE 'CORE_CREDIT' END AS txn_type, direction,
           amount, currency, amount_cny, CAST(NULL AS VARCHAR) AS merchant_category
    FROM foundation.core_txn WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'card', txn_id, customer_id, txn_date, txn_time, channel, 'CARD', 'CARD_PURCHASE', 'D',
           amount, 'CNY', amount_cny, merchant_category
    FROM foundation.card_txn WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'atm', txn_id, customer_id, txn_date, txn_time, 'ATM', 'ATM', 'ATM_' || txn_type_name, direction,
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.atm_txn WHERE customer_id IS NOT NULL AND is_approved AND txn_type IN ('W', 'D', 'T')
    UNION ALL
    SELECT 'teller', txn_id, customer_id, txn_date, txn_time, 'CNT', 'TELLER', 'TELLER_' || biz_type_code, direction,
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.teller_txn WHERE customer_id IS NOT NULL AND direction IS NOT NULL
    UNION ALL
    SELECT 'pay', pay_id, customer_id, pay_date, pay_time, 'OTH', 'TRANSFER', 'TRANSFER_' || pay_type, 'D',
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.transfer WHERE customer_id IS NOT NULL AND is_success
    UNION ALL
    SELECT 'ecny', txn_id, customer_id, txn_date, txn_time, 'MOB', 'ECNY', 'ECNY_' || txn_type, direction,
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.ecny_txn WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'util', payment_id, customer_id, pay_date, CAST(pay_date AS TIMESTAMP), 'SYS', 'UTILITY', 'UTILITY_PAYMENT', 'D',
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.utility_payment WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'payroll', credit_id, customer_id, pay_date, CAST(pay_date AS TIMESTAMP), 'SYS', 'SALARY', 'SALARY_CREDIT', 'C',
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.salary_credit WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'sec', trf_id, customer_id, trf_date, trf_time, 'OTH', 'SECURITIES', 'SEC_' || transfer_direction, direction,
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.securities_transfer WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'fx', deal_id, customer_id, deal_date, deal_time, 'OTH', 'FX', CASE side WHEN 'B' THEN 'FX_BUY' ELSE 'FX_SELL' END, direction,
           fx_amount, currency, amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.fx_deal WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'metal', trade_id, customer_id, trade_date, trade_time, 'OTH', 'METAL', CASE side WHEN 'B' THEN 'METAL_BUY' ELSE 'METAL_SELL' END, direction,
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.metal_trade WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'wealth', order_id, customer_id, order_date, order_time, channel, 'WEALTH', CASE side WHEN 'S' THEN 'WM_SUBSCRIBE' ELSE 'WM_REDEEM' END, direction,
           amount, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.wealth_order WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'acq', txn_id, customer_id, settle_date, CAST(settle_date AS TIMESTAMP), 'SYS', 'ACQUIRING', 'ACQUIRING_SETTLEMENT', 'C',
           amount, 'CNY', amount_cny, mcc
    FROM foundation.acquiring_txn WHERE customer_id IS NOT NULL
    UNION ALL
    SELECT 'etc', pass_id, customer_id, exit_date, exit_time, 'SYS', 'ETC', 'ETC_TOLL', 'D',
           toll, 'CNY', amount_cny, CAST(NULL AS VARCHAR)
    FROM foundation.etc_pass WHERE customer_id IS NOT NULL
)
SELECT
    source_system,
    txn_id,
    customer_id,
    txn_date,
    txn_time,
    channel,
    txn_category,
    txn_type,
    direction,
    CAST(amount AS DECIMAL(18,2)) AS amount,
    currency,
    CAST(amount_cny AS DECIMAL(18,2)) AS amount_cny,
    merchant_category
FROM u
