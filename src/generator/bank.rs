//! The bank being generated: reference data, customers and deposit accounts,
//! each derived from `h(seed, entity, id)` and, per date, `h(seed, entity, id, version)`.

use chrono::{Datelike, Days, NaiveDate};

use super::rng::{Rng, h, tag, unit};

/// A city the bank has branches in: name, province, ID-card area code, region.
pub struct City {
    pub name: &'static str,
    pub province: &'static str,
    pub area: &'static str,
    pub region: &'static str,
}

const fn city(name: &'static str, province: &'static str, area: &'static str, region: &'static str) -> City {
    City {
        name,
        province,
        area,
        region,
    }
}

/// The cities, in branch order.
pub const CITIES: &[City] = &[
    city("北京", "北京市", "110105", "华北"),
    city("上海", "上海市", "310115", "华东"),
    city("广州", "广东省", "440106", "华南"),
    city("深圳", "广东省", "440305", "华南"),
    city("杭州", "浙江省", "330106", "华东"),
    city("南京", "江苏省", "320102", "华东"),
    city("苏州", "江苏省", "320505", "华东"),
    city("成都", "四川省", "510107", "西南"),
    city("重庆", "重庆市", "500103", "西南"),
    city("武汉", "湖北省", "420106", "华中"),
    city("长沙", "湖南省", "430104", "华中"),
    city("西安", "陕西省", "610113", "西北"),
    city("沈阳", "辽宁省", "210102", "东北"),
    city("天津", "天津市", "120101", "华北"),
    city("郑州", "河南省", "410105", "华中"),
    city("济南", "山东省", "370102", "华东"),
    city("青岛", "山东省", "370202", "华东"),
    city("厦门", "福建省", "350203", "华南"),
    city("合肥", "安徽省", "340104", "华东"),
    city("昆明", "云南省", "530102", "西南"),
];

/// Branches: `BRANCHES_PER_CITY` per city, the first one the city's main office.
pub const BRANCHES_PER_CITY: usize = 3;
const SUB_BRANCH: [&str; BRANCHES_PER_CITY] = ["分行营业部", "高新支行", "城东支行"];

/// Number of branches.
pub fn branch_count() -> usize {
    CITIES.len() * BRANCHES_PER_CITY
}

/// Branch `i` (0-based): code `B` + 3 digits, name, city.
pub fn branch(i: usize) -> (String, String, &'static City) {
    let c = &CITIES[i / BRANCHES_PER_CITY];
    let name = format!("{}{}", c.name, SUB_BRANCH[i % BRANCHES_PER_CITY]);
    (format!("B{:03}", i + 1), name, c)
}

