//! The Slack app as Slack calls it: event-slack under `cargo lambda watch`, reached over HTTP at its
//! function URL, with requests signed as Slack signs them (a signing secret made for the test, kept
//! in moto's Secrets Manager). The effects are checked where an operator would look: the override
//! record in the state bucket, the one-off schedules in moto's Scheduler, the Slack sink. And
//! event-stop obeying a moved end: deferred while extended, not delayed by an expired hold.

use event_core::slack_app::{OverrideRecord, sign};
use event_core::{Deadline, Status};
use event_tier_tests::slack_client::{
    REMIND_MINUTES, ROLE, SLACK_FN, STOP_FN, SlackApp, button_form, form as slack_form, one_offs,
    override_record, post, reminder, url,
};
use event_tier_tests::watch::{Functions, Watch};
use event_tier_tests::{Stack, root, unique_event};
use secrecy::SecretString;
use serde_json::json;
use time::OffsetDateTime;

const ALICE: &str = "U0ALICE1";
const MALLORY: &str = "U0MALLORY";

fn form(user: &str, text: &str) -> String {
    slack_form(user, if user == ALICE { "alice" } else { "mallory" }, text)
}

#[tokio::test]
async fn slack_requests_change_the_end_only_when_signed_fresh_once_and_allowed() {
    let stack = Stack::get().await;
    let event = unique_event("slack-cmd");
    let end = OffsetDateTime::now_utc() + time::Duration::minutes(30);
    let end = end.replace_nanosecond(0).unwrap();
    let app = SlackApp::prepare(&stack, &event, end).await;
    let once_group = app.once_group.clone();
    let allow = format!("extend={ALICE};hold={ALICE};release={ALICE};stop-now={ALICE}");
    std::fs::create_dir_all(root().join(".local/logs")).unwrap();
    let log = root().join(format!(
        ".local/logs/slack-commands-{}.log",
        std::process::id()
    ));
    let watch = Watch::start(&app.env(&allow, "120"), &log, true, Functions::Built);
    let url = url(watch.port);
    let signed = |body: &str, stamp: i64| app.sign(body, stamp);
    let now = || OffsetDateTime::now_utc().unix_timestamp();

    // Refused, and nothing changes: unsigned, signed with another secret, stale, not allowed.
    let extend = form(ALICE, &format!("extend {event} 1h"));
    let (status, _) = post(&url, &extend, None, None).await;
    assert_eq!(status, 401, "unsigned");
    let forged = sign(
        &SecretString::from("not-the-secret"),
        now(),
        extend.as_bytes(),
    );
    assert_eq!(
        post(&url, &extend, Some(now()), Some(&forged)).await.0,
        401,
        "forged"
    );
    let old = now() - 400;
    assert_eq!(
        post(&url, &extend, Some(old), Some(&signed(&extend, old)))
            .await
            .0,
        401,
        "stale"
    );
    let by_mallory = form(MALLORY, &format!("extend {event} 1h"));
    let t = now();
    let (status, body) = post(&url, &by_mallory, Some(t), Some(&signed(&by_mallory, t))).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body["text"].as_str().unwrap().contains("may not extend"),
        "{body}"
    );
    assert!(override_record(&stack, &event).await.is_none());
    assert!(stack.slack(&event).is_empty());

    // Alice extends by an hour: the record says so, the channel is told; the same request again
    // is a replay.
    let t = now();
    let sig = signed(&extend, t);
    let (status, body) = post(&url, &extend, Some(t), Some(&sig)).await;
    assert_eq!(status, 200, "{body}");
    let new_end = event_core::slack_app::rfc3339(end + time::Duration::hours(1));
    assert_eq!(
        body["text"],
        format!("alice extended *{event}* by 1h: it now ends {new_end}")
    );
    let record = override_record(&stack, &event)
        .await
        .expect("the record is kept");
    assert_eq!((record.scheduled_end, record.extended_secs), (end, 3600));
    assert_eq!(record.entries[0].who.user_id, ALICE);
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].text, body["text"].as_str().unwrap());
    assert_eq!(
        post(&url, &extend, Some(t), Some(&sig)).await.0,
        401,
        "replay"
    );
    assert_eq!(
        override_record(&stack, &event).await.unwrap().extended_secs,
        3600
    );

    // Past the cap of two hours: refused, with the cap named.
    let more = form(ALICE, &format!("extend {event} 90m"));
    let t = now();
    let (_, body) = post(&url, &more, Some(t), Some(&signed(&more, t))).await;
    assert_eq!(
        body["text"],
        format!(
            "*{event}* was not changed: extending by 1h30m would make 2h30m in all, past the cap of 2h per event; 1h left"
        )
    );

    // Anyone may ask the status.
    let status_req = form(MALLORY, &format!("status {event}"));
    let t = now();
    let (status, body) = post(&url, &status_req, Some(t), Some(&signed(&status_req, t))).await;
    assert_eq!(status, 200);
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains(&format!("ends {new_end} (extended by 1h in all)")),
        "{body}"
    );

    // The samples of `make slack-samples`, through `cargo lambda invoke --data-file`: the status
    // is answered; the same signed sample again is a replay.
    let samples = root().join(format!(".local/slack-samples-{}", std::process::id()));
    app.samples(&samples, &event, ALICE);
    let status_sample = samples.join("slack-status.json");
    let status_sample = status_sample.to_str().unwrap();
    let answer = watch.invoke("event-slack", status_sample).unwrap();
    assert_eq!(answer["statusCode"], 200, "{answer}");
    let text: serde_json::Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert!(
        text["text"]
            .as_str()
            .unwrap()
            .contains(&format!("ends {new_end}")),
        "{text}"
    );
    let again = watch.invoke("event-slack", status_sample).unwrap();
    assert_eq!(again["statusCode"], 401, "a replay: {again}");
    std::fs::remove_dir_all(&samples).unwrap();

    // The extension moved the reminder to an hour before the new end, which is the old end.
    let reminder_at = event_core::followup::at_expression(end.unix_timestamp() as u64);
    let moved = (
        reminder_at.clone(),
        SLACK_FN.to_owned(),
        reminder(&event, REMIND_MINUTES).to_string(),
    );
    assert_eq!(
        one_offs(&stack, &once_group).await,
        std::slice::from_ref(&moved)
    );

    // The reminder as its schedule invokes the function: an hour ahead, the end (1h30m off) is
    // not due, and the reminder comes back at the same time (one schedule).
    let out = watch
        .invoke_json("event-slack", &reminder(&event, REMIND_MINUTES))
        .unwrap();
    assert_eq!(out["outcome"], "moved", "{out}");
    assert_eq!(
        one_offs(&stack, &once_group).await,
        std::slice::from_ref(&moved)
    );
    // Two hours ahead it is due: posted once, with the buttons to act on it.
    let out = watch
        .invoke_json("event-slack", &reminder(&event, 120))
        .unwrap();
    assert_eq!(out["outcome"], "posted", "{out}");
    assert_eq!(out["end"], new_end.as_str());
    let again = watch
        .invoke_json("event-slack", &reminder(&event, 120))
        .unwrap();
    assert_eq!(again["outcome"], "nothing", "{again}");
    let posts = stack.slack(&event);
    let reminded: Vec<_> = posts
        .iter()
        .filter(|p| p.text.contains(":alarm_clock:"))
        .collect();
    assert_eq!(reminded.len(), 1, "{posts:?}");
    assert!(
        reminded[0]
            .text
            .contains(&format!("the tier is destroyed at {new_end}")),
        "{:?}",
        reminded[0]
    );
    let labels: Vec<String> = reminded[0].buttons().into_iter().map(|b| b.0).collect();
    assert_eq!(labels, ["Extend 1h", "Hold 1h past the end", "Stop now"]);
    // A payload that is not a reminder's is refused by name, before anything is read.
    let bad = watch
        .invoke_json(
            "event-slack",
            &json!({ "remind": { "event_id": event, "before_end_minutes": 0 } }),
        )
        .unwrap_err();
    assert!(
        bad.contains("InvalidInput") && bad.contains("`remind.before_end_minutes` must be from 1"),
        "{bad}"
    );

    // The "Hold" button of a message, clicked: a hold of an hour (inside the extended end, so the
    // end stays), recorded with who clicked; "Retry" is refused, Alice not being on its list.
    let hold = button_form(ALICE, "alice", "hold", &event);
    let t = now();
    let (status, body) = post(&url, &hold, Some(t), Some(&signed(&hold, t))).await;
    assert_eq!(status, 200, "{body}");
    let held = override_record(&stack, &event).await.unwrap();
    assert_eq!(
        held.hold.as_ref().map(|h| h.who.user_id.as_str()),
        Some(ALICE),
        "{held:?}"
    );
    assert!(
        held.entries.last().unwrap().why.contains("(button)"),
        "{held:?}"
    );
    let retry = button_form(ALICE, "alice", "retry", &format!("{event}:start"));
    let t = now();
    let (status, body) = post(&url, &retry, Some(t), Some(&signed(&retry, t))).await;
    assert_eq!(status, 403, "{body}");

    // stop-now: the event's own stop, with its own payload (no force), a minute later.
    let stop_now = form(ALICE, &format!("stop-now {event}"));
    let t = now();
    let (status, body) = post(&url, &stop_now, Some(t), Some(&signed(&stop_now, t))).await;
    assert_eq!(status, 200, "{body}");
    let once: Vec<_> = one_offs(&stack, &once_group)
        .await
        .into_iter()
        .filter(|o| o != &moved)
        .collect();
    assert_eq!(once.len(), 1, "{once:?}");
    assert_eq!(once[0].1, STOP_FN);
    assert_eq!(
        once[0].2,
        json!({ "event_id": event, "vars": {} }).to_string()
    );
    // A stopped event is not reminded any more.
    let out = watch
        .invoke_json("event-slack", &reminder(&event, 120))
        .unwrap();
    assert_eq!(out["outcome"], "nothing", "{out}");
    assert!(
        out["detail"]
            .as_str()
            .unwrap()
            .contains("stopped from Slack"),
        "{out}"
    );
    assert!(
        override_record(&stack, &event)
            .await
            .unwrap()
            .stopped
            .is_some()
    );
}

