//! Tests of the web pages of `serve --http`: over HTTP (every refusal, nothing written) and in a
//! real headless Chromium driven over WebDriver (Debian's `chromium` and `chromium-driver`).

mod audit_track;
mod board_queue;
mod browser;
mod http;
mod intake_kpi;
mod order;
mod serve;
mod support;
