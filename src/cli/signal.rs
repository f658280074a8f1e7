//! The stop signals of the long-running commands (`serve`, `consume`): SIGINT and SIGTERM.

use crate::app::AppError;

/// SIGINT and SIGTERM, registered when made: a signal that arrives before [`StopSignals::recv`]
/// is awaited is kept, not lost (and does not kill the process).
#[derive(Debug)]
pub(super) struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Registers the handlers. Call it before anything that a signal should stop in order.
    pub(super) fn register() -> Result<Self, AppError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let err = |e: std::io::Error| AppError::Failure(format!("cannot handle stop signals: {e}"));
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).map_err(err)?,
                terminate: signal(SignalKind::terminate()).map_err(err)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves with the signal's name when one arrives.
    pub(super) async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
