-- foundation.collateral: Collateral items with their appraisal, owner and the loans they secure
WITH x AS (SELECT coll_id, COUNT(*) AS cnt FROM src.coll_coll_link WHERE biz_date = $biz_date GROUP BY coll_id)
SELECT
    k.coll_id AS coll_id,
    k.cust_id AS customer_id,
    k.coll_type AS coll_type,
    CASE k.coll_type WHEN '住房' THEN 'HOUSING' WHEN '商铺' THEN 'SHOP' WHEN '车辆' THEN 'VEHICLE' WHEN '存单' THEN 'DEPOSIT' ELSE 'OTHER' END AS coll_type_code,
    k.location AS location,
    CAST(k.appraised_value AS DECIMAL(18,2)) AS appraised_value_cny,
    k.appraisal_date AS appraisal_date,
    CAST($biz_date - k.appraisal_date AS INT) AS appraisal_age_days,
    $biz_date - k.appraisal_date > 365 AS is_appraisal_stale,
    CAST(COALESCE(x.cnt, 0) AS INT) AS linked_loan_cnt
FROM src.coll_collateral k
LEFT JOIN x ON x.coll_id = k.coll_id
WHERE k.biz_date = $biz_date
