//! The driver: configuration, the pool, and the entry points.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;

use quiver_bolt::{AccessMode, AuthToken, BoltAgent, ConnectionConfig};

use crate::auth::{AuthManager, StaticAuthManager};
use crate::bookmarks::BookmarkManager;
use crate::config::{Config, ServerAddress};
use crate::conn::ConnectSettings;
use crate::error::{Error, Result};
use crate::pool::{Pool, PoolConfig, PooledConnection};
use crate::result::EagerResult;
use crate::runtime::Runtime;
use crate::session::{Query, Session, SessionConfig, TransactionConfig};
use crate::summary::ServerInfo;
use crate::tls::TlsConnector;

/// Read or write, for [`Driver::execute_query`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RoutingControl {
    /// A write transaction (the default).
    #[default]
    Write,
    /// A read transaction.
    Read,
}

struct DriverInner<R: Runtime> {
    runtime: R,
    config: Config,
    pool: Arc<Pool<R>>,
    query_bookmarks: BookmarkManager,
}

/// A Neo4j driver: a connection pool to one server plus the entry points to use it.
///
/// Cheap to clone (an `Arc`), `Send + Sync`: share one per application.
pub struct Driver<R: Runtime> {
    inner: Arc<DriverInner<R>>,
}

impl<R: Runtime> Clone for Driver<R> {
    fn clone(&self) -> Self {
        Driver {
            inner: self.inner.clone(),
        }
    }
}

impl<R: Runtime> fmt::Debug for Driver<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("address", &self.inner.pool.settings().address.authority())
            .finish_non_exhaustive()
    }
}

impl<R: Runtime + Default> Driver<R> {
    /// A driver for `uri` (`bolt://`, `bolt+s://`, `bolt+ssc://`) with the default configuration.
    /// Nothing is connected yet: see [`verify_connectivity`](Self::verify_connectivity).
    pub fn new(uri: &str, auth: AuthToken) -> Result<Self> {
        Self::with_config(uri, auth, Config::default())
    }

    /// A driver with `config`.
    pub fn with_config(uri: &str, auth: AuthToken, config: Config) -> Result<Self> {
        Self::with_runtime(R::default(), uri, auth, config)
    }
}

impl<R: Runtime> Driver<R> {
    /// A driver on an explicit runtime value.
    pub fn with_runtime(runtime: R, uri: &str, auth: AuthToken, config: Config) -> Result<Self> {
        config.validate()?;
        let address = ServerAddress::parse(uri)?;
        let tls = TlsConnector::for_security(
            address.security,
            &config.trusted_certificates,
            config.client_certificate.as_ref(),
        )?;
        // Records are validated on arrival and decoded field by field as the user reads them.
        let bolt = ConnectionConfig::default()
            .with_raw_records(true)
            .with_user_agent(config.user_agent.clone())
            .with_bolt_agent(BoltAgent::default())
            .with_max_message_size(config.max_message_size)
            .with_notifications(config.notifications.clone());
        let auth_manager: Arc<dyn AuthManager> = match &config.auth_manager {
            Some(manager) => manager.clone(),
            None => Arc::new(StaticAuthManager::new(auth)),
        };
        let settings = ConnectSettings {
            address,
            bolt,
            auth_manager,
            connection_timeout: config.connection_timeout,
            read_timeout: config.read_timeout,
            keep_alive: config.keep_alive,
            telemetry: config.telemetry,
            tls,
            resolver: config.resolver.clone(),
            auth_epoch: Arc::default(),
        };
        let pool_config = PoolConfig {
            max_size: config.max_connection_pool_size,
            acquisition_timeout: config.connection_acquisition_timeout,
            max_lifetime: config.max_connection_lifetime,
            liveness_check_timeout: config.liveness_check_timeout,
        };
        let pool = Arc::new(Pool::new(runtime.clone(), settings, pool_config));
        Ok(Driver {
            inner: Arc::new(DriverInner {
                runtime,
                config,
                pool,
                query_bookmarks: BookmarkManager::new(),
            }),
        })
    }

