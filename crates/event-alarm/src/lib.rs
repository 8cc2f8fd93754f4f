//! The event-alarm Lambda handler: CloudWatch alarm notifications, delivered by SNS, posted to the
//! Slack channel of event-start and event-stop.
//!
//! It also runs the watchdogs (`event_core::watch`): its own schedules invoke it at each event's
//! opening and after its end with `{"watch": {...}}`, apart from event-start and event-stop, so that
//! their failing does not silence the check.
//!
//! Each event tier has its own topic, `event-tier-<event_id>-alarms` (infra/event-tier), so the event
//! is the topic's; the control plane's topic (function errors, dead letters) posts as `control`.

use std::sync::Arc;

use aws_lambda_events::event::sns::{SnsEvent, SnsMessage};
use event_core::payload::EventId;
use event_core::slack::Notifier;
use event_core::watch::{Watch, Watchdog};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Serialize};

/// The watchdogs' dependencies: built from the environment on the first watch (forwarding an
/// alarm needs none of them, and does not fail when they cannot be built), or given (the tests).
pub struct Watchers(tokio::sync::OnceCell<Watchdog>);

impl Watchers {
    pub fn from_env() -> Self {
        Self(tokio::sync::OnceCell::new())
    }

    pub fn given(watchdog: Watchdog) -> Self {
        Self(tokio::sync::OnceCell::new_with(Some(watchdog)))
    }

    async fn get(&self) -> Result<&Watchdog, Diagnostic> {
        self.0
            .get_or_try_init(Watchdog::from_env)
            .await
            .map_err(|e| diagnostic(&e))
    }
}

/// One invocation: a watchdog's (`{"watch": {...}}`, from its schedule) or SNS's.
pub async fn dispatch(
    event: LambdaEvent<serde_json::Value>,
    deps: &Deps,
    watchers: &Watchers,
) -> Result<serde_json::Value, Diagnostic> {
    let (payload, context) = event.into_parts();
    let result = if let Some(watch) = payload.get("watch") {
        let watch: Watch = serde_json::from_value(watch.clone()).map_err(|e| {
            diagnostic(&event_core::Error::Input(event_core::InputError::Field {
                field: "watch".into(),
                reason: e.to_string(),
            }))
        })?;
        // Refused before the watchdog is built or anything is called.
        watch.validate().map_err(|e| diagnostic(&e))?;
        let arn = Some(context.invoked_function_arn.as_str()).filter(|a| !a.is_empty());
        let verdict = watchers
            .get()
            .await?
            .run(&watch, arn)
            .await
            .map_err(|e| diagnostic(&e))?;
        serde_json::to_value(verdict)
    } else {
        let sns: SnsEvent = serde_json::from_value(payload).map_err(|e| Diagnostic {
            error_type: "InvalidInput".into(),
            error_message: format!("neither a watch nor an SNS event: {e}"),
        })?;
        serde_json::to_value(handle(LambdaEvent::new(sns, context), deps).await?)
    };
    result.map_err(|e| Diagnostic {
        error_type: "Internal".into(),
        error_message: e.to_string(),
    })
}

/// The error as Lambda records it: its kind, `.Retryable` when running it again may succeed.
fn diagnostic(e: &event_core::Error) -> Diagnostic {
    Diagnostic {
        error_type: if e.is_transient() {
            format!("{}.Retryable", e.kind())
        } else {
            e.kind().to_owned()
        },
        error_message: e.to_string(),
    }
}

/// What a reason or description may take of a Slack line; CloudWatch's reasons list every datapoint.
const MAX_TEXT: usize = 400;

/// The label of notifications that come from no event's topic.
pub const CONTROL: &str = "control";

pub struct Deps {
    pub notifier: Arc<dyn Notifier>,
}

/// The part of CloudWatch's alarm notification (the SNS message, JSON) that reaches Slack. Every
/// field but the name and the new state is optional: a missing one leaves its part out.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AlarmMessage {
    alarm_name: String,
    new_state_value: String,
    #[serde(default)]
    alarm_description: Option<String>,
    #[serde(default)]
    new_state_reason: Option<String>,
    #[serde(default)]
    old_state_value: Option<String>,
}

