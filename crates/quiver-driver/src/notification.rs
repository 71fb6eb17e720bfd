//! Notifications and GQL status objects of a result summary.
//!
//! Servers before Bolt 5.6 send `notifications`; newer ones send GQL `statuses`, a superset.
//! As the official Python driver (6.x), Quiver offers both views on every server and fills one
//! in from the other:
//!
//! * without `statuses`, the GQL status objects are made from the notifications (a warning
//!   becomes `01N42`, anything else `03N42`) plus one status for the result itself — `00000`
//!   (successful completion) if a record arrived, `02000` (no data) if the query had columns but
//!   no record, `00001` (omitted result) if it had no columns — ordered no data, warnings,
//!   success, informational;
//! * without `notifications`, the notifications are the statuses that carry a `neo4j_code`.
//!
//! Every field is read leniently: unknown severities and classifications become `Unknown`
//! (with the text kept in the `raw_*` field), fields of the wrong type are treated as missing.
//!
//! ```no_run
//! # use quiver_driver::{Driver, NotificationSeverity, Result, Runtime};
//! # async fn example<R: Runtime + Default>(driver: Driver<R>) -> Result<()> {
//! let summary = driver.execute_query("MATCH (n:Persn) RETURN n").await?.summary;
//! for status in summary.gql_status_objects() {
//!     if status.is_notification && status.severity == NotificationSeverity::Warning {
//!         // e.g. "01N50: warn: label does not exist. The label `Persn` does not exist. …"
//!         eprintln!("{status} at {:?}", status.position);
//!     }
//! }
//! # Ok(()) }
//! ```

use std::cmp::Reverse;
use std::fmt;

use quiver_bolt::value::{Map, Value};

use crate::error::fill_default_diagnostic_record;

/// The severity of a notification or GQL status object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotificationSeverity {
    /// `WARNING`.
    Warning,
    /// `INFORMATION`.
    Information,
    /// Missing, or a severity this driver does not know (see the `raw_*` field).
    Unknown,
}

impl NotificationSeverity {
    /// The severity named by `raw`; never fails (unknown text is [`Unknown`](Self::Unknown)).
    pub fn from_raw(raw: Option<&str>) -> Self {
        match raw {
            Some("WARNING") => Self::Warning,
            Some("INFORMATION") => Self::Information,
            _ => Self::Unknown,
        }
    }

    /// The name as the server and the official drivers spell it, e.g. `"WARNING"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "WARNING",
            Self::Information => "INFORMATION",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for NotificationSeverity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The category of a notification, called its classification in GQL status objects (the Python
/// driver's `NotificationCategory` / `NotificationClassification`, which are identical).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotificationCategory {
    /// `HINT`: the query could not be run as the hints asked.
    Hint,
    /// `UNRECOGNIZED`: an unknown label, relationship type, property, …
    Unrecognized,
    /// `UNSUPPORTED`: an unsupported or experimental feature.
    Unsupported,
    /// `PERFORMANCE`: the query may be slow (e.g. a cartesian product).
    Performance,
    /// `DEPRECATION`: deprecated syntax or features.
    Deprecation,
    /// `GENERIC`.
    Generic,
    /// `SECURITY`.
    Security,
    /// `TOPOLOGY`: cluster topology.
    Topology,
    /// `SCHEMA`: indexes and constraints.
    Schema,
    /// Missing, or a category this driver does not know (see the `raw_*` field).
    Unknown,
}

/// GQL status objects call the notification category their classification.
pub type NotificationClassification = NotificationCategory;

impl NotificationCategory {
    /// The category named by `raw`; never fails (unknown text is [`Unknown`](Self::Unknown)).
    pub fn from_raw(raw: Option<&str>) -> Self {
        match raw {
            Some("HINT") => Self::Hint,
            Some("UNRECOGNIZED") => Self::Unrecognized,
            Some("UNSUPPORTED") => Self::Unsupported,
            Some("PERFORMANCE") => Self::Performance,
            Some("DEPRECATION") => Self::Deprecation,
            Some("GENERIC") => Self::Generic,
            Some("SECURITY") => Self::Security,
            Some("TOPOLOGY") => Self::Topology,
            Some("SCHEMA") => Self::Schema,
            _ => Self::Unknown,
        }
    }