/// A product of the catalogue: code, name, family, category, launch date.
pub type Product = (&'static str, &'static str, &'static str, &'static str, &'static str);

/// The product catalogue (ref.product).
pub const PRODUCTS: &[Product] = &[
    ("D101", "个人活期储蓄", "DEPOSIT", "DEMAND", "2001-01-01"),
    ("D102", "个人外币活期储蓄", "DEPOSIT", "DEMAND", "2003-06-01"),
    ("D201", "整存整取三个月", "DEPOSIT", "TIME", "2001-01-01"),
    ("D202", "整存整取一年", "DEPOSIT", "TIME", "2001-01-01"),
    ("D203", "整存整取三年", "DEPOSIT", "TIME", "2001-01-01"),
    ("D301", "个人大额存单", "DEPOSIT", "TIME", "2015-06-15"),
    ("C101", "标准信用卡", "CARD", "STANDARD", "2006-03-01"),
    ("C102", "金卡信用卡", "CARD", "GOLD", "2006-03-01"),
    ("C103", "白金信用卡", "CARD", "PLATINUM", "2012-09-01"),
    ("L101", "个人住房贷款", "LOAN", "MORTGAGE", "2002-01-01"),
    ("L201", "个人消费贷款", "LOAN", "CONSUMER", "2010-05-01"),
    ("L301", "个人经营贷款", "LOAN", "BUSINESS", "2012-01-01"),
    ("L401", "个人汽车贷款", "LOAN", "AUTO", "2008-07-01"),
    ("W101", "稳健理财30天", "WEALTH", "FIXED_INCOME", "2018-01-01"),
    ("W102", "安享理财一年", "WEALTH", "FIXED_INCOME", "2018-01-01"),
    ("W201", "成长混合型理财", "WEALTH", "MIXED", "2019-06-01"),
    ("F101", "货币市场基金A", "FUND", "MONEY_MARKET", "2014-03-01"),
    ("F201", "沪深300指数基金", "FUND", "INDEX", "2016-08-01"),
    ("F301", "优选成长股票基金", "FUND", "EQUITY", "2017-05-01"),
    ("I101", "终身寿险", "INSURANCE", "LIFE", "2010-01-01"),
    ("I201", "重大疾病保险", "INSURANCE", "HEALTH", "2012-01-01"),
    ("I301", "分红型年金保险", "INSURANCE", "ANNUITY", "2013-01-01"),
    ("M101", "积存金", "METAL", "GOLD", "2013-07-01"),
    ("M201", "实物白银", "METAL", "SILVER", "2013-07-01"),
];

/// Currencies: code, name, closing rate to CNY on the anchor date.
pub const CURRENCIES: &[(&str, &str, f64)] = &[
    ("CNY", "人民币", 1.0),
    ("USD", "美元", 7.1265),
    ("HKD", "港币", 0.91261),
    ("EUR", "欧元", 7.6589),
    ("JPY", "日元", 0.044281),
    ("GBP", "英镑", 9.0247),
];

const SURNAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("高", "gao"),
    ("林", "lin"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("彭", "peng"),
    ("曾", "zeng"),
    ("肖", "xiao"),
    ("田", "tian"),
    ("董", "dong"),
    ("袁", "yuan"),
    ("潘", "pan"),
    ("蒋", "jiang"),
    ("蔡", "cai"),
    ("余", "yu"),
    ("杜", "du"),
    ("叶", "ye"),
    ("程", "cheng"),
    ("苏", "su"),
    ("魏", "wei"),
    ("吕", "lv"),
    ("丁", "ding"),
    ("任", "ren"),
    ("沈", "shen"),
    ("姚", "yao"),
    ("卢", "lu"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
];
const GIVEN_M: &[&str] = &[
    "伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌", "宇",
    "浩", "凯", "健", "俊", "帆", "峰", "龙", "阳", "博",
];
const GIVEN_F: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "慧", "巧", "美", "玲", "婷", "雪", "琳", "晶", "颖",
    "倩", "欣", "怡", "璐", "萍",
];
const GIVEN_ANY: &[&str] = &[
    "文", "建", "志", "国", "海", "林", "子", "嘉", "思", "一", "佳", "雨", "晓", "春", "天", "梓", "若",
];
const ROADS: &[&str] = &[
    "人民", "解放", "中山", "建设", "和平", "新华", "长江", "黄河", "东风", "胜利", "文化", "青年", "光明", "幸福",
    "朝阳", "滨江", "世纪", "科技", "学府", "湖滨",
];
const MAIL_DOMAINS: &[&str] = &[
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "gmail.com",
    "outlook.com",
    "foxmail.com",
];
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152", "158", "159", "166", "177", "180",
    "182", "186", "187", "188", "189", "191", "199",
];
const SEGMENTS: &[(&str, u32)] = &[("MASS", 80), ("AFFL", 14), ("WLTH", 5), ("PRIV", 1)];

/// Days per customer-opening window kept exactly dated (newest customers and accounts).
const RECENT_DAYS: i64 = 90;
/// Accounts opened in the last `ACCT_RECENT_DAYS` days carry exact opening dates.
const ACCT_RECENT_DAYS: i64 = 30;
/// Accounts per customer at the anchor date.
pub const ACCOUNTS_PER_CUSTOMER: u64 = 40;
/// Share of accounts that are new each day.
pub const NEW_ACCOUNT_RATE: f64 = 0.005;
/// Share of customers that are new each day.
pub const NEW_CUSTOMER_RATE: f64 = 0.001;

