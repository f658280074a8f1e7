//! The `orderflow` binary.

/// mimalloc instead of glibc malloc: decoding and folding events is allocation-heavy, and with
/// two threads glibc's per-thread arenas fragment (peak RSS and rebuild speed both suffer).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ORDERFLOW_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    orderflow::cli::main()
}
