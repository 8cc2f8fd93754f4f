//! Slack request verification, as Slack documents it ("Verifying requests from Slack"): Slack
//! signs `v0:{X-Slack-Request-Timestamp}:{raw body}` with HMAC-SHA256 keyed by the app's signing
//! secret and sends `v0=` and the hex digest in `X-Slack-Signature`. We recompute it over the raw
//! bytes (never a re-encoded form), compare in constant time, and refuse a timestamp more than five
//! minutes from now in either direction, so that a captured request is useless after the window.
//!
//! Within the window, a captured request could still be sent again. [`replay_key`] names the
//! request's claim in the state bucket; the caller creates it with S3's conditional create (see
//! [`replay_key`] for how), and a request whose claim exists is refused with
//! [`VerifyError::Replayed`].
//!
//! The signing secret is a [`SecretString`]: no error here carries it, nor anything derived from
//! it but the request's own signature.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

#[cfg(test)]
mod tests;

pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// How far a request's timestamp may be from now, either way (Slack's documented five minutes).
pub const WINDOW_SECS: i64 = 300;
/// Where the replay claims live in the state bucket.
pub const REPLAY_PREFIX: &str = "slack-requests/";

const VERSION_PREFIX: &str = "v0=";
const DIGEST_LEN: usize = 32;

/// A request as it arrived: the two headers Slack signs with, and the raw body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed<'a> {
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> Signed<'a> {
    /// Picks the two headers out of a request's headers, whatever their case (HTTP header names are
    /// case-insensitive, and Lambda function URLs deliver them lower-cased). The first of a
    /// repeated header counts.
    pub fn from_headers<I>(headers: I, body: &'a [u8]) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut signed = Signed {
            timestamp: None,
            signature: None,
            body,
        };
        for (name, value) in headers {
            if name.eq_ignore_ascii_case(TIMESTAMP_HEADER) {
                signed.timestamp = signed.timestamp.or(Some(value));
            } else if name.eq_ignore_ascii_case(SIGNATURE_HEADER) {
                signed.signature = signed.signature.or(Some(value));
            }
        }
        signed
    }
}

/// A request that proved it comes from Slack, within the window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The request's Unix time, as Slack stamped it.
    pub timestamp: i64,
    /// The key the caller claims before acting, so that the request acts once ([`replay_key`]).
    pub replay_key: String,
}

/// Why a request was refused. Each is answered with 401 and changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("header {header} is malformed: {reason}")]
    Malformed {
        header: &'static str,
        reason: &'static str,
    },
    #[error("request timestamp is {} s {}, outside the {WINDOW_SECS} s window", skew.unsigned_abs(), if *skew > 0 { "old" } else { "in the future" })]
    Stale {
        /// Now minus the request's timestamp: positive when the request is old.
        skew: i64,
    },
    #[error("signature does not match the request")]
    BadSignature,
    #[error("request was already received (a replay)")]
    Replayed,
    /// A configuration fault, not the request's: with an empty key anyone could sign.
    #[error("the signing secret is empty, so no request can be trusted")]
    EmptySecret,
}

impl VerifyError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            VerifyError::EmptySecret => 500,
            _ => 401,
        }
    }
}

/// Checks a request's signature and timestamp against the signing secret at Unix time `now`.
/// The checks that need no secret come first, so that garbage costs no HMAC.
pub fn verify(
    secret: &SecretString,
    request: &Signed<'_>,
    now: i64,
) -> Result<Verified, VerifyError> {
    let stamp = request
        .timestamp
        .ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
    let signature = request
        .signature
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let timestamp = parse_timestamp(stamp)?;
    let skew = now.saturating_sub(timestamp);
    if skew.abs() > WINDOW_SECS {
        return Err(VerifyError::Stale { skew });
    }
    let digest = parse_signature(signature)?;
    // The header's own text goes into the base string, as Slack signed it.
    mac(secret, stamp, request.body)?
        .verify_slice(&digest)
        .map_err(|_| VerifyError::BadSignature)?;
    Ok(Verified {
        timestamp,
        replay_key: key_of(&digest),
    })
}

