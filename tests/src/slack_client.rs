//! Slack as the Slack app sees it, for the tests and the demo: a signing secret made for the run
//! (kept in moto's Secrets Manager), the event's stop schedule in moto's Scheduler, and requests
//! signed as Slack signs them (`v0:timestamp:body`, HMAC-SHA256), posted over HTTP to event-slack's
//! function URL under `cargo lambda watch`.

use std::io::Read;

use aws_sdk_scheduler::types::{FlexibleTimeWindow, FlexibleTimeWindowMode, Target};
use event_core::slack_app::{OverrideRecord, sign};
use secrecy::SecretString;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::Stack;

/// The role the one-off schedules run as (moto checks nothing of it).
pub const ROLE: &str = "arn:aws:iam::123456789012:role/event-tier-follow-up";
/// The stop function the event's schedule targets.
pub const STOP_FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-tier-stop";
/// The Slack app, which the event's reminder schedule targets.
pub const SLACK_FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-tier-slack";
/// The lead of the event's reminder schedule, in minutes (the events map's default).
pub const REMIND_MINUTES: u64 = 60;

/// The payload of a reminder `minutes` before the end of `event`.
pub fn reminder(event: &str, minutes: u64) -> Value {
    json!({ "remind": { "event_id": event, "before_end_minutes": minutes } })
}

/// The Slack app's side of one event on the local stack.
pub struct SlackApp {
    secret: SecretString,
    pub secret_arn: String,
    pub events_group: String,
    pub once_group: String,
}

impl SlackApp {
    /// A signing secret, the event's schedule groups, and its stop schedule ending at `end` (UTC).
    pub async fn prepare(stack: &Stack, event: &str, end: OffsetDateTime) -> SlackApp {
        let mut bytes = [0u8; 16];
        std::fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut bytes)
            .unwrap();
        let run = hex::encode(&bytes[..4]);
        let secret = format!("signing-{}", hex::encode(bytes));
        // Named per run: a kept-up stack (make local-up) sees the same event again.
        let secret_arn = aws_sdk_secretsmanager::Client::new(&stack.sdk)
            .create_secret()
            .name(format!("event-tier/slack-signing-{event}-{run}"))
            .secret_string(&secret)
            .send()
            .await
            .expect("the signing secret is made")
            .arn()
            .unwrap()
            .to_owned();
        let client = aws_sdk_scheduler::Client::new(&stack.sdk);
        let (events_group, once_group) = (format!("{event}-ev-{run}"), format!("{event}-1x-{run}"));
        for g in [&events_group, &once_group] {
            client.create_schedule_group().name(g).send().await.unwrap();
        }
        // Its stop at `end`, and its reminder an hour before (as infra/control makes them).
        for (name, at, target, input) in [
            (
                format!("{event}-stop"),
                end,
                STOP_FN,
                json!({ "event_id": event, "vars": {} }),
            ),
            (
                format!("{event}-remind"),
                end - time::Duration::minutes(REMIND_MINUTES as i64),
                SLACK_FN,
                reminder(event, REMIND_MINUTES),
            ),
        ] {
            make_schedule(&client, &events_group, &name, at, target, &input).await;
        }
        SlackApp {
            secret: SecretString::from(secret),
            secret_arn,
            events_group,
            once_group,
        }
    }

    /// The settings event-slack runs with, `allow` being its allow-lists.
    pub fn env<'a>(&'a self, allow: &'a str, cap_minutes: &'a str) -> [(&'a str, &'a str); 6] {
        [
            (
                "EVENT_TIER_SLACK_SIGNING_SECRET_ARN",
                self.secret_arn.as_str(),
            ),
            ("EVENT_TIER_SLACK_ALLOW", allow),
            ("EVENT_TIER_SLACK_EXTENSION_CAP_MINUTES", cap_minutes),
            (
                "EVENT_TIER_EVENTS_SCHEDULE_GROUP",
                self.events_group.as_str(),
            ),
            ("EVENT_TIER_FOLLOW_UP_ROLE_ARN", ROLE),
            (
                "EVENT_TIER_FOLLOW_UP_SCHEDULE_GROUP",
                self.once_group.as_str(),
            ),
        ]
    }

    /// The signed samples of `local/slack_samples.py` (`make slack-samples`) for `event` and
    /// `user`, signed now with this app's secret, in `dir`: `dir/slack-<kind>.json`.
    pub fn samples(&self, dir: &std::path::Path, event: &str, user: &str) {
        use secrecy::ExposeSecret;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let secret_file = dir.join("signing-secret");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&secret_file)
            .unwrap();
        std::io::Write::write_all(&mut f, self.secret.expose_secret().as_bytes()).unwrap();
        let out = std::process::Command::new(crate::root().join(".local/venv/bin/python"))
            .arg(crate::root().join("local/slack_samples.py"))
            .arg("--secret-file")
            .arg(&secret_file)
            .arg("--out-dir")
            .arg(dir)
            .args(["--event", event, "--user", user])
            .output()
            .expect("local/slack_samples.py runs");
        std::fs::remove_file(&secret_file).unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The `X-Slack-Signature` Slack would send for `body` at `stamp`.
    pub fn sign(&self, body: &str, stamp: i64) -> String {
        sign(&self.secret, stamp, body.as_bytes())
    }

    /// `body` signed now and posted: the status and the JSON answer.
    pub async fn send(&self, url: &str, body: &str) -> (u16, Value) {
        let stamp = OffsetDateTime::now_utc().unix_timestamp();
        post(url, body, Some(stamp), Some(&self.sign(body, stamp))).await
    }
}

