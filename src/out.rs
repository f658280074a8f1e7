//! Writing to standard output without panicking: `orderflow order history X | head -1` must end
//! quietly (a closed pipe stops the output, exit 0), and any other failure to write is reported
//! (exit 1) instead of the panic that `println!` raises.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicU8, Ordering};

const OK: u8 = 0;
const CLOSED: u8 = 1;
const FAILED: u8 = 2;

static STATE: AtomicU8 = AtomicU8::new(OK);
static FAILURE: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// Writes formatted text to stdout; after the reader went away, writes nothing more.
pub fn write(args: std::fmt::Arguments<'_>) {
    if STATE.load(Ordering::Relaxed) != OK {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            STATE.store(CLOSED, Ordering::Relaxed);
        } else {
            STATE.store(FAILED, Ordering::Relaxed);
            if let Ok(mut f) = FAILURE.lock() {
                *f = e.to_string();
            }
        }
    }
}

/// The stdout failure other than a closed pipe, if one happened.
pub fn failure() -> Option<String> {
    if STATE.load(Ordering::Relaxed) == FAILED {
        FAILURE.lock().ok().map(|f| format!("cannot write to standard output: {f}"))
    } else {
        None
    }
}

/// `println!` that never panics (see the module doc).
#[macro_export]
macro_rules! outln {
    () => { $crate::out::write(format_args!("\n")) };
    ($($t:tt)*) => { $crate::out::write(format_args!("{}\n", format_args!($($t)*))) };
}

/// `print!` that never panics (see the module doc).
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => { $crate::out::write(format_args!($($t)*)) };
}
