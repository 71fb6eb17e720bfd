//! Driver configuration: the URI, pool, timeouts and retry knobs.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use quiver_bolt::NotificationFilter;

use crate::auth::AuthManager;
use crate::error::{Error, Result};
use crate::tls::{ClientCertificate, TrustedCertificates};

/// The default Bolt port.
pub const DEFAULT_PORT: u16 = 7687;

/// The default of [`Config::max_message_size`]: 64 MiB, the same as the Bolt core's
/// ([`quiver_bolt::ConnectionConfig::max_message_size`]).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// How the connection is secured, from the URI scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Security {
    /// `bolt://`: plain TCP.
    Plain,
    /// `bolt+s://`: TLS, certificate verified against the trusted roots and the host name.
    Tls,
    /// `bolt+ssc://`: TLS, any certificate accepted (self-signed certificates).
    TlsTrustAny,
}

/// A parsed driver URI: `bolt://`, `bolt+s://`, `bolt+ssc://` (one server) or `neo4j://`,
/// `neo4j+s://`, `neo4j+ssc://` (a cluster, through routing).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerAddress {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port (7687 when the URI has none).
    pub port: u16,
    /// Security implied by the scheme.
    pub security: Security,
    /// `Some` for the routing schemes (`neo4j*`): the routing context, i.e. the URI's query
    /// parameters in order (`neo4j://host?region=eu` gives `[("region", "eu")]`), sent to every
    /// server in HELLO and ROUTE together with `address` (the URI's `host:port`, which the
    /// driver adds). `None` for the direct schemes (`bolt*`).
    pub routing_context: Option<Vec<(String, String)>>,
}

impl ServerAddress {
    /// Parse a URI.
    ///
    /// The routing schemes take an optional routing context as query string
    /// (`neo4j://host:7687?region=eu&policy=fast`): a key may appear once, neither keys nor
    /// values may be empty, and `address` is reserved (the driver fills it in). Direct schemes
    /// take no query string: a routing context only means something to a cluster.
    pub fn parse(uri: &str) -> Result<Self> {
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| {
            Error::Configuration(format!(
                "`{uri}` is not a URI: expected e.g. neo4j://localhost:7687 or bolt://localhost:7687"
            ))
        })?;
        let (security, routing) = match scheme.to_ascii_lowercase().as_str() {
            "bolt" => (Security::Plain, false),
            "bolt+s" => (Security::Tls, false),
            "bolt+ssc" => (Security::TlsTrustAny, false),
            "neo4j" => (Security::Plain, true),
            "neo4j+s" => (Security::Tls, true),
            "neo4j+ssc" => (Security::TlsTrustAny, true),
            other => {
                return Err(Error::Configuration(format!(
                    "unsupported URI scheme `{other}`: use neo4j://, neo4j+s://, neo4j+ssc:// (a \
                     cluster or Aura, through routing) or bolt://, bolt+s://, bolt+ssc:// (one server)"
                )));
            }
        };
        let (authority, query) = match rest.split_once('?') {
            Some((authority, query)) => (authority, Some(query)),
            None => (rest, None),
        };
        if !routing && query.is_some_and(|q| !q.is_empty()) {
            return Err(Error::Configuration(format!(
                "`{uri}`: a routing context (query string) is only allowed with neo4j:// URIs"
            )));
        }
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains('/') {
            return Err(Error::Configuration(format!(
                "`{uri}`: a Bolt URI has no path"
            )));
        }
        if authority.contains('@') {
            return Err(Error::Configuration(format!(
                "`{uri}`: credentials do not go in the URI; pass an auth token instead"
            )));
        }
        let (host, port) = split_host_port(authority).ok_or_else(|| {
            Error::Configuration(format!("`{uri}`: expected host[:port] after the scheme"))
        })?;
        let routing_context = if routing {
            Some(parse_routing_context(uri, query.unwrap_or_default())?)
        } else {
            None
        };
        Ok(ServerAddress {
            host: host.to_owned(),
            port,
            security,
            routing_context,
        })
    }

    /// Whether the URI is a routing one (`neo4j://`, `neo4j+s://`, `neo4j+ssc://`).
    pub fn is_routing(&self) -> bool {
        self.routing_context.is_some()
    }

    /// `host:port` (IPv6 hosts in brackets), as used in error messages and summaries.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A server's `host:port`: what an [`AddressResolver`] is given and returns.
///
/// `host` is a host name or an IP literal (IPv6 without brackets); it is resolved by DNS (the
/// runtime's) before connecting.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    /// Host name or IP literal (IPv6 without brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
}

