//! What the backend tells the suite: the feature list (`GetFeatures`) and which tests to skip
//! (`StartTest` / `StartSubTest`), each skip with the reason.

use serde_json::{Map, Value as Json};

/// The features Quiver supports, as TestKit names them (`nutkit/protocol/feature.py`).
///
/// Only what works goes here: the suite skips tests of features not listed.
pub(crate) const FEATURES: &[&str] = &[
    // API
    "Feature:API:BookmarkManager",
    "Feature:API:ConnectionAcquisitionTimeout",
    "Feature:API:Driver.ExecuteQuery",
    "Feature:API:Driver.ExecuteQuery:WithAuth",
    "Feature:API:Driver:GetServerInfo",
    "Feature:API:Driver.IsEncrypted",
    "Feature:API:Driver:NotificationsConfig",
    "Feature:API:Driver.SupportsSessionAuth",
    "Feature:API:Driver.VerifyAuthentication",
    "Feature:API:Driver.VerifyConnectivity",
    "Feature:API:Liveness.Check",
    "Feature:API:Result.List",
    "Feature:API:Result.Peek",
    "Feature:API:Result.Single",
    "Feature:API:Result.SingleOptional",
    "Feature:API:RetryableExceptions",
    "Feature:API:Session:AuthConfig",
    "Feature:API:SSLSchemes",
    "Feature:API:Session:NotificationsConfig",
    "Feature:API:Summary:GqlStatusObjects",
    "Feature:API:Type.Spatial",
    // Zoned date-times through quiver-bolt's `chrono-tz` feature.
    "Feature:API:Type.Temporal",
    // Auth tokens
    "Feature:Auth:Bearer",
    "Feature:Auth:Custom",
    "Feature:Auth:Kerberos",
    "Feature:Auth:Managed",
    // Protocol versions quiver-bolt negotiates
    "Feature:Bolt:4.4",
    "Feature:Bolt:5.0",
    "Feature:Bolt:5.1",
    "Feature:Bolt:5.2",
    "Feature:Bolt:5.3",
    "Feature:Bolt:5.4",
    "Feature:Bolt:5.5",
    "Feature:Bolt:5.6",
    "Feature:Bolt:5.7",
    // HELLO asks Bolt 4.4 servers for UTC date-times (`patch_bolt: ["utc"]`).
    "Feature:Bolt:Patch:UTC",
    "Feature:Impersonation",
    // Optimizations
    // Backend
    "Backend:MockTime",
    "Optimization:AuthPipelining",
    "Optimization:ConnectionReuse",
    "Optimization:ExecuteQueryPipelining",
    "Optimization:ImplicitDefaultArguments",
    // Only the RESETs that are needed: after a failure, for a dirty or long-idle pooled
    // connection, and when verify_connectivity/get_server_info reuse a pooled connection.
    "Optimization:MinimalResets",
    "Optimization:PullPipelining",
    // The server's `connection.recv_timeout_seconds` hint bounds every wait for an answer (the
    // core's receive deadline), as the official drivers do.
    "ConfHint:connection.recv_timeout_seconds",
];

/// Why tests that need routing are skipped.
const NO_ROUTING: &str = "routing (neo4j:// URIs, routing tables) is not implemented in Quiver yet";

/// Tests skipped by name: (part of the test id, reason). Besides whole routing folders, these
/// are the classes of other folders whose every test uses a `neo4j://` URI.
const SKIPPED_TESTS: &[(&str, &str)] = &[
    ("stub.routing.", NO_ROUTING),
    ("stub.server_side_routing.", NO_ROUTING),
    ("stub.retry.test_retry_clustering.", NO_ROUTING),
    ("stub.homedb.", NO_ROUTING),
    (".TestAuthorizationV3.", NO_ROUTING),
    (".TestAuthorizationV4x1.", NO_ROUTING),
    (".TestAuthorizationV4x3.", NO_ROUTING),
    (".TestAuthorizationV5x0.", NO_ROUTING),
    (".TestAuthorizationV5x1.", NO_ROUTING),
    (".TestRoutingConnectionRecvTimeout.", NO_ROUTING),
    (".TestTelemetryRouting.", NO_ROUTING),
    (".TestNeo4jBookmarkManager.", NO_ROUTING),
    // These execute_query tests all use a `neo4j://` driver (only the auth ones use `bolt://`).
    (
        ".TestDriverExecuteQuery.test_execute_query_without_params_and_config",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_execute_query_without_config",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_configure_database",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_configure_impersonated_user",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_configure_transaction_metadata",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_configure_transaction_timeout",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_causal_consistency_between_query_executions",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_disable_bookmark_manager",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_configure_custom_bookmark_manager",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_retry_on_retryable_error",
        NO_ROUTING,
    ),
    (
        ".TestDriverExecuteQuery.test_thrown_non_retryable_error",
        NO_ROUTING,
    ),
    (
        ".test_negative_timeout",
        "a negative transaction timeout cannot be expressed: Quiver takes a \
         std::time::Duration, so the type system rules the case out",
    ),
];

