//! Tracking tokens of `/track/{token}`: the links sales and customer service give a customer so
//! that they can follow one order without an account.
//!
//! A token is 128 random bits from the operating system ([`super::session::random_token`]),
//! written as [`TRACK_TOKEN_CHARS`] lower-case hex digits (URL-safe). It is shown once, when it
//! is made; the data directory keeps only its BLAKE3 hash, in the sled tree [`TREE`] beside the
//! log (so a copy of the data directory opens no tracking page). Looking a token up is a lookup
//! of its hash: no comparison of the secret whose time depends on where it differs.
//!
//! Layout of the tree [`TREE`] (one tree, two kinds of keys):
//! - `b"t" ++ blake3(token)` (33 bytes) → the link, [`TrackLink`] as JSON (serde_json, UTF-8):
//!   `{"order_id": "<uuid>", "created_by": "<user uuid>", "created_by_login": "sales",
//!   "created_at": "<RFC 3339>", "revoked_at": null | "<RFC 3339>", "revoked_by": null | "<user
//!   uuid>", "command_id": null | "<uuid of the form>"}`.
//! - `b"o" ++ order id (16 bytes) ++ blake3(token)` (49 bytes) → empty: the links of an order, to
//!   list, count and revoke them without scanning every link.
//!
//! An order has at most [`TRACK_TOKENS_PER_ORDER_MAX`] live links; of its revoked links the
//! newest [`TRACK_REVOKED_KEPT_PER_ORDER`] are kept (older ones are dropped when a link is
//! created: a revoked link opens nothing either way). Creating and revoking links is not an event
//! of the order (the schema has no such event; the archive's `archive_accessed` is for reads): it
//! is logged with `tracing` (order, who, the link's id = the first hex digits of its hash, never
//! the token).

use std::sync::Mutex;

use orderflow_schemas::{OrderId, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::{App, AppError};
use crate::auth::User;

/// The sled tree of the links.
pub const TREE: &str = "track_tokens";

/// Characters of a token: 128 bits as hex digits. A path segment of another length is no token
/// (404 without a lookup), so nothing longer is ever hashed.
pub const TRACK_TOKEN_CHARS: usize = 32;

/// Live (not revoked) links one order may have at once; one more is refused until some are
/// revoked.
pub const TRACK_TOKENS_PER_ORDER_MAX: usize = 10;

/// Revoked links of one order that are kept (newest first); older ones are dropped when a link
/// is created.
pub const TRACK_REVOKED_KEPT_PER_ORDER: usize = 20;

/// Hex digits of a link's hash that name it in logs and on the order page.
pub const LINK_ID_CHARS: usize = 8;

/// One tracking link (its token is not kept; see the module documentation for the layout).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackLink {
    /// The order it shows.
    pub order_id: OrderId,
    /// Who made it (user id).
    pub created_by: Uuid,
    /// Their login then.
    pub created_by_login: String,
    /// When.
    pub created_at: Timestamp,
    /// When it was revoked; `None` while it opens the page.
    pub revoked_at: Option<Timestamp>,
    /// Who revoked it.
    pub revoked_by: Option<Uuid>,
    /// The command id of the form that made it: a second submit of the same form makes no
    /// second link.
    #[serde(default)]
    pub command_id: Option<Uuid>,
}

/// A link with its id ([`LINK_ID_CHARS`] hex digits of its hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The link's id.
    pub id: String,
    /// The link.
    pub link: TrackLink,
}

/// Creating and revoking are check-then-write on several keys: one at a time in this process
/// (the process that owns the data directory is the only writer).
static WRITE: Mutex<()> = Mutex::new(());

fn storage(e: sled::Error) -> AppError {
    AppError::Failure(format!("the tracking links cannot be read or written: {e}"))
}

fn tree(app: &App) -> Result<sled::Tree, AppError> {
    app.log().db().open_tree(TREE).map_err(storage)
}