    /// The name as the server and the official drivers spell it, e.g. `"PERFORMANCE"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hint => "HINT",
            Self::Unrecognized => "UNRECOGNIZED",
            Self::Unsupported => "UNSUPPORTED",
            Self::Performance => "PERFORMANCE",
            Self::Deprecation => "DEPRECATION",
            Self::Generic => "GENERIC",
            Self::Security => "SECURITY",
            Self::Topology => "TOPOLOGY",
            Self::Schema => "SCHEMA",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl fmt::Display for NotificationCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where in the query text a notification points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InputPosition {
    /// Character offset, from 0.
    pub offset: i64,
    /// Line, from 1.
    pub line: i64,
    /// Column, from 1.
    pub column: i64,
}

impl InputPosition {
    /// A `{offset, line, column}` map of integers; anything else (a missing or non-integer entry)
    /// is no position.
    fn from_value(value: Option<&Value>) -> Option<Self> {
        let map = value?.as_map()?;
        let int = |key: &str| match map.get(key) {
            Some(Value::Integer(i)) => Some(*i),
            _ => None,
        };
        Some(InputPosition {
            line: int("line")?,
            column: int("column")?,
            offset: int("offset")?,
        })
    }
}

impl fmt::Display for InputPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line: {}, column: {}, offset: {}",
            self.line, self.column, self.offset
        )
    }
}

/// A notification about a query (the Python driver's `SummaryNotification`): a warning or hint
/// that does not stop the query. Superseded by [`GqlStatusObject`] but kept for servers and code
/// that speak in notifications.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Notification {
    /// The Neo4j code, e.g. `Neo.ClientNotification.Statement.CartesianProduct` (`""` if none).
    pub code: String,
    /// A short summary (`""` if none).
    pub title: String,
    /// The description (`""` if none).
    pub description: String,
    /// The parsed [`raw_severity_level`](Self::raw_severity_level).
    pub severity_level: NotificationSeverity,
    /// The severity as sent (`""` if none).
    pub raw_severity_level: String,
    /// The parsed [`raw_category`](Self::raw_category).
    pub category: NotificationCategory,
    /// The category as sent (`""` if none).
    pub raw_category: String,
    /// Where in the query the notification points, if the server said so.
    pub position: Option<InputPosition>,
    /// The notification as a map: as sent by the server, or as derived from a GQL status object
    /// (`title`, `code`, `description`, `severity`, `category`, `position`).
    pub raw: Map,
}

impl Notification {
    /// A notification from its raw form (a map; anything else gives an empty notification).
    pub(crate) fn from_raw(raw: &Value) -> Self {
        let map = raw.as_map().cloned().unwrap_or_default();
        let text = |key: &str| str_of(&map, key).unwrap_or_default().to_owned();
        Notification {
            code: text("code"),
            title: text("title"),
            description: text("description"),
            severity_level: NotificationSeverity::from_raw(str_of(&map, "severity")),
            raw_severity_level: text("severity"),
            category: NotificationCategory::from_raw(str_of(&map, "category")),
            raw_category: text("category"),
            position: InputPosition::from_value(map.get("position")),
            raw: map,
        }
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{{severity: {}}} {{code: {}}} {{category: {}}} {{title: {}}} {{description: {}}}",
            self.raw_severity_level, self.code, self.raw_category, self.title, self.description
        )?;
        match &self.position {
            Some(position) => write!(f, " {{position: {position}}}"),
            None => f.write_str(" {position: none}"),
        }
    }
}

/// A GQL status object (the Python driver's `GqlStatusObject`): the outcome of a query as GQL
/// describes it — its result status (`00000` success, `00001` omitted result, `02000` no data)
/// and any notifications (`01…` warnings, `03…` informational).
///
/// Position, classification and severity are meaningful for notifications only
/// ([`is_notification`](Self::is_notification)).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GqlStatusObject {
    /// The GQLSTATUS, e.g. `"01N50"`. `01N42`, `02N42`, `03N42` and `05N42` are the unknown
    /// warning / no data / informational / error codes drivers use when filling in for an older
    /// server.
    pub gql_status: String,
    /// The status description, e.g. `"warn: label does not exist. …"`.
    pub status_description: String,
    /// Where in the query the status points (`_position` of the diagnostic record).
    pub position: Option<InputPosition>,
    /// The parsed [`raw_classification`](Self::raw_classification).
    pub classification: NotificationClassification,
    /// `_classification` of the diagnostic record, when it is a string.
    pub raw_classification: Option<String>,
    /// The parsed [`raw_severity`](Self::raw_severity).
    pub severity: NotificationSeverity,
    /// `_severity` of the diagnostic record, when it is a string.
    pub raw_severity: Option<String>,
    /// The diagnostic record: the values as sent, with `OPERATION` `""`, `OPERATION_CODE` `"0"`
    /// and `CURRENT_SCHEMA` `"/"` filled in where the server left them out (Bolt 5.5+).
    pub diagnostic_record: Map,
    /// Whether this status is a notification (it carries a Neo4j code; notifications are what the
    /// notification filters act on).
    pub is_notification: bool,
}

