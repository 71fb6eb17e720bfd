//! `chrono` conversions of temporal values (run with `--features chrono`).
#![cfg(feature = "chrono")]

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone};
use quiver_bolt::value::{
    ChronoConversionError, Date, DateTime, Duration, LocalDateTime, LocalTime,
};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn dates() {
    assert_eq!(Date::from(ymd(1970, 1, 1)), Date { days: 0 });
    assert_eq!(Date::from(ymd(1969, 12, 31)), Date { days: -1 });
    assert_eq!(Date::from(ymd(2022, 1, 8)), Date { days: 19_000 });
    for date in [
        ymd(1, 1, 1),
        ymd(-4000, 2, 29),
        ymd(2400, 12, 31),
        NaiveDate::MAX,
        NaiveDate::MIN,
    ] {
        assert_eq!(NaiveDate::try_from(Date::from(date)), Ok(date));
    }
    for days in [i64::MAX, i64::MIN, 200_000_000] {
        assert!(matches!(
            NaiveDate::try_from(Date { days }),
            Err(ChronoConversionError::OutOfRange { what: "days", .. })
        ));
    }
}

#[test]
fn local_times() {
    let t = NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap();
    let lt = LocalTime::try_from(t).unwrap();
    assert_eq!(lt.nanoseconds, 86_400_000_000_000 - 1);
    assert_eq!(NaiveTime::try_from(lt), Ok(t));
    assert_eq!(
        NaiveTime::try_from(LocalTime { nanoseconds: 0 }),
        Ok(NaiveTime::MIN)
    );
    for nanoseconds in [-1, 86_400_000_000_000, i64::MAX] {
        assert!(NaiveTime::try_from(LocalTime { nanoseconds }).is_err());
    }
    // chrono's leap second has no Bolt form
    let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
    assert!(matches!(
        LocalTime::try_from(leap),
        Err(ChronoConversionError::Lossy(_))
    ));
}

#[test]
fn local_date_times() {
    let dt = ymd(1970, 1, 1).and_hms_nano_opt(1, 15, 0, 42).unwrap();
    let ldt = LocalDateTime::try_from(dt).unwrap();
    assert_eq!(
        ldt,
        LocalDateTime {
            seconds: 4500,
            nanoseconds: 42
        }
    );
    assert_eq!(NaiveDateTime::try_from(ldt), Ok(dt));
    let old = ymd(-300, 3, 1).and_hms_opt(0, 0, 1).unwrap();
    assert_eq!(
        NaiveDateTime::try_from(LocalDateTime::try_from(old).unwrap()),
        Ok(old)
    );
    assert!(
        NaiveDateTime::try_from(LocalDateTime {
            seconds: i64::MAX,
            nanoseconds: 0
        })
        .is_err()
    );
    assert!(matches!(
        NaiveDateTime::try_from(LocalDateTime {
            seconds: 0,
            nanoseconds: 1_000_000_000
        }),
        Err(ChronoConversionError::OutOfRange {
            what: "nanoseconds",
            ..
        })
    ));
    assert!(
        NaiveDateTime::try_from(LocalDateTime {
            seconds: 0,
            nanoseconds: -1
        })
        .is_err()
    );
}

#[test]
fn date_times_with_offset() {
    // the Bolt docs' example: 1970-01-01T02:15:00.000000042+01:00
    let paris = FixedOffset::east_opt(3600).unwrap();
    let dt = paris
        .from_local_datetime(&ymd(1970, 1, 1).and_hms_nano_opt(2, 15, 0, 42).unwrap())
        .unwrap();
    let bolt = DateTime::try_from(dt).unwrap();
    assert_eq!(
        bolt,
        DateTime {
            seconds: 4500,
            nanoseconds: 42,
            tz_offset_seconds: 3600
        }
    );
    let back = chrono::DateTime::<FixedOffset>::try_from(bolt).unwrap();
    assert_eq!(back, dt);
    assert_eq!(back.offset(), &paris);

    let bad_offset = DateTime {
        seconds: 0,
        nanoseconds: 0,
        tz_offset_seconds: 86_400,
    };
    assert!(matches!(
        chrono::DateTime::<FixedOffset>::try_from(bad_offset),
        Err(ChronoConversionError::OutOfRange {
            what: "tz_offset_seconds",
            ..
        })
    ));
    let far = DateTime {
        seconds: i64::MIN,
        nanoseconds: 0,
        tz_offset_seconds: 0,
    };
    assert!(chrono::DateTime::<FixedOffset>::try_from(far).is_err());
    // representable in UTC but not as local time at the edge of chrono's range
    let max_utc = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp();
    let edge = DateTime {
        seconds: max_utc,
        nanoseconds: 0,
        tz_offset_seconds: 3600,
    };
    assert!(chrono::DateTime::<FixedOffset>::try_from(edge).is_err());
}

#[test]
fn durations() {
    let d = Duration {
        months: 0,
        days: 1,
        seconds: 2,
        nanoseconds: 3,
    };
    assert_eq!(
        TimeDelta::try_from(d),
        Ok(TimeDelta::seconds(86_402) + TimeDelta::nanoseconds(3))
    );
    assert!(matches!(
        TimeDelta::try_from(Duration {
            months: 1,
            ..Duration::default()
        }),
        Err(ChronoConversionError::Lossy(_))
    ));
    assert!(
        TimeDelta::try_from(Duration {
            seconds: i64::MAX,
            ..Duration::default()
        })
        .is_err()
    );
    assert!(
        TimeDelta::try_from(Duration {
            days: i64::MAX,
            ..Duration::default()
        })
        .is_err()
    );
    let delta = TimeDelta::seconds(-5) + TimeDelta::nanoseconds(250);
    let bolt = Duration::from(delta);
    assert_eq!(bolt.months, 0);
    assert_eq!(TimeDelta::try_from(bolt), Ok(delta));
}

#[test]
fn chrono_values_become_bolt_values() {
    use quiver_bolt::value::Value;
    assert_eq!(
        Value::from(ymd(2022, 1, 8)),
        Value::Date(Date { days: 19_000 })
    );
    assert_eq!(
        Value::from(TimeDelta::seconds(90)),
        Value::Duration(Duration {
            seconds: 90,
            ..Duration::default()
        })
    );
    let t = NaiveTime::from_hms_opt(0, 0, 1).unwrap();
    assert_eq!(
        Value::try_from(t),
        Ok(Value::LocalTime(LocalTime {
            nanoseconds: 1_000_000_000
        }))
    );
    let ndt = ymd(1970, 1, 2).and_hms_opt(0, 0, 0).unwrap();
    assert_eq!(
        Value::try_from(ndt),
        Ok(Value::LocalDateTime(LocalDateTime {
            seconds: 86_400,
            nanoseconds: 0
        }))
    );
    let utc = FixedOffset::east_opt(0).unwrap();
    let aware = utc.from_utc_datetime(&ndt);
    assert_eq!(
        Value::try_from(aware),
        Ok(Value::DateTime(DateTime {
            seconds: 86_400,
            nanoseconds: 0,
            tz_offset_seconds: 0
        }))
    );
}