impl Address {
    /// An address from its parts.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Address {
            host: host.into(),
            port,
        }
    }

    /// Parse `host`, `host:port`, `[ipv6]` or `[ipv6]:port` (port 7687 when there is none).
    pub fn parse(address: &str) -> Result<Self> {
        let (host, port) = split_host_port(address).ok_or_else(|| {
            Error::Configuration(format!(
                "`{address}` is not a server address: expected host[:port], e.g. db.example.com:7687"
            ))
        })?;
        Ok(Address::new(host, port))
    }
}

impl fmt::Display for Address {
    /// `host:port`, IPv6 hosts in brackets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(address: &str) -> Result<Self> {
        Address::parse(address)
    }
}

impl From<&ServerAddress> for Address {
    fn from(address: &ServerAddress) -> Self {
        Address::new(address.host.clone(), address.port)
    }
}

/// Maps the driver's address to the addresses to connect to (a custom resolver, like the
/// official drivers' `resolver` / `ServerAddressResolver`).
///
/// For every new connection the driver calls [`resolve`](AddressResolver::resolve) with the URI's
/// `host:port` (port 7687 filled in when the URI has none), resolves each returned address by DNS
/// and tries them in the order returned, each within the connection timeout; the first that
/// connects is used (and reported as [`ServerInfo::address`](crate::ServerInfo::address)). If
/// none connects, or none is returned, the connection fails with
/// [`Error::ServiceUnavailable`] naming every address tried. With `bolt+s://`, each address's
/// certificate is verified against that address's host name.
///
/// Closures `Fn(&Address) -> Vec<Address>` implement it. The call is synchronous and may come
/// from any task holding a driver call: keep it quick (no network round trips), like an auth
/// manager's `get_auth`.
pub trait AddressResolver: Send + Sync + 'static {
    /// The addresses to try, in order, for a connection to `address`.
    fn resolve(&self, address: &Address) -> Vec<Address>;
}

impl<F> AddressResolver for F
where
    F: Fn(&Address) -> Vec<Address> + Send + Sync + 'static,
{
    fn resolve(&self, address: &Address) -> Vec<Address> {
        self(address)
    }
}

impl fmt::Debug for dyn AddressResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressResolver")
    }
}

/// The routing context of a `neo4j://` URI's query string (`a=1&b=2`), percent-decoded, in
/// order; the checks of the official drivers (duplicate or empty keys and values, the reserved
/// `address`) are configuration errors.
fn parse_routing_context(uri: &str, query: &str) -> Result<Vec<(String, String)>> {
    let mut context: Vec<(String, String)> = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(uri, key)?, percent_decode(uri, value)?);
        let (key, value) = (key.trim().to_owned(), value.trim().to_owned());
        if key.is_empty() || value.is_empty() {
            return Err(Error::Configuration(format!(
                "`{uri}`: invalid routing context parameter `{pair}`: keys and values must not be empty"
            )));
        }
        if key == "address" {
            return Err(Error::Configuration(format!(
                "`{uri}`: the key 'address' is reserved for routing context (the driver sets it)"
            )));
        }
        if context.iter().any(|(existing, _)| *existing == key) {
            return Err(Error::Configuration(format!(
                "`{uri}`: duplicated routing context parameter `{key}`"
            )));
        }
        context.push((key, value));
    }
    Ok(context)
}

/// `%XX` escapes and `+` (a space) of a query-string part.
fn percent_decode(uri: &str, text: &str) -> Result<String> {
    let invalid = || Error::Configuration(format!("`{uri}`: invalid percent-encoding in `{text}`"));
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.bytes();
    while let Some(byte) = rest.next() {
        match byte {
            b'%' => {
                let high = rest.next().and_then(|b| (b as char).to_digit(16));
                let low = rest.next().and_then(|b| (b as char).to_digit(16));
                match (high, low) {
                    (Some(high), Some(low)) => bytes.push((high * 16 + low) as u8),
                    _ => return Err(invalid()),
                }
            }
            b'+' => bytes.push(b' '),
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid())
}

fn split_host_port(authority: &str) -> Option<(&str, u16)> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (host, after) = bracketed.split_once(']')?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || (host.contains(':') && !authority.starts_with('[')) {
        return None;
    }
    let port = match port {
        Some(port) => port.parse().ok()?,
        None => DEFAULT_PORT,
    };
    Some((host, port))
}

