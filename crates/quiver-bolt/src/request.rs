//! Requests: what the client role sends ([`Request`]) and what travels on the wire, one Bolt
//! message at a time ([`ClientMessage`], what the server role reads).

use std::time::Duration;

use crate::config::{BoltAgent, ConnectionConfig, NotificationFilter};
use crate::value::Map;
use crate::version::Version;

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

/// HELLO's content that is not in the [`ConnectionConfig`].
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

/// One request message as it travels between client and server: what the client role writes
/// for a [`Request`] and what the server role ([`crate::server`]) decodes.
///
/// It differs from [`Request`] only where the client API bundles several things: a
/// [`Request::Hello`] becomes a [`ClientMessage::Hello`] carrying everything the HELLO message
/// holds (user agent, routing context, bolt agent … from the [`ConnectionConfig`]), followed on
/// Bolt 5.1+ by a separate [`ClientMessage::Logon`] ([`ClientMessage::from_request`] does this).
/// Every other variant holds the same payload as its [`Request`] twin.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClientMessage {
    /// HELLO (`01`).
    Hello(HelloMessage),
    /// LOGON (`6A`, 5.1+).
    Logon(AuthToken),
    /// LOGOFF (`6B`, 5.1+).
    Logoff,
    /// GOODBYE (`02`): the client is closing the connection; no response.
    Goodbye,
    /// RESET (`0F`).
    Reset,
    /// RUN (`10`).
    Run(Run),
    /// BEGIN (`11`).
    Begin(TxExtra),
    /// COMMIT (`12`).
    Commit,
    /// ROLLBACK (`13`).
    Rollback,
    /// DISCARD (`2F`): `n` records (−1 = all) of stream `qid` (−1 = the last one).
    Discard {
        /// How many records (−1 = all).
        n: i64,
        /// Which stream (−1 = the last one opened).
        qid: i64,
    },
    /// PULL (`3F`): `n` records (−1 = all) of stream `qid` (−1 = the last one).
    Pull {
        /// How many records (−1 = all).
        n: i64,
        /// Which stream (−1 = the last one opened).
        qid: i64,
    },
    /// ROUTE (`66`).
    Route(Route),
    /// TELEMETRY (`54`, 5.4+).
    Telemetry(TelemetryApi),
}

impl ClientMessage {
    /// The Bolt name of the message, e.g. `"RUN"`.
    pub fn name(&self) -> &'static str {
        crate::message::request_name(self.tag()).unwrap_or("?")
    }

    /// The message's tag byte, e.g. `0x10` for RUN.
    pub fn tag(&self) -> u8 {
        use crate::message::tag;
        match self {
            ClientMessage::Hello(_) => tag::HELLO,
            ClientMessage::Logon(_) => tag::LOGON,
            ClientMessage::Logoff => tag::LOGOFF,
            ClientMessage::Goodbye => tag::GOODBYE,
            ClientMessage::Reset => tag::RESET,
            ClientMessage::Run(_) => tag::RUN,
            ClientMessage::Begin(_) => tag::BEGIN,
            ClientMessage::Commit => tag::COMMIT,
            ClientMessage::Rollback => tag::ROLLBACK,
            ClientMessage::Discard { .. } => tag::DISCARD,
            ClientMessage::Pull { .. } => tag::PULL,
            ClientMessage::Route(_) => tag::ROUTE,
            ClientMessage::Telemetry(_) => tag::TELEMETRY,
        }
    }

    /// Appends the message's PackStream bytes (unchunked) for the Bolt version of `ctx`, as the
    /// client role writes it. Fails for options the version cannot carry (e.g. notification
    /// filters before 5.2) and values that cannot be sent.
    pub fn encode(
        &self,
        ctx: &crate::value::ValueContext,
        out: &mut impl bytes::BufMut,
    ) -> Result<(), crate::BoltError> {
        crate::message::encode_request(out, self, ctx)
    }

    /// The messages a [`Connection`](crate::Connection) with `config` writes for `request` on
    /// `version`: one, or HELLO + LOGON for [`Request::Hello`] on Bolt 5.1+. (Options the
    /// version cannot carry, e.g. notification filters before 5.2, are refused when the
    /// message is encoded.)
    pub fn from_request(
        request: &Request,
        config: &ConnectionConfig,
        version: Version,
    ) -> Vec<ClientMessage> {
        vec![match request {
            Request::Hello(hello) => {
                let message = ClientMessage::Hello(HelloMessage {
                    user_agent: config.user_agent.clone(),
                    auth: (version < Version::V5_1).then(|| hello.auth.clone()),
                    routing: config.routing.clone(),
                    patch_bolt: if version == Version::V4_4 && config.utc_patch {
                        vec!["utc".to_owned()]
                    } else {
                        Vec::new()
                    },
                    notifications: config.notifications.clone(),
                    bolt_agent: (version >= Version::V5_3).then(|| config.bolt_agent.clone()),
                });
                if version >= Version::V5_1 {
                    return vec![message, ClientMessage::Logon(hello.auth.clone())];
                }
                message
            }
            Request::Logon(auth) => ClientMessage::Logon(auth.clone()),
            Request::Logoff => ClientMessage::Logoff,
            Request::Goodbye => ClientMessage::Goodbye,
            Request::Reset => ClientMessage::Reset,
            Request::Run(run) => ClientMessage::Run(run.clone()),
            Request::Begin(extra) => ClientMessage::Begin(extra.clone()),
            Request::Commit => ClientMessage::Commit,
            Request::Rollback => ClientMessage::Rollback,
            Request::Discard { n, qid } => ClientMessage::Discard { n: *n, qid: *qid },
            Request::Pull { n, qid } => ClientMessage::Pull { n: *n, qid: *qid },
            Request::Route(route) => ClientMessage::Route(route.clone()),
            Request::Telemetry(api) => ClientMessage::Telemetry(*api),
        }]
    }
}

/// Everything a HELLO message carries. Empty / `None` fields are not sent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HelloMessage {
    /// `user_agent`, e.g. `"quiver/0.1.0"` (mandatory).
    pub user_agent: String,
    /// The credentials: inside HELLO on Bolt 4.4/5.0 only (LOGON carries them on 5.1+, and a
    /// server ignores them in a 5.1+ HELLO).
    pub auth: Option<AuthToken>,
    /// `routing`: the routing context (`None`: a direct connection).
    pub routing: Option<Map>,
    /// `patch_bolt` (Bolt 4.4): e.g. `["utc"]`.
    pub patch_bolt: Vec<String>,
    /// Connection-wide notification filters (Bolt 5.2+).
    pub notifications: NotificationFilter,
    /// `bolt_agent` (Bolt 5.3+, where it is mandatory).
    pub bolt_agent: Option<BoltAgent>,
}

impl TelemetryApi {
    /// The API for its wire number (`0`–`3`).
    pub fn from_number(number: i64) -> Option<TelemetryApi> {
        Some(match number {
            0 => TelemetryApi::ManagedTransaction,
            1 => TelemetryApi::UnmanagedTransaction,
            2 => TelemetryApi::AutoCommit,
            3 => TelemetryApi::DriverLevel,
            _ => return None,
        })
    }
}
