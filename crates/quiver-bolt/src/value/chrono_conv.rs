//! Conversions between Bolt temporal values and [`chrono`] types (feature `chrono`).
//!
//! Conversions that can fail return [`ChronoConversionError`]: chrono's calendar covers roughly
//! ±262 000 years while Bolt values are 64-bit counts, chrono's leap-second representation has
//! no Bolt equivalent, and a [`Duration`] with months has no fixed length.
//!
//! | Bolt | chrono | direction |
//! |---|---|---|
//! | [`Date`] | [`NaiveDate`] | both (`From<NaiveDate>`, `TryFrom<Date>`) |
//! | [`LocalTime`] | [`NaiveTime`] | both, fallible |
//! | [`LocalDateTime`] | [`NaiveDateTime`] | both, fallible |
//! | [`DateTime`] | [`chrono::DateTime<FixedOffset>`] | both, fallible |
//! | [`Duration`] | [`TimeDelta`] (`chrono::Duration`) | both; to chrono only without months, days counted as 86 400 s |
//!
//! The chrono types also convert straight into a [`Value`] (`From` for `NaiveDate` and
//! `TimeDelta`, `TryFrom` for the others), handy for query parameters.
//!
//! Zoned date-times ([`DateTimeZoneId`](super::DateTimeZoneId)) need a time zone database:
//! feature `chrono-tz` (see [`Disambiguation`](super::Disambiguation)).

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

use super::{Date, DateTime, Duration, LocalDateTime, LocalTime, Value};

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// Why a temporal value could not be converted to or from `chrono`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChronoConversionError {
    /// A field is outside what the target type can represent.
    #[error("{what} {value} is out of range for {target}")]
    OutOfRange {
        /// Which field.
        what: &'static str,
        /// Its value.
        value: i64,
        /// The type it could not become.
        target: &'static str,
    },
    /// The conversion would lose information.
    #[error("{0}")]
    Lossy(&'static str),
    /// The time zone database (chrono-tz) does not know the zone a date-time names. The
    /// server's database may be newer, or the name is not an IANA zone id at all.
    #[cfg(feature = "chrono-tz")]
    #[error(
        "unknown time zone {tz_id:?}: it is not in the IANA time zone database (version {}) \
         that chrono-tz carries",
        chrono_tz::IANA_TZDB_VERSION
    )]
    UnknownTimeZone {
        /// The zone id as sent.
        tz_id: String,
    },
    /// A local wall-clock time occurs twice in the zone (its clocks went back) and
    /// [`Disambiguation::Reject`](super::Disambiguation::Reject) was asked for.
    #[cfg(feature = "chrono-tz")]
    #[error(
        "local time {local} is ambiguous in time zone {tz_id} (it occurs twice): choose a \
         Disambiguation other than Reject"
    )]
    AmbiguousLocalTime {
        /// The local time.
        local: NaiveDateTime,
        /// The zone.
        tz_id: String,
    },
    /// A local wall-clock time does not exist in the zone (its clocks skipped it) and
    /// [`Disambiguation::Reject`](super::Disambiguation::Reject) was asked for (or the zone's
    /// rules end there).
    #[cfg(feature = "chrono-tz")]
    #[error(
        "local time {local} does not exist in time zone {tz_id} (the clocks skipped it): \
         choose a Disambiguation other than Reject"
    )]
    NonexistentLocalTime {
        /// The local time.
        local: NaiveDateTime,
        /// The zone.
        tz_id: String,
    },
}

fn out_of_range(what: &'static str, value: i64, target: &'static str) -> ChronoConversionError {
    ChronoConversionError::OutOfRange {
        what,
        value,
        target,
    }
}

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Sub-second nanoseconds of a chrono value, refusing chrono's leap-second form (≥ 1 s).
fn subsec_nanos(nanos: u32) -> Result<i64, ChronoConversionError> {
    if i64::from(nanos) >= NANOS_PER_SECOND {
        return Err(ChronoConversionError::Lossy(
            "chrono leap seconds (nanoseconds ≥ 1 s) have no Bolt representation",
        ));
    }
    Ok(i64::from(nanos))
}

fn nanos_u32(nanoseconds: i64, target: &'static str) -> Result<u32, ChronoConversionError> {
    if (0..NANOS_PER_SECOND).contains(&nanoseconds) {
        u32::try_from(nanoseconds).map_err(|_| out_of_range("nanoseconds", nanoseconds, target))
    } else {
        Err(out_of_range("nanoseconds", nanoseconds, target))
    }
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Date {
        Date {
            days: date.signed_duration_since(epoch()).num_days(),
        }
    }
}

impl TryFrom<Date> for NaiveDate {
    type Error = ChronoConversionError;

    fn try_from(date: Date) -> Result<NaiveDate, ChronoConversionError> {
        TimeDelta::try_days(date.days)
            .and_then(|days| epoch().checked_add_signed(days))
            .ok_or_else(|| out_of_range("days", date.days, "chrono::NaiveDate"))
    }
}

impl TryFrom<NaiveTime> for LocalTime {
    type Error = ChronoConversionError;

    fn try_from(time: NaiveTime) -> Result<LocalTime, ChronoConversionError> {
        let nanos = subsec_nanos(time.nanosecond())?;
        Ok(LocalTime {
            nanoseconds: i64::from(time.num_seconds_from_midnight()) * NANOS_PER_SECOND + nanos,
        })
    }
}

impl TryFrom<LocalTime> for NaiveTime {
    type Error = ChronoConversionError;

