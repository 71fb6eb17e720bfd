//! Requests a client sends.

use std::time::Duration;

use crate::config::NotificationFilter;
use crate::value::Map;

/// A request to the server. Pass it to [`Connection::send`](crate::Connection::send).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// HELLO with authentication. On Bolt 4.4/5.0 the auth goes inside HELLO; on 5.1+ the core
    /// sends HELLO followed by LOGON. Either way it is answered by one
    /// [`Event::Success`](crate::Event::Success) (HELLO's and LOGON's metadata merged) followed by
    /// [`Event::Ready`](crate::Event::Ready), or by one [`Event::Failure`](crate::Event::Failure)
    /// after which the connection is defunct.
    Hello(Hello),
    /// LOGON (5.1+): authenticate again after [`Request::Logoff`].
    Logon(AuthToken),
    /// LOGOFF (5.1+): forget the current authentication.
    Logoff,
    /// GOODBYE: the connection is closed after these bytes; no response.
    Goodbye,
    /// RESET: abandon everything, clear a FAILED state.
    Reset,
    /// RUN a query.
    Run(Run),
    /// BEGIN an explicit transaction.
    Begin(TxExtra),
    /// COMMIT the open transaction.
    Commit,
    /// ROLLBACK the open transaction.
    Rollback,
    /// DISCARD `n` records (−1 = all) of the stream `qid` (−1 = the last one).
    Discard {
        /// How many records (−1 = all).
        n: i64,
        /// Which stream (−1 = the last one opened).
        qid: i64,
    },
    /// PULL `n` records (−1 = all) of the stream `qid` (−1 = the last one).
    Pull {
        /// How many records (−1 = all).
        n: i64,
        /// Which stream (−1 = the last one opened).
        qid: i64,
    },
    /// ROUTE: fetch a routing table.
    Route(Route),
    /// TELEMETRY (5.4+): which driver API is being used. Send it only when the server's
    /// `telemetry.enabled` hint is true ([`ServerInfo::telemetry_enabled`](crate::ServerInfo)).
    Telemetry(TelemetryApi),
}

impl Request {
    /// The Bolt name of the request, e.g. `"RUN"`.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Hello(_) => "HELLO",
            Request::Logon(_) => "LOGON",
            Request::Logoff => "LOGOFF",
            Request::Goodbye => "GOODBYE",
            Request::Reset => "RESET",
            Request::Run(_) => "RUN",
            Request::Begin(_) => "BEGIN",
            Request::Commit => "COMMIT",
            Request::Rollback => "ROLLBACK",
            Request::Discard { .. } => "DISCARD",
            Request::Pull { .. } => "PULL",
            Request::Route(_) => "ROUTE",
            Request::Telemetry(_) => "TELEMETRY",
        }
    }

    /// `PULL {n: -1}` of the last stream.
    pub fn pull_all() -> Self {
        Request::Pull { n: -1, qid: -1 }
    }

    /// `DISCARD {n: -1}` of the last stream.
    pub fn discard_all() -> Self {
        Request::Discard { n: -1, qid: -1 }
    }

    /// `RUN query parameters {}`.
    pub fn run(query: impl Into<String>, parameters: Map) -> Self {
        Request::Run(Run {
            query: query.into(),
            parameters,
            extra: TxExtra::default(),
        })
    }
}

/// HELLO's content that is not in the [`ConnectionConfig`](crate::ConnectionConfig).
#[derive(Debug, Clone, PartialEq)]
pub struct Hello {
    /// The credentials.
    pub auth: AuthToken,
}

impl Hello {
    /// A HELLO authenticating with `auth`.
    pub fn new(auth: AuthToken) -> Self {
        Hello { auth }
    }
}

/// Credentials: the auth map of HELLO (≤ 5.0) or LOGON (5.1+).
#[derive(Clone, PartialEq)]
pub struct AuthToken {
    /// `scheme`: `"basic"`, `"bearer"`, `"kerberos"`, `"none"` or a custom scheme.
    pub scheme: String,
    /// `principal` (the user name), if any.
    pub principal: Option<String>,
    /// `credentials` (password, token or ticket), if any. Never printed by `Debug`.
    pub credentials: Option<String>,
    /// `realm`, if any.
    pub realm: Option<String>,
    /// `parameters` for custom schemes (sent only when not empty).
    pub parameters: Map,
}

impl std::fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthToken")
            .field("scheme", &self.scheme)
            .field("principal", &self.principal)
            .field("credentials", &self.credentials.as_ref().map(|_| "*******"))
            .field("realm", &self.realm)
            .field("parameters", &self.parameters)
            .finish()
    }
}