/// One notification, as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// The event id, or [`CONTROL`].
    pub event: String,
    /// The alarm's name, or None when the message was no alarm notification.
    pub alarm: Option<String>,
    /// `ALARM`, `OK`, `INSUFFICIENT_DATA`; None when the message was no alarm notification.
    pub state: Option<String>,
    pub text: String,
}

/// What the invocation did, as its result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub posted: Vec<Notification>,
}

/// The event of a topic `arn:...:event-tier-<event_id>-alarms`, if it is an event's and the id is
/// valid; None for any other topic.
pub fn event_of_topic(topic_arn: &str) -> Option<EventId> {
    let name = topic_arn.rsplit(':').next()?;
    let id = name.strip_prefix("event-tier-")?.strip_suffix("-alarms")?;
    EventId::parse(id).ok()
}

/// The Slack text of one SNS message: an alarm's change of state, or (for anything else published
/// to the topic) its subject and text, so that nothing sent there is dropped unseen.
pub fn notification(message: &SnsMessage) -> Notification {
    let event = event_of_topic(&message.topic_arn)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|| CONTROL.to_owned());
    match serde_json::from_str::<AlarmMessage>(&message.message) {
        Ok(alarm) => {
            let icon = match alarm.new_state_value.as_str() {
                "ALARM" => ":rotating_light:",
                "OK" => ":white_check_mark:",
                _ => ":grey_question:",
            };
            let mut text = format!(
                "{icon} event-tier *{event}*: {} {}",
                alarm.new_state_value, alarm.alarm_name
            );
            if let Some(reason) = alarm.new_state_reason.as_deref().filter(|r| !r.is_empty()) {
                text.push_str(&format!(" — {}", clip(reason)));
            }
            if let Some(old) = alarm.old_state_value.as_deref().filter(|o| !o.is_empty()) {
                text.push_str(&format!(" (was {old})"));
            }
            if alarm.new_state_value == "ALARM"
                && let Some(d) = alarm.alarm_description.as_deref().filter(|d| !d.is_empty())
            {
                text.push_str(&format!("\n{}", clip(d)));
            }
            Notification {
                event,
                alarm: Some(alarm.alarm_name),
                state: Some(alarm.new_state_value),
                text,
            }
        }
        Err(_) => {
            let subject = message
                .subject
                .as_deref()
                .filter(|s| !s.is_empty())
                .unwrap_or("message");
            Notification {
                event: event.clone(),
                alarm: None,
                state: None,
                text: format!(
                    ":information_source: event-tier *{event}*: {subject} — {}",
                    clip(&message.message)
                ),
            }
        }
    }
}

/// At most [`MAX_TEXT`] characters, on one line.
fn clip(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_TEXT {
        line
    } else {
        let cut: String = line.chars().take(MAX_TEXT - 1).collect();
        format!("{cut}…")
    }
}

/// Handles one invocation: posts every record's notification. A Slack failure fails the invocation
/// (SNS invokes asynchronously: Lambda retries it, then the dead-letter queue keeps it).
pub async fn handle(event: LambdaEvent<SnsEvent>, deps: &Deps) -> Result<Outcome, Diagnostic> {
    let mut posted = Vec::new();
    for record in &event.payload.records {
        // A watchdog's page that Slack refused, published on the control topic for its other
        // subscribers: posting it again would fail again, and dead-letter an echo.
        if record
            .sns
            .message_attributes
            .contains_key(event_core::watch::PAGE_ATTRIBUTE)
        {
            lambda_runtime::tracing::info!(
                subject = record.sns.subject.as_deref().unwrap_or(""),
                "a watchdog's page on the alarm topic: not posted again"
            );
            continue;
        }
        let n = notification(&record.sns);
        lambda_runtime::tracing::info!(
            event_id = %n.event,
            alarm = n.alarm.as_deref().unwrap_or(""),
            state = n.state.as_deref().unwrap_or(""),
            "alarm notification"
        );
        deps.notifier
            .post(&n.text)
            .await
            .map_err(|e| diagnostic(&e))?;
        posted.push(n);
    }
    Ok(Outcome { posted })
}

#[cfg(test)]
mod tests;
