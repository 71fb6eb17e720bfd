//! Connection configuration.

use crate::value::Map;
use crate::version::VersionRange;

/// The `bolt_agent` sent in HELLO on Bolt 5.3+ (who is talking: product, platform, language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoltAgent {
    /// Product and version, e.g. `"quiver/0.1.0"` (mandatory).
    pub product: String,
    /// Operating system and architecture, e.g. `"Linux 6.1; x86_64"`.
    pub platform: Option<String>,
    /// Language and version, e.g. `"Rust/1.85"`.
    pub language: Option<String>,
    /// More details about the language runtime.
    pub language_details: Option<String>,
}

impl Default for BoltAgent {
    fn default() -> Self {
        BoltAgent {
            product: concat!("quiver/", env!("CARGO_PKG_VERSION")).to_owned(),
            platform: Some(format!(
                "{}; {}",
                std::env::consts::OS,
                std::env::consts::ARCH
            )),
            language: Some("Rust".to_owned()),
            language_details: None,
        }
    }
}

/// Notification filters (Bolt 5.2+): in HELLO (connection default) and in RUN/BEGIN (per query).
///
/// `None` fields are not sent (the server or connection default applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationFilter {
    /// `notifications_minimum_severity`: `"OFF"`, `"WARNING"` or `"INFORMATION"`.
    pub minimum_severity: Option<String>,
    /// Classifications (called categories before Bolt 5.5) not to report, e.g. `["HINT"]`.
    /// `Some(vec![])` explicitly disables none.
    pub disabled_classifications: Option<Vec<String>>,
}

impl NotificationFilter {
    /// Whether nothing is set (nothing is sent).
    pub fn is_empty(&self) -> bool {
        self.minimum_severity.is_none() && self.disabled_classifications.is_none()
    }
}

/// Configuration of one connection. `Clone`; build with [`Default`] and the `with_*` setters.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// `user_agent` in HELLO, e.g. `"quiver/0.1.0"`.
    pub user_agent: String,
    /// `bolt_agent` in HELLO (Bolt 5.3+).
    pub bolt_agent: BoltAgent,
    /// The largest message accepted from the server, in bytes (default 64 MiB). A larger message
    /// makes the connection defunct with [`BoltError::MessageTooLarge`](crate::BoltError): the
    /// bound on memory a hostile or broken server can make us use.
    pub max_message_size: usize,
    /// The version ranges offered, newest first (default 6.0, 5.8–5.0, 4.4).
    pub versions: Vec<VersionRange>,
    /// Whether to offer the manifest v1 handshake (Bolt 5.7+ servers) in the first slot
    /// (default true). With it, 3 slots remain for `versions`; the manifest can still pick any
    /// version of `versions`.
    pub manifest: bool,
    /// The routing context for HELLO (`routing`): `Some` for `neo4j://` URIs (the URI's query
    /// parameters plus `address`), `None` for direct `bolt://` connections.
    pub routing: Option<Map>,
    /// Connection-wide notification filters, sent in HELLO (Bolt 5.2+).
    pub notifications: NotificationFilter,
    /// Ask Bolt 4.4 servers for UTC date-times (`patch_bolt: ["utc"]`, default true).
    pub utc_patch: bool,
    /// Deliver records as [`Event::RawRecord`](crate::Event::RawRecord) (validated, decoded on
    /// access) instead of [`Event::Record`](crate::Event::Record) (decoded into `Vec<Value>`
    /// on arrival). Default false. A driver that reads a few fields of many rows saves building
    /// a value tree per row; the validation is the same, so hostile bytes are refused either way.
    pub raw_records: bool,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            user_agent: concat!("quiver/", env!("CARGO_PKG_VERSION")).to_owned(),
            bolt_agent: BoltAgent::default(),
            max_message_size: 64 * 1024 * 1024,
            versions: vec![
                VersionRange::exact(6, 0),
                VersionRange::new(5, 8, 0),
                VersionRange::exact(4, 4),
            ],
            manifest: true,
            routing: None,
            notifications: NotificationFilter::default(),
            utc_patch: true,
            raw_records: false,
        }
    }
}

impl ConnectionConfig {
    /// Sets [`user_agent`](Self::user_agent).
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
    /// Sets [`bolt_agent`](Self::bolt_agent).
    pub fn with_bolt_agent(mut self, bolt_agent: BoltAgent) -> Self {
        self.bolt_agent = bolt_agent;
        self
    }
    /// Sets [`max_message_size`](Self::max_message_size).
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
    /// Sets [`versions`](Self::versions).
    pub fn with_versions(mut self, versions: Vec<VersionRange>) -> Self {
        self.versions = versions;
        self
    }
    /// Sets [`manifest`](Self::manifest).
    pub fn with_manifest(mut self, manifest: bool) -> Self {
        self.manifest = manifest;
        self
    }
    /// Sets [`routing`](Self::routing).
    pub fn with_routing(mut self, routing: Option<Map>) -> Self {
        self.routing = routing;
        self
    }
    /// Sets [`notifications`](Self::notifications).
    pub fn with_notifications(mut self, notifications: NotificationFilter) -> Self {
        self.notifications = notifications;
        self
    }
    /// Sets [`utc_patch`](Self::utc_patch).
    pub fn with_utc_patch(mut self, utc_patch: bool) -> Self {
        self.utc_patch = utc_patch;
        self
    }
    /// Sets [`raw_records`](Self::raw_records).
    pub fn with_raw_records(mut self, raw_records: bool) -> Self {
        self.raw_records = raw_records;
        self
    }
}
