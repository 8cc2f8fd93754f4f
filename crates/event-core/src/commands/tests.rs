//! The app's wiring on fakes: the state bucket, Scheduler, Secrets Manager and Slack in memory.
//! The same paths run over HTTP against the local stack in `tests/tests/slack_commands.rs`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use secrecy::SecretString;

use super::*;
use crate::error::Result;
use crate::schedules::{EventSchedule, EventSchedules};
use crate::slack_app::{OverrideRecord, Policy, override_key, sign};

const SECRET: &str = "test-signing-secret-made-for-this-test";
const ALICE: &str = "U0ALICE1";
const MALLORY: &str = "U0MALLORY";

/// 2026-12-24T23:00:00Z, the scheduled end.
fn end() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_798_153_200).unwrap()
}

#[derive(Default)]
struct Fakes {
    objects: Mutex<BTreeMap<String, Vec<u8>>>,
    once: Mutex<Vec<(String, OffsetDateTime, String, String)>>,
    posts: Mutex<Vec<String>>,
    /// The buttons of each post, by label.
    buttons: Mutex<Vec<Vec<String>>>,
    /// The lead of the event's reminder schedule, in minutes; none without.
    reminder: Mutex<Option<u64>>,
}

struct Mem(Arc<Fakes>);

#[async_trait]
impl Objects for Mem {
    async fn create(&self, key: &str, body: &[u8]) -> Result<Create> {
        let mut o = self.0.objects.lock().unwrap();
        if o.contains_key(key) {
            return Ok(Create::Exists);
        }
        o.insert(key.into(), body.to_vec());
        Ok(Create::Created)
    }
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.0.objects.lock().unwrap().get(key).cloned())
    }
    async fn put(&self, key: &str, body: &[u8]) -> Result<()> {
        self.0
            .objects
            .lock()
            .unwrap()
            .insert(key.into(), body.to_vec());
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.0.objects.lock().unwrap().remove(key);
        Ok(())
    }
    async fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, String)>> {
        Ok(self
            .read(key)
            .await?
            .map(|b| (b.clone(), format!("{}", b.len()))))
    }
    async fn replace(&self, key: &str, body: &[u8], version: Option<&str>) -> Result<bool> {
        let mut o = self.0.objects.lock().unwrap();
        if o.get(key).map(|b| format!("{}", b.len())).as_deref() != version {
            return Ok(false);
        }
        o.insert(key.into(), body.to_vec());
        Ok(true)
    }
}

struct Sched(Arc<Fakes>);

#[async_trait]
impl EventSchedules for Sched {
    async fn get(&self, event: &EventId, which: Which) -> Result<Option<EventSchedule>> {
        if event.as_str() != "winter-sale-2026" {
            return Ok(None);
        }
        let (expression, target) = match which {
            Which::Start => (
                "at(2026-12-24T08:30:00)",
                "arn:aws:lambda:us-east-1:123456789012:function:event-tier-start",
            ),
            Which::Stop => (
                "at(2026-12-25T08:00:00)",
                "arn:aws:lambda:us-east-1:123456789012:function:event-tier-stop",
            ),
            Which::Remind => {
                let Some(minutes) = *self.0.reminder.lock().unwrap() else {
                    return Ok(None);
                };
                return Ok(Some(EventSchedule {
                    expression: "at(2026-12-25T07:00:00)".into(),
                    timezone: "Asia/Seoul".into(),
                    target_arn: "arn:aws:lambda:us-east-1:123456789012:function:event-tier-slack"
                        .into(),
                    input: format!(
                        r#"{{"remind":{{"event_id":"winter-sale-2026","before_end_minutes":{minutes}}}}}"#
                    ),
                }));
            }
        };
        Ok(Some(EventSchedule {
            expression: expression.into(),
            timezone: "Asia/Seoul".into(),
            target_arn: target.into(),
            input: r#"{"event_id":"winter-sale-2026","vars":{"desired_count":2}}"#.into(),
        }))
    }
    async fn once(&self, s: &OneOff<'_>) -> Result<bool> {
        let mut once = self.0.once.lock().unwrap();
        if once.iter().any(|(n, ..)| n == &s.name) {
            return Ok(false);
        }
        once.push((s.name.clone(), s.at, s.target_arn.into(), s.input.into()));
        Ok(true)
    }
}

struct Keys;

#[async_trait]
impl Secrets for Keys {
    async fn get(&self, _id: &str) -> Result<SecretString> {
        Ok(SecretString::from(SECRET))
    }
}

struct Channel(Arc<Fakes>);

