//! Value types: identifiers, money, dates, departments, roles, actors.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, TimeZone, Utc};
use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// The identity of an order: also the id of its event stream in the log.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct OrderId(pub Uuid);

impl OrderId {
    /// The order id that a `receive` command with this command id creates: a name-based UUID
    /// (v5), so a retried `receive` lands on the same order and is absorbed by idempotency.
    pub fn for_receive(command_id: Uuid) -> Self {
        const NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_772d_6f72_6465_7273);
        Self(Uuid::new_v5(&NAMESPACE, command_id.as_bytes()))
    }

    /// The first 8 hex digits, as clerks read it ("7f3a12bc").
    pub fn short(&self) -> String {
        self.prefix(Self::SHOWN_DIGITS_MIN)
    }

    /// Hex digits a listing shows of an order id at least.
    pub const SHOWN_DIGITS_MIN: usize = 8;

    /// The first `digits` hex digits (all 32 at most).
    pub fn prefix(&self, digits: usize) -> String {
        let mut s = self.0.simple().to_string();
        s.truncate(digits.min(32));
        s
    }

    /// How many hex digits tell every one of `ids` apart: at least [`Self::SHOWN_DIGITS_MIN`],
    /// one more than the longest prefix two of them share. A table that prints this many digits
    /// of each id prints ids a clerk can type back.
    pub fn distinct_digits<'a>(ids: impl IntoIterator<Item = &'a OrderId>) -> usize {
        let mut sorted: Vec<u128> = ids.into_iter().map(|id| id.0.as_u128()).collect();
        sorted.sort_unstable();
        sorted.dedup();
        let shared = sorted
            .windows(2)
            .map(|w| usize::try_from((w[0] ^ w[1]).leading_zeros() / 4).unwrap_or(32))
            .max()
            .unwrap_or(0);
        (shared + 1).clamp(Self::SHOWN_DIGITS_MIN, 32)
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for OrderId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s.trim()).map(OrderId).map_err(|e| format!("'{s}' is not an order id (a UUID): {e}"))
    }
}

/// A point in time, microseconds since the Unix epoch, UTC. Binary: an i64. JSON: RFC 3339.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }
    /// From a chrono UTC time (microsecond precision).
    pub fn from_datetime(t: DateTime<Utc>) -> Self {
        Self(t.timestamp_micros())
    }
    /// As a chrono UTC time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
    /// The calendar date (UTC) of this instant.
    pub fn date(self) -> Date {
        Date::from_naive(self.to_datetime().date_naive())
    }
    /// This instant plus a number of hours.
    pub fn plus_hours(self, hours: i64) -> Self {
        Self(self.0.saturating_add(hours.saturating_mul(3_600_000_000)))
    }
    /// RFC 3339 with microseconds, `Z` suffix.
    pub fn to_rfc3339(self) -> String {
        self.to_datetime().to_rfc3339_opts(SecondsFormat::Micros, true)
    }
    /// Parses RFC 3339, or a bare `YYYY-MM-DD` (midnight UTC), or `YYYY-MM-DDTHH:MM[:SS]` (UTC).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Ok(Self::from_datetime(t.with_timezone(&Utc)));
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
                return Ok(Self::from_datetime(t.and_utc()));
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(Self::from_datetime(d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()));
        }
        Err(format!("'{s}' is not a time (expected RFC 3339 such as 2026-03-01T09:30:00Z, or YYYY-MM-DD)"))
    }
}

impl Timestamp {
    /// As a clerk writes it: "2026-11-05 14:00 UTC" (to the minute).
    pub fn to_minute(self) -> String {
        self.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_rfc3339())
        } else {
            s.serialize_i64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Timestamp::parse(&s).map_err(serde::de::Error::custom)
        } else {
            i64::deserialize(d).map(Timestamp)
        }
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> String {
        "Timestamp".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            format: Some("date-time".into()),
            ..Default::default()
        }
        .into()
    }
}

/// A calendar date. Binary: days since 0001-01-01 (i32). JSON: `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Date(pub i32);

