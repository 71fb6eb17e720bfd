//! A routing driver's view of the cluster: routing tables per database, a pool per server, and
//! the acquisition path that keeps them up to date.
//!
//! The decisions are the plain data of [`crate::routing`] (freshness, refresh order, selection,
//! the home-database cache); this module is the only routing code that talks to the network,
//! and only from the task acquiring a connection: there are no background tasks.
//!
//! # Locking
//!
//! The tables and the pool map sit behind one `std` mutex that is never held across an
//! `await`. A refresh of a table (ROUTE to one router after the other) holds only that
//! database's refresh lock (an async mutex): at most one refresh per database runs at a time,
//! the others wait for it (within their acquisition deadline) and check freshness again when
//! they get the lock, so a burst of sessions meeting a stale table sends one ROUTE.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use quiver_bolt::value::{Map, Value};
use quiver_bolt::{AccessMode, AuthToken, Route, metadata};

use crate::bookmarks::Bookmarks;

/// The bookmarks a ROUTE carries, asked for only when a ROUTE is sent (a bookmark manager's
/// supplier is called then, as the official drivers do).
pub(crate) type BookmarkSource<'a> = &'a (dyn Fn() -> Bookmarks + Send + Sync);
use crate::config::{Address, AddressResolver};
use crate::conn::{BoltConnection, ConnectSettings, Endpoint, RoutingEvents};
use crate::error::{DiscoveryFailure, Error, Result, RoutingTableError};
use crate::io::with_deadline;
use crate::pool::{Pool, PoolConfig, PooledConnection};
use crate::routing::{
    HomeDbCache, HomeDbKey, RoundRobin, Table, fatal_during_discovery, is_unreachable,
};
use crate::runtime::Runtime;

/// A routing table as the driver holds it (see [`Driver::routing_table`](crate::Driver::routing_table)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoutingTable {
    /// The database (`None`: the table the home database is resolved through).
    pub database: Option<String>,
    /// The `ttl` of the reply it came from.
    pub ttl: Duration,
    /// Servers that answer ROUTE.
    pub routers: Vec<Address>,
    /// Servers for reads.
    pub readers: Vec<Address>,
    /// Servers for writes.
    pub writers: Vec<Address>,
}

/// The connections of one server's pool (see [`Driver::pool_metrics`](crate::Driver::pool_metrics)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct PoolMetrics {
    /// Handed out (or being opened).
    pub in_use: usize,
    /// Idle in the pool.
    pub idle: usize,
}

/// What an acquisition is for.
pub(crate) struct Acquire<'a> {
    pub(crate) mode: AccessMode,
    /// The database to route for: the configured one, the one the session pinned, or a guess
    /// from the home-database cache (`guessed`); `None` when the server resolved the home
    /// database without naming it.
    pub(crate) database: Option<&'a str>,
    /// `database` came from the home-database cache: a refresh asks ROUTE without `db` (as
    /// the user, see `home_key`) and the session pins what it says.
    pub(crate) guessed: Option<&'a HomeDbKey>,
    pub(crate) imp_user: Option<&'a str>,
    pub(crate) bookmarks: BookmarkSource<'a>,
    pub(crate) session_auth: Option<&'a AuthToken>,
    /// One deadline for routing and acquisition together.
    pub(crate) deadline: Instant,
}

/// What ROUTE asks for, and what the refresh may accept.
struct Ask<'a> {
    /// `db` of ROUTE (`None`: the user's home database).
    db: Option<&'a str>,
    imp_user: Option<&'a str>,
    bookmarks: BookmarkSource<'a>,
    session_auth: Option<&'a AuthToken>,
    deadline: Instant,
    /// A read accepts a writer-less table at once; anything else keeps asking the other
    /// routers and falls back to it (a writer-less reply may come from a minority partition).
    mode: Option<AccessMode>,
}

/// Where an address to connect to comes from.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// A routing table names it: it goes through the custom resolver for every new connection.
    Table,
    /// The initial router resolved (custom resolver, then DNS): connect as it is, to the dial
    /// address with the TLS name given when DNS resolved a name.
    Initial(Option<&'a (Address, String)>),
}

/// Who waits for whose refresh.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RefreshKey {
    Database(Option<String>),
    /// A guessed home database, per user: two users' guesses of the same name may resolve to
    /// different databases.
    Guess(String, HomeDbKey),
}

