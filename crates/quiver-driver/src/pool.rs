//! The connection pool of one server (a direct driver has one; a routing driver one per
//! cluster member, see [`Cluster`](crate::cluster::Cluster)).
//!
//! Housekeeping happens on acquire and release (there are no background tasks):
//! * a connection older than `max_connection_lifetime` is closed instead of reused;
//! * a connection returned *dirty* — a result or transaction was dropped before it finished, so
//!   responses may still be in flight or a transaction may be open — is RESET by the next
//!   acquirer before use (the RESET also rolls back an open transaction), and discarded if that
//!   fails;
//! * a connection idle for longer than `liveness_check_timeout` gets the same RESET round trip
//!   as a liveness check;
//! * a broken connection (I/O error, protocol error, a write interrupted mid-message) is
//!   discarded on release.
//!
//! Waiting for a free slot uses `event-listener`, which works under any executor.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use event_listener::Event;
use quiver_bolt::AuthToken;

use crate::auth::AuthManager;
use crate::conn::{BoltConnection, ConnectSettings, Endpoint};
use crate::error::{Error, Result};
use crate::io::with_deadline;
use crate::runtime::Runtime;

#[derive(Debug, Clone)]
pub(crate) struct PoolConfig {
    pub(crate) max_size: usize,
    pub(crate) acquisition_timeout: Duration,
    pub(crate) max_lifetime: Duration,
    pub(crate) liveness_check_timeout: Option<Duration>,
}

struct Idle<R: Runtime> {
    /// Boxed: a connection is about a kilobyte, moved in and out of the pool on every use.
    conn: Box<BoltConnection<R>>,
    dirty: bool,
}

enum Step<R: Runtime> {
    Reuse(Idle<R>),
    Open,
    Wait(event_listener::EventListener),
}

struct PoolState<R: Runtime> {
    idle: Vec<Idle<R>>,
    /// Connections that exist or are being opened (idle + in use + opening).
    total: usize,
    closed: bool,
}

pub(crate) struct Pool<R: Runtime> {
    runtime: R,
    settings: Arc<ConnectSettings>,
    endpoint: Endpoint,
    config: Arc<PoolConfig>,
    state: Mutex<PoolState<R>>,
    /// Connections handed out and not yet back (read without the lock, for server selection).
    in_use: AtomicUsize,
    /// Notified whenever a connection or a slot becomes free.
    freed: Event,
}

impl<R: Runtime> Pool<R> {
    pub(crate) fn new(
        runtime: R,
        settings: Arc<ConnectSettings>,
        endpoint: Endpoint,
        config: Arc<PoolConfig>,
    ) -> Self {
        Pool {
            runtime,
            settings,
            endpoint,
            config,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                total: 0,
                closed: false,
            }),
            in_use: AtomicUsize::new(0),
            freed: Event::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PoolState<R>> {
        // The state is updated in single statements; a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The server this pool connects to.
    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The deadline of an acquisition starting now.
    pub(crate) fn deadline(&self) -> Instant {
        deadline_after(&self.runtime, self.config.acquisition_timeout)
    }

    /// A connection that is READY and authenticated with `session_auth` (or the auth manager's
    /// current token), waiting until `deadline` (the acquisition timeout).
    ///
    /// With the manager's token the connection reports its security failures (of HELLO/LOGON
    /// too) to the manager; with `session_auth` it reports them to no one.
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        session_auth: Option<&AuthToken>,
        deadline: Instant,
    ) -> Result<PooledConnection<R>> {
        let (mut auth, manager): (AuthToken, Option<Arc<dyn AuthManager>>) = match session_auth {
            Some(auth) => (auth.clone(), None),
            None => {
                let manager = self.settings.auth_manager.clone();
                (manager.get_auth(self.runtime.now()), Some(manager))
            }
        };
        loop {
            let mut conn = self.acquire_any(deadline, &auth, &manager).await?;
            // Official drivers refuse per-session auth on servers without re-auth even when the
            // connection happens to be authenticated with the session's token already.
            if session_auth.is_some() && !conn.supports_reauth() {
                return Err(Error::Configuration(format!(
                    "per-session auth needs Bolt 5.1+ (LOGON/LOGOFF), but the server speaks Bolt {}.{}",
                    conn.version().0,
                    conn.version().1
                )));
            }
            // A connection authenticated before another one got AuthorizationExpired
            // authenticates again, even with the same token.
            if conn.auth == auth && conn.authorization_is_current() {
                conn.keep_auth(manager);
                return Ok(conn);
            }
            if conn.supports_reauth() {
                // Pipelined with the caller's first request (Optimization:AuthPipelining).
                return match conn.reauth(&auth, manager) {
                    Ok(()) => Ok(conn),
                    Err(e) => {
                        conn.discard();
                        Err(e)
                    }
                };
            }
            // The manager rotated the token (or the authorization expired) and the server cannot
            // re-authenticate: replace it, asking the manager again for the new connection (as
            // official drivers do).
            conn.discard();
            auth = self.settings.auth_manager.get_auth(self.runtime.now());
        }
    }

