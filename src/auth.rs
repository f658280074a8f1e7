//! Identity: the user directory (who holds which powers, as events in the log), the secrets kept
//! beside it (outside the log), authentication, and the principal a command runs as.
//!
//! - Every change to a user is an event of the stream [`DIRECTORY_STREAM`], hash-chained with the
//!   orders, decided by [`Users`] through the engine's command handler like any aggregate.
//! - Secrets (argon2id password hashes, the bcrypt hash a generated NATS configuration carries,
//!   token hashes, failed-login counters) live in the sled tree [`SECRETS_TREE`] of the data
//!   directory: never in an event, an export or a NATS message.
//! - A [`Principal`] is made only by authenticating ([`Auth::login`], [`Auth::token_login`]) or
//!   from the NATS server's word about the caller ([`Auth::nats_principal`]); the actor of every
//!   event is stamped from it ([`Principal::actor`]), never typed.

use std::collections::BTreeMap;
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use orderflow_commands::Command;
use orderflow_engine::{
    Aggregate, CommandError, CommandHandler, EventLog, HandlerConfig, NewEvent, StoredEvent,
};
use orderflow_schemas::{
    Actor, CredentialChanged, CredentialKind, Event, EventBody, Grant, Role, RoleGranted, RoleRevoked,
    Timestamp, UserAdded, UserDisabled, UserEnabled, DIRECTORY_STREAM,
};
use uuid::Uuid;

use crate::app::AppError;

/// The sled tree of the secrets: never part of the log, an export or NATS.
pub const SECRETS_TREE: &str = "secrets";
/// Bytes of a login at most.
pub const LOGIN_BYTES_MAX: usize = 64;
/// Bytes of a display name at most.
pub const DISPLAY_NAME_BYTES_MAX: usize = 200;
/// Bytes of a password at least and at most.
pub const PASSWORD_BYTES_MIN: usize = 8;
/// Bytes of a password at most (argon2 takes more; a person does not type more).
pub const PASSWORD_BYTES_MAX: usize = 1024;
/// Failed logins of one login that are free; each further one waits twice as long before the
/// password is even checked, from [`FAILURE_DELAY_BASE`] up to [`FAILURE_DELAY_MAX`].
pub const FAILURES_FREE: u32 = 3;
/// The wait after the first failure beyond [`FAILURES_FREE`].
pub const FAILURE_DELAY_BASE: Duration = Duration::from_millis(250);
/// The longest wait before a password is checked.
pub const FAILURE_DELAY_MAX: Duration = Duration::from_secs(8);
/// The bcrypt cost of the NATS hashes (nats-server checks them on every connect).
pub const NATS_BCRYPT_COST: u32 = 10;
/// The login under which the engine (`orderflow serve`) connects to a generated NATS
/// configuration; not a person, not in the directory.
pub const ENGINE_NATS_USER: &str = "orderflow-engine";

/// A person of the directory, as the events made them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The stable id stamped on their events.
    pub id: Uuid,
    /// What they type to log in (lowercase).
    pub login: String,
    /// The name shown to people.
    pub display_name: String,
    /// The powers they hold, in a stable order.
    pub grants: Vec<Grant>,
    /// False once disabled.
    pub active: bool,
}

impl User {
    /// Whether the user holds `grant`.
    pub fn holds(&self, grant: Grant) -> bool {
        self.grants.contains(&grant)
    }

    /// The grants as words, comma-separated ("sales, dept_head:finance").
    pub fn grants_text(&self) -> String {
        if self.grants.is_empty() {
            return "none".into();
        }
        self.grants.iter().map(|g| g.to_string()).collect::<Vec<_>>().join(", ")
    }
}

/// The user directory: every user, by id and by login.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    users: BTreeMap<Uuid, User>,
    logins: BTreeMap<String, Uuid>,
}

