//! The buttons our messages carry when the Slack app is set up (`EVENT_TIER_SLACK_BUTTONS`): the
//! actions the app reads back from a click ([`crate::slack_app::buttons`]), each with the event in
//! its `value`. A button that ends something ("stop now", "retry") asks for a confirmation first:
//! a stray click in a busy channel must not destroy a tier.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::payload::EventId;
use crate::slack_app::buttons::{EXTEND, HOLD, RETRY, STOP_NOW};
use crate::slack_app::command::RetryOf;

/// Slack shows at most 25 elements in an actions block; ours carry at most three.
const ELEMENTS_MAX: usize = 25;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    label: &'static str,
    action_id: &'static str,
    value: String,
    /// `primary` (green) or `danger` (red); None is Slack's default.
    style: Option<&'static str>,
    /// The question a confirmation dialog asks before the click counts.
    confirm: Option<String>,
}

impl Button {
    /// "Extend 1h": moves the end by an hour, as `/event extend <id> 1h`.
    pub fn extend_hour(event: &EventId) -> Self {
        Self {
            label: "Extend 1h",
            action_id: EXTEND,
            value: format!("{event}:1h"),
            style: Some("primary"),
            confirm: None,
        }
    }

    /// "Hold 1h past the end": keeps the tier up until an hour after `end`, as
    /// `/event hold <id> <end + 1h>` (a time, not a duration: the same whenever it is clicked).
    /// The default hold, an hour from the click, would end at about the end itself when the
    /// reminder comes an hour before it.
    pub fn hold_past(event: &EventId, end: OffsetDateTime) -> Self {
        let until = end.saturating_add(time::Duration::HOUR);
        Self {
            label: "Hold 1h past the end",
            action_id: HOLD,
            value: format!("{event}:{}", crate::slack_app::rfc3339(until)),
            style: None,
            confirm: None,
        }
    }

    /// "Stop now": the scheduled stop's payload, in about a minute, through the final migration.
    pub fn stop_now(event: &EventId) -> Self {
        Self {
            label: "Stop now",
            action_id: STOP_NOW,
            value: event.to_string(),
            style: Some("danger"),
            confirm: Some(format!(
                "Stop {event} now? Its final migration runs first, then the tier is destroyed."
            )),
        }
    }

    /// "Retry start" or "Retry stop": the event's own schedule payload again, in about a minute.
    pub fn retry(event: &EventId, of: RetryOf) -> Self {
        let (label, what) = match of {
            RetryOf::Start => ("Retry start", "start"),
            RetryOf::Stop => ("Retry stop", "stop"),
        };
        Self {
            label,
            action_id: RETRY,
            value: format!("{event}:{what}"),
            style: None,
            confirm: Some(format!("Run the {what} of {event} again?")),
        }
    }

    fn element(&self) -> Value {
        let mut b = json!({
            "type": "button",
            "text": {"type": "plain_text", "text": self.label},
            "action_id": self.action_id,
            "value": self.value,
        });
        if let Some(style) = self.style {
            b["style"] = json!(style);
        }
        if let Some(question) = &self.confirm {
            b["confirm"] = json!({
                "title": {"type": "plain_text", "text": "Are you sure?"},
                "text": {"type": "plain_text", "text": question},
                "confirm": {"type": "plain_text", "text": self.label},
                "deny": {"type": "plain_text", "text": "Cancel"},
            });
        }
        b
    }
}

/// The actions block of `buttons`; None when there are none.
pub(super) fn actions(buttons: &[Button]) -> Option<Value> {
    if buttons.is_empty() {
        return None;
    }
    let elements: Vec<Value> = buttons
        .iter()
        .take(ELEMENTS_MAX)
        .map(Button::element)
        .collect();
    Some(json!({"type": "actions", "elements": elements}))
}
