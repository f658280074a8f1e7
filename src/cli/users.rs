//! `orderflow users ...`: the user directory on the data directory (never over NATS: a password
//! or its hash never travels).

use std::io::BufRead as _;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use orderflow_schemas::Grant;
use serde_json::json;

use crate::app::{App, AppError};
use crate::auth::{Auth, DirectoryCommand, User};

use super::LoginArgs;

/// The users as a table: login, name, roles, state.
fn render_users<'a>(users: impl Iterator<Item = &'a User>) -> String {
    use orderflow_projections::table::{left, render};
    let columns = [left("LOGIN").key(), left("NAME").wrap(), left("ROLES").wrap(), left("STATE")];
    let rows: Vec<Vec<String>> = users
        .map(|u| {
            vec![
                u.login.clone(),
                u.display_name.clone(),
                u.grants_text(),
                if u.active { "active".into() } else { "disabled".into() },
            ]
        })
        .collect();
    if rows.is_empty() {
        return "no users\n".into();
    }
    render(&columns, &rows, orderflow_projections::TableWidth::DEFAULT)
}

fn parse_grant(s: &str) -> Result<Grant, String> {
    s.parse()
}

/// `orderflow users ...`.
#[derive(Subcommand, Debug)]
pub enum UsersCmd {
    /// Set up a fresh data directory: its first admin (password on stdin). Everything else
    /// needs a login afterwards.
    Bootstrap {
        /// The admin's login.
        #[arg(long, value_name = "LOGIN")]
        admin: String,
        /// The admin's display name [default: the login].
        #[arg(long)]
        name: Option<String>,
    },
    /// Add a user (admins).
    Add {
        /// The new user's login (a-z, digits, '.', '_', '-').
        login: String,
        /// The name shown to people.
        #[arg(long)]
        name: String,
        /// A role to hold (repeat for several): sales, production, ..., admin, or dept_head:ROLE.
        #[arg(long = "role", value_parser = parse_grant, required = true)]
        roles: Vec<Grant>,
        /// Read the new user's password from the first line of stdin (else asked twice on the
        /// terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user a role (admins).
    Grant {
        /// The user.
        login: String,
        /// The role: sales, ..., admin, or dept_head:ROLE.
        #[arg(value_parser = parse_grant)]
        role: Grant,
    },
    /// Take a role from a user (admins).
    Revoke {
        /// The user.
        login: String,
        /// The role.
        #[arg(value_parser = parse_grant)]
        role: Grant,
    },
    /// Disable a user: nothing more is done under that login (admins).
    Disable {
        /// The user.
        login: String,
        /// Why (recorded).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Enable a disabled user again (admins).
    Enable {
        /// The user.
        login: String,
    },
    /// Every user, their roles and state.
    List,
    /// Set a password: your own, or (admins) anyone's.
    Passwd {
        /// The user.
        login: String,
        /// Read the new password from the first line of stdin (else asked twice on the terminal).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a token file to log in with (--token-file): your own, or (admins) anyone's. The file
    /// is written 0600; only its hash is kept.
    Token {
        /// The user.
        login: String,
        /// The file to write (refused if it exists).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// Reads a new password: the first line of stdin, or twice from the terminal.
fn new_password(from_stdin: bool, login: &str) -> Result<String, AppError> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| AppError::Invalid(format!("cannot read the password from stdin: {e}")))?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        if password.is_empty() {
            return Err(AppError::Invalid("no password on stdin (one line expected)".into()));
        }
        return Ok(password);
    }
    let ask = |prompt: String| {
        rpassword::prompt_password(prompt).map_err(|e| {
            AppError::Invalid(format!("cannot ask for the password ({e}); give it with --password-stdin"))
        })
    };
    let first = ask(format!("new password for {login}: "))?;
    let second = ask(format!("again, the new password for {login}: "))?;
    if first != second {
        return Err(AppError::Invalid("the two passwords differ; nothing changed".into()));
    }
    Ok(first)
}

fn print_user(u: &User, what: &str, json: bool) {
    if json {
        crate::outln!(
            "{}",
            json!({ "login": u.login, "user_id": u.id, "name": u.display_name,
                    "roles": u.grants.iter().map(|g| g.to_string()).collect::<Vec<_>>(), "active": u.active })
        );
    } else {
        crate::outln!("{what} {} ({}): {}", u.login, u.display_name, u.grants_text());
    }
}

/// Runs `users ...` on the data directory at `dir`.
pub(super) async fn run(dir: &Path, login: &LoginArgs, cmd: UsersCmd, json: bool) -> Result<(), AppError> {
    if let UsersCmd::Bootstrap { admin, name } = &cmd {
        let check = crate::auth::check_login(admin).map_err(|e| AppError::Invalid(e.to_string()))?;
        // Read and check the password before the directory is made: a refused bootstrap leaves
        // nothing behind.
        let password = new_password(true, &check)?;
        crate::auth::check_password(&check, &password)?;
        if dir.join("FORMAT").exists() {
            let app = App::open_existing(dir)?;
            let empty = app.auth().directory().map(|d| d.is_empty());
            app.close()?;
            if !empty? {
                return Err(AppError::Invalid(
                    crate::auth::DirectoryRejection::AlreadyBootstrapped.to_string(),
                ));
            }
        }
        let app = App::open(dir)?;
        let result = app.auth().bootstrap(&check, name.as_deref().unwrap_or(&check), &password).await;
        app.close()?;
        let user = result?;
        print_user(&user, "admin", json);
        return Ok(());
    }
    let app = App::open_existing(dir).map_err(|e| match e {
        AppError::Storage(orderflow_engine::LogError::Missing { .. }) => AppError::Invalid(format!(
            "there is no data directory at {}: set one up with `orderflow users bootstrap --admin LOGIN`",
            dir.display()
        )),
        e => e,
    })?;
    let result = users(&app, login, cmd, json).await;
    app.close()?;
    result
}

async fn users(app: &App, login: &LoginArgs, cmd: UsersCmd, json: bool) -> Result<(), AppError> {
    let me = login.authenticate(app).await?;
    let auth = app.auth();
    let admin = || Auth::principal(&me, Some("admin"), None);
    match cmd {
        UsersCmd::Bootstrap { .. } => Err(AppError::Invalid("bootstrap is handled above".into())),
        UsersCmd::Add { login, name, roles, password_stdin } => {
            let by = admin()?;
            crate::auth::check_login(&login).map_err(|e| AppError::Invalid(e.to_string()))?;
            let password = new_password(password_stdin, &login)?;
            let user = auth.add_user(&by, &login, &name, roles, &password).await?;
            print_user(&user, "added", json);
            Ok(())
        }
        UsersCmd::Grant { login, role } => {
            let by = admin()?;
            auth.change(by.actor(), DirectoryCommand::Grant { login: login.clone(), grant: role }).await?;
            changed(app, &login, &format!("granted {role}:"), json)
        }
        UsersCmd::Revoke { login, role } => {
            let by = admin()?;
            auth.change(by.actor(), DirectoryCommand::Revoke { login: login.clone(), grant: role }).await?;
            changed(app, &login, &format!("revoked {role}:"), json)
        }
        UsersCmd::Disable { login, reason } => {
            let by = admin()?;
            auth.change(by.actor(), DirectoryCommand::Disable { login: login.clone(), reason }).await?;
            changed(app, &login, "disabled", json)
        }
        UsersCmd::Enable { login } => {
            let by = admin()?;
            auth.change(by.actor(), DirectoryCommand::Enable { login: login.clone() }).await?;
            changed(app, &login, "enabled", json)
        }
        UsersCmd::List => {
            let dir = auth.directory()?;
            if json {
                for u in dir.users() {
                    print_user(u, "", true);
                }
            } else {
                crate::out!("{}", render_users(dir.users()));
            }
            Ok(())
        }
        UsersCmd::Passwd { login, password_stdin } => {
            let by = Auth::principal(&me, None, None).or_else(|_| admin())?;
            let password = new_password(password_stdin, &login)?;
            auth.set_password(&by, &login, &password).await?;
            changed(app, &login, "password changed:", json)
        }
        UsersCmd::Token { login, out } => {
            if out.exists() {
                return Err(AppError::Invalid(format!("{} exists; nothing written", out.display())));
            }
            let by = Auth::principal(&me, None, None).or_else(|_| admin())?;
            let token = auth.issue_token(&by, &login).await?;
            write_private(&out, token.as_bytes())?;
            changed(app, &login, &format!("token written to {}:", out.display()), json)
        }
    }
}

fn changed(app: &App, login: &str, what: &str, json: bool) -> Result<(), AppError> {
    let dir = app.auth().directory()?;
    let user = dir.by_login(login).ok_or_else(|| AppError::Failure(format!("{login} is gone")))?;
    print_user(user, what, json);
    Ok(())
}

/// Writes a new file readable by its owner only (0600).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| AppError::Invalid(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(bytes).map_err(|e| AppError::Failure(format!("cannot write {}: {e}", path.display())))?;
    f.sync_all().map_err(|e| AppError::Failure(format!("cannot write {}: {e}", path.display())))
}