/// The `X-Slack-Signature` value Slack would send for `body` at Unix time `timestamp`: for tests
/// and the local stack's client. Signing reveals nothing of the secret.
pub fn sign(secret: &SecretString, timestamp: i64, body: &[u8]) -> String {
    match mac(secret, &timestamp.to_string(), body) {
        Ok(mac) => format!(
            "{VERSION_PREFIX}{}",
            hex::encode(mac.finalize().into_bytes())
        ),
        // An empty secret signs nothing that `verify` would accept.
        Err(_) => String::new(),
    }
}

/// The state-bucket key that stands for one request: `slack-requests/` and the first 32 hex
/// digits of the SHA-256 of its signature's 32 bytes (decoded, so that the same signature in upper
/// case is the same request). A request is its signature: another timestamp or body needs another
/// signature, which only Slack can make.
///
/// How the wiring uses it, after [`verify`] succeeded and before anything else (so that unsigned
/// garbage cannot fill the bucket, and nothing happens twice): it creates the key with the state
/// bucket's conditional create, `Objects::create` in `crate::records` (S3 `PutObject` with
/// `If-None-Match: *`, atomic in S3), holding the request's timestamp (no secret).
/// - `Create::Created`: the first delivery; go on.
/// - `Create::Exists` (412): the request was seen before; answer [`VerifyError::Replayed`] (401).
/// - `Create::Conflict` (409, another conditional write of the key in flight): a copy of the same
///   request is being handled right now; refuse it as a replay too, rather than retry as the
///   records' claims do, since the other copy does the work.
///
/// A claim only needs to outlive the window: a request older than [`WINDOW_SECS`] is refused by
/// its timestamp before its key is looked at. So an S3 lifecycle rule may expire `slack-requests/`
/// after a day without reopening any replay.
pub fn replay_key(signature: &str) -> Result<String, VerifyError> {
    parse_signature(signature).map(|digest| key_of(&digest))
}

fn key_of(digest: &[u8; DIGEST_LEN]) -> String {
    let hash = hex::encode(Sha256::digest(digest));
    format!("{REPLAY_PREFIX}{}", &hash[..32])
}

fn mac(secret: &SecretString, stamp: &str, body: &[u8]) -> Result<Hmac<Sha256>, VerifyError> {
    let key = secret.expose_secret().as_bytes();
    if key.is_empty() {
        return Err(VerifyError::EmptySecret);
    }
    // HMAC takes a key of any length, so this cannot fail; the error type is the trait's.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| VerifyError::EmptySecret)?;
    mac.update(b"v0:");
    mac.update(stamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    Ok(mac)
}

/// Unix seconds, digits only: no sign, no fraction, no spaces (`i64::from_str` would take `+5`).
fn parse_timestamp(stamp: &str) -> Result<i64, VerifyError> {
    let malformed = VerifyError::Malformed {
        header: TIMESTAMP_HEADER,
        reason: "must be a Unix time in whole seconds",
    };
    if stamp.is_empty() || stamp.len() > 15 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed);
    }
    stamp.parse().map_err(|_| malformed)
}

fn parse_signature(signature: &str) -> Result<[u8; DIGEST_LEN], VerifyError> {
    let malformed = |reason| VerifyError::Malformed {
        header: SIGNATURE_HEADER,
        reason,
    };
    let hex_part = signature
        .strip_prefix(VERSION_PREFIX)
        .ok_or(malformed("must start with v0="))?;
    let mut digest = [0u8; DIGEST_LEN];
    hex::decode_to_slice(hex_part, &mut digest)
        .map_err(|_| malformed("must be v0= and 64 hex digits"))?;
    Ok(digest)
}
