//! The summary of a finished result.

use std::time::Duration;

use quiver_bolt::metadata;
use quiver_bolt::value::{Map, Value};

use crate::error::{Error, Result};
use crate::notification::{GqlStatusObject, Notification, StatusSource};

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
    /// Time until the first record was available (`t_first`).
    pub result_available_after: Option<Duration>,
    /// Time to consume the result on the server (`t_last`).
    pub result_consumed_after: Option<Duration>,
    /// The server that ran the query.
    pub server: ServerInfo,
    /// The database the query ran against (`db`).
    pub database: Option<String>,
    /// What [`notifications`](Self::notifications) and
    /// [`gql_status_objects`](Self::gql_status_objects) are made of (on demand: most callers
    /// never look).
    statuses: StatusSource,
}

/// The query type of a summary's metadata (`end`, the last SUCCESS's). Fails on a type this
/// driver does not know, as the Python driver does.
pub(crate) fn query_type(end: &Map) -> Result<Option<QueryType>> {
    match metadata::query_type(end) {
        Some("r") => Ok(Some(QueryType::ReadOnly)),
        Some("rw") => Ok(Some(QueryType::ReadWrite)),
        Some("w") => Ok(Some(QueryType::WriteOnly)),
        Some("s") => Ok(Some(QueryType::SchemaWrite)),
        Some(other) => Err(Error::Protocol(format!(
            "the server sent the unknown query type {other:?} in a summary \
             (known: \"r\", \"rw\", \"w\", \"s\"); a newer driver may know it"
        ))),
        None => match end.get("type") {
            Some(other) => Err(Error::Protocol(format!(
                "the server sent the query type as {other:?}, not as text"
            ))),
            None => Ok(None),
        },
    }
}

impl ResultSummary {
    /// The summary of a result: `run` and `end` are the metadata of RUN's and the last PULL's
    /// (or DISCARD's) SUCCESS, `query_type` what [`query_type`] made of `end`; `had_record`
    /// whether any record arrived.
    pub(crate) fn new(
        query: String,
        parameters: Map,
        run: &Map,
        mut end: Map,
        query_type: Option<QueryType>,
        server: ServerInfo,
        had_record: bool,
    ) -> Self {
        let millis = |v: Option<i64>| {
            v.filter(|ms| *ms >= 0)
                .map(|ms| Duration::from_millis(ms.unsigned_abs()))
        };
        let statuses = StatusSource {
            notifications: end.remove("notifications"),
            statuses: end.remove("statuses"),
            version: server.protocol_version,
            had_key: metadata::fields(run).is_some_and(|fields| !fields.is_empty()),
            had_record,
        };
        ResultSummary {
            query,
            parameters,
            query_type,
            counters: metadata::stats(&end)
                .map(Counters::from_stats)
                .unwrap_or_default(),
            plan: metadata::plan(&end).cloned(),
            profile: metadata::profile(&end).cloned(),
            result_available_after: millis(metadata::t_first(run)),
            result_consumed_after: millis(metadata::t_last(&end)),
            server,
            database: metadata::db(&end).map(str::to_owned),
            statuses,
        }
    }

    /// The notifications (the Python driver's `summary_notifications`, with its
    /// `notifications`' `None`): the server's `notifications` if it sent that list (also when
    /// empty), else the GQL status objects that carry a Neo4j code (Bolt 5.6+); `None` when the
    /// server sent no `notifications` and no status is a notification.
    ///
    /// Built on each call from the summary's raw data; keep the result if you need it twice.
    pub fn notifications(&self) -> Option<Vec<Notification>> {
        self.statuses.notifications()
    }

    /// The GQL status objects: the server's `statuses` (Bolt 5.6+) as sent, or — for older
    /// servers — made from the notifications plus one status for the result (`00000` success,
    /// `02000` no data, `00001` omitted result), no data first, then warnings, success and
    /// informational (see [the module docs](crate::notification) for the rules). Never empty on
    /// servers before Bolt 5.6.
    ///
    /// Built on each call from the summary's raw data; keep the result if you need it twice.
    pub fn gql_status_objects(&self) -> Vec<GqlStatusObject> {
        self.statuses.gql_status_objects()
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

    fn server(protocol_version: (u8, u8)) -> ServerInfo {
        ServerInfo {
            address: "localhost:7687".into(),
            agent: "Neo4j/5.26.0".into(),
            protocol_version,
        }
    }

    #[test]
    fn an_unknown_query_type_is_a_protocol_error() {
        for bad in [Value::String("wr".into()), Value::Integer(1)] {
            let mut end = Map::new();
            end.insert("type", bad);
            let result = query_type(&end);
            assert!(matches!(result, Err(Error::Protocol(_))), "{result:?}");
        }
        let mut end = Map::new();
        end.insert("type", Value::String("s".into()));
        let kind = query_type(&end).unwrap();
        assert_eq!(kind, Some(QueryType::SchemaWrite));
        let summary = ResultSummary::new(
            String::new(),
            Map::new(),
            &Map::new(),
            end,
            kind,
            server((4, 4)),
            false,
        );
        assert_eq!(summary.query_type, Some(QueryType::SchemaWrite));
    }

    #[test]
    fn notifications_and_statuses_come_from_the_end_of_the_stream() {
        let mut run = Map::new();
        run.insert("fields", Value::List(vec![Value::String("n".into())]));
        let mut end = Map::new();
        end.insert("notifications", Value::List(vec![]));
        let summary = ResultSummary::new(
            String::new(),
            Map::new(),
            &run,
            end,
            None,
            server((5, 4)),
            false,
        );
        assert_eq!(summary.notifications(), Some(vec![]));
        let statuses = summary.gql_status_objects();
        assert_eq!(statuses.len(), 1);
        assert_eq!(
            statuses[0].gql_status, "02000",
            "columns but no record: no data"
        );
    }
}
