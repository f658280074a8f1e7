//! The integration tests of the Order aggregate: one binary, one module per area.

mod after_sales;
mod archive;
mod cancel;
mod change;
mod change_request;
mod close;
mod confirm;
mod deadlines;
mod harness;
mod json;
mod production;
mod props;
mod receive;
mod review;
mod roles;
mod shipping;
mod sign_off;
