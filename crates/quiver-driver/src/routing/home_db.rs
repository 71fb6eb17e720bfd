//! The home-database cache of Bolt 5.8+ (optimistic routing), bounded in size.
//!
//! A session without a database must find out which database is its user's home one. Before
//! Bolt 5.8 that takes a ROUTE per session. From 5.8, with server-side routing on everywhere
//! (see [`SsrTracker`](super::SsrTracker)), the driver remembers the answer per user and routes
//! with it at once, sending BEGIN/RUN without `db`: the server resolves the home database itself
//! (forwarding the query if the guess was wrong) and names it in its SUCCESS, which corrects
//! the cache.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use quiver_bolt::AuthToken;

/// How many users' home databases are kept (the Go and Rust drivers' size).
pub(crate) const HOME_DB_CACHE_SIZE: usize = 1000;

/// Whose home database an entry is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum HomeDbKey {
    /// Work with the driver's own credentials: every driver-level token (also a rotating auth
    /// manager's) is the same user.
    DriverUser,
    /// An impersonated user, or the principal of a session's `basic` token (the same user name
    /// either way).
    User(String),
    /// A session's token of another scheme, compared whole.
    Token(TokenKey),
}

impl HomeDbKey {
    /// The key of a session: impersonation first, then the session's token, then the driver's.
    pub(crate) fn new(impersonated_user: Option<&str>, session_auth: Option<&AuthToken>) -> Self {
        if let Some(user) = impersonated_user {
            return HomeDbKey::User(user.to_owned());
        }
        match session_auth {
            Some(token) if token.scheme == "basic" => {
                HomeDbKey::User(token.principal.clone().unwrap_or_default())
            }
            Some(token) => HomeDbKey::Token(TokenKey(token.clone())),
            None => HomeDbKey::DriverUser,
        }
    }
}

/// A whole token as a key (its parameters compared regardless of order).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TokenKey(AuthToken);

impl Eq for TokenKey {}

impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Equal tokens agree on these; the parameters only take part in `eq`.
        self.0.scheme.hash(state);
        self.0.principal.hash(state);
        self.0.credentials.hash(state);
        self.0.realm.hash(state);
    }
}

/// Home databases by user, least recently used ones evicted in bulk when full.
#[derive(Debug)]
pub(crate) struct HomeDbCache {
    entries: HashMap<HomeDbKey, (String, u64)>,
    /// Bumped on every use: the entries' recency.
    clock: u64,
    max_size: usize,
    /// How many entries go when the cache overflows: `max(1, round(0.01·n·ln n))` (69 of 1000),
    /// as the Go, JavaScript and Rust drivers do, so that eviction is rare and cheap.
    evict: usize,
}

impl Default for HomeDbCache {
    fn default() -> Self {
        HomeDbCache::new(HOME_DB_CACHE_SIZE)
    }
}

impl HomeDbCache {
    pub(crate) fn new(max_size: usize) -> Self {
        let n = max_size as f64;
        let evict = if max_size > 1 {
            ((0.01 * n * n.ln()).round() as usize).clamp(1, max_size)
        } else {
            1
        };
        HomeDbCache {
            entries: HashMap::new(),
            clock: 0,
            max_size,
            evict,
        }
    }

    /// The home database cached for `key`, marked as just used.
    pub(crate) fn get(&mut self, key: &HomeDbKey) -> Option<String> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(database, used)| {
            *used = clock;
            database.clone()
        })
    }

    /// Remember `database` as the home database of `key`.
    pub(crate) fn insert(&mut self, key: HomeDbKey, database: String) {
        self.clock += 1;
        if self.entries.insert(key, (database, self.clock)).is_none()
            && self.entries.len() > self.max_size
        {
            let mut by_age: Vec<(u64, HomeDbKey)> = self
                .entries
                .iter()
                .map(|(key, (_, used))| (*used, key.clone()))
                .collect();
            by_age.sort_unstable_by_key(|(used, _)| *used);
            for (_, key) in by_age.into_iter().take(self.evict) {
                self.entries.remove(&key);
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_prefer_impersonation_then_session_auth_then_the_driver() {
        let basic = AuthToken::basic("alice", "secret");
        let bearer = AuthToken::bearer("token");
        assert_eq!(
            HomeDbKey::new(Some("bob"), Some(&basic)),
            HomeDbKey::User("bob".into())
        );
        // A basic token's principal is the same user as that impersonated name.
        assert_eq!(
            HomeDbKey::new(None, Some(&basic)),
            HomeDbKey::new(Some("alice"), None)
        );
        assert_eq!(
            HomeDbKey::new(None, Some(&AuthToken::basic("alice", "other password"))),
            HomeDbKey::User("alice".into())
        );
        assert_eq!(HomeDbKey::new(None, None), HomeDbKey::DriverUser);
        let token_key = HomeDbKey::new(None, Some(&bearer));
        assert_eq!(
            token_key,
            HomeDbKey::new(None, Some(&AuthToken::bearer("token")))
        );
        assert_ne!(
            token_key,
            HomeDbKey::new(None, Some(&AuthToken::bearer("other")))
        );
    }

    #[test]
    fn hits_misses_and_updates() {
        let mut cache = HomeDbCache::default();
        let alice = HomeDbKey::User("alice".into());
        assert_eq!(cache.get(&alice), None);
        cache.insert(alice.clone(), "db1".into());
        assert_eq!(cache.get(&alice).as_deref(), Some("db1"));
        cache.insert(alice.clone(), "db2".into());
        assert_eq!(cache.get(&alice).as_deref(), Some("db2"));
        assert_eq!(cache.get(&HomeDbKey::DriverUser), None);
    }

    #[test]
    fn overflow_evicts_the_least_recently_used_in_bulk() {
        let mut cache = HomeDbCache::new(1000);
        assert_eq!(cache.evict, 69);
        for i in 0..1000 {
            cache.insert(HomeDbKey::User(format!("u{i}")), "db".into());
        }
        // u0 is used again: it is no longer among the oldest.
        assert!(cache.get(&HomeDbKey::User("u0".into())).is_some());
        cache.insert(HomeDbKey::User("new".into()), "db".into());
        assert_eq!(cache.len(), 1001 - 69);
        assert!(cache.get(&HomeDbKey::User("u0".into())).is_some());
        assert!(cache.get(&HomeDbKey::User("u1".into())).is_none());
        assert!(cache.get(&HomeDbKey::User("u69".into())).is_none());
        assert!(cache.get(&HomeDbKey::User("u70".into())).is_some());
        assert!(cache.get(&HomeDbKey::User("new".into())).is_some());
        assert_eq!(HomeDbCache::new(1).evict, 1);
        assert_eq!(HomeDbCache::new(10).evict, 1);
    }
}
