//! Value types: parsing and display, the human-readable (JSON) against the compact (bincode)
//! form, money display, the word enums and order ids.

use std::fmt::{Debug, Display};
use std::str::FromStr;

use bincode::config;
use orderflow_schemas::*;
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::strategies::{self, Range};

/// 2026-03-01T09:30:00Z, microseconds since the epoch.
const MARCH_1_0930_MICROS: i64 = 1_772_357_400_000_000;
/// 2026-03-01, days since 0001-01-01 counted from 1 (chrono's `num_days_from_ce`).
const MARCH_1_DAYS: i32 = 739_676;

fn bin<T: Serialize>(v: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(v, config::standard()).expect("bincode encode")
}

fn from_bin<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    bincode::serde::decode_from_slice::<T, _>(bytes, config::standard()).map_err(|e| e.to_string()).and_then(
        |(v, used)| if used == bytes.len() { Ok(v) } else { Err(format!("{used} of {}", bytes.len())) },
    )
}

fn eur() -> Currency {
    Currency::parse("EUR").expect("EUR")
}

#[test]
fn timestamp_parses_rfc3339_and_shorthands() {
    let t = Timestamp(MARCH_1_0930_MICROS);
    for s in [
        "2026-03-01T09:30:00Z",
        "2026-03-01T09:30:00.000000Z",
        "2026-03-01T17:30:00+08:00",
        "2026-03-01T04:30:00-05:00",
        "2026-03-01T09:30:00",
        "2026-03-01T09:30",
        "2026-03-01 09:30:00",
        "2026-03-01 09:30",
        "  2026-03-01T09:30:00Z\n",
    ] {
        assert_eq!(Timestamp::parse(s), Ok(t), "{s:?}");
    }
    assert_eq!(Timestamp::parse("2026-03-01T09:30:00.123456Z"), Ok(Timestamp(MARCH_1_0930_MICROS + 123_456)));
    assert_eq!(
        Timestamp::parse("2026-03-01"),
        Ok(Timestamp(MARCH_1_0930_MICROS - 9 * 3_600_000_000 - 30 * 60_000_000))
    );
    for bad in ["", "yesterday", "2026-13-01", "2026-02-30T10:00:00Z", "2026-03-01T25:00:00Z", "1772357400"] {
        let err = Timestamp::parse(bad).expect_err(bad);
        assert!(err.contains(&format!("'{bad}'")) && err.contains("RFC 3339"), "{err}");
    }
}

#[test]
fn timestamp_displays_rfc3339_with_microseconds() {
    assert_eq!(Timestamp(MARCH_1_0930_MICROS).to_string(), "2026-03-01T09:30:00.000000Z");
    assert_eq!(Timestamp(MARCH_1_0930_MICROS + 7).to_rfc3339(), "2026-03-01T09:30:00.000007Z");
    assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000000Z");
    assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    let t = Timestamp(MARCH_1_0930_MICROS);
    assert_eq!(t.micros(), MARCH_1_0930_MICROS);
    assert_eq!(Timestamp::from_datetime(t.to_datetime()), t);
    assert_eq!(t.date(), Date(MARCH_1_DAYS));
    assert_eq!(t.plus_hours(15).to_string(), "2026-03-02T00:30:00.000000Z");
    assert_eq!(t.plus_hours(-10).date().to_string(), "2026-02-28");
    assert_eq!(Timestamp(i64::MAX).plus_hours(1), Timestamp(i64::MAX), "saturates");
}

#[test]
fn date_parses_and_displays_yyyy_mm_dd() {
    let d = Date::parse("2026-03-01").expect("date");
    assert_eq!(d, Date(MARCH_1_DAYS));
    assert_eq!(Date::parse(" 2026-03-01 "), Ok(d));
    assert_eq!(Date::ymd(2026, 3, 1), Some(d));
    assert_eq!(d.to_string(), "2026-03-01");
    assert_eq!(Date(1).to_string(), "0001-01-01");
    assert_eq!(d.month(), "2026-03");
    assert_eq!(d.plus_days(-1).to_string(), "2026-02-28");
    assert_eq!(d.plus_days(365).to_string(), "2027-03-01");
    assert_eq!(d.days_until(Date::parse("2026-04-15").expect("date")), 45);
    assert_eq!(Date::parse("2026-04-15").expect("date").days_until(d), -45);
    assert_eq!(Date::ymd(2026, 2, 29), None);
    assert_eq!(Date::ymd(2028, 2, 29).map(|d| d.to_string()).as_deref(), Some("2028-02-29"));
    for bad in ["", "2026-02-29", "2026-3-1x", "01.03.2026", "2026-03-01T00:00:00Z"] {
        let err = Date::parse(bad).expect_err(bad);
        assert!(err.contains(&format!("'{bad}'")) && err.contains("YYYY-MM-DD"), "{err}");
    }
}