    pub(crate) fn pool(&self) -> &Arc<Pool<R>> {
        &self.inner.pool
    }

    /// `host:port` of the server, for tracing spans.
    pub(crate) fn address(&self) -> String {
        self.inner.pool.settings().address.authority()
    }

    pub(crate) fn runtime(&self) -> &R {
        &self.inner.runtime
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Whether connections use TLS.
    pub fn encrypted(&self) -> bool {
        self.inner.pool.settings().tls.is_some()
    }

    /// A session with the default configuration.
    pub fn session(&self) -> Session<R> {
        Session::new(self.clone(), SessionConfig::default())
    }

    /// A session with `config`.
    pub fn session_with(&self, config: SessionConfig) -> Session<R> {
        Session::new(self.clone(), config)
    }

    /// The bookmark manager [`execute_query`](Self::execute_query) uses by default: consecutive
    /// calls see each other's writes.
    pub fn execute_query_bookmark_manager(&self) -> &BookmarkManager {
        &self.inner.query_bookmarks
    }

    /// Run one query in a managed transaction (retried like
    /// [`Session::execute_write`]) and return all records, keys and the summary.
    ///
    /// Options are set on the returned builder; `.await` it to run:
    /// `driver.execute_query("MATCH (n) RETURN n").database("neo4j").routing(RoutingControl::Read).await?`.
    pub fn execute_query(&self, query: impl Into<Query>) -> ExecuteQuery<'_, R> {
        ExecuteQuery {
            driver: self,
            query: query.into(),
            routing: RoutingControl::Write,
            database: None,
            impersonated_user: None,
            bookmark_manager: Some(self.inner.query_bookmarks.clone()),
            auth: None,
        }
    }

    /// Open (or reuse) a connection to check that the server is reachable and accepts the
    /// credentials; a pooled connection is RESET (a round trip) to prove it is still alive, as
    /// official drivers do (a new one proved it with its HELLO, and a pooled one that the
    /// liveness check just RESET is not RESET twice).
    pub async fn verify_connectivity(&self) -> Result<()> {
        self.live_connection().await.map(drop)
    }

    /// A connection that just answered: a new one (HELLO) or a pooled one (RESET).
    async fn live_connection(&self) -> Result<PooledConnection<R>> {
        let mut conn = self.inner.pool.acquire(None).await?;
        if conn.just_answered() {
            return Ok(conn);
        }
        if let Err(e) = conn.ping().await {
            conn.discard();
            return Err(e);
        }
        Ok(conn)
    }

