//! Zoned date-times with chrono-tz's rules (run with `--features chrono-tz`): UTC and legacy
//! forms, daylight-saving edges, unknown zones, and the wire on Bolt 4.4 without the `utc` patch.
#![cfg(feature = "chrono-tz")]

use bytes::Bytes;
use chrono::{NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::America::New_York;
use chrono_tz::Australia::Lord_Howe;
use chrono_tz::Europe::Stockholm;
use chrono_tz::Tz;
use proptest::prelude::*;
use quiver_bolt::value::{
    ChronoConversionError, DateTimeZoneId, Disambiguation, LegacyDateTimeZoneId, PackStr, Value,
    ValueContext, ValueError, decode_value, encode_value,
};
use quiver_packstream::Decoder;

fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_opt(h, mi, s))
        .expect("valid date")
}

fn legacy(local: NaiveDateTime, tz_id: &str) -> LegacyDateTimeZoneId {
    let local = local.and_utc();
    LegacyDateTimeZoneId {
        local_seconds: local.timestamp(),
        nanoseconds: i64::from(local.timestamp_subsec_nanos()),
        tz_id: PackStr::from(tz_id),
    }
}

fn offset_of(dt: &chrono::DateTime<Tz>) -> i32 {
    dt.offset().fix().local_minus_utc()
}

#[test]
fn utc_form_reads_wall_clock_and_offset() {
    // The TestKit stub value: 2022-06-07T11:52:05+02:00[Europe/Stockholm].
    let summer = Stockholm
        .with_ymd_and_hms(2022, 6, 7, 11, 52, 5)
        .single()
        .unwrap();
    let bolt = DateTimeZoneId::try_from(summer).unwrap();
    assert_eq!(bolt.seconds, 1_654_595_525);
    assert_eq!(bolt.nanoseconds, 0);
    assert_eq!(bolt.tz_id.as_str(), "Europe/Stockholm");
    assert_eq!(bolt.utc_offset_seconds(), Ok(7200));
    let back = chrono::DateTime::<Tz>::try_from(&bolt).unwrap();
    assert_eq!(back, summer);
    assert_eq!(back.naive_local(), local(2022, 6, 7, 11, 52, 5));
    // Same zone in winter: the rules, not a fixed offset.
    let winter = DateTimeZoneId {
        seconds: bolt.seconds - 180 * 86_400,
        ..bolt.clone()
    };
    assert_eq!(winter.utc_offset_seconds(), Ok(3600));
    // As a parameter.
    assert_eq!(
        Value::try_from(summer),
        Ok(Value::DateTimeZoneId(Box::new(bolt)))
    );
}

#[test]
fn unknown_zone_is_a_typed_error() {
    let neo4j_land = DateTimeZoneId {
        seconds: 0,
        nanoseconds: 0,
        tz_id: PackStr::from("Europe/Neo4j"),
    };
    let err = chrono::DateTime::<Tz>::try_from(&neo4j_land).unwrap_err();
    assert_eq!(
        err,
        ChronoConversionError::UnknownTimeZone {
            tz_id: "Europe/Neo4j".into()
        }
    );
    assert!(err.to_string().contains("Europe/Neo4j"), "{err}");
    assert!(neo4j_land.utc_offset_seconds().is_err());
    assert!(neo4j_land.to_legacy().is_err());
    let old = LegacyDateTimeZoneId {
        local_seconds: 0,
        nanoseconds: 0,
        tz_id: PackStr::from("Europe/Neo4j"),
    };
    assert!(matches!(
        old.to_utc(Disambiguation::Compatible),
        Err(ChronoConversionError::UnknownTimeZone { .. })
    ));
    // Sending it where the legacy form is needed fails cleanly, writing nothing.
    let mut buf = Vec::new();
    let sent = encode_value(
        &mut buf,
        &Value::DateTimeZoneId(Box::new(neo4j_land)),
        &ValueContext::for_version(4, 4, false),
    );
    assert!(matches!(
        sent,
        Err(ValueError::Temporal(
            ChronoConversionError::UnknownTimeZone { .. }
        ))
    ));
    assert!(buf.is_empty());
}

