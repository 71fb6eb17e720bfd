//! Zoned date-times with the IANA time-zone rules of [`chrono_tz`] (feature `chrono-tz`).
//!
//! A zoned date-time on the wire is either
//!
//! * a [`DateTimeZoneId`] (Bolt 5.0+, and 4.4 with the `utc` patch): the UTC instant and the
//!   zone name. Reading its wall-clock time and offset needs the zone's rules at that instant,
//!   which are never ambiguous; or
//! * a [`LegacyDateTimeZoneId`] (Bolt 4.4 without the patch): the *local wall-clock* time and the
//!   zone name. Finding its instant needs the zone's offset at a local time, which can be
//!   ambiguous (the clocks went back: the time occurs twice) or not exist at all (the clocks
//!   went forward: it was skipped). [`Disambiguation`] says what to do then.
//!
//! | Bolt | chrono | direction |
//! |---|---|---|
//! | [`DateTimeZoneId`] | [`chrono::DateTime<Tz>`] | both, fallible (unknown zone, range, leap second) |
//! | [`LegacyDateTimeZoneId`] | [`chrono::DateTime<Tz>`] | both; to chrono with [`Disambiguation::Compatible`] (or [`LegacyDateTimeZoneId::to_chrono`]) |
//! | [`DateTimeZoneId`] | [`LegacyDateTimeZoneId`] | both ([`DateTimeZoneId::to_legacy`], [`LegacyDateTimeZoneId::to_utc`]) |
//!
//! A `chrono::DateTime<Tz>` also converts straight into a [`Value`] (a [`DateTimeZoneId`]), for
//! parameters. With this feature the encoder sends a [`DateTimeZoneId`] on a Bolt 4.4
//! connection without the `utc` patch too, as the legacy structure in local seconds (without it
//! that fails with [`ValueError::NotSupportedByVersion`](super::ValueError::NotSupportedByVersion)).
//!
//! A zone name the tz database does not know (the server may know zones chrono-tz does not,
//! or a stub server may send anything) is [`ChronoConversionError::UnknownTimeZone`], never a
//! panic; the value itself still decodes, so the rest of a record can be read.
//!
//! ```
//! use chrono::TimeZone;
//! use chrono_tz::Europe::Stockholm;
//! use quiver_bolt::value::{DateTimeZoneId, Value};
//!
//! let summer = Stockholm.with_ymd_and_hms(2022, 6, 7, 11, 52, 5).unwrap();
//! let bolt = DateTimeZoneId::try_from(summer)?;
//! assert_eq!(bolt.tz_id.as_str(), "Europe/Stockholm");
//! assert_eq!(bolt.utc_offset_seconds()?, 7200);
//!
//! let back = chrono::DateTime::<chrono_tz::Tz>::try_from(&bolt)?;
//! assert_eq!(back, summer);
//!
//! // Parameters:
//! let param = Value::try_from(summer)?;
//! assert!(matches!(param, Value::DateTimeZoneId(_)));
//! # Ok::<(), quiver_bolt::value::ChronoConversionError>(())
//! ```

use chrono::{NaiveDateTime, Offset, TimeZone};
use chrono_tz::{GapInfo, Tz, TzOffset};
use quiver_packstream::PackStr;

