//! The Slack bot (a bot token configured): every message of an event goes through chat.postMessage
//! into one thread, a failure or warning is also shown in the channel, and the thread ends when the
//! tier is down. The sink answers as Slack's Web API does and records the thread of each post.

use std::io::Read;

use event_core::config::SlackBotConfig;
use event_core::payload::EventId;
use event_core::slack::Message;
use event_core::{Deadline, Status, Told};
use event_tier_tests::{Stack, unique_event};
use serde_json::json;
use sha2::{Digest, Sha256};

const CHANNEL: &str = "C0EVENTS1";

/// A bot token made for this test (never a real one), kept in moto's Secrets Manager.
async fn bot_deps(stack: &Stack, event: &str) -> (event_core::Deps, String) {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut bytes)
        .unwrap();
    let token = format!("xoxb-test-{}", hex::encode(bytes));
    let secret = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .create_secret()
        .name(format!("event-tier/slack-bot-{event}"))
        .secret_string(&token)
        .send()
        .await
        .expect("the bot token secret is made")
        .arn()
        .unwrap()
        .to_owned();
    let api_url = format!("{}/api", stack.var("EVENT_TIER_SLACK_SINK_URL"));
    let deps = stack
        .deps_with(|c| {
            c.slack_bot = Some(SlackBotConfig {
                token_secret: secret,
                channel: CHANNEL.into(),
                api_url,
            });
            c.slack_app.buttons = true;
        })
        .await;
    (deps, token)
}

async fn thread_record(stack: &Stack, event: &str) -> Option<serde_json::Value> {
    let out = stack
        .s3()
        .get_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(format!("events/{event}/slack-thread.json"))
        .send()
        .await
        .ok()?;
    let bytes = out.body.collect().await.unwrap().into_bytes();
    Some(serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_bot_keeps_an_events_messages_in_one_thread_until_the_tier_is_down() {
    let stack = Stack::get().await;
    let event = unique_event("slack-bot");
    let id = EventId::parse(&event).unwrap();
    let (deps, token) = bot_deps(&stack, &event).await;

    // A start that fails at apply: the event's first message opens its thread.
    let err = event_core::flows::start::run(
        &deps,
        json!({ "event_id": event, "vars": { "fail_apply": true } }),
        Deadline::none(),
    )
    .await
    .expect_err("the apply fails");
    assert_eq!(err.told, Told::Told, "{err}");
    let thread = thread_record(&stack, &event)
        .await
        .expect("a thread is kept");
    // A warning while the thread is open: a reply, also shown in the channel.
    deps.notifier
        .post_message(&Message {
            event: Some(&id),
            ..Message::plain(&format!(
                ":warning: event-tier *{event}*: a warning for the channel"
            ))
        })
        .await
        .unwrap();
    // The stop: a reply in the thread, which it ends.
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert_eq!(
        thread_record(&stack, &event).await,
        None,
        "the thread ended"
    );
    // The next message of the event opens a new thread.
    deps.notifier
        .post_message(&Message {
            event: Some(&id),
            ..Message::plain(&format!(
                ":information_source: event-tier *{event}*: next time"
            ))
        })
        .await
        .unwrap();

    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 4, "{posts:?}");
    let sha = hex::encode(Sha256::digest(token.as_bytes()));
    for p in &posts {
        assert_eq!(p.path, "/api/chat.postMessage", "no webhook post: {p:?}");
        assert_eq!(p.channel.as_deref(), Some(CHANNEL));
        assert_eq!(
            p.token_sha256.as_deref(),
            Some(sha.as_str()),
            "the bot's token"
        );
        assert!(p.ts.is_some(), "Slack took it: {p:?}");
        assert!(!p.text.contains(&token) && !p.blocks.to_string().contains(&token));
    }
    let first = &posts[0];
    assert!(
        first.text.contains("start failed at stage `apply`"),
        "{first:?}"
    );
    assert_eq!(
        first.buttons(),
        [(
            "Retry start".into(),
            "retry".into(),
            format!("{event}:start")
        )],
        "a failure offers to run it again"
    );
    assert_eq!(first.thread_ts, None, "the first message is in the channel");
    assert_eq!(thread["ts"].as_str(), first.ts.as_deref());
    assert_eq!(thread["channel"], CHANNEL);
    assert_eq!(posts[1].thread_ts, first.ts, "{:?}", posts[1]);
    assert!(posts[1].broadcast, "a warning is shown in the channel too");
    assert!(posts[2].text.contains("stop succeeded"), "{:?}", posts[2]);
    assert_eq!(posts[2].thread_ts, first.ts, "{:?}", posts[2]);
    assert!(!posts[2].broadcast, "a success stays in the thread");
    assert_eq!(posts[3].thread_ts, None, "a new cycle, a new thread");
    deps.notifier.end_thread(&id).await.unwrap();
}

#[tokio::test]
async fn a_refusing_web_api_is_named_in_the_result_and_the_stop_still_ends() {
    let stack = Stack::get().await;
    let event = unique_event("slack-bot-refused");
    let (deps, token) = bot_deps(&stack, &event).await;
    stack
        .slack_control(
            "/_sink/fail",
            json!({ "error": "channel_not_found", "count": -1, "match": event }),
        )
        .await;
    // Nothing was ever started: the stop finds the tier down, and tells Slack, which refuses.
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;
    assert_eq!(out.status, Status::AlreadyDown, "{out:?}");
    match &out.told {
        Told::NotTold(why) => {
            assert!(
                why.contains("chat.postMessage refused: channel_not_found"),
                "{why}"
            );
            assert!(!why.contains(&token), "the token stays out of the error");
        }
        other => panic!("Slack refused, yet {other:?}"),
    }
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "a refusal is not retried: {posts:?}");
    assert_eq!(posts[0].error.as_deref(), Some("channel_not_found"));
}