/// Answer to `StartTest`: `SkipTest` with a reason, or `RunSubTests` (every test is run, and
/// each subtest is asked about through `StartSubTest`).
pub(crate) fn start_test(test_name: &str) -> (&'static str, Option<String>) {
    for (part, reason) in SKIPPED_TESTS {
        if test_name.starts_with(part.trim_start_matches('.')) || test_name.contains(part) {
            return ("SkipTest", Some((*reason).to_owned()));
        }
    }
    // Test classes and methods about routers and routing (in folders that are otherwise about
    // other things), e.g. `TestLivenessCheckRouting.test_timeout`, `test_routing_from_pool`.
    let mut parts = test_name.rsplit('.');
    let method = parts.next().unwrap_or_default();
    let class = parts.next().unwrap_or_default();
    if method.contains("rout") || class.to_ascii_lowercase().contains("rout") {
        return ("SkipTest", Some(NO_ROUTING.to_owned()));
    }
    ("RunSubTests", None)
}

/// The Bolt versions declared above, as (major, minor).
fn declared_bolt_versions() -> impl Iterator<Item = (u8, u8)> {
    FEATURES.iter().filter_map(|feature| {
        let (major, minor) = feature.strip_prefix("Feature:Bolt:")?.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    })
}

/// A subtest's `version` argument (`"v4x3"`, `"5x7"`, `"3"`) as (major, minor).
fn subtest_version(text: &str) -> Option<(u8, u8)> {
    let text = text.trim_start_matches('v');
    let (major, minor) = text.split_once('x').unwrap_or((text, "0"));
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Answer to `StartSubTest`: subtests that use routing, or a Bolt version Quiver does not
/// speak, are skipped.
///
/// TestKit still runs a skipped subtest's body (and ignores its outcome), see
/// `tests/shared.py`.
pub(crate) fn start_subtest(arguments: &Map<String, Json>) -> Option<String> {
    if arguments.get("routing").and_then(Json::as_bool) == Some(true) {
        return Some(NO_ROUTING.to_owned());
    }
    if let Some(version) = arguments
        .get("version")
        .and_then(Json::as_str)
        .and_then(subtest_version)
    {
        if !declared_bolt_versions().any(|declared| declared == version) {
            return Some(format!(
                "Quiver does not speak Bolt {}.{} (it speaks 4.4 and 5.x)",
                version.0, version.1
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn routing_tests_and_subtests_are_skipped_with_a_reason() {
        let (answer, reason) = start_test("stub.routing.test_routing_v5x0.RoutingV5x0.test_x");
        assert_eq!(answer, "SkipTest");
        assert!(reason.unwrap().contains("routing"));
        assert_eq!(
            start_test("stub.tx_run.test_tx_run.TestTxRun.test_routing_raises_error").0,
            "SkipTest"
        );
        assert_eq!(
            start_test("stub.authorization.test_authorization.TestAuthorizationV5x1.test_x").0,
            "SkipTest"
        );
        assert_eq!(
            start_test(
                "stub.driver_parameters.test_liveness_check.TestLivenessCheckRouting.test_timeout"
            )
            .0,
            "SkipTest"
        );
        assert_eq!(
            start_test("stub.basic_query.test_basic_query.TestBasicQuery.test_5x0"),
            ("RunSubTests", None)
        );
        let Json::Object(routing) = json!({"routing": true}) else {
            unreachable!()
        };
        assert!(start_subtest(&routing).is_some());
        let Json::Object(direct) = json!({"routing": false, "version": "5.0"}) else {
            unreachable!()
        };
        assert!(start_subtest(&direct).is_none());
        for (version, skipped) in [("v4x3", true), ("3", true), ("4x4", false), ("5x7", false)] {
            let Json::Object(args) = json!({ "version": version }) else {
                unreachable!()
            };
            assert_eq!(start_subtest(&args).is_some(), skipped, "{version}");
        }
        assert_eq!(
            start_test("stub.tx_begin_parameters.test_tx_begin_parameters.T.test_negative_timeout")
                .0,
            "SkipTest"
        );
    }

    #[test]
    fn features_are_unique() {
        let mut sorted = FEATURES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), FEATURES.len());
    }
}