#[test]
fn currency_is_three_letters_upper_cased() {
    assert_eq!(eur().as_str(), "EUR");
    assert_eq!(Currency::parse("cny").map(|c| c.to_string()).as_deref(), Ok("CNY"));
    assert_eq!(Currency::parse(" uSd "), Currency::parse("USD"));
    for bad in ["", "EU", "EURO", "E1R", "E R", "€UR", "ÄUR"] {
        let err = Currency::parse(bad).expect_err(bad);
        assert!(err.contains(&format!("'{bad}'")) && err.contains("three letters"), "{err}");
    }
}

#[test]
fn money_displays_major_units_with_two_decimals() {
    let cny = Currency::parse("CNY").expect("CNY");
    let cases = [
        (123_456, eur(), "1234.56 EUR"),
        (100, eur(), "1.00 EUR"),
        (7, cny, "0.07 CNY"),
        (0, cny, "0.00 CNY"),
        (-5, eur(), "-0.05 EUR"),
        (-1_250, eur(), "-12.50 EUR"),
        (i64::MAX, eur(), "92233720368547758.07 EUR"),
        (i64::MIN, eur(), "-92233720368547758.08 EUR"),
    ];
    for (minor, currency, text) in cases {
        assert_eq!(Money { minor, currency }.to_string(), text);
    }
}

/// JSON is human readable (RFC 3339, `YYYY-MM-DD`, words); bincode is compact (the integers and
/// variant indexes themselves).
#[test]
fn json_is_human_readable_and_bincode_compact() {
    let t = Timestamp(MARCH_1_0930_MICROS + 250_000);
    assert_eq!(serde_json::to_value(t).expect("json"), json!("2026-03-01T09:30:00.250000Z"));
    assert_eq!(serde_json::from_value::<Timestamp>(json!("2026-03-01T17:30:00.25+08:00")).expect("json"), t);
    assert_eq!(bin(&t), bin(&t.micros()));
    assert_eq!(from_bin::<Timestamp>(&bin(&t)), Ok(t));
    let err = serde_json::from_value::<Timestamp>(json!("soon")).expect_err("not a time");
    assert!(err.to_string().contains("'soon' is not a time"), "{err}");
    assert!(serde_json::from_value::<Timestamp>(json!(MARCH_1_0930_MICROS)).is_err(), "JSON wants text");

    let d = Date(MARCH_1_DAYS);
    assert_eq!(serde_json::to_value(d).expect("json"), json!("2026-03-01"));
    assert_eq!(serde_json::from_value::<Date>(json!("2026-03-01")).expect("json"), d);
    assert_eq!(bin(&d), bin(&MARCH_1_DAYS));
    assert_eq!(from_bin::<Date>(&bin(&d)), Ok(d));
    assert!(serde_json::from_value::<Date>(json!("2026-02-30")).is_err());

    assert_eq!(serde_json::to_value(eur()).expect("json"), json!("EUR"));
    assert_eq!(serde_json::from_value::<Currency>(json!("eur")).expect("json"), eur());
    assert!(serde_json::from_value::<Currency>(json!("EURO")).is_err());
    assert_eq!(bin(&eur()), b"\x03EUR");
    assert_eq!(from_bin::<Currency>(b"\x03eur"), Ok(eur()));
    assert!(from_bin::<Currency>(b"\x02EU").is_err());

    let m = Money { minor: -1_250, currency: eur() };
    assert_eq!(serde_json::to_value(m).expect("json"), json!({ "minor": -1_250, "currency": "EUR" }));
    assert_eq!(
        serde_json::from_value::<Money>(json!({ "minor": -1_250, "currency": "EUR" })).expect("json"),
        m
    );
    assert_eq!(bin(&m), [&bin(&-1_250i64)[..], b"\x03EUR"].concat());
    assert_eq!(from_bin::<Money>(&bin(&m)), Ok(m));

    assert_eq!(serde_json::to_value(Channel::SalesRep).expect("json"), json!("sales_rep"));
    assert_eq!(bin(&Channel::SalesRep), [3]);
    assert_eq!(bin(&Role::Archivist), [9]);
    assert_eq!(from_bin::<Role>(&[9]), Ok(Role::Archivist));
    assert_eq!(bin(&Role::Admin), [10]);
    assert_eq!(bin(&Role::System), [11]);
    assert!(from_bin::<Role>(&[12]).is_err(), "no thirteenth role");

    let id = OrderId(Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef));
    assert_eq!(serde_json::to_value(id).expect("json"), json!("01234567-89ab-cdef-0123-456789abcdef"));
    assert_eq!(
        serde_json::from_value::<OrderId>(json!("01234567-89ab-cdef-0123-456789abcdef")).expect("json"),
        id
    );
    assert_eq!(from_bin::<OrderId>(&bin(&id)), Ok(id));
}

