//! The TestKit wire format: JSON objects between `#request begin` / `#request end` lines (and
//! `#response begin` / `#response end` the other way), each `{"name": …, "data": {…}}`.

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

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

/// Read the next framed request; `Ok(None)` at the end of the stream.
pub(crate) async fn read_request<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<Option<Request>, ReadError> {
    let mut line = String::new();
    let mut body = String::new();
    let mut inside = false;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).await.map_err(ReadError::Io)?;
        if n == 0 {
            return Ok(None);
        }
        let trimmed = line.trim();
        match trimmed {
            "#request begin" => {
                inside = true;
                body.clear();
            }
            "#request end" if inside => return parse_request(&body).map(Some),
            _ if inside => body.push_str(trimmed),
            // Anything outside a frame (blank lines) is ignored, like the suite does.
            _ => {}
        }
    }
}

fn parse_request(body: &str) -> Result<Request, ReadError> {
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

/// Write one framed response.
pub(crate) async fn write_response<W: AsyncWrite + Unpin>(
    writer: &mut W,
    response: &Value,
) -> std::io::Result<()> {
    let text = format!("#response begin\n{response}\n#response end\n");
    writer.write_all(text.as_bytes()).await?;
    writer.flush().await
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

    #[tokio::test]
    async fn reads_framed_requests_and_skips_noise() {
        let input = b"\n#request begin\n{\"name\": \"GetFeatures\",\n \"data\": {}}\n#request end\n\
#request begin\n{\"name\":\"NewSession\",\"data\":{\"driverId\":\"3\",\"fetchSize\":2}}\n#request end\n";
        let mut reader = &input[..];
        let first = read_request(&mut reader).await.unwrap().unwrap();
        assert_eq!(first.name, "GetFeatures");
        assert!(first.data.is_empty());
        let second = read_request(&mut reader).await.unwrap().unwrap();
        assert_eq!(second.id("driverId").as_deref(), Some("3"));
        assert_eq!(second.int("fetchSize"), Some(2));
        assert!(read_request(&mut reader).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn rejects_requests_that_are_not_objects_with_a_name() {
        let mut reader = &b"#request begin\n[1]\n#request end\n"[..];
        assert!(matches!(
            read_request(&mut reader).await,
            Err(ReadError::Malformed(_))
        ));
        let mut reader = &b"#request begin\n{\"data\":{}}\n#request end\n"[..];
        assert!(read_request(&mut reader).await.is_err());
    }

    #[tokio::test]
    async fn writes_framed_responses() {
        let mut out = Vec::new();
        write_response(&mut out, &response("RunTest", json!({})))
            .await
            .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "#response begin\n{\"data\":{},\"name\":\"RunTest\"}\n#response end\n"
        );
    }
}