/// Retry policy of transaction functions (`execute_read`, `execute_write`, `execute_query`).
///
/// The delays before attempts 2, 3, … are `initial_delay`, `initial_delay × multiplier`, …, each
/// spread by ± `jitter` (a fraction), until `max_retry_time` has passed since the first attempt.
///
/// `max_retry_time` is a hard budget: no attempt starts, and no wait ends, after it. A delay that
/// would end later is shortened to end with the budget (one last attempt then); an attempt that
/// fails after the budget returns its error. An attempt that started in time may still run past
/// it, each step bounded by its own timeout (connection, acquisition, read).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryConfig {
    /// Stop retrying once this much time has passed since the first attempt (default 30 s).
    pub max_retry_time: Duration,
    /// Delay before the first retry (default 1 s).
    pub initial_delay: Duration,
    /// Factor applied to the delay after each retry (default 2).
    pub multiplier: f64,
    /// Random spread of each delay, as a fraction of it (default 0.2).
    pub jitter: f64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retry_time: Duration::from_secs(30),
            initial_delay: Duration::from_secs(1),
            multiplier: 2.0,
            jitter: 0.2,
        }
    }
}

/// Driver-wide configuration. Build with [`Config::default`] and the `with_*` setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Sent in HELLO as `user_agent` (default `quiver/<version>`).
    pub user_agent: String,
    /// Records requested per PULL (default 1000; -1 = all at once).
    pub fetch_size: i64,
    /// Maximum connections per server (default 100).
    pub max_connection_pool_size: usize,
    /// How long to wait for a free pooled connection (default 60 s).
    pub connection_acquisition_timeout: Duration,
    /// Connections older than this are closed instead of reused (default 1 h).
    pub max_connection_lifetime: Duration,
    /// Connections idle for longer than this are checked with a RESET round trip before reuse
    /// (default: `None`, no check).
    pub liveness_check_timeout: Option<Duration>,
    /// TCP connect (+ TLS handshake) timeout (default 30 s); the Bolt handshake and HELLO are
    /// bounded by the acquisition timeout, as in the official drivers.
    pub connection_timeout: Duration,
    /// Give up on a connection when the server sends nothing for this long while the driver waits
    /// for an answer (default `None`: wait as long as the server's `connection.recv_timeout_seconds`
    /// hint allows, forever without one — long queries are silent until their first record).
    pub read_timeout: Option<Duration>,
    /// TCP keep-alive (default on).
    pub keep_alive: bool,
    /// Send TELEMETRY messages (Bolt 5.4+, when the server asks for them; default on).
    pub telemetry: bool,
    /// Largest message accepted from the server, in bytes (default 64 MiB, the Bolt core's
    /// default); a larger one closes the connection with [`Error::Protocol`] naming
    /// [`with_max_message_size`](Config::with_max_message_size).
    ///
    /// The official drivers (Java, Python, Go, JavaScript) set no limit: they assemble a message
    /// of any size from its 64 KiB chunks. A limit bounds what a broken or hostile server can make
    /// the driver buffer — up to this much per connection, so the pool size times this in all —
    /// before the message is refused. 64 MiB is far above a record of ordinary values (Neo4j sends
    /// one message per record); raise it for single records carrying huge strings, byte arrays or
    /// collected lists.
    pub max_message_size: usize,
    /// Retry policy of transaction functions.
    pub retry: RetryConfig,
    /// Certificates `bolt+s://` trusts (default: the bundled Mozilla roots).
    pub trusted_certificates: TrustedCertificates,
    /// Client certificate for mutual TLS.
    pub client_certificate: Option<ClientCertificate>,
    /// Default notification filters (sent in HELLO, Bolt 5.2+).
    pub notifications: NotificationFilter,
    /// Where tokens come from (default: the token given to the driver, forever).
    pub auth_manager: Option<Arc<dyn AuthManager>>,
    /// Maps the URI's address to the addresses to connect to (default: none, the URI's address
    /// as it is). See [`with_resolver`](Config::with_resolver).
    pub resolver: Option<Arc<dyn AddressResolver>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            user_agent: concat!("quiver/", env!("CARGO_PKG_VERSION")).to_owned(),
            fetch_size: 1000,
            max_connection_pool_size: 100,
            connection_acquisition_timeout: Duration::from_secs(60),
            max_connection_lifetime: Duration::from_secs(3600),
            liveness_check_timeout: None,
            connection_timeout: Duration::from_secs(30),
            read_timeout: None,
            keep_alive: true,
            telemetry: true,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            retry: RetryConfig::default(),
            trusted_certificates: TrustedCertificates::System,
            client_certificate: None,
            notifications: NotificationFilter::default(),
            auth_manager: None,
            resolver: None,
        }
    }
}