struct State<R: Runtime> {
    /// Tables by database.
    tables: HashMap<String, Table>,
    /// The table without a database name: the one home databases are resolved through (ROUTE
    /// without `db`; it learns the routers of each reply, and stays stale), or a real table
    /// when a server answered such a ROUTE without naming the database.
    unnamed: Table,
    pools: HashMap<Address, Arc<Pool<R>>>,
    refreshing: HashMap<RefreshKey, Arc<async_lock::Mutex<()>>>,
    round_robin: RoundRobin,
    /// What the initial router resolved to last: their pools are kept although no table names
    /// them.
    initial_resolved: Vec<Address>,
    closed: bool,
}

pub(crate) struct Cluster<R: Runtime> {
    runtime: R,
    settings: Arc<ConnectSettings>,
    pool_config: Arc<PoolConfig>,
    /// The URI's `host:port`: the initial router.
    initial: Address,
    /// HELLO's and ROUTE's `routing`: the URI's query parameters and `address`.
    routing_context: Map,
    resolver: Option<Arc<dyn AddressResolver>>,
    state: Mutex<State<R>>,
    home_db: Mutex<HomeDbCache>,
    this: Weak<Cluster<R>>,
}

impl<R: Runtime> Cluster<R> {
    pub(crate) fn new(
        runtime: R,
        settings: Arc<ConnectSettings>,
        pool_config: PoolConfig,
        initial: Address,
        routing_context: Map,
    ) -> Arc<Self> {
        let now = runtime.now();
        Arc::new_cyclic(|this| Cluster {
            resolver: settings.resolver.clone(),
            runtime,
            settings,
            pool_config: Arc::new(pool_config),
            state: Mutex::new(State {
                tables: HashMap::new(),
                unnamed: Table::new(None, initial.clone(), now),
                pools: HashMap::new(),
                refreshing: HashMap::new(),
                round_robin: RoundRobin::default(),
                initial_resolved: Vec::new(),
                closed: false,
            }),
            initial,
            routing_context,
            home_db: Mutex::new(HomeDbCache::default()),
            this: this.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State<R>> {
        // Every update is a few plain assignments: a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The table of `database`, created (stale, the initial router only) if missing.
    fn table_entry<'s>(&self, state: &'s mut State<R>, database: Option<&str>) -> &'s mut Table {
        let now = self.runtime.now();
        match database {
            None => &mut state.unnamed,
            Some(db) => state
                .tables
                .entry(db.to_owned())
                .or_insert_with(|| Table::new(Some(db.to_owned()), self.initial.clone(), now)),
        }
    }

    /// The deadline of an acquisition starting now.
    pub(crate) fn deadline(&self) -> Instant {
        crate::pool::deadline_after(&self.runtime, self.pool_config.acquisition_timeout)
    }

    /// A connection for `request`: the table of its database refreshed if it is stale for the
    /// mode, then the least busy reader or writer. A server that cannot be reached is forgotten
    /// and the next one tried; with none left, [`Error::SessionExpired`]. Returns the database
    /// the connection serves when it differs from a guessed one (the session pins it).
    pub(crate) async fn acquire(
        &self,
        request: &Acquire<'_>,
    ) -> Result<(PooledConnection<R>, Option<String>)> {
        let mut database = request.database;
        let resolved = self.ensure_fresh(request).await?;
        if let Some(actual) = &resolved {
            database = Some(actual);
        }
        loop {
            let pool = {
                let mut state = self.lock();
                if state.closed {
                    return Err(Error::DriverClosed);
                }
                let State {
                    tables,
                    unnamed,
                    pools,
                    round_robin,
                    ..
                } = &mut *state;
                let table = match database {
                    Some(db) => tables.get(db),
                    None => Some(&*unnamed),
                };
                let candidates = table.map(|t| t.servers(request.mode)).unwrap_or_default();
                let chosen = round_robin.select(request.mode, candidates, |address| {
                    pools.get(address).map_or(0, |pool| pool.in_use())
                });
                match chosen {
                    Some(address) => {
                        let address = address.clone();
                        self.pool_locked(pools, &address, Origin::Table)
                    }
                    None => {
                        return Err(Error::SessionExpired(format!(
                            "failed to obtain a connection towards a {} server of {}: none is left",
                            mode_name(request.mode),
                            database_name(database)
                        )));
                    }
                }
            };
            match pool.acquire(request.session_auth, request.deadline).await {
                Ok(mut conn) => {
                    conn.set_routing_database(database);
                    return Ok((conn, resolved));
                }
                Err(e) if is_unreachable(&e) => {
                    tracing::debug!(
                        "server.address" = %pool.endpoint().address,
                        error = %e,
                        "server unreachable; forgetting it and choosing another"
                    );
                    self.deactivate(&pool.endpoint().address);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The pool of `address` (created on first use; `origin` says how to reach it).
    fn pool_locked(
        &self,
        pools: &mut HashMap<Address, Arc<Pool<R>>>,
        address: &Address,
        origin: Origin<'_>,
    ) -> Arc<Pool<R>> {
        if let Some(pool) = pools.get(address) {
            return pool.clone();
        }
        let mut endpoint = Endpoint::new(address.clone());
        match origin {
            Origin::Initial(Some((dial, tls_name))) => {
                endpoint.dial = dial.clone();
                endpoint.tls_name = tls_name.clone();
            }
            Origin::Initial(None) => {}
            // A server the routing table names may only be reachable through the resolver
            // (a single server, or a cluster behind a load balancer, answers ROUTE with the
            // URI's address).
            Origin::Table => endpoint.resolve_per_connection = true,
        }
        let events: Weak<dyn RoutingEvents> = self.this.clone();
        endpoint.routing = Some(events);
        let pool = Arc::new(Pool::new(
            self.runtime.clone(),
            self.settings.clone(),
            endpoint,
            self.pool_config.clone(),
        ));
        pools.insert(address.clone(), pool.clone());
        pool
    }

    /// Refresh the table of `request.database` unless it is fresh for the mode (once: a table
    /// that comes back without writers is used as it is). Returns the actual database when a
    /// guessed one's table had to be fetched (ROUTE without `db` names it).
    async fn ensure_fresh(&self, request: &Acquire<'_>) -> Result<Option<String>> {
        let database = request.database;
        let lock = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::DriverClosed);
            }
            let now = self.runtime.now();
            let table = match database {
                Some(db) => state.tables.get(db),
                None => Some(&state.unnamed),
            };
            if table.is_some_and(|t| t.is_fresh(request.mode, now)) {
                return Ok(None);
            }
            let key = match (request.guessed, database) {
                (Some(user), Some(db)) => RefreshKey::Guess(db.to_owned(), user.clone()),
                _ => RefreshKey::Database(database.map(str::to_owned)),
            };
            state.refreshing.entry(key).or_default().clone()
        };
        let Some(_refreshing) =
            with_deadline(&self.runtime, Some(request.deadline), lock.lock()).await
        else {
            return Err(self.timed_out());
        };
        let routers = {
            let mut state = self.lock();
            let now = self.runtime.now();
            let table = self.table_entry(&mut state, database);
            if table.is_fresh(request.mode, now) {
                // Someone else refreshed it while this task waited.
                return Ok(None);
            }
            table.refresh_order(&self.initial)
        };
        let ask = Ask {
            db: if request.guessed.is_some() {
                None
            } else {
                database
            },
            imp_user: request.imp_user,
            bookmarks: request.bookmarks,
            session_auth: request.session_auth,
            deadline: request.deadline,
            mode: Some(request.mode),
        };
        let table = self.discover(routers, &ask).await?;
        let actual = table.database.clone();
        self.store(ask.db, table).await;
        Ok(match actual {
            Some(actual) if request.guessed.is_some() && Some(actual.as_str()) != database => {
                Some(actual)
            }
            _ => None,
        })
    }

    /// Resolve the home database of a session (ROUTE without `db`, with its impersonated user,
    /// bookmarks and credentials), keeping the table under the name the server gives.
    pub(crate) async fn resolve_home_db(
        &self,
        mode: AccessMode,
        imp_user: Option<&str>,
        bookmarks: BookmarkSource<'_>,
        session_auth: Option<&AuthToken>,
        deadline: Instant,
    ) -> Result<Option<String>> {
        let routers = {
            let state = self.lock();
            if state.closed {
                return Err(Error::DriverClosed);
            }
            state.unnamed.refresh_order(&self.initial)
        };
        let ask = Ask {
            db: None,
            imp_user,
            bookmarks,
            session_auth,
            deadline,
            mode: Some(mode),
        };
        let table = self.discover(routers, &ask).await?;
        let database = table.database.clone();
        self.store(None, table).await;
        Ok(database)
    }

    /// Refresh the table of `database` now, whatever its state (`None`: the home database's).
    pub(crate) async fn force_refresh(
        &self,
        database: Option<&str>,
        bookmarks: Bookmarks,
    ) -> Result<()> {
        let deadline = self.deadline();
        let routers = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::DriverClosed);
            }
            self.table_entry(&mut state, database)
                .refresh_order(&self.initial)
        };
        let bookmarks = move || bookmarks.clone();
        let ask = Ask {
            db: database,
            imp_user: None,
            bookmarks: &bookmarks,
            session_auth: None,
            deadline,
            mode: None,
        };
        let table = self.discover(routers, &ask).await?;
        self.store(database, table).await;
        Ok(())
    }