#[tokio::test]
async fn a_stop_waits_for_an_extended_end_and_not_for_an_expired_hold() {
    let stack = Stack::get().await;
    let event = unique_event("slack-end");
    // The schedule's end passed a minute ago; the event was extended by an hour before it.
    let end = (OffsetDateTime::now_utc() - time::Duration::minutes(1))
        .replace_nanosecond(0)
        .unwrap();
    let app = SlackApp::prepare(&stack, &event, end).await;
    let (events_group, once_group) = (app.events_group.clone(), app.once_group.clone());
    let deps = stack
        .deps_with(|c| {
            c.events_group = Some(events_group.clone());
            c.follow_up_role_arn = Some(ROLE.into());
            c.follow_up_group = once_group.clone();
            c.slack_app.buttons = true;
        })
        .await;
    let ends = deps.ends.clone().expect("the ends are configured");
    let id = event_core::payload::EventId::parse(&event).unwrap();
    let alice = event_core::slack_app::Requester {
        user_id: ALICE.into(),
        user_name: "alice".into(),
    };
    let asked = event_core::slack_app::Asked {
        who: &alice,
        why: "/event extend 1h",
        now: end - time::Duration::minutes(10),
    };
    let cap = std::time::Duration::from_secs(4 * 3600);
    ends.change(&id, end, |r| {
        r.extend(end, std::time::Duration::from_secs(3600), cap, &asked)
    })
    .await
    .unwrap()
    .unwrap();

    let out = event_core::flows::stop::run(
        &deps,
        json!({ "event_id": event, "vars": {} }),
        Deadline::none(),
    )
    .await
    .expect("the stop is deferred");
    assert_eq!(out.status, Status::Deferred, "{out:?}");
    let once = one_offs(&stack, &once_group).await;
    let at = event_core::followup::at_expression(
        (end + time::Duration::hours(1)).unix_timestamp() as u64
    );
    assert_eq!(
        once,
        [(
            at,
            STOP_FN.to_owned(),
            json!({ "event_id": event, "vars": {} }).to_string()
        )]
    );
    let posts = stack.slack(&event);
    let moved = posts
        .iter()
        .find(|p| p.text.contains("the stop is moved to"))
        .unwrap_or_else(|| panic!("{posts:?}"));
    // With the app set up, the message offers to extend again or to stop now.
    assert_eq!(
        moved.buttons(),
        [
            ("Extend 1h".into(), "extend".into(), format!("{event}:1h")),
            ("Stop now".into(), "stop-now".into(), event.clone()),
        ]
    );

    // A hold that expired a minute ago (and no extension left) no longer delays the stop: it
    // goes ahead (nothing is up, so it finds the event down).
    let mut record = OverrideRecord::new(end);
    record.hold = Some(event_core::slack_app::Hold {
        until: OffsetDateTime::now_utc() - time::Duration::minutes(1),
        who: alice.clone(),
    });
    stack
        .s3()
        .put_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(format!("events/{event}/override.json"))
        .body(serde_json::to_vec(&record).unwrap().into())
        .send()
        .await
        .unwrap();
    let out = event_core::flows::stop::run(
        &deps,
        json!({ "event_id": event, "vars": {} }),
        Deadline::none(),
    )
    .await
    .expect("the stop goes ahead");
    assert_eq!(out.status, Status::AlreadyDown, "{out:?}");
}