#[test]
fn legacy_unambiguous_local_time() {
    let old = legacy(local(2022, 6, 7, 11, 52, 5), "Europe/Stockholm");
    for disambiguation in [
        Disambiguation::Compatible,
        Disambiguation::Earlier,
        Disambiguation::Later,
        Disambiguation::Reject,
    ] {
        let dt = old.to_chrono(disambiguation).unwrap();
        assert_eq!(dt.naive_local(), local(2022, 6, 7, 11, 52, 5));
        assert_eq!(offset_of(&dt), 7200);
    }
    let utc = old.to_utc(Disambiguation::Reject).unwrap();
    assert_eq!(utc.seconds, 1_654_595_525);
    assert_eq!(utc.to_legacy(), Ok(old.clone()));
    let dt = chrono::DateTime::<Tz>::try_from(&old).unwrap();
    assert_eq!(LegacyDateTimeZoneId::try_from(dt), Ok(old));
}

#[test]
fn legacy_ambiguous_local_time_when_clocks_go_back() {
    // 2022-10-30 03:00 CEST -> 02:00 CET in Stockholm: 02:30 happens at +02:00, then at +01:00.
    let old = legacy(local(2022, 10, 30, 2, 30, 0), "Europe/Stockholm");
    let earlier = old.to_chrono(Disambiguation::Earlier).unwrap();
    let later = old.to_chrono(Disambiguation::Later).unwrap();
    let compatible = old.to_chrono(Disambiguation::Compatible).unwrap();
    assert_eq!(offset_of(&earlier), 7200);
    assert_eq!(offset_of(&later), 3600);
    assert_eq!(compatible, earlier);
    assert_eq!(later.timestamp() - earlier.timestamp(), 3600);
    for dt in [earlier, later] {
        assert_eq!(dt.naive_local(), local(2022, 10, 30, 2, 30, 0));
        // Either instant goes back to the same legacy value: the encoding cannot tell them apart.
        assert_eq!(LegacyDateTimeZoneId::try_from(dt), Ok(old.clone()));
    }
    assert!(matches!(
        old.to_chrono(Disambiguation::Reject),
        Err(ChronoConversionError::AmbiguousLocalTime { .. })
    ));
    // The default conversion is Compatible.
    assert_eq!(chrono::DateTime::<Tz>::try_from(&old), Ok(compatible));
}

#[test]
fn legacy_nonexistent_local_time_when_clocks_go_forward() {
    // 2022-03-13 02:00 EST -> 03:00 EDT in New York: 02:30 does not exist.
    let old = legacy(local(2022, 3, 13, 2, 30, 0), "America/New_York");
    let compatible = old.to_chrono(Disambiguation::Compatible).unwrap();
    // Read with the offset before the gap (-05:00): 07:30 UTC = 03:30 EDT.
    assert_eq!(compatible.naive_local(), local(2022, 3, 13, 3, 30, 0));
    assert_eq!(offset_of(&compatible), -4 * 3600);
    assert_eq!(old.to_chrono(Disambiguation::Later), Ok(compatible));
    // Read with the offset after the gap (-04:00): 06:30 UTC = 01:30 EST.
    let earlier = old.to_chrono(Disambiguation::Earlier).unwrap();
    assert_eq!(earlier.naive_local(), local(2022, 3, 13, 1, 30, 0));
    assert_eq!(offset_of(&earlier), -5 * 3600);
    let err = old.to_chrono(Disambiguation::Reject).unwrap_err();
    assert!(matches!(
        err,
        ChronoConversionError::NonexistentLocalTime { .. }
    ));
    assert!(err.to_string().contains("America/New_York"), "{err}");
    // Just before and at the end of the gap, nothing to choose.
    let before = legacy(local(2022, 3, 13, 1, 59, 59), "America/New_York");
    assert_eq!(
        offset_of(&before.to_chrono(Disambiguation::Reject).unwrap()),
        -5 * 3600
    );
    let after = legacy(local(2022, 3, 13, 3, 0, 0), "America/New_York");
    assert_eq!(
        offset_of(&after.to_chrono(Disambiguation::Reject).unwrap()),
        -4 * 3600
    );
}