impl AuthToken {
    /// User name and password.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        AuthToken {
            scheme: "basic".into(),
            principal: Some(user.into()),
            credentials: Some(password.into()),
            realm: None,
            parameters: Map::new(),
        }
    }
    /// User name, password and realm.
    pub fn basic_with_realm(
        user: impl Into<String>,
        password: impl Into<String>,
        realm: impl Into<String>,
    ) -> Self {
        AuthToken {
            realm: Some(realm.into()),
            ..AuthToken::basic(user, password)
        }
    }
    /// A bearer token (SSO).
    pub fn bearer(token: impl Into<String>) -> Self {
        AuthToken {
            scheme: "bearer".into(),
            principal: None,
            credentials: Some(token.into()),
            realm: None,
            parameters: Map::new(),
        }
    }
    /// A base64-encoded Kerberos ticket.
    pub fn kerberos(base64_ticket: impl Into<String>) -> Self {
        AuthToken {
            scheme: "kerberos".into(),
            principal: Some(String::new()),
            credentials: Some(base64_ticket.into()),
            realm: None,
            parameters: Map::new(),
        }
    }
    /// No authentication (servers with auth disabled).
    pub fn none() -> Self {
        AuthToken {
            scheme: "none".into(),
            principal: None,
            credentials: None,
            realm: None,
            parameters: Map::new(),
        }
    }
    /// A custom scheme. Empty `credentials` and `realm` are left out of HELLO/LOGON (as the
    /// official drivers do: servers treat a missing and an empty field alike); `principal` is
    /// kept even when empty, which servers before 4.4 require.
    pub fn custom(
        scheme: impl Into<String>,
        principal: Option<String>,
        credentials: Option<String>,
        realm: Option<String>,
        parameters: Map,
    ) -> Self {
        AuthToken {
            scheme: scheme.into(),
            principal,
            credentials: credentials.filter(|c| !c.is_empty()),
            realm: realm.filter(|r| !r.is_empty()),
            parameters,
        }
    }
}

#[cfg(test)]
mod custom_auth_tests {
    use super::*;

    #[test]
    fn empty_custom_credentials_and_realm_are_left_out() {
        let token = AuthToken::custom(
            "minimal-scheme",
            Some(String::new()),
            Some(String::new()),
            Some(String::new()),
            Map::new(),
        );
        assert_eq!(token.principal.as_deref(), Some(""));
        assert_eq!(token.credentials, None);
        assert_eq!(token.realm, None);
        let token = AuthToken::custom("s", None, Some("c".into()), Some("r".into()), Map::new());
        assert_eq!(token.credentials.as_deref(), Some("c"));
        assert_eq!(token.realm.as_deref(), Some("r"));
    }
}

/// RUN: a query, its parameters, and (outside explicit transactions) the transaction options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Run {
    /// The Cypher text.
    pub query: String,
    /// The parameters.
    pub parameters: Map,
    /// Transaction options; leave default inside an explicit transaction (they belong to BEGIN).
    pub extra: TxExtra,
}

/// Read or write access (`mode` in RUN/BEGIN; write is the default and is not sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum AccessMode {
    /// Write (default).
    #[default]
    Write,
    /// Read: `mode: "r"`.
    Read,
}

/// The `extra` map of RUN (auto-commit) and BEGIN. Empty / `None` fields are not sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TxExtra {
    /// `bookmarks` to wait for.
    pub bookmarks: Vec<String>,
    /// `tx_timeout`, sent in whole milliseconds (a non-zero timeout below 1 ms becomes 1 ms,
    /// because 0 means "no timeout" to the server).
    pub tx_timeout: Option<Duration>,
    /// `tx_metadata`.
    pub tx_metadata: Map,
    /// `mode`.
    pub mode: AccessMode,
    /// `db`: the database (default: the user's home database).
    pub db: Option<String>,
    /// `imp_user`: the user to impersonate.
    pub imp_user: Option<String>,
    /// Notification filters for this query or transaction (Bolt 5.2+).
    pub notifications: NotificationFilter,
}

/// ROUTE: ask for the routing table of a database.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Route {
    /// The routing context (as in HELLO; `address` at least).
    pub routing: Map,
    /// Bookmarks the routing table must reflect.
    pub bookmarks: Vec<String>,
    /// The database (`None` = the home database).
    pub db: Option<String>,
    /// The user to impersonate.
    pub imp_user: Option<String>,
}

/// The driver API a TELEMETRY message reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TelemetryApi {
    /// `0`: managed transactions (`execute_read` / `execute_write`).
    ManagedTransaction = 0,
    /// `1`: explicit (unmanaged) transactions.
    UnmanagedTransaction = 1,
    /// `2`: auto-commit transactions (`session.run`).
    AutoCommit = 2,
    /// `3`: the driver-level `execute_query`.
    DriverLevel = 3,
}