use super::{ChronoConversionError, DateTimeZoneId, LegacyDateTimeZoneId, Value};

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// How to read a local wall-clock time that the zone's rules make ambiguous or nonexistent.
///
/// Only a [`LegacyDateTimeZoneId`] (Bolt 4.4 without the `utc` patch) carries local time; the
/// server knew the real offset but that encoding drops it. When the clocks go back (end of
/// daylight saving time), the hour before the change occurs twice: *ambiguous*. When they go
/// forward, an hour is skipped: *nonexistent* (a server never sends one, but a value built by
/// hand can hold one).
///
/// The names and choices are those of the ECMAScript `Temporal` proposal's `disambiguation`
/// option.
///
/// # Zoned date-time conversions (feature `chrono-tz`)
///
/// | Bolt | chrono | how |
/// |---|---|---|
/// | [`DateTimeZoneId`] | `chrono::DateTime<chrono_tz::Tz>` | `TryFrom` both ways (unknown zone, range, leap second fail) |
/// | [`LegacyDateTimeZoneId`] | `chrono::DateTime<chrono_tz::Tz>` | [`LegacyDateTimeZoneId::to_chrono`] with a `Disambiguation`; `TryFrom` both ways (`Compatible`) |
/// | [`DateTimeZoneId`] | [`LegacyDateTimeZoneId`] | [`DateTimeZoneId::to_legacy`] (never ambiguous), [`LegacyDateTimeZoneId::to_utc`] |
/// | [`DateTimeZoneId`] | offset | [`DateTimeZoneId::utc_offset_seconds`], [`DateTimeZoneId::time_zone`] |
/// | `chrono::DateTime<chrono_tz::Tz>` | [`Value`] | `TryFrom` (a [`Value::DateTimeZoneId`], for parameters) |
///
/// With the feature, a [`DateTimeZoneId`] parameter is also sent on Bolt 4.4 without the `utc`
/// patch (as local seconds). A zone chrono-tz does not know is
/// [`ChronoConversionError::UnknownTimeZone`], never a panic, and only when converting: the
/// value still decodes, so the rest of a record reads.
///
/// ```
/// use quiver_bolt::value::{Disambiguation, LegacyDateTimeZoneId, PackStr};
///
/// // 02:30 happened twice in Stockholm on 2022-10-30 (at +02:00, then at +01:00).
/// let legacy = LegacyDateTimeZoneId {
///     local_seconds: 1_667_097_000,
///     nanoseconds: 0,
///     tz_id: PackStr::from("Europe/Stockholm"),
/// };
/// let earlier = legacy.to_utc(Disambiguation::Compatible)?;
/// let later = legacy.to_utc(Disambiguation::Later)?;
/// assert_eq!(later.seconds - earlier.seconds, 3600);
/// assert_eq!(earlier.utc_offset_seconds()?, 7200);
/// assert!(legacy.to_utc(Disambiguation::Reject).is_err());
/// # Ok::<(), quiver_bolt::value::ChronoConversionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Disambiguation {
    /// Ambiguous: the earlier instant. Nonexistent: shifted forward by the length of the gap
    /// (read with the offset in force before it). This is what `java.time.ZonedDateTime.of`
    /// does, so it is also how the server itself resolves a wall-clock time such as
    /// `datetime('2022-10-30T02:30[Europe/Stockholm]')`: values made that way read back as
    /// they were created.
    #[default]
    Compatible,
    /// The earlier instant; nonexistent: shifted back by the length of the gap (read with the
    /// offset in force after it).
    Earlier,
    /// The later instant; nonexistent: shifted forward, as [`Compatible`](Self::Compatible).
    /// For ordinary daylight-saving changes this is what the official Python driver does
    /// (pytz's `localize(is_dst=False)`: standard time).
    Later,
    /// Fail with [`ChronoConversionError::AmbiguousLocalTime`] or
    /// [`ChronoConversionError::NonexistentLocalTime`].
    Reject,
}

/// The zone named `tz_id`, or [`ChronoConversionError::UnknownTimeZone`].
fn zone(tz_id: &PackStr) -> Result<Tz, ChronoConversionError> {
    tz_id
        .as_str()
        .parse::<Tz>()
        .map_err(|_| ChronoConversionError::UnknownTimeZone {
            tz_id: tz_id.as_str().to_owned(),
        })
}

fn out_of_range(what: &'static str, value: i64, target: &'static str) -> ChronoConversionError {
    ChronoConversionError::OutOfRange {
        what,
        value,
        target,
    }
}