impl Config {
    /// Set the user agent sent in HELLO.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
    /// Set the default number of records per PULL.
    pub fn with_fetch_size(mut self, fetch_size: i64) -> Self {
        self.fetch_size = fetch_size;
        self
    }
    /// Set the maximum number of connections in the pool.
    pub fn with_max_connection_pool_size(mut self, size: usize) -> Self {
        self.max_connection_pool_size = size;
        self
    }
    /// Set how long to wait for a free pooled connection.
    pub fn with_connection_acquisition_timeout(mut self, timeout: Duration) -> Self {
        self.connection_acquisition_timeout = timeout;
        self
    }
    /// Set the maximum lifetime of a connection.
    pub fn with_max_connection_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_connection_lifetime = lifetime;
        self
    }
    /// Check connections idle for longer than `idle` before reuse.
    pub fn with_liveness_check_timeout(mut self, idle: Option<Duration>) -> Self {
        self.liveness_check_timeout = idle;
        self
    }
    /// Set the connection (TCP + TLS) timeout.
    pub fn with_connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }
    /// Set the read timeout: a connection whose server sends nothing for this long while an answer
    /// is due is closed, and the call fails with [`Error::ServiceUnavailable`] (retryable).
    ///
    /// By default there is none (as in the official drivers): a server that accepts a query and
    /// goes silent then blocks the caller until the OS gives up on the socket. Bounding every wait
    /// on a silent server (the README's "Configuration" section):
    ///
    /// ```
    /// use std::time::Duration;
    /// use quiver_driver::{Config, RetryConfig};
    ///
    /// let config = Config::default()
    ///     .with_connection_timeout(Duration::from_secs(5))
    ///     .with_connection_acquisition_timeout(Duration::from_secs(10))
    ///     // Above the longest time a query of yours takes before its first record.
    ///     .with_read_timeout(Some(Duration::from_secs(20)))
    ///     .with_retry(RetryConfig {
    ///         max_retry_time: Duration::from_secs(30),
    ///         ..RetryConfig::default()
    ///     });
    /// assert_eq!(config.read_timeout, Some(Duration::from_secs(20)));
    /// ```
    pub fn with_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }
    /// Turn TCP keep-alive on or off.
    pub fn with_keep_alive(mut self, keep_alive: bool) -> Self {
        self.keep_alive = keep_alive;
        self
    }
    /// Turn telemetry on or off.
    pub fn with_telemetry(mut self, telemetry: bool) -> Self {
        self.telemetry = telemetry;
        self
    }
    /// Set the largest accepted server message, in bytes (see
    /// [`max_message_size`](Config::max_message_size); default 64 MiB).
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }
    /// Set the retry policy of transaction functions.
    pub fn with_retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Trust these certificates for `bolt+s://`.
    pub fn with_trusted_certificates(mut self, trusted: TrustedCertificates) -> Self {
        self.trusted_certificates = trusted;
        self
    }
    /// Present a client certificate (mutual TLS).
    pub fn with_client_certificate(mut self, certificate: ClientCertificate) -> Self {
        self.client_certificate = Some(certificate);
        self
    }
    /// Set the default notification filters.
    pub fn with_notifications(mut self, notifications: NotificationFilter) -> Self {
        self.notifications = notifications;
        self
    }

    /// Take tokens from `manager` (e.g. [`ExpiringAuthManager::bearer`](crate::ExpiringAuthManager::bearer))
    /// instead of the driver's fixed token.
    pub fn with_auth_manager(mut self, manager: Arc<dyn AuthManager>) -> Self {
        self.auth_manager = Some(manager);
        self
    }

    /// Connect to the addresses `resolver` returns instead of the URI's (see [`AddressResolver`]):
    /// it is called for every new connection with the URI's `host:port`, and the driver uses the
    /// first returned address that accepts a connection, trying each within the connection
    /// timeout.
    ///
    /// ```
    /// use quiver_driver::{Address, Config};
    ///
    /// // `bolt://graph.internal` goes to one of two replicas, the first one first.
    /// let config = Config::default().with_resolver(|address: &Address| {
    ///     if address.host == "graph.internal" {
    ///         vec![
    ///             Address::new("10.0.0.1", address.port),
    ///             Address::new("10.0.0.2", address.port),
    ///         ]
    ///     } else {
    ///         vec![address.clone()]
    ///     }
    /// });
    /// # assert!(config.resolver.is_some());
    /// ```
    pub fn with_resolver(mut self, resolver: impl AddressResolver) -> Self {
        self.resolver = Some(Arc::new(resolver));
        self
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.max_connection_pool_size == 0 {
            return Err(Error::Configuration(
                "max_connection_pool_size must be at least 1".into(),
            ));
        }
        if self.fetch_size == 0 || self.fetch_size < -1 {
            return Err(Error::Configuration(
                "fetch_size must be positive, or -1 for all records".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.retry.jitter) || self.retry.multiplier < 1.0 {
            return Err(Error::Configuration(
                "retry jitter must be in 0..=1 and the multiplier at least 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_message_size_limit_is_the_cores() {
        assert_eq!(Config::default().max_message_size, 64 * 1024 * 1024);
        assert_eq!(
            Config::default().max_message_size,
            quiver_bolt::ConnectionConfig::default().max_message_size
        );
    }

    #[test]
    fn parses_bolt_uris() {
        let a = ServerAddress::parse("bolt://localhost").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.security),
            ("localhost", 7687, Security::Plain)
        );
        let a = ServerAddress::parse("bolt+s://db.example.com:7688/").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.security),
            ("db.example.com", 7688, Security::Tls)
        );
        let a = ServerAddress::parse("BOLT+SSC://127.0.0.1:1").unwrap();
        assert_eq!(a.security, Security::TlsTrustAny);
        let a = ServerAddress::parse("bolt://[::1]:7000").unwrap();
        assert_eq!((a.host.as_str(), a.port), ("::1", 7000));
        assert_eq!(a.authority(), "[::1]:7000");
        let a = ServerAddress::parse("bolt://[::1]").unwrap();
        assert_eq!(a.port, 7687);
    }

    #[test]
    fn routing_uris_carry_their_routing_context() {
        let a = ServerAddress::parse("neo4j://h:9000?region=china&policy=my_policy").unwrap();
        assert_eq!(
            (a.host.as_str(), a.port, a.security),
            ("h", 9000, Security::Plain)
        );
        assert_eq!(
            a.routing_context,
            Some(vec![
                ("region".to_owned(), "china".to_owned()),
                ("policy".to_owned(), "my_policy".to_owned())
            ])
        );
        let a = ServerAddress::parse("neo4j+s://db.example.com").unwrap();
        assert_eq!((a.port, a.security), (7687, Security::Tls));
        assert_eq!(a.routing_context, Some(vec![]));
        assert!(a.is_routing());
        let a = ServerAddress::parse("NEO4J+SSC://[::1]:7000/?a%20b=c+d").unwrap();
        assert_eq!(a.security, Security::TlsTrustAny);
        assert_eq!(
            a.routing_context,
            Some(vec![("a b".to_owned(), "c d".to_owned())])
        );
        assert!(!ServerAddress::parse("bolt://x").unwrap().is_routing());
    }

    #[test]
    fn bad_routing_contexts_are_configuration_errors() {
        for uri in [
            "neo4j://x?address=y:1",
            "neo4j://x?a=1&a=2",
            "neo4j://x?a=",
            "neo4j://x?=1",
            "neo4j://x?a",
            "neo4j://x?a=%zz",
            "bolt+routing://x",
        ] {
            assert!(
                matches!(ServerAddress::parse(uri), Err(Error::Configuration(_))),
                "{uri} should be refused"
            );
        }
        let err = ServerAddress::parse("neo4j://x?address=y").unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");
    }

    #[test]
    fn malformed_uris_are_configuration_errors() {
        for uri in [
            "localhost:7687",
            "http://x",
            "bolt://",
            "bolt://x:notaport",
            "bolt://x:99999",
            "bolt://u:p@x",
            "bolt://x/db",
            "bolt://x?a=b",
            "bolt://::1",
            "bolt://[::1",
        ] {
            assert!(
                matches!(ServerAddress::parse(uri), Err(Error::Configuration(_))),
                "{uri} should be refused"
            );
        }
    }

    #[test]
    fn default_config_is_valid_and_matches_the_official_defaults() {
        let config = Config::default();
        config.validate().unwrap();
        assert_eq!(config.fetch_size, 1000);
        assert_eq!(config.max_connection_pool_size, 100);
        assert_eq!(config.retry.max_retry_time, Duration::from_secs(30));
        assert!(Config::default().with_fetch_size(0).validate().is_err());
    }
}
