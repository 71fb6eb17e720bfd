//! The TestKit wire format: JSON objects between `#request begin` / `#request end` lines (and
//! `#response begin` / `#response end` the other way), each `{"name": …, "data": {…}}`.

use serde_json::{Map, Value, json};

/// One request from the suite.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// The request name, e.g. `SessionRun`.
    pub(crate) name: String,
    /// Its fields (an empty object when the suite sent none).
    pub(crate) data: Map<String, Value>,
}

impl Request {
    /// A field, `None` when absent or null.
    pub(crate) fn field(&self, key: &str) -> Option<&Value> {
        self.data.get(key).filter(|v| !v.is_null())
    }

    /// A string field.
    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        self.field(key).and_then(Value::as_str)
    }

    /// An integer field.
    pub(crate) fn int(&self, key: &str) -> Option<i64> {
        self.field(key).and_then(Value::as_i64)
    }

    /// A boolean field.
    pub(crate) fn bool(&self, key: &str) -> Option<bool> {
        self.field(key).and_then(Value::as_bool)
    }

    /// An id field (the suite echoes back what the backend handed out: strings here, but accept
    /// numbers too).
    pub(crate) fn id(&self, key: &str) -> Option<String> {
        match self.field(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Why reading a request failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The socket failed.
    #[error("reading a request failed: {0}")]
    Io(std::io::Error),
    /// The framed text is not a JSON request object.
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// Parse the JSON text of one request frame.
pub(crate) fn parse_request(body: &str) -> Result<Request, ReadError> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| ReadError::Malformed(format!("{e}: {body}")))?;
    let Value::Object(mut object) = value else {
        return Err(ReadError::Malformed(format!("not a JSON object: {body}")));
    };
    let name = match object.remove("name") {
        Some(Value::String(name)) => name,
        _ => return Err(ReadError::Malformed(format!("no \"name\": {body}"))),
    };
    let data = match object.remove("data") {
        Some(Value::Object(data)) => data,
        None | Some(Value::Null) => Map::new(),
        Some(other) => {
            return Err(ReadError::Malformed(format!(
                "\"data\" is not an object: {other}"
            )));
        }
    };
    Ok(Request { name, data })
}

/// A response `{"name": name, "data": data}`.
pub(crate) fn response(name: &str, data: Value) -> Value {
    json!({ "name": name, "data": data })
}

/// `BackendError`: a problem of the backend itself (or a request it does not implement).
pub(crate) fn backend_error(msg: impl Into<String>) -> Value {
    response("BackendError", json!({ "msg": msg.into() }))
}

/// `FrontendError`: an error raised by the suite's own "user code" (e.g. `RetryableNegative`).
pub(crate) fn frontend_error(msg: impl Into<String>) -> Value {
    response("FrontendError", json!({ "msg": msg.into() }))
}

/// The answer to a request the backend does not implement because Quiver lacks the feature.
pub(crate) fn not_implemented(request: &str, why: &str) -> Value {
    backend_error(format!(
        "{request} is not implemented by the Quiver backend: {why}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_requests_with_and_without_data() {
        let request = parse_request(r#"{"name":"NewSession","data":{"driverId":"3"}}"#).unwrap();
        assert_eq!(request.name, "NewSession");
        assert_eq!(request.id("driverId").as_deref(), Some("3"));
        assert!(
            parse_request(r#"{"name":"GetFeatures"}"#)
                .unwrap()
                .data
                .is_empty()
        );
        assert!(parse_request(r#"{"name":"X","data":[1]}"#).is_err());
    }

    #[test]
    fn responses_have_a_name_and_data() {
        assert_eq!(
            response("RunTest", json!({})).to_string(),
            "{\"data\":{},\"name\":\"RunTest\"}"
        );
    }
}
