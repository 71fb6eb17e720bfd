//! What the backend tells the suite: the feature list (`GetFeatures`) and which tests to skip
//! (`StartTest` / `StartSubTest`), each skip with the reason.

use serde_json::{Map, Value as Json};

/// The features Quiver supports, as TestKit names them (`nutkit/protocol/feature.py`).
///
/// Only what works goes here: the suite skips tests of features not listed.
pub(crate) const FEATURES: &[&str] = &[
    // API
    "Feature:API:ConnectionAcquisitionTimeout",
    "Feature:API:Driver.ExecuteQuery",
    "Feature:API:Driver:GetServerInfo",
    "Feature:API:Driver.IsEncrypted",
    "Feature:API:Driver.SupportsSessionAuth",
    "Feature:API:Driver.VerifyConnectivity",
    "Feature:API:Liveness.Check",
    "Feature:API:Result.List",
    "Feature:API:Result.Peek",
    "Feature:API:Result.Single",
    "Feature:API:RetryableExceptions",
    "Feature:API:SSLSchemes",
    "Feature:API:Type.Spatial",
    // Auth tokens
    "Feature:Auth:Bearer",
    "Feature:Auth:Custom",
    "Feature:Auth:Kerberos",
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
    "Feature:Impersonation",
    // Optimizations
    "Optimization:ConnectionReuse",
    "Optimization:ExecuteQueryPipelining",
    "Optimization:ImplicitDefaultArguments",
    "Optimization:PullPipelining",
];

/// Tests skipped by name: (prefix of the test id, reason).
const SKIPPED_TESTS: &[(&str, &str)] = &[
    (
        "stub.routing.",
        "routing (neo4j:// URIs, routing tables) is not implemented in Quiver yet",
    ),
    (
        "stub.server_side_routing.",
        "routing (neo4j:// URIs) is not implemented in Quiver yet",
    ),
    (
        "stub.retry.test_retry_clustering.",
        "routing (neo4j:// URIs) is not implemented in Quiver yet",
    ),
];

/// Answer to `StartTest`: `SkipTest` with a reason, or `RunSubTests` (every test is run, and
/// each subtest is asked about through `StartSubTest`).
pub(crate) fn start_test(test_name: &str) -> (&'static str, Option<String>) {
    for (prefix, reason) in SKIPPED_TESTS {
        if test_name.starts_with(prefix) {
            return ("SkipTest", Some((*reason).to_owned()));
        }
    }
    ("RunSubTests", None)
}

/// Answer to `StartSubTest`: subtests that use routing are skipped.
pub(crate) fn start_subtest(arguments: &Map<String, Json>) -> Option<String> {
    if arguments.get("routing").and_then(Json::as_bool) == Some(true) {
        return Some("routing (neo4j:// URIs) is not implemented in Quiver yet".to_owned());
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
    }

    #[test]
    fn features_are_unique() {
        let mut sorted = FEATURES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), FEATURES.len());
    }
}
