//! The input contract: what a schedule (or a person) may send the functions.
//!
//! ```json
//! { "event_id": "winter-sale-2026", "vars": { "desired_count": 4, "max_count": 20 } }
//! ```
//! The same object wrapped in an EventBridge envelope (`detail-type`, `source`, `detail`) is accepted.
//! Everything is checked here, before any AWS call; an error always names the field.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::error::InputError;
use crate::module::{Module, RESERVED_VARIABLES, Validations, VarType};

mod json;
mod rehearse;
pub use rehearse::Rehearse;
#[cfg(test)]
mod tests;

/// Largest payload accepted (EventBridge itself caps events at 256 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 64 * 1024;
pub const MAX_VARS: usize = 50;
pub const MAX_STRING_VALUE: usize = 1024;
pub const MAX_EVENT_ID: usize = 40;

/// A validated event id: lower-case letters, digits and `-`, starting with a letter, at most 40
/// characters. Safe to use in resource names, state keys, tags, paths and shell words.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    pub fn parse(s: &str) -> Result<Self, InputError> {
        let bad_char = s
            .chars()
            .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'));
        let reason = if s.is_empty() {
            Some("must not be empty".to_owned())
        } else if s.chars().count() > MAX_EVENT_ID {
            Some(format!(
                "must be at most {MAX_EVENT_ID} characters, got {}",
                s.chars().count()
            ))
        } else if !s.starts_with(|c: char| c.is_ascii_lowercase()) {
            Some("must start with a lower-case letter".to_owned())
        } else {
            match bad_char {
                Some(c) => Some(format!(
                    "may hold only lower-case letters, digits and '-', found {c:?}"
                )),
                // RDS and DMS identifiers refuse both.
                None if s.ends_with('-') || s.contains("--") => {
                    Some("must not end with '-' or hold \"--\"".to_owned())
                }
                None => None,
            }
        };
        match reason {
            Some(r) => Err(InputError::field("event_id", r)),
            None => Ok(EventId(s.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which function a payload is for: only a stop may carry `force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Start,
    Stop,
}

/// A follow-up invocation: pick up a Terraform run that an earlier invocation started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUp {
    pub run_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub event_id: EventId,
    /// Values for variables the event tier declares; scalars only.
    pub vars: BTreeMap<String, Value>,
    /// Stop only: destroy even if the final migration did not succeed.
    pub force: bool,
    pub follow: Option<FollowUp>,
    /// Start only: a dress rehearsal instead of a start ([`crate::rehearsal`]).
    pub rehearsal: Option<Rehearse>,
}

/// A payload as it arrived: the raw bytes of an invocation, or JSON already decoded (callers in
/// Rust, tests).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Bytes(Vec<u8>),
    Json(Value),
}

impl From<Value> for Input {
    fn from(v: Value) -> Self {
        Input::Json(v)
    }
}

impl From<Vec<u8>> for Input {
    fn from(b: Vec<u8>) -> Self {
        Input::Bytes(b)
    }
}

/// The raw JSON text a Lambda runtime delivers: read as bytes, so that no ambiguity is lost.
impl From<Box<serde_json::value::RawValue>> for Input {
    fn from(raw: Box<serde_json::value::RawValue>) -> Self {
        Input::Bytes(raw.get().as_bytes().to_vec())
    }
}

/// The flows' entry to the input contract: everything checked before any AWS call, the module's
/// own `validation` blocks included, and raw bytes read without ambiguity (no key twice).
pub fn parse_input(input: Input, purpose: Purpose, module: &Module) -> Result<Request, InputError> {
    let value = match input {
        Input::Bytes(b) => json::decode(&b)?,
        Input::Json(v) => {
            check_size(&v)?;
            v
        }
    };
    read(value, purpose, &module.variables, Some(&module.validations))
}

/// Parses raw bytes (what `cargo lambda invoke --data-file` or a schedule sends) against the
/// declared variables' types; [`parse_input`] also applies the module's validation blocks.
pub fn parse_bytes(
    bytes: &[u8],
    purpose: Purpose,
    declared: &BTreeMap<String, VarType>,
) -> Result<Request, InputError> {
    read(json::decode(bytes)?, purpose, declared, None)
}

/// Parses an already-decoded JSON payload against the declared variables' types; [`parse_input`]
/// also applies the module's validation blocks.
pub fn parse(
    value: Value,
    purpose: Purpose,
    declared: &BTreeMap<String, VarType>,
) -> Result<Request, InputError> {
    check_size(&value)?;
    read(value, purpose, declared, None)
}

fn check_size(value: &Value) -> Result<(), InputError> {
    let size = serde_json::to_vec(value).map(|v| v.len()).unwrap_or(0);
    if size > MAX_PAYLOAD_BYTES {
        return Err(InputError::TooLarge {
            size,
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(())
}

fn read(
    value: Value,
    purpose: Purpose,
    declared: &BTreeMap<String, VarType>,
    validations: Option<&Validations>,
) -> Result<Request, InputError> {
    let obj = match value {
        Value::Object(o) => o,
        other => return Err(InputError::NotObject(kind(&other))),
    };
    let (obj, prefix) = unwrap_envelope(obj)?;
    let field = |name: &str| format!("{prefix}{name}");

    for key in obj.keys() {
        let allowed = match key.as_str() {
            "event_id" | "vars" | "follow" => true,
            "force" => purpose == Purpose::Stop,
            "rehearsal" => purpose == Purpose::Start,
            _ => false,
        };
        if !allowed {
            return Err(InputError::field(field(key), "is not an accepted field"));
        }
    }

    let event_id = match obj.get("event_id") {
        None | Some(Value::Null) => return Err(InputError::Missing(field("event_id"))),
        Some(Value::String(s)) => EventId::parse(s).map_err(|e| rename(e, &prefix))?,
        Some(other) => {
            return Err(InputError::field(
                field("event_id"),
                format!("must be a string, got {}", kind(other)),
            ));
        }
    };

    let mut vars = BTreeMap::new();
    match obj.get("vars") {
        None | Some(Value::Null) => {}
        Some(Value::Object(v)) => {
            if v.len() > MAX_VARS {
                return Err(InputError::field(
                    field("vars"),
                    format!("may set at most {MAX_VARS} variables, got {}", v.len()),
                ));
            }
            for (name, value) in v {
                let f = field(&format!("vars.{name}"));
                check_var(name, value, declared).map_err(|r| InputError::field(f, r))?;
                vars.insert(name.clone(), value.clone());
            }
        }
        Some(other) => {
            return Err(InputError::field(
                field("vars"),
                format!("must be an object, got {}", kind(other)),
            ));
        }
    }

    let force = match obj.get("force") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(InputError::field(
                field("force"),
                format!("must be true or false, got {}", kind(other)),
            ));
        }
    };

    let follow = match obj.get("follow") {
        None | Some(Value::Null) => None,
        Some(Value::Object(f)) => {
            if let Some(key) = f.keys().find(|k| k.as_str() != "run_id") {
                return Err(InputError::field(
                    field(&format!("follow.{key}")),
                    "is not an accepted field",
                ));
            }
            match f.get("run_id") {
                Some(Value::String(r)) if is_run_id(r) => Some(FollowUp { run_id: r.clone() }),
                Some(_) => {
                    return Err(InputError::field(
                        field("follow.run_id"),
                        "must be a run id as the functions write it (apply-… or destroy-…: lower-case letters, digits and '-', at most 64)",
                    ));
                }
                None => return Err(InputError::Missing(field("follow.run_id"))),
            }
        }
        Some(other) => {
            return Err(InputError::field(
                field("follow"),
                format!("must be an object, got {}", kind(other)),
            ));
        }
    };

    if let Some(validations) = validations {
        check_validations(validations, &event_id, &vars).map_err(|e| rename(e, &prefix))?;
    }
    let rehearsal = rehearse::read(obj.get("rehearsal"), &field("rehearsal"))?;
    Ok(Request {
        event_id,
        vars,
        force,
        follow,
        rehearsal,
    })
}

/// The module's `validation` blocks, on the values the payload set (its `vars` and event id).
fn check_validations(
    validations: &Validations,
    event_id: &EventId,
    vars: &BTreeMap<String, Value>,
) -> Result<(), InputError> {
    let mut set: BTreeMap<String, hcl::Value> = vars
        .iter()
        .map(|(k, v)| (k.clone(), crate::module::hcl_value(v)))
        .collect();
    set.insert("event_id".into(), hcl::Value::from(event_id.as_str()));
    validations.check(&set).map_err(|r| {
        let field = match r.variable.as_str() {
            "event_id" => "event_id".to_owned(),
            v => format!("vars.{v}"),
        };
        InputError::field(field, r.reason)
    })
}

/// A run id as the functions write it (one definition: [`crate::run::RunId::parse`]).
pub(crate) fn is_run_id(s: &str) -> bool {
    crate::run::RunId::parse(s).is_some()
}

/// Accepts `{ "detail-type", "source", "detail": {...}, ... }` and returns the detail.
fn unwrap_envelope(obj: Map<String, Value>) -> Result<(Map<String, Value>, String), InputError> {
    let looks_wrapped =
        obj.contains_key("detail") || obj.contains_key("detail-type") || obj.contains_key("source");
    if !looks_wrapped {
        return Ok((obj, String::new()));
    }
    for key in ["detail-type", "source"] {
        match obj.get(key) {
            Some(Value::String(_)) => {}
            Some(other) => {
                return Err(InputError::field(
                    key,
                    format!(
                        "must be a string in an EventBridge envelope, got {}",
                        kind(other)
                    ),
                ));
            }
            None => {
                return Err(InputError::field(
                    key,
                    "is missing: an EventBridge envelope needs `detail-type`, `source` and `detail`",
                ));
            }
        }
    }
    match obj.get("detail") {
        Some(Value::Object(d)) => Ok((d.clone(), "detail.".to_owned())),
        Some(other) => Err(InputError::field(
            "detail",
            format!("must be an object, got {}", kind(other)),
        )),
        None => Err(InputError::Missing("detail".into())),
    }
}

fn rename(e: InputError, prefix: &str) -> InputError {
    match e {
        InputError::Field { field, reason } => InputError::Field {
            field: format!("{prefix}{field}"),
            reason,
        },
        other => other,
    }
}

fn check_var(
    name: &str,
    value: &Value,
    declared: &BTreeMap<String, VarType>,
) -> Result<(), String> {
    if RESERVED_VARIABLES.contains(&name) {
        return Err("is set by the functions themselves, not by a payload".into());
    }
    let Some(ty) = declared.get(name) else {
        let known: Vec<&str> = declared.keys().map(String::as_str).collect();
        return Err(format!(
            "is not a variable of the event tier (known: {})",
            known.join(", ")
        ));
    };
    let fits = match (ty, value) {
        (VarType::Complex, _) => false,
        (_, Value::Null | Value::Array(_) | Value::Object(_)) => false,
        (VarType::String, Value::String(_))
        | (VarType::Number, Value::Number(_))
        | (VarType::Bool, Value::Bool(_))
        | (VarType::Any, _) => true,
        _ => false,
    };
    if !fits {
        return Err(match ty {
            VarType::Complex => "is not settable from a payload: its type is not a scalar".into(),
            _ => format!("must be {}, got {}", ty.name(), kind(value)),
        });
    }
    if let Value::String(s) = value {
        if s.chars().count() > MAX_STRING_VALUE {
            return Err(format!("must be at most {MAX_STRING_VALUE} characters"));
        }
        if s.chars().any(|c| c.is_control()) {
            return Err("must not contain control characters".into());
        }
    }
    Ok(())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
