//! Temporal values, field for field as Bolt sends them.
//!
//! All fields are kept as the wire integers (lossless, no validation beyond the types), so a
//! value decoded from the server re-encodes to the same bytes. The `chrono` feature adds checked
//! conversions to and from `chrono` types, `chrono-tz` those of zoned date-times.

use quiver_packstream::PackStr;

/// A calendar date without time zone (structure `44`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date {
    /// Days since 1970-01-01 (negative before).
    pub days: i64,
}

/// A time of day with a UTC offset (structure `54`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time {
    /// Nanoseconds since midnight, local time (not UTC).
    pub nanoseconds: i64,
    /// Offset from UTC in seconds (east positive).
    pub tz_offset_seconds: i64,
}

/// A time of day without time zone (structure `74`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalTime {
    /// Nanoseconds since midnight.
    pub nanoseconds: i64,
}

/// An instant with a fixed UTC offset.
///
/// On the wire this is structure `49` (Bolt 5.0+, and 4.4 with the `utc` patch) or, on Bolt 4.4
/// without the patch, the legacy structure `46` whose seconds are local wall-clock seconds;
/// decoding and encoding convert between the two (`utc = local - offset`), so this type always
/// holds the UTC instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    /// Seconds since the Unix epoch, UTC.
    pub seconds: i64,
    /// Nanoseconds within the second (0..=999_999_999 when sent by the server).
    pub nanoseconds: i64,
    /// Offset from UTC in seconds, used to present the local time.
    pub tz_offset_seconds: i64,
}

/// An instant in a named time zone (structure `69`; Bolt 5.0+, and 4.4 with the `utc` patch).
///
/// Its wall-clock time and UTC offset follow from the zone's rules: with feature `chrono-tz`,
/// convert it to a `chrono::DateTime<chrono_tz::Tz>` (or ask `utc_offset_seconds`). With that
/// feature it is also sent on Bolt 4.4 without the `utc` patch, as local seconds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DateTimeZoneId {
    /// Seconds since the Unix epoch, UTC.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: i64,
    /// The IANA time zone id, e.g. `Europe/Paris`.
    pub tz_id: PackStr,
}

/// A date-time in a named time zone as sent by Bolt 4.4 without the `utc` patch (legacy
/// structure `66`): the seconds are the *local wall-clock* time read as if it were UTC.
///
/// Turning this into a UTC instant ([`DateTimeZoneId`]) needs the zone's offset at that local
/// time, i.e. a time zone database, and a choice when that local time is ambiguous; so the
/// value is kept as is (with feature `chrono-tz`: `to_utc` / `to_chrono` with a
/// `Disambiguation`). It re-encodes losslessly on a connection without the patch and cannot be
/// sent on one with UTC date-times (negotiate the `utc` patch, or send a [`DateTimeZoneId`]
/// there).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LegacyDateTimeZoneId {
    /// Local wall-clock seconds since 1970-01-01T00:00 (in the zone `tz_id`).
    pub local_seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: i64,
    /// The IANA time zone id.
    pub tz_id: PackStr,
}

/// A date-time without time zone (structure `64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalDateTime {
    /// Seconds since 1970-01-01T00:00 (wall clock).
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: i64,
}

/// A temporal amount (structure `45`). The four parts are independent: a month has no fixed
/// number of days and a day no fixed number of seconds, so they are not normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Duration {
    /// Months.
    pub months: i64,
    /// Days.
    pub days: i64,
    /// Seconds.
    pub seconds: i64,
    /// Nanoseconds.
    pub nanoseconds: i64,
}