impl Date {
    /// From a chrono date.
    pub fn from_naive(d: NaiveDate) -> Self {
        Self(d.num_days_from_ce())
    }
    /// As a chrono date.
    pub fn to_naive(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0).unwrap_or(NaiveDate::MIN)
    }
    /// From year, month, day; `None` when not a real date.
    pub fn ymd(y: i32, m: u32, d: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(y, m, d).map(Self::from_naive)
    }
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Self::from_naive)
            .map_err(|_| format!("'{s}' is not a date (expected YYYY-MM-DD)"))
    }
    /// This date plus a number of days.
    pub fn plus_days(self, days: i32) -> Self {
        Self(self.0.saturating_add(days))
    }
    /// Whole days from `self` to `other` (positive when `other` is later).
    pub fn days_until(self, other: Date) -> i32 {
        other.0 - self.0
    }
    /// `YYYY-MM` of this date.
    pub fn month(self) -> String {
        self.to_naive().format("%Y-%m").to_string()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_naive().format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_string())
        } else {
            s.serialize_i32(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let s = String::deserialize(d)?;
            Date::parse(&s).map_err(serde::de::Error::custom)
        } else {
            i32::deserialize(d).map(Date)
        }
    }
}

impl JsonSchema for Date {
    fn schema_name() -> String {
        "Date".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        SchemaObject {
            instance_type: Some(InstanceType::String.into()),
            format: Some("date".into()),
            ..Default::default()
        }
        .into()
    }
}

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Currency([u8; 3]);

impl Currency {
    /// Parses a three-letter code (case-insensitive).
    pub fn parse(s: &str) -> Result<Self, String> {
        let b = s.trim().as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_alphabetic) {
            Ok(Self([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase(), b[2].to_ascii_uppercase()]))
        } else {
            Err(format!("'{s}' is not a currency code (three letters, such as EUR or CNY)"))
        }
    }
    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> String {
        "Currency".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut o = SchemaObject { instance_type: Some(InstanceType::String.into()), ..Default::default() };
        o.string().pattern = Some("^[A-Z]{3}$".into());
        o.into()
    }
}

/// An amount of money: integer minor units (cents, fen) and a currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Money {
    /// Minor units (1/100 of the major unit for most currencies).
    pub minor: i64,
    /// The currency.
    pub currency: Currency,
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(f, "{sign}{}.{:02} {}", abs / 100, abs % 100, self.currency)
    }
}

macro_rules! word_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        /// Variants are append-only: the binary form stores the variant index.
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize, JsonSchema)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $text)] $variant),* }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
            /// The word used on the command line and in JSON.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let t = s.trim().to_ascii_lowercase().replace('-', "_");
                $(if t == $text { return Ok($name::$variant); })*
                let all: Vec<&str> = vec![$($text),*];
                Err(format!("'{s}' is not a {}; expected one of: {}", stringify!($name).to_ascii_lowercase(), all.join(", ")))
            }
        }
    };
}

word_enum!(
    /// A department that reviews every revision of an order.
    Department {
        /// Capacity and the delivery date.
        Production = "production",
        /// Materials.
        Procurement = "procurement",
        /// Credit, cost and margin.
        Finance = "finance",
        /// Stock.
        Warehouse = "warehouse",
    }
);

impl Department {
    /// The role that may decide this department's review.
    pub fn role(self) -> Role {
        match self {
            Department::Production => Role::Production,
            Department::Procurement => Role::Procurement,
            Department::Finance => Role::Finance,
            Department::Warehouse => Role::Warehouse,
        }
    }
}

word_enum!(
    /// The role of the person or system issuing a command.
    Role {
        /// Sales and order desk clerks.
        Sales = "sales",
        /// Production planning.
        Production = "production",
        /// Procurement.
        Procurement = "procurement",
        /// Finance.
        Finance = "finance",
        /// Warehouse.
        Warehouse = "warehouse",
        /// Logistics and shipping.
        Logistics = "logistics",
        /// Quality inspection.
        Quality = "quality",
        /// After-sales customer service.
        CustomerService = "customer_service",
        /// Auditors: read only.
        Auditor = "auditor",
        /// Archive administrators (retention holds).
        Archivist = "archivist",
        /// Administrators of the user directory: add users, grant and revoke roles.
        Admin = "admin",
        /// orderflow itself: the deadline watcher of `serve`, which records overdue reviews.
        /// Never granted to a person.
        System = "system",
    }
);