impl fmt::Display for GqlStatusObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.gql_status, self.status_description)
    }
}

fn str_of<'a>(map: &'a Map, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

impl GqlStatusObject {
    /// A status sent by the server (already enriched, see [`enrich_status`]).
    fn from_status(status: &Value) -> Self {
        let empty = Map::new();
        let status = status.as_map().unwrap_or(&empty);
        let diagnostic_record = status
            .get("diagnostic_record")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        let raw_classification = str_of(&diagnostic_record, "_classification").map(str::to_owned);
        let raw_severity = str_of(&diagnostic_record, "_severity").map(str::to_owned);
        GqlStatusObject {
            gql_status: str_of(status, "gql_status").unwrap_or_default().to_owned(),
            status_description: str_of(status, "status_description")
                .unwrap_or_default()
                .to_owned(),
            position: InputPosition::from_value(diagnostic_record.get("_position")),
            classification: NotificationCategory::from_raw(raw_classification.as_deref()),
            raw_classification,
            severity: NotificationSeverity::from_raw(raw_severity.as_deref()),
            raw_severity,
            diagnostic_record,
            is_notification: str_of(status, "neo4j_code").is_some_and(|code| !code.is_empty()),
        }
    }

    /// The status a notification of an older server stands for: `01N42` for a warning, `03N42`
    /// for anything else.
    fn from_notification(notification: &Value) -> Self {
        let empty = Map::new();
        let notification = notification.as_map().unwrap_or(&empty);
        let severity = str_of(notification, "severity");
        let description = str_of(notification, "description").filter(|d| !d.is_empty());
        let (gql_status, status_description) = if severity == Some("WARNING") {
            ("01N42", description.unwrap_or("warn: unknown warning"))
        } else {
            ("03N42", description.unwrap_or("info: unknown notification"))
        };
        let mut diagnostic_record = Map::new();
        fill_default_diagnostic_record(&mut diagnostic_record);
        for (from, to) in [
            ("category", "_classification"),
            ("severity", "_severity"),
            ("position", "_position"),
        ] {
            if let Some(value) = notification.get(from) {
                diagnostic_record.insert(to, value.clone());
            }
        }
        let raw_classification = str_of(notification, "category").map(str::to_owned);
        GqlStatusObject {
            gql_status: gql_status.to_owned(),
            status_description: status_description.to_owned(),
            position: InputPosition::from_value(notification.get("position")),
            classification: NotificationCategory::from_raw(raw_classification.as_deref()),
            raw_classification,
            severity: NotificationSeverity::from_raw(severity),
            raw_severity: severity.map(str::to_owned),
            diagnostic_record,
            is_notification: true,
        }
    }

    /// The status of the result itself, for servers that send no statuses.
    fn result_status(had_key: bool, had_record: bool) -> Self {
        let (gql_status, status_description) = if had_record {
            ("00000", "note: successful completion")
        } else if had_key {
            ("02000", "note: no data")
        } else {
            ("00001", "note: successful completion - omitted result")
        };
        let mut diagnostic_record = Map::new();
        fill_default_diagnostic_record(&mut diagnostic_record);
        GqlStatusObject {
            gql_status: gql_status.to_owned(),
            status_description: status_description.to_owned(),
            position: None,
            classification: NotificationCategory::Unknown,
            raw_classification: None,
            severity: NotificationSeverity::Unknown,
            raw_severity: None,
            diagnostic_record,
            is_notification: false,
        }
    }

    /// The order of filled-in statuses: no data, then warnings, success, informational, others.
    fn precedence(&self) -> i8 {
        match self.gql_status.get(..2) {
            Some("02") => 3,
            Some("01") => 2,
            Some("00") => 1,
            Some("03") => 0,
            _ => -1,
        }
    }
}