    /// Keep a table fetched for `requested` (under the database the server named), drop aged
    /// tables and retire the pools of servers no table names any more.
    async fn store(&self, requested: Option<&str>, table: Table) {
        let retired = {
            let mut state = self.lock();
            let now = self.runtime.now();
            let key = table
                .database
                .clone()
                .or_else(|| requested.map(str::to_owned));
            if requested.is_none() && key.is_some() {
                // The home-resolution table learns the routers (to find the cluster again
                // if the initial router goes away); it stays stale.
                let mut unnamed = Table::new(None, self.initial.clone(), now);
                unnamed.routers.clone_from(&table.routers);
                unnamed.initialized_without_writers = table.writers.is_empty();
                state.unnamed = unnamed;
            }
            self.table_entry(&mut state, key.as_deref()).update(table);
            self.purge_locked(&mut state, now)
        };
        for mut conn in retired {
            conn.goodbye().await;
        }
    }

    /// Drop tables that expired more than 30 s ago (unless a refresh of them is under way) and
    /// retire the pools of servers no table names; returns the idle connections to close.
    fn purge_locked(&self, state: &mut State<R>, now: Instant) -> Vec<Box<BoltConnection<R>>> {
        let State {
            tables,
            unnamed,
            pools,
            refreshing,
            initial_resolved,
            ..
        } = state;
        // A refresh lock nobody holds or waits for is only in this map.
        refreshing.retain(|_, lock| Arc::strong_count(lock) > 1);
        let busy: HashSet<Option<&str>> = refreshing
            .keys()
            .map(|key| match key {
                RefreshKey::Database(db) => db.as_deref(),
                RefreshKey::Guess(db, _) => Some(db.as_str()),
            })
            .collect();
        tables.retain(|db, table| !table.is_aged(now) || busy.contains(&Some(db.as_str())));
        if unnamed.is_aged(now) && !busy.contains(&None) {
            *unnamed = Table::new(None, self.initial.clone(), now);
        }
        let mut retired = Vec::new();
        pools.retain(|address, pool| {
            let named = *address == self.initial
                || initial_resolved.contains(address)
                || unnamed.contains(address)
                || tables.values().any(|t| t.contains(address));
            if !named {
                tracing::debug!("server.address" = %address, "left the cluster; closing its pool");
                retired.extend(pool.retire());
            }
            named
        });
        retired
    }

