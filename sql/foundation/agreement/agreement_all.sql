-- foundation.agreement_all: Every customer agreement of the business date in one shape, all kinds: the rows of foundation.agreement unchanged (core deposit accounts — the ledger of the DDA demand and TDA time accounts, which are therefore not added again —, credit cards, loans) plus wealth holdings, insurance policies (ins, matched on resident ID), bancassurance, precious metal accounts, pension accounts (matched on resident ID), securities links, e-CNY wallets, ETC cards, credit limits, guarantees, letters of credit, bills and utility contracts
WITH x AS (
    SELECT agreement_id, customer_id, agreement_type, source_system, product_code, currency, balance, balance_cny,
           CAST(NULL AS DECIMAL(18,2)) AS limit_cny, open_date, maturity_date, status
    FROM foundation.agreement
    UNION ALL
    SELECT h.holding_id, h.cust_id, 'WEALTH', 'wealth', h.product_code, 'CNY', h.market_value AS balance, h.market_value AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, w.open_date, CAST(NULL AS DATE) AS maturity_date,
           CASE WHEN h.market_value > 0 THEN 'ACTIVE' ELSE 'CLOSED' END
    FROM src.wealth_wm_holding h
    LEFT JOIN src.wealth_wm_account w ON w.wm_acct = h.wm_acct AND w.biz_date = $biz_date
    WHERE h.biz_date = $biz_date
    UNION ALL
    SELECT i.policy_no, g.customer_id, 'INSURANCE', 'ins', i.product_code, 'CNY', i.annual_premium AS balance, i.annual_premium AS balance_cny, i.sum_insured, i.effective_date, CAST(NULL AS DATE) AS maturity_date,
           CASE i.status WHEN '1' THEN 'ACTIVE' ELSE 'CLOSED' END
    FROM src.ins_policy i
    JOIN foundation.customer g ON g.cert_no = i.holder_cert_no
    WHERE i.biz_date = $biz_date
    UNION ALL
    SELECT b.policy_no, b.cust_id, 'BANCA', 'banca', b.product_code, 'CNY', b.premium AS balance, b.premium AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, b.sale_date, CAST(NULL AS DATE) AS maturity_date, 'ACTIVE'
    FROM src.banca_banca_policy b WHERE b.biz_date = $biz_date
    UNION ALL
    SELECT m.metal_acct, m.cust_id, 'METAL', 'metal', m.product_code, 'CNY', m.market_value AS balance, m.market_value AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, m.open_date, CAST(NULL AS DATE) AS maturity_date,
           CASE WHEN m.grams > 0 THEN 'ACTIVE' ELSE 'CLOSED' END
    FROM src.metal_metal_acct m WHERE m.biz_date = $biz_date
    UNION ALL
    SELECT p.pension_acct, g.customer_id, 'PENSION', 'pension', CAST(NULL AS VARCHAR) AS product_code, 'CNY', p.balance AS balance, p.balance AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, p.open_date, CAST(NULL AS DATE) AS maturity_date, 'ACTIVE'
    FROM src.pension_pension_acct p
    JOIN foundation.customer g ON g.cert_no = p.cert_no
    WHERE p.biz_date = $biz_date
    UNION ALL
    SELECT k.link_id, k.cust_id, 'SECURITIES_LINK', 'sec', CAST(NULL AS VARCHAR) AS product_code, 'CNY', CAST(0 AS DECIMAL(18,2)) AS balance, CAST(0 AS DECIMAL(18,2)) AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, k.link_date, CAST(NULL AS DATE) AS maturity_date, 'ACTIVE'
    FROM src.sec_sec_link k WHERE k.biz_date = $biz_date
    UNION ALL
    SELECT w.wallet_id, w.cust_id, 'ECNY_WALLET', 'ecny', CAST(NULL AS VARCHAR) AS product_code, 'CNY', w.balance AS balance, w.balance AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, w.open_date, CAST(NULL AS DATE) AS maturity_date, 'ACTIVE'
    FROM src.ecny_wallet w WHERE w.biz_date = $biz_date
    UNION ALL
    SELECT e.etc_card_no, e.cust_id, 'ETC_CARD', 'etc', CAST(NULL AS VARCHAR) AS product_code, 'CNY', CAST(0 AS DECIMAL(18,2)) AS balance, CAST(0 AS DECIMAL(18,2)) AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, e.issue_date, CAST(NULL AS DATE) AS maturity_date, 'ACTIVE'
    FROM src.etc_etc_card e WHERE e.biz_date = $biz_date
    UNION ALL
    SELECT l.limit_id, l.cust_id, 'CREDIT_LIMIT', 'risk', CAST(NULL AS VARCHAR) AS product_code, 'CNY', l.used_amount AS balance, l.used_amount AS balance_cny, l.limit_amount, CAST(NULL AS DATE) AS maturity_date, l.expiry_date,
           CASE WHEN l.expiry_date < $biz_date THEN 'CLOSED' ELSE 'ACTIVE' END
    FROM src.risk_credit_limit l WHERE l.biz_date = $biz_date
    UNION ALL
    SELECT t.lg_no, t.cust_id, 'GUARANTEE', 'trade', CAST(NULL AS VARCHAR) AS product_code, 'CNY', t.lg_amount AS balance, t.lg_amount AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, CAST(NULL AS DATE) AS maturity_date, t.expiry_date,
           CASE WHEN t.expiry_date < $biz_date THEN 'CLOSED' ELSE 'ACTIVE' END
    FROM src.trade_guarantee t WHERE t.biz_date = $biz_date
    UNION ALL
    SELECT c.lc_no, c.cust_id, 'LETTER_OF_CREDIT', 'trade', CAST(NULL AS VARCHAR) AS product_code, c.currency, c.lc_amount, CAST(c.lc_amount * r.rate_to_cny AS DECIMAL(18,2)), CAST(NULL AS DECIMAL(18,2)) AS limit_cny, c.issue_date, c.expiry_date,
           CASE WHEN c.expiry_date < $biz_date THEN 'CLOSED' ELSE 'ACTIVE' END
    FROM src.trade_lc c LEFT JOIN foundation.fx_rate r ON r.currency = c.currency WHERE c.biz_date = $biz_date
    UNION ALL
    SELECT b.bill_no, b.cust_id, 'BILL', 'bill', CAST(NULL AS VARCHAR) AS product_code, 'CNY', b.face_amount AS balance, b.face_amount AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, b.issue_date, b.due_date,
           CASE WHEN b.due_date < $biz_date THEN 'CLOSED' ELSE 'ACTIVE' END
    FROM src.bill_bill b WHERE b.biz_date = $biz_date
    UNION ALL
    SELECT u.contract_id, u.cust_id, 'UTILITY', 'util', CAST(NULL AS VARCHAR) AS product_code, 'CNY', CAST(0 AS DECIMAL(18,2)) AS balance, CAST(0 AS DECIMAL(18,2)) AS balance_cny, CAST(NULL AS DECIMAL(18,2)) AS limit_cny, u.sign_date, CAST(NULL AS DATE) AS maturity_date, 'ACTIVE'
    FROM src.util_util_contract u WHERE u.biz_date = $biz_date
)
SELECT
    x.agreement_id AS agreement_id,
    x.customer_id AS customer_id,
    x.agreement_type AS agreement_type,
    x.source_system AS source_system,
    x.product_code AS product_code,
    p.product_name AS product_name,
    CASE WHEN x.agreement_type IN ('INSURANCE', 'BANCA') THEN 'INSURANCE' WHEN p.product_family IS NOT NULL THEN p.product_family ELSE x.agreement_type END AS product_family,
    p.product_category AS product_category,
    x.currency AS currency,
    CAST(x.balance AS DECIMAL(18,2)) AS balance,
    CAST(x.balance_cny AS DECIMAL(18,2)) AS balance_cny,
    CAST(x.limit_cny AS DECIMAL(18,2)) AS limit_cny,
    x.open_date AS open_date,
    x.maturity_date AS maturity_date,
    x.status AS status,
    x.agreement_type IN ('DEPOSIT', 'WEALTH', 'INSURANCE', 'BANCA', 'METAL', 'PENSION', 'ECNY_WALLET') AS is_aum,
    x.agreement_type IN ('CARD', 'LOAN', 'CREDIT_LIMIT') AS is_credit,
    x.agreement_type IN ('WEALTH', 'INSURANCE', 'BANCA', 'METAL', 'PENSION', 'GUARANTEE', 'LETTER_OF_CREDIT', 'SECURITIES_LINK') AS is_off_balance
FROM x
LEFT JOIN foundation.product p ON p.product_code = x.product_code
WHERE x.customer_id IS NOT NULL
