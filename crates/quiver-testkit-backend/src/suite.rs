//! The connection to the suite, split so that the driver's *synchronous* callbacks (auth token
//! managers, bookmark suppliers and consumers) can ask the suite a question and wait for the
//! answer.
//!
//! Quiver's callbacks are plain functions (`AuthManager::get_auth`, a bookmark supplier), called
//! on the task that runs the driver call, in the middle of a request the suite is waiting on. To
//! answer, the backend sends the suite a callback "request" (e.g.
//! `AuthTokenManagerGetAuthRequest`) as a response, and the suite sends back a `…Completed`
//! request. That answer has to be read while the callback blocks the backend's (single) async
//! thread, so a plain thread reads the socket: `…Completed` requests go to the waiting callback,
//! every other request to the async request loop. Official drivers' backends do the same with
//! a nested blocking read (the Python backend) or a thread per request (the Java backend).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::Duration;

use serde_json::{Map, Value as Json, json};
use tokio::sync::mpsc as async_mpsc;

use crate::protocol::{ReadError, Request, parse_request, response};

/// How long a callback waits for the suite's answer before giving up (the suite answers at
/// once; this only keeps a confused suite from hanging the backend forever).
const CALLBACK_ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a callback got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CallbackError {
    /// Writing the callback request failed.
    #[error("sending {request} to the suite failed: {source}")]
    Send {
        /// The callback request.
        request: String,
        /// The socket error.
        source: std::io::Error,
    },
    /// The suite hung up, or did not answer in time.
    #[error("the suite did not answer {request} (hung up, or no answer within {timeout:?})")]
    NoAnswer {
        /// The callback request.
        request: String,
        /// How long the callback waited.
        timeout: Duration,
    },
}

/// The suite's end of the connection that callbacks use: the writer, and the answers to
/// callback requests.
#[derive(Debug)]
pub(crate) struct SuiteLink {
    writer: Mutex<TcpStream>,
    callback_answers: Mutex<mpsc::Receiver<Request>>,
    next_callback_id: AtomicU64,
}

impl SuiteLink {
    /// Write one framed response.
    pub(crate) fn send(&self, answer: &Json) -> std::io::Result<()> {
        let text = format!("#response begin\n{answer}\n#response end\n");
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        writer.write_all(text.as_bytes())?;
        writer.flush()
    }

    /// Send the callback request `name` with `data` (plus a fresh `id`) and wait for the
    /// suite's `…Completed` request answering that id; blocks the calling thread meanwhile.
    pub(crate) fn call(
        &self,
        name: &str,
        mut data: Map<String, Json>,
    ) -> Result<Request, CallbackError> {
        let id = format!(
            "callback-{}",
            self.next_callback_id.fetch_add(1, Ordering::Relaxed) + 1
        );
        data.insert("id".to_owned(), json!(id));
        // Hold the receiver for the whole round trip: one callback at a time.
        let answers = self
            .callback_answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.send(&response(name, Json::Object(data)))
            .map_err(|source| CallbackError::Send {
                request: name.to_owned(),
                source,
            })?;
        loop {
            let answer = answers.recv_timeout(CALLBACK_ANSWER_TIMEOUT).map_err(|_| {
                CallbackError::NoAnswer {
                    request: name.to_owned(),
                    timeout: CALLBACK_ANSWER_TIMEOUT,
                }
            })?;
            if answer.id("requestId").as_deref() == Some(id.as_str()) {
                return Ok(answer);
            }
            eprintln!(
                "quiver-testkit-backend: ignoring {} for another callback ({:?}, waiting for {id})",
                answer.name,
                answer.id("requestId")
            );
        }
    }
}

