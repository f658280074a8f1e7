//! The `orderflow` application: wiring of the engine, the order aggregate, the read models and the
//! NATS bus, plus the command line. Only this crate knows configuration, the command line and the
//! tracing subscriber.

pub mod app;
pub mod bench;
mod bench_raw;
pub mod bus;
pub mod cli;
pub mod demo;
mod rng;