    /// Ask `routers` in turn for a table: each router's connection error or unusable reply is
    /// kept and the next one asked; a client mistake ends the search at once.
    async fn discover(&self, routers: Vec<Address>, ask: &Ask<'_>) -> Result<Table> {
        let bookmarks = (ask.bookmarks)();
        let mut failures: Vec<(String, Error)> = Vec::new();
        let mut writerless: Option<Table> = None;
        for router in routers {
            let initial = router == self.initial;
            let targets = if initial {
                self.resolve_initial(&mut failures).await
            } else {
                vec![(router.clone(), None)]
            };
            let mut answered = false;
            for (address, resolved) in targets {
                let origin = if initial {
                    Origin::Initial(resolved.as_ref())
                } else {
                    Origin::Table
                };
                match self.fetch(&address, origin, ask, &bookmarks).await {
                    Ok(table) => {
                        answered = true;
                        if !table.writers.is_empty() || ask.mode == Some(AccessMode::Read) {
                            return Ok(table);
                        }
                        tracing::debug!(
                            "server.address" = %address,
                            "routing table without writers; asking the other routers too"
                        );
                        writerless.get_or_insert(table);
                    }
                    Err(e) if fatal_during_discovery(&e) => {
                        tracing::debug!("server.address" = %address, error = %e, "discovery failed");
                        return Err(e);
                    }
                    Err(e) => {
                        tracing::debug!(
                            "server.address" = %address,
                            error = %e,
                            "router failed; trying the next one"
                        );
                        if address != router {
                            self.deactivate_politely(&address).await;
                        }
                        failures.push((address.to_string(), e));
                    }
                }
            }
            if !answered {
                self.deactivate_politely(&router).await;
            }
        }
        if let Some(table) = writerless {
            return Ok(table);
        }
        let database = ask.db.map(str::to_owned);
        let reason = match &database {
            Some(db) => format!("unable to retrieve routing information for database `{db}`"),
            None => "unable to retrieve routing information for the home database".to_owned(),
        };
        Err(Error::ServiceUnavailable {
            address: self.initial.to_string(),
            reason,
            source: Some(Box::new(DiscoveryFailure { database, failures })),
        })
    }

