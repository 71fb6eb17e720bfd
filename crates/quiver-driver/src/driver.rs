//! The driver: configuration, the pool, and the entry points.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::{Arc, PoisonError};

use quiver_bolt::{AccessMode, AuthToken, BoltAgent, ConnectionConfig};

use crate::auth::{AuthManager, StaticAuthManager};
use crate::bookmarks::{BookmarkManager, Bookmarks};
use crate::cluster::{
    Acquire, BookmarkSource, Cluster, PoolMetrics, RoutingTable, routing_context,
};
use crate::config::{Address, Config, ServerAddress};
use crate::conn::{ConnectSettings, Endpoint};
use crate::error::{Error, Result};
use crate::pool::{Pool, PoolConfig, PooledConnection};
use crate::result::EagerResult;
use crate::routing::HomeDbKey;
use crate::runtime::Runtime;
use crate::session::{Query, Session, SessionConfig, TargetDb, TransactionConfig};
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

/// Where connections come from.
pub(crate) enum Connector<R: Runtime> {
    /// `bolt://`: one server, one pool.
    Direct(Arc<Pool<R>>),
    /// `neo4j://`: a cluster, through routing tables.
    Routing(Arc<Cluster<R>>),
}

struct DriverInner<R: Runtime> {
    runtime: R,
    config: Config,
    connector: Connector<R>,
    /// The URI's `host:port`, for tracing spans.
    address: String,
    encrypted: bool,
    query_bookmarks: BookmarkManager,
}

/// A Neo4j driver: connection pools plus the entry points to use them.
///
/// With a `bolt://` URI the driver talks to one server. With a `neo4j://` URI (`neo4j+s://` for
/// Aura) it routes: it asks the cluster for a routing table per database (ROUTE), sends reads
/// to readers and writes to the writer, keeps a pool per server, and follows the cluster as
/// members come, go and change roles — see the crate docs on routing.
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
            .field("address", &self.inner.address)
            .field(
                "routing",
                &matches!(self.inner.connector, Connector::Routing(_)),
            )
            .finish_non_exhaustive()
    }
}

