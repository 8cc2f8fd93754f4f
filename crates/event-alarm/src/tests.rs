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
