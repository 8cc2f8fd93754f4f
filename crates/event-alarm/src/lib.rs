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
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// CloudWatch's notification of an alarm going to ALARM, as SNS delivers it to Lambda.
    fn sns_event(topic: &str, message: &str) -> SnsEvent {
        serde_json::from_value(serde_json::json!({
            "Records": [{
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": format!("{topic}:5f1d3c0e-0000-4000-8000-000000000000"),
                "Sns": {
                    "Type": "Notification",
                    "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                    "TopicArn": topic,
                    "Subject": "ALARM: \"event-tier-winter-sale-2026-alb-p99-latency\" in US East (N. Virginia)",
                    "Message": message,
                    "Timestamp": "2026-12-19T09:12:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {}
                }
            }]
        }))
        .unwrap()
    }

    fn alarm(state: &str, old: &str) -> String {
        serde_json::json!({
            "AlarmName": "event-tier-winter-sale-2026-alb-p99-latency",
            "AlarmDescription": "Event winter-sale-2026: p99 response time of the event's tasks above 2 s in 3 of the last 5 minutes.",
            "AWSAccountId": "123456789012",
            "NewStateValue": state,
            "NewStateReason": "Threshold Crossed: 3 out of the last 5 datapoints [2.7 (19/12/26 09:11:00), 2.5 (19/12/26 09:10:00)] were greater than the threshold (2.0).",
            "StateChangeTime": "2026-12-19T09:12:00.000+0000",
            "Region": "US East (N. Virginia)",
            "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:event-tier-winter-sale-2026-alb-p99-latency",
            "OldStateValue": old,
            "Trigger": { "MetricName": "TargetResponseTime", "Namespace": "AWS/ApplicationELB", "ExtendedStatistic": "p99", "Period": 60, "EvaluationPeriods": 5, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 2.0 }
        })
        .to_string()
    }

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:event-tier-winter-sale-2026-alarms";

    #[test]
    fn the_event_is_the_topics() {
        assert_eq!(event_of_topic(TOPIC).unwrap().as_str(), "winter-sale-2026");
        assert!(event_of_topic("arn:aws:sns:us-east-1:123456789012:event-alarms").is_none());
        // A name that only looks like an event's: the id must be a valid event id.
        assert!(
            event_of_topic("arn:aws:sns:us-east-1:123456789012:event-tier-Bad_Id-alarms").is_none()
        );
    }

    #[test]
    fn an_alarm_names_the_event_the_alarm_and_the_reason() {
        let n = notification(&sns_event(TOPIC, &alarm("ALARM", "OK")).records[0].sns);
        assert_eq!(n.event, "winter-sale-2026");
        assert_eq!(n.state.as_deref(), Some("ALARM"));
        assert_eq!(
            n.text,
            ":rotating_light: event-tier *winter-sale-2026*: ALARM event-tier-winter-sale-2026-alb-p99-latency \
             — Threshold Crossed: 3 out of the last 5 datapoints [2.7 (19/12/26 09:11:00), 2.5 (19/12/26 09:10:00)] \
             were greater than the threshold (2.0). (was OK)\n\
             Event winter-sale-2026: p99 response time of the event's tasks above 2 s in 3 of the last 5 minutes."
        );
    }

    #[test]
    fn back_to_ok_is_posted_without_the_description() {
        let n = notification(&sns_event(TOPIC, &alarm("OK", "ALARM")).records[0].sns);
        assert!(
            n.text.starts_with(
                ":white_check_mark: event-tier *winter-sale-2026*: OK event-tier-winter-sale-2026-alb-p99-latency — "
            ),
            "{}",
            n.text
        );
        assert!(n.text.ends_with("(was ALARM)"), "{}", n.text);
    }

    #[test]
    fn a_control_plane_alarm_posts_as_control() {
        let message = serde_json::json!({
            "AlarmName": "event-start-errors", "NewStateValue": "ALARM",
            "NewStateReason": "Threshold Crossed: 1 datapoint [1.0] was greater than the threshold (0.0).",
            "AlarmDescription": null
        })
        .to_string();
        let n = notification(
            &sns_event("arn:aws:sns:us-east-1:123456789012:event-alarms", &message).records[0].sns,
        );
        assert_eq!(
            n.text,
            ":rotating_light: event-tier *control*: ALARM event-start-errors — Threshold Crossed: 1 datapoint [1.0] \
             was greater than the threshold (0.0)."
        );
    }

    #[test]
    fn anything_else_on_the_topic_is_posted_as_is_clipped() {
        let long = "x".repeat(1000);
        let n = notification(&sns_event(TOPIC, &long).records[0].sns);
        assert!(n.alarm.is_none());
        assert!(
            n.text
                .starts_with(":information_source: event-tier *winter-sale-2026*: ALARM: "),
            "{}",
            n.text
        );
        assert!(n.text.chars().count() < 600, "clipped: {}", n.text.len());
    }

    #[derive(Default)]
    struct Sink {
        posts: Mutex<Vec<String>>,
        fail: bool,
    }

    #[async_trait::async_trait]
    impl Notifier for Sink {
        async fn post(&self, text: &str) -> event_core::error::Result<()> {
            if self.fail {
                return Err(event_core::Error::Slack("post failed: HTTP 500".into()));
            }
            self.posts.lock().unwrap().push(text.to_owned());
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_handler_posts_each_record_and_fails_retryably_when_slack_does() {
        let sink = Arc::new(Sink::default());
        let deps = Deps {
            notifier: sink.clone(),
        };
        let event = LambdaEvent::new(
            sns_event(TOPIC, &alarm("ALARM", "OK")),
            lambda_runtime::Context::default(),
        );
        let out = handle(event, &deps).await.unwrap();
        assert_eq!(out.posted.len(), 1);
        assert_eq!(
            sink.posts.lock().unwrap().clone(),
            vec![out.posted[0].text.clone()]
        );

        let failing = Deps {
            notifier: Arc::new(Sink {
                fail: true,
                ..Sink::default()
            }),
        };
        let event = LambdaEvent::new(
            sns_event(TOPIC, &alarm("ALARM", "OK")),
            lambda_runtime::Context::default(),
        );
        let err = handle(event, &failing).await.unwrap_err();
        assert_eq!(err.error_type, "Slack.Retryable");
    }

    #[tokio::test]
    async fn dispatch_sends_sns_to_slack_and_refuses_a_bad_watch_before_building_the_watchdog() {
        let sink = Arc::new(Sink::default());
        let deps = Deps {
            notifier: sink.clone(),
        };
        // Built from the environment on first use: this test's environment has none of it, so a
        // watch that got as far as building the watchdog would fail with a configuration error.
        let watchers = Watchers::from_env();
        let sns = serde_json::to_value(sns_event(TOPIC, &alarm("ALARM", "OK"))).unwrap();
        let out = dispatch(
            LambdaEvent::new(sns, lambda_runtime::Context::default()),
            &deps,
            &watchers,
        )
        .await
        .unwrap();
        assert_eq!(
            out["posted"][0]["alarm"],
            "event-tier-winter-sale-2026-alb-p99-latency"
        );
        assert_eq!(sink.posts.lock().unwrap().len(), 1);
        for (watch, says) in [
            (
                serde_json::json!({ "event_id": "Winter_Sale", "expect": "ready" }),
                "event_id",
            ),
            (
                serde_json::json!({ "event_id": "winter-sale", "expect": "open" }),
                "`watch` unknown variant `open`",
            ),
        ] {
            let e = dispatch(
                LambdaEvent::new(
                    serde_json::json!({ "watch": watch }),
                    lambda_runtime::Context::default(),
                ),
                &deps,
                &watchers,
            )
            .await
            .unwrap_err();
            assert_eq!(e.error_type, "InvalidInput", "{}", e.error_message);
            assert!(e.error_message.contains(says), "{}", e.error_message);
        }
        assert_eq!(
            sink.posts.lock().unwrap().len(),
            1,
            "nothing posted for bad input"
        );
    }

    #[tokio::test]
    async fn a_watchdogs_page_echoed_by_the_alarm_topic_is_not_posted_again() {
        let sink = Arc::new(Sink {
            fail: true,
            ..Sink::default()
        });
        let deps = Deps {
            notifier: sink.clone(),
        };
        let mut event = sns_event(TOPIC, "the page");
        event.records[0].sns.message_attributes.insert(
            event_core::watch::PAGE_ATTRIBUTE.into(),
            serde_json::from_value(serde_json::json!({ "Type": "String", "Value": "watchdog" }))
                .unwrap(),
        );
        let out = handle(
            LambdaEvent::new(event, lambda_runtime::Context::default()),
            &deps,
        )
        .await
        .expect("not posted, so not failed");
        assert!(out.posted.is_empty(), "{out:?}");
    }

    #[test]
    fn the_sample_payload_parses() {
        let bytes = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/alarm.json"
        ))
        .unwrap();
        let event: SnsEvent = serde_json::from_slice(&bytes).unwrap();
        let n = notification(&event.records[0].sns);
        assert_eq!(n.event, "winter-sale-2026");
        assert_eq!(n.state.as_deref(), Some("ALARM"));
    }
}