/// `stop-now` from a message's button on an event whose data did not reach the operations
/// database: the stop it schedules is the event's own, so the final-migration guard holds and
/// nothing is destroyed.
#[tokio::test]
async fn the_stop_now_button_on_an_unmigrated_event_destroys_nothing() {
    let stack = Stack::get().await;
    let event = unique_event("slack-guard");
    let end = (OffsetDateTime::now_utc() + time::Duration::hours(2))
        .replace_nanosecond(0)
        .unwrap();
    let app = SlackApp::prepare(&stack, &event, end).await;
    let deps = stack
        .deps_with(|c| {
            c.events_group = Some(app.events_group.clone());
            c.follow_up_role_arn = Some(ROLE.into());
            c.follow_up_group = app.once_group.clone();
            c.slack_app.signing_secret = Some(app.secret_arn.clone());
            c.slack_app.policy =
                event_core::slack_app::Policy::parse(&format!("stop-now={ALICE}")).unwrap();
            // The final migration is required (the default), and no DMS task exists for it.
            c.final_migration = true;
        })
        .await;
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the tier is up");
    assert_eq!(out.status, Status::Applied, "{out:?}");
    let up = stack.state_resources(&event).await;
    assert!(!up.is_empty());

    // Alice clicks "Stop now" (after confirming): the event's stop, a minute later.
    let slack = event_core::commands::App::from_deps(&deps).unwrap();
    let body = button_form(ALICE, "alice", "stop-now", &event);
    let now = OffsetDateTime::now_utc();
    let stamp = now.unix_timestamp().to_string();
    let signature = app.sign(&body, now.unix_timestamp());
    let headers = [
        ("X-Slack-Request-Timestamp", stamp.as_str()),
        ("X-Slack-Signature", signature.as_str()),
    ];
    let reply = slack.handle(headers, body.as_bytes(), now).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let once = one_offs(&stack, &app.once_group).await;
    let stops: Vec<_> = once.iter().filter(|o| o.1 == STOP_FN).collect();
    assert_eq!(stops.len(), 1, "{once:?}");

    // Scheduler delivers it: the stop refuses to destroy without the final migration.
    let payload: serde_json::Value = serde_json::from_str(&stops[0].2).unwrap();
    let err = event_core::flows::stop::run(&deps, payload, Deadline::none())
        .await
        .expect_err("no final migration, no destroy");
    assert_eq!(err.stage, event_core::Stage::Migrate, "{err}");
    assert_eq!(stack.state_resources(&event).await, up, "nothing destroyed");

    let forced = event_core::flows::stop::run(
        &deps,
        json!({ "event_id": event, "force": true }),
        Deadline::none(),
    )
    .await
    .expect("the test's own clean-up, forced");
    assert_eq!(forced.status, Status::Destroyed);
}