/// Read the next framed request from a blocking reader; `Ok(None)` at the end of the stream.
pub(crate) fn read_request<R: BufRead>(reader: &mut R) -> Result<Option<Request>, ReadError> {
    let mut line = String::new();
    let mut body = String::new();
    let mut inside = false;
    loop {
        line.clear();
        let n = reader.read_line(&mut line).map_err(ReadError::Io)?;
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

/// Whether a request answers a callback (and so goes to the waiting callback, not the loop).
fn is_callback_answer(name: &str) -> bool {
    name.ends_with("Completed")
}

/// Split `stream` into the link for callbacks and the receiver of all other requests (read by
/// a thread of its own until the suite hangs up).
pub(crate) fn split(
    stream: TcpStream,
) -> std::io::Result<(
    SuiteLink,
    async_mpsc::UnboundedReceiver<Result<Request, ReadError>>,
)> {
    let reader = stream.try_clone()?;
    let (requests_in, requests) = async_mpsc::unbounded_channel();
    let (answers_in, answers) = mpsc::channel();
    std::thread::Builder::new()
        .name("suite-reader".to_owned())
        .spawn(move || {
            let mut reader = BufReader::new(reader);
            loop {
                match read_request(&mut reader) {
                    Ok(Some(request)) if is_callback_answer(&request.name) => {
                        if answers_in.send(request).is_err() {
                            return;
                        }
                    }
                    Ok(Some(request)) => {
                        if requests_in.send(Ok(request)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(ReadError::Io(e)) => {
                        let _ = requests_in.send(Err(ReadError::Io(e)));
                        return;
                    }
                    Err(malformed) => {
                        if requests_in.send(Err(malformed)).is_err() {
                            return;
                        }
                    }
                }
            }
        })?;
    let link = SuiteLink {
        writer: Mutex::new(stream),
        callback_answers: Mutex::new(answers),
        next_callback_id: AtomicU64::new(0),
    };
    Ok((link, requests))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reads_framed_requests_and_skips_noise() {
        let input = b"\n#request begin\n{\"name\": \"GetFeatures\",\n \"data\": {}}\n#request end\n\
#request begin\n{\"name\":\"NewSession\",\"data\":{\"driverId\":\"3\",\"fetchSize\":2}}\n#request end\n";
        let mut reader = &input[..];
        let first = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(first.name, "GetFeatures");
        assert!(first.data.is_empty());
        let second = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(second.id("driverId").as_deref(), Some("3"));
        assert_eq!(second.int("fetchSize"), Some(2));
        assert!(read_request(&mut reader).unwrap().is_none());
    }

    #[test]
    fn rejects_requests_that_are_not_objects_with_a_name() {
        let mut reader = &b"#request begin\n[1]\n#request end\n"[..];
        assert!(matches!(
            read_request(&mut reader),
            Err(ReadError::Malformed(_))
        ));
        let mut reader = &b"#request begin\n{\"data\":{}}\n#request end\n"[..];
        assert!(read_request(&mut reader).is_err());
    }

    /// A callback's question reaches the suite, the suite's answer reaches the callback, and
    /// ordinary requests keep going to the request loop.
    #[tokio::test]
    async fn callbacks_get_their_answers_and_requests_go_to_the_loop() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut suite = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (backend_end, _) = listener.accept().unwrap();
        let (link, mut requests) = split(backend_end).unwrap();

        suite
            .write_all(b"#request begin\n{\"name\":\"GetFeatures\",\"data\":{}}\n#request end\n")
            .unwrap();
        let first = requests.recv().await.unwrap().unwrap();
        assert_eq!(first.name, "GetFeatures");

        let suite_side = std::thread::spawn(move || {
            let mut reader = BufReader::new(suite.try_clone().unwrap());
            let mut text = String::new();
            for _ in 0..3 {
                reader.read_line(&mut text).unwrap();
            }
            let json_line = text.lines().nth(1).unwrap().to_owned();
            let asked: Json = serde_json::from_str(&json_line).unwrap();
            let id = asked["data"]["id"].as_str().unwrap().to_owned();
            let answer = json!({"name": "BookmarksSupplierCompleted",
                "data": {"requestId": id, "bookmarks": ["bm"]}});
            suite
                .write_all(format!("#request begin\n{answer}\n#request end\n").as_bytes())
                .unwrap();
            asked
        });
        let mut data = Map::new();
        data.insert("bookmarkManagerId".to_owned(), json!("7"));
        let answer = link.call("BookmarksSupplierRequest", data).unwrap();
        assert_eq!(answer.name, "BookmarksSupplierCompleted");
        assert_eq!(answer.data["bookmarks"], json!(["bm"]));
        let asked = suite_side.join().unwrap();
        assert_eq!(asked["name"], "BookmarksSupplierRequest");
        assert_eq!(asked["data"]["bookmarkManagerId"], "7");
    }
}
