//! Faults between the driver and a real Neo4j: a small TCP proxy that cuts connections mid-query,
//! mid-stream and mid-commit. Shows that work cut before COMMIT is retried and applied exactly
//! once, and that a commit whose outcome is unknown is reported, never silently re-run.
//!
//! Needs the server of the other integration tests (`cargo xtask server start neo4j-5`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use quiver_tokio::{AuthToken, Config, Driver, Error, Query, RetryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does next (each fault fires once, then the proxy forwards faithfully).
#[derive(Debug, Clone)]
enum Fault {
    None,
    /// Close both sides instead of forwarding client bytes that contain this marker.
    CutOnClientMarker(Vec<u8>),
    /// Forward the client's COMMIT, then close both sides before the server's answer arrives.
    CommitThenCut,
    /// Close both sides once this many server bytes have been forwarded.
    CutServerAfter(usize),
}

/// COMMIT as it appears on the wire: one chunk holding an empty structure with tag 0x12.
const COMMIT: [u8; 6] = [0x00, 0x02, 0xB0, 0x12, 0x00, 0x00];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

struct Proxy {
    port: u16,
    fault: Arc<Mutex<Fault>>,
    cuts: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let fault = Arc::new(Mutex::new(Fault::None));
        let cuts = Arc::new(AtomicUsize::new(0));
        let (f, c) = (fault.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, fault, cuts) = (upstream.clone(), f.clone(), c.clone());
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        pump(client, server, fault, cuts).await;
                    }
                });
            }
        });
        Proxy { port, fault, cuts }
    }

    fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap() = fault;
    }
}

