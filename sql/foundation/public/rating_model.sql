-- foundation.rating_model: Internal rating models with the number of customers rated by each on the business date
WITH r AS (SELECT model_id, COUNT(*) AS cnt, AVG(pd) AS avg_pd, MAX(rating_date) AS last_rating_date FROM src.risk_rating WHERE biz_date = $biz_date GROUP BY model_id)
SELECT
    m.model_id AS model_id,
    m.model_name AS model_name,
    m.version AS version,
    CAST(COALESCE(r.cnt, 0) AS INT) AS rated_customer_cnt,
    CAST(r.avg_pd AS DECIMAL(9,6)) AS avg_pd,
    r.last_rating_date AS last_rating_date
FROM src.risk_rating_model m
LEFT JOIN r ON r.model_id = m.model_id
WHERE m.biz_date = $biz_date