impl Role {
    /// The roles whose people issue the workflow's commands, and so may have a department head.
    pub const OPERATIONAL: &'static [Role] = &[
        Role::Sales,
        Role::Production,
        Role::Procurement,
        Role::Finance,
        Role::Warehouse,
        Role::Logistics,
        Role::Quality,
        Role::CustomerService,
    ];

    /// Whether the role has a department head (see [`Grant::Head`]).
    pub fn has_head(self) -> bool {
        Self::OPERATIONAL.contains(&self)
    }
}

/// A power a user holds: a role, or the headship of an operational role's department. A head
/// acts in that role and may also enter late paperwork (`late_entry`) and read the archive.
///
/// Written `production` or `dept_head:production`. Variants are append-only.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// The role itself.
    Role(Role),
    /// Head of the department of this (operational) role.
    DeptHead(Role),
}

impl Grant {
    /// The role exercised under this grant.
    pub fn role(self) -> Role {
        match self {
            Grant::Role(r) | Grant::DeptHead(r) => r,
        }
    }

    /// Whether this is a department headship.
    pub fn is_head(self) -> bool {
        matches!(self, Grant::DeptHead(_))
    }

    /// Every grant a person can hold: every role but `system` (orderflow's own), then every
    /// headship.
    pub fn all() -> Vec<Grant> {
        Role::ALL
            .iter()
            .filter(|r| **r != Role::System)
            .map(|&r| Grant::Role(r))
            .chain(Role::OPERATIONAL.iter().map(|&r| Grant::DeptHead(r)))
            .collect()
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grant::Role(r) => f.write_str(r.as_str()),
            Grant::DeptHead(r) => write!(f, "dept_head:{r}"),
        }
    }
}

impl FromStr for Grant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        if let Some(rest) = t.strip_prefix("dept_head") {
            let Some(dept) = rest.strip_prefix(':').filter(|d| !d.is_empty()) else {
                return Err(format!(
                    "'{s}' needs its department: dept_head:ROLE, one of {}",
                    Role::OPERATIONAL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
                ));
            };
            let role: Role = dept.parse()?;
            if !role.has_head() {
                return Err(format!("'{s}': {role} has no department head"));
            }
            return Ok(Grant::DeptHead(role));
        }
        t.parse::<Role>().map(Grant::Role).map_err(|_| {
            format!(
                "'{s}' is not a role; expected one of: {}, or dept_head:ROLE",
                Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            )
        })
    }
}

word_enum!(
    /// How the order came in.
    Channel {
        /// Telephone.
        Phone = "phone",
        /// E-mail.
        Email = "email",
        /// Web shop or portal.
        Online = "online",
        /// Field sales representative.
        SalesRep = "sales_rep",
    }
);

word_enum!(
    /// Transport mode of a shipment.
    ShipMode {
        /// Road.
        Road = "road",
        /// Rail.
        Rail = "rail",
        /// Air.
        Air = "air",
        /// Temperature-controlled road transport.
        ColdChain = "cold_chain",
    }
);

word_enum!(
    /// The outcome of a quality inspection.
    InspectionResult {
        /// Passed.
        Pass = "pass",
        /// Failed; the batch is reworked and inspected again.
        Rework = "rework",
        /// Failed; the batch is scrapped and produced again.
        Scrap = "scrap",
    }
);

word_enum!(
    /// What a complaint is about.
    ComplaintCategory {
        /// Product quality.
        Quality = "quality",
        /// Wrong or short quantity.
        Quantity = "quantity",
        /// Late or damaged delivery.
        Delivery = "delivery",
        /// Service.
        Service = "service",
    }
);

word_enum!(
    /// How serious a complaint is.
    Severity {
        /// Low.
        Low = "low",
        /// Medium.
        Medium = "medium",
        /// High.
        High = "high",
        /// Critical.
        Critical = "critical",
    }
);