    /// An idle connection (with whatever token it has) or a new one authenticated with `auth`
    /// from `manager`.
    async fn acquire_any(
        self: &Arc<Self>,
        deadline: Instant,
        auth: &AuthToken,
        manager: &Option<Arc<dyn AuthManager>>,
    ) -> Result<PooledConnection<R>> {
        loop {
            let step = {
                let mut state = self.lock();
                if state.closed {
                    return Err(Error::DriverClosed);
                }
                if let Some(idle) = state.idle.pop() {
                    Step::Reuse(idle)
                } else if state.total < self.config.max_size {
                    state.total += 1;
                    Step::Open
                } else {
                    // Registered before the lock is released: no release can be missed.
                    Step::Wait(self.freed.listen())
                }
            };
            match step {
                Step::Reuse(idle) => {
                    if let Some(conn) = self.check_out(idle).await {
                        return Ok(conn);
                    }
                }
                Step::Open => return self.open(deadline, auth, manager.clone()).await,
                Step::Wait(listener) => {
                    if with_deadline(&self.runtime, Some(deadline), listener)
                        .await
                        .is_none()
                    {
                        return Err(Error::AcquisitionTimeout {
                            timeout: self.config.acquisition_timeout,
                            max_size: self.config.max_size,
                        });
                    }
                }
            }
        }
    }

    /// Open a new connection in a slot already counted in `total`.
    async fn open(
        self: &Arc<Self>,
        deadline: Instant,
        auth: &AuthToken,
        manager: Option<Arc<dyn AuthManager>>,
    ) -> Result<PooledConnection<R>> {
        // Gives the slot back if opening fails or the future is dropped.
        let slot = SlotGuard { pool: self };
        let conn =
            BoltConnection::open(&self.runtime, &self.settings, &self.endpoint, auth, manager);
        let conn = match with_deadline(&self.runtime, Some(deadline), conn).await {
            Some(conn) => conn?,
            None => {
                return Err(Error::AcquisitionTimeout {
                    timeout: self.config.acquisition_timeout,
                    max_size: self.config.max_size,
                });
            }
        };
        std::mem::forget(slot);
        tracing::debug!(
            "server.address" = %conn.server.address,
            agent = %conn.server.agent,
            "opened a Bolt {}.{} connection",
            conn.server.protocol_version.0,
            conn.server.protocol_version.1
        );
        Ok(PooledConnection::new(self.clone(), Box::new(conn), true))
    }

    /// Make an idle connection ready for use, or discard it (None).
    async fn check_out(self: &Arc<Self>, idle: Idle<R>) -> Option<PooledConnection<R>> {
        let now = self.runtime.now();
        let mut pooled = PooledConnection::new(self.clone(), idle.conn, false);
        let conn = pooled.conn.as_mut()?;
        if now.saturating_duration_since(conn.created) >= self.config.max_lifetime {
            pooled.discard();
            return None;
        }
        let long_idle = self
            .config
            .liveness_check_timeout
            .is_some_and(|limit| now.saturating_duration_since(conn.last_used) >= limit);
        if idle.dirty || long_idle {
            // A RESET round trip both cleans up and proves the server is still there (sent even
            // on a READY connection when it is only the liveness check).
            let deadline = Some(now + self.settings.connection_timeout);
            // A connection that fails this check is dropped and another one tried; the server
            // is not given up on (a new connection to it may well work), as the official
            // drivers do.
            conn.mute_routing_events(true);
            let reset = if long_idle {
                with_deadline(&self.runtime, deadline, conn.ping()).await
            } else {
                with_deadline(&self.runtime, deadline, conn.reset()).await
            };
            conn.mute_routing_events(false);
            if !matches!(reset, Some(Ok(()))) {
                pooled.discard();
                return None;
            }
            pooled.just_answered = long_idle;
        }
        Some(pooled)
    }

    fn release(&self, mut conn: Box<BoltConnection<R>>) {
        conn.fresh = false;
        let now = self.runtime.now();
        let mut state = self.lock();
        let expired = now.saturating_duration_since(conn.created) >= self.config.max_lifetime;
        if state.closed || !conn.is_reusable() || expired {
            state.total = state.total.saturating_sub(1);
            drop(state);
            tracing::debug!(
                reusable = conn.is_reusable(),
                expired,
                "closed a connection instead of returning it to the pool"
            );
            drop(conn);
        } else {
            let dirty = !conn.is_clean();
            state.idle.push(Idle { conn, dirty });
            drop(state);
        }
        self.freed.notify(1);
    }

