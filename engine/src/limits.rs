//! Every limit of the log, named in one place and passed explicitly.

/// Limits enforced by the log. Reaching one is a typed error ([`crate::AppendError::Limit`]),
/// never a hang or an unbounded buffer.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Events in one append (one command).
    pub events_per_append_max: usize,
    /// Bytes of one event's payload.
    pub event_payload_bytes_max: usize,
    /// Events in one stream (one order).
    pub events_per_stream_max: u64,
    /// Appends the writer commits with one flush.
    pub batch_appends_max: usize,
    /// Appends waiting for the writer; senders wait (backpressure) beyond it.
    pub queue_depth_max: usize,
    /// Streams whose heads the writer keeps in memory; beyond it the cache is emptied and
    /// streams are loaded again from the index.
    pub stream_cache_streams_max: usize,
    /// Events returned by one `read_from` call.
    pub read_batch_events_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            events_per_append_max: 64,
            event_payload_bytes_max: 64 * 1024,
            events_per_stream_max: 100_000,
            batch_appends_max: 1024,
            queue_depth_max: 4096,
            stream_cache_streams_max: 20_000,
            read_batch_events_max: 65_536,
        }
    }
}