impl Directory {
    /// Every user, by login.
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.logins.values().filter_map(|id| self.users.get(id))
    }

    /// A user by id.
    pub fn user(&self, id: Uuid) -> Option<&User> {
        self.users.get(&id)
    }

    /// A user by login (as typed: case and blanks around it ignored).
    pub fn by_login(&self, login: &str) -> Option<&User> {
        self.logins.get(&login.trim().to_lowercase()).and_then(|id| self.users.get(id))
    }

    /// Whether nobody was ever added (the data directory was never bootstrapped).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Active users holding `admin`.
    pub fn active_admins(&self) -> usize {
        self.users.values().filter(|u| u.active && u.holds(Grant::Role(Role::Admin))).count()
    }

    fn apply(&mut self, body: &EventBody) {
        match body {
            EventBody::UserAdded(a) => {
                let mut grants = a.grants.clone();
                grants.sort();
                grants.dedup();
                self.logins.insert(a.login.clone(), a.user_id);
                self.users.insert(
                    a.user_id,
                    User {
                        id: a.user_id,
                        login: a.login.clone(),
                        display_name: a.display_name.clone(),
                        grants,
                        active: true,
                    },
                );
            }
            EventBody::RoleGranted(g) => {
                if let Some(u) = self.users.get_mut(&g.user_id) {
                    if !u.grants.contains(&g.grant) {
                        u.grants.push(g.grant);
                        u.grants.sort();
                    }
                }
            }
            EventBody::RoleRevoked(r) => {
                if let Some(u) = self.users.get_mut(&r.user_id) {
                    u.grants.retain(|g| *g != r.grant);
                }
            }
            EventBody::UserDisabled(d) => {
                if let Some(u) = self.users.get_mut(&d.user_id) {
                    u.active = false;
                }
            }
            EventBody::UserEnabled(e) => {
                if let Some(u) = self.users.get_mut(&e.user_id) {
                    u.active = true;
                }
            }
            _ => {}
        }
    }
}

/// A change to the directory.
#[derive(Clone, Debug)]
pub enum DirectoryCommand {
    /// The first administrator of a fresh data directory (no actor can exist before it).
    Bootstrap {
        /// Their id.
        user_id: Uuid,
        /// Their login.
        login: String,
        /// Their name.
        display_name: String,
    },
    /// A new user.
    Add {
        /// Their id.
        user_id: Uuid,
        /// Their login.
        login: String,
        /// Their name.
        display_name: String,
        /// Their powers.
        grants: Vec<Grant>,
    },
    /// Give a power.
    Grant {
        /// The user's login.
        login: String,
        /// The power.
        grant: Grant,
    },
    /// Take a power.
    Revoke {
        /// The user's login.
        login: String,
        /// The power.
        grant: Grant,
    },
    /// Disable a user.
    Disable {
        /// The user's login.
        login: String,
        /// Why.
        reason: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The user's login.
        login: String,
    },
    /// Record that a credential was set (the secret itself is stored outside the log).
    CredentialChanged {
        /// The user's login.
        login: String,
        /// Which credential.
        credential: CredentialKind,
    },
}

/// Why a change to the directory was refused. Nothing was written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryRejection {
    /// The login is not one.
    #[error("'{login}' is not a usable login: {problem}")]
    BadLogin {
        /// As typed.
        login: String,
        /// What is wrong.
        problem: String,
    },
    /// A field is too long or empty.
    #[error("{0}")]
    BadField(String),
    /// `system` (or `dept_head:system`) is orderflow's own role (the deadline watcher), never a
    /// person's.
    #[error("{0} cannot be granted: it is orderflow's own role (the deadline watcher of serve records overdue reviews as it), never a person's")]
    SystemNotGrantable(Grant),
    /// The login is taken.
    #[error("the login {0} is taken")]
    LoginTaken(String),
    /// No such user.
    #[error("there is no user {0} (see `orderflow users list`)")]
    NoSuchUser(String),
    /// The user holds it already.
    #[error("{login} already holds {grant}")]
    AlreadyHolds {
        /// The user.
        login: String,
        /// The power.
        grant: Grant,
    },
    /// The user does not hold it.
    #[error("{login} does not hold {grant} (holds: {holds})")]
    DoesNotHold {
        /// The user.
        login: String,
        /// The power.
        grant: Grant,
        /// What they hold.
        holds: String,
    },
    /// Disabled already / not disabled.
    #[error("{login} is {state} already")]
    AlreadyThere {
        /// The user.
        login: String,
        /// "disabled" or "active".
        state: &'static str,
    },
    /// It would leave nobody able to manage users.
    #[error("{0} is the last active admin: grant admin to someone else first")]
    LastAdmin(String),
    /// The directory was set up already.
    #[error("this data directory has users already: log in as an admin and use `orderflow users add`")]
    AlreadyBootstrapped,
    /// An admin may not act on the directory without being one.
    #[error("only an admin may change users ({login} acts as {role})")]
    NotAdmin {
        /// Who tried.
        login: String,
        /// As what.
        role: Role,
    },
}

/// Who changes the directory, and when.
#[derive(Clone, Debug)]
pub struct DirectoryContext {
    /// The actor (an admin; for the bootstrap, the new admin themself).
    pub actor: Actor,
    /// When.
    pub at: Timestamp,
}

/// The user directory as an aggregate of the engine (one stream, [`DIRECTORY_STREAM`]).
#[derive(Debug)]
pub struct Users;