impl<R: Runtime + Default> Driver<R> {
    /// A driver for `uri` with the default configuration: `neo4j://`, `neo4j+s://`,
    /// `neo4j+ssc://` for a cluster or Aura (routing; the query string is the routing context),
    /// `bolt://`, `bolt+s://`, `bolt+ssc://` for one server. Nothing is connected yet: see
    /// [`verify_connectivity`](Self::verify_connectivity).
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
        let initial = Address::from(&address);
        // HELLO carries the routing context on every connection of a routing driver (it is
        // what lets a server route queries itself), and never on a direct one.
        let routing = address
            .routing_context
            .as_deref()
            .map(|parameters| routing_context(&initial, parameters));
        // Records are validated on arrival and decoded field by field as the user reads them.
        let bolt = ConnectionConfig::default()
            .with_raw_records(true)
            .with_user_agent(config.user_agent.clone())
            .with_bolt_agent(BoltAgent::default())
            .with_max_message_size(config.max_message_size)
            .with_notifications(config.notifications.clone())
            .with_routing(routing.clone());
        let auth_manager: Arc<dyn AuthManager> = match &config.auth_manager {
            Some(manager) => manager.clone(),
            None => Arc::new(StaticAuthManager::new(auth)),
        };
        let encrypted = tls.is_some();
        let settings = Arc::new(ConnectSettings {
            bolt,
            auth_manager,
            connection_timeout: config.connection_timeout,
            read_timeout: config.read_timeout,
            keep_alive: config.keep_alive,
            telemetry: config.telemetry,
            tls,
            resolver: config.resolver.clone(),
            ssr: Arc::default(),
        });
        let pool_config = PoolConfig {
            max_size: config.max_connection_pool_size,
            acquisition_timeout: config.connection_acquisition_timeout,
            max_lifetime: config.max_connection_lifetime,
            liveness_check_timeout: config.liveness_check_timeout,
        };
        let connector = match routing {
            Some(context) => Connector::Routing(Cluster::new(
                runtime.clone(),
                settings,
                pool_config,
                initial.clone(),
                context,
            )),
            None => {
                let mut endpoint = Endpoint::new(initial.clone());
                endpoint.resolve_per_connection = true;
                Connector::Direct(Arc::new(Pool::new(
                    runtime.clone(),
                    settings,
                    endpoint,
                    Arc::new(pool_config),
                )))
            }
        };
        Ok(Driver {
            inner: Arc::new(DriverInner {
                runtime,
                config,
                connector,
                address: initial.to_string(),
                encrypted,
                query_bookmarks: BookmarkManager::new(),
            }),
        })
    }

    /// `host:port` of the URI, for tracing spans.
    pub(crate) fn address(&self) -> &str {
        &self.inner.address
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
        self.inner.encrypted
    }

    /// Whether the driver routes (`neo4j://`, `neo4j+s://`, `neo4j+ssc://`).
    pub fn is_routing(&self) -> bool {
        matches!(self.inner.connector, Connector::Routing(_))
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

    /// A connection for work in `work.mode` on `target` (a session's database): from the one
    /// pool of a direct driver; a routing driver resolves the home database first (ROUTE
    /// without `db`, or from the Bolt 5.8 cache while every server routes queries itself) and
    /// picks a server from the database's routing table, refreshed if stale — all within one
    /// acquisition deadline.
    pub(crate) async fn acquire_for(
        &self,
        target: &mut TargetDb,
        work: &Work<'_>,
    ) -> Result<PooledConnection<R>> {
        let cluster = match &self.inner.connector {
            Connector::Direct(pool) => return pool.acquire(work.auth, pool.deadline()).await,
            Connector::Routing(cluster) => cluster,
        };
        let deadline = cluster.deadline();
        let key = || HomeDbKey::new(work.imp_user, work.auth);
        if let TargetDb::Guessed { pin, .. } = target {
            let named = pin.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(database) = named {
                // BEGIN/RUN's SUCCESS named the home database: pinned, and cached.
                cluster.cache_home_db(key(), database.clone());
                *target = TargetDb::Known(Some(database));
            }
        }
        if matches!(target, TargetDb::Unresolved) && cluster.ssr_enabled() {
            if let Some(database) = cluster.cached_home_db(&key()) {
                *target = TargetDb::Guessed {
                    database,
                    pin: Arc::default(),
                };
            }
        }
        if matches!(target, TargetDb::Unresolved) {
            *target = TargetDb::Known(self.resolve_home_db(cluster, work, deadline).await?);
        }
        loop {
            let guess_key = matches!(target, TargetDb::Guessed { .. }).then(key);
            let database = match &*target {
                TargetDb::Known(database) => database.as_deref(),
                TargetDb::Guessed { database, .. } => Some(database.as_str()),
                TargetDb::Unresolved => None,
            };
            let request = Acquire {
                mode: work.mode,
                database,
                guessed: guess_key.as_ref(),
                imp_user: work.imp_user,
                bookmarks: work.bookmarks,
                session_auth: work.auth,
                deadline,
            };
            let (conn, actual) = cluster.acquire(&request).await?;
            if let Some(actual) = actual {
                // The guessed database's table was fetched with ROUTE without `db`, which
                // named the real home database.
                cluster.cache_home_db(key(), actual.clone());
                *target = TargetDb::Known(Some(actual));
                return Ok(conn);
            }
            if guess_key.is_some() && !conn.ssr_enabled() {
                // The server would not route a wrong guess: resolve explicitly (the same
                // deadline), and use the database the router names.
                drop(conn);
                *target = TargetDb::Known(self.resolve_home_db(cluster, work, deadline).await?);
                continue;
            }
            return Ok(conn);
        }
    }

    async fn resolve_home_db(
        &self,
        cluster: &Cluster<R>,
        work: &Work<'_>,
        deadline: std::time::Instant,
    ) -> Result<Option<String>> {
        let database = cluster
            .resolve_home_db(
                work.mode,
                work.imp_user,
                work.bookmarks,
                work.auth,
                deadline,
            )
            .await?;
        if let Some(database) = &database {
            cluster.cache_home_db(HomeDbKey::new(work.imp_user, work.auth), database.clone());
        }
        Ok(database)
    }

    /// A read connection as a session gets one (the driver-level checks: verify_connectivity,
    /// server info, capabilities), with `auth` if given, for `database` (`None`: the home
    /// database; a routing driver resolves it).
    async fn any_connection(
        &self,
        auth: Option<&AuthToken>,
        database: Option<&str>,
    ) -> Result<PooledConnection<R>> {
        let work = Work {
            mode: AccessMode::Read,
            imp_user: None,
            bookmarks: &Bookmarks::new,
            auth,
        };
        let mut target = match (&self.inner.connector, database) {
            (Connector::Routing(_), None) => TargetDb::Unresolved,
            (_, database) => TargetDb::Known(database.map(str::to_owned)),
        };
        self.acquire_for(&mut target, &work).await
    }

    /// A connection that just answered: a new one (HELLO) or a pooled one (RESET).
    async fn live_connection(&self) -> Result<PooledConnection<R>> {
        let mut conn = self.any_connection(None, None).await?;
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
        // Through the system database, as the official drivers do (a routing driver asks for
        // its table with `auth`: a router may be the one that refuses it).
        let verdict = match self.any_connection(Some(auth), Some("system")).await {
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
        let conn = self.any_connection(None, None).await?;
        Ok(conn.version().0 >= 4)
    }

    /// Whether the server supports per-session auth (Bolt 5.1+ re-auth).
    pub async fn supports_session_auth(&self) -> Result<bool> {
        let conn = self.any_connection(None, None).await?;
        Ok(conn.version() >= (5, 1))
    }

    /// Close idle connections (each after a GOODBYE) and refuse new work; connections in use
    /// close when returned.
    pub async fn close(&self) {
        match &self.inner.connector {
            Connector::Direct(pool) => pool.close().await,
            Connector::Routing(cluster) => cluster.close().await,
        }
    }

    /// Connections in the pools (every server's, for a routing driver): (total, idle). For
    /// tests and monitoring.
    pub fn pool_sizes(&self) -> (usize, usize) {
        match &self.inner.connector {
            Connector::Direct(pool) => pool.sizes(),
            Connector::Routing(cluster) => cluster.sizes(),
        }
    }

    /// The connections of the pool of `address` (`host:port` as the URI or a routing table
    /// names it): in use and idle; `None` when the driver has no pool for it.
    pub fn pool_metrics(&self, address: &Address) -> Option<PoolMetrics> {
        match &self.inner.connector {
            Connector::Direct(pool) => (pool.endpoint().address == *address).then(|| {
                let (total, idle) = pool.sizes();
                PoolMetrics {
                    in_use: total.saturating_sub(idle),
                    idle,
                }
            }),
            Connector::Routing(cluster) => cluster.pool_metrics(address),
        }
    }

    /// The routing table the driver holds for `database` (`None`: the table the home database
    /// is resolved through, which is a full table only when the server did not name the
    /// database); `None` for a direct driver or a database not routed to yet.
    ///
    /// ```no_run
    /// # use quiver_driver::{Driver, Result, Runtime};
    /// # async fn example<R: Runtime>(driver: Driver<R>) -> Result<()> {
    /// driver.update_routing_table(Some("neo4j"), Default::default()).await?;
    /// if let Some(table) = driver.routing_table(Some("neo4j")) {
    ///     println!("writers {:?}, readers {:?}, for {:?}", table.writers, table.readers, table.ttl);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn routing_table(&self, database: Option<&str>) -> Option<RoutingTable> {
        match &self.inner.connector {
            Connector::Direct(_) => None,
            Connector::Routing(cluster) => cluster.routing_table(database),
        }
    }

    /// Fetch the routing table of `database` now, whether or not the one held is fresh
    /// (`None`: the home database's; `bookmarks`: what the table must reflect, e.g. a database
    /// just created). A direct driver has no routing table: [`Error::Configuration`].
    pub async fn update_routing_table(
        &self,
        database: Option<&str>,
        bookmarks: Bookmarks,
    ) -> Result<()> {
        match &self.inner.connector {
            Connector::Direct(_) => Err(Error::Configuration(
                "a direct driver (bolt://) has no routing table; use a neo4j:// URI to route"
                    .into(),
            )),
            Connector::Routing(cluster) => cluster.force_refresh(database, bookmarks).await,
        }
    }
}

/// What a unit of work needs a connection for.
pub(crate) struct Work<'a> {
    pub(crate) mode: AccessMode,
    pub(crate) imp_user: Option<&'a str>,
    /// The bookmarks a ROUTE for the work carries (the work's own are asked for once the
    /// connection is there).
    pub(crate) bookmarks: BookmarkSource<'a>,
    pub(crate) auth: Option<&'a AuthToken>,
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