fn hash(token: &str) -> [u8; 32] {
    *blake3::hash(token.as_bytes()).as_bytes()
}

fn link_key(h: &[u8; 32]) -> Vec<u8> {
    let mut k = Vec::with_capacity(33);
    k.push(b't');
    k.extend_from_slice(h);
    k
}

fn order_prefix(order: OrderId) -> Vec<u8> {
    let mut k = Vec::with_capacity(49);
    k.push(b'o');
    k.extend_from_slice(order.0.as_bytes());
    k
}

fn link_id(h: &[u8]) -> String {
    h.iter().take(LINK_ID_CHARS / 2).map(|b| format!("{b:02x}")).collect()
}

fn decode(bytes: &[u8]) -> Result<TrackLink, AppError> {
    serde_json::from_slice(bytes)
        .map_err(|e| AppError::Failure(format!("a tracking link record does not decode: {e}")))
}

fn encode(link: &TrackLink) -> Result<Vec<u8>, AppError> {
    serde_json::to_vec(link).map_err(|e| AppError::Failure(format!("a tracking link cannot be encoded: {e}")))
}

/// The links of an order with their hashes, oldest first.
fn links_of(tree: &sled::Tree, order: OrderId) -> Result<Vec<([u8; 32], TrackLink)>, AppError> {
    let prefix = order_prefix(order);
    let mut out = Vec::new();
    for kv in tree.scan_prefix(&prefix) {
        let (k, _) = kv.map_err(storage)?;
        let h: [u8; 32] = k[prefix.len()..]
            .try_into()
            .map_err(|_| AppError::Failure("a tracking link index key is malformed".into()))?;
        if let Some(v) = tree.get(link_key(&h)).map_err(storage)? {
            out.push((h, decode(&v)?));
        }
    }
    out.sort_by_key(|(_, l)| l.created_at);
    Ok(out)
}

/// Makes a link for `order` by `by` from the form `command_id`; returns the token (shown once,
/// never stored). Refused when the order has [`TRACK_TOKENS_PER_ORDER_MAX`] live links
/// ([`AppError::Limit`]) and when the same form already made a link ([`AppError::Conflict`]: the
/// token was shown then and cannot be shown again).
pub fn create(app: &App, order: OrderId, by: &User, command_id: Uuid) -> Result<String, AppError> {
    let _one = WRITE.lock().unwrap_or_else(|p| p.into_inner());
    let tree = tree(app)?;
    let links = links_of(&tree, order)?;
    if links.iter().any(|(_, l)| l.command_id == Some(command_id)) {
        return Err(AppError::Conflict(format!(
            "this form already made a tracking link for order {}, shown once then; no second link was made \
             (make a new one from the order page)",
            order.short()
        )));
    }
    let live = links.iter().filter(|(_, l)| l.revoked_at.is_none()).count();
    if live >= TRACK_TOKENS_PER_ORDER_MAX {
        return Err(AppError::Limit(format!(
            "order {} already has {live} live tracking links (at most {TRACK_TOKENS_PER_ORDER_MAX}); revoke them \
             first; no link was made",
            order.short()
        )));
    }
    let mut revoked: Vec<&([u8; 32], TrackLink)> =
        links.iter().filter(|(_, l)| l.revoked_at.is_some()).collect();
    revoked.sort_by_key(|(_, l)| std::cmp::Reverse(l.revoked_at));
    for (h, _) in revoked.iter().skip(TRACK_REVOKED_KEPT_PER_ORDER) {
        tree.remove(link_key(h)).map_err(storage)?;
        let mut k = order_prefix(order);
        k.extend_from_slice(h);
        tree.remove(k).map_err(storage)?;
    }
    let token = super::session::random_token();
    let h = hash(&token);
    let link = TrackLink {
        order_id: order,
        created_by: by.id,
        created_by_login: by.login.clone(),
        created_at: crate::app::now(),
        revoked_at: None,
        revoked_by: None,
        command_id: Some(command_id),
    };
    let mut index = order_prefix(order);
    index.extend_from_slice(&h);
    let mut batch = sled::Batch::default();
    batch.insert(link_key(&h), encode(&link)?);
    batch.insert(index, Vec::new());
    tree.apply_batch(batch).map_err(storage)?;
    tree.flush().map_err(storage)?;
    tracing::info!(order_id = %order, by = %by.login, link = %link_id(&h), "Tracking link created.");
    Ok(token)
}

