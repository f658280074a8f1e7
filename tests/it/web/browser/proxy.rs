//! A TCP relay between a browser and the site that a test can cut: every open connection
//! dropped at once (as a network that fails under an open event stream), and new ones refused
//! until the test lets them through again. A browser's `EventSource` then reconnects on its own.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running relay to one upstream address (stopped on drop).
pub(crate) struct Relay {
    addr: SocketAddr,
    cuts: watch::Sender<u64>,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    /// New connections are dropped at once.
    refusing: AtomicBool,
    /// Connections relayed so far.
    relayed: AtomicUsize,
}

impl Relay {
    /// Listens on a free port of 127.0.0.1 and relays every connection to `upstream`.
    pub(crate) async fn start(upstream: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let addr = listener.local_addr().expect("relay address");
        let (cuts, _) = watch::channel(0u64);
        let shared = Arc::new(Shared { refusing: AtomicBool::new(false), relayed: AtomicUsize::new(0) });
        let task = {
            let cuts = cuts.clone();
            let shared = shared.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if shared.refusing.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    shared.relayed.fetch_add(1, Ordering::SeqCst);
                    let mut cut = cuts.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut outbound) = TcpStream::connect(upstream).await else { return };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            })
        };
        Relay { addr, cuts, shared, task }
    }

    /// `http://127.0.0.1:<port>` of the relay.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection and refuses new ones until [`Relay::reopen`].
    pub(crate) fn cut(&self) {
        self.shared.refusing.store(true, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// Lets connections through again.
    pub(crate) fn reopen(&self) {
        self.shared.refusing.store(false, Ordering::SeqCst);
    }

    /// Connections relayed so far.
    pub(crate) fn relayed(&self) -> usize {
        self.shared.relayed.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
        self.cuts.send_modify(|n| *n += 1);
    }
}