/// Checks a login: 2 to [`LOGIN_BYTES_MAX`] bytes of lowercase letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit. Returns it lowercased.
pub fn check_login(login: &str) -> Result<String, DirectoryRejection> {
    let l = login.trim().to_lowercase();
    let bad =
        |problem: &str| DirectoryRejection::BadLogin { login: login.to_string(), problem: problem.into() };
    if l.len() < 2 || l.len() > LOGIN_BYTES_MAX {
        return Err(bad(&format!("a login has 2 to {LOGIN_BYTES_MAX} characters")));
    }
    if !l.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err(bad("a login starts with a letter or digit"));
    }
    if let Some(c) = l.chars().find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(*c)))
    {
        return Err(bad(&format!("'{c}' is not allowed (letters a-z, digits, '.', '_' and '-' are)")));
    }
    Ok(l)
}

fn check_name(name: &str) -> Result<String, DirectoryRejection> {
    let n = name.trim();
    if n.is_empty() {
        return Err(DirectoryRejection::BadField("the display name is required (--name)".into()));
    }
    if n.len() > DISPLAY_NAME_BYTES_MAX {
        return Err(DirectoryRejection::BadField(format!(
            "the display name has {} bytes (display_name_bytes_max = {DISPLAY_NAME_BYTES_MAX})",
            n.len()
        )));
    }
    Ok(n.to_string())
}

impl Users {
    fn decide_change(
        dir: &Directory,
        command: &DirectoryCommand,
        ctx: &DirectoryContext,
    ) -> Result<Vec<EventBody>, DirectoryRejection> {
        let found =
            |login: &str| dir.by_login(login).ok_or_else(|| DirectoryRejection::NoSuchUser(login.into()));
        if let DirectoryCommand::Bootstrap { user_id, login, display_name } = command {
            if !dir.is_empty() {
                return Err(DirectoryRejection::AlreadyBootstrapped);
            }
            let login = check_login(login)?;
            return Ok(vec![UserAdded {
                user_id: *user_id,
                login,
                display_name: check_name(display_name)?,
                grants: vec![Grant::Role(Role::Admin)],
            }
            .into()]);
        }
        // A credential change is the user's own business or an admin's.
        let own_credential = matches!(command, DirectoryCommand::CredentialChanged { login, .. } if dir.by_login(login).is_some_and(|u| u.id == ctx.actor.user_id));
        if ctx.actor.role != Role::Admin && !own_credential {
            return Err(DirectoryRejection::NotAdmin {
                login: ctx.actor.login.clone(),
                role: ctx.actor.role,
            });
        }
        let last_admin = |u: &User| u.active && u.holds(Grant::Role(Role::Admin)) && dir.active_admins() == 1;
        Ok(match command {
            DirectoryCommand::Bootstrap { .. } => Vec::new(),
            DirectoryCommand::Add { user_id, login, display_name, grants } => {
                let login = check_login(login)?;
                if dir.by_login(&login).is_some() {
                    return Err(DirectoryRejection::LoginTaken(login));
                }
                if let Some(g) = grants.iter().find(|g| g.role() == Role::System) {
                    return Err(DirectoryRejection::SystemNotGrantable(*g));
                }
                let mut grants = grants.clone();
                grants.sort();
                grants.dedup();
                vec![UserAdded { user_id: *user_id, login, display_name: check_name(display_name)?, grants }
                    .into()]
            }
            DirectoryCommand::Grant { login, grant } => {
                if grant.role() == Role::System {
                    return Err(DirectoryRejection::SystemNotGrantable(*grant));
                }
                let u = found(login)?;
                if u.holds(*grant) {
                    return Err(DirectoryRejection::AlreadyHolds { login: u.login.clone(), grant: *grant });
                }
                vec![RoleGranted { user_id: u.id, grant: *grant }.into()]
            }
            DirectoryCommand::Revoke { login, grant } => {
                let u = found(login)?;
                if !u.holds(*grant) {
                    return Err(DirectoryRejection::DoesNotHold {
                        login: u.login.clone(),
                        grant: *grant,
                        holds: u.grants_text(),
                    });
                }
                if *grant == Grant::Role(Role::Admin) && last_admin(u) {
                    return Err(DirectoryRejection::LastAdmin(u.login.clone()));
                }
                vec![RoleRevoked { user_id: u.id, grant: *grant }.into()]
            }
            DirectoryCommand::Disable { login, reason } => {
                let u = found(login)?;
                if !u.active {
                    return Err(DirectoryRejection::AlreadyThere {
                        login: u.login.clone(),
                        state: "disabled",
                    });
                }
                if last_admin(u) {
                    return Err(DirectoryRejection::LastAdmin(u.login.clone()));
                }
                vec![UserDisabled { user_id: u.id, reason: reason.trim().to_string() }.into()]
            }
            DirectoryCommand::Enable { login } => {
                let u = found(login)?;
                if u.active {
                    return Err(DirectoryRejection::AlreadyThere { login: u.login.clone(), state: "active" });
                }
                vec![UserEnabled { user_id: u.id }.into()]
            }
            DirectoryCommand::CredentialChanged { login, credential } => {
                let u = found(login)?;
                vec![CredentialChanged { user_id: u.id, credential: *credential }.into()]
            }
        })
    }
}

