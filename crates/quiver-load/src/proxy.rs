//! A TCP proxy in front of the server that can cut every connection through it at once, as a
//! network failure or a load balancer dropping connections would, mid-stream and mid-commit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The proxy; connections are forwarded until [`cut_all`](Proxy::cut_all).
pub(crate) struct Proxy {
    port: u16,
    generation: watch::Sender<u64>,
    cut: Arc<AtomicU64>,
}

impl Proxy {
    /// Listens on a free local port and forwards each connection to `upstream` (`host:port`).
    pub(crate) async fn start(upstream: String) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (generation, _) = watch::channel(0u64);
        let cut = Arc::new(AtomicU64::new(0));
        let (subscribe, counter) = (generation.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let cuts = subscribe.subscribe();
                let (upstream, counter) = (upstream.clone(), counter.clone());
                tokio::spawn(async move {
                    // A server that is down refuses: the client sees its connection closed.
                    if let Ok(server) = TcpStream::connect(upstream).await {
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        if pump(client, server, cuts).await {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        Ok(Proxy {
            port,
            generation,
            cut,
        })
    }

    /// The port clients connect to.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// Closes every connection open now (both sides, whatever they are in the middle of).
    pub(crate) fn cut_all(&self) {
        self.generation.send_modify(|generation| *generation += 1);
    }

    /// How many connections were cut so far.
    pub(crate) fn connections_cut(&self) -> u64 {
        self.cut.load(Ordering::Relaxed)
    }
}

/// Forwards both ways until either side closes or a cut comes; true if a cut ended it.
async fn pump(
    mut client: TcpStream,
    mut server: TcpStream,
    mut cuts: watch::Receiver<u64>,
) -> bool {
    let (mut client_read, mut client_write) = client.split();
    let (mut server_read, mut server_write) = server.split();
    let (mut up, mut down) = (vec![0u8; 65536], vec![0u8; 65536]);
    loop {
        tokio::select! {
            read = client_read.read(&mut up) => match read {
                Ok(n) if n > 0 => if server_write.write_all(&up[..n]).await.is_err() { return false },
                _ => return false,
            },
            read = server_read.read(&mut down) => match read {
                Ok(n) if n > 0 => if client_write.write_all(&down[..n]).await.is_err() { return false },
                _ => return false,
            },
            _ = cuts.changed() => return true,
        }
    }
}