/// Whether `text` has the form of a token: [`TRACK_TOKEN_CHARS`] hex digits.
pub fn well_formed(text: &str) -> bool {
    text.len() == TRACK_TOKEN_CHARS && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The order a token opens; `None` for a token that is malformed, unknown or revoked.
pub fn resolve(app: &App, token: &str) -> Result<Option<OrderId>, AppError> {
    if !well_formed(token) {
        return Ok(None);
    }
    let h = hash(&token.to_ascii_lowercase());
    match tree(app)?.get(link_key(&h)).map_err(storage)? {
        Some(v) => {
            let link = decode(&v)?;
            Ok(link.revoked_at.is_none().then_some(link.order_id))
        }
        None => Ok(None),
    }
}

/// Revokes every live link of `order` (by `by`); returns how many were revoked.
pub fn revoke(app: &App, order: OrderId, by: &User) -> Result<usize, AppError> {
    let _one = WRITE.lock().unwrap_or_else(|p| p.into_inner());
    let tree = tree(app)?;
    let now = crate::app::now();
    let mut batch = sled::Batch::default();
    let mut n = 0;
    for (h, mut link) in links_of(&tree, order)? {
        if link.revoked_at.is_some() {
            continue;
        }
        link.revoked_at = Some(now);
        link.revoked_by = Some(by.id);
        batch.insert(link_key(&h), encode(&link)?);
        n += 1;
        tracing::info!(order_id = %order, by = %by.login, link = %link_id(&h), "Tracking link revoked.");
    }
    tree.apply_batch(batch).map_err(storage)?;
    tree.flush().map_err(storage)?;
    Ok(n)
}

/// The links of `order` (live and kept revoked ones), oldest first; at most
/// [`TRACK_TOKENS_PER_ORDER_MAX`] + [`TRACK_REVOKED_KEPT_PER_ORDER`] + 1.
pub fn list(app: &App, order: OrderId) -> Result<Vec<Listed>, AppError> {
    Ok(links_of(&tree(app)?, order)?.into_iter().map(|(h, link)| Listed { id: link_id(&h), link }).collect())
}

/// Live links of `order`.
pub fn live_count(app: &App, order: OrderId) -> Result<usize, AppError> {
    Ok(list(app, order)?.iter().filter(|l| l.link.revoked_at.is_none()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_one_form() {
        let t = super::super::session::random_token();
        assert_eq!(t.len(), TRACK_TOKEN_CHARS);
        assert!(well_formed(&t));
        assert!(!well_formed(&t[1..]));
        assert!(!well_formed(&format!("{t}0")));
        assert!(!well_formed(&"g".repeat(TRACK_TOKEN_CHARS)));
        assert!(!well_formed(""));
    }

    #[test]
    fn a_link_record_reads_back() {
        let link = TrackLink {
            order_id: OrderId(Uuid::from_u128(7)),
            created_by: Uuid::from_u128(9),
            created_by_login: "sales".into(),
            created_at: Timestamp(1_700_000_000_000_000),
            revoked_at: None,
            revoked_by: None,
            command_id: None,
        };
        assert_eq!(decode(&encode(&link).expect("encode")).expect("decode"), link);
        let text = String::from_utf8(encode(&link).expect("encode")).expect("utf-8");
        assert!(
            text.contains("\"revoked_at\":null") && text.contains("\"created_by_login\":\"sales\""),
            "{text}"
        );
    }
}
