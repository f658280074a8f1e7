//! The NATS bus: publishes the event log to JetStream exactly once, and feeds each department the
//! events it needs.
//!
//! Boundaries (invariants):
//! - the bus reads the log and never writes events to it; its only state in the log's database is
//!   the publisher checkpoint (tree `publisher`);
//! - the bus knows events only through `orderflow-schemas` (codec and JSON form), never through
//!   the order aggregate or read models;
//! - the stream `ORDERFLOW` (subjects `orderflow.events.>`) is written by the publisher alone;
//! - libraries here emit `tracing` events; the binary installs the subscriber.
//!
//! Files: [`subjects`] (subject and header scheme), [`publisher`] (log -> stream),
//! [`routing`] (department -> event types), [`consumer`] (stream -> department handler),
//! [`shutdown`] (stop signal).

mod backoff;
pub mod consumer;
pub mod publisher;
pub mod routing;
pub mod shutdown;
pub mod subjects;

pub use consumer::{
    consume, create_department_consumers, ConsumeError, ConsumeStats, ConsumerOptions, ConsumerPlan,
    DeptEvent, OnUndecodable, Undecodable, UnknownDepartment,
};
pub use publisher::{
    saved_checkpoint, Publisher, PublisherConfig, PublisherError, PublisherMetrics, PublisherReport,
    PublisherStats,
};
pub use routing::{RoutingError, RoutingTable, DEPARTMENTS};
pub use shutdown::{shutdown_channel, Shutdown, ShutdownTrigger};