    /// Whether `auth` is accepted by the server: `Ok(false)` when the server refuses it
    /// (`Unauthorized`, `TokenExpired`, `CredentialsExpired`, `Forbidden`, as official drivers
    /// decide); other failures are errors. Uses LOGOFF/LOGON on a pooled connection, so it needs
    /// Bolt 5.1+ (a [`Error::Configuration`] error on older servers).
    pub async fn verify_authentication(&self, auth: &AuthToken) -> Result<bool> {
        let verdict = match self.inner.pool.acquire(Some(auth)).await {
            // A pooled connection is re-authenticated even when it already uses `auth` (the
            // server must judge the token now, as official drivers do), lazily: wait for the
            // server's answer.
            Ok(mut conn) => {
                let answer = if conn.fresh || conn.reauth_pending() {
                    Ok(())
                } else {
                    conn.reauth(auth, None)
                };
                let answer = match answer {
                    Ok(()) => conn.await_auth().await,
                    Err(e) => Err(e),
                };
                if answer.is_err() {
                    conn.discard();
                }
                answer
            }
            Err(e) => Err(e),
        };
        match verdict {
            Ok(()) => Ok(true),
            Err(Error::Server(e))
                if matches!(
                    e.code.as_str(),
                    "Neo.ClientError.Security.Unauthorized"
                        | "Neo.ClientError.Security.TokenExpired"
                        | "Neo.ClientError.Security.CredentialsExpired"
                        | "Neo.ClientError.Security.Forbidden"
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Which server the driver talks to, from a live connection.
    pub async fn get_server_info(&self) -> Result<ServerInfo> {
        let conn = self.live_connection().await?;
        Ok((*conn.server).clone())
    }

    /// Whether the server supports several databases (Bolt 4.0+).
    pub async fn supports_multi_db(&self) -> Result<bool> {
        let conn = self.inner.pool.acquire(None).await?;
        Ok(conn.version().0 >= 4)
    }

    /// Whether the server supports per-session auth (Bolt 5.1+ re-auth).
    pub async fn supports_session_auth(&self) -> Result<bool> {
        let conn = self.inner.pool.acquire(None).await?;
        Ok(conn.version() >= (5, 1))
    }

    /// Close idle connections (each after a GOODBYE) and refuse new work; connections in use
    /// close when returned.
    pub async fn close(&self) {
        self.inner.pool.close().await;
    }

    /// Connections in the pool: (total, idle). For tests and monitoring.
    pub fn pool_sizes(&self) -> (usize, usize) {
        self.inner.pool.sizes()
    }
}

/// Options of [`Driver::execute_query`]; `.await` it to run the query.
#[must_use = "execute_query does nothing until awaited"]
pub struct ExecuteQuery<'d, R: Runtime> {
    driver: &'d Driver<R>,
    query: Query,
    routing: RoutingControl,
    database: Option<String>,
    impersonated_user: Option<String>,
    bookmark_manager: Option<BookmarkManager>,
    auth: Option<AuthToken>,
}

impl<'d, R: Runtime> ExecuteQuery<'d, R> {
    /// Add a parameter.
    pub fn param(mut self, name: &str, value: impl Into<crate::Value>) -> Self {
        self.query = self.query.param(name, value);
        self
    }
    /// Add all of `parameters` (e.g. from [`params!`](crate::params) or [`to_params`](crate::to_params)).
    pub fn params(mut self, parameters: crate::Map) -> Self {
        for (key, value) in parameters {
            self.query.parameters.insert(key, value);
        }
        self
    }
    /// Read or write transaction.
    pub fn routing(mut self, routing: RoutingControl) -> Self {
        self.routing = routing;
        self
    }
    /// Target database.
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }
    /// Run as another user.
    pub fn impersonate(mut self, user: impl Into<String>) -> Self {
        self.impersonated_user = Some(user.into());
        self
    }
    /// Use `manager` instead of the driver's default one (`None`: no causal chaining).
    pub fn bookmark_manager(mut self, manager: Option<BookmarkManager>) -> Self {
        self.bookmark_manager = manager;
        self
    }
    /// Run as `auth` instead of the driver's credentials, like a session with
    /// [`SessionConfig::with_auth`] (Bolt 5.1+ re-auth).
    pub fn auth(mut self, auth: AuthToken) -> Self {
        self.auth = Some(auth);
        self
    }

    async fn run(self) -> Result<EagerResult> {
        let mut config = SessionConfig::new();
        config.database = self.database;
        config.impersonated_user = self.impersonated_user;
        config.bookmark_manager = self.bookmark_manager;
        config.auth = self.auth;
        let mut session = self.driver.session_with(config);
        let mode = match self.routing {
            RoutingControl::Write => AccessMode::Write,
            RoutingControl::Read => AccessMode::Read,
        };
        let tx_config = TransactionConfig {
            metadata: self.query.config.metadata.clone(),
            timeout: self.query.config.timeout,
        };
        session.execute_eager(mode, tx_config, self.query).await
    }
}

impl<'d, R: Runtime> IntoFuture for ExecuteQuery<'d, R> {
    type Output = Result<EagerResult>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<EagerResult>> + Send + 'd>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

#[allow(dead_code)]
fn _assert_error_is_send_sync(e: Error) -> Box<dyn std::error::Error + Send + Sync> {
    Box::new(e)
}