#[test]
fn half_hour_daylight_saving() {
    // Lord Howe Island moves its clocks by 30 minutes: 2022-04-03 02:00 +11:00 -> 01:30 +10:30.
    let old = legacy(local(2022, 4, 3, 1, 45, 0), "Australia/Lord_Howe");
    let earlier = old.to_chrono(Disambiguation::Earlier).unwrap();
    let later = old.to_chrono(Disambiguation::Later).unwrap();
    assert_eq!(offset_of(&earlier), 11 * 3600);
    assert_eq!(offset_of(&later), 10 * 3600 + 1800);
    let instant = Lord_Howe
        .with_ymd_and_hms(2022, 6, 1, 12, 0, 0)
        .single()
        .unwrap();
    assert_eq!(
        DateTimeZoneId::try_from(instant)
            .unwrap()
            .utc_offset_seconds(),
        Ok(10 * 3600 + 1800)
    );
}

#[test]
fn extreme_values_are_errors_not_panics() {
    for seconds in [i64::MIN, i64::MAX, 1 << 60, -(1 << 60)] {
        let dt = DateTimeZoneId {
            seconds,
            nanoseconds: 0,
            tz_id: PackStr::from("Asia/Tokyo"),
        };
        assert!(matches!(
            chrono::DateTime::<Tz>::try_from(&dt),
            Err(ChronoConversionError::OutOfRange { .. })
        ));
        assert!(dt.to_legacy().is_err());
        let old = LegacyDateTimeZoneId {
            local_seconds: seconds,
            nanoseconds: 0,
            tz_id: PackStr::from("Asia/Tokyo"),
        };
        assert!(old.to_utc(Disambiguation::Compatible).is_err());
    }
    for nanoseconds in [-1, 1_000_000_000, i64::MAX] {
        let dt = DateTimeZoneId {
            seconds: 0,
            nanoseconds,
            tz_id: PackStr::from("UTC"),
        };
        assert!(chrono::DateTime::<Tz>::try_from(&dt).is_err());
    }
    // chrono's last representable instant, shown at +09:00, overflows the local calendar.
    let last = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    let dt = DateTimeZoneId {
        seconds: last,
        nanoseconds: 0,
        tz_id: PackStr::from("Asia/Tokyo"),
    };
    assert!(chrono::DateTime::<Tz>::try_from(&dt).is_err());
    // A leap second has no Bolt form.
    let leap = Stockholm
        .with_ymd_and_hms(2016, 12, 31, 23, 59, 59)
        .single()
        .unwrap()
        .with_nanosecond(1_500_000_000)
        .unwrap();
    assert!(matches!(
        DateTimeZoneId::try_from(leap),
        Err(ChronoConversionError::Lossy(_))
    ));
}

/// Encode on `ctx`, decode on the same `ctx`.
fn wire(value: &Value, ctx: &ValueContext) -> (Vec<u8>, Value) {
    let mut buf = Vec::new();
    encode_value(&mut buf, value, ctx).unwrap();
    let mut dec = Decoder::new(Bytes::from(buf.clone()));
    (buf, decode_value(&mut dec, ctx).unwrap())
}