impl Aggregate for Users {
    type State = Directory;
    type Command = DirectoryCommand;
    type Event = Event;
    type Context = DirectoryContext;
    type Rejection = DirectoryRejection;

    fn initial(_stream: Uuid) -> Directory {
        Directory::default()
    }

    fn decide(
        state: &Directory,
        command: &DirectoryCommand,
        ctx: &DirectoryContext,
    ) -> Result<Vec<Event>, DirectoryRejection> {
        Ok(Self::decide_change(state, command, ctx)?
            .into_iter()
            .map(|body| Event::new(ctx.actor.clone(), ctx.at, body))
            .collect())
    }

    fn evolve(state: &mut Directory, event: &Event) {
        state.apply(&event.body);
    }

    fn encode(event: &Event) -> Result<NewEvent, String> {
        crate::aggregate::encode_for_log(event)
    }

    fn decode(stored: &StoredEvent) -> Result<Event, String> {
        crate::aggregate::decode_from_log(stored)
    }
}

/// The person a command or read runs as: an authenticated user and the one power they exercise.
/// Made only by [`Auth`]; the fields are private so that no caller can assemble one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    user: User,
    grant: Grant,
}

impl Principal {
    /// The user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The power exercised.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// The role exercised.
    pub fn role(&self) -> Role {
        self.grant.role()
    }

    /// The actor its events carry.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.user.id,
            login: self.user.login.clone(),
            role: self.grant.role(),
            head: self.grant.is_head(),
        }
    }

    /// Whether it may enter late paperwork (`--at`): department heads and admins.
    pub fn may_enter_late(&self) -> bool {
        self.grant.is_head() || self.grant == Grant::Role(Role::Admin)
    }

    /// The same user exercising another of their grants, picked as [`choose_grant`] picks.
    pub fn with_role(
        &self,
        requested: Option<&str>,
        command: Option<&Command>,
    ) -> Result<Principal, AppError> {
        Ok(Principal { user: self.user.clone(), grant: choose_grant(&self.user, requested, command)? })
    }

    /// The login orderflow itself acts under ([`Principal::system`]).
    pub const SYSTEM_LOGIN: &'static str = "orderflow";

    /// orderflow itself, in the `system` role: the deadline watcher of `serve`, which records
    /// overdue reviews. Its user id is fixed (derived from [`Principal::SYSTEM_LOGIN`]); no person
    /// can hold the role (granting it is refused).
    pub fn system() -> Principal {
        Principal::unchecked(Self::SYSTEM_LOGIN, Grant::Role(Role::System))
    }

    /// A principal for code that has no directory: tests of the library, benchmarks, the demo's
    /// own driving. The user id derives from the login ([`Actor::named`]).
    pub fn unchecked(login: &str, grant: Grant) -> Principal {
        let actor = Actor::named(login, grant.role());
        Principal {
            user: User {
                id: actor.user_id,
                login: actor.login,
                display_name: login.to_string(),
                grants: vec![grant],
                active: true,
            },
            grant,
        }
    }
}

/// Which of `user`'s grants a command runs under: the one `requested` names (a role word, or
/// `dept_head:ROLE`); without one, the user's only grant, or the only one whose role may issue
/// `command`. Anything else is refused, naming what the user holds.
pub fn choose_grant(
    user: &User,
    requested: Option<&str>,
    command: Option<&Command>,
) -> Result<Grant, AppError> {
    let forbidden = |why: String| AppError::Forbidden(why);
    if let Some(word) = requested {
        let grant: Grant = word.parse().map_err(AppError::Invalid)?;
        if user.holds(grant) {
            return Ok(grant);
        }
        // `--role production` for the head of production: the head acts in that role.
        if let Grant::Role(r) = grant {
            if user.holds(Grant::DeptHead(r)) {
                return Ok(Grant::DeptHead(r));
            }
        }
        return Err(forbidden(format!(
            "{} does not hold {grant}; {} holds: {}",
            user.login,
            user.login,
            user.grants_text()
        )));
    }
    match user.grants.as_slice() {
        [] => return Err(forbidden(format!("{} holds no role (an admin grants one)", user.login))),
        [only] => return Ok(*only),
        _ => {}
    }
    let fitting: Vec<Grant> = match command {
        Some(c) => {
            let roles = orderflow_commands::allowed_roles(c);
            user.grants.iter().copied().filter(|g| roles.contains(&g.role())).collect()
        }
        None => Vec::new(),
    };
    match fitting.as_slice() {
        [only] => Ok(*only),
        _ => Err(forbidden(format!("{} holds {}: say which with --role", user.login, user.grants_text()))),
    }
}

