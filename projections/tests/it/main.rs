//! Integration tests of the read models, on real event logs in temporary directories.

mod audit;
mod kpi;
mod late;
mod runner;
mod scenario;
mod status;
mod v3;
