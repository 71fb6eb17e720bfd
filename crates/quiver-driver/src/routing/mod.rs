//! Client-side routing as plain data: routing tables and their freshness, server selection, the
//! home-database cache and the server-side-routing tracker. Time is passed in (`now`), nothing
//! here does I/O; [`Cluster`](crate::cluster::Cluster) drives it from the acquisition path.

mod home_db;
mod select;
mod table;

use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) use home_db::{HomeDbCache, HomeDbKey};
pub(crate) use select::RoundRobin;
pub(crate) use table::Table;

use crate::error::Error;

/// Counts the open connections whose server said (Bolt 5.8 HELLO hint `ssr.enabled`) that it
/// routes queries itself, and those that did not. The home-database cache is only used while
/// every open connection has server-side routing: a guessed database then reaches the right
/// server whatever the guess. A mixed or upgrading cluster turns it off.
#[derive(Debug, Default)]
pub(crate) struct SsrTracker {
    with: AtomicUsize,
    without: AtomicUsize,
}

impl SsrTracker {
    /// A connection opened.
    pub(crate) fn opened(&self, ssr_enabled: bool) {
        self.counter(ssr_enabled).fetch_add(1, Ordering::Relaxed);
    }

    /// A connection counted by [`opened`](Self::opened) closed.
    pub(crate) fn closed(&self, ssr_enabled: bool) {
        let _ = self
            .counter(ssr_enabled)
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    fn counter(&self, ssr_enabled: bool) -> &AtomicUsize {
        if ssr_enabled {
            &self.with
        } else {
            &self.without
        }
    }

    /// Whether some open connection has server-side routing and none lacks it.
    pub(crate) fn enabled(&self) -> bool {
        self.with.load(Ordering::Relaxed) > 0 && self.without.load(Ordering::Relaxed) == 0
    }
}

/// Whether `error`, met while asking a router for a table, ends discovery at once instead of
/// trying the next router: a mistake of the client (an unknown database, bad bookmarks, a
/// malformed request, a security failure other than an expired authorization), which every
/// router would answer the same way — the list of the official drivers — or the driver's own
/// end (closed, out of time, misconfigured).
pub(crate) fn fatal_during_discovery(error: &Error) -> bool {
    match error {
        Error::Server(server) => {
            matches!(
                server.code.as_str(),
                "Neo.ClientError.Database.DatabaseNotFound"
                    | "Neo.ClientError.Transaction.InvalidBookmark"
                    | "Neo.ClientError.Transaction.InvalidBookmarkMixture"
                    | "Neo.ClientError.Statement.TypeError"
                    | "Neo.ClientError.Statement.ArgumentError"
                    | "Neo.ClientError.Request.Invalid"
            ) || (server.code.starts_with("Neo.ClientError.Security.")
                && server.code != "Neo.ClientError.Security.AuthorizationExpired")
        }
        Error::ServiceUnavailable { .. }
        | Error::SessionExpired(_)
        | Error::Protocol(_)
        | Error::Routing(_)
        | Error::Io(_) => false,
        _ => true,
    }
}

/// Whether acquiring a connection from `error`'s server failed because the server cannot be
/// reached (or is broken): the server is forgotten and another one picked.
pub(crate) fn is_unreachable(error: &Error) -> bool {
    matches!(
        error,
        Error::ServiceUnavailable { .. } | Error::SessionExpired(_) | Error::Protocol(_)
    )
}

/// What a server failure says about the server that sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureVerdict {
    /// Nothing about the cluster.
    None,
    /// The server is not the database's writer (any more): forget it as that database's
    /// writer only.
    NotWriter,
    /// The database is unavailable on that server: forget the server.
    Unavailable,
}

impl FailureVerdict {
    pub(crate) fn of(code: &str) -> Self {
        match code {
            "Neo.ClientError.Cluster.NotALeader"
            | "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase" => FailureVerdict::NotWriter,
            "Neo.TransientError.General.DatabaseUnavailable" => FailureVerdict::Unavailable,
            _ => FailureVerdict::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ServerError;

    #[test]
    fn the_cache_needs_every_connection_to_route_server_side() {
        let ssr = SsrTracker::default();
        assert!(!ssr.enabled(), "no connection: nothing known");
        ssr.opened(true);
        assert!(ssr.enabled());
        ssr.opened(false);
        assert!(!ssr.enabled(), "a mixed cluster");
        ssr.closed(false);
        assert!(ssr.enabled());
        ssr.closed(true);
        ssr.closed(true);
        assert!(!ssr.enabled());
    }

    #[test]
    fn client_mistakes_end_discovery_other_failures_try_the_next_router() {
        let server = |code: &str| Error::from(ServerError::new(code, "m"));
        for fatal in [
            "Neo.ClientError.Database.DatabaseNotFound",
            "Neo.ClientError.Transaction.InvalidBookmark",
            "Neo.ClientError.Transaction.InvalidBookmarkMixture",
            "Neo.ClientError.Statement.TypeError",
            "Neo.ClientError.Statement.ArgumentError",
            "Neo.ClientError.Request.Invalid",
            "Neo.ClientError.Security.Forbidden",
            "Neo.ClientError.Security.Unauthorized",
        ] {
            assert!(fatal_during_discovery(&server(fatal)), "{fatal}");
        }
        for not_fatal in [
            "Neo.ClientError.Security.AuthorizationExpired",
            "Neo.ClientError.Procedure.ProcedureNotFound",
            "Neo.TransientError.General.DatabaseUnavailable",
            "Neo.DatabaseError.General.UnknownError",
        ] {
            assert!(!fatal_during_discovery(&server(not_fatal)), "{not_fatal}");
        }
        assert!(!fatal_during_discovery(&Error::service_unavailable(
            "a:1", "refused", None
        )));
        assert!(!fatal_during_discovery(&Error::Protocol("garbage".into())));
        assert!(fatal_during_discovery(&Error::DriverClosed));
    }

    #[test]
    fn failures_that_change_the_cluster_view() {
        assert_eq!(
            FailureVerdict::of("Neo.ClientError.Cluster.NotALeader"),
            FailureVerdict::NotWriter
        );
        assert_eq!(
            FailureVerdict::of("Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"),
            FailureVerdict::NotWriter
        );
        assert_eq!(
            FailureVerdict::of("Neo.TransientError.General.DatabaseUnavailable"),
            FailureVerdict::Unavailable
        );
        assert_eq!(
            FailureVerdict::of("Neo.ClientError.General.DatabaseUnavailable"),
            FailureVerdict::None
        );
    }
}