/// Argon2id with the crate's defaults (19 MiB, 2 passes, 1 lane: OWASP's minimum).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// Checks a new password: [`PASSWORD_BYTES_MIN`]..=[`PASSWORD_BYTES_MAX`] bytes, not the login.
pub fn check_password(login: &str, password: &str) -> Result<(), AppError> {
    if password.len() < PASSWORD_BYTES_MIN {
        return Err(AppError::Invalid(format!(
            "the password has {} bytes; it needs at least {PASSWORD_BYTES_MIN} (password_bytes_min)",
            password.len()
        )));
    }
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(AppError::Invalid(format!(
            "the password has {} bytes (password_bytes_max = {PASSWORD_BYTES_MAX})",
            password.len()
        )));
    }
    if password.trim().eq_ignore_ascii_case(login.trim()) {
        return Err(AppError::Invalid("the password may not be the login".into()));
    }
    Ok(())
}

/// The secrets of one data directory (sled tree [`SECRETS_TREE`]).
#[derive(Clone, Debug)]
pub struct Secrets {
    tree: sled::Tree,
}

fn storage(e: impl std::fmt::Display) -> AppError {
    AppError::Failure(format!("the secrets store failed: {e}"))
}

impl Secrets {
    /// The secrets of the log's data directory.
    pub fn open(log: &EventLog) -> Result<Self, AppError> {
        Ok(Self { tree: log.db().open_tree(SECRETS_TREE).map_err(storage)? })
    }

    fn key(kind: &str, id: &[u8]) -> Vec<u8> {
        let mut k = kind.as_bytes().to_vec();
        k.push(b':');
        k.extend_from_slice(id);
        k
    }

    fn put(&self, key: Vec<u8>, value: &[u8]) -> Result<(), AppError> {
        self.tree.insert(key, value).map_err(storage)?;
        self.tree.flush().map_err(storage)?;
        Ok(())
    }

    fn get(&self, key: Vec<u8>) -> Result<Option<Vec<u8>>, AppError> {
        Ok(self.tree.get(key).map_err(storage)?.map(|v| v.to_vec()))
    }

    /// Stores the hashes of a new password: argon2id for logging in, bcrypt for the NATS
    /// configuration.
    pub fn set_password(&self, user: Uuid, password: &str) -> Result<(), AppError> {
        let salt = SaltString::generate(&mut OsRng);
        let phc = argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| AppError::Failure(format!("cannot hash the password: {e}")))?
            .to_string();
        let nats = bcrypt::hash(password, NATS_BCRYPT_COST)
            .map_err(|e| AppError::Failure(format!("cannot hash the password: {e}")))?;
        self.put(Self::key("pw", user.as_bytes()), phc.as_bytes())?;
        self.put(Self::key("nats", user.as_bytes()), nats.as_bytes())
    }

    /// Whether `password` is the user's.
    pub fn check_password(&self, user: Uuid, password: &str) -> Result<bool, AppError> {
        let Some(stored) = self.get(Self::key("pw", user.as_bytes()))? else { return Ok(false) };
        let text = String::from_utf8(stored).map_err(storage)?;
        let parsed = PasswordHash::new(&text).map_err(storage)?;
        Ok(argon2().verify_password(password.as_bytes(), &parsed).is_ok())
    }

    /// The bcrypt hash of the user's password, for the NATS configuration.
    pub fn nats_hash(&self, user: Uuid) -> Result<Option<String>, AppError> {
        Ok(self.get(Self::key("nats", user.as_bytes()))?.and_then(|v| String::from_utf8(v).ok()))
    }

    /// A new token for the user: stores its hash, returns the token text (shown once).
    pub fn issue_token(&self, user: Uuid) -> Result<String, AppError> {
        use rand::RngCore;
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let id = Uuid::new_v4();
        let mut value = user.as_bytes().to_vec();
        value.extend_from_slice(blake3::hash(&secret).as_bytes());
        self.put(Self::key("tok", id.as_bytes()), &value)?;
        Ok(format!("oft_{}_{}", id.simple(), hex(&secret)))
    }

    /// The user a token belongs to, if it is one of ours.
    pub fn check_token(&self, token: &str) -> Result<Option<Uuid>, AppError> {
        let mut parts = token.trim().strip_prefix("oft_").unwrap_or("").split('_');
        let (Some(id), Some(secret), None) = (parts.next(), parts.next(), parts.next()) else {
            return Ok(None);
        };
        let (Ok(id), Some(secret)) = (id.parse::<Uuid>(), unhex(secret)) else { return Ok(None) };
        let Some(value) = self.get(Self::key("tok", id.as_bytes()))? else { return Ok(None) };
        if value.len() != 48 {
            return Ok(None);
        }
        let user = Uuid::from_slice(&value[..16]).map_err(storage)?;
        let ok =
            blake3::hash(&secret) == blake3::Hash::from_bytes(value[16..48].try_into().map_err(storage)?);
        Ok(ok.then_some(user))
    }

    /// Failed logins of `login` in a row, and records one more.
    fn failures(&self, login: &str) -> Result<u32, AppError> {
        Ok(self
            .get(Self::key("fail", login.as_bytes()))?
            .and_then(|v| v.try_into().ok())
            .map(u32::from_le_bytes)
            .unwrap_or(0))
    }

    fn set_failures(&self, login: &str, n: u32) -> Result<(), AppError> {
        if n == 0 {
            self.tree.remove(Self::key("fail", login.as_bytes())).map_err(storage)?;
            self.tree.flush().map_err(storage)?;
            return Ok(());
        }
        self.put(Self::key("fail", login.as_bytes()), &n.to_le_bytes())
    }

    /// Marks the data directory as the seeded demo's (before its bootstrap): the demo may then
    /// complete its own users later without a login.
    pub fn mark_demo(&self) -> Result<(), AppError> {
        self.put(Self::key("demo", b"directory"), b"1")
    }

    /// Whether the seeded demo made this data directory.
    pub fn is_demo(&self) -> Result<bool, AppError> {
        Ok(self.get(Self::key("demo", b"directory"))?.is_some())
    }

    /// The engine's NATS password (made on first use), for a generated NATS configuration.
    pub fn engine_nats_password(&self) -> Result<String, AppError> {
        if let Some(v) = self.get(Self::key("engine", b"password"))? {
            return String::from_utf8(v).map_err(storage);
        }
        use rand::RngCore;
        let mut secret = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let password = hex(&secret);
        self.put(Self::key("engine", b"password"), password.as_bytes())?;
        Ok(password)
    }
}

