//! Record fields read as `chrono` types ([`Record::get`](crate::Record::get)), with the `chrono`
//! feature; zoned date-times as `chrono::DateTime<chrono_tz::Tz>` with the `chrono-tz` feature.
//!
//! The conversions themselves live in `quiver-bolt` (`value::*` ↔ chrono); these impls only
//! pick the Bolt value each chrono type reads and report a failed conversion (a value outside
//! chrono's range, a duration with months, a zone chrono-tz does not know) as a
//! [`ConversionError`] naming the cause.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use quiver_bolt::value::{ChronoConversionError, Value};

use crate::record::{ConversionError, FromValue};

fn failed(expected: &'static str, value: &Value, error: ChronoConversionError) -> ConversionError {
    ConversionError::new(expected, value.type_name()).with_detail(error.to_string())
}

fn mismatch(expected: &'static str, value: &Value) -> ConversionError {
    ConversionError::new(expected, value.type_name())
}

/// `$chrono` from the Bolt value `$variant`, through quiver-bolt's `TryFrom`.
macro_rules! from_temporal_value {
    ($($chrono:ty => $variant:ident, $name:literal;)*) => {$(
        impl FromValue for $chrono {
            fn from_value(value: &Value) -> Result<Self, ConversionError> {
                match value {
                    Value::$variant(v) => <$chrono>::try_from(*v).map_err(|e| failed($name, value, e)),
                    other => Err(mismatch($name, other)),
                }
            }
        }
    )*};
}

// `TimeDelta`: a duration without months (chrono's has no calendar months).
from_temporal_value! {
    NaiveDate => Date, "DATE";
    NaiveTime => LocalTime, "LOCAL TIME";
    NaiveDateTime => LocalDateTime, "LOCAL DATETIME";
    TimeDelta => Duration, "DURATION";
}

/// A date-time with an offset; with the `chrono-tz` feature also one in a named zone (at the
/// zone's offset at that instant).
impl FromValue for chrono::DateTime<FixedOffset> {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        const EXPECTED: &str = "ZONED DATETIME";
        match value {
            Value::DateTime(date_time) => chrono::DateTime::<FixedOffset>::try_from(*date_time)
                .map_err(|e| failed(EXPECTED, value, e)),
            #[cfg(feature = "chrono-tz")]
            Value::DateTimeZoneId(_) | Value::LegacyDateTimeZoneId(_) => {
                chrono::DateTime::<chrono_tz::Tz>::from_value(value)
                    .map(|zoned| zoned.fixed_offset())
            }
            other => Err(mismatch(EXPECTED, other)),
        }
    }
}

/// The instant of a date-time with an offset (or, with `chrono-tz`, in a named zone).
impl FromValue for chrono::DateTime<Utc> {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        chrono::DateTime::<FixedOffset>::from_value(value).map(|date_time| date_time.to_utc())
    }
}

/// A date-time in a named zone, with the zone's rules. A Bolt 4.4 date-time sent without the
/// `utc` patch carries local time; a local time that occurs twice or not at all is resolved as
/// [`Disambiguation::Compatible`](quiver_bolt::value::Disambiguation::Compatible) does (as the
/// server itself resolves it).
#[cfg(feature = "chrono-tz")]
impl FromValue for chrono::DateTime<chrono_tz::Tz> {
    fn from_value(value: &Value) -> Result<Self, ConversionError> {
        const EXPECTED: &str = "ZONED DATETIME with a zone id";
        match value {
            Value::DateTimeZoneId(zoned) => {
                chrono::DateTime::try_from(&**zoned).map_err(|e| failed(EXPECTED, value, e))
            }
            Value::LegacyDateTimeZoneId(zoned) => {
                chrono::DateTime::try_from(&**zoned).map_err(|e| failed(EXPECTED, value, e))
            }
            other => Err(mismatch(EXPECTED, other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quiver_bolt::value::{Date, DateTime, Duration};

    #[test]
    fn dates_and_durations_read_as_chrono() {
        let date = Value::Date(Date::from(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()));
        assert_eq!(
            NaiveDate::from_value(&date).unwrap(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert!(NaiveTime::from_value(&date).is_err());

        let with_months = Value::Duration(Duration {
            months: 1,
            days: 0,
            seconds: 0,
            nanoseconds: 0,
        });
        let error = TimeDelta::from_value(&with_months).unwrap_err();
        assert!(format!("{:?}", error).contains("DURATION"), "{error:?}");
    }

    #[test]
    fn offset_date_times_read_as_fixed_offset_and_utc() {
        let value = Value::DateTime(DateTime {
            seconds: 1_700_000_000,
            nanoseconds: 5,
            tz_offset_seconds: 3_600,
        });
        let fixed = chrono::DateTime::<FixedOffset>::from_value(&value).unwrap();
        assert_eq!(fixed.offset().local_minus_utc(), 3_600);
        assert_eq!(fixed.timestamp(), 1_700_000_000);
        let utc = chrono::DateTime::<Utc>::from_value(&value).unwrap();
        assert_eq!(utc.timestamp_subsec_nanos(), 5);
        assert_eq!(utc, fixed);
    }

    #[cfg(feature = "chrono-tz")]
    #[test]
    fn zoned_date_times_read_with_their_zone() {
        use chrono::TimeZone;
        use chrono_tz::Europe::Stockholm;
        let summer = Stockholm.with_ymd_and_hms(2022, 6, 17, 13, 24, 34).unwrap();
        let value = Value::try_from(summer).unwrap();
        let zoned = chrono::DateTime::<chrono_tz::Tz>::from_value(&value).unwrap();
        assert_eq!(zoned, summer);
        assert_eq!(zoned.timezone(), Stockholm);
        let fixed = chrono::DateTime::<FixedOffset>::from_value(&value).unwrap();
        assert_eq!(fixed.offset().local_minus_utc(), 7_200);

        let unknown = match value {
            Value::DateTimeZoneId(mut zoned) => {
                zoned.tz_id = "Mars/Olympus_Mons".into();
                Value::DateTimeZoneId(zoned)
            }
            other => panic!("{other:?}"),
        };
        let error = chrono::DateTime::<chrono_tz::Tz>::from_value(&unknown).unwrap_err();
        assert!(
            format!("{error:?}").contains("Mars/Olympus_Mons"),
            "{error:?}"
        );
    }
}
