//! The integration tests of `orderflow-schemas`, one binary with a module per area: a sample of
//! every event type, golden binary fixtures (`schemas/fixtures`), the committed JSON Schemas
//! (`schemas/json`), the JSON form, the codec's errors and round trips, and the value types; the
//! older forms of the types changed in schema version 3 (`versions.rs`), their upcast over
//! arbitrary values (`upcast.rs`) and the JSON documents the previous releases wrote
//! (`tests/data`, `old_json.rs`).
//!
//! Golden files are checked, never silently rewritten: `ORDERFLOW_BLESS=1 cargo test -p
//! orderflow-schemas` writes missing or changed ones instead of failing (see `golden.rs`).

mod codec;
mod fixtures;
mod golden;
mod json_form;
mod json_schema;
mod old_json;
mod samples;
mod strategies;
mod upcast;
mod values;
mod versions;