word_enum!(
    /// Who asked for a change or a cancellation: the customer, or the company itself.
    Initiator {
        /// The customer asked (the promise may move with the customer's new date).
        Customer = "customer",
        /// The company decided (capacity, materials, credit): never moves the promise.
        Internal = "internal",
    }
);

word_enum!(
    /// How the customer confirmed the order (seed 002 二.3: 電話/郵件/系統).
    ConfirmMethod {
        /// By telephone, read back.
        Phone = "phone",
        /// By e-mail.
        Email = "email",
        /// In the ordering system (web, EDI).
        System = "system",
    }
);

word_enum!(
    /// How the goods reach the customer, as agreed at confirmation.
    DeliveryMode {
        /// Delivered by the company's own vehicles.
        OwnFleet = "own_fleet",
        /// Handed to a carrier.
        Carrier = "carrier",
        /// Collected by the customer.
        Pickup = "pickup",
    }
);

word_enum!(
    /// What was done to settle a complaint.
    Remedy {
        /// Goods replaced.
        Replacement = "replacement",
        /// Money refunded.
        Refund = "refund",
        /// A credit note issued.
        Credit = "credit",
        /// Goods repaired or reworked at the customer.
        Repair = "repair",
        /// Explained; nothing to replace.
        Explanation = "explanation",
        /// Anything else (described in the resolution).
        Other = "other",
    }
);

word_enum!(
    /// How a follow-up visit (回訪) reached the customer.
    VisitMethod {
        /// A telephone call.
        Phone = "phone",
        /// An e-mail.
        Email = "email",
        /// A satisfaction survey.
        Survey = "survey",
        /// A visit in person.
        OnSite = "on_site",
    }
);

/// The roles that decide a change request: the four reviewing departments and logistics. A
/// change of lines or dates goes to all of them; an address-only change to logistics alone.
pub const CHANGE_REVIEWERS: &[Role] =
    &[Role::Production, Role::Procurement, Role::Finance, Role::Warehouse, Role::Logistics];

/// A deadline for one department's (or role's) decision.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RoleDue {
    /// The deciding role (a reviewing department's role, or logistics for a change request).
    pub role: Role,
    /// When its decision is due.
    pub due: Timestamp,
}

impl RoleDue {
    /// Each of the four reviewing departments due at the same time: the one deadline of an
    /// event recorded before each department had its own.
    pub fn every_department(due: Timestamp) -> Vec<RoleDue> {
        Department::ALL.iter().map(|d| RoleDue { role: d.role(), due }).collect()
    }
}

/// A department's note on what a change request would cost it (capacity, materials, credit,
/// stock, transport).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ImpactNote {
    /// The department (its role).
    pub role: Role,
    /// What the change would mean for it.
    pub note: String,
}

word_enum!(
    /// A kind of credential.
    CredentialKind {
        /// A password (argon2id hash kept outside the log).
        Password = "password",
        /// An access token (its hash kept outside the log).
        Token = "token",
    }
);

word_enum!(
    /// What kind of archive read was recorded.
    AccessKind {
        /// The readable timeline.
        History = "history",
        /// A self-contained export file.
        Export = "export",
        /// A point-in-time replay.
        Replay = "replay",
    }
);

/// Who issued a command: the authenticated user (id and login, stamped by the application from
/// the login or the NATS server's word, never typed) and the role exercised.
///
/// Events of schema version 1 were recorded before identities: they carry a typed name only,
/// upcast to the nil user id with that name as the login.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Actor {
    /// The user's id in the directory; nil for an event recorded before identities.
    pub user_id: Uuid,
    /// The user's login when the event was recorded (a typed name before identities).
    pub login: String,
    /// The role exercised.
    pub role: Role,
    /// Whether the user acted as the head of that role's department.
    #[serde(default)]
    pub head: bool,
}

impl Actor {
    /// An actor of user `user_id`.
    pub fn new(user_id: Uuid, login: impl Into<String>, role: Role) -> Self {
        Self { user_id, login: login.into(), role, head: false }
    }