/// What the end of a result said about notifications and statuses, and what the client saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct StatusSource {
    /// The `notifications` entry as sent (any type), if there was one.
    pub(crate) notifications: Option<Value>,
    /// The `statuses` entry as sent (any type), if there was one.
    pub(crate) statuses: Option<Value>,
    /// The negotiated Bolt version.
    pub(crate) version: (u8, u8),
    /// Whether the query had columns.
    pub(crate) had_key: bool,
    /// Whether a record arrived (even one discarded later).
    pub(crate) had_record: bool,
}

/// A status as the Python driver sees it after its Bolt layer's clean-up: from 5.5 on, the
/// diagnostic record gets its default entries (unless it is not a map), and on 5.5 the
/// notification `description` is the `status_description`.
fn enrich_status(status: &Value, version: (u8, u8)) -> Value {
    let Value::Map(map) = status else {
        return status.clone();
    };
    let mut map = map.clone();
    if version >= (5, 5) {
        if version == (5, 5) {
            let description = map
                .get("status_description")
                .cloned()
                .unwrap_or(Value::Null);
            map.insert("description", description);
        }
        if map.get("diagnostic_record").is_none() {
            map.insert("diagnostic_record", Value::Map(Map::new()));
        }
        if let Some(Value::Map(record)) = map.get_mut("diagnostic_record") {
            fill_default_diagnostic_record(record);
        }
    }
    Value::Map(map)
}

/// The raw notification a status with a `neo4j_code` stands for.
fn notification_from_status(status: &Map) -> Value {
    let mut notification = Map::new();
    for (to, from) in [
        ("title", "title"),
        ("code", "neo4j_code"),
        ("description", "description"),
    ] {
        if let Some(value) = status.get(from) {
            notification.insert(to, value.clone());
        }
    }
    if status.contains_key("diagnostic_record") {
        let empty = Map::new();
        let record = status
            .get("diagnostic_record")
            .and_then(Value::as_map)
            .unwrap_or(&empty);
        for (to, from) in [
            ("severity", "_severity"),
            ("category", "_classification"),
            ("position", "_position"),
        ] {
            if let Some(value) = record.get(from) {
                notification.insert(to, value.clone());
            }
        }
    }
    Value::Map(notification)
}

impl StatusSource {
    /// The notifications, as the Python driver's (deprecated) `ResultSummary.notifications`
    /// typed: the `notifications` list if one was sent; else those of the `statuses` that carry
    /// a `neo4j_code` (`None` if there are none); else `None`.
    pub(crate) fn notifications(&self) -> Option<Vec<Notification>> {
        if let Some(notifications) = &self.notifications {
            return match notifications {
                Value::List(list) => Some(list.iter().map(Notification::from_raw).collect()),
                _ => None,
            };
        }
        let Value::List(statuses) = self.statuses.as_ref()? else {
            return None;
        };
        let notifications: Vec<Notification> = statuses
            .iter()
            .map(|status| enrich_status(status, self.version))
            .filter_map(|status| match status {
                Value::Map(map) if map.contains_key("neo4j_code") => {
                    Some(Notification::from_raw(&notification_from_status(&map)))
                }
                _ => None,
            })
            .collect();
        (!notifications.is_empty()).then_some(notifications)
    }

    pub(crate) fn gql_status_objects(&self) -> Vec<GqlStatusObject> {
        if let Some(Value::List(statuses)) = &self.statuses {
            return statuses
                .iter()
                .map(|status| GqlStatusObject::from_status(&enrich_status(status, self.version)))
                .collect();
        }
        let mut objects: Vec<GqlStatusObject> = match &self.notifications {
            Some(Value::List(list)) => list
                .iter()
                .map(GqlStatusObject::from_notification)
                .collect(),
            _ => Vec::new(),
        };
        objects.push(GqlStatusObject::result_status(
            self.had_key,
            self.had_record,
        ));
        // Stable, so statuses of equal precedence keep the server's order.
        objects.sort_by_key(|status| Reverse(status.precedence()));
        objects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::String(text.into())
    }

    fn map(entries: &[(&str, Value)]) -> Value {
        let mut map = Map::new();
        for (key, value) in entries {
            map.insert(*key, value.clone());
        }
        Value::Map(map)
    }

