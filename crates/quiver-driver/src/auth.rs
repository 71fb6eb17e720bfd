//! Auth managers: where the driver gets its credentials, and how it refreshes them.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use quiver_bolt::AuthToken;

use crate::error::ServerError;

/// Supplies the auth token for new connections (and for re-authenticating pooled ones).
///
/// The driver calls [`get_auth`](AuthManager::get_auth) whenever it hands out a connection; a
/// pooled connection whose token differs is re-authenticated in place with LOGOFF + LOGON (Bolt
/// 5.1+) or replaced by a new connection (older servers). Keep `get_auth` cheap: cache the token.
pub trait AuthManager: Send + Sync + fmt::Debug + 'static {
    /// The token to use at `now`, an instant of the driver's clock
    /// ([`Runtime::now`](crate::Runtime::now)): compare expiry times against it, not against
    /// [`Instant::now`], so that a runtime with its own clock (e.g. simulated time in tests)
    /// expires tokens on that clock.
    fn get_auth(&self, now: Instant) -> AuthToken;

    /// The server answered a request on a connection authenticated with `token` (a token this
    /// manager gave) with a `Neo.ClientError.Security.*` failure (e.g. `TokenExpired`). Return
    /// `true` if a new token will be available, so that the failed work is worth retrying.
    ///
    /// Called once per such failure, whatever request it answered (HELLO/LOGON while a
    /// connection is acquired, RUN, PULL, BEGIN, COMMIT, ROLLBACK; in auto-commit queries,
    /// explicit transactions, transaction functions and `execute_query` alike), as the official
    /// drivers' `handle_security_exception`; never for a connection authenticated with
    /// per-session auth ([`SessionConfig::with_auth`](crate::SessionConfig::with_auth)). When it
    /// returns `true` the error is retryable
    /// ([`ServerError::handled_by_auth_manager`](crate::ServerError::handled_by_auth_manager)),
    /// so transaction functions run the work again. It is called from the task that reads the
    /// failure: keep it quick.
    fn handle_security_error(&self, token: &AuthToken, error: &ServerError) -> bool;
}

/// The same token forever (what `Driver::new(uri, token)` uses).
#[derive(Clone)]
pub struct StaticAuthManager(AuthToken);

impl StaticAuthManager {
    /// Always `token`.
    pub fn new(token: AuthToken) -> Self {
        StaticAuthManager(token)
    }
}

impl fmt::Debug for StaticAuthManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StaticAuthManager").field(&self.0).finish()
    }
}

impl AuthManager for StaticAuthManager {
    fn get_auth(&self, _now: Instant) -> AuthToken {
        self.0.clone()
    }
    fn handle_security_error(&self, _token: &AuthToken, _error: &ServerError) -> bool {
        false
    }
}

/// A token with an optional expiry, as returned by a provider.
#[derive(Debug, Clone)]
pub struct ExpiringAuth {
    /// The token.
    pub token: AuthToken,
    /// When to ask the provider for a new one (`None`: only after the server rejects it), on the
    /// driver's clock: compute it from the `now` the provider is called with (`now + lifetime`).
    pub expires_at: Option<Instant>,
}

/// Called with the driver's current instant ([`Runtime::now`](crate::Runtime::now)).
type Provider = dyn Fn(Instant) -> ExpiringAuth + Send + Sync;

/// Calls a provider for a new token when the current one expires (on the driver's clock), or
/// when the server rejects it: for [`bearer`](Self::bearer) on `Neo.ClientError.Security.TokenExpired`
/// and `Unauthorized`, for [`basic`](Self::basic) on `Unauthorized` (e.g. after a password
/// rotation), as the official drivers' `AuthManagers.bearer` / `AuthManagers.basic` do.
pub struct ExpiringAuthManager {
    provider: Box<Provider>,
    current: Mutex<Option<ExpiringAuth>>,
    refresh_on: &'static [&'static str],
}

impl fmt::Debug for ExpiringAuthManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpiringAuthManager")
            .field("refresh_on", &self.refresh_on)
            .finish_non_exhaustive()
    }
}

impl ExpiringAuthManager {
    /// For bearer tokens (SSO): refreshed on expiry, `TokenExpired` and `Unauthorized`. The
    /// provider gets the driver's current instant, to set [`ExpiringAuth::expires_at`] from.
    pub fn bearer(provider: impl Fn(Instant) -> ExpiringAuth + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(ExpiringAuthManager {
            provider: Box::new(provider),
            current: Mutex::new(None),
            refresh_on: &[
                "Neo.ClientError.Security.TokenExpired",
                "Neo.ClientError.Security.Unauthorized",
            ],
        })
    }

    /// For rotating passwords: refreshed on expiry and on `Unauthorized` (a `TokenExpired` is not
    /// handled: a password does not expire that way). The provider gets the driver's current
    /// instant, to set [`ExpiringAuth::expires_at`] from.
    pub fn basic(provider: impl Fn(Instant) -> ExpiringAuth + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(ExpiringAuthManager {
            provider: Box::new(provider),
            current: Mutex::new(None),
            refresh_on: &["Neo.ClientError.Security.Unauthorized"],
        })
    }
}

impl AuthManager for ExpiringAuthManager {
    fn get_auth(&self, now: Instant) -> AuthToken {
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = current
            .as_ref()
            .is_some_and(|auth| auth.expires_at.is_none_or(|at| now < at));
        if !fresh {
            *current = Some((self.provider)(now));
        }
        current
            .as_ref()
            .map(|auth| auth.token.clone())
            .unwrap_or_else(AuthToken::none)
    }

    fn handle_security_error(&self, token: &AuthToken, error: &ServerError) -> bool {
        if !self.refresh_on.contains(&error.code.as_str()) {
            return false;
        }
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if current.as_ref().is_some_and(|auth| &auth.token == token) {
            *current = None;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn expiring_managers_refresh_on_expiry_and_on_token_expired() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let manager = ExpiringAuthManager::bearer(move |now| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            ExpiringAuth {
                token: AuthToken::bearer(format!("token-{n}")),
                expires_at: Some(now + Duration::from_secs(3600)),
            }
        });
        let t0 = Instant::now();
        let first = manager.get_auth(t0);
        assert_eq!(manager.get_auth(t0 + Duration::from_secs(3599)), first);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Expiry is judged by the instant the driver passes, not by the system clock.
        let second = manager.get_auth(t0 + Duration::from_secs(3600));
        assert_ne!(second, first);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let expired = ServerError::new("Neo.ClientError.Security.TokenExpired", "expired");
        assert!(manager.handle_security_error(&second, &expired));
        assert_ne!(manager.get_auth(t0 + Duration::from_secs(3600)), second);
        let other = ServerError::new("Neo.ClientError.Security.Forbidden", "no");
        assert!(!manager.handle_security_error(&first, &other));
        // A password manager refreshes on Unauthorized only.
        let basic = ExpiringAuthManager::basic(|_| ExpiringAuth {
            token: AuthToken::basic("u", "p"),
            expires_at: None,
        });
        let unauthorized = ServerError::new("Neo.ClientError.Security.Unauthorized", "no");
        assert!(basic.handle_security_error(&first, &unauthorized));
        assert!(!basic.handle_security_error(&first, &expired));
        assert!(!StaticAuthManager::new(first.clone()).handle_security_error(&first, &expired));
    }
}