/// The bank as of the anchor date (`--date`); earlier dates see fewer customers and accounts.
#[derive(Debug, Clone)]
pub struct World {
    pub seed: u64,
    /// The anchor date: the last business date generated.
    pub anchor: NaiveDate,
    /// Customers on the anchor date.
    pub customers: u64,
    pub new_customers_per_day: u64,
    /// Accounts on the anchor date.
    pub accounts: u64,
    pub new_accounts_per_day: u64,
}

/// Days from 2000-01-01: the day number used in per-day hashes.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - epoch()).num_days()
}

/// 2000-01-01.
pub fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

/// `d` plus `n` days (negative goes back).
pub fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    if n >= 0 {
        d.checked_add_days(Days::new(n as u64)).unwrap_or(d)
    } else {
        d.checked_sub_days(Days::new((-n) as u64)).unwrap_or(d)
    }
}

/// A customer, derived from its number alone.
#[derive(Debug, Clone)]
pub struct Customer {
    pub no: u64,
    pub id: String,
    pub cert_no: String,
    pub name: String,
    pub male: bool,
    pub birth: NaiveDate,
    pub mobile: String,
    pub email: String,
    pub open: NaiveDate,
    pub branch: usize,
    pub segment: &'static str,
    pub address: String,
    /// Building and room, the part of the address CRM exports after a comma.
    pub address_room: String,
    pub surname_pinyin: &'static str,
}

/// A deposit account of the core account master.
#[derive(Debug, Clone)]
pub struct Account {
    pub no: u64,
    pub owner: u64,
    pub product: &'static str,
    pub currency: &'static str,
    pub open: NaiveDate,
    /// The day it closes (may be after the anchor: still open).
    pub close: Option<NaiveDate>,
    /// Expected changes per day.
    pub change_rate: f64,
    phase: f64,
}

impl World {
    /// The bank at `scale` (1.0 = 100,000 customers) as of `anchor`.
    pub fn new(seed: u64, scale: f64, anchor: NaiveDate) -> World {
        let customers = ((100_000.0 * scale).round() as u64).max(10);
        let accounts = customers * ACCOUNTS_PER_CUSTOMER;
        World {
            seed,
            anchor,
            customers,
            new_customers_per_day: ((customers as f64 * NEW_CUSTOMER_RATE).round() as u64).max(1),
            accounts,
            new_accounts_per_day: ((accounts as f64 * NEW_ACCOUNT_RATE).round() as u64).max(1),
        }
    }

    fn days_before_anchor(&self, d: NaiveDate) -> u64 {
        (self.anchor - d).num_days().max(0) as u64
    }

    /// Customers that exist on `d` are numbered `1..=customers_on(d)`.
    pub fn customers_on(&self, d: NaiveDate) -> u64 {
        self.customers
            .saturating_sub(self.days_before_anchor(d) * self.new_customers_per_day)
            .max(1)
    }

    /// Accounts that exist on `d` are numbered `1..=accounts_on(d)`.
    pub fn accounts_on(&self, d: NaiveDate) -> u64 {
        self.accounts
            .saturating_sub(self.days_before_anchor(d) * self.new_accounts_per_day)
            .max(1)
    }

    /// The customer number's printed id.
    pub fn cust_id(no: u64) -> String {
        format!("C{no:09}")
    }

    /// The date customer `no` was opened: exact days for the newest, spread over years for the rest.
    pub fn customer_open(&self, no: u64) -> NaiveDate {
        let back = self.customers.saturating_sub(no) as i64;
        let recent = self.new_customers_per_day as i64 * RECENT_DAYS;
        if back < recent {
            return add_days(self.anchor, -(back / self.new_customers_per_day as i64));
        }
        // Older customers: monotone in their number, from 2003 up to the recent window.
        let start = NaiveDate::from_ymd_opt(2003, 1, 1).unwrap_or_default();
        let end = add_days(self.anchor, -RECENT_DAYS);
        let span = (end - start).num_days().max(1) as f64;
        let old = (self.customers as i64 - recent).max(1) as f64;
        let pos = (no as f64 / old).clamp(0.0, 1.0);
        // Square root: more customers in recent years.
        let jitter = unit(h(self.seed, &[tag("cust_open"), no])) * 20.0;
        add_days(start, ((pos.sqrt() * span) - jitter).max(0.0) as i64)
    }