    /// The addresses to ask in place of the initial router: the custom resolver's answer (or
    /// the address itself), each resolved by DNS. The pairs are (address to connect to and
    /// pool by, (dial address, TLS name) when DNS resolved a name).
    async fn resolve_initial(
        &self,
        failures: &mut Vec<(String, Error)>,
    ) -> Vec<(Address, Option<(Address, String)>)> {
        let names = match &self.resolver {
            Some(resolver) => resolver.resolve(&self.initial),
            None => vec![self.initial.clone()],
        };
        let mut targets: Vec<(Address, Option<(Address, String)>)> = Vec::new();
        for name in names {
            match self.runtime.resolve(&name.host, name.port).await {
                Ok(ips) => {
                    if ips.is_empty() {
                        failures.push((
                            name.to_string(),
                            Error::service_unavailable(
                                &name.to_string(),
                                "the name resolves to no address",
                                None,
                            ),
                        ));
                    }
                    for ip in ips {
                        let address = Address::new(ip.to_string(), name.port);
                        let resolved =
                            (address != name).then(|| (address.clone(), name.host.clone()));
                        if !targets.iter().any(|(a, _)| *a == address) {
                            targets.push((address, resolved));
                        }
                    }
                }
                // The runtime leaves names to `connect`.
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    if !targets.iter().any(|(a, _)| *a == name) {
                        targets.push((name, None));
                    }
                }
                Err(e) => failures.push((
                    name.to_string(),
                    Error::service_unavailable(
                        &name.to_string(),
                        "name resolution failed",
                        Some(e),
                    ),
                )),
            }
        }
        self.lock().initial_resolved = targets.iter().map(|(a, _)| a.clone()).collect();
        targets
    }

    /// ROUTE on one router.
    async fn fetch(
        &self,
        address: &Address,
        origin: Origin<'_>,
        ask: &Ask<'_>,
        bookmarks: &Bookmarks,
    ) -> Result<Table> {
        let pool = {
            let mut state = self.lock();
            if state.closed {
                return Err(Error::DriverClosed);
            }
            self.pool_locked(&mut state.pools, address, origin)
        };
        let mut conn = pool.acquire(ask.session_auth, ask.deadline).await?;
        conn.set_routing_database(None);
        let route = Route {
            routing: self.routing_context.clone(),
            bookmarks: bookmarks.to_vec(),
            db: ask.db.map(str::to_owned),
            imp_user: ask.imp_user.map(str::to_owned),
        };
        let answer = with_deadline(&self.runtime, Some(ask.deadline), conn.route(route)).await;
        let metadata = match answer {
            Some(Ok(metadata)) => metadata,
            Some(Err(e)) => {
                if matches!(e, Error::Server(_)) && conn.is_reusable() {
                    // As after any failure: back to READY at once.
                    if conn.reset().await.is_err() {
                        conn.discard();
                    }
                }
                return Err(e);
            }
            None => {
                conn.discard();
                return Err(self.timed_out());
            }
        };
        let reply = metadata::routing_table(&metadata).map_err(RoutingTableError::from)?;
        Ok(Table::from_reply(&reply, ask.db, self.runtime.now())?)
    }

    fn timed_out(&self) -> Error {
        Error::AcquisitionTimeout {
            timeout: self.pool_config.acquisition_timeout,
            max_size: self.pool_config.max_size,
        }
    }

    /// A snapshot of the table of `database` (`None`: the home-resolution table).
    pub(crate) fn routing_table(&self, database: Option<&str>) -> Option<RoutingTable> {
        let state = self.lock();
        let table = match database {
            Some(db) => state.tables.get(db)?,
            None => &state.unnamed,
        };
        Some(RoutingTable {
            database: table.database.clone(),
            ttl: table.ttl(),
            routers: table.routers.clone(),
            readers: table.readers.clone(),
            writers: table.writers.clone(),
        })
    }

    /// The metrics of `address`'s pool, if there is one.
    pub(crate) fn pool_metrics(&self, address: &Address) -> Option<PoolMetrics> {
        let pool = self.lock().pools.get(address)?.clone();
        let (total, idle) = pool.sizes();
        Some(PoolMetrics {
            in_use: total.saturating_sub(idle),
            idle,
        })
    }

    /// Connections in all pools: (total, idle).
    pub(crate) fn sizes(&self) -> (usize, usize) {
        let pools: Vec<_> = self.lock().pools.values().cloned().collect();
        pools
            .iter()
            .map(|p| p.sizes())
            .fold((0, 0), |(t, i), (pt, pi)| (t + pt, i + pi))
    }

    /// Whether the home-database cache may be used: every open connection's server routes
    /// queries itself.
    pub(crate) fn ssr_enabled(&self) -> bool {
        self.settings.ssr.enabled()
    }

    /// The cached home database of `key`.
    pub(crate) fn cached_home_db(&self, key: &HomeDbKey) -> Option<String> {
        self.home_db
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
    }

    /// Remember `database` as the home database of `key`.
    pub(crate) fn cache_home_db(&self, key: HomeDbKey, database: String) {
        self.home_db
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, database);
    }

    /// Close every pool (idle connections after a GOODBYE) and refuse new work.
    pub(crate) async fn close(&self) {
        let idle: Vec<Box<BoltConnection<R>>> = {
            let mut state = self.lock();
            state.closed = true;
            let pools: Vec<_> = state.pools.drain().map(|(_, pool)| pool).collect();
            pools.iter().flat_map(|pool| pool.retire()).collect()
        };
        for mut conn in idle {
            conn.goodbye().await;
        }
    }

    /// Forget `address` in every table and close its idle connections after a GOODBYE (the
    /// server answers, but gives no usable routing table).
    async fn deactivate_politely(&self, address: &Address) {
        for mut conn in self.forget(address) {
            conn.goodbye().await;
        }
    }

    /// Forget `address` in every table and close its idle connections (the server is gone:
    /// no GOODBYE).
    pub(crate) fn deactivate(&self, address: &Address) {
        let idle = self.forget(address);
        if !idle.is_empty() {
            tracing::debug!(
                "server.address" = %address,
                closed = idle.len(),
                "server unreachable; closed its idle connections"
            );
        }
    }

    /// Forget `address` in every table; its idle connections are returned to be closed.
    fn forget(&self, address: &Address) -> Vec<Box<BoltConnection<R>>> {
        {
            let mut state = self.lock();
            for table in state.tables.values_mut() {
                table.deactivate(address);
            }
            state.unnamed.deactivate(address);
            match state.pools.get(address).cloned() {
                Some(pool) => {
                    let (idle, empty) = pool.take_idle();
                    if empty {
                        state.pools.remove(address);
                        pool.retire();
                    }
                    idle
                }
                None => Vec::new(),
            }
        }
    }
}

