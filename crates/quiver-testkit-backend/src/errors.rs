//! Driver errors as TestKit `DriverError` responses, kept by id so that the suite can hand them
//! back (`RetryableNegative { errorId }`).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use quiver_tokio::{Error, GqlError, GqlErrorClassification, Map, ServerError};
use serde_json::{Value as Json, json};

use crate::convert::{JsonError, value_to_json};
use crate::protocol::{backend_error, response};

/// Per-connection state shared by the connection task and its session tasks (one thread).
#[derive(Debug, Default)]
pub(crate) struct Shared {
    next_id: Cell<u64>,
    errors: RefCell<HashMap<String, Error>>,
    /// Which session owns a transaction or result id.
    owners: RefCell<HashMap<String, String>>,
}

impl Shared {
    /// A fresh id for any object (drivers, sessions, transactions, results, errors, …).
    pub(crate) fn new_id(&self) -> String {
        let id = self.next_id.get() + 1;
        self.next_id.set(id);
        id.to_string()
    }

    /// A fresh id for a transaction or result of `session`.
    pub(crate) fn new_owned_id(&self, session: &str) -> String {
        let id = self.new_id();
        self.owners
            .borrow_mut()
            .insert(id.clone(), session.to_owned());
        id
    }

    /// The session that owns transaction or result `id`.
    pub(crate) fn owner(&self, id: &str) -> Option<String> {
        self.owners.borrow().get(id).cloned()
    }

    /// Keep `error` and describe it as a `DriverError` response.
    pub(crate) fn driver_error(&self, error: Error) -> Json {
        let id = self.new_id();
        let data = driver_error_data(&id, &error);
        self.errors.borrow_mut().insert(id, error);
        response("DriverError", data)
    }

    /// The answer for a value the backend could not tell the suite about: a `DriverError`
    /// (kept, like any driver error) when the driver cannot convert it, else a `BackendError`.
    pub(crate) fn json_error(&self, error: JsonError) -> Json {
        match error {
            JsonError::Conversion(why) => self.driver_error(Error::Conversion(why)),
            JsonError::Backend(why) => backend_error(why),
        }
    }

    /// The error the suite refers to by `id`, to be raised again from "user code". Server
    /// errors stay stored (they can be cloned); others are moved out.
    pub(crate) fn take_error(&self, id: &str) -> Option<Error> {
        let mut errors = self.errors.borrow_mut();
        if let Some(Error::Server(server)) = errors.get(id) {
            return Some(Error::Server(server.clone()));
        }
        errors.remove(id)
    }
}

/// The stable name of an error's kind, sent as `errorType`.
pub(crate) fn error_type(error: &Error) -> &'static str {
    match error {
        Error::Server(_) => "ServerError",
        Error::ServiceUnavailable { .. } => "ServiceUnavailable",
        Error::SessionExpired(_) => "SessionExpired",
        Error::IncompleteCommit { .. } => "IncompleteCommit",
        Error::AcquisitionTimeout { .. } => "AcquisitionTimeout",
        Error::ResultConsumed(_) => "ResultConsumed",
        Error::ResultNotSingle { .. } => "ResultNotSingle",
        Error::Configuration(_) => "Configuration",
        Error::Protocol(_) => "Protocol",
        Error::UnsupportedServer { .. } => "UnsupportedServer",
        Error::Io(_) => "Io",
        Error::Conversion(_) => "Conversion",
        Error::TransactionClosed(_) => "TransactionClosed",
        Error::TransactionFailed { .. } => "TransactionFailed",
        Error::DriverClosed => "DriverClosed",
        Error::User(_) => "User",
        _ => "Other",
    }
}

/// A diagnostic record as TestKit wants it: a JSON object of Cypher-typed values. A value the
/// backend cannot encode (none a server sends) is reported as its display text.
fn diagnostic_record_json(record: &Map) -> Json {
    Json::Object(
        record
            .iter()
            .map(|(key, value)| {
                let json = value_to_json(value).unwrap_or_else(
                    |_| json!({"name": "CypherString", "data": {"value": value.to_string()}}),
                );
                (key.as_str().to_owned(), json)
            })
            .collect(),
    )
}

