//! A stop signal for the bus's long-running tasks: one trigger, any number of listeners.

use tokio::sync::watch;

/// Asks every [`Shutdown`] made with it to stop. Dropping it does *not* stop them: a task stops
/// only when somebody asked.
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

/// Listens for a stop request. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// A trigger and its first listener.
pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    /// Asks every listener to stop.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Another listener.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown { rx: self.tx.subscribe() }
    }
}

impl Shutdown {
    /// A listener that is never asked to stop.
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        drop(tx);
        Self { rx }
    }

    /// Whether a stop was asked.
    pub fn is_requested(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once a stop is asked; never, when the trigger is dropped without asking.
    pub async fn requested(&mut self) {
        loop {
            if *self.rx.borrow_and_update() {
                return;
            }
            if self.rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
