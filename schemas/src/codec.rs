//! The versioned binary codec: an event is stored as `(type code, schema version, payload)`,
//! the payload being bincode 2 (standard config) of `(actor, at, body)`.
//!
//! Decoding dispatches on the exact `(code, version)` pair. An unknown pair, a payload that does
//! not decode, or one with bytes left over is an error that names the type and version.

use bincode::config;
use thiserror::Error;

use crate::events::*;
use crate::values::{Actor, ActorV1, LateEntry, Timestamp};

/// The highest type code that existed before identities: these types have a version 1, the
/// envelope `(ActorV1, at, body)`, which decodes into today's event with the nil user id, the
/// typed name as the login and no late entry.
pub const LEGACY_CODE_MAX: u16 = 24;

/// The most bytes one encoded payload may have: `encode_event` refuses a bigger event and
/// `decode_event` a bigger payload.
pub const PAYLOAD_BYTES_MAX: usize = 16 * 1024 * 1024;

/// What bincode may claim while decoding one payload. Without a limit a corrupt length prefix
/// makes it allocate up to 2^64 bytes: a "capacity overflow" panic, or an abort of the process.
/// It claims every string byte once and every number at its in-memory size, at most 8 bytes for
/// one encoded byte, so a valid payload of up to `PAYLOAD_BYTES_MAX` claims at most 8 times that.
const DECODE_CLAIM_BYTES_MAX: usize = 8 * PAYLOAD_BYTES_MAX;

/// Why a stored event could not be decoded.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The type code is not in the event table.
    #[error("unknown event type code {code}")]
    UnknownType {
        /// The code found.
        code: u16,
    },
    /// The type is known but this schema version is not.
    #[error("unknown schema version {version} of event type {name} (this build reads up to v{known})")]
    UnknownVersion {
        /// The type's name.
        name: &'static str,
        /// The version found.
        version: u16,
        /// The newest version this build knows.
        known: u16,
    },
    /// The payload did not decode as the type and version it claims.
    #[error("payload of {name} v{version} does not decode: {detail}")]
    Malformed {
        /// The type's name.
        name: &'static str,
        /// The version.
        version: u16,
        /// What bincode said.
        detail: String,
    },
    /// The payload decoded but bytes were left over.
    #[error("payload of {name} v{version} has {extra} trailing bytes")]
    TrailingBytes {
        /// The type's name.
        name: &'static str,
        /// The version.
        version: u16,
        /// How many bytes were left.
        extra: usize,
    },
}

/// Why an event could not be encoded.
#[derive(Debug, Error)]
#[error("cannot encode {name}: {detail}")]
pub struct EncodeError {
    /// The type's name.
    pub name: &'static str,
    /// What bincode said.
    pub detail: String,
}

/// Encodes an event as `(type code, schema version, payload bytes)`.
pub fn encode_event(event: &Event) -> Result<(u16, u16, Vec<u8>), EncodeError> {
    let ty = event.body.event_type();
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {$(
            if let EventBody::$variant(body) = &event.body {
                let bytes = bincode::serde::encode_to_vec((&event.actor, &event.at, &event.late, body), config::standard())
                    .map_err(|e| EncodeError { name: ty.name, detail: e.to_string() })?;
                if bytes.len() > PAYLOAD_BYTES_MAX {
                    let detail = format!("{} bytes, more than {PAYLOAD_BYTES_MAX}", bytes.len());
                    return Err(EncodeError { name: ty.name, detail });
                }
                return Ok((ty.code, ty.version, bytes));
            }
        )*};
    }
    with_event_table!(arm);
    Err(EncodeError { name: ty.name, detail: "not in the event table".into() })
}

fn decode_exact<T: serde::de::DeserializeOwned>(
    name: &'static str,
    version: u16,
    payload: &[u8],
) -> Result<T, DecodeError> {
    if payload.len() > PAYLOAD_BYTES_MAX {
        let detail = format!("{} bytes, more than {PAYLOAD_BYTES_MAX}", payload.len());
        return Err(DecodeError::Malformed { name, version, detail });
    }
    let config = config::standard().with_limit::<DECODE_CLAIM_BYTES_MAX>();
    let (value, used) = bincode::serde::decode_from_slice::<T, _>(payload, config)
        .map_err(|e| DecodeError::Malformed { name, version, detail: e.to_string() })?;
    if used != payload.len() {
        return Err(DecodeError::TrailingBytes { name, version, extra: payload.len() - used });
    }
    Ok(value)
}

/// Decodes a stored event from its type code, schema version and payload. An event of an older
/// version is decoded into the type's older body and upcast (see `with_event_table!`).
pub fn decode_event(code: u16, version: u16, payload: &[u8]) -> Result<Event, DecodeError> {
    macro_rules! arm {
        ($($code:literal => $variant:ident, $name:literal, version $version:literal, before $old:path;)*) => {$(
            if code == $code {
                if version == 1 && $code <= LEGACY_CODE_MAX {
                    let (actor, at, body): (ActorV1, Timestamp, $old) = decode_exact($name, version, payload)?;
                    return Ok(Event { actor: actor.into(), at, late: None, body: EventBody::$variant(body.into()) });
                }
                if version == 2 && $version > 2 {
                    let (actor, at, late, body): (Actor, Timestamp, Option<LateEntry>, $old) =
                        decode_exact($name, version, payload)?;
                    return Ok(Event { actor, at, late, body: EventBody::$variant(body.into()) });
                }
                if version != $version {
                    return Err(DecodeError::UnknownVersion { name: $name, version, known: $version });
                }
                let (actor, at, late, body): (Actor, Timestamp, Option<LateEntry>, $variant) =
                    decode_exact($name, version, payload)?;
                return Ok(Event { actor, at, late, body: EventBody::$variant(body) });
            }
        )*};
    }
    with_event_table!(arm);
    Err(DecodeError::UnknownType { code })
}
