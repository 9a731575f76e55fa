-- foundation.card_txn: credit card purchases (always debits, CNY) with the card
-- holder from the card account snapshot of the business date; card channel codes
-- are kept and mapped to bank-wide codes (ONL -> WEB, QRC -> MOB).
SELECT
    t.txn_id,
    k.cust_id AS customer_id,
    t.card_no,
    k.product_code,
    t.txn_date,
    t.txn_time,
    CAST(t.amount AS DECIMAL(18,2)) AS amount,
    CAST(t.amount AS DECIMAL(18,2)) AS amount_cny,
    t.channel AS card_channel,
    CASE t.channel WHEN 'ONL' THEN 'WEB' WHEN 'QRC' THEN 'MOB' ELSE t.channel END AS channel,
    t.merchant_category,
    CASE
        WHEN t.merchant_category IN ('5411', '5311', '5999') THEN 'RETAIL'
        WHEN t.merchant_category IN ('5812', '5814') THEN 'DINING'
        WHEN t.merchant_category IN ('4121', '4511', '7011', '4111') THEN 'TRAVEL'
        WHEN t.merchant_category IN ('5541', '5542') THEN 'FUEL'
        WHEN t.merchant_category IN ('5732') THEN 'ELECTRONICS'
        WHEN t.merchant_category IN ('5912') THEN 'HEALTH'
        ELSE 'OTHER'
    END AS merchant_group,
    t.biz_date AS extract_date
FROM src.card_card_txn t
LEFT JOIN src.card_card_account k ON k.card_no = t.card_no AND k.biz_date = $biz_date
WHERE t.txn_date <= $biz_date