async fn pump(
    mut client: TcpStream,
    mut server: TcpStream,
    fault: Arc<Mutex<Fault>>,
    cuts: Arc<AtomicUsize>,
) {
    let (mut client_r, mut client_w) = client.split();
    let (mut server_r, mut server_w) = server.split();
    let (mut cbuf, mut sbuf) = (vec![0u8; 65536], vec![0u8; 65536]);
    let mut commit_forwarded = false;
    let mut server_bytes = 0usize;
    loop {
        tokio::select! {
            read = client_r.read(&mut cbuf) => {
                let Ok(n) = read else { break };
                if n == 0 { break }
                let data = &cbuf[..n];
                let mut cut = false;
                {
                    let mut f = fault.lock().unwrap();
                    match &*f {
                        Fault::CutOnClientMarker(marker) if contains(data, marker) => {
                            *f = Fault::None;
                            cut = true;
                        }
                        Fault::CommitThenCut if contains(data, &COMMIT) => {
                            *f = Fault::None;
                            commit_forwarded = true;
                        }
                        _ => {}
                    }
                }
                if cut { cuts.fetch_add(1, Ordering::SeqCst); break }
                if server_w.write_all(data).await.is_err() { break }
            }
            read = server_r.read(&mut sbuf) => {
                let Ok(n) = read else { break };
                if n == 0 { break }
                if commit_forwarded {
                    // The server has answered the COMMIT: the client never learns how it went.
                    cuts.fetch_add(1, Ordering::SeqCst);
                    break;
                }
                server_bytes += n;
                let cut = {
                    let mut f = fault.lock().unwrap();
                    match &*f {
                        Fault::CutServerAfter(limit) if server_bytes >= *limit => { *f = Fault::None; true }
                        _ => false,
                    }
                };
                if cut { cuts.fetch_add(1, Ordering::SeqCst); break }
                if client_w.write_all(&sbuf[..n]).await.is_err() { break }
            }
        }
    }
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

async fn setup() -> (Proxy, Driver, Driver) {
    let uri = env("NEO4J_URI", "bolt://127.0.0.1:7687");
    let auth = AuthToken::basic(
        env("NEO4J_USER", "neo4j"),
        env("NEO4J_PASSWORD", "quiver-test-password"),
    );
    let direct = Driver::new(&uri, auth.clone()).expect("driver");
    if let Err(e) = direct.verify_connectivity().await {
        panic!(
            "cannot reach Neo4j at {uri} ({e}); start it with `cargo xtask server start neo4j-5`"
        );
    }
    let upstream = uri.trim_start_matches("bolt://").to_owned();
    let proxy = Proxy::start(upstream).await;
    let retry = RetryConfig {
        initial_delay: Duration::from_millis(20),
        ..RetryConfig::default()
    };
    let proxied = Driver::with_config(
        &format!("bolt://127.0.0.1:{}", proxy.port),
        auth,
        Config::default().with_retry(retry).with_telemetry(false),
    )
    .expect("driver");
    (proxy, direct, proxied)
}

fn label(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("QuiverFault_{test}_{}_{nanos}", std::process::id())
}

async fn count(driver: &Driver, label: &str) -> i64 {
    let r = driver
        .execute_query(format!("MATCH (n:{label}) RETURN count(n) AS c"))
        .await
        .unwrap();
    r.records[0].get("c").unwrap()
}

#[tokio::test]
async fn a_write_cut_before_commit_is_retried_and_applied_exactly_once() {
    let (proxy, direct, proxied) = setup().await;
    let l = label("before_commit");
    proxy.set(Fault::CutOnClientMarker(l.clone().into_bytes()));
    let attempts = AtomicUsize::new(0);
    let mut session = proxied.session();
    let (l_ref, attempts_ref) = (&l, &attempts);
    session
        .execute_write(|tx| async move {
            attempts_ref.fetch_add(1, Ordering::SeqCst);
            tx.run(format!("CREATE (:{l_ref})")).await?.consume().await
        })
        .await
        .unwrap();
    assert_eq!(proxy.cuts.load(Ordering::SeqCst), 1);
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        2,
        "the cut attempt must have been retried"
    );
    assert_eq!(
        count(&direct, &l).await,
        1,
        "the write must be applied exactly once"
    );
    direct
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_commit_whose_answer_is_lost_is_reported_and_never_rerun() {
    let (proxy, direct, proxied) = setup().await;
    let l = label("mid_commit");
    // Open the connection first so that the fault hits this transaction's COMMIT.
    proxied.verify_connectivity().await.unwrap();
    proxy.set(Fault::CommitThenCut);
    let attempts = AtomicUsize::new(0);
    let mut session = proxied.session();
    let (l_ref, attempts_ref) = (&l, &attempts);
    let err = session
        .execute_write(|tx| async move {
            attempts_ref.fetch_add(1, Ordering::SeqCst);
            tx.run(format!("CREATE (:{l_ref})")).await?.consume().await
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IncompleteCommit { .. }), "{err}");
    assert!(!err.is_retryable());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "an unknown commit outcome must not be retried"
    );
    // Here the server did commit: exactly one node, written once.
    assert_eq!(count(&direct, &l).await, 1);
    // The driver recovers: the broken connection was discarded.
    let r = proxied.execute_query("RETURN 1 AS one").await.unwrap();
    assert_eq!(r.records[0].get::<i64>("one").unwrap(), 1);
    direct
        .execute_query(format!("MATCH (n:{l}) DELETE n"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_read_cut_mid_stream_is_retried_and_completes() {
    let (proxy, _direct, proxied) = setup().await;
    proxied.verify_connectivity().await.unwrap();
    proxy.set(Fault::CutServerAfter(256 * 1024));
    let attempts = AtomicUsize::new(0);
    let mut session = proxied.session();
    let attempts_ref = &attempts;
    let rows = session
        .execute_read(|tx| async move {
            attempts_ref.fetch_add(1, Ordering::SeqCst);
            let mut result = tx
                .run(Query::new(
                    "UNWIND range(1, 100000) AS i RETURN i, 'row-' + toString(i) AS s",
                ))
                .await?;
            let mut rows = 0u64;
            while let Some(record) = result.next().await {
                record?;
                rows += 1;
            }
            Ok(rows)
        })
        .await
        .unwrap();
    assert_eq!(rows, 100_000);
    assert_eq!(proxy.cuts.load(Ordering::SeqCst), 1);
    assert_eq!(attempts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_auto_commit_query_cut_mid_stream_fails_with_a_connection_error() {
    let (proxy, _direct, proxied) = setup().await;
    proxied.verify_connectivity().await.unwrap();
    proxy.set(Fault::CutServerAfter(128 * 1024));
    let mut session = proxied.session();
    let mut result = session
        .run("UNWIND range(1, 100000) AS i RETURN i")
        .await
        .unwrap();
    let mut error = None;
    while let Some(record) = result.next().await {
        if let Err(e) = record {
            error = Some(e);
            break;
        }
    }
    drop(result);
    let error = error.expect("the cut must surface as an error");
    assert!(error.is_connection_error(), "{error}");
    // The session recovers on a fresh connection.
    let one: i64 = session
        .run("RETURN 1 AS one")
        .await
        .unwrap()
        .single()
        .await
        .unwrap()
        .get("one")
        .unwrap();
    assert_eq!(one, 1);
}
