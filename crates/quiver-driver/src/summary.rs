//! The summary of a finished result.

use std::time::Duration;

use quiver_bolt::metadata;
use quiver_bolt::value::{Map, Value};

/// Which server answered, as reported in summaries and by `Driver::get_server_info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// `host:port` the driver connected to.
    pub address: String,
    /// The server agent, e.g. `Neo4j/5.26.0`.
    pub agent: String,
    /// The negotiated Bolt version, e.g. `(5, 8)`.
    pub protocol_version: (u8, u8),
}

/// What kind of query ran, from the summary's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryType {
    /// `r`: read only.
    ReadOnly,
    /// `rw`: read and write.
    ReadWrite,
    /// `w`: write only.
    WriteOnly,
    /// `s`: schema write.
    SchemaWrite,
}

/// Update counters of a query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Nodes created.
    pub nodes_created: i64,
    /// Nodes deleted.
    pub nodes_deleted: i64,
    /// Relationships created.
    pub relationships_created: i64,
    /// Relationships deleted.
    pub relationships_deleted: i64,
    /// Properties set.
    pub properties_set: i64,
    /// Labels added.
    pub labels_added: i64,
    /// Labels removed.
    pub labels_removed: i64,
    /// Indexes added.
    pub indexes_added: i64,
    /// Indexes removed.
    pub indexes_removed: i64,
    /// Constraints added.
    pub constraints_added: i64,
    /// Constraints removed.
    pub constraints_removed: i64,
    /// System updates (administration commands on the `system` database).
    pub system_updates: i64,
    /// Whether the query changed the data (the server's flag, or any non-system counter above).
    pub contains_updates: bool,
    /// Whether the query changed the system database.
    pub contains_system_updates: bool,
}

impl Counters {
    fn from_stats(stats: &Map) -> Self {
        let int = |key: &str| stats.get(key).and_then(Value::as_int).unwrap_or(0);
        let flag = |key: &str| stats.get(key).and_then(Value::as_bool);
        let mut counters = Counters {
            nodes_created: int("nodes-created"),
            nodes_deleted: int("nodes-deleted"),
            relationships_created: int("relationships-created"),
            relationships_deleted: int("relationships-deleted"),
            properties_set: int("properties-set"),
            labels_added: int("labels-added"),
            labels_removed: int("labels-removed"),
            indexes_added: int("indexes-added"),
            indexes_removed: int("indexes-removed"),
            constraints_added: int("constraints-added"),
            constraints_removed: int("constraints-removed"),
            system_updates: int("system-updates"),
            contains_updates: false,
            contains_system_updates: false,
        };
        let any_update = [
            counters.nodes_created,
            counters.nodes_deleted,
            counters.relationships_created,
            counters.relationships_deleted,
            counters.properties_set,
            counters.labels_added,
            counters.labels_removed,
            counters.indexes_added,
            counters.indexes_removed,
            counters.constraints_added,
            counters.constraints_removed,
        ]
        .iter()
        .any(|n| *n > 0);
        counters.contains_updates = flag("contains-updates").unwrap_or(any_update);
        counters.contains_system_updates =
            flag("contains-system-updates").unwrap_or(counters.system_updates > 0);
        counters
    }
}

/// A notification or GQL status object attached to a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// The raw map as the server sent it (`code`, `title`, `description`, `severity`, `position`,
    /// … for notifications; `gql_status`, `status_description`, `diagnostic_record`, … for GQL
    /// status objects).
    pub raw: Map,
}

impl Notification {
    fn field(&self, key: &str) -> Option<&str> {
        self.raw.get(key).and_then(Value::as_str)
    }
    /// `code` (notifications) — e.g. `Neo.ClientNotification.Statement.CartesianProduct`.
    pub fn code(&self) -> Option<&str> {
        self.field("code")
    }
    /// `gql_status` (GQL status objects).
    pub fn gql_status(&self) -> Option<&str> {
        self.field("gql_status")
    }
    /// `title` or `status_description`.
    pub fn description(&self) -> Option<&str> {
        self.field("description")
            .or_else(|| self.field("status_description"))
    }
    /// `severity` (notifications) or the diagnostic record's `_severity` (GQL).
    pub fn severity(&self) -> Option<&str> {
        self.field("severity").or_else(|| {
            self.raw
                .get("diagnostic_record")
                .and_then(Value::as_map)
                .and_then(|d| d.get("_severity"))
                .and_then(Value::as_str)
        })
    }
}

/// Everything the server said about a finished query.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ResultSummary {
    /// The query text.
    pub query: String,
    /// The query parameters.
    pub parameters: Map,
    /// What kind of query it was.
    pub query_type: Option<QueryType>,
    /// Update counters.
    pub counters: Counters,
    /// The plan of an `EXPLAIN`ed query, as sent.
    pub plan: Option<Map>,
    /// The profile of a `PROFILE`d query, as sent.
    pub profile: Option<Map>,
    /// Legacy notifications (`notifications`).
    pub notifications: Vec<Notification>,
    /// GQL status objects (`statuses`, Bolt 5.6+).
    pub gql_status_objects: Vec<Notification>,
    /// Time until the first record was available (`t_first`).
    pub result_available_after: Option<Duration>,
    /// Time to consume the result on the server (`t_last`).
    pub result_consumed_after: Option<Duration>,
    /// The server that ran the query.
    pub server: ServerInfo,
    /// The database the query ran against (`db`).
    pub database: Option<String>,
}

impl ResultSummary {
    pub(crate) fn new(
        query: String,
        parameters: Map,
        run: &Map,
        end: &Map,
        server: ServerInfo,
    ) -> Self {
        let millis = |v: Option<i64>| {
            v.filter(|ms| *ms >= 0)
                .map(|ms| Duration::from_millis(ms.unsigned_abs()))
        };
        let notifications = |list: Option<&[Value]>| {
            list.unwrap_or_default()
                .iter()
                .filter_map(Value::as_map)
                .map(|raw| Notification { raw: raw.clone() })
                .collect()
        };
        ResultSummary {
            query,
            parameters,
            query_type: match metadata::query_type(end) {
                Some("r") => Some(QueryType::ReadOnly),
                Some("rw") => Some(QueryType::ReadWrite),
                Some("w") => Some(QueryType::WriteOnly),
                Some("s") => Some(QueryType::SchemaWrite),
                _ => None,
            },
            counters: metadata::stats(end)
                .map(Counters::from_stats)
                .unwrap_or_default(),
            plan: metadata::plan(end).cloned(),
            profile: metadata::profile(end).cloned(),
            notifications: notifications(metadata::notifications(end)),
            gql_status_objects: notifications(metadata::statuses(end)),
            result_available_after: millis(metadata::t_first(run)),
            result_consumed_after: millis(metadata::t_last(end)),
            server,
            database: metadata::db(end).map(str::to_owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_flags_come_from_stats() {
        let mut stats = Map::new();
        stats.insert("nodes-created", Value::Integer(2));
        stats.insert("properties-set", Value::Integer(3));
        let c = Counters::from_stats(&stats);
        assert_eq!(
            (c.nodes_created, c.properties_set, c.contains_updates),
            (2, 3, true)
        );
        let mut stats = Map::new();
        stats.insert("system-updates", Value::Integer(1));
        let c = Counters::from_stats(&stats);
        assert!(!c.contains_updates && c.contains_system_updates);
    }
}