    fn try_from(time: LocalTime) -> Result<NaiveTime, ChronoConversionError> {
        let ns = time.nanoseconds;
        let target = "chrono::NaiveTime";
        if !(0..SECONDS_PER_DAY * NANOS_PER_SECOND).contains(&ns) {
            return Err(out_of_range("nanoseconds since midnight", ns, target));
        }
        let secs = u32::try_from(ns / NANOS_PER_SECOND)
            .map_err(|_| out_of_range("nanoseconds since midnight", ns, target))?;
        let nanos = nanos_u32(ns % NANOS_PER_SECOND, target)?;
        NaiveTime::from_num_seconds_from_midnight_opt(secs, nanos)
            .ok_or_else(|| out_of_range("nanoseconds since midnight", ns, target))
    }
}

impl TryFrom<NaiveDateTime> for LocalDateTime {
    type Error = ChronoConversionError;

    fn try_from(dt: NaiveDateTime) -> Result<LocalDateTime, ChronoConversionError> {
        let utc = dt.and_utc();
        Ok(LocalDateTime {
            seconds: utc.timestamp(),
            nanoseconds: subsec_nanos(utc.timestamp_subsec_nanos())?,
        })
    }
}

impl TryFrom<LocalDateTime> for NaiveDateTime {
    type Error = ChronoConversionError;

    fn try_from(dt: LocalDateTime) -> Result<NaiveDateTime, ChronoConversionError> {
        let target = "chrono::NaiveDateTime";
        let nanos = nanos_u32(dt.nanoseconds, target)?;
        chrono::DateTime::from_timestamp(dt.seconds, nanos)
            .map(|utc| utc.naive_utc())
            .ok_or_else(|| out_of_range("seconds", dt.seconds, target))
    }
}

impl TryFrom<chrono::DateTime<FixedOffset>> for DateTime {
    type Error = ChronoConversionError;

    fn try_from(dt: chrono::DateTime<FixedOffset>) -> Result<DateTime, ChronoConversionError> {
        Ok(DateTime {
            seconds: dt.timestamp(),
            nanoseconds: subsec_nanos(dt.timestamp_subsec_nanos())?,
            tz_offset_seconds: i64::from(dt.offset().local_minus_utc()),
        })
    }
}

impl TryFrom<DateTime> for chrono::DateTime<FixedOffset> {
    type Error = ChronoConversionError;

    fn try_from(dt: DateTime) -> Result<chrono::DateTime<FixedOffset>, ChronoConversionError> {
        let target = "chrono::DateTime<FixedOffset>";
        let offset = i32::try_from(dt.tz_offset_seconds)
            .ok()
            .and_then(FixedOffset::east_opt)
            .ok_or_else(|| out_of_range("tz_offset_seconds", dt.tz_offset_seconds, target))?;
        let nanos = nanos_u32(dt.nanoseconds, target)?;
        let utc = chrono::DateTime::from_timestamp(dt.seconds, nanos)
            .ok_or_else(|| out_of_range("seconds", dt.seconds, target))?;
        // The local wall-clock time must be representable too.
        utc.naive_utc()
            .checked_add_offset(offset)
            .ok_or_else(|| out_of_range("seconds", dt.seconds, target))?;
        Ok(utc.with_timezone(&offset))
    }
}

impl From<TimeDelta> for Duration {
    fn from(delta: TimeDelta) -> Duration {
        Duration {
            months: 0,
            days: 0,
            seconds: delta.num_seconds(),
            nanoseconds: i64::from(delta.subsec_nanos()),
        }
    }
}

impl TryFrom<Duration> for TimeDelta {
    type Error = ChronoConversionError;

    /// Days count as 86 400 seconds. Fails for months (no fixed length) and for totals beyond
    /// chrono's ±i64::MAX milliseconds.
    fn try_from(d: Duration) -> Result<TimeDelta, ChronoConversionError> {
        if d.months != 0 {
            return Err(ChronoConversionError::Lossy(
                "a Duration with months has no fixed length and cannot become a chrono::TimeDelta",
            ));
        }
        let target = "chrono::TimeDelta";
        let days =
            TimeDelta::try_days(d.days).ok_or_else(|| out_of_range("days", d.days, target))?;
        let seconds = TimeDelta::try_seconds(d.seconds)
            .ok_or_else(|| out_of_range("seconds", d.seconds, target))?;
        let nanos = TimeDelta::nanoseconds(d.nanoseconds);
        days.checked_add(&seconds)
            .and_then(|t| t.checked_add(&nanos))
            .ok_or_else(|| out_of_range("seconds", d.seconds, target))
    }
}

// Straight to `Value`, for parameters: `params.insert("day", naive_date)`.

impl From<NaiveDate> for Value {
    fn from(date: NaiveDate) -> Value {
        Value::Date(date.into())
    }
}

impl From<TimeDelta> for Value {
    fn from(delta: TimeDelta) -> Value {
        Value::Duration(delta.into())
    }
}

impl TryFrom<NaiveTime> for Value {
    type Error = ChronoConversionError;

    fn try_from(time: NaiveTime) -> Result<Value, ChronoConversionError> {
        LocalTime::try_from(time).map(Value::LocalTime)
    }
}

impl TryFrom<NaiveDateTime> for Value {
    type Error = ChronoConversionError;

    fn try_from(dt: NaiveDateTime) -> Result<Value, ChronoConversionError> {
        LocalDateTime::try_from(dt).map(Value::LocalDateTime)
    }
}

impl TryFrom<chrono::DateTime<FixedOffset>> for Value {
    type Error = ChronoConversionError;

    fn try_from(dt: chrono::DateTime<FixedOffset>) -> Result<Value, ChronoConversionError> {
        DateTime::try_from(dt).map(Value::DateTime)
    }
}
