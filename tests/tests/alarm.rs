//! event-alarm on the local stack: an event tier's CloudWatch alarm notification, as SNS delivers it
//! (the sample `events/alarm.json`, for the test's own event), goes through the handler with the
//! webhook read from Secrets Manager (moto) to the Slack sink, naming the event, the alarm and the
//! reason; back to OK is posted too; a Slack refusal fails the invocation (so Lambda retries it)
//! without the webhook URL in the error.
//!
//! moto does not deliver SNS messages to Lambda functions (it would need Docker to run one), so the
//! test invokes the handler as Lambda would with what SNS sends.

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsEvent;
use event_tier_tests::{Stack, sample, unique_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};

/// The sample notification, re-addressed to `event`'s topic and alarm, in the state `state`.
fn notification(event: &str, state: &str, old: &str) -> SnsEvent {
    let text = sample("alarm.json")
        .to_string()
        .replace("winter-sale-2026", event);
    let mut v: Value = serde_json::from_str(&text).unwrap();
    let sns = &mut v["Records"][0]["Sns"];
    let mut message: Value = serde_json::from_str(sns["Message"].as_str().unwrap()).unwrap();
    message["NewStateValue"] = json!(state);
    message["OldStateValue"] = json!(old);
    if state == "OK" {
        message["NewStateReason"] = json!(
            "Threshold Crossed: 5 out of the last 5 datapoints were not greater than the threshold (2.0)."
        );
    }
    sns["Message"] = json!(message.to_string());
    serde_json::from_value(v).unwrap()
}

async fn deps(stack: &Stack) -> event_alarm::Deps {
    let config = event_core::config::NotifierConfig::from_vars(stack.env.clone())
        .expect("the local stack sets the webhook secret");
    let slack = event_core::slack::SlackWebhook::from_env_config(&config)
        .await
        .expect("the Slack client builds");
    event_alarm::Deps {
        notifier: Arc::new(slack),
    }
}

#[tokio::test]
async fn an_event_tiers_alarm_reaches_slack_naming_the_event_the_alarm_and_the_reason() {
    let stack = Stack::get().await;
    let deps = deps(&stack).await;
    let event = unique_event("alarm");

    let out = event_alarm::handle(
        LambdaEvent::new(notification(&event, "ALARM", "OK"), Context::default()),
        &deps,
    )
    .await
    .expect("the notification is posted");
    assert_eq!(out.posted.len(), 1);
    assert_eq!(out.posted[0].event, event);

    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].status, 200);
    let alarm = format!("event-tier-{event}-alb-p99-latency");
    assert!(
        posts[0].text.starts_with(&format!(
            ":rotating_light: event-tier *{event}*: ALARM {alarm} — Threshold Crossed: 3 out of the last 5 datapoints"
        )),
        "{}",
        posts[0].text
    );
    assert!(posts[0].text.contains("(was OK)"), "{}", posts[0].text);
    assert!(
        posts[0]
            .text
            .contains(&format!("\nEvent {event}: p99 response time")),
        "the alarm's description says what it means: {}",
        posts[0].text
    );

    // Back to OK.
    event_alarm::handle(
        LambdaEvent::new(notification(&event, "OK", "ALARM"), Context::default()),
        &deps,
    )
    .await
    .expect("the notification is posted");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(
        posts[1].text.starts_with(&format!(
            ":white_check_mark: event-tier *{event}*: OK {alarm} — Threshold Crossed: 5 out of the last 5"
        )) && posts[1].text.ends_with("(was ALARM)"),
        "{}",
        posts[1].text
    );
}

#[tokio::test]
async fn slack_refusing_an_alarm_fails_the_invocation_without_the_webhook_in_the_error() {
    let stack = Stack::get().await;
    let deps = deps(&stack).await;
    let event = unique_event("alarm-refused");
    stack
        .slack_control(
            "/_sink/fail",
            json!({ "status": 500, "count": -1, "match": event }),
        )
        .await;

    let err = event_alarm::handle(
        LambdaEvent::new(notification(&event, "ALARM", "OK"), Context::default()),
        &deps,
    )
    .await
    .expect_err("Slack answers 500 to every attempt");
    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;

    assert_eq!(err.error_type, "Slack.Retryable", "{err:?}");
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    let url = sm
        .get_secret_value()
        .secret_id(stack.var("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN"))
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_owned();
    let token = url.rsplit('/').next().unwrap();
    assert!(
        !err.error_message.contains(token) && !err.error_message.contains("/services/"),
        "the webhook URL is a secret: {}",
        err.error_message
    );
    assert_eq!(
        stack.slack(&event).len(),
        3,
        "three attempts, then the invocation fails (Lambda retries it, then dead-letters it)"
    );
}
