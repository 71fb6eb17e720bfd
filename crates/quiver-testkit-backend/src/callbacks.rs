//! Driver callbacks whose code lives in the suite: auth token managers, the providers of the
//! driver's basic/bearer auth managers, bookmark suppliers/consumers, and custom address
//! resolvers. Each is an ordinary
//! Quiver callback that asks the suite over [`SuiteLink::call`].

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quiver_tokio::{
    Address, AddressResolver, AuthManager, AuthToken, BookmarkManager, Bookmarks, ExpiringAuth,
    ExpiringAuthManager, ServerError,
};
use serde_json::{Map, Value as Json, json};

use crate::backend::auth_token;
use crate::convert::value_to_json;
use crate::suite::SuiteLink;

/// An auth token as TestKit's `AuthorizationToken` object (only the fields the token has, so
/// that the suite's equality check on the token it handed out holds).
pub(crate) fn token_json(token: &AuthToken) -> Json {
    let mut data = Map::new();
    data.insert("scheme".to_owned(), json!(token.scheme));
    for (key, value) in [
        ("principal", &token.principal),
        ("credentials", &token.credentials),
        ("realm", &token.realm),
    ] {
        if let Some(value) = value {
            data.insert(key.to_owned(), json!(value));
        }
    }
    if !token.parameters.is_empty() {
        let parameters: Map<String, Json> = token
            .parameters
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), value_to_json(v).ok()?)))
            .collect();
        data.insert("parameters".to_owned(), Json::Object(parameters));
    }
    json!({ "name": "AuthorizationToken", "data": data })
}

/// Ask the suite for a token with callback request `name`; the answer's `auth` field holds it
/// (`field_of_auth` digs further, for `AuthTokenAndExpiration`).
fn ask_for_token(
    link: &SuiteLink,
    name: &str,
    manager_key: &str,
    id: &str,
) -> Result<Json, String> {
    let mut data = Map::new();
    data.insert(manager_key.to_owned(), json!(id));
    let answer = link.call(name, data).map_err(|e| e.to_string())?;
    answer
        .field("auth")
        .cloned()
        .ok_or_else(|| format!("the suite's answer to {name} has no auth"))
}

/// A token the suite's callback failed to give: the request goes on unauthenticated (and the
/// server refuses it, which the test sees), since Quiver's `get_auth` cannot fail.
fn no_token(why: &str) -> AuthToken {
    eprintln!("quiver-testkit-backend: no auth token from the suite: {why}");
    AuthToken::none()
}

/// `NewAuthTokenManager`: an [`AuthManager`] whose two methods are the suite's.
pub(crate) struct SuiteAuthManager {
    id: String,
    link: Arc<SuiteLink>,
}

impl SuiteAuthManager {
    /// The manager the suite knows as `id`.
    pub(crate) fn new(id: String, link: Arc<SuiteLink>) -> Self {
        SuiteAuthManager { id, link }
    }
}

impl fmt::Debug for SuiteAuthManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuiteAuthManager")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl AuthManager for SuiteAuthManager {
    fn get_auth(&self, _now: Instant) -> AuthToken {
        let token = ask_for_token(
            &self.link,
            "AuthTokenManagerGetAuthRequest",
            "authTokenManagerId",
            &self.id,
        )
        .and_then(|json| auth_token(&json));
        token.unwrap_or_else(|why| no_token(&why))
    }

    fn handle_security_error(&self, token: &AuthToken, error: &ServerError) -> bool {
        let mut data = Map::new();
        data.insert("authTokenManagerId".to_owned(), json!(self.id));
        data.insert("auth".to_owned(), token_json(token));
        data.insert("errorCode".to_owned(), json!(error.code));
        match self
            .link
            .call("AuthTokenManagerHandleSecurityExceptionRequest", data)
        {
            Ok(answer) => answer.bool("handled").unwrap_or(false),
            Err(e) => {
                eprintln!("quiver-testkit-backend: {e}");
                false
            }
        }
    }
}

/// `NewBasicAuthTokenManager`: the driver's own [`ExpiringAuthManager::basic`] over the suite's
/// token provider.
pub(crate) fn basic_manager(id: String, link: Arc<SuiteLink>) -> Arc<ExpiringAuthManager> {
    ExpiringAuthManager::basic(move |_now| {
        let token = ask_for_token(
            &link,
            "BasicAuthTokenProviderRequest",
            "basicAuthTokenManagerId",
            &id,
        )
        .and_then(|json| auth_token(&json));
        ExpiringAuth {
            token: token.unwrap_or_else(|why| no_token(&why)),
            expires_at: None,
        }
    })
}

/// `NewBearerAuthTokenManager`: the driver's own [`ExpiringAuthManager::bearer`] over the
/// suite's provider, whose answer (`AuthTokenAndExpiration`) says how long the token lasts.
pub(crate) fn bearer_manager(id: String, link: Arc<SuiteLink>) -> Arc<ExpiringAuthManager> {
    // `now` is the driver runtime's clock, which the expiry is compared with.
    ExpiringAuthManager::bearer(move |now| {
        let answer = ask_for_token(
            &link,
            "BearerAuthTokenProviderRequest",
            "bearerAuthTokenManagerId",
            &id,
        );
        let parsed = answer.and_then(|json| {
            let data = json.get("data").unwrap_or(&json);
            let token = data
                .get("auth")
                .ok_or("AuthTokenAndExpiration without auth")
                .map_err(str::to_owned)
                .and_then(auth_token)?;
            let expires_in = data
                .get("expiresInMs")
                .and_then(Json::as_i64)
                .map(|ms| Duration::from_millis(ms.max(0).unsigned_abs()));
            Ok((token, expires_in))
        });
        match parsed {
            Ok((token, expires_in)) => ExpiringAuth {
                token,
                expires_at: expires_in.map(|ttl| now + ttl),
            },
            Err(why) => ExpiringAuth {
                token: no_token(&why),
                expires_at: None,
            },
        }
    })
}

