//! The `orderflow` application: wiring of the engine, the order aggregate, the read models and the
//! NATS bus, plus the command line. Only this crate knows configuration, the command line and the
//! tracing subscriber.

pub mod aggregate;
pub mod app;
pub mod auth;
pub mod bench;
pub mod bench_nats;
mod bench_raw;
pub mod bench_web;
pub mod bus;
pub mod cli;
pub mod demo;
pub mod natsauth;
pub mod out;
mod render;
pub mod rng;
pub mod service;
pub mod settings;
pub mod signing;
pub mod web;
