-- foundation.calendar: Calendar of the business date's year (one row per date) with month, week and working-day attributes and the position of each date relative to the business date
SELECT
    k.cal_date AS cal_date,
    k.year AS year,
    k.quarter AS quarter,
    CAST(date_part('month', k.cal_date) AS INT) AS month,
    CAST(date_part('day', k.cal_date) AS INT) AS day_of_month,
    CAST(date_trunc('month', k.cal_date) AS DATE) AS month_start_date,
    k.weekday AS weekday,
    k.weekday >= 6 AS is_weekend,
    k.is_workday AS is_workday,
    k.is_month_end AS is_month_end,
    NOT k.is_workday AND k.weekday < 6 AS is_holiday,
    CAST(k.cal_date - $biz_date AS INT) AS days_from_biz_date,
    k.cal_date = $biz_date AS is_biz_date
FROM src.cal_calendar k
WHERE k.biz_date = $biz_date