#[async_trait]
impl Notifier for Channel {
    async fn post(&self, text: &str) -> Result<()> {
        self.0.posts.lock().unwrap().push(text.into());
        Ok(())
    }

    async fn post_message(&self, m: &Message<'_>) -> Result<()> {
        let blocks = crate::slack::blocks::blocks(m.text, m.fields, m.context, m.buttons);
        let labels = blocks
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().unwrap().clone())
            .map(|e| e["text"]["text"].as_str().unwrap().to_owned())
            .collect();
        self.0.buttons.lock().unwrap().push(labels);
        self.post(m.text).await
    }
}

fn app() -> (App, Arc<Fakes>) {
    let fakes = Arc::new(Fakes::default());
    let objects: Arc<dyn Objects> = Arc::new(Mem(fakes.clone()));
    let ends = Arc::new(Ends::new(Arc::new(Sched(fakes.clone())), objects.clone()));
    let settings = SlackAppConfig {
        signing_secret: Some("slack-signing".into()),
        policy: Policy::parse(&format!(
            "extend={ALICE};hold={ALICE};release={ALICE};stop-now={ALICE};retry={ALICE}"
        ))
        .unwrap()
        .in_channel("C0EVENTS"),
        extension_cap: Duration::from_secs(4 * 3600),
        buttons: true,
    };
    let app = App::new(
        settings,
        Arc::new(Keys),
        objects,
        ends,
        Arc::new(Channel(fakes.clone())),
    );
    (app, fakes)
}

fn body(user: &str, text: &str) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("command", "/event")
        .append_pair("text", text)
        .append_pair("user_id", user)
        .append_pair("user_name", if user == ALICE { "alice" } else { "mallory" })
        .append_pair("channel_id", "C0EVENTS")
        .append_pair("response_url", "http://127.0.0.1:1/response")
        .finish()
        .into_bytes()
}

async fn send(app: &App, body: &[u8], stamp: i64, now: OffsetDateTime) -> Reply {
    let signature = sign(&SecretString::from(SECRET), stamp, body);
    let stamp = stamp.to_string();
    let headers = [
        ("x-slack-request-timestamp", stamp.as_str()),
        ("x-slack-signature", signature.as_str()),
    ];
    app.handle(headers, body, now).await
}

async fn ask(app: &App, user: &str, text: &str, now: OffsetDateTime) -> Reply {
    send(app, &body(user, text), now.unix_timestamp(), now).await
}

fn record(f: &Fakes) -> Option<OverrideRecord> {
    let key = override_key(&EventId::parse("winter-sale-2026").unwrap());
    f.objects
        .lock()
        .unwrap()
        .get(&key)
        .map(|b| serde_json::from_slice(b).unwrap())
}

/// Nothing but the replay claims in the bucket, no schedule, no post.
fn unchanged(f: &Fakes) {
    assert!(record(f).is_none());
    assert!(f.once.lock().unwrap().is_empty());
    assert!(f.posts.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_extension_moves_the_end_and_is_echoed_to_the_channel() {
    let (app, f) = app();
    let now = end() - time::Duration::minutes(10);
    let reply = ask(&app, ALICE, "extend winter-sale-2026 2h", now).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.text(),
        "alice extended *winter-sale-2026* by 2h: it now ends 2026-12-25T01:00:00Z"
    );
    let r = record(&f).unwrap();
    assert_eq!((r.scheduled_end, r.extended_secs), (end(), 7200));
    assert_eq!(r.entries[0].who.user_id, ALICE);
    assert_eq!(r.entries[0].why, "/event extend winter-sale-2026 2h");
    // Before the scheduled end the stop schedule itself fires, reads the record and defers.
    assert!(f.once.lock().unwrap().is_empty());
    assert_eq!(f.posts.lock().unwrap().as_slice(), [reply.text()]);
}

#[tokio::test]
async fn past_the_cap_is_refused_with_the_cap_named() {
    let (app, f) = app();
    let now = end() - time::Duration::minutes(10);
    ask(&app, ALICE, "extend winter-sale-2026 3h", now).await;
    let reply = ask(
        &app,
        ALICE,
        "extend winter-sale-2026 2h",
        now + time::Duration::seconds(1),
    )
    .await;
    assert_eq!(
        reply.text(),
        "*winter-sale-2026* was not changed: extending by 2h would make 5h in all, past the cap of 4h per event; 1h left"
    );
    assert_eq!(record(&f).unwrap().extended_secs, 3 * 3600);
}

#[tokio::test]
async fn after_the_scheduled_end_a_change_moves_the_stop_itself() {
    let (app, f) = app();
    ask(
        &app,
        ALICE,
        "extend winter-sale-2026 1h",
        end() - time::Duration::minutes(5),
    )
    .await;
    assert!(f.once.lock().unwrap().is_empty());
    // The stop fired at the scheduled end and was deferred; now a hold moves the end again.
    let now = end() + time::Duration::minutes(5);
    let reply = ask(&app, ALICE, "hold winter-sale-2026 2h", now).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let until = now + time::Duration::hours(2);
    let once = f.once.lock().unwrap().clone();
    assert_eq!(once.len(), 1, "{once:?}");
    assert_eq!(once[0].1, until);
    assert!(once[0].2.ends_with(":function:event-tier-stop"));
    assert_eq!(
        once[0].3,
        r#"{"event_id":"winter-sale-2026","vars":{"desired_count":2}}"#
    );
}

#[tokio::test]
async fn stop_now_ends_the_event_and_runs_the_stop_within_the_minute() {
    let (app, f) = app();
    let now = end() - time::Duration::hours(3);
    let reply = ask(&app, ALICE, "stop-now winter-sale-2026", now).await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.text().contains("after the final migration"),
        "{reply:?}"
    );
    assert_eq!(record(&f).unwrap().stopped.unwrap().until, now);
    let once = f.once.lock().unwrap().clone();
    // A minute ahead: an at() already past when Scheduler gets it is not one to rely on.
    assert_eq!((once.len(), once[0].1), (1, now + SOON));
    assert!(once[0].2.ends_with(":function:event-tier-stop"));
}