    fn forget_slot(&self) {
        let mut state = self.lock();
        state.total = state.total.saturating_sub(1);
        drop(state);
        self.freed.notify(1);
    }

    /// Close all idle connections (saying GOODBYE to the server first, as official drivers do)
    /// and refuse new acquisitions; connections in use are closed when they are returned.
    pub(crate) async fn close(&self) {
        let idle = {
            let mut state = self.lock();
            state.closed = true;
            let idle = std::mem::take(&mut state.idle);
            state.total = state.total.saturating_sub(idle.len());
            idle
        };
        self.freed.notify(usize::MAX);
        for Idle { mut conn, .. } in idle {
            conn.goodbye().await;
        }
    }

    /// Number of connections (idle + in use) and of idle ones, for tests and metrics.
    pub(crate) fn sizes(&self) -> (usize, usize) {
        let state = self.lock();
        (state.total, state.idle.len())
    }

    /// Connections handed out and not yet back.
    pub(crate) fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    /// The server is unreachable: take the idle connections out (the caller drops them,
    /// outside any lock). Connections in use are closed when their users find them broken.
    /// Returns them and whether the pool is now empty.
    pub(crate) fn take_idle(&self) -> (Vec<Box<BoltConnection<R>>>, bool) {
        let mut state = self.lock();
        let idle = std::mem::take(&mut state.idle);
        state.total = state.total.saturating_sub(idle.len());
        let empty = state.total == 0;
        drop(state);
        if !idle.is_empty() {
            self.freed.notify(usize::MAX);
        }
        (idle.into_iter().map(|idle| idle.conn).collect(), empty)
    }

    /// The server left the cluster: refuse new acquisitions, close connections in use when they
    /// come back, and hand over the idle ones (to be closed with GOODBYE).
    pub(crate) fn retire(&self) -> Vec<Box<BoltConnection<R>>> {
        let idle = {
            let mut state = self.lock();
            state.closed = true;
            let idle = std::mem::take(&mut state.idle);
            state.total = state.total.saturating_sub(idle.len());
            idle
        };
        self.freed.notify(usize::MAX);
        idle.into_iter().map(|idle| idle.conn).collect()
    }
}

/// `now + timeout`, or far in the future when that overflows the clock.
pub(crate) fn deadline_after<R: Runtime>(runtime: &R, timeout: Duration) -> Instant {
    let now = runtime.now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

struct SlotGuard<'a, R: Runtime> {
    pool: &'a Pool<R>,
}

impl<R: Runtime> Drop for SlotGuard<'_, R> {
    fn drop(&mut self) {
        self.pool.forget_slot();
    }
}

/// A connection checked out of the pool; returned (or discarded) on drop.
pub(crate) struct PooledConnection<R: Runtime> {
    conn: Option<Box<BoltConnection<R>>>,
    pool: Arc<Pool<R>>,
    /// The server answered on this connection during this acquisition: the HELLO of a new
    /// connection, or the liveness check's RESET of a pooled one.
    just_answered: bool,
}

impl<R: Runtime> PooledConnection<R> {
    fn new(pool: Arc<Pool<R>>, conn: Box<BoltConnection<R>>, just_answered: bool) -> Self {
        pool.in_use.fetch_add(1, Ordering::Relaxed);
        PooledConnection {
            conn: Some(conn),
            pool,
            just_answered,
        }
    }

    /// Whether the server answered on this connection during its acquisition (no further
    /// round trip is needed to know it is alive).
    pub(crate) fn just_answered(&self) -> bool {
        self.just_answered
    }

    /// Close the connection instead of returning it.
    pub(crate) fn discard(&mut self) {
        if self.conn.take().is_some() {
            self.pool.in_use.fetch_sub(1, Ordering::Relaxed);
            self.pool.forget_slot();
        }
    }
}

impl<R: Runtime> Deref for PooledConnection<R> {
    type Target = BoltConnection<R>;
    fn deref(&self) -> &Self::Target {
        // Only `discard` and `drop` take the connection out, and both end its use.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("pooled connection used after discard"))
    }
}

impl<R: Runtime> DerefMut for PooledConnection<R> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("pooled connection used after discard"))
    }
}

impl<R: Runtime> Drop for PooledConnection<R> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.in_use.fetch_sub(1, Ordering::Relaxed);
            self.pool.release(conn);
        }
    }
}
