//! A real `nats-server` with JetStream for one test: free port, own store directory, killed on drop,
//! restartable on the same port and store.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to say it is ready.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// The `nats-server` binary: `$NATS_SERVER_BIN`, else `nats-server` on `PATH`, else
/// `/usr/sbin/nats-server`. Panics with install instructions when there is none.
pub(crate) fn nats_server_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NATS_SERVER_BIN") {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "NATS_SERVER_BIN={} is not a file; point it at a nats-server binary, or unset it and \
             install the Debian package with `apt-get install nats-server`",
            p.display()
        );
        return p;
    }
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|d| d.join("nats-server")).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path.into_iter().chain([PathBuf::from("/usr/sbin/nats-server")]).find(|p| p.is_file()).unwrap_or_else(
        || {
            panic!(
                "nats-server not found (looked at $NATS_SERVER_BIN, PATH and /usr/sbin/nats-server). \
                 The bus tests need a real NATS server with JetStream: install the Debian package \
                 with `apt-get install nats-server`, or set NATS_SERVER_BIN to a nats-server binary."
            )
        },
    )
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// A running (or killed) nats-server.
pub(crate) struct NatsServer {
    bin: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
    starts: usize,
    /// A configuration file (`-c`) instead of plain `-js`.
    config: Option<PathBuf>,
}

impl NatsServer {
    /// Starts a server with JetStream on a free port of 127.0.0.1 and waits until it is ready.
    pub(crate) fn start() -> Self {
        let mut s = Self {
            bin: nats_server_bin(),
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
            starts: 0,
            config: None,
        };
        s.spawn();
        s
    }

    /// Starts a server with the configuration file `config` (as `orderflow nats-config --store-dir`
    /// writes it: accounts, users, JetStream and its store directory) on a free port, and waits
    /// until it is ready. No `-sd`: with it nats-server 2.9 cannot reload the file.
    pub(crate) fn start_with_config(config: &std::path::Path) -> Self {
        let mut s = Self {
            bin: nats_server_bin(),
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            child: None,
            starts: 0,
            config: Some(config.to_path_buf()),
        };
        s.spawn();
        s
    }

    /// Asks the running server to reload its configuration file (SIGHUP, as `nats-server
    /// --signal reload` sends) and waits until its log says it did.
    pub(crate) fn reload(&mut self) {
        let pid = self.child.as_ref().expect("a running server").id();
        let log = self.log_path(self.starts);
        let before = std::fs::read_to_string(&log).unwrap_or_default().matches("Reloaded").count();
        let status = Command::new("kill").args(["-HUP", &pid.to_string()]).status().expect("run kill -HUP");
        assert!(status.success(), "kill -HUP {pid} failed");
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.matches("Reloaded").count() > before {
                return;
            }
            assert!(started.elapsed() < READY_TIMEOUT, "nats-server did not reload in time:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    fn log_path(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("server-{n}.log"))
    }

    fn spawn(&mut self) {
        self.starts += 1;
        let log = std::fs::File::create(self.log_path(self.starts)).expect("server log file");
        let mut command = Command::new(&self.bin);
        match &self.config {
            Some(config) => command.arg("-c").arg(config),
            None => command.arg("-js").arg("-sd").arg(self.store()),
        };
        let child = command
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()));
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let started = Instant::now();
        let log = self.log_path(self.starts);
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Server is ready")
                && TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_secs(1))
                    .is_ok()
            {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("nats-server exited with {status} on port {}:\n{text}", self.port);
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "nats-server on port {} not ready after {READY_TIMEOUT:?}:\n{text}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (SIGKILL: no clean shutdown) and waits for it to exit.
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and store directory (killing it first if it runs).
    pub(crate) fn restart(&mut self) {
        self.kill();
        let started = Instant::now();
        // The old process is gone; the port may still be settling.
        while TcpListener::bind(("127.0.0.1", self.port)).is_err() {
            assert!(started.elapsed() < READY_TIMEOUT, "port {} stays busy", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A client that reconnects quickly (tests kill and restart the server).
pub(crate) async fn connect(server: &NatsServer) -> async_nats::Client {
    async_nats::ConnectOptions::new()
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis(50 * u64::try_from(attempts.min(10)).unwrap_or(10))
        })
        .connection_timeout(Duration::from_secs(2))
        .connect(server.url())
        .await
        .expect("connect to the test nats-server")
}