#[tokio::test]
async fn status_is_open_to_anyone_and_changes_nothing() {
    let (app, f) = app();
    let now = end() - time::Duration::hours(1);
    let reply = ask(&app, MALLORY, "status winter-sale-2026", now).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "*winter-sale-2026*: no Terraform state (down); ends 2026-12-24T23:00:00Z (as scheduled); scheduled end 2026-12-24T23:00:00Z; 4h of extension left"
    );
    unchanged(&f);
}

#[tokio::test]
async fn retry_runs_the_failed_start_again() {
    let (app, f) = app();
    let now = end() - time::Duration::hours(14);
    let reply = ask(&app, ALICE, "retry", now).await;
    // `retry` is a button, not a command.
    assert!(reply.text().contains("is not a command"), "{reply:?}");
    let payload = serde_json::json!({
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice"},
        "channel": {"id": "C0EVENTS"},
        "response_url": "http://127.0.0.1:1/response",
        "actions": [{"action_id": "retry", "value": "winter-sale-2026:start"}]
    });
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let reply = send(&app, form.as_bytes(), now.unix_timestamp(), now).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let once = f.once.lock().unwrap().clone();
    assert_eq!(once.len(), 1);
    assert!(
        once[0].2.ends_with(":function:event-tier-start"),
        "{once:?}"
    );
}

#[tokio::test]
async fn forged_stale_replayed_and_unlisted_requests_change_nothing() {
    let (app, f) = app();
    let now = end() - time::Duration::minutes(10);
    let b = body(ALICE, "extend winter-sale-2026 1h");
    // Unsigned.
    assert_eq!(app.handle([], &b, now).await.status, 401);
    // Signed with another secret.
    let forged = sign(
        &SecretString::from("not-the-secret"),
        now.unix_timestamp(),
        &b,
    );
    let stamp = now.unix_timestamp().to_string();
    let headers = [
        ("X-Slack-Request-Timestamp", stamp.as_str()),
        ("X-Slack-Signature", forged.as_str()),
    ];
    assert_eq!(app.handle(headers, &b, now).await.status, 401);
    // Six minutes old.
    assert_eq!(
        send(&app, &b, now.unix_timestamp() - 360, now).await.status,
        401
    );
    // Not on the allow-list.
    let reply = ask(&app, MALLORY, "extend winter-sale-2026 1h", now).await;
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.text().contains("may not extend"), "{reply:?}");
    unchanged(&f);
    // The first delivery acts; the same signed request again is a replay.
    assert_eq!(send(&app, &b, now.unix_timestamp(), now).await.status, 200);
    let replay = send(
        &app,
        &b,
        now.unix_timestamp(),
        now + time::Duration::seconds(2),
    )
    .await;
    assert_eq!(replay.status, 401, "{replay:?}");
    assert_eq!(
        record(&f).unwrap().extended_secs,
        3600,
        "the replay extended again"
    );
}

mod remind;