impl<R: Runtime> RoutingEvents for Cluster<R> {
    fn unreachable(&self, address: &Address) {
        tracing::debug!("server.address" = %address, "connection lost; forgetting the server");
        self.deactivate(address);
    }

    fn not_writer(&self, address: &Address, database: Option<&str>) {
        tracing::debug!(
            "server.address" = %address,
            "db.namespace" = database,
            "no longer the writer; forgetting it as that database's writer"
        );
        let mut state = self.lock();
        let table = match database {
            Some(db) => state.tables.get_mut(db),
            None => Some(&mut state.unnamed),
        };
        if let Some(table) = table {
            table.deactivate_writer(address);
        }
    }
}

fn database_name(database: Option<&str>) -> String {
    match database {
        Some(db) => format!("database `{db}`"),
        None => "the home database".to_owned(),
    }
}

fn mode_name(mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::Read => "READ",
        AccessMode::Write => "WRITE",
    }
}

/// The routing context of HELLO and ROUTE: the URI's parameters and `address`.
pub(crate) fn routing_context(initial: &Address, parameters: &[(String, String)]) -> Map {
    let mut context = Map::new();
    context.insert("address", Value::String(initial.to_string().into()));
    for (key, value) in parameters {
        context.insert(key.as_str(), Value::String(value.as_str().into()));
    }
    context
}
