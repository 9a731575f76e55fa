-- foundation.channel: Channel codes of the bank with type and owning system
SELECT
    h.channel_code AS channel_code,
    h.channel_name AS channel_name,
    h.channel_type AS channel_type,
    h.channel_type = 'ONLINE' AS is_digital,
    h.channel_type IN ('BRANCH', 'REMOTE') AS is_assisted,
    h.source_system AS owner_system
FROM src.chan_channel h
WHERE h.biz_date = $biz_date
