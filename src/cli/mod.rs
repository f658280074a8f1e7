//! The command line: global options, subcommands, output (text or JSON) and exit codes
//! (0 done; 2 usage; 3 rejected by a rule; 4 conflict after retries; 1 anything else).

mod order;
mod render;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use orderflow_schemas::{Actor, JsonEnvelope, OrderId};
use serde_json::json;
use uuid::Uuid;

use crate::app::{self, App, AppError, Request};
pub use order::parse_price;
use order::{OrderCmd, Parsed};

/// orderflow: an event-sourced order workflow engine for manufacturers.
#[derive(Parser, Debug)]
#[command(name = "orderflow", version, about, propagate_version = true)]
pub struct Cli {
    /// The data directory.
    #[arg(long, global = true, env = "ORDERFLOW_DATA_DIR", default_value = app::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Top,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Top {
    /// Commands and reads on one order.
    Order {
        #[command(subcommand)]
        cmd: Box<OrderCmd>,
    },
    /// Make a data directory and drive a few hundred orders through realistic lives.
    Demo(crate::demo::DemoArgs),
    /// Measure the lifecycle workload (shared/bench/WORKLOAD.md), or with --raw the raw limits.
    Bench(crate::bench::BenchArgs),
}

/// Parses the command line and runs it; returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let json = cli.json;
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!("{}", json!({ "error": e.kind(), "message": e.to_string() }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

async fn run(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Top::Order { cmd } => {
            let parsed = (*cmd).into_parsed().map_err(AppError::Invalid)?;
            let app = App::open(&cli.data_dir)?;
            let result = run_order(&app, parsed, cli.json).await;
            let closed = app.close();
            if let (Ok(()), Err(e)) = (&result, closed) {
                // What the command did was flushed before it was reported; failing to mark the
                // clean shutdown only means the next open checks the log's tail.
                eprintln!(
                    "warning: the data directory was not closed cleanly ({e}); the next open checks it"
                );
            }
            result
        }
        Top::Demo(args) => crate::demo::run(&cli.data_dir, args, cli.json).await,
        Top::Bench(args) => crate::bench::run(args).await,
    }
}

async fn run_order(app: &App, parsed: Parsed, json: bool) -> Result<(), AppError> {
    match parsed {
        Parsed::Write { order, command, common } => {
            let role = common.role.unwrap_or_else(|| command.default_role());
            let actor =
                Actor { name: common.actor.clone().unwrap_or_else(|| app::default_actor(role)), role };
            let command_id = common.command_id.unwrap_or_else(Uuid::new_v4);
            let name = command.name();
            let done = app
                .execute(Request { order_id: order, command_id, actor, at: common.at, command })
                .await
                .map_err(|e| match e {
                    // The command may or may not be on disk: the same id applies it exactly once.
                    AppError::Failure(m) => AppError::Failure(format!(
                        "{m}; to retry, repeat the command with --command-id {command_id}"
                    )),
                    other => other,
                })?;
            if json {
                let types: Vec<&str> = done.events.iter().map(|e| e.body.event_type().name).collect();
                let mut out = json!({
                    "order_id": done.order_id,
                    "command": name,
                    "command_id": command_id,
                    "duplicate": done.duplicate,
                    "events": types,
                    "first_position": done.first_position,
                    "version": done.version,
                });
                if let Some(id) = render::complaint_id(&done.events) {
                    out["complaint_id"] = json!(id);
                }
                println!("{out}");
            } else if name == "receive" {
                println!("{}", done.order_id);
            } else {
                println!("{}", render::done_line(&done));
            }
            Ok(())
        }
        Parsed::Show(order) => {
            let (version, state) = app.order(order)?;
            if !state.exists() {
                return Err(AppError::Rejected(orderflow_commands::Rejection::OrderNotFound { order }));
            }
            if json {
                println!("{}", render::state_json(&state, version));
            } else {
                print!("{}", render::state_text(&state, version));
            }
            Ok(())
        }
        Parsed::History(order) => history(app, order, json),
    }
}

fn history(app: &App, order: OrderId, json: bool) -> Result<(), AppError> {
    let events = app.log().read_stream(order.0, 1)?;
    if events.is_empty() {
        return Err(AppError::Rejected(orderflow_commands::Rejection::OrderNotFound { order }));
    }
    for stored in events {
        let event =
            orderflow_schemas::decode_event(stored.event_type, stored.schema_version, &stored.payload)
                .map_err(|e| AppError::Failure(format!("event at position {}: {e}", stored.position)))?;
        if json {
            let env = JsonEnvelope {
                event_id: stored.event_id,
                order_id: order,
                position: stored.position,
                version: stored.version,
                recorded_at: orderflow_schemas::Timestamp(stored.recorded_at_us),
            };
            println!("{}", orderflow_schemas::event_to_json(&event, &env));
        } else {
            println!("{}", render::history_line(&stored, &event));
        }
    }
    Ok(())
}
