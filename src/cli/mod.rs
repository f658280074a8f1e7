//! The command line: global options, subcommands, output (text or JSON) and exit codes
//! ([`EXIT_CODES`]).
//!
//! With `--nats URL` (env `ORDERFLOW_NATS_URL`), `order`, `status`, `kpi` and `audit` subcommands
//! (all but `audit verify-export`, which reads a file) go to a running `orderflow serve` instead
//! of the data directory, with the same output and exit codes; `serve` and `consume` connect to
//! that broker. Without `--nats`, when a running `serve` holds the data directory, they go to it
//! through the NATS URL it recorded in the directory's `serve.json`.

mod consume;
mod natscfg;
pub(crate) mod order;
pub mod read;
mod remote;
mod serve;
mod signal;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use orderflow_schemas::OrderId;
use serde_json::json;
use uuid::Uuid;

use crate::app::{self, App, AppError, CommandReply, Request};
use crate::render;
pub use consume::ConsumeArgs;
pub use order::parse_price;
use order::{OrderCmd, Parsed};
pub use serve::ServeArgs;

/// Exit codes, as the top-level help lists them.
pub const EXIT_CODES: &str = "Exit codes:
  0  done
  1  failure: storage, NATS or anything else (with an order command: retry with the --command-id named)
  2  usage: unknown option, missing argument
  3  refused, nothing written: a business rule, not allowed (a failed login, a disabled user, a role
     you do not hold, back-dating without late_entry), invalid input (also an ambiguous order
     prefix), a limit
  4  conflict: the order kept changing during the retries; nothing written
  5  tampered: audit verify or audit verify-export found the log or the export altered";

/// orderflow: an event-sourced order workflow engine for manufacturers.
#[derive(Parser, Debug)]
#[command(name = "orderflow", version, about, propagate_version = true, after_help = EXIT_CODES)]
pub struct Cli {
    /// The data directory.
    #[arg(long, global = true, env = "ORDERFLOW_DATA_DIR", default_value = app::DEFAULT_DATA_DIR)]
    pub data_dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// The NATS server: `order`, `status`, `kpi` and `audit` go to the `orderflow serve` running
    /// there instead of the data directory; `serve` and `consume` connect to it.
    #[arg(long, global = true, env = "ORDERFLOW_NATS_URL", value_name = "URL")]
    pub nats: Option<String>,
    /// The settings file (review limits, after-sales, archive); default: orderflow.toml in the
    /// data directory when it is there, else the built-in defaults (`orderflow settings`).
    #[arg(long, global = true, env = "ORDERFLOW_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub login: LoginArgs,
    #[command(flatten)]
    pub nats_login: natscfg::NatsLoginArgs,
    #[command(subcommand)]
    pub command: Top,
}

/// Who you are, for everything done on a data directory: your login and your password (from a
/// prompt or `ORDERFLOW_PASSWORD`), or a token file.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct LoginArgs {
    /// Your login (the password comes from ORDERFLOW_PASSWORD, else a prompt on the terminal).
    #[arg(long, global = true, env = "ORDERFLOW_USER", value_name = "LOGIN")]
    pub user: Option<String>,
    /// A token file (from `orderflow users token`) instead of a login and password.
    #[arg(long, global = true, env = "ORDERFLOW_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

/// The environment variable a password may come from (else the terminal is asked).
pub const PASSWORD_ENV: &str = "ORDERFLOW_PASSWORD";