/// The GQL fields of a server error or of one of its causes.
fn gql_fields(
    message: &str,
    gql_status: &str,
    description: &str,
    classification: GqlErrorClassification,
    raw_classification: Option<&str>,
    diagnostic_record: &Map,
    cause: Option<&GqlError>,
) -> Json {
    json!({
        "msg": message,
        "gqlStatus": gql_status,
        "statusDescription": description,
        "diagnosticRecord": diagnostic_record_json(diagnostic_record),
        "classification": classification.as_str(),
        "rawClassification": raw_classification,
        "cause": cause.map(cause_json),
    })
}

/// A cause as TestKit's `GqlError`.
fn cause_json(cause: &GqlError) -> Json {
    json!({
        "name": "GqlError",
        "data": gql_fields(
            &cause.message,
            &cause.gql_status,
            &cause.description,
            cause.classification,
            cause.raw_classification.as_deref(),
            &cause.diagnostic_record,
            cause.cause.as_deref(),
        ),
    })
}

/// The GQL part of a server error.
fn gql_json(server: &ServerError) -> Json {
    gql_fields(
        &server.message,
        &server.gql_status,
        &server.description,
        server.classification,
        server.raw_classification.as_deref(),
        &server.diagnostic_record,
        server.cause.as_deref(),
    )
}

fn driver_error_data(id: &str, error: &Error) -> Json {
    // A server failure, or what the driver reports as caused by one (a transaction an earlier
    // failure ended): its code and GQL fields.
    let mut data = match error.as_server_error() {
        Some(server) => {
            let mut data = gql_json(server);
            data["code"] = json!(server.code);
            if !matches!(error, Error::Server(_)) {
                data["msg"] = json!(error.to_string());
            }
            data
        }
        None => json!({ "msg": error.to_string(), "code": "" }),
    };
    data["id"] = json!(id);
    data["errorType"] = json!(error_type(error));
    data["retryable"] = json!(error.is_retryable());
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_carry_code_message_and_retryability() {
        let shared = Shared::default();
        let error = Error::from(ServerError::new(
            "Neo.TransientError.Transaction.DeadlockDetected",
            "deadlock",
        ));
        let json = shared.driver_error(error);
        assert_eq!(json["name"], "DriverError");
        let data = &json["data"];
        assert_eq!(
            data["code"],
            "Neo.TransientError.Transaction.DeadlockDetected"
        );
        assert_eq!(data["msg"], "deadlock");
        assert_eq!(data["retryable"], true);
        assert_eq!(data["errorType"], "ServerError");
        assert_eq!(data["classification"], "UNKNOWN");
        assert_eq!(data["rawClassification"], Json::Null);
        // Before Bolt 5.7: the Python driver's defaults.
        assert_eq!(data["gqlStatus"], "50N42");
        assert_eq!(
            data["statusDescription"],
            "error: general processing exception - unexpected error. deadlock"
        );
        assert_eq!(
            data["diagnosticRecord"]["OPERATION_CODE"],
            json!({"name": "CypherString", "data": {"value": "0"}})
        );
        // The suite can hand a server error back any number of times.
        let id = data["id"].as_str().unwrap();
        assert!(shared.take_error(id).is_some());
        assert!(shared.take_error(id).is_some());
    }

    #[test]
    fn other_errors_are_moved_out_once() {
        let shared = Shared::default();
        let json = shared.driver_error(Error::DriverClosed);
        assert_eq!(json["data"]["retryable"], false);
        assert_eq!(json["data"]["code"], "");
        let id = json["data"]["id"].as_str().unwrap().to_owned();
        assert!(matches!(shared.take_error(&id), Some(Error::DriverClosed)));
        assert!(shared.take_error(&id).is_none());
    }

    #[test]
    fn ids_are_unique_and_owned_ids_remember_their_session() {
        let shared = Shared::default();
        let a = shared.new_id();
        let b = shared.new_owned_id("s1");
        assert_ne!(a, b);
        assert_eq!(shared.owner(&b).as_deref(), Some("s1"));
        assert_eq!(shared.owner(&a), None);
    }
}
