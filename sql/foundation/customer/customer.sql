-- foundation.customer: golden customer record matched on cert_type + cert_no across systems.
-- Source priority (name, gender, birth date, mobile): core (1) > crm (2) > ebank/wealth/sec/fx (3) > ins/bureau/pension/sscard (4).
-- Candidates are a UNION ALL of every source with a priority number, ranked with
-- ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY priority).
-- Candidates: one row per source record carrying a certificate, with the
-- source priority (1 best). ebank carries no certificate number and takes part
-- through the customer id only (source_systems, xref).
WITH cand AS (
    SELECT c.cert_type, c.cert_no, c.cust_id, 'core' AS src, 1 AS priority,
           c.cust_name AS cust_name, c.gender, c.birth_date, c.mobile
    FROM src.core_customer c WHERE c.biz_date = $biz_date AND c.cert_no IS NOT NULL
    UNION ALL
    SELECT '01', r.cert_no, r.cust_id, 'crm', 2, r.cust_name, r.gender, r.birth_date, r.mobile
    FROM src.crm_crm_customer r WHERE r.biz_date = $biz_date
    UNION ALL
    SELECT '01', w.cert_no, w.cust_id, 'wealth', 3, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM src.wealth_wm_account w WHERE w.biz_date = $biz_date
    UNION ALL
    SELECT '01', k.cert_no, k.cust_id, 'sec', 3, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM src.sec_sec_link k WHERE k.biz_date = $biz_date
    UNION ALL
    SELECT '01', f.cert_no, f.cust_id, 'fx', 3, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM (SELECT DISTINCT cert_no, cust_id FROM src.fx_fx_deal WHERE biz_date <= $biz_date) f
    UNION ALL
    SELECT '01', i.holder_cert_no, CAST(NULL AS VARCHAR), 'ins', 4, i.holder_name, i.holder_gender, CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM src.ins_policy i WHERE i.biz_date = $biz_date
    UNION ALL
    SELECT '01', b.cert_no, CAST(NULL AS VARCHAR), 'bureau', 4, b.person_name, CAST(NULL AS VARCHAR), CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM src.bureau_credit_report b WHERE b.biz_date = $biz_date
    UNION ALL
    SELECT '01', p.cert_no, CAST(NULL AS VARCHAR), 'pension', 4, p.person_name, CAST(NULL AS VARCHAR), CAST(NULL AS DATE), CAST(NULL AS VARCHAR)
    FROM src.pension_pension_acct p WHERE p.biz_date = $biz_date
    UNION ALL
    SELECT '01', x.cert_no, CAST(NULL AS VARCHAR), 'sscard', 4, x.person_name, x.gender, x.birth_date, CAST(NULL AS VARCHAR)
    FROM src.sscard_sscard x WHERE x.biz_date = $biz_date
),
-- Rank the candidates of each person by priority, per attribute skipping
-- sources where the attribute is empty (a soft-rejected mobile is NULL).
ranked AS (
    SELECT cand.*,
           ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY priority, src) AS rn,
           ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY CASE WHEN cust_id IS NULL THEN 1 ELSE 0 END, priority, src) AS rn_id,
           ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY CASE WHEN cust_name IS NULL THEN 1 ELSE 0 END, priority, src) AS rn_name,
           ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY CASE WHEN gender IS NULL THEN 1 ELSE 0 END, priority, src) AS rn_gender,
           ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY CASE WHEN birth_date IS NULL THEN 1 ELSE 0 END, priority, src) AS rn_birth,
           ROW_NUMBER() OVER (PARTITION BY cert_type, cert_no ORDER BY CASE WHEN mobile IS NULL THEN 1 ELSE 0 END, priority, src) AS rn_mobile
    FROM cand
),
person AS (
    SELECT cert_type, cert_no,
           MAX(CASE WHEN rn_id = 1 THEN cust_id END) AS customer_id,
           MAX(CASE WHEN rn_id = 1 AND cust_id IS NOT NULL THEN src END) AS customer_id_source,
           MAX(CASE WHEN rn = 1 THEN src END) AS master_source,
           MAX(CASE WHEN rn_name = 1 THEN cust_name END) AS customer_name,
           MAX(CASE WHEN rn_gender = 1 THEN gender END) AS gender,
           MAX(CASE WHEN rn_birth = 1 THEN birth_date END) AS birth_date,
           MAX(CASE WHEN rn_mobile = 1 THEN mobile END) AS mobile,
           MAX(CASE WHEN src = 'core' THEN 1 ELSE 0 END) AS in_core,
           MAX(CASE WHEN src = 'crm' THEN 1 ELSE 0 END) AS in_crm,
           MAX(CASE WHEN src = 'wealth' THEN 1 ELSE 0 END) AS in_wealth,
           MAX(CASE WHEN src = 'sec' THEN 1 ELSE 0 END) AS in_sec,
           MAX(CASE WHEN src = 'fx' THEN 1 ELSE 0 END) AS in_fx,
           MAX(CASE WHEN src = 'ins' THEN 1 ELSE 0 END) AS in_ins,
           MAX(CASE WHEN src = 'bureau' THEN 1 ELSE 0 END) AS in_bureau,
           MAX(CASE WHEN src = 'pension' THEN 1 ELSE 0 END) AS in_pension,
           MAX(CASE WHEN src = 'sscard' THEN 1 ELSE 0 END) AS in_sscard
    FROM ranked
    GROUP BY cert_type, cert_no
),
-- A customer id reached from two certificates (should not happen) keeps the
-- certificate of its best source.
golden AS (
    SELECT person.*,
           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY CASE customer_id_source WHEN 'core' THEN 1 WHEN 'crm' THEN 2 ELSE 3 END, cert_no) AS rn_cust
    FROM person
    WHERE customer_id IS NOT NULL
),
eb AS (
    SELECT cust_id, MIN(register_date) AS register_date FROM src.ebank_eb_user WHERE biz_date = $biz_date GROUP BY cust_id
),
core AS (
    SELECT cust_id, open_date, branch_id, segment_code FROM src.core_customer WHERE biz_date = $biz_date
),
crm AS (
    SELECT cust_id, email, address, rm_id, vip_level, update_ts FROM src.crm_crm_customer WHERE biz_date = $biz_date
),
contact AS (
    SELECT cust_id, email, address, postcode FROM src.core_cust_contact WHERE biz_date = $biz_date
),
wm AS (
    SELECT cust_id, MIN(open_date) AS open_date, MAX(risk_level) AS risk_level FROM src.wealth_wm_account WHERE biz_date = $biz_date GROUP BY cust_id
),
kyc AS (
    SELECT cust_id,
           MAX(CASE WHEN doc_type = '01' AND verified AND (expiry_date IS NULL OR expiry_date >= $biz_date) THEN 1 ELSE 0 END) AS has_valid_verified,
           MAX(CASE WHEN expiry_date IS NOT NULL AND expiry_date < $biz_date THEN 1 ELSE 0 END) AS has_expired,
           COUNT(*) AS doc_cnt
    FROM src.kyc_kyc_doc WHERE biz_date = $biz_date GROUP BY cust_id
),
aml AS (
    SELECT cust_id, risk_level, pep FROM src.aml_aml_risk WHERE biz_date = $biz_date
)
SELECT
    g.customer_id AS customer_id,
    g.customer_name AS customer_name,
    g.cert_type AS cert_type,
    g.cert_no AS cert_no,
    g.gender AS gender,
    g.birth_date AS birth_date,
    CAST(date_part('year', $biz_date) - date_part('year', g.birth_date) - CASE WHEN date_part('month', $biz_date) * 100 + date_part('day', $biz_date) < date_part('month', g.birth_date) * 100 + date_part('day', g.birth_date) THEN 1 ELSE 0 END AS INT) AS age,
    g.mobile AS mobile,
    COALESCE(co.open_date, wm.open_date, eb.register_date) AS open_date,
    CAST(date_part('year', $biz_date) - date_part('year', COALESCE(co.open_date, wm.open_date, eb.register_date)) - CASE WHEN date_part('month', $biz_date) * 100 + date_part('day', $biz_date) < date_part('month', COALESCE(co.open_date, wm.open_date, eb.register_date)) * 100 + date_part('day', COALESCE(co.open_date, wm.open_date, eb.register_date)) THEN 1 ELSE 0 END AS INT) AS tenure_years,
    co.branch_id AS branch_id,
    b.branch_name AS branch_name,
    b.city AS city,
    b.region AS region,
    co.segment_code AS segment_code,
    g.customer_id_source AS customer_id_source,
    g.master_source AS master_source,
    CONCAT_WS(',', CASE WHEN g.in_core = 1 THEN 'core' END, CASE WHEN g.in_crm = 1 THEN 'crm' END, CASE WHEN eb.cust_id IS NOT NULL THEN 'ebank' END, CASE WHEN g.in_wealth = 1 THEN 'wealth' END, CASE WHEN g.in_sec = 1 THEN 'sec' END, CASE WHEN g.in_fx = 1 THEN 'fx' END, CASE WHEN g.in_ins = 1 THEN 'ins' END, CASE WHEN g.in_bureau = 1 THEN 'bureau' END, CASE WHEN g.in_pension = 1 THEN 'pension' END, CASE WHEN g.in_sscard = 1 THEN 'sscard' END) AS source_systems,
    CAST(g.in_core + g.in_crm + CASE WHEN eb.cust_id IS NOT NULL THEN 1 ELSE 0 END + g.in_wealth + g.in_sec + g.in_fx + g.in_ins + g.in_bureau + g.in_pension + g.in_sscard AS INT) AS source_count,
    g.in_core = 1 AS is_in_core,
    g.in_crm = 1 AS is_in_crm,
    COALESCE(ct.email, cr.email) AS email,
    COALESCE(ct.address, cr.address) AS address,
    ct.postcode AS postcode,
    cr.vip_level AS vip_level,
    cr.rm_id AS rm_id,
    CASE WHEN k.cust_id IS NULL THEN 'NONE' WHEN k.has_valid_verified = 1 THEN 'VERIFIED' WHEN k.has_expired = 1 THEN 'EXPIRED' ELSE 'UNVERIFIED' END AS kyc_status,
    CAST(COALESCE(k.doc_cnt, 0) AS INT) AS kyc_doc_count,
    a.risk_level AS aml_risk_level,
    COALESCE(a.pep, false) AS is_pep,
    wm.risk_level AS wealth_risk_level,
    eb.cust_id IS NOT NULL AS has_ebank,
    $biz_date AS biz_date
FROM golden g
LEFT JOIN core co ON co.cust_id = g.customer_id
LEFT JOIN crm cr ON cr.cust_id = g.customer_id
LEFT JOIN contact ct ON ct.cust_id = g.customer_id
LEFT JOIN eb ON eb.cust_id = g.customer_id
LEFT JOIN wm ON wm.cust_id = g.customer_id
LEFT JOIN kyc k ON k.cust_id = g.customer_id
LEFT JOIN aml a ON a.cust_id = g.customer_id
LEFT JOIN foundation.branch b ON b.branch_id = co.branch_id
WHERE g.rn_cust = 1