#[test]
fn bolt_4_4_without_patch_sends_local_seconds() {
    let v44 = ValueContext::for_version(4, 4, false);
    let summer = Stockholm
        .with_ymd_and_hms(2022, 6, 7, 11, 52, 5)
        .single()
        .unwrap();
    let (bytes, back) = wire(&Value::try_from(summer).unwrap(), &v44);
    assert_eq!(&bytes[..2], [0xB3, 0x66]);
    let Value::LegacyDateTimeZoneId(old) = back else {
        panic!("{back:?}")
    };
    assert_eq!(old.local_seconds, 1_654_595_525 + 7200);
    assert_eq!(chrono::DateTime::<Tz>::try_from(&*old), Ok(summer));
}

fn zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(vec![
        chrono_tz::UTC,
        Stockholm,
        New_York,
        Lord_Howe,
        chrono_tz::Asia::Kathmandu,
        chrono_tz::America::Sao_Paulo,
        chrono_tz::Pacific::Apia,
        chrono_tz::Africa::Casablanca,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// UTC form: Bolt -> chrono -> Bolt is the identity, also through the wire of every
    /// version (the legacy form on Bolt 4.4 without the patch).
    #[test]
    fn utc_form_round_trips(
        // years 0001..=9999, what Neo4j stores
        seconds in -62_135_596_800_i64..253_402_300_799,
        nanoseconds in 0_i64..1_000_000_000,
        tz in zone(),
    ) {
        let bolt = DateTimeZoneId { seconds, nanoseconds, tz_id: PackStr::from(tz.name()) };
        let dt = chrono::DateTime::<Tz>::try_from(&bolt).unwrap();
        prop_assert_eq!(dt.timestamp(), seconds);
        prop_assert_eq!(dt.timezone(), tz);
        prop_assert_eq!(DateTimeZoneId::try_from(dt), Ok(bolt.clone()));
        // The legacy form of an instant goes back to it unless its local time is ambiguous.
        let old = bolt.to_legacy().unwrap();
        prop_assert_eq!(old.local_seconds - seconds, i64::from(offset_of(&dt)));
        let earlier = old.to_utc(Disambiguation::Earlier).unwrap();
        let later = old.to_utc(Disambiguation::Later).unwrap();
        prop_assert!(earlier == bolt || later == bolt);
        // The encoder does the same on Bolt 4.4 without the patch.
        let value = Value::DateTimeZoneId(Box::new(bolt.clone()));
        let (_, back) = wire(&value, &ValueContext::for_version(4, 4, false));
        prop_assert_eq!(back, Value::LegacyDateTimeZoneId(Box::new(old)));
        for ctx in [ValueContext::for_version(4, 4, true), ValueContext::for_version(5, 0, false)] {
            let (_, back) = wire(&value, &ctx);
            prop_assert_eq!(&back, &value);
        }
    }

    /// Legacy form: any local time resolves, under every non-rejecting choice, to an instant
    /// whose local time is the same (ambiguous) or moved across the gap (nonexistent).
    #[test]
    fn legacy_form_resolves(
        local_seconds in -62_135_596_800_i64..253_402_300_799,
        tz in zone(),
    ) {
        let old = LegacyDateTimeZoneId { local_seconds, nanoseconds: 0, tz_id: PackStr::from(tz.name()) };
        let strict = old.to_chrono(Disambiguation::Reject);
        for choice in [Disambiguation::Compatible, Disambiguation::Earlier, Disambiguation::Later] {
            let dt = old.to_chrono(choice).unwrap();
            let back = LegacyDateTimeZoneId::try_from(dt).unwrap();
            match &strict {
                Ok(exact) => {
                    prop_assert_eq!(&back, &old);
                    if choice == Disambiguation::Compatible {
                        prop_assert_eq!(dt, *exact);
                    }
                }
                Err(ChronoConversionError::AmbiguousLocalTime { .. }) => prop_assert_eq!(&back, &old),
                // Skipped: moved by the length of the gap (at most a day, in any zone).
                Err(_) => prop_assert!((back.local_seconds - local_seconds).abs() <= 86_400),
            }
        }
    }
}