/// `NewBookmarkManager`: the driver's [`BookmarkManager`], with the suite's supplier and
/// consumer when the test registered them.
pub(crate) fn bookmark_manager(
    id: &str,
    link: Option<Arc<SuiteLink>>,
    initial: Bookmarks,
    with_supplier: bool,
    with_consumer: bool,
) -> Result<BookmarkManager, String> {
    let link = match link {
        Some(link) => link,
        None if !with_supplier && !with_consumer => {
            return Ok(BookmarkManager::with_initial(initial));
        }
        None => return Err("bookmark manager callbacks need a suite connection".to_owned()),
    };
    let supplier = with_supplier.then(|| {
        let link = link.clone();
        let id = id.to_owned();
        Box::new(move || {
            let mut data = Map::new();
            data.insert("bookmarkManagerId".to_owned(), json!(id));
            match link.call("BookmarksSupplierRequest", data) {
                Ok(answer) => answer
                    .field("bookmarks")
                    .and_then(Json::as_array)
                    .map(|list| list.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default(),
                Err(e) => {
                    eprintln!("quiver-testkit-backend: {e}");
                    Bookmarks::new()
                }
            }
        }) as Box<quiver_tokio::BookmarksSupplier>
    });
    let consumer = with_consumer.then(|| {
        let id = id.to_owned();
        Box::new(move |bookmarks: &Bookmarks| {
            let mut data = Map::new();
            data.insert("bookmarkManagerId".to_owned(), json!(id));
            data.insert("bookmarks".to_owned(), json!(bookmarks.to_vec()));
            if let Err(e) = link.call("BookmarksConsumerRequest", data) {
                eprintln!("quiver-testkit-backend: {e}");
            }
        }) as Box<quiver_tokio::BookmarksConsumer>
    });
    Ok(BookmarkManager::with_callbacks(initial, supplier, consumer))
}

/// `NewDriver` with `resolverRegistered`: an [`AddressResolver`] that asks the suite
/// (`ResolverResolutionRequired {id, address}` → `ResolverResolutionCompleted {requestId,
/// addresses}`).
pub(crate) struct SuiteResolver {
    link: Arc<SuiteLink>,
}

impl SuiteResolver {
    pub(crate) fn new(link: Arc<SuiteLink>) -> Self {
        SuiteResolver { link }
    }
}

impl AddressResolver for SuiteResolver {
    fn resolve(&self, address: &Address) -> Vec<Address> {
        let mut data = Map::new();
        data.insert("address".to_owned(), json!(address.to_string()));
        let answer = match self.link.call("ResolverResolutionRequired", data) {
            Ok(answer) => answer,
            Err(e) => {
                // No addresses: the connection fails with ServiceUnavailable, which the test sees.
                eprintln!("quiver-testkit-backend: {e}");
                return Vec::new();
            }
        };
        addresses_of(answer.field("addresses"))
    }
}

/// `NewDriver` with `domainNameResolverRegistered`: names are resolved by asking the suite
/// (`DomainNameResolutionRequired {id, name}` → `DomainNameResolutionCompleted {requestId,
/// addresses}`), through [`BackendRuntime`](crate::clock::BackendRuntime)'s `resolve`.
#[derive(Debug)]
pub(crate) struct SuiteDns {
    link: Arc<SuiteLink>,
}

impl SuiteDns {
    pub(crate) fn new(link: Arc<SuiteLink>) -> Self {
        SuiteDns { link }
    }

    /// The suite's addresses for `name`.
    pub(crate) fn resolve(&self, name: &str) -> std::io::Result<Vec<String>> {
        let mut data = Map::new();
        data.insert("name".to_owned(), json!(name));
        let answer = self
            .link
            .call("DomainNameResolutionRequired", data)
            .map_err(std::io::Error::other)?;
        Ok(answer
            .field("addresses")
            .and_then(Json::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect())
    }
}

/// The `host:port` strings of a `ResolverResolutionCompleted`; unparsable entries are reported
/// and left out.
fn addresses_of(addresses: Option<&Json>) -> Vec<Address> {
    addresses
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|entry| {
            let parsed = entry
                .as_str()
                .ok_or_else(|| format!("{entry} is not a string"))
                .and_then(|text| Address::parse(text).map_err(|e| e.to_string()));
            parsed
                .map_err(|why| {
                    eprintln!("quiver-testkit-backend: resolver address left out: {why}")
                })
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_keep_only_the_fields_they_have() {
        let token = token_json(&AuthToken::basic("neo4j", "pass"));
        assert_eq!(
            token,
            json!({"name": "AuthorizationToken",
                   "data": {"scheme": "basic", "principal": "neo4j", "credentials": "pass"}})
        );
        let back = auth_token(&token).unwrap();
        assert_eq!(back, AuthToken::basic("neo4j", "pass"));
        let bearer = token_json(&AuthToken::bearer("t"));
        assert_eq!(
            bearer["data"],
            json!({"scheme": "bearer", "credentials": "t"})
        );
    }

    #[test]
    fn resolver_answers_become_addresses() {
        let addresses = addresses_of(Some(&json!(["127.100.200.42:7687", "[::1]", 7, "x:y"])));
        assert_eq!(
            addresses,
            [
                Address::new("127.100.200.42", 7687),
                Address::new("::1", 7687)
            ]
        );
        assert!(addresses_of(None).is_empty());
    }
}
