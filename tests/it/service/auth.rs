//! Identity over NATS against a real nats-server started with the generated configuration (filled in
//! by the next commit).
