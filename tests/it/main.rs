//! Integration tests of the `orderflow` package. The bus tests run against a real `nats-server`
//! (started per test on a free port, see `support`); they fail, with install instructions, when
//! there is none.

mod bus;
mod cli;
mod faults;
mod service;
mod support;
mod web;