    /// An actor whose user id derives from its login (tests, fixtures and benchmarks that have
    /// no directory: the same login is always the same user).
    pub fn named(login: &str, role: Role) -> Self {
        Self::new(Uuid::new_v5(&USER_NAMESPACE, login.trim().to_lowercase().as_bytes()), login, role)
    }

    /// Whether two actors are the same person: the same user id when both have one; for events
    /// recorded before identities, the same login (case and surrounding blanks ignored).
    pub fn same_person(&self, other: &Actor) -> bool {
        if !self.user_id.is_nil() && !other.user_id.is_nil() {
            return self.user_id == other.user_id;
        }
        let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        norm(&self.login) == norm(&other.login)
    }

    /// The grant exercised.
    pub fn grant(&self) -> Grant {
        if self.head {
            Grant::DeptHead(self.role)
        } else {
            Grant::Role(self.role)
        }
    }
}

/// The namespace of [`Actor::named`] user ids.
pub const USER_NAMESPACE: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_7775_7365_7273_0001);

/// The stream of the user directory: every change to a user is an event of this stream, in the
/// same log and hash chains as the orders. No order has this id (order ids are v4/v5 UUIDs).
pub const DIRECTORY_STREAM: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_7764_6972_0000_0001);

/// The actor of schema version 1: a typed name.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ActorV1 {
    /// The person or system, as typed.
    pub name: String,
    /// The role they act in.
    pub role: Role,
}

impl From<ActorV1> for Actor {
    fn from(a: ActorV1) -> Self {
        Actor { user_id: Uuid::nil(), login: a.name, role: a.role, head: false }
    }
}

/// Why an entry is late: the effective time was set back (`--at`) by someone holding the
/// `late_entry` permission. The time of recording is the log's own (`recorded_at`).
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, JsonSchema)]
pub struct LateEntry {
    /// Why the entry was made late (paper form found, system down, ...).
    pub reason: String,
}

/// One line of an order.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct OrderLine {
    /// 1-based line number, stable across changes.
    pub line_no: u16,
    /// Product code.
    pub sku: String,
    /// Specification (grade, size, packaging...).
    pub spec: String,
    /// Ordered quantity, in `unit`.
    pub quantity: u32,
    /// Unit of measure ("pcs", "kg", "l").
    pub unit: String,
    /// Price per unit, minor units of the order currency.
    pub unit_price_minor: i64,
}

impl OrderLine {
    /// quantity × unit price; `None` on overflow.
    pub fn amount_minor(&self) -> Option<i64> {
        self.unit_price_minor.checked_mul(i64::from(self.quantity))
    }
}

/// A quantity for one line.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct LineQuantity {
    /// The line number.
    pub line_no: u16,
    /// The quantity.
    pub quantity: u32,
}

/// One field changed by a change request: what it was and what it became.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct FieldChange {
    /// The field ("line 2 quantity", "requested date", "delivery address").
    pub field: String,
    /// The old value, as text.
    pub old: String,
    /// The new value, as text.
    pub new: String,
}

// ---------------------------------------------------------------------------------------------
// Master data (issue 14): customers and the product catalogue. Their records are folded from
// the events of two reserved streams, like the user directory; the order rules read them from
// `Context` (filled by the application when a command enters), never from storage.

/// The stream of the customer master: every change to a customer record is an event of it.
pub const CUSTOMERS_STREAM: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_7763_7573_0000_0001);

/// The stream of the product catalogue: every change to a product record is an event of it.
pub const CATALOGUE_STREAM: Uuid = Uuid::from_u128(0x6f72_6465_7266_6c6f_7770_7264_0000_0001);

/// Whether a stream id is one of orderflow's own streams (the user directory, the customer
/// master, the catalogue) rather than an order's.
pub fn is_reserved_stream(stream: Uuid) -> bool {
    stream == DIRECTORY_STREAM || stream == CUSTOMERS_STREAM || stream == CATALOGUE_STREAM
}