    /// Customer `no`.
    pub fn customer(&self, no: u64) -> Customer {
        let mut r = Rng::new(self.seed, &[tag("customer"), no]);
        let male = r.chance(0.51);
        let open = self.customer_open(no);
        let age = (r.normal() * 14.0 + 42.0).clamp(19.0, 88.0) as i64;
        let birth_year = self.anchor.year() as i64 - age;
        let birth = NaiveDate::from_ymd_opt(birth_year as i32, 1, 1).unwrap_or_default();
        let birth = add_days(birth, r.below(365) as i64);
        let branch = r.below(branch_count() as u64) as usize;
        let home = &CITIES[branch / BRANCHES_PER_CITY];
        let area_city = if r.chance(0.8) { home } else { r.pick(CITIES) };
        let seq = r.below(500) * 2 + u64::from(male);
        let cert_no = resident_id(area_city.area, birth, seq);
        let (surname, pinyin) = *r.pick(SURNAMES);
        let given = if male { GIVEN_M } else { GIVEN_F };
        let mut name = surname.to_string();
        if r.chance(0.7) {
            name.push_str(if r.chance(0.5) {
                r.pick::<&str>(GIVEN_ANY)
            } else {
                r.pick::<&str>(given)
            });
        }
        name.push_str(r.pick::<&str>(given));
        let mobile = format!("{}{:08}", r.pick(MOBILE_PREFIXES), r.below(100_000_000));
        let email = format!("{pinyin}{}@{}", r.below(100_000), r.pick(MAIL_DOMAINS));
        let segment = *r.weighted(SEGMENTS);
        let address = format!(
            "{}{}市{}路{}号",
            if home.province.ends_with('市') {
                ""
            } else {
                home.province
            },
            home.name,
            r.pick(ROADS),
            r.range(1, 999)
        );
        let address_room = format!("{}栋{}单元{}室", r.range(1, 30), r.range(1, 6), r.range(101, 3208));
        Customer {
            no,
            id: World::cust_id(no),
            cert_no,
            name,
            male,
            birth,
            mobile,
            email,
            open,
            branch,
            segment,
            address,
            address_room,
            surname_pinyin: pinyin,
        }
    }

    /// Deposit account `no` of the core account master.
    pub fn account(&self, no: u64) -> Account {
        let mut r = Rng::new(self.seed, &[tag("account"), no]);
        if no <= self.customers {
            // Accounts 1..=customers are the customers' primary demand accounts, opened with them.
            let recency = (self.customers - no) as f64 / self.customers as f64;
            return Account {
                no,
                owner: no,
                product: "D101",
                currency: "CNY",
                open: self.customer_open(no),
                close: None,
                change_rate: (0.01 + 0.2 * (-recency / 0.1).exp()).min(1.0),
                phase: r.unit() * 1000.0,
            };
        }
        let back = self.accounts.saturating_sub(no) as i64;
        let per_day = self.new_accounts_per_day as i64;
        let (open, owner) = if back < per_day * ACCT_RECENT_DAYS {
            let open = add_days(self.anchor, -(back / per_day));
            let owner = 1 + r.below(self.customers_on(open));
            (open, owner)
        } else {
            let first = add_days(self.anchor, -ACCT_RECENT_DAYS);
            let owner = 1 + r.below(self.customers_on(first));
            let from = self.customer_open(owner);
            let span = (first - from).num_days().max(1) as f64;
            // Skewed to recent years.
            (add_days(from, (r.unit().sqrt() * span) as i64), owner)
        };
        let product = *r.weighted(&[
            ("D101", 30u32),
            ("D102", 5),
            ("D201", 20),
            ("D202", 25),
            ("D203", 12),
            ("D301", 8),
        ]);
        let currency = if product == "D102" {
            *r.weighted(&[("USD", 60u32), ("HKD", 20), ("EUR", 12), ("JPY", 5), ("GBP", 3)])
        } else if r.chance(0.02) {
            "USD"
        } else {
            "CNY"
        };
        let close = if r.chance(0.06) {
            Some(add_days(open, r.range(1, 2000)))
        } else {
            None
        };
        // Clustered activity: the newest accounts change most (see docs/generator.md).
        let recency = back as f64 / self.accounts as f64;
        let jitter = 0.5 + r.unit();
        let change_rate = ((0.004 + 0.16 * (-recency / 0.1).exp()) * jitter).min(1.0);
        Account {
            no,
            owner,
            product,
            currency,
            open,
            close,
            change_rate,
            phase: r.unit() * 1000.0,
        }
    }
}

