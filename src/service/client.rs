//! Talking to a running `orderflow serve`: commands and queries by request-reply, errors mapped
//! to the same [`AppError`]s (and so the same exit codes) as running them locally.

use std::time::Duration;

use async_nats::{Client, RequestErrorKind};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::app::AppError;
use crate::service::protocol::{
    command_subject, query_subject, read_reply, reply_as, CommandReply, CommandRequest,
};

/// How long a client waits for a reply. A command may wait for its order's other commands and
/// a group commit; a reply later than this is reported, with the advice to retry with the same
/// command id.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client waits to connect to NATS.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The private inbox prefix of a NATS user: replies to it go there, and the generated
/// configuration lets only that user subscribe to it.
pub fn inbox_prefix(nats_user: &str) -> String {
    format!("_INBOX_{nats_user}")
}

/// Who a client is on NATS.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Credentials {
    /// Nobody: a server without users (or one that refuses the connection).
    #[default]
    None,
    /// A user and password of the server's configuration (`li@sales` of `orderflow nats-config`).
    User {
        /// The NATS user.
        user: String,
        /// Its password.
        password: String,
    },
    /// An nkey seed (`SU...`).
    Nkey {
        /// The seed.
        seed: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::None => f.write_str("Credentials::None"),
            Credentials::User { user, .. } => write!(f, "Credentials::User({user}, password hidden)"),
            Credentials::Nkey { .. } => f.write_str("Credentials::Nkey(seed hidden)"),
        }
    }
}

impl Credentials {
    /// `options` with these credentials; a user's replies come to their private inbox
    /// ([`inbox_prefix`]), the only one the generated configuration lets them read.
    pub fn apply(&self, options: async_nats::ConnectOptions) -> async_nats::ConnectOptions {
        match self {
            Credentials::None => options,
            Credentials::User { user, password } => options
                .user_and_password(user.clone(), password.clone())
                .custom_inbox_prefix(inbox_prefix(user)),
            Credentials::Nkey { seed } => options.nkey(seed.clone()),
        }
    }

    /// The user, for messages.
    pub fn who(&self) -> String {
        match self {
            Credentials::None => "without credentials".into(),
            Credentials::User { user, .. } => format!("as {user}"),
            Credentials::Nkey { .. } => "with an nkey".into(),
        }
    }
}

/// The permission violations the NATS server reported to this process's clients: a request
/// whose publish the server refused gets no reply, so [`send`] watches these to say so at once.
fn violations() -> &'static tokio::sync::broadcast::Sender<String> {
    static V: std::sync::OnceLock<tokio::sync::broadcast::Sender<String>> = std::sync::OnceLock::new();
    V.get_or_init(|| tokio::sync::broadcast::channel(64).0)
}

/// Connects to NATS for a command-line client (no retries: a client fails fast).
pub async fn connect(url: &str, credentials: &Credentials) -> Result<Client, AppError> {
    credentials
        .apply(async_nats::ConnectOptions::new().connection_timeout(CONNECT_TIMEOUT))
        .event_callback(|event| async move {
            if let async_nats::Event::ServerError(e) = event {
                let text = e.to_string();
                if text.to_lowercase().contains("permissions violation") {
                    let _ = violations().send(text);
                }
            }
        })
        .connect(url)
        .await
        .map_err(|e| connect_failed(url, credentials, &e))
}

/// A failed connection in words, with a hint when the server refused who we are.
pub fn connect_failed(url: &str, credentials: &Credentials, e: &dyn std::fmt::Display) -> AppError {
    let text = e.to_string();
    let hint = if text.contains("uthorization") {
        match credentials {
            Credentials::None => {
                "; this server wants credentials: --nats-user LOGIN@ACCOUNT with ORDERFLOW_NATS_PASSWORD".to_string()
            }
            _ => "; check the NATS user and password (the server's configuration is made by orderflow nats-config)"
                .to_string(),
        }
    } else {
        String::new()
    };
    AppError::Failure(format!("cannot connect to NATS at {url} {}: {text}{hint}", credentials.who()))
}

/// Sends a request. The outer `Err` is a transport failure (no responder, no reply in time,
/// NATS down) in words; the inner result is the server's answer: the `ok` body, or the error it
/// reported.
async fn send(client: &Client, subject: &str, body: Vec<u8>) -> Result<Result<Value, AppError>, String> {
    let req = async_nats::Request::new().payload(body.into()).timeout(Some(REQUEST_TIMEOUT));
    let mut refused = violations().subscribe();
    let quoted = format!("\"{subject}\"");
    let refusal = async move {
        loop {
            match refused.recv().await {
                Ok(text) if text.contains(&quoted) => return text,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => std::future::pending::<()>().await,
            }
        }
    };
    let answer = tokio::select! {
        a = client.send_request(subject.to_string(), req) => a,
        text = refusal => {
            return Err(format!(
                "the NATS server refused to let this user publish on {subject} ({text}): your NATS user's \
                 account (your role) may not send this; nothing was sent"
            ));
        }
    };
    match answer {
        Ok(message) => Ok(read_reply(&message.payload)),
        Err(e) => Err(match e.kind() {
            RequestErrorKind::NoResponders => {
                format!("no orderflow server answers on {subject} (is `orderflow serve` running?)")
            }
            RequestErrorKind::TimedOut => format!(
                "no reply on {subject} within {} s (is `orderflow serve` running? through an account \
                 of the generated configuration a stopped service shows as no reply)",
                REQUEST_TIMEOUT.as_secs()
            ),
            _ => format!("request on {subject} failed: {e}"),
        }),
    }
}

/// Sends a command to the server and returns what it did.
pub async fn send_command(client: &Client, request: &CommandRequest) -> Result<CommandReply, AppError> {
    let subject = command_subject(request.command.name());
    let body = serde_json::to_vec(request).map_err(|e| AppError::Failure(e.to_string()))?;
    let answer = send(client, &subject, body).await.map_err(|transport| {
        // Whether a command without a reply was executed is unknown; the same id makes a retry safe.
        AppError::Failure(format!(
            "{transport}; the command may or may not have been executed: retry with --command-id {}",
            request.command_id
        ))
    })?;
    reply_as(answer?)
}

/// Asks a query (`show`, `history`, ...) with its request body and returns its reply body.
pub async fn query<Req: Serialize, Rep: DeserializeOwned>(
    client: &Client,
    name: &str,
    request: &Req,
) -> Result<Rep, AppError> {
    let body = serde_json::to_vec(request).map_err(|e| AppError::Failure(e.to_string()))?;
    let reply = send(client, &query_subject(name), body).await.map_err(AppError::Failure)??;
    reply_as(reply)
}
