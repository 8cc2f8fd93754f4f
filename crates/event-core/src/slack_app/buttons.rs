//! The buttons on our messages ("extend 1h", "hold", "stop now", "retry"). A click reaches the app
//! as a form with one field, `payload`, holding Slack's `block_actions` JSON; its one action's
//! `action_id` says which button and its `value` carries the event (and the button's argument).
//! It becomes the same [`Request`] as the slash command it stands for, read by the same rules.

use serde::Deserialize;
use time::OffsetDateTime;

use super::command::{
    Command, CommandError, CommandSettings, Request, Requester, RetryOf, event_id, usage_error,
};

#[cfg(test)]
mod tests;

// The `action_id`s our messages' buttons carry, and what each `value` holds.

/// `value`: `<event id>:<duration>`, e.g. `winter-sale-2026:1h`.
pub const EXTEND: &str = "extend";
/// `value`: `<event id>` (the default hold) or `<event id>:<until>`.
pub const HOLD: &str = "hold";
/// `value`: `<event id>`.
pub const STOP_NOW: &str = "stop-now";
/// `value`: `<event id>:start` or `<event id>:stop`, the run that failed.
pub const RETRY: &str = "retry";

impl CommandSettings {
    /// Reads a button's `payload`; an argument it carries is checked as the slash command's is.
    pub(super) fn interaction(
        &self,
        payload: &str,
        now: OffsetDateTime,
    ) -> Result<Request, CommandError> {
        let p: Interaction = serde_json::from_str(payload)
            .map_err(|e| CommandError::Malformed(format!("payload: {e}")))?;
        if p.kind != "block_actions" {
            return Err(CommandError::Malformed(format!(
                "payload type `{}` is not handled (only block_actions)",
                p.kind
            )));
        }
        let [action] = p.actions.as_slice() else {
            return Err(CommandError::Malformed(format!(
                "payload holds {} actions, expected one",
                p.actions.len()
            )));
        };
        let value = action.value.as_deref().unwrap_or_default();
        let (id, arg) = match value.split_once(':') {
            Some((id, arg)) => (id, Some(arg)),
            None => (value, None),
        };
        let problem = |p: String| usage_error(format!("button {}: {p}", action.action_id), "");
        let event = event_id(id).map_err(problem)?;
        let command = match (action.action_id.as_str(), arg) {
            (EXTEND, Some(d)) => Command::Extend {
                by: self.duration(d).map_err(problem)?,
                event,
            },
            (HOLD, until) => Command::Hold {
                until: self.hold_until(until, now).map_err(problem)?,
                event,
            },
            (STOP_NOW, None) => Command::StopNow { event },
            (RETRY, Some("start")) => Command::Retry {
                event,
                of: RetryOf::Start,
            },
            (RETRY, Some("stop")) => Command::Retry {
                event,
                of: RetryOf::Stop,
            },
            (id, _) => {
                return Err(CommandError::Malformed(format!(
                    "button `{id}` with value `{value}` is not one of ours"
                )));
            }
        };
        let user = p
            .user
            .ok_or_else(|| CommandError::Malformed("payload has no user".into()))?;
        let user_name = user
            .username
            .or(user.name)
            .unwrap_or_else(|| user.id.clone());
        Ok(Request {
            text: format!(
                "{} {} (button)",
                action.action_id,
                value.replacen(':', " ", 1)
            ),
            command,
            requester: Requester {
                user_id: user.id,
                user_name,
            },
            response_url: p
                .response_url
                .ok_or_else(|| CommandError::Malformed("payload has no response_url".into()))?,
            channel_id: p.channel.map(|c| c.id),
        })
    }
}

/// The parts of a `block_actions` payload the app reads.
#[derive(Deserialize)]
struct Interaction {
    #[serde(rename = "type")]
    kind: String,
    user: Option<User>,
    response_url: Option<String>,
    channel: Option<Channel>,
    #[serde(default)]
    actions: Vec<ActionPayload>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct Channel {
    id: String,
}

#[derive(Deserialize)]
struct ActionPayload {
    action_id: String,
    value: Option<String>,
}