impl LoginArgs {
    /// Authenticates against the open data directory; nothing is written but the failed-login
    /// counter.
    pub async fn authenticate(&self, app: &App) -> Result<crate::auth::User, AppError> {
        if app.auth().directory()?.is_empty() {
            return Err(AppError::Forbidden(format!(
                "{} has no users yet: set it up with `orderflow users bootstrap --admin LOGIN` (password on stdin)",
                app.path().display()
            )));
        }
        if let Some(file) = &self.token_file {
            let token = std::fs::read_to_string(file).map_err(|e| {
                AppError::Invalid(format!("cannot read the token file {}: {e}", file.display()))
            })?;
            return app.auth().token_login(&token);
        }
        let Some(login) = &self.user else {
            return Err(AppError::Forbidden(
                "who are you? log in with --user LOGIN (or ORDERFLOW_USER) and your password (prompted, or \
                 ORDERFLOW_PASSWORD), or with --token-file FILE"
                    .into(),
            ));
        };
        let password = match std::env::var(PASSWORD_ENV) {
            Ok(p) => p,
            Err(_) => rpassword::prompt_password(format!("password for {login}: ")).map_err(|e| {
                AppError::Forbidden(format!(
                    "no password for {login}: set {PASSWORD_ENV}, use --token-file, or run in a terminal ({e})"
                ))
            })?,
        };
        app.auth().login(login, &password).await
    }
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
    /// The status board: active orders, or filtered.
    Status(read::StatusArgs),
    /// On-time delivery and the other monthly KPIs.
    Kpi(read::KpiArgs),
    /// The audit archive: history, export, verify, replay, holds, access log.
    Audit {
        #[command(subcommand)]
        cmd: read::AuditCmd,
    },
    /// Rebuild read models from the log.
    Rebuild {
        /// Which read model.
        #[arg(long, value_enum, default_value = "all")]
        projection: read::Which,
    },
    /// Measure the lifecycle workload (benches/WORKLOAD.md), or with --raw the raw limits, or
    /// (`bench web`) the web pages.
    Bench(crate::bench::BenchArgs),
    /// Serve the web pages (--http) and/or answer commands and queries over NATS and publish the
    /// log (--nats); stop on SIGINT/SIGTERM.
    Serve(ServeArgs),
    /// Print a department's events as they come (needs --nats); stop on SIGINT/SIGTERM.
    Consume(ConsumeArgs),
    /// The user directory: bootstrap, add, grant, revoke, disable, list, passwords and tokens.
    Users {
        #[command(subcommand)]
        cmd: users::UsersCmd,
    },
    /// The business settings in force (review limits per department, complaint first response,
    /// follow-up visits, retention) and the file they come from.
    Settings,
    /// Follow-up visits (回訪) that are due: signed orders past sign-off + visit_after_days with
    /// no visit recorded.
    Visits {
        #[command(subcommand)]
        cmd: read::VisitsCmd,
    },
    /// Write the nats-server configuration of the users (admins): one account per role, each
    /// person a NATS user with their own password.
    NatsConfig(natscfg::NatsConfigArgs),
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
    let missing = match &cli.command {
        Top::Serve(args) if cli.nats.is_none() && args.http.is_none() => {
            Some("serve needs --http [ADDR] (the web pages) or --nats URL (or ORDERFLOW_NATS_URL), or both")
        }
        Top::Consume(_) if cli.nats.is_none() => Some("consume needs --nats URL (or ORDERFLOW_NATS_URL)"),
        _ => None,
    };
    if let Some(missing) = missing {
        let e = Cli::command().error(clap::error::ErrorKind::MissingRequiredArgument, missing);
        let _ = e.print();
        return ExitCode::from(2);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let json = cli.json;
    let result = rt.block_on(run(cli)).and_then(|()| match crate::out::failure() {
        Some(f) => Err(AppError::Failure(f)),
        None => Ok(()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                eprintln!("{}", json!({ "error": e.kind().as_str(), "message": e.to_string() }));
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// The data directory, the NATS URL and the login given.
struct Place {
    data_dir: PathBuf,
    nats: Option<String>,
    login: LoginArgs,
    nats_login: natscfg::NatsLoginArgs,
}

/// Where a command or read goes: the data directory (with the user logged in), or a running
/// `orderflow serve`.
#[allow(clippy::large_enum_variant)] // one per run of the program: not worth a box
pub(crate) enum Via {
    /// The data directory, open, and who logged in.
    Local(App, crate::auth::User),
    /// The service, through NATS.
    Remote(async_nats::Client),
}

impl Via {
    /// `--nats URL` → the service there. Else the data directory, which must exist (a data
    /// directory is made by `users bootstrap` or `demo`), after logging in; when a running
    /// `serve` holds it and recorded where it listens, that `serve`.
    async fn open(place: &Place) -> Result<Via, AppError> {
        if let Some(url) = &place.nats {
            return Ok(Via::Remote(
                crate::service::client::connect(url, &place.nats_login.credentials()?).await?,
            ));
        }
        match App::open_existing(&place.data_dir) {
            Ok(app) => match place.login.authenticate(&app).await {
                Ok(user) => Ok(Via::Local(app, user)),
                Err(e) => {
                    let _ = app.close();
                    Err(e)
                }
            },
            Err(e) => {
                if !e.is_locked() {
                    return Err(e);
                }
                let Some(found) = serve::ServeFile::read(&place.data_dir) else { return Err(e) };
                if found.nats.is_empty() {
                    return Err(AppError::Failure(format!(
                        "{e}; the orderflow serve holding it (pid {}) serves only the web pages{} (no --nats): \
                         use them, or stop it and run this again",
                        found.pid,
                        found.http.as_deref().map(|h| format!(" at http://{h}")).unwrap_or_default()
                    )));
                }
                match crate::service::client::connect(&found.nats, &place.nats_login.credentials()?).await {
                    Ok(client) => Ok(Via::Remote(client)),
                    Err(reach) => Err(AppError::Failure(format!(
                        "{e}; the orderflow serve holding it (pid {}) listens on {}, which cannot be reached: {reach}",
                        found.pid, found.nats
                    ))),
                }
            }
        }
    }

    /// Closes the data directory, or flushes what was sent; `result` is what the run did.
    async fn close(self, result: Result<(), AppError>) -> Result<(), AppError> {
        match self {
            Via::Local(app, _) => {
                let closed = app.close();
                match (result, closed) {
                    (Ok(()), Err(e)) => Err(e.into()),
                    (result, _) => result,
                }
            }
            Via::Remote(client) => {
                let _ = client.flush().await;
                result
            }
        }
    }
}

async fn run(cli: Cli) -> Result<(), AppError> {
    let Cli { data_dir, json, nats, config, login, nats_login, command } = cli;
    if let Some(file) = config {
        crate::settings::use_config_file(file);
    }
    let mut place = Place { data_dir, nats, login, nats_login };
    match command {
        Top::Order { cmd } => {
            let mut parsed = (*cmd).into_parsed().map_err(AppError::Invalid)?;
            if let Parsed::Write { common, .. } = &parsed {
                if common.actor.is_some() {
                    return Err(AppError::Invalid(
                        "--actor is gone: every event carries the logged-in user (--user LOGIN, or ORDERFLOW_USER)"
                            .into(),
                    ));
                }
            }
            // Over NATS a logged-in person needs no NATS user of their own: the one of the role
            // the command is issued in (--role, else the command's own), whose account is that
            // role. --role is then spent on choosing the account.
            let mut role_chose_the_account = false;
            if let Parsed::Write { command, common, .. } = &mut parsed {
                let grant = common.role.unwrap_or(orderflow_schemas::Grant::Role(command.default_role()));
                if place.nats_login.derive_from_login(place.login.user.as_deref(), grant) {
                    role_chose_the_account = true;
                }
            }
            match Via::open(&place).await? {
                Via::Remote(nats) => {
                    if role_chose_the_account {
                        if let Parsed::Write { common, .. } = &mut parsed {
                            common.role = None;
                        }
                    }
                    let result = remote::run_order(&nats, parsed, json).await;
                    Via::Remote(nats).close(result).await
                }
                Via::Local(app, me) => {
                    let result = run_order(&app, &me, parsed, json).await;
                    let closed = app.close();
                    if let (Ok(()), Err(e)) = (&result, closed) {
                        // What the command did was flushed before it was reported; failing to mark
                        // the clean shutdown only means the next open checks the log's tail.
                        eprintln!(
                            "warning: the data directory was not closed cleanly ({e}); the next open checks it"
                        );
                    }
                    result
                }
            }
        }
        Top::Audit { cmd: read::AuditCmd::VerifyExport { file } } => read::verify_export(&file, json),
        Top::Status(args) => {
            let via = Via::open(&place).await?;
            let result = read::status(&via, &args, json).await;
            via.close(result).await
        }
        Top::Kpi(args) => {
            let via = Via::open(&place).await?;
            let result = read::kpi(&via, &args, json).await;
            via.close(result).await
        }
        Top::Audit { cmd } => {
            let via = Via::open(&place).await?;
            let result = read::audit(&via, cmd, json).await;
            via.close(result).await
        }
        Top::Rebuild { projection } => {
            let app = App::open_existing(&place.data_dir)?;
            let result = match place.login.authenticate(&app).await {
                Ok(_) => read::rebuild(&app, projection, json),
                Err(e) => Err(e),
            };
            app.close()?;
            result
        }
        Top::Users { cmd } => users::run(&place.data_dir, &place.login, cmd, json).await,
        Top::Demo(args) => crate::demo::run(&place.data_dir, args, &place.login, json).await,
        Top::Bench(crate::bench::BenchArgs { other: Some(crate::bench::BenchCmd::Web(args)), .. }) => {
            crate::bench_web::run(args, json).await
        }
        Top::Bench(args) => crate::bench::run(args, place.nats).await,
        Top::Serve(args) => {
            serve::run(&place.data_dir, place.nats.as_deref(), &place.nats_login, args, json).await
        }
        Top::Consume(args) => {
            consume::run(&nats_url(&place.nats)?, &place.nats_login.credentials()?, args, json).await
        }
        Top::Settings => {
            let loaded = crate::settings::load(&place.data_dir)?;
            if json {
                crate::outln!("{}", loaded.to_json());
            } else {
                crate::out!("{}", loaded.to_text(&place.data_dir));
            }
            Ok(())
        }
        Top::Visits { cmd } => {
            let via = Via::open(&place).await?;
            let result = read::visits(&via, &cmd, json).await;
            via.close(result).await
        }
        Top::NatsConfig(args) => natscfg::run(&place.data_dir, &place.login, args, json).await,
    }
}

fn nats_url(nats: &Option<String>) -> Result<String, AppError> {
    nats.clone().ok_or_else(|| AppError::Invalid("--nats URL (or ORDERFLOW_NATS_URL) is required".into()))
}

/// Prints what a command did: its JSON with `--json`; else the order id for `receive`, a line
/// for the others. The same for a command run locally and one sent to a server.
fn print_done(reply: &CommandReply, json: bool) {
    if json {
        crate::outln!("{}", reply.to_json());
    } else if reply.command == "receive" {
        crate::outln!("{}", reply.order_id);
    } else {
        crate::outln!("{}", render::done_line(reply));
    }
}

async fn run_order(app: &App, me: &crate::auth::User, parsed: Parsed, json: bool) -> Result<(), AppError> {
    match parsed {
        Parsed::Write { order, command, common } => {
            let order = order.map(|r| app.resolve(&r)).transpose()?;
            let role = common.role.map(|g| g.to_string());
            let principal = crate::auth::Auth::principal(me, role.as_deref(), Some(&command))?;
            let command_id = common.command_id.unwrap_or_else(Uuid::new_v4);
            let name = command.name();
            let done = app
                .execute(Request {
                    order_id: order,
                    command_id,
                    principal,
                    at: common.at,
                    late_reason: common.late_reason.clone(),
                    command,
                })
                .await
                .map_err(|e| match e.kind() {
                    // The command may or may not be on disk: the same id applies it exactly once.
                    app::ErrorKind::Failure => AppError::Failure(format!(
                        "{e}; to retry, repeat the command with --command-id {command_id}"
                    )),
                    _ => e,
                })?;
            print_done(&CommandReply::from_done(&done, name, command_id), json);
            Ok(())
        }
        Parsed::Show(order) => {
            let order = app.resolve(&order)?;
            let (version, state) = app.order(order)?;
            if !state.exists() {
                return Err(AppError::Rejected(orderflow_commands::Rejection::OrderNotFound { order }));
            }
            let entered = app::reads::last_late_entered(app, &state)?;
            if json {
                crate::outln!("{}", render::state_json(&state, version, entered));
            } else {
                crate::out!("{}", render::state_text(&state, version, entered));
            }
            Ok(())
        }
        Parsed::History(order) => history(app, me, app.resolve(&order)?, json).await,
    }
}

/// `order history`: an archive read, permitted ([`app::reads::may_read`]) and recorded first
/// (a refusal is recorded too), then every event of the order.
async fn history(app: &App, me: &crate::auth::User, order: OrderId, json: bool) -> Result<(), AppError> {
    let who = app::reads::Reader {
        principal: app::reads::read_principal(app, order, me, None)?,
        purpose: String::new(),
    };
    app::reads::record_access(
        app,
        order,
        &who,
        orderflow_schemas::AccessKind::History,
        app::reads::ORDER_HISTORY_DETAIL.into(),
    )
    .await?;
    let events = app.log().read_stream(order.0, 1)?;
    if events.is_empty() {
        return Err(AppError::Rejected(orderflow_commands::Rejection::OrderNotFound { order }));
    }
    for stored in events {
        let (event, env) = crate::app::decode_stored(&stored, order)?;
        if json {
            crate::outln!("{}", orderflow_schemas::event_to_json(&event, &env));
        } else {
            crate::outln!("{}", render::history_line(&env, &event));
        }
    }
    Ok(())
}