/// An `at()` schedule of the events' group, as infra/control makes it.
async fn make_schedule(
    client: &aws_sdk_scheduler::Client,
    group: &str,
    name: &str,
    at: OffsetDateTime,
    target: &str,
    input: &Value,
) {
    client
        .create_schedule()
        .name(name)
        .group_name(group)
        .schedule_expression(event_core::followup::at_expression(
            at.unix_timestamp() as u64
        ))
        .schedule_expression_timezone("UTC")
        .flexible_time_window(
            FlexibleTimeWindow::builder()
                .mode(FlexibleTimeWindowMode::Off)
                .build()
                .unwrap(),
        )
        .target(
            Target::builder()
                .arn(target)
                .role_arn(ROLE)
                .input(input.to_string())
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("the schedule {name} is made: {e:?}"));
}

/// event-slack's function URL under the watch listening on `port`.
pub fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}/lambda-url/event-slack/")
}

/// A slash command's form body, as Slack sends it.
pub fn form(user_id: &str, user_name: &str, text: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("command", "/event")
        .append_pair("text", text)
        .append_pair("user_id", user_id)
        .append_pair("user_name", user_name)
        .append_pair("response_url", "http://127.0.0.1:9/response")
        .finish()
}

/// A click on one of our messages' buttons, as Slack sends it: a form whose `payload` is the
/// `block_actions` JSON.
pub fn button_form(user_id: &str, user_name: &str, action_id: &str, value: &str) -> String {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user_id, "username": user_name },
        "channel": { "id": "C0LOCAL01" },
        "response_url": "http://127.0.0.1:9/response",
        "actions": [{ "action_id": action_id, "type": "button", "value": value }],
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
}

/// Posts `body` with the given Slack headers: the status and the JSON answer.
pub async fn post(
    url: &str,
    body: &str,
    stamp: Option<i64>,
    signature: Option<&str>,
) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned());
    if let Some(s) = stamp {
        req = req.header("X-Slack-Request-Timestamp", s.to_string());
    }
    if let Some(s) = signature {
        req = req.header("X-Slack-Signature", s);
    }
    let res = req.send().await.expect("the function URL answers");
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The one-off schedules of `group`: (expression, target, input).
pub async fn one_offs(stack: &Stack, group: &str) -> Vec<(String, String, String)> {
    let client = aws_sdk_scheduler::Client::new(&stack.sdk);
    let list = client
        .list_schedules()
        .group_name(group)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for s in list.schedules() {
        let got = client
            .get_schedule()
            .group_name(group)
            .name(s.name().unwrap())
            .send()
            .await
            .unwrap();
        let t = got.target().unwrap();
        out.push((
            got.schedule_expression().unwrap().to_owned(),
            t.arn().to_owned(),
            t.input().unwrap_or_default().to_owned(),
        ));
    }
    out
}

/// The event's override record in the state bucket.
pub async fn override_record(stack: &Stack, event: &str) -> Option<OverrideRecord> {
    let out = stack
        .s3()
        .get_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(format!("events/{event}/override.json"))
        .send()
        .await
        .ok()?;
    Some(serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).unwrap())
}
