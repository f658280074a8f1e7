//! `orderflow nats-config --out FILE`: the nats-server configuration of the user directory (see
//! [`crate::natsauth`]), and the NATS credentials options every NATS client of the CLI takes.

use orderflow_schemas::Grant;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::app::{App, AppError};
use crate::auth::{Auth, ENGINE_NATS_USER};
use crate::natsauth::{self, Generated};
use crate::service::client::Credentials;

use super::LoginArgs;

/// Options of `orderflow nats-config`.
#[derive(clap::Args, Debug, Clone)]
pub struct NatsConfigArgs {
    /// The configuration file to write (0600; refused if it exists, unless --force).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// The JetStream store directory, written into the file. Without it the store comes from
    /// nats-server's `-sd`, and nats-server 2.9 then refuses `--signal reload` (needed after a
    /// change of users).
    #[arg(long, value_name = "DIR")]
    pub store_dir: Option<PathBuf>,
}

/// Who the CLI is on NATS (`--nats-user` and its password, or an nkey seed file): for commands
/// and reads sent to `serve`, for `consume`, and for `serve` itself.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct NatsLoginArgs {
    /// Your NATS user: `<login>@<account>` of the generated configuration (`li@sales`); `serve`
    /// connects as orderflow-engine by default once `nats-config` was run on its data directory.
    #[arg(long, global = true, env = "ORDERFLOW_NATS_USER", value_name = "USER")]
    pub nats_user: Option<String>,
    /// The NATS user's password (prefer the environment variable: a command line is visible to
    /// other users of the machine).
    #[arg(
        long,
        global = true,
        env = "ORDERFLOW_NATS_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub nats_password: Option<String>,
    /// An nkey seed file (`SU...`) to connect with instead of a user and password.
    #[arg(long, global = true, env = "ORDERFLOW_NATS_CREDS", value_name = "FILE")]
    pub nats_creds: Option<PathBuf>,
}

impl NatsLoginArgs {
    /// When no NATS user or seed is given but a login is (`--user`, `ORDERFLOW_USER`), that
    /// person's NATS user in the account of `grant` (`<login>@<account>`, [`auth::nats_user_of`]),
    /// with the login's password (`ORDERFLOW_NATS_PASSWORD`, else `ORDERFLOW_PASSWORD`, else a
    /// prompt): a person's NATS password is their own. Returns whether it did.
    pub fn derive_from_login(&mut self, login: Option<&str>, grant: Grant) -> bool {
        let (None, None, Some(login)) = (&self.nats_user, &self.nats_creds, login) else { return false };
        self.nats_user = Some(crate::auth::nats_user_of(login.trim(), grant));
        if self.nats_password.is_none() {
            self.nats_password = std::env::var(super::PASSWORD_ENV).ok();
        }
        true
    }

    /// The credentials given, checked for completeness.
    pub fn credentials(&self) -> Result<Credentials, AppError> {
        match (&self.nats_user, &self.nats_password, &self.nats_creds) {
            (None, None, None) => Ok(Credentials::None),
            (Some(_), _, Some(_)) => {
                Err(AppError::Invalid("give --nats-user or --nats-creds, not both".into()))
            }
            (Some(user), Some(password), None) => {
                Ok(Credentials::User { user: user.clone(), password: password.clone() })
            }
            (Some(user), None, None) => {
                let password =
                    rpassword::prompt_password(format!("NATS password for {user}: ")).map_err(|e| {
                        AppError::Invalid(format!(
                        "--nats-user {user} needs its password: set ORDERFLOW_NATS_PASSWORD, or run in a \
                         terminal ({e})"
                    ))
                    })?;
                Ok(Credentials::User { user: user.clone(), password })
            }
            (None, Some(_), None) => {
                Err(AppError::Invalid("--nats-password without --nats-user (ORDERFLOW_NATS_USER)".into()))
            }
            (None, _, Some(file)) => {
                let seed = std::fs::read_to_string(file).map_err(|e| {
                    AppError::Invalid(format!("cannot read the nkey seed file {}: {e}", file.display()))
                })?;
                Ok(Credentials::Nkey { seed: seed.trim().to_string() })
            }
        }
    }
}

/// Writes the configuration of the data directory's users to `args.out`, as an admin.
pub(super) async fn run(
    data_dir: &Path,
    login: &LoginArgs,
    args: NatsConfigArgs,
    json: bool,
) -> Result<(), AppError> {
    if !args.force && args.out.exists() {
        return Err(AppError::Invalid(format!(
            "{} exists; nothing written (--force replaces it)",
            args.out.display()
        )));
    }
    let app = App::open_existing(data_dir)?;
    let result = generate(&app, login, &args, json).await;
    let closed = app.close();
    result?;
    closed?;
    Ok(())
}

async fn generate(app: &App, login: &LoginArgs, args: &NatsConfigArgs, json: bool) -> Result<(), AppError> {
    let me = login.authenticate(app).await?;
    Auth::principal(&me, Some("admin"), None)?;
    let auth = app.auth();
    let directory = auth.directory()?;
    let secrets = auth.secrets();
    let engine_password = secrets.engine_nats_password()?;
    let plan = natsauth::plan(&directory, |id| secrets.nats_hash(id), &engine_password)?;
    for why in &plan.skipped {
        eprintln!("warning: {why}");
    }
    let store_dir = match &args.store_dir {
        Some(d) => Some(
            std::path::absolute(d)
                .map_err(|e| AppError::Invalid(format!("--store-dir {}: {e}", d.display())))?
                .display()
                .to_string(),
        ),
        None => {
            eprintln!(
                "warning: no --store-dir: nats-server's -sd gives the JetStream store, and nats-server 2.9 then \
                 cannot reload this file after a change of users (it must be restarted)"
            );
            None
        }
    };
    natsauth::write_file(&args.out, natsauth::render(&plan, store_dir.as_deref()).as_bytes(), args.force)?;
    let file = std::fs::canonicalize(&args.out).unwrap_or_else(|_| args.out.clone());
    Generated {
        file: file.display().to_string(),
        at: crate::app::now().to_string(),
        engine_user: ENGINE_NATS_USER.into(),
    }
    .write(app.path())?;
    let users: usize = plan.accounts.iter().map(|a| a.users.len()).sum();
    if json {
        crate::outln!(
            "{}",
            json!({
                "written": file.display().to_string(), "accounts": plan.accounts.len() + 1, "users": users,
                "skipped": plan.skipped, "engine_user": ENGINE_NATS_USER,
            })
        );
    } else {
        crate::outln!(
            "wrote {}: account {} (the engine) and {} role accounts with {users} users",
            file.display(),
            natsauth::ENGINE_ACCOUNT,
            plan.accounts.len()
        );
        match &store_dir {
            Some(_) => crate::outln!("start it: nats-server -c {} -p PORT", file.display()),
            None => crate::outln!("start it: nats-server -c {} -p PORT -sd STORE_DIR", file.display()),
        }
        crate::outln!(
            "orderflow serve on {} connects as {ENGINE_NATS_USER} (its password stays in the data directory's \
             secrets); people connect with --nats-user LOGIN@ACCOUNT (li@sales) and their own password",
            app.path().display()
        );
        crate::outln!(
            "after a change of users: run this again with --force, then nats-server --signal reload"
        );
    }
    Ok(())
}