/// The wait before checking a password after `failures` failed logins in a row.
pub fn failure_delay(failures: u32) -> Duration {
    if failures < FAILURES_FREE {
        return Duration::ZERO;
    }
    let doublings = (failures - FAILURES_FREE).min(16);
    FAILURE_DELAY_BASE.saturating_mul(1 << doublings).min(FAILURE_DELAY_MAX)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// The directory and secrets of one open data directory: authentication and user changes.
#[derive(Debug)]
pub struct Auth {
    handler: CommandHandler<Users>,
    secrets: Secrets,
}

impl Auth {
    /// Over an open log.
    pub fn new(log: EventLog) -> Result<Self, AppError> {
        let secrets = Secrets::open(&log)?;
        Ok(Self { handler: CommandHandler::new(log, HandlerConfig::default()), secrets })
    }

    /// The secrets.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The directory as it stands.
    pub fn directory(&self) -> Result<Directory, AppError> {
        Ok(self.handler.load(DIRECTORY_STREAM)?.1)
    }

    /// Applies a change, as `actor`.
    pub async fn change(&self, actor: Actor, command: DirectoryCommand) -> Result<Vec<Event>, AppError> {
        let ctx = DirectoryContext { actor, at: crate::app::now() };
        match self.handler.execute(DIRECTORY_STREAM, Uuid::new_v4(), &command, &ctx).await {
            Ok(orderflow_engine::CommandOutcome::Committed { events, .. }) => Ok(events),
            Ok(orderflow_engine::CommandOutcome::Duplicate { .. }) => Ok(Vec::new()),
            Err(CommandError::Rejected(r)) => Err(AppError::Invalid(r.to_string())),
            Err(CommandError::Conflict { attempts }) => Err(AppError::Conflict(format!(
                "the user directory kept changing during {attempts} attempts; nothing was written"
            ))),
            Err(CommandError::Limit(l)) => Err(AppError::Limit(l)),
            Err(CommandError::Storage(s)) => Err(AppError::Failure(s)),
        }
    }

    /// Sets up a fresh data directory: its first admin, with a password.
    pub async fn bootstrap(&self, login: &str, display_name: &str, password: &str) -> Result<User, AppError> {
        let login = check_login(login).map_err(|e| AppError::Invalid(e.to_string()))?;
        check_password(&login, password)?;
        if !self.directory()?.is_empty() {
            return Err(AppError::Invalid(DirectoryRejection::AlreadyBootstrapped.to_string()));
        }
        let user_id = Uuid::new_v4();
        // The password first: a crash between the two leaves an unusable hash, never a user
        // without one.
        self.secrets.set_password(user_id, password)?;
        let actor = Actor { user_id, login: login.clone(), role: Role::Admin, head: false };
        self.change(
            actor,
            DirectoryCommand::Bootstrap { user_id, login: login.clone(), display_name: display_name.into() },
        )
        .await?;
        self.directory()?
            .user(user_id)
            .cloned()
            .ok_or_else(|| AppError::Failure("the new admin is not in the directory".into()))
    }

    /// Adds a user with a password (admins only).
    pub async fn add_user(
        &self,
        by: &Principal,
        login: &str,
        display_name: &str,
        grants: Vec<Grant>,
        password: &str,
    ) -> Result<User, AppError> {
        let login = check_login(login).map_err(|e| AppError::Invalid(e.to_string()))?;
        check_password(&login, password)?;
        require_admin(by)?;
        if self.directory()?.by_login(&login).is_some() {
            return Err(AppError::Invalid(DirectoryRejection::LoginTaken(login).to_string()));
        }
        let user_id = Uuid::new_v4();
        self.secrets.set_password(user_id, password)?;
        self.change(
            by.actor(),
            DirectoryCommand::Add { user_id, login, display_name: display_name.into(), grants },
        )
        .await?;
        self.directory()?
            .user(user_id)
            .cloned()
            .ok_or_else(|| AppError::Failure("the new user is not in the directory".into()))
    }

    /// Sets a user's password (an admin, or the user themself) and records that it changed.
    pub async fn set_password(&self, by: &Principal, login: &str, password: &str) -> Result<(), AppError> {
        let dir = self.directory()?;
        let user = dir
            .by_login(login)
            .ok_or_else(|| AppError::Invalid(DirectoryRejection::NoSuchUser(login.into()).to_string()))?;
        if user.id != by.user.id {
            require_admin(by)?;
        }
        check_password(&user.login, password)?;
        self.secrets.set_password(user.id, password)?;
        self.change(
            by.actor(),
            DirectoryCommand::CredentialChanged {
                login: user.login.clone(),
                credential: CredentialKind::Password,
            },
        )
        .await?;
        Ok(())
    }

    /// Issues a token for a user (an admin, or the user themself); returns its text.
    pub async fn issue_token(&self, by: &Principal, login: &str) -> Result<String, AppError> {
        let dir = self.directory()?;
        let user = dir
            .by_login(login)
            .ok_or_else(|| AppError::Invalid(DirectoryRejection::NoSuchUser(login.into()).to_string()))?;
        if user.id != by.user.id {
            require_admin(by)?;
        }
        let token = self.secrets.issue_token(user.id)?;
        self.change(
            by.actor(),
            DirectoryCommand::CredentialChanged {
                login: user.login.clone(),
                credential: CredentialKind::Token,
            },
        )
        .await?;
        Ok(token)
    }

    /// Logs in with a password; waits first after repeated failures of this login. A wrong
    /// password, an unknown login and a disabled user are refused ([`AppError::Forbidden`]).
    pub async fn login(&self, login: &str, password: &str) -> Result<User, AppError> {
        let key = login.trim().to_lowercase();
        let failures = self.secrets.failures(&key)?;
        let wait = failure_delay(failures);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let dir = self.directory()?;
        let user = dir.by_login(&key).filter(|_| !key.is_empty());
        let ok = match user {
            Some(u) => self.secrets.check_password(u.id, password)?,
            None => false,
        };
        match (user, ok) {
            (Some(u), true) => {
                if failures > 0 {
                    self.secrets.set_failures(&key, 0)?;
                }
                if !u.active {
                    return Err(AppError::Forbidden(format!("the user {} is disabled", u.login)));
                }
                Ok(u.clone())
            }
            _ => {
                self.secrets.set_failures(&key, failures.saturating_add(1))?;
                Err(AppError::Forbidden(format!("login refused: unknown user {key} or wrong password")))
            }
        }
    }

    /// Logs in with a token.
    pub fn token_login(&self, token: &str) -> Result<User, AppError> {
        let refused = || AppError::Forbidden("login refused: the token is not valid here".into());
        let id = self.secrets.check_token(token)?.ok_or_else(refused)?;
        let dir = self.directory()?;
        let u = dir.user(id).ok_or_else(refused)?;
        if !u.active {
            return Err(AppError::Forbidden(format!("the user {} is disabled", u.login)));
        }
        Ok(u.clone())
    }

    /// The principal of an authenticated user for a command (see [`choose_grant`]).
    pub fn principal(
        user: &User,
        requested: Option<&str>,
        command: Option<&Command>,
    ) -> Result<Principal, AppError> {
        Ok(Principal { user: user.clone(), grant: choose_grant(user, requested, command)? })
    }

    /// The principal the NATS server vouches for: `account` is the NATS account the request came
    /// from (one per grant, [`account_of`]), `nats_user` the NATS user (`<login>@<account in
    /// lowercase>`, [`nats_user_of`]). The person must exist, be active and hold the grant.
    pub fn nats_principal(dir: &Directory, account: &str, nats_user: &str) -> Result<Principal, AppError> {
        let grant = grant_of_account(account)
            .ok_or_else(|| AppError::Forbidden(format!("NATS account {account} is not an orderflow role")))?;
        let suffix = format!("@{}", account.to_lowercase());
        let login = nats_user.strip_suffix(&suffix).ok_or_else(|| {
            AppError::Forbidden(format!("NATS user {nats_user} is not a user of account {account}"))
        })?;
        let user =
            dir.by_login(login).ok_or_else(|| AppError::Forbidden(format!("there is no user {login}")))?;
        if !user.active {
            return Err(AppError::Forbidden(format!("the user {} is disabled", user.login)));
        }
        if !user.holds(grant) {
            return Err(AppError::Forbidden(format!(
                "{} does not hold {grant} (holds: {})",
                user.login,
                user.grants_text()
            )));
        }
        Ok(Principal { user: user.clone(), grant })
    }
}

/// Refuses anyone but an admin.
pub fn require_admin(by: &Principal) -> Result<(), AppError> {
    if by.grant == Grant::Role(Role::Admin) {
        return Ok(());
    }
    Err(AppError::Forbidden(
        DirectoryRejection::NotAdmin { login: by.user.login.clone(), role: by.role() }.to_string(),
    ))
}

/// The NATS account of a grant: `SALES`, `CUSTOMER_SERVICE`, `HEAD_PRODUCTION`, `ADMIN`...
pub fn account_of(grant: Grant) -> String {
    match grant {
        Grant::Role(r) => r.as_str().to_uppercase(),
        Grant::DeptHead(r) => format!("HEAD_{}", r.as_str().to_uppercase()),
    }
}

/// The grant of a NATS account, if it is one of [`account_of`]'s.
pub fn grant_of_account(account: &str) -> Option<Grant> {
    Grant::all().into_iter().find(|g| account_of(*g) == account)
}

/// The NATS user of a person in a grant's account: `<login>@<account in lowercase>`.
pub fn nats_user_of(login: &str, grant: Grant) -> String {
    format!("{login}@{}", account_of(grant).to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_and_grants_map_both_ways() {
        for g in Grant::all() {
            assert_eq!(grant_of_account(&account_of(g)), Some(g), "{g}");
        }
        assert_eq!(account_of(Grant::DeptHead(Role::Production)), "HEAD_PRODUCTION");
        assert_eq!(nats_user_of("li.na", Grant::Role(Role::CustomerService)), "li.na@customer_service");
        assert_eq!(grant_of_account("ORDERFLOW"), None);
    }

    #[test]
    fn logins_are_checked() {
        assert_eq!(check_login(" Li.Clerk ").as_deref(), Ok("li.clerk"));
        for bad in ["li clerk", "a", ".li", "li@x", "李"] {
            assert!(check_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_delay_grows_and_is_bounded() {
        assert_eq!(failure_delay(0), Duration::ZERO);
        assert_eq!(failure_delay(FAILURES_FREE - 1), Duration::ZERO);
        assert_eq!(failure_delay(FAILURES_FREE), FAILURE_DELAY_BASE);
        assert_eq!(failure_delay(FAILURES_FREE + 1), FAILURE_DELAY_BASE * 2);
        assert_eq!(failure_delay(u32::MAX), FAILURE_DELAY_MAX);
    }

    #[test]
    fn a_grant_is_chosen_among_the_users_own() {
        let user = User {
            id: Uuid::from_u128(1),
            login: "li".into(),
            display_name: "Li".into(),
            grants: vec![Grant::Role(Role::Sales), Grant::DeptHead(Role::Finance)],
            active: true,
        };
        assert_eq!(choose_grant(&user, Some("sales"), None).ok(), Some(Grant::Role(Role::Sales)));
        assert_eq!(choose_grant(&user, Some("finance"), None).ok(), Some(Grant::DeptHead(Role::Finance)));
        assert!(matches!(choose_grant(&user, Some("warehouse"), None), Err(AppError::Forbidden(_))));
        assert!(matches!(choose_grant(&user, None, None), Err(AppError::Forbidden(_))));
        let close = Command::from(orderflow_commands::CloseOrder::default());
        assert_eq!(choose_grant(&user, None, Some(&close)).ok(), Some(Grant::Role(Role::Sales)));
    }
}
