//! The command service: `orderflow serve` runs the engine and the publisher of one data directory
//! and answers commands and queries over NATS request-reply; [`client`] is the other side, used
//! by `orderflow --nats URL order ...`.
//!
//! Subjects: `orderflow.cmd.<command>` (one per [`orderflow_commands::Command::name`]) and
//! `orderflow.query.<query>`; bodies and replies are JSON, see [`protocol`].
//!
//! Boundaries (invariants):
//! - commands never wait for NATS: a command is acknowledged once its events are durable in the
//!   log; the publisher carries them to JetStream afterwards, from the log (the log is the
//!   outbox), also after a crash;
//! - the service goes through [`crate::app::App`] like the command line: the same rules, clock,
//!   idempotency and error kinds; it never writes to the log or the stream itself;
//! - every request is answered with `ok` or an error kind ([`crate::app::ErrorKind`]: `invalid`,
//!   `rejected`, `conflict`, `limit`, `failure`, `tampered`); a bad body writes nothing and the
//!   service keeps answering;
//! - every queue and wait is bounded and named (`REQUEST_BODY_BYTES_MAX`,
//!   `REQUESTS_IN_FLIGHT_MAX_DEFAULT`, the drain timeouts, `REQUEST_TIMEOUT`).
//!
//! Files: [`protocol`] (subjects, bodies, limits, their JSON Schemas), [`query`] (queries and how
//! to add one), [`server`] (the running service and its stop), [`client`] (requests from a
//! client).
//!
//! Layers (no cycles): `app` (with `app::reads`, the reads both sides call) ← `render` ←
//! `service` ← `cli`. The service never imports the command line; `render` never imports the
//! service.

pub mod client;
pub mod protocol;
pub mod query;
pub mod server;
pub mod watcher;

pub use protocol::{
    command_subject, json_schemas, query_subject, CommandReply, CommandRequest, ErrorReply,
    COMMAND_SUBJECT_PREFIX, QUERY_SUBJECT_PREFIX, REQUEST_BODY_BYTES_MAX, SERVICE_NAME, SERVICE_VERSION,
};
pub use query::{builtin_queries, builtin_queries_on, Live, Query, Views};
pub use server::{ServeConfig, ServeError, ServeReport, Server, ServerInfo};