    fn position(line: i64) -> Value {
        map(&[
            ("offset", Value::Integer(8)),
            ("line", Value::Integer(line)),
            ("column", Value::Integer(9)),
        ])
    }

    /// A legacy notification as Neo4j 5.x before Bolt 5.6 sends it.
    fn legacy(severity: &str, category: &str, line: i64) -> Value {
        map(&[
            ("severity", s(severity)),
            ("category", s(category)),
            ("description", s(&format!("description {line}"))),
            (
                "code",
                s(&format!("Neo.ClientNotification.Statement.X{line}")),
            ),
            ("position", position(line)),
            ("title", s(&format!("title {line}"))),
        ])
    }

    fn source(notifications: Option<Value>, statuses: Option<Value>) -> StatusSource {
        StatusSource {
            notifications,
            statuses,
            version: (5, 4),
            had_key: true,
            had_record: true,
        }
    }

    fn default_record() -> Map {
        let mut record = Map::new();
        fill_default_diagnostic_record(&mut record);
        record
    }

    #[test]
    fn severities_and_categories_parse_like_the_python_driver() {
        for (raw, parsed) in [
            ("WARNING", NotificationSeverity::Warning),
            ("INFORMATION", NotificationSeverity::Information),
        ] {
            assert_eq!(NotificationSeverity::from_raw(Some(raw)), parsed);
            assert_eq!(parsed.as_str(), raw);
        }
        for unknown in [Some("OFF"), Some("warning"), Some(""), None] {
            assert_eq!(
                NotificationSeverity::from_raw(unknown),
                NotificationSeverity::Unknown
            );
        }
        let all = [
            NotificationCategory::Hint,
            NotificationCategory::Unrecognized,
            NotificationCategory::Unsupported,
            NotificationCategory::Performance,
            NotificationCategory::Deprecation,
            NotificationCategory::Generic,
            NotificationCategory::Security,
            NotificationCategory::Topology,
            NotificationCategory::Schema,
        ];
        for category in all {
            assert_eq!(
                NotificationCategory::from_raw(Some(category.as_str())),
                category
            );
        }
        for unknown in [Some("ANYCAT"), Some("hint"), None] {
            assert_eq!(
                NotificationCategory::from_raw(unknown),
                NotificationCategory::Unknown
            );
        }
        assert_eq!(NotificationCategory::Unknown.to_string(), "UNKNOWN");
    }

    #[test]
    fn notifications_tell_none_sent_from_an_empty_list() {
        assert_eq!(source(None, None).notifications(), None);
        assert_eq!(
            source(Some(Value::List(vec![])), None).notifications(),
            Some(vec![])
        );
        // Not a list: none (and no fallback to the statuses).
        assert_eq!(source(Some(s("x")), None).notifications(), None);
        // Statuses without a notification among them: none, not an empty list.
        let success = map(&[
            ("gql_status", s("00000")),
            ("status_description", s("note: successful completion")),
        ]);
        assert_eq!(
            source(None, Some(Value::List(vec![success]))).notifications(),
            None
        );
    }

    #[test]
    fn legacy_notifications_are_typed_leniently() {
        let list = Value::List(vec![
            legacy("WARNING", "PERFORMANCE", 1),
            map(&[("severity", s("ANYTHING")), ("code", Value::Integer(3))]),
            s("not a map"),
        ]);
        let notifications = source(Some(list), None).notifications().unwrap();
        assert_eq!(notifications.len(), 3);
        let first = &notifications[0];
        assert_eq!(first.code, "Neo.ClientNotification.Statement.X1");
        assert_eq!(first.title, "title 1");
        assert_eq!(first.description, "description 1");
        assert_eq!(first.severity_level, NotificationSeverity::Warning);
        assert_eq!(first.raw_severity_level, "WARNING");
        assert_eq!(first.category, NotificationCategory::Performance);
        assert_eq!(first.raw_category, "PERFORMANCE");
        assert_eq!(
            first.position,
            Some(InputPosition {
                offset: 8,
                line: 1,
                column: 9
            })
        );
        let second = &notifications[1];
        assert_eq!(second.severity_level, NotificationSeverity::Unknown);
        assert_eq!(second.raw_severity_level, "ANYTHING");
        assert_eq!(
            (second.code.as_str(), second.raw_category.as_str()),
            ("", "")
        );
        assert_eq!(second.category, NotificationCategory::Unknown);
        assert_eq!(second.position, None);
        assert_eq!(notifications[2].code, "");
        assert!(notifications[2].raw.is_empty());
    }

