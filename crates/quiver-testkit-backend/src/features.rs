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
    // Routing: the driver's routing table can be read and refreshed on demand.
    "Backend:RTFetch",
    "Backend:RTForceUpdate",
    // AuthorizationExpired closes that connection and re-authenticates the others to the
    // server before their next use (the official drivers' treatment).
    "AuthorizationExpiredTreatment",
];

/// Why the two TestKit 5.0 tests that time each step of a routed acquisition separately are
/// skipped (the Rust driver skips them with the same reason).
const ONE_ACQUISITION_DEADLINE: &str = "Quiver bounds a routed acquisition (home-database \
     resolution, routing-table fetch incl. the ROUTE answer, and the connection) by one \
     connection-acquisition deadline, as the newer official drivers do and the newer TestKit \
     home-db tests expect; these two tests want a separate timeout per step (pending driver \
     unification in TestKit)";

/// Tests skipped by name: (part of the test id, reason).
const SKIPPED_TESTS: &[(&str, &str)] = &[
    (
        ".TestConnectionAcquisitionTimeoutMs.test_does_not_encompass_router_route_response",
        ONE_ACQUISITION_DEADLINE,
    ),
    (
        ".TestConnectionAcquisitionTimeoutMs.test_router_handshake_has_own_timeout_in_time",
        ONE_ACQUISITION_DEADLINE,
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

/// Answer to `StartSubTest`: subtests of a Bolt version Quiver does not speak are skipped.
///
/// TestKit still runs a skipped subtest's body (and ignores its outcome), see
/// `tests/shared.py`.
pub(crate) fn start_subtest(arguments: &Map<String, Json>) -> Option<String> {
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
    fn routing_tests_run_and_unsupported_cases_are_skipped_with_a_reason() {
        for test in [
            "stub.routing.test_routing_v5x0.RoutingV5x0.test_x",
            "stub.tx_run.test_tx_run.TestTxRun.test_routing_raises_error",
            "stub.authorization.test_authorization.TestAuthorizationV5x1.test_x",
            "stub.driver_parameters.test_liveness_check.TestLivenessCheckRouting.test_timeout",
            "stub.basic_query.test_basic_query.TestBasicQuery.test_5x0",
        ] {
            assert_eq!(start_test(test), ("RunSubTests", None), "{test}");
        }
        let (answer, reason) = start_test(
            "stub.driver_parameters.test_connection_acquisition_timeout_ms.\
             TestConnectionAcquisitionTimeoutMs.test_does_not_encompass_router_route_response",
        );
        assert_eq!(answer, "SkipTest");
        assert!(reason.unwrap().contains("one"));
        let Json::Object(routing) = json!({"routing": true}) else {
            unreachable!()
        };
        assert!(start_subtest(&routing).is_none());
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
