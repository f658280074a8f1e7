//! The languages of the web pages: English, simplified and traditional Chinese (the terms of
//! `GLOSSARY.md`, one per concept), chosen by a cookie set by the switch, else by
//! `Accept-Language`. Every text of a page is written in all three at its call site
//! ([`Lang::t`]), so that a label cannot exist in one language only; the shared words (states,
//! departments, channels...) live here.

use orderflow_schemas::{
    Channel, ConfirmMethod, Date, DeliveryMode, Department, InspectionResult, Money, OrderStatus, Role,
    ShipMode, Timestamp,
};

/// A language of the pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Lang {
    /// English.
    En,
    /// Simplified Chinese (简体中文).
    Hans,
    /// Traditional Chinese (繁體中文).
    Hant,
}

/// The cookie that remembers the language switch.
pub const LANG_COOKIE: &str = "of_lang";

impl Lang {
    /// Every language, in the order of the switch.
    pub const ALL: [Lang; 3] = [Lang::Hans, Lang::Hant, Lang::En];

    /// The code of the `lang` attribute and the switch: `en`, `zh-Hans`, `zh-Hant`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Hans => "zh-Hans",
            Lang::Hant => "zh-Hant",
        }
    }

    /// The language's own name, as the switch shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Hans => "简体中文",
            Lang::Hant => "繁體中文",
        }
    }

    /// The language of a code ([`Lang::code`]), if it is one.
    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code().eq_ignore_ascii_case(code.trim()))
    }

    /// The language an `Accept-Language` header asks for first among ours: `zh-TW`, `zh-HK`,
    /// `zh-MO` and `zh-Hant` are traditional, any other `zh` simplified; English otherwise.
    pub fn from_accept_language(header: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok()))
                .unwrap_or(1.0);
            let lang = if tag == "zh" || tag.starts_with("zh-") {
                if ["zh-tw", "zh-hk", "zh-mo"].iter().any(|t| tag.starts_with(t))
                    || tag.starts_with("zh-hant")
                {
                    Some(Lang::Hant)
                } else {
                    Some(Lang::Hans)
                }
            } else if tag == "en" || tag.starts_with("en-") {
                Some(Lang::En)
            } else {
                None
            };
            if let Some(lang) = lang {
                if best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, lang));
                }
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    /// One text in this language: `en`, simplified, traditional.
    pub fn t(self, en: &'static str, hans: &'static str, hant: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Hans => hans,
            Lang::Hant => hant,
        }
    }

    /// Whether the language is Chinese.
    pub fn is_chinese(self) -> bool {
        self != Lang::En
    }

    /// A date: `2026年12月2日`, `2 Dec 2026`.
    pub fn date(self, d: Date) -> String {
        let dt = d.to_naive();
        match self {
            Lang::En => dt.format("%-d %b %Y").to_string(),
            _ => dt.format("%Y年%-m月%-d日").to_string(),
        }
    }

    /// A time, in Beijing time (UTC+8) for Chinese pages, UTC for English ones:
    /// `2026年12月2日 14:05 北京时间`, `2 Dec 2026 06:05 UTC`.
    pub fn time(self, t: Timestamp) -> String {
        let utc = t.to_datetime();
        match self {
            Lang::En => utc.format("%-d %b %Y %H:%M UTC").to_string(),
            Lang::Hans | Lang::Hant => {
                let bj = utc + chrono::Duration::hours(8);
                let zone = self.t("", "北京时间", "北京時間");
                format!("{} {zone}", bj.format("%Y年%-m月%-d日 %H:%M"))
            }
        }
    }

    /// An amount with its currency and thousands separators: `¥12,345.60` for yuan,
    /// `USD 12,345.60` otherwise.
    pub fn money(self, m: Money) -> String {
        let sign = if m.minor < 0 { "-" } else { "" };
        let abs = m.minor.unsigned_abs();
        let whole = group_thousands(abs / 100);
        let cents = abs % 100;
        if m.currency.as_str() == "CNY" {
            format!("{sign}¥{whole}.{cents:02}")
        } else {
            format!("{sign}{} {whole}.{cents:02}", m.currency)
        }
    }

    /// A whole number with thousands separators.
    pub fn count(self, n: u64) -> String {
        group_thousands(n)
    }

    /// An order's state.
    pub fn state(self, s: OrderStatus) -> &'static str {
        use OrderStatus as S;
        match s {
            S::Received => self.t("Received", "已接收", "已接收"),
            S::InReview => self.t("In review", "审核中", "審核中"),
            S::Approved => self.t("Approved", "审批通过", "審批通過"),
            S::Rejected => self.t("Rejected", "已驳回", "已駁回"),
            S::Confirmed => self.t("Confirmed", "已确认", "已確認"),
            S::Scheduled => self.t("Scheduled", "已排产", "已排產"),
            S::InProduction => self.t("In production", "生产中", "生產中"),
            S::ReadyToShip => self.t("Ready to ship", "待发货", "待發貨"),
            S::Shipped => self.t("Shipped", "已发货", "已發貨"),
            S::Delivered => self.t("Delivered", "已交付", "已交付"),
            S::Signed => self.t("Signed", "已签收", "已簽收"),
            S::Refused => self.t("Refused", "已拒收", "已拒收"),
            S::Cancelled => self.t("Cancelled", "已取消", "已取消"),
            S::Closed => self.t("Closed", "已关闭", "已關閉"),
        }
    }

    /// A role (its department).
    pub fn role(self, r: Role) -> &'static str {
        match r {
            Role::Sales => self.t("Sales", "销售部", "銷售部"),
            Role::Production => self.t("Production", "生产部", "生產部"),
            Role::Procurement => self.t("Procurement", "采购部", "採購部"),
            Role::Finance => self.t("Finance", "财务部", "財務部"),
            Role::Warehouse => self.t("Warehouse", "仓储部", "倉儲部"),
            Role::Logistics => self.t("Logistics", "物流部", "物流部"),
            Role::Quality => self.t("Quality", "质检部", "質檢部"),
            Role::CustomerService => self.t("Customer service", "客服部", "客服部"),
            Role::Auditor => self.t("Auditor", "审计员", "審計員"),
            Role::Archivist => self.t("Archivist", "档案管理员", "檔案管理員"),
            Role::Admin => self.t("Administrator", "系统管理员", "系統管理員"),
            Role::System => self.t("orderflow (system)", "orderflow（系统）", "orderflow（系統）"),
        }
    }

    /// A reviewing department.
    pub fn department(self, d: Department) -> &'static str {
        self.role(d.role())
    }

    /// How an order came in.
    pub fn channel(self, c: Channel) -> &'static str {
        match c {
            Channel::Phone => self.t("Phone", "电话", "電話"),
            Channel::Email => self.t("E-mail", "邮件", "郵件"),
            Channel::Online => self.t("Online", "在线平台", "在線平臺"),
            Channel::SalesRep => self.t("Sales rep", "销售代表", "銷售代表"),
        }
    }

    /// A transport mode.
    pub fn ship_mode(self, m: ShipMode) -> &'static str {
        match m {
            ShipMode::Road => self.t("Road", "公路", "公路"),
            ShipMode::Rail => self.t("Rail", "铁路", "鐵路"),
            ShipMode::Air => self.t("Air", "航空", "航空"),
            ShipMode::ColdChain => self.t("Cold chain", "冷链", "冷鏈"),
        }
    }

    /// A delivery mode.
    pub fn delivery_mode(self, m: DeliveryMode) -> &'static str {
        match m {
            DeliveryMode::OwnFleet => self.t("Own fleet", "自有车队", "自有車隊"),
            DeliveryMode::Carrier => self.t("Carrier", "承运商", "承運商"),
            DeliveryMode::Pickup => self.t("Customer pickup", "客户自提", "客戶自提"),
        }
    }

    /// How the customer confirmed.
    pub fn confirm_method(self, m: ConfirmMethod) -> &'static str {
        match m {
            ConfirmMethod::Phone => self.t("Phone", "电话", "電話"),
            ConfirmMethod::Email => self.t("E-mail", "邮件", "郵件"),
            ConfirmMethod::System => self.t("Online system", "系统确认", "系統確認"),
        }
    }

    /// An inspection result.
    pub fn inspection(self, r: InspectionResult) -> &'static str {
        match r {
            InspectionResult::Pass => self.t("Pass", "合格", "合格"),
            InspectionResult::Rework => self.t("Rework", "返工", "返工"),
            InspectionResult::Scrap => self.t("Scrap", "报废", "報廢"),
        }
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_script() {
        assert_eq!(Lang::from_accept_language("zh-TW,zh;q=0.9,en;q=0.8"), Lang::Hant);
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9"), Lang::Hans);
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("fr-FR,zh-Hant;q=0.4"), Lang::Hant);
        assert_eq!(Lang::from_accept_language("fr, de"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
    }

    #[test]
    fn money_and_dates_per_locale() {
        let cny = Money { minor: 1_234_560, currency: orderflow_schemas::Currency::parse("CNY").unwrap() };
        assert_eq!(Lang::Hans.money(cny), "¥12,345.60");
        let usd = Money { minor: -99, currency: orderflow_schemas::Currency::parse("USD").unwrap() };
        assert_eq!(Lang::En.money(usd), "-USD 0.99");
        let d = Date::parse("2026-12-02").unwrap();
        assert_eq!(Lang::Hans.date(d), "2026年12月2日");
        assert_eq!(Lang::En.date(d), "2 Dec 2026");
        let t = Timestamp::from_datetime("2026-12-02T06:05:00Z".parse().unwrap());
        assert_eq!(Lang::Hant.time(t), "2026年12月2日 14:05 北京時間");
        assert_eq!(Lang::En.time(t), "2 Dec 2026 06:05 UTC");
    }
}