    #[test]
    fn a_position_needs_three_integers() {
        assert!(InputPosition::from_value(Some(&position(1))).is_some());
        let with_bool = map(&[
            ("offset", Value::Boolean(true)),
            ("line", Value::Integer(1)),
            ("column", Value::Integer(1)),
        ]);
        assert_eq!(InputPosition::from_value(Some(&with_bool)), None);
        let partial = map(&[("line", Value::Integer(1)), ("column", Value::Integer(1))]);
        assert_eq!(InputPosition::from_value(Some(&partial)), None);
        assert_eq!(InputPosition::from_value(Some(&Value::Integer(1))), None);
    }

    #[test]
    fn without_statuses_the_result_status_is_filled_in() {
        for (had_key, had_record, status, description) in [
            (true, true, "00000", "note: successful completion"),
            (true, false, "02000", "note: no data"),
            (
                false,
                false,
                "00001",
                "note: successful completion - omitted result",
            ),
        ] {
            let objects = StatusSource {
                had_key,
                had_record,
                ..source(None, None)
            }
            .gql_status_objects();
            assert_eq!(objects.len(), 1);
            let object = &objects[0];
            assert_eq!(object.gql_status, status);
            assert_eq!(object.status_description, description);
            assert!(!object.is_notification);
            assert_eq!(object.position, None);
            assert_eq!(object.raw_classification, None);
            assert_eq!(object.classification, NotificationCategory::Unknown);
            assert_eq!(object.raw_severity, None);
            assert_eq!(object.severity, NotificationSeverity::Unknown);
            assert_eq!(object.diagnostic_record, default_record());
        }
    }

    #[test]
    fn without_statuses_notifications_become_statuses_in_python_order() {
        let list = Value::List(vec![
            legacy("WARNING", "HINT", 1),
            legacy("INFORMATION", "HINT", 2),
            legacy("WARNING", "HINT", 3),
            legacy("INFORMATION", "HINT", 4),
        ]);
        let objects = source(Some(list.clone()), None).gql_status_objects();
        let order: Vec<(&str, Option<i64>)> = objects
            .iter()
            .map(|o| (o.gql_status.as_str(), o.position.map(|p| p.line)))
            .collect();
        // Warnings, then the success, then informational; equal ones keep the server's order.
        assert_eq!(
            order,
            [
                ("01N42", Some(1)),
                ("01N42", Some(3)),
                ("00000", None),
                ("03N42", Some(2)),
                ("03N42", Some(4)),
            ]
        );
        let warning = &objects[0];
        assert!(warning.is_notification);
        assert_eq!(warning.status_description, "description 1");
        assert_eq!(warning.raw_severity.as_deref(), Some("WARNING"));
        assert_eq!(warning.classification, NotificationCategory::Hint);
        let mut record = default_record();
        record.insert("_classification", s("HINT"));
        record.insert("_severity", s("WARNING"));
        record.insert("_position", position(1));
        assert_eq!(warning.diagnostic_record, record);
        // No data comes before a warning.
        let no_data = StatusSource {
            had_record: false,
            ..source(Some(list), None)
        }
        .gql_status_objects();
        assert_eq!(no_data[0].gql_status, "02000");
        assert_eq!(no_data[1].gql_status, "01N42");
    }

    #[test]
    fn notifications_missing_fields_get_the_python_defaults() {
        let warning = map(&[("severity", s("WARNING")), ("description", s(""))]);
        let bare = map(&[]);
        let odd = map(&[("severity", s("BANANA")), ("category", Value::Integer(1))]);
        let objects =
            source(Some(Value::List(vec![warning, bare, odd])), None).gql_status_objects();
        assert_eq!(objects[0].gql_status, "01N42");
        assert_eq!(objects[0].status_description, "warn: unknown warning");
        let bare = &objects[2];
        assert_eq!(bare.gql_status, "03N42");
        assert_eq!(bare.status_description, "info: unknown notification");
        assert_eq!(bare.raw_severity, None);
        assert_eq!(bare.raw_classification, None);
        assert_eq!(bare.position, None);
        assert_eq!(bare.diagnostic_record, default_record());
        assert!(bare.is_notification);
        let odd = &objects[3];
        assert_eq!(odd.gql_status, "03N42");
        assert_eq!(odd.severity, NotificationSeverity::Unknown);
        assert_eq!(odd.raw_severity.as_deref(), Some("BANANA"));
        // A category that is not text: kept in the record, but no classification.
        assert_eq!(odd.raw_classification, None);
        assert_eq!(
            odd.diagnostic_record.get("_classification"),
            Some(&Value::Integer(1))
        );
    }