word_enum!(
    /// Where a customer stands (seed 002 二.2: new or doubtful customers are checked).
    CustomerStatus {
        /// Not yet trusted: every order waits on a credit hold until finance releases it.
        New = "new",
        /// Orders go to review unless the credit limit is exceeded.
        Active = "active",
        /// No new order is taken.
        Blocked = "blocked",
    }
);

word_enum!(
    /// The language a person prefers for what orderflow tells them.
    Language {
        /// 简体中文.
        ZhHans = "zh-hans",
        /// 繁體中文.
        ZhHant = "zh-hant",
        /// English.
        En = "en",
    }
);

/// A person at the customer orderflow may reach.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Contact {
    /// Who.
    pub name: String,
    /// Phone; may be empty.
    pub phone: String,
    /// E-mail; may be empty.
    pub email: String,
    /// The language they are written to in.
    pub language: Language,
}

/// A guarantee the customer gave against their credit (seed 002 二.2 "要求提供擔保").
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct Guarantee {
    /// The bank's or the document's reference.
    pub reference: String,
    /// The amount guaranteed.
    pub amount: Money,
    /// The last day it is valid.
    pub expires: Date,
}

/// A customer as the customer master holds it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct CustomerRecord {
    /// The customer's code (letters, digits, '-'), unique, never reused.
    pub customer_id: String,
    /// The name shown on orders.
    pub name: String,
    /// People to reach; the first is the default contact of a new order.
    pub contacts: Vec<Contact>,
    /// Delivery addresses; the first is the default of a new order.
    pub addresses: Vec<String>,
    /// The most this customer may owe on open orders, in `credit_limit.currency`.
    pub credit_limit: Money,
    /// Payment terms ("30 days net").
    pub payment_terms: String,
    /// Where the customer stands.
    pub status: CustomerStatus,
    /// A guarantee against the credit, if one was given.
    pub guarantee: Option<Guarantee>,
    /// The key-account owner (a user id; seed 002 五.1 "專人負責跟蹤"), if one is named.
    pub key_account: Option<Uuid>,
    /// The customer class, which sets the archive's retention (`retention_years_by_class`).
    pub class: String,
}

/// A temperature range in tenths of a degree Celsius (−18.0 °C is −180), both ends allowed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, JsonSchema)]
pub struct TempRange {
    /// The lowest allowed temperature, tenths of °C.
    pub min_decicelsius: i32,
    /// The highest allowed temperature, tenths of °C.
    pub max_decicelsius: i32,
}

impl TempRange {
    /// Whether a reading lies inside the range.
    pub fn contains(&self, decicelsius: i32) -> bool {
        (self.min_decicelsius..=self.max_decicelsius).contains(&decicelsius)
    }
}

impl fmt::Display for TempRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |d: i32| {
            format!("{}{}.{}", if d < 0 { "-" } else { "" }, d.unsigned_abs() / 10, d.unsigned_abs() % 10)
        };
        write!(f, "{} to {} °C", c(self.min_decicelsius), c(self.max_decicelsius))
    }
}

/// A product as the catalogue holds it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize, JsonSchema)]
pub struct ProductRecord {
    /// The stock-keeping unit: the code order lines name.
    pub sku: String,
    /// The name in Chinese.
    pub name_zh: String,
    /// The name in English.
    pub name_en: String,
    /// Specification (grade, size, packaging).
    pub spec: String,
    /// Unit of measure ("pcs", "kg", "l", "case").
    pub unit: String,
    /// The list price per unit, at most one per currency.
    pub list_prices: Vec<Money>,
    /// Days from production to expiry; 0 when it does not expire.
    pub shelf_life_days: u32,
    /// The storage temperature range, if the product has one.
    pub storage: Option<TempRange>,
    /// Whether it must travel in the cold chain (ship mode `cold_chain` only).
    pub cold_chain: bool,
    /// Whether it was retired: no new order may name it.
    pub retired: bool,
}

impl ProductRecord {
    /// The list price in `currency`, if there is one.
    pub fn list_price(&self, currency: Currency) -> Option<i64> {
        self.list_prices.iter().find(|m| m.currency == currency).map(|m| m.minor)
    }
}