impl Account {
    /// The 19-digit account number.
    pub fn acct_no(&self) -> String {
        format!("6217{:015}", self.no)
    }

    /// The balance/status version on `d`: it steps on exactly the days the account changes.
    pub fn version(&self, d: NaiveDate) -> u64 {
        ((day_number(d) as f64 + self.phase) * self.change_rate).floor() as u64
    }

    /// Whether the account changed on `d` (its version stepped since the day before).
    pub fn changed_on(&self, d: NaiveDate) -> bool {
        self.open == d || self.version(d) != self.version(add_days(d, -1)) || self.close == Some(d)
    }

    /// Closed on `d`?
    pub fn closed_on(&self, d: NaiveDate) -> bool {
        self.close.is_some_and(|c| c <= d)
    }

    /// End-of-day balance on `d` in cents.
    pub fn balance_cents(&self, w: &World, d: NaiveDate) -> i64 {
        if self.closed_on(d) {
            return 0;
        }
        let mut r = Rng::new(w.seed, &[tag("balance"), self.no, self.version(d)]);
        let v = match self.product {
            "D101" => r.lognormal(8_000.0, 1.4),
            "D102" => r.lognormal(3_000.0, 1.2),
            "D301" => 200_000.0 + (r.lognormal(100_000.0, 1.0) / 10_000.0).round() * 10_000.0,
            _ => (r.lognormal(50_000.0, 1.0) / 100.0).round() * 100.0,
        };
        (v.min(5.0e8) * 100.0).round() as i64
    }
}

/// An 18-character resident ID with its ISO 7064 MOD 11-2 check character.
pub fn resident_id(area: &str, birth: NaiveDate, seq: u64) -> String {
    let body = format!("{area}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = resident_id_check(&body);
    format!("{body}{check}")
}

/// The MOD 11-2 check character of the 17-digit body.
pub fn resident_id_check(body: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| (b.wrapping_sub(b'0')) as u32 * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// Whether an 18-character resident ID's check character is right.
#[cfg(test)]
pub fn resident_id_valid(id: &str) -> bool {
    id.len() == 18
        && id.as_bytes()[..17].iter().all(u8::is_ascii_digit)
        && id[17..].starts_with(resident_id_check(&id[..17]))
}

/// Cents as decimal text with exactly two decimals.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}{}.{:02}", c / 100, c % 100)
}

/// Luhn-complete a card number body.
pub fn luhn(body: &str) -> String {
    let total: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    format!("{body}{}", (10 - total % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids_carry_the_iso_7064_check() {
        // GB 11643-1999's worked example.
        assert_eq!(resident_id_check("11010519491231002"), 'X');
        assert!(resident_id_valid("11010519491231002X"));
        assert!(!resident_id_valid("110105194912310021"));
        let w = World::new(7, 0.01, NaiveDate::from_ymd_opt(2024, 6, 30).unwrap());
        for no in 1..200 {
            assert!(resident_id_valid(&w.customer(no).cert_no));
        }
    }

    #[test]
    fn population_grows_towards_the_anchor() {
        let d = NaiveDate::from_ymd_opt(2024, 6, 30).unwrap();
        let w = World::new(7, 1.0, d);
        assert_eq!(w.customers_on(d), 100_000);
        assert_eq!(w.accounts_on(d), 4_000_000);
        assert_eq!(w.accounts_on(add_days(d, -1)), 4_000_000 - 20_000);
        assert_eq!(w.customer_open(100_000), d);
        assert!(w.customer_open(1) < w.customer_open(50_000));
        let newest = w.account(4_000_000);
        assert_eq!(newest.open, d);
        assert!(newest.owner <= 100_000);
    }

    #[test]
    fn money_has_two_decimals() {
        assert_eq!(money(123456), "1234.56");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(-150), "-1.50");
        assert_eq!(luhn("625906000040001").len(), 16);
    }
}
