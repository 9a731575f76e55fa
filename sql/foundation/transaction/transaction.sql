-- foundation.transaction: deposit-account (core) and credit-card (card)
-- transactions in one shape, over every ingested date up to the business date.
-- Each transaction is tied to its agreement and customer through the account
-- snapshot of the day it was extracted, and converted to CNY at that day's rate.
-- Card purchases are debits; card channels map to the bank-wide codes
-- (ONL → WEB, QRC → MOB).
WITH core_txn AS (
    SELECT
        t.txn_id,
        a.cust_id AS customer_id,
        t.acct_no AS agreement_id,
        'DEPOSIT' AS agreement_type,
        'core' AS source_system,
        t.txn_date,
        t.txn_time,
        a.currency,
        t.amount,
        t.direction,
        t.channel,
        t.counterparty,
        NULL AS merchant_category
    FROM src.core_transaction t
    JOIN src.core_account a ON a.acct_no = t.acct_no AND a.biz_date = t.biz_date
    WHERE t.txn_date <= $biz_date
),
card_txn AS (
    SELECT
        t.txn_id,
        k.cust_id AS customer_id,
        t.card_no AS agreement_id,
        'CARD' AS agreement_type,
        'card' AS source_system,
        t.txn_date,
        t.txn_time,
        'CNY' AS currency,
        t.amount,
        'D' AS direction,
        CASE t.channel WHEN 'ONL' THEN 'WEB' WHEN 'QRC' THEN 'MOB' ELSE t.channel END AS channel,
        NULL AS counterparty,
        t.merchant_category
    FROM src.card_card_txn t
    JOIN src.card_card_account k ON k.card_no = t.card_no AND k.biz_date = t.biz_date
    WHERE t.txn_date <= $biz_date
),
all_txn AS (
    SELECT * FROM core_txn
    UNION ALL
    SELECT * FROM card_txn
)
SELECT
    x.txn_id,
    x.customer_id,
    x.agreement_id,
    x.agreement_type,
    x.source_system,
    x.txn_date,
    x.txn_time,
    x.currency,
    CAST(x.amount AS DECIMAL(18,2)) AS amount,
    CAST(x.amount * r.rate_to_cny AS DECIMAL(18,2)) AS amount_cny,
    x.direction,
    x.channel,
    x.counterparty,
    x.merchant_category
FROM all_txn x
LEFT JOIN src.ref_fx_rate r ON r.currency = x.currency AND r.biz_date = x.txn_date