    fn gql_status(status: &str, code: Option<&str>, record: Option<Value>) -> Value {
        let mut entries = vec![
            ("gql_status", s(status)),
            ("status_description", s(&format!("described {status}"))),
            ("description", s("the notification description")),
            ("title", s("a title")),
        ];
        if let Some(code) = code {
            entries.push(("neo4j_code", s(code)));
        }
        if let Some(record) = record {
            entries.push(("diagnostic_record", record));
        }
        map(&entries)
    }

    #[test]
    fn statuses_are_taken_as_sent_with_default_diagnostic_entries() {
        let record = map(&[
            ("OPERATION", s("SOME_OP")),
            ("_severity", s("WARNING")),
            ("_classification", s("ANYCAT")),
            ("_position", position(2)),
            ("_🤡", s("🎈")),
        ]);
        let statuses = Value::List(vec![
            gql_status(
                "01N01",
                Some("Neo.ClientNotification.Foo.Bar"),
                Some(record),
            ),
            gql_status("00000", None, None),
            gql_status("03N01", Some(""), Some(s("not a map"))),
            s("garbage"),
        ]);
        let objects = StatusSource {
            version: (5, 6),
            ..source(None, Some(statuses))
        }
        .gql_status_objects();
        let order: Vec<&str> = objects.iter().map(|o| o.gql_status.as_str()).collect();
        assert_eq!(order, ["01N01", "00000", "03N01", ""], "the server's order");
        let warning = &objects[0];
        assert!(warning.is_notification);
        assert_eq!(warning.status_description, "described 01N01");
        assert_eq!(warning.severity, NotificationSeverity::Warning);
        assert_eq!(warning.classification, NotificationCategory::Unknown);
        assert_eq!(warning.raw_classification.as_deref(), Some("ANYCAT"));
        assert_eq!(warning.position.map(|p| p.line), Some(2));
        assert_eq!(
            warning.diagnostic_record.get("OPERATION"),
            Some(&s("SOME_OP"))
        );
        assert_eq!(
            warning.diagnostic_record.get("OPERATION_CODE"),
            Some(&s("0"))
        );
        assert_eq!(warning.diagnostic_record.get("_🤡"), Some(&s("🎈")));
        assert_eq!(objects[1].diagnostic_record, default_record());
        assert!(!objects[1].is_notification);
        // An empty neo4j_code is no notification; a diagnostic record that is not a map is empty.
        assert!(!objects[2].is_notification);
        assert!(objects[2].diagnostic_record.is_empty());
        assert_eq!(objects[3].status_description, "");
    }

    #[test]
    fn with_statuses_the_notifications_are_those_with_a_code() {
        let record = map(&[
            ("_severity", s("WARNING")),
            ("_classification", s("GENERIC")),
            ("_position", position(1)),
        ]);
        let statuses = Value::List(vec![
            gql_status("02000", None, None),
            gql_status(
                "01N01",
                Some("Neo.ClientNotification.Foo.Bar"),
                Some(record),
            ),
        ]);
        let at = |version| {
            StatusSource {
                version,
                ..source(None, Some(statuses.clone()))
            }
            .notifications()
            .unwrap()
        };
        let notifications = at((5, 6));
        assert_eq!(notifications.len(), 1);
        let notification = &notifications[0];
        assert_eq!(notification.code, "Neo.ClientNotification.Foo.Bar");
        assert_eq!(notification.title, "a title");
        assert_eq!(notification.description, "the notification description");
        assert_eq!(notification.severity_level, NotificationSeverity::Warning);
        assert_eq!(notification.category, NotificationCategory::Generic);
        assert_eq!(notification.raw_category, "GENERIC");
        assert_eq!(notification.position.map(|p| p.column), Some(9));
        // Bolt 5.5 statuses have no separate notification description.
        assert_eq!(at((5, 5))[0].description, "described 01N01");
    }
}
