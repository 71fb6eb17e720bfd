//! One suite connection: requests are read one at a time and answered in order. Driver-level
//! requests are served here; everything about a session, its transactions and its results goes
//! to that session's task (see [`crate::session`]).

use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use std::sync::Arc;

use quiver_tokio::{
    AuthManager, AuthToken, BookmarkManager, Bookmarks, Config, Map, NotificationFilter, Query,
    RetryConfig, RoutingControl, SessionConfig,
};
use serde_json::{Value as Json, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use crate::callbacks;
use crate::clock::{BackendRuntime, Driver};
use crate::convert::{self, map_from_json};
use crate::errors::Shared;
use crate::features;
use crate::protocol::{Request, backend_error, not_implemented, response};
use crate::session::{self, Command};
use crate::suite::{self, SuiteLink};

/// Serve one suite connection until it closes.
///
/// The socket is read by a thread of its own (see [`crate::suite`]), so that driver callbacks
/// can wait for the suite's answers while a request is being served.
pub(crate) async fn serve_connection(stream: TcpStream) -> std::io::Result<()> {
    let stream = stream.into_std()?;
    stream.set_nonblocking(false)?;
    let (link, mut requests) = suite::split(stream)?;
    let link = Arc::new(link);
    let mut backend = Backend {
        link: Some(link.clone()),
        ..Backend::default()
    };
    while let Some(request) = requests.recv().await {
        let request = match request {
            Ok(request) => request,
            Err(crate::protocol::ReadError::Io(e)) => return Err(e),
            Err(malformed) => {
                link.send(&backend_error(malformed.to_string()))?;
                continue;
            }
        };
        let answer = backend.handle(request).await;
        link.send(&answer)?;
    }
    backend.shutdown().await;
    Ok(())
}

#[derive(Default)]
struct Backend {
    shared: Rc<Shared>,
    drivers: HashMap<String, Driver>,
    sessions: HashMap<String, mpsc::UnboundedSender<Command>>,
    bookmark_managers: HashMap<String, BookmarkManager>,
    /// Auth token managers by id (`NewAuthTokenManager`, `NewBasicAuthTokenManager`,
    /// `NewBearerAuthTokenManager`: one id space, as the suite wants).
    auth_managers: HashMap<String, Arc<dyn AuthManager>>,
    /// Where each driver's credentials come from, for `VerifyAuthentication` without a token.
    driver_auth: HashMap<String, DriverAuth>,
    /// The suite connection, for callbacks (absent in unit tests).
    link: Option<Arc<SuiteLink>>,
    /// The runtime of every driver of this connection, with its fake clock.
    runtime: BackendRuntime,
    /// Whether the current subtest was answered with `SkipTest`. TestKit still runs its body and
    /// ignores the outcome; see [`Backend::new_driver`].
    in_skipped_subtest: bool,
    /// Drivers that could not be created inside a skipped subtest, and their sessions (see
    /// [`Backend::new_driver`]).
    inert: std::collections::HashSet<String>,
}

/// The credentials a driver was created with.
#[derive(Clone)]
enum DriverAuth {
    Token(AuthToken),
    Manager(Arc<dyn AuthManager>),
}

/// A `Duration` from a millisecond field.
fn millis(request: &Request, key: &str) -> Option<Duration> {
    request
        .int(key)
        .map(|ms| Duration::from_millis(ms.max(0).unsigned_abs()))
}

/// An auth token from TestKit's `AuthorizationToken` object.
pub(crate) fn auth_token(json: &Json) -> Result<AuthToken, String> {
    let data = json.get("data").unwrap_or(json);
    let text = |key: &str| data.get(key).and_then(Json::as_str).map(str::to_owned);
    let scheme = text("scheme").ok_or("an auth token without a scheme")?;
    Ok(match scheme.as_str() {
        "basic" => {
            let principal = text("principal").unwrap_or_default();
            let credentials = text("credentials").unwrap_or_default();
            match text("realm").filter(|r| !r.is_empty()) {
                Some(realm) => AuthToken::basic_with_realm(principal, credentials, realm),
                None => AuthToken::basic(principal, credentials),
            }
        }
        "bearer" => AuthToken::bearer(text("credentials").unwrap_or_default()),
        "kerberos" => AuthToken::kerberos(text("credentials").unwrap_or_default()),
        "none" => AuthToken::none(),
        _ => {
            let parameters = match data.get("parameters") {
                Some(p) if !p.is_null() => match convert::value_from_plain_json(p)? {
                    quiver_tokio::Value::Map(map) => map,
                    _ => return Err("auth token parameters are not a map".into()),
                },
                _ => Map::new(),
            };
            AuthToken::custom(
                scheme,
                text("principal"),
                text("credentials"),
                text("realm"),
                parameters,
            )
        }
    })
}

/// Notification filters from `notificationsMinSeverity` / `notificationsDisabledCategories`.
fn notification_filter(request: &Request) -> NotificationFilter {
    let mut filter = NotificationFilter::default();
    if let Some(severity) = request.str("notificationsMinSeverity") {
        filter.minimum_severity = Some(severity.to_owned());
    }
    if let Some(categories) = request.field("notificationsDisabledCategories") {
        filter.disabled_classifications = categories.as_array().map(|list| {
            list.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        });
    }
    filter
}

impl Backend {
    async fn shutdown(&mut self) {
        self.sessions.clear();
        for (_, driver) in self.drivers.drain() {
            driver.close().await;
        }
    }

    fn driver(&self, request: &Request, key: &str) -> Result<Driver, Json> {
        let id = request.id(key).unwrap_or_default();

        self.drivers
            .get(&id)
            .cloned()
            .ok_or_else(|| backend_error(format!("no driver with id {id:?}")))
    }

    async fn handle(&mut self, request: Request) -> Json {
        match self.dispatch(request).await {
            Ok(answer) | Err(answer) => answer,
        }
    }

    /// Requests about an inert driver or session (see [`Backend::new_driver`]).
    fn inert_answer(&mut self, request: &Request) -> Option<Json> {
        let id = ["driverId", "sessionId"]
            .iter()
            .find_map(|key| request.id(key))
            .filter(|id| self.inert.contains(id))?;
        Some(match request.name.as_str() {
            "NewSession" => {
                let session = self.shared.new_id();
                self.inert.insert(session.clone());
                response("Session", json!({ "id": session }))
            }
            "DriverClose" => response("Driver", json!({ "id": id })),
            "SessionClose" => response("Session", json!({ "id": id })),
            name => backend_error(format!(
                "{name}: {id} belongs to a skipped subtest whose driver Quiver could not create"
            )),
        })
    }

    async fn dispatch(&mut self, request: Request) -> Result<Json, Json> {
        if let Some(answer) = self.inert_answer(&request) {
            return Ok(answer);
        }
        let name = request.name.as_str();
        match name {
            "StartTest" => {
                let test = request.str("testName").unwrap_or_default();
                Ok(match features::start_test(test) {
                    (answer, Some(reason)) => response(answer, json!({ "reason": reason })),
                    (answer, None) => response(answer, json!({})),
                })
            }
            "StartSubTest" => {
                let arguments = request
                    .field("subtestArguments")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default();
                let skip = features::start_subtest(&arguments);
                self.in_skipped_subtest = skip.is_some();
                Ok(match skip {
                    Some(reason) => response("SkipTest", json!({ "reason": reason })),
                    None => response("RunTest", json!({})),
                })
            }
            "GetFeatures" => Ok(response(
                "FeatureList",
                json!({ "features": features::FEATURES }),
            )),
            "NewDriver" => self.new_driver(&request),
            "FakeTimeInstall" => {
                self.runtime.install();
                Ok(response("FakeTimeAck", json!({})))
            }
            "FakeTimeTick" => {
                let by = millis(&request, "incrementMs").unwrap_or_default();
                self.runtime.tick(by);
                Ok(response("FakeTimeAck", json!({})))
            }
            "FakeTimeUninstall" => {
                self.runtime.uninstall();
                Ok(response("FakeTimeAck", json!({})))
            }
            "VerifyConnectivity" => {
                let driver = self.driver(&request, "driverId")?;
                match driver.verify_connectivity().await {
                    Ok(()) => Ok(response("Driver", json!({ "id": request.id("driverId") }))),
                    Err(e) => Err(self.shared.driver_error(e)),
                }
            }
            "GetServerInfo" => {
                let driver = self.driver(&request, "driverId")?;
                match driver.get_server_info().await {
                    Ok(info) => Ok(response("ServerInfo", convert::server_info_json(&info))),
                    Err(e) => Err(self.shared.driver_error(e)),
                }
            }
            "CheckMultiDBSupport" => {
                let driver = self.driver(&request, "driverId")?;
                match driver.supports_multi_db().await {
                    Ok(available) => Ok(response(
                        "MultiDBSupport",
                        json!({ "id": request.id("driverId"), "available": available }),
                    )),
                    Err(e) => Err(self.shared.driver_error(e)),
                }
            }
            "CheckSessionAuthSupport" => {
                let driver = self.driver(&request, "driverId")?;
                match driver.supports_session_auth().await {
                    Ok(available) => Ok(response(
                        "SessionAuthSupport",
                        json!({ "id": request.id("driverId"), "available": available }),
                    )),
                    Err(e) => Err(self.shared.driver_error(e)),
                }
            }
            "CheckDriverIsEncrypted" => {
                let driver = self.driver(&request, "driverId")?;
                Ok(response(
                    "DriverIsEncrypted",
                    json!({ "encrypted": driver.encrypted() }),
                ))
            }
            "DriverClose" => {
                let id = request.id("driverId").unwrap_or_default();

                let driver = self.driver(&request, "driverId")?;
                driver.close().await;
                Ok(response("Driver", json!({ "id": id })))
            }
            "NewBookmarkManager" => {
                let initial: Bookmarks = request
                    .field("initialBookmarks")
                    .and_then(Json::as_array)
                    .map(|list| list.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default();
                let id = self.shared.new_id();
                let manager = callbacks::bookmark_manager(
                    &id,
                    self.link.clone(),
                    initial,
                    request.bool("bookmarksSupplierRegistered") == Some(true),
                    request.bool("bookmarksConsumerRegistered") == Some(true),
                )
                .map_err(backend_error)?;
                self.bookmark_managers.insert(id.clone(), manager);
                Ok(response("BookmarkManager", json!({ "id": id })))
            }
            "NewAuthTokenManager" | "NewBasicAuthTokenManager" | "NewBearerAuthTokenManager" => {
                let link = self
                    .link
                    .clone()
                    .ok_or_else(|| backend_error("auth token managers need a suite connection"))?;
                let id = self.shared.new_id();
                let (manager, answer): (Arc<dyn AuthManager>, &str) = match name {
                    "NewAuthTokenManager" => (
                        Arc::new(callbacks::SuiteAuthManager::new(id.clone(), link)),
                        "AuthTokenManager",
                    ),
                    "NewBasicAuthTokenManager" => (
                        callbacks::basic_manager(id.clone(), link),
                        "BasicAuthTokenManager",
                    ),
                    _ => (
                        callbacks::bearer_manager(id.clone(), link),
                        "BearerAuthTokenManager",
                    ),
                };
                self.auth_managers.insert(id.clone(), manager);
                Ok(response(answer, json!({ "id": id })))
            }
            "AuthTokenManagerClose" => {
                let id = request.id("id").unwrap_or_default();
                self.auth_managers.remove(&id);
                Ok(response("AuthTokenManager", json!({ "id": id })))
            }
            "VerifyAuthentication" => {
                let driver_id = request.id("driverId").unwrap_or_default();
                let driver = self.driver(&request, "driverId")?;
                let token = match request.field("authorizationToken") {
                    Some(token) => auth_token(token).map_err(backend_error)?,
                    // No token: the driver's own credentials, as official drivers do.
                    None => match self.driver_auth.get(&driver_id) {
                        Some(DriverAuth::Token(token)) => token.clone(),
                        Some(DriverAuth::Manager(manager)) => {
                            manager.get_auth(quiver_tokio::Runtime::now(&self.runtime))
                        }
                        None => return Err(backend_error(format!("no driver {driver_id:?}"))),
                    },
                };
                match driver.verify_authentication(&token).await {
                    Ok(authenticated) => Ok(response(
                        "DriverIsAuthenticated",
                        json!({ "id": driver_id, "authenticated": authenticated }),
                    )),
                    Err(e) => Err(self.shared.driver_error(e)),
                }
            }
            "BookmarkManagerClose" => {
                let id = request.id("id").unwrap_or_default();
                self.bookmark_managers.remove(&id);
                Ok(response("BookmarkManager", json!({ "id": id })))
            }
            "GetRoutingTable" => {
                let driver = self.driver(&request, "driverId")?;
                let database = request.str("database");
                // After a failed discovery the table still exists (empty lists); a database
                // never routed to has no table: empty lists too.
                let table = driver.routing_table(database);
                let list = |addresses: Option<&Vec<quiver_tokio::Address>>| -> Vec<String> {
                    addresses
                        .map(|a| a.iter().map(ToString::to_string).collect())
                        .unwrap_or_default()
                };
                Ok(response(
                    "RoutingTable",
                    json!({
                        "database": table.as_ref().and_then(|t| t.database.clone()).or(database.map(str::to_owned)),
                        "ttl": table.as_ref().map_or(0, |t| t.ttl.as_secs()),
                        "routers": list(table.as_ref().map(|t| &t.routers)),
                        "readers": list(table.as_ref().map(|t| &t.readers)),
                        "writers": list(table.as_ref().map(|t| &t.writers)),
                    }),
                ))
            }
            "ForcedRoutingTableUpdate" => {
                let driver = self.driver(&request, "driverId")?;
                let bookmarks: Bookmarks = request
                    .field("bookmarks")
                    .and_then(Json::as_array)
                    .map(|list| list.iter().filter_map(Json::as_str).collect())
                    .unwrap_or_default();
                match driver
                    .update_routing_table(request.str("database"), bookmarks)
                    .await
                {
                    Ok(()) => Ok(response("Driver", json!({ "id": request.id("driverId") }))),
                    Err(e) => Err(self.shared.driver_error(e)),
                }
            }
            "GetConnectionPoolMetrics" => {
                let driver = self.driver(&request, "driverId")?;
                let address = request.str("address").unwrap_or_default();
                let address = quiver_tokio::Address::parse(address)
                    .map_err(|e| backend_error(format!("GetConnectionPoolMetrics: {e}")))?;
                let metrics = driver.pool_metrics(&address).unwrap_or_default();
                Ok(response(
                    "ConnectionPoolMetrics",
                    json!({ "inUse": metrics.in_use, "idle": metrics.idle }),
                ))
            }
            "NewSession" => self.new_session(&request),
            "ExecuteQuery" => self.execute_query(&request).await,
            // Closing a session twice (the suite's clean-up after a failed close) is harmless.
            "SessionClose" if self.session_of(&request).is_none() => Ok(response(
                "Session",
                json!({ "id": request.id("sessionId") }),
            )),
            _ => match self.session_of(&request) {
                Some(session_id) => self.forward(&session_id, request).await,
                None if session::handles(name) => Err(backend_error(format!(
                    "{name}: no session owns the id in {:?}",
                    request.data
                ))),
                None => Err(not_implemented(
                    name,
                    "Quiver has no public API for it (or the backend does not map it yet)",
                )),
            },
        }
    }

    fn new_driver(&mut self, request: &Request) -> Result<Json, Json> {
        let uri = request.str("uri").unwrap_or_default();
        let manager = match request.id("authTokenManagerId") {
            Some(id) => Some(
                self.auth_managers
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| backend_error(format!("no auth token manager {id:?}")))?,
            ),
            None => None,
        };
        let runtime = if request.bool("domainNameResolverRegistered") == Some(true) {
            let link = self
                .link
                .clone()
                .ok_or_else(|| backend_error("domain name resolvers need a suite connection"))?;
            // Name resolution is the runtime's (`Runtime::resolve`): this driver's runtime asks
            // the suite.
            self.runtime.with_dns(callbacks::SuiteDns::new(link))
        } else {
            self.runtime.clone()
        };
        if request.field("clientCertificate").is_some()
            || request.field("clientCertificateProviderId").is_some()
        {
            return Err(not_implemented(
                "NewDriver with a client certificate",
                "not mapped by the backend yet",
            ));
        }
        if request.field("encrypted").is_some() || request.data.contains_key("trustedCertificates")
        {
            return Err(not_implemented(
                "NewDriver with `encrypted`/`trustedCertificates`",
                "Quiver takes encryption from the URI scheme (bolt+s, bolt+ssc)",
            ));
        }
        let auth = match request.field("authorizationToken") {
            Some(token) => auth_token(token).map_err(backend_error)?,
            None => AuthToken::none(),
        };
        let mut config = Config::default();
        let driver_auth = match manager {
            Some(manager) => {
                config = config.with_auth_manager(manager.clone());
                DriverAuth::Manager(manager)
            }
            None => DriverAuth::Token(auth.clone()),
        };
        if request.bool("resolverRegistered") == Some(true) {
            let link = self
                .link
                .clone()
                .ok_or_else(|| backend_error("custom resolvers need a suite connection"))?;
            config = config.with_resolver(callbacks::SuiteResolver::new(link));
        }
        if let Some(agent) = request.str("userAgent") {
            config = config.with_user_agent(agent);
        }
        if let Some(timeout) = millis(request, "connectionTimeoutMs") {
            config = config.with_connection_timeout(timeout);
        }
        if let Some(fetch_size) = request.int("fetchSize") {
            config = config.with_fetch_size(fetch_size);
        }
        if let Some(max_retry_time) = millis(request, "maxTxRetryTimeMs") {
            config = config.with_retry(RetryConfig {
                max_retry_time,
                ..RetryConfig::default()
            });
        }
        if let Some(idle) = millis(request, "livenessCheckTimeoutMs") {
            config = config.with_liveness_check_timeout(Some(idle));
        }
        if let Some(size) = request.int("maxConnectionPoolSize") {
            config = config.with_max_connection_pool_size(usize::try_from(size).unwrap_or(0));
        }
        if let Some(timeout) = millis(request, "connectionAcquisitionTimeoutMs") {
            config = config.with_connection_acquisition_timeout(timeout);
        }
        if request.bool("telemetryDisabled") == Some(true) {
            config = config.with_telemetry(false);
        }
        let filter = notification_filter(request);
        if !filter.is_empty() {
            config = config.with_notifications(filter);
        }
        match Driver::with_runtime(runtime, uri, auth, config) {
            Ok(driver) => {
                let id = self.shared.new_id();
                self.drivers.insert(id.clone(), driver);
                self.driver_auth.insert(id.clone(), driver_auth);
                Ok(response("Driver", json!({ "id": id })))
            }
            Err(e) if self.in_skipped_subtest => {
                // TestKit runs the body of a skipped subtest anyway and ignores its outcome, but
                // a test that cannot create its driver leaves its stub servers running, which
                // breaks the next subtest. So hand out an inert id: every use of it fails (with
                // a BackendError), which ends the body through the test's own clean-up.
                let _ = e;
                let id = self.shared.new_id();
                self.inert.insert(id.clone());
                Ok(response("Driver", json!({ "id": id })))
            }
            Err(e) => Err(self.shared.driver_error(e)),
        }
    }

    fn new_session(&mut self, request: &Request) -> Result<Json, Json> {
        let driver = self.driver(request, "driverId")?;
        let mut config = SessionConfig::new();
        if let Some(token) = request.field("authorizationToken") {
            config = config.with_auth(auth_token(token).map_err(backend_error)?);
        }
        if request.str("accessMode") == Some("r") {
            config = config.with_default_access_mode(quiver_tokio::AccessMode::Read);
        }
        if let Some(bookmarks) = request.field("bookmarks").and_then(Json::as_array) {
            config = config.with_bookmarks(bookmarks.iter().filter_map(Json::as_str).collect());
        }
        if let Some(database) = request.str("database") {
            config = config.with_database(database);
        }
        if let Some(fetch_size) = request.int("fetchSize") {
            config = config.with_fetch_size(fetch_size);
        }
        if let Some(user) = request.str("impersonatedUser") {
            config = config.with_impersonated_user(user);
        }
        if let Some(manager_id) = request.id("bookmarkManagerId") {
            let manager = self
                .bookmark_managers
                .get(&manager_id)
                .cloned()
                .ok_or_else(|| backend_error(format!("no bookmark manager {manager_id:?}")))?;
            config = config.with_bookmark_manager(manager);
        }
        let filter = notification_filter(request);
        if !filter.is_empty() {
            config = config.with_notifications(filter);
        }
        let id = self.shared.new_id();
        let sender = session::spawn(driver.session_with(config), id.clone(), self.shared.clone());
        self.sessions.insert(id.clone(), sender);
        Ok(response("Session", json!({ "id": id })))
    }

    async fn execute_query(&mut self, request: &Request) -> Result<Json, Json> {
        let driver = self.driver(request, "driverId")?;
        let empty = json!({});
        let config = request.field("config").unwrap_or(&empty);
        let auth = match config.get("authorizationToken").filter(|t| !t.is_null()) {
            Some(token) => Some(auth_token(token).map_err(backend_error)?),
            None => None,
        };
        let parameters = match request.field("params") {
            Some(params) => map_from_json(params).map_err(backend_error)?,
            None => Map::new(),
        };
        let mut query = Query::new(request.str("cypher").unwrap_or_default()).params(parameters);
        if let Some(meta) = config.get("txMeta").filter(|m| !m.is_null()) {
            query = query.with_metadata(map_from_json(meta).map_err(backend_error)?);
        }
        if let Some(ms) = config.get("timeout").and_then(Json::as_i64) {
            query = query.with_timeout(Duration::from_millis(ms.max(0).unsigned_abs()));
        }
        let mut call = driver.execute_query(query);
        if let Some(database) = config.get("database").and_then(Json::as_str) {
            call = call.database(database);
        }
        if config.get("routing").and_then(Json::as_str) == Some("r") {
            call = call.routing(RoutingControl::Read);
        }
        if let Some(user) = config.get("impersonatedUser").and_then(Json::as_str) {
            call = call.impersonate(user);
        }
        if let Some(auth) = auth {
            call = call.auth(auth);
        }
        match config.get("bookmarkManagerId") {
            Some(Json::Number(n)) if n.as_i64() == Some(-1) => call = call.bookmark_manager(None),
            Some(id) if !id.is_null() => {
                let id = match id {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                let manager = self
                    .bookmark_managers
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| backend_error(format!("no bookmark manager {id:?}")))?;
                call = call.bookmark_manager(Some(manager));
            }
            _ => {}
        }
        let eager = call.await.map_err(|e| self.shared.driver_error(e))?;
        let keys: Vec<&str> = eager.keys.iter().map(|k| k.as_str()).collect();
        let records = eager
            .records
            .iter()
            .map(convert::record_json)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.shared.json_error(e))?;
        let summary =
            convert::summary_json(&eager.summary).map_err(|e| self.shared.json_error(e))?;
        Ok(response(
            "EagerResult",
            json!({ "keys": keys, "records": records, "summary": summary }),
        ))
    }

    /// The session a session/transaction/result request is about.
    fn session_of(&self, request: &Request) -> Option<String> {
        if let Some(id) = request.id("sessionId") {
            return self.sessions.contains_key(&id).then_some(id);
        }
        ["txId", "resultId"]
            .iter()
            .find_map(|key| request.id(key))
            .and_then(|id| self.shared.owner(&id))
    }

    async fn forward(&mut self, session_id: &str, request: Request) -> Result<Json, Json> {
        let sender = self
            .sessions
            .get(session_id)
            .ok_or_else(|| backend_error(format!("no session {session_id}")))?;
        let (reply, answer) = oneshot::channel();
        if sender.send(Command { request, reply }).is_err() {
            return Err(backend_error(format!(
                "the task of session {session_id} has ended"
            )));
        }
        let answer = answer.await.map_err(|_| {
            backend_error(format!(
                "the task of session {session_id} ended without answering"
            ))
        })?;
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(name: &str, data: Json) -> Request {
        let Json::Object(data) = data else {
            panic!("request data must be an object")
        };
        Request {
            name: name.to_owned(),
            data,
        }
    }

    #[tokio::test]
    async fn answers_driver_level_requests_without_a_server() {
        tokio::task::LocalSet::new()
            .run_until(async {
                let mut backend = Backend::default();
                let features = backend.handle(request("GetFeatures", json!({}))).await;
                assert_eq!(features["name"], "FeatureList");
                assert!(
                    features["data"]["features"]
                        .as_array()
                        .unwrap()
                        .contains(&json!("Feature:Bolt:5.4"))
                );

                let skip = backend
                    .handle(request(
                        "StartTest",
                        json!({"testName": "stub.tx_run.test_tx_run.TestTxRun.test_negative_timeout"}),
                    ))
                    .await;
                assert_eq!(skip["name"], "SkipTest");

                // A URI the driver refuses is reported as a DriverError.
                let refused = backend
                    .handle(request(
                        "NewDriver",
                        json!({"uri": "neo4j://localhost:7687?address=x", "authorizationToken": null}),
                    ))
                    .await;
                assert_eq!(refused["name"], "DriverError");
                assert_eq!(refused["data"]["errorType"], "Configuration");

                let driver = backend
                    .handle(request(
                        "NewDriver",
                        json!({"uri": "bolt://127.0.0.1:9", "authorizationToken": {
                            "name": "AuthorizationToken",
                            "data": {"scheme": "basic", "principal": "u", "credentials": "p"}
                        }, "fetchSize": 2}),
                    ))
                    .await;
                assert_eq!(driver["name"], "Driver");
                let driver_id = driver["data"]["id"].clone();

                let encrypted = backend
                    .handle(request(
                        "CheckDriverIsEncrypted",
                        json!({"driverId": driver_id}),
                    ))
                    .await;
                assert_eq!(encrypted["data"]["encrypted"], false);

                let session = backend
                    .handle(request(
                        "NewSession",
                        json!({"driverId": driver_id, "accessMode": "r"}),
                    ))
                    .await;
                assert_eq!(session["name"], "Session");
                let session_id = session["data"]["id"].clone();
                let bookmarks = backend
                    .handle(request(
                        "SessionLastBookmarks",
                        json!({"sessionId": session_id}),
                    ))
                    .await;
                assert_eq!(bookmarks["data"]["bookmarks"], json!([]));
                let closed = backend
                    .handle(request("SessionClose", json!({"sessionId": session_id})))
                    .await;
                assert_eq!(closed["name"], "Session");

                // A direct driver has no routing table: empty lists.
                let table = backend
                    .handle(request("GetRoutingTable", json!({"driverId": driver_id})))
                    .await;
                assert_eq!(table["name"], "RoutingTable");
                assert_eq!(table["data"]["routers"], json!([]));
                let metrics = backend
                    .handle(request(
                        "GetConnectionPoolMetrics",
                        json!({"driverId": driver_id, "address": "127.0.0.1:9"}),
                    ))
                    .await;
                assert_eq!(metrics["data"], json!({"inUse": 0, "idle": 0}));
                let unknown = backend
                    .handle(request("NoSuchRequest", json!({"driverId": driver_id})))
                    .await;
                assert_eq!(unknown["name"], "BackendError");
                assert!(
                    unknown["data"]["msg"]
                        .as_str()
                        .unwrap()
                        .contains("not implemented")
                );

                let closed = backend
                    .handle(request("DriverClose", json!({"driverId": driver_id})))
                    .await;
                assert_eq!(closed["name"], "Driver");
            })
            .await;
    }

    #[tokio::test]
    async fn skipped_subtests_get_inert_drivers() {
        let mut backend = Backend::default();
        let skip = backend
            .handle(request(
                "StartSubTest",
                json!({"testName": "x", "subtestArguments": {"version": "3"}}),
            ))
            .await;
        assert_eq!(skip["name"], "SkipTest");
        let driver = backend
            .handle(request(
                "NewDriver",
                json!({"uri": "neo4j://localhost?a=1&a=2", "authorizationToken": null}),
            ))
            .await;
        assert_eq!(driver["name"], "Driver");
        let id = driver["data"]["id"].clone();
        let session = backend
            .handle(request(
                "NewSession",
                json!({"driverId": id, "accessMode": "w"}),
            ))
            .await;
        assert_eq!(session["name"], "Session");
        let run = backend
            .handle(request(
                "SessionRun",
                json!({"sessionId": session["data"]["id"], "cypher": "RETURN 1"}),
            ))
            .await;
        assert_eq!(run["name"], "BackendError");
        // Outside a skipped subtest the driver's error is reported as it is.
        backend
            .handle(request(
                "StartSubTest",
                json!({"testName": "x", "subtestArguments": {"routing": false}}),
            ))
            .await;
        let refused = backend
            .handle(request(
                "NewDriver",
                json!({"uri": "neo4j://localhost?a=1&a=2", "authorizationToken": null}),
            ))
            .await;
        assert_eq!(refused["name"], "DriverError");
    }
}