fn nanos_u32(nanoseconds: i64, target: &'static str) -> Result<u32, ChronoConversionError> {
    if (0..NANOS_PER_SECOND).contains(&nanoseconds) {
        u32::try_from(nanoseconds).map_err(|_| out_of_range("nanoseconds", nanoseconds, target))
    } else {
        Err(out_of_range("nanoseconds", nanoseconds, target))
    }
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

/// The instant `utc` in `tz`, refusing instants whose local time chrono cannot represent
/// (chrono would panic presenting them).
fn at_instant(
    utc: NaiveDateTime,
    tz: Tz,
    seconds: i64,
    target: &'static str,
) -> Result<chrono::DateTime<Tz>, ChronoConversionError> {
    let offset = tz.offset_from_utc_datetime(&utc);
    utc.checked_add_offset(offset.fix())
        .ok_or_else(|| out_of_range("seconds", seconds, target))?;
    Ok(chrono::DateTime::from_naive_utc_and_offset(utc, offset))
}

/// The UTC instant of local time `local` read with `offset`.
fn minus_offset(
    local: NaiveDateTime,
    offset: &TzOffset,
    seconds: i64,
    target: &'static str,
) -> Result<NaiveDateTime, ChronoConversionError> {
    local
        .checked_sub_offset(offset.fix())
        .ok_or_else(|| out_of_range("local_seconds", seconds, target))
}

impl DateTimeZoneId {
    /// The rules of the zone [`tz_id`](Self::tz_id) names, or
    /// [`ChronoConversionError::UnknownTimeZone`].
    pub fn time_zone(&self) -> Result<Tz, ChronoConversionError> {
        zone(&self.tz_id)
    }

    /// The zone's offset from UTC at this instant, in seconds (east positive).
    pub fn utc_offset_seconds(&self) -> Result<i32, ChronoConversionError> {
        let date_time = chrono::DateTime::<Tz>::try_from(self)?;
        Ok(date_time.offset().fix().local_minus_utc())
    }

    /// The same date-time as the legacy Bolt 4.4 structure (local wall-clock seconds). Never
    /// ambiguous: an instant has one offset.
    pub fn to_legacy(&self) -> Result<LegacyDateTimeZoneId, ChronoConversionError> {
        let offset = self.utc_offset_seconds()?;
        let local_seconds = self
            .seconds
            .checked_add(i64::from(offset))
            .ok_or_else(|| out_of_range("seconds", self.seconds, "LegacyDateTimeZoneId"))?;
        Ok(LegacyDateTimeZoneId {
            local_seconds,
            nanoseconds: self.nanoseconds,
            tz_id: self.tz_id.clone(),
        })
    }
}

impl LegacyDateTimeZoneId {
    /// The rules of the zone [`tz_id`](Self::tz_id) names, or
    /// [`ChronoConversionError::UnknownTimeZone`].
    pub fn time_zone(&self) -> Result<Tz, ChronoConversionError> {
        zone(&self.tz_id)
    }

    /// The date-time in its zone, its local time resolved to an instant as `disambiguation`
    /// says when the zone's rules make it ambiguous or nonexistent.
    pub fn to_chrono(
        &self,
        disambiguation: Disambiguation,
    ) -> Result<chrono::DateTime<Tz>, ChronoConversionError> {
        let target = "chrono::DateTime<Tz>";
        let tz = self.time_zone()?;
        let nanos = nanos_u32(self.nanoseconds, target)?;
        let local = chrono::DateTime::from_timestamp(self.local_seconds, nanos)
            .ok_or_else(|| out_of_range("local_seconds", self.local_seconds, target))?
            .naive_utc();
        let seconds = self.local_seconds;
        let utc = match tz.offset_from_local_datetime(&local) {
            chrono::LocalResult::Single(offset) => minus_offset(local, &offset, seconds, target)?,
            chrono::LocalResult::Ambiguous(earlier, later) => match disambiguation {
                Disambiguation::Compatible | Disambiguation::Earlier => {
                    minus_offset(local, &earlier, seconds, target)?
                }
                Disambiguation::Later => minus_offset(local, &later, seconds, target)?,
                Disambiguation::Reject => {
                    return Err(ChronoConversionError::AmbiguousLocalTime {
                        local,
                        tz_id: self.tz_id.as_str().to_owned(),
                    });
                }
            },
            chrono::LocalResult::None => {
                let nonexistent = || ChronoConversionError::NonexistentLocalTime {
                    local,
                    tz_id: self.tz_id.as_str().to_owned(),
                };
                let gap = GapInfo::new(&local, &tz).ok_or_else(nonexistent)?;
                let offset = match disambiguation {
                    // Read with the offset before the gap: the instant lies after it.
                    Disambiguation::Compatible | Disambiguation::Later => {
                        gap.begin.map(|(_, before)| before)
                    }
                    // Read with the offset after the gap: the instant lies before it.
                    Disambiguation::Earlier => gap.end.map(|after| *after.offset()),
                    Disambiguation::Reject => None,
                };
                minus_offset(local, &offset.ok_or_else(nonexistent)?, seconds, target)?
            }
        };
        at_instant(utc, tz, seconds, target)
    }

    /// The same date-time as a UTC instant ([`DateTimeZoneId`]), for a connection with UTC
    /// date-times; the local time is resolved as `disambiguation` says.
    pub fn to_utc(
        &self,
        disambiguation: Disambiguation,
    ) -> Result<DateTimeZoneId, ChronoConversionError> {
        DateTimeZoneId::try_from(self.to_chrono(disambiguation)?)
    }
}

impl TryFrom<&DateTimeZoneId> for chrono::DateTime<Tz> {
    type Error = ChronoConversionError;

    fn try_from(dt: &DateTimeZoneId) -> Result<chrono::DateTime<Tz>, ChronoConversionError> {
        let target = "chrono::DateTime<Tz>";
        let tz = dt.time_zone()?;
        let nanos = nanos_u32(dt.nanoseconds, target)?;
        let utc = chrono::DateTime::from_timestamp(dt.seconds, nanos)
            .ok_or_else(|| out_of_range("seconds", dt.seconds, target))?
            .naive_utc();
        at_instant(utc, tz, dt.seconds, target)
    }
}

impl TryFrom<DateTimeZoneId> for chrono::DateTime<Tz> {
    type Error = ChronoConversionError;

    fn try_from(dt: DateTimeZoneId) -> Result<chrono::DateTime<Tz>, ChronoConversionError> {
        chrono::DateTime::try_from(&dt)
    }
}

impl TryFrom<chrono::DateTime<Tz>> for DateTimeZoneId {
    type Error = ChronoConversionError;

    fn try_from(dt: chrono::DateTime<Tz>) -> Result<DateTimeZoneId, ChronoConversionError> {
        Ok(DateTimeZoneId {
            seconds: dt.timestamp(),
            nanoseconds: subsec_nanos(dt.timestamp_subsec_nanos())?,
            tz_id: PackStr::from(dt.timezone().name()),
        })
    }
}

/// With [`Disambiguation::Compatible`]; see [`LegacyDateTimeZoneId::to_chrono`] for the others.
impl TryFrom<&LegacyDateTimeZoneId> for chrono::DateTime<Tz> {
    type Error = ChronoConversionError;

    fn try_from(dt: &LegacyDateTimeZoneId) -> Result<chrono::DateTime<Tz>, ChronoConversionError> {
        dt.to_chrono(Disambiguation::Compatible)
    }
}

/// With [`Disambiguation::Compatible`]; see [`LegacyDateTimeZoneId::to_chrono`] for the others.
impl TryFrom<LegacyDateTimeZoneId> for chrono::DateTime<Tz> {
    type Error = ChronoConversionError;

    fn try_from(dt: LegacyDateTimeZoneId) -> Result<chrono::DateTime<Tz>, ChronoConversionError> {
        dt.to_chrono(Disambiguation::Compatible)
    }
}

impl TryFrom<chrono::DateTime<Tz>> for LegacyDateTimeZoneId {
    type Error = ChronoConversionError;

    fn try_from(dt: chrono::DateTime<Tz>) -> Result<LegacyDateTimeZoneId, ChronoConversionError> {
        let local = dt
            .naive_utc()
            .checked_add_offset(dt.offset().fix())
            .ok_or_else(|| out_of_range("seconds", dt.timestamp(), "LegacyDateTimeZoneId"))?
            .and_utc();
        Ok(LegacyDateTimeZoneId {
            local_seconds: local.timestamp(),
            nanoseconds: subsec_nanos(local.timestamp_subsec_nanos())?,
            tz_id: PackStr::from(dt.timezone().name()),
        })
    }
}

/// A [`Value::DateTimeZoneId`], for parameters (sent in local seconds on a Bolt 4.4 connection
/// without the `utc` patch).
impl TryFrom<chrono::DateTime<Tz>> for Value {
    type Error = ChronoConversionError;

    fn try_from(dt: chrono::DateTime<Tz>) -> Result<Value, ChronoConversionError> {
        DateTimeZoneId::try_from(dt).map(|dt| Value::DateTimeZoneId(Box::new(dt)))
    }
}
