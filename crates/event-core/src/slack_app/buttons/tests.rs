use std::time::Duration;

use super::*;
use crate::payload::EventId;
use crate::slack_app::authz::Action;

/// 2026-12-24T22:00:00Z.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_798_149_600).unwrap()
}

fn settings() -> CommandSettings {
    CommandSettings::default()
}

fn id(s: &str) -> EventId {
    EventId::parse(s).unwrap()
}

fn button_body(action_id: &str, value: &str) -> Vec<u8> {
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": { "id": "U045EF6GH", "username": "bob", "name": "bob", "team_id": "T1" },
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "1.2.3",
        "channel": { "id": "C0EVENTS", "name": "sale" },
        "response_url": "https://hooks.slack.com/actions/T1/2/xyz",
        "actions": [{ "action_id": action_id, "block_id": "b1", "type": "button",
                      "value": value, "action_ts": "1798149600.1" }]
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
        .into_bytes()
}

fn button(action_id: &str, value: &str) -> Result<Request, CommandError> {
    settings().parse(&button_body(action_id, value), now())
}

#[test]
fn buttons_become_the_same_commands() {
    let request = button("extend", "winter-sale-2026:1h").unwrap();
    assert_eq!(
        request.command,
        Command::Extend {
            event: id("winter-sale-2026"),
            by: Duration::from_secs(3600)
        }
    );
    assert_eq!(
        request.requester,
        Requester {
            user_id: "U045EF6GH".into(),
            user_name: "bob".into()
        }
    );
    assert_eq!(
        request.response_url,
        "https://hooks.slack.com/actions/T1/2/xyz"
    );
    assert_eq!(request.channel_id.as_deref(), Some("C0EVENTS"));
    assert_eq!(request.text, "extend winter-sale-2026 1h (button)");

    let sale = || id("winter-sale-2026");
    let cmd = |a: &str, v: &str| button(a, v).unwrap().command;
    assert_eq!(
        cmd("stop-now", "winter-sale-2026"),
        Command::StopNow { event: sale() }
    );
    assert_eq!(
        cmd("retry", "winter-sale-2026:start"),
        Command::Retry {
            event: sale(),
            of: RetryOf::Start
        }
    );
    assert_eq!(
        cmd("retry", "winter-sale-2026:stop"),
        Command::Retry {
            event: sale(),
            of: RetryOf::Stop
        }
    );
    assert_eq!(
        cmd("hold", "winter-sale-2026"),
        Command::Hold {
            event: sale(),
            until: now() + Duration::from_secs(3600)
        }
    );
    assert_eq!(
        cmd("retry", "winter-sale-2026:stop").action(),
        Action::Retry
    );
}

#[test]
fn buttons_that_are_not_ours_are_refused() {
    for (action, value) in [
        ("retry", "winter-sale-2026:apply"),
        ("retry", "winter-sale-2026"),
        ("stop-now", "winter-sale-2026:now"),
        ("extend", "winter-sale-2026"),
        ("delete", "winter-sale-2026"),
    ] {
        assert!(
            matches!(button(action, value), Err(CommandError::Malformed(_))),
            "{action} {value}"
        );
    }
    let err = button("extend", "winter-sale-2026:0m").unwrap_err();
    assert_eq!(
        err.to_string(),
        "button extend: `0m` is no time at all: give more than zero"
    );
    let err = button("stop-now", "Winter").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("button stop-now: `Winter` is not an event id")
    );

    let payload = serde_json::json!({ "type": "block_actions", "user": { "id": "U1" },
        "response_url": "https://h", "actions": [] });
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    assert_eq!(
        settings().parse(body.as_bytes(), now()),
        Err(CommandError::Malformed(
            "payload holds 0 actions, expected one".into()
        ))
    );
}

#[test]
fn a_button_without_a_user_name_shows_the_id() {
    let payload = serde_json::json!({ "type": "block_actions", "user": { "id": "U1" },
        "response_url": "https://h",
        "actions": [{ "action_id": "stop-now", "value": "winter-sale-2026" }] });
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let request = settings().parse(body.as_bytes(), now()).unwrap();
    assert_eq!(request.requester.user_name, "U1");
    assert_eq!(request.channel_id, None);
}

/// The buttons our messages carry (`crate::slack::Button`), clicked: each is read back as the
/// command its label names, and the ones that end something ask first.
#[test]
fn our_messages_buttons_read_back_as_their_commands() {
    use crate::slack::Button;
    use crate::slack::blocks::blocks;
    let e = id("winter-sale-2026");
    let offered = [
        Button::extend_hour(&e),
        Button::hold_past(&e, now()),
        Button::stop_now(&e),
        Button::retry(&e, RetryOf::Start),
        Button::retry(&e, RetryOf::Stop),
    ];
    let b = blocks(":x: event-tier *winter-sale-2026*: x", &[], &[], &offered);
    let actions = b
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("an actions block");
    let elements = actions["elements"].as_array().unwrap();
    let read: Vec<(String, Command, bool)> = elements
        .iter()
        .map(|el| {
            let request = button(
                el["action_id"].as_str().unwrap(),
                el["value"].as_str().unwrap(),
            )
            .unwrap();
            let label = el["text"]["text"].as_str().unwrap().to_owned();
            (label, request.command, el.get("confirm").is_some())
        })
        .collect();
    let hold_until = now() + time::Duration::HOUR;
    assert_eq!(
        read,
        vec![
            (
                "Extend 1h".into(),
                Command::Extend {
                    event: e.clone(),
                    by: Duration::from_secs(3600)
                },
                false
            ),
            (
                "Hold 1h past the end".into(),
                Command::Hold {
                    event: e.clone(),
                    until: hold_until
                },
                false
            ),
            (
                "Stop now".into(),
                Command::StopNow { event: e.clone() },
                true
            ),
            (
                "Retry start".into(),
                Command::Retry {
                    event: e.clone(),
                    of: RetryOf::Start
                },
                true
            ),
            (
                "Retry stop".into(),
                Command::Retry {
                    event: e,
                    of: RetryOf::Stop
                },
                true
            ),
        ]
    );
    // No buttons, no actions block.
    let plain = blocks(":x: event-tier *winter-sale-2026*: x", &[], &[], &[]);
    assert!(
        plain
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["type"] != "actions")
    );
}