/// Checks one word enum: every word parses (any case, `-` for `_`), displays and serializes as
/// itself, and a wrong word is an error naming every accepted one.
fn check_word_enum<T>(all: &[T], kind: &str)
where
    T: FromStr<Err = String> + Display + Serialize + DeserializeOwned + Copy + PartialEq + Debug,
{
    assert!(!all.is_empty());
    for &v in all {
        let word = v.to_string();
        assert_eq!(word.parse::<T>(), Ok(v));
        assert_eq!(word.to_ascii_uppercase().parse::<T>(), Ok(v));
        assert_eq!(format!(" {} ", word.replace('_', "-")).parse::<T>(), Ok(v));
        assert_eq!(serde_json::to_value(v).expect("json"), Value::String(word.clone()));
        assert_eq!(serde_json::from_value::<T>(Value::String(word)).expect("json"), v);
    }
    let err = "bogus".parse::<T>().expect_err("bogus");
    assert!(err.starts_with(&format!("'bogus' is not a {kind}; expected one of: ")), "{err}");
    let listed = err.rsplit(": ").next().expect("list");
    let words: Vec<String> = all.iter().map(ToString::to_string).collect();
    assert_eq!(listed, words.join(", "));
}

#[test]
fn word_enums_parse_their_words_and_name_them_on_error() {
    check_word_enum(Department::ALL, "department");
    check_word_enum(Role::ALL, "role");
    check_word_enum(Channel::ALL, "channel");
    check_word_enum(ShipMode::ALL, "shipmode");
    check_word_enum(InspectionResult::ALL, "inspectionresult");
    check_word_enum(ComplaintCategory::ALL, "complaintcategory");
    check_word_enum(Severity::ALL, "severity");
    check_word_enum(AccessKind::ALL, "accesskind");
    check_word_enum(Initiator::ALL, "initiator");
    check_word_enum(ConfirmMethod::ALL, "confirmmethod");
    check_word_enum(DeliveryMode::ALL, "deliverymode");
    check_word_enum(Remedy::ALL, "remedy");
    check_word_enum(VisitMethod::ALL, "visitmethod");
    assert_eq!(Role::ALL.len(), 12);
    assert_eq!("customer-service".parse::<Role>(), Ok(Role::CustomerService));
    assert_eq!("Cold_Chain".parse::<ShipMode>(), Ok(ShipMode::ColdChain));
}

#[test]
fn each_department_is_decided_by_its_own_role() {
    for &d in Department::ALL {
        assert_eq!(d.role().as_str(), d.as_str());
    }
}

#[test]
fn order_id_for_receive_is_deterministic() {
    let command = Uuid::from_u128(0x5d0c_1d1e_6a4b_4c8e_9f00_1234_5678_9abc);
    let id = OrderId::for_receive(command);
    assert_eq!(OrderId::for_receive(command), id, "a retried receive lands on the same order");
    // Pinned: changing the namespace would move every retried receive to a new order.
    assert_eq!(id.to_string(), "df1f6de9-537e-5fe0-9d51-7b9c2730dae4");
    assert_eq!(OrderId::for_receive(Uuid::nil()).to_string(), "bc215fee-2048-5467-8707-40da1fa79b58");
    assert_eq!(id.0.get_version_num(), 5);
    assert_ne!(OrderId::for_receive(Uuid::from_u128(command.as_u128() + 1)), id);
    assert_ne!(id.0, command);
}

#[test]
fn order_id_reads_and_writes_as_a_uuid() {
    let id = OrderId(Uuid::from_u128(0x7f3a_12bc_0000_4000_8000_0000_0000_0001));
    assert_eq!(id.short(), "7f3a12bc");
    assert_eq!(id.to_string(), "7f3a12bc-0000-4000-8000-000000000001");
    assert_eq!(" 7f3a12bc-0000-4000-8000-000000000001 ".parse::<OrderId>(), Ok(id));
    let err = "7f3a12bc".parse::<OrderId>().expect_err("short id");
    assert!(err.contains("'7f3a12bc' is not an order id"), "{err}");
}

proptest! {
    #[test]
    fn timestamps_in_rfc3339_range_round_trip_through_text(t in strategies::timestamp(Range::Rfc3339)) {
        prop_assert_eq!(Timestamp::parse(&t.to_string()), Ok(t));
        prop_assert_eq!(serde_json::from_value::<Timestamp>(serde_json::to_value(t).expect("json")).ok(), Some(t));
    }

    #[test]
    fn dates_in_range_round_trip_through_text(d in strategies::date(Range::Rfc3339)) {
        prop_assert_eq!(Date::parse(&d.to_string()), Ok(d));
    }

    #[test]
    fn any_timestamp_and_date_round_trip_through_bincode(t in any::<i64>(), d in any::<i32>()) {
        prop_assert_eq!(from_bin::<Timestamp>(&bin(&Timestamp(t))), Ok(Timestamp(t)));
        prop_assert_eq!(from_bin::<Date>(&bin(&Date(d))), Ok(Date(d)));
    }

    #[test]
    fn any_three_letters_are_a_currency(s in "[a-zA-Z]{3}") {
        let c = Currency::parse(&s).expect("three letters");
        prop_assert_eq!(c.as_str(), s.to_ascii_uppercase());
        prop_assert_eq!(from_bin::<Currency>(&bin(&c)), Ok(c));
    }
}
