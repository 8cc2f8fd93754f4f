//! `"rehearsal"`: event-start rehearses the event instead of starting it (issue 13, part 3).
//!
//! ```json
//! { "event_id": "winter-sale-2026", "vars": { ... }, "rehearsal": { "lead_time_minutes": 45 } }
//! ```
//! `true` is a rehearsal that is not told the event's lead time (its lead-time check is then not
//! made); `lead_time_minutes` is the event's start schedule's lead before its opening, as
//! infra/control sets it.

use std::time::Duration;

use serde_json::Value;

use super::kind;
use crate::error::InputError;

/// The longest lead time a rehearsal takes: a week.
pub const MAX_LEAD_MINUTES: u64 = 7 * 24 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rehearse {
    /// How long before the opening the event's start runs.
    pub lead_time: Option<Duration>,
}

pub(super) fn read(value: Option<&Value>, field: &str) -> Result<Option<Rehearse>, InputError> {
    let o = match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(None),
        Some(Value::Bool(true)) => return Ok(Some(Rehearse::default())),
        Some(Value::Object(o)) => o,
        Some(other) => {
            return Err(InputError::field(
                field,
                format!("must be true or an object, got {}", kind(other)),
            ));
        }
    };
    if let Some(k) = o.keys().find(|k| k.as_str() != "lead_time_minutes") {
        return Err(InputError::field(
            format!("{field}.{k}"),
            "is not an accepted field",
        ));
    }
    let lead_time = match o.get("lead_time_minutes") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(m) if m <= MAX_LEAD_MINUTES => Some(Duration::from_secs(m * 60)),
            _ => {
                return Err(InputError::field(
                    format!("{field}.lead_time_minutes"),
                    format!(
                        "must be a whole number of minutes from 0 to {MAX_LEAD_MINUTES}, got {v}"
                    ),
                ));
            }
        },
    };
    Ok(Some(Rehearse { lead_time }))
}
