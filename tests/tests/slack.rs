//! A failing Slack never hides an outcome: retries are bounded, a success stays a success, and a
//! failure's own error stays the function's result. The sink fails only posts naming the test's event.

use std::time::{Duration, Instant};

use event_core::{Deadline, Status};
use event_tier_tests::{Stack, unique_event};
use serde_json::json;

async fn stop(deps: &event_core::Deps, event: &str) {
    let out = event_core::flows::stop::run(deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert!(matches!(out.status, Status::Destroyed), "{out:?}");
}

#[tokio::test]
async fn slack_answering_500_is_retried_three_times_and_the_start_still_succeeds() {
    let stack = Stack::get().await;
    // With the Slack app set up: the messages carry its buttons.
    let deps = stack.deps_with(|c| c.slack_app.buttons = true).await;
    let event = unique_event("slack-500");
    stack
        .slack_control(
            "/_sink/fail",
            json!({ "status": 500, "count": -1, "match": event }),
        )
        .await;

    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("a Slack outage does not fail the start");
    assert_eq!(out.status, Status::Applied);
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 3, "three attempts, no more: {posts:?}");
    assert!(
        posts
            .iter()
            .all(|p| p.status == 500 && p.text.contains("start succeeded"))
    );
    // Terraform's time is recorded in the module's history, and told against it.
    let run = out.run_id.clone().expect("the apply's run");
    let mine = history_of(&stack, &deps, run.as_str()).await;
    assert!(
        mine.terraform_ms > 0 && mine.event == event && mine.action == "apply",
        "{mine:?}"
    );
    // With its stages, as the runner timed them: they add up to Terraform's time.
    let stages: Vec<&str> = mine.stages.keys().map(String::as_str).collect();
    assert_eq!(stages, ["apply", "init", "plan"], "{mine:?}");
    let sum: u64 = mine.stages.values().sum();
    assert!(
        sum <= mine.terraform_ms && sum + 1000 >= mine.terraform_ms,
        "{mine:?}"
    );
    // And the lead time a start needs, as JSON that infra/control's data source can read.
    let lead = stack
        .s3()
        .get_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(event_core::history::LEAD_KEY)
        .send()
        .await
        .expect("the learned lead time is written");
    assert_eq!(lead.content_type(), Some("application/json"));
    let lead: serde_json::Value =
        serde_json::from_slice(&lead.body.collect().await.unwrap().into_bytes()).unwrap();
    assert!(lead["lead_time_minutes"].as_f64().unwrap() > 0.0, "{lead}");
    assert!(
        posts[0].text.contains("; terraform ") && posts[0].text.contains("of this module)"),
        "{}",
        posts[0].text
    );
    // The tier is up: the message offers to keep it longer or to stop it.
    assert_eq!(
        posts[0].buttons(),
        [
            ("Extend 1h".into(), "extend".into(), format!("{event}:1h")),
            ("Stop now".into(), "stop-now".into(), event.clone()),
        ]
    );

    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;
    stop(&deps, &event).await;
    let posts = stack.slack(&event);
    let stopped = posts.last().unwrap();
    assert!(stopped.text.contains("stop succeeded"), "{stopped:?}");
    assert_eq!(
        stopped.buttons(),
        [],
        "nothing to do about a tier that is down"
    );
    assert!(stopped.text.contains("; terraform "), "{}", stopped.text);
}

/// The run `run` in the history of the stack's event tier module.
async fn history_of(
    stack: &Stack,
    deps: &event_core::Deps,
    run: &str,
) -> event_core::history::Sample {
    let out = stack
        .s3()
        .get_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(event_core::history::key(&deps.module.hash()))
        .send()
        .await
        .expect("the module's history is kept");
    let body = out.body.collect().await.unwrap().into_bytes();
    let history: event_core::history::History = serde_json::from_slice(&body).unwrap();
    history
        .runs
        .into_iter()
        .find(|s| s.run == run)
        .unwrap_or_else(|| panic!("run {run} is not in the history"))
}

#[tokio::test]
async fn slack_down_during_a_failure_keeps_the_original_error_as_the_result() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("slack-down-fail");
    stack
        .slack_control(
            "/_sink/fail",
            json!({ "status": 503, "count": -1, "match": event }),
        )
        .await;

    let err = event_core::flows::start::run(
        &deps,
        json!({ "event_id": event, "vars": { "fail_apply": true } }),
        Deadline::none(),
    )
    .await
    .expect_err("the apply fails");
    assert_eq!(err.stage, event_core::Stage::Apply, "{err}");
    assert!(
        err.to_string().contains("terraform apply exited 1"),
        "the apply's error, not Slack's: {err}"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 3, "{posts:?}");
    assert!(
        posts[0]
            .text
            .contains("simulated failure of the event tier")
    );

    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;
    stop(&deps, &event).await;
}

#[tokio::test]
async fn slack_refusing_the_message_with_4xx_is_not_retried() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("slack-400");
    stack
        .slack_control(
            "/_sink/fail",
            json!({ "status": 400, "count": -1, "match": event }),
        )
        .await;
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::Applied);
    let posts = stack.slack(&event);
    assert_eq!(
        posts.len(),
        1,
        "a 400 will not get better by retrying: {posts:?}"
    );
    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;
    stop(&deps, &event).await;
}

/// The webhook URL, as Secrets Manager would hand it over.
struct Url(String);

#[async_trait::async_trait]
impl event_core::secrets::Secrets for Url {
    async fn get(&self, _: &str) -> event_core::error::Result<secrecy::SecretString> {
        Ok(secrecy::SecretString::from(self.0.clone()))
    }
}

#[tokio::test]
async fn slow_slack_is_cut_off_by_the_timeout_and_the_url_stays_out_of_the_error() {
    use event_core::slack::{Notifier, SlackWebhook};
    let stack = Stack::get().await;
    let event = unique_event("slack-slow");
    stack
        .slack_control("/_sink/delay", json!({ "seconds": 5, "match": event }))
        .await;
    let url = format!(
        "{}/services/T0/B0/secret-token-{event}",
        stack.var("EVENT_TIER_SLACK_SINK_URL")
    );
    let slack = SlackWebhook::new(
        std::sync::Arc::new(Url(url)),
        "arn:hook".into(),
        Duration::from_millis(500),
    )
    .unwrap();
    let started = Instant::now();
    let err = slack
        .post(&format!("event-tier *{event}*: hello"))
        .await
        .expect_err("every attempt times out");
    let took = started.elapsed();
    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;
    let msg = err.to_string();
    assert!(
        msg.contains("timed out") || msg.contains("timeout"),
        "{msg}"
    );
    assert!(
        !msg.contains("secret-token"),
        "the webhook URL is a secret: {msg}"
    );
    assert!(
        took < Duration::from_secs(5),
        "no attempt waited for the slow answer: {took:?}"
    );
}
