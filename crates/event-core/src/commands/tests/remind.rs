//! The reminder before the end, on the same fakes: posted once within its lead, with the buttons;
//! moved with the end; silent once the event is stopped or its end has passed.

use super::*;
use crate::commands::{Reminded, Reminder};
use crate::schedules::remind_at_name;

fn event() -> EventId {
    EventId::parse("winter-sale-2026").unwrap()
}

const HOUR: Duration = Duration::from_secs(3600);

fn with_reminder(minutes: u64) -> (App, Arc<Fakes>) {
    let (app, f) = app();
    *f.reminder.lock().unwrap() = Some(minutes);
    (app, f)
}

#[tokio::test]
async fn within_its_lead_the_reminder_is_posted_once_with_the_buttons() {
    let (app, f) = with_reminder(60);
    let now = end() - time::Duration::minutes(60);
    let done = app.remind(&event(), HOUR, now).await.unwrap();
    assert_eq!(done, Reminded::Posted { end: end() });
    let posts = f.posts.lock().unwrap().clone();
    assert_eq!(
        posts,
        [
            ":alarm_clock: event-tier *winter-sale-2026*: ends in 1h: the tier is destroyed at 2026-12-25 08:00 Asia/Seoul (2026-12-24T23:00:00Z) (as scheduled). Extend or hold to keep it up; stop now to end it sooner."
        ]
    );
    assert_eq!(
        f.buttons.lock().unwrap()[0],
        ["Extend 1h", "Hold 1h past the end", "Stop now"]
    );
    // A second delivery of the same reminder posts nothing.
    let again = app
        .remind(&event(), HOUR, now + time::Duration::seconds(20))
        .await
        .unwrap();
    assert!(
        matches!(&again, Reminded::Nothing(why) if why.contains("already reminded")),
        "{again:?}"
    );
    assert_eq!(f.posts.lock().unwrap().len(), 1);
    assert!(f.once.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_extension_moves_the_reminder_to_an_hour_before_the_new_end() {
    let (app, f) = with_reminder(60);
    // Extended by 2h before the reminder fired: the next reminder is due at 00:00Z.
    ask(
        &app,
        ALICE,
        "extend winter-sale-2026 2h",
        end() - time::Duration::minutes(90),
    )
    .await;
    let new_end = end() + time::Duration::hours(2);
    let due = new_end - time::Duration::hours(1);
    let once = f.once.lock().unwrap().clone();
    assert_eq!(once.len(), 1, "the reminder one-off, and no stop: {once:?}");
    assert_eq!(once[0].0, remind_at_name(&event(), due));
    assert_eq!(once[0].1, due);
    assert!(once[0].2.ends_with(":function:event-tier-slack"));
    assert_eq!(
        once[0].3,
        r#"{"remind":{"event_id":"winter-sale-2026","before_end_minutes":60}}"#
    );
    // The original reminder fires at its time and finds the end moved: it posts nothing and
    // comes back at the same time (one schedule, named by its minute).
    let fired = app
        .remind(&event(), HOUR, end() - time::Duration::minutes(60))
        .await
        .unwrap();
    assert_eq!(
        fired,
        Reminded::Moved {
            at: due,
            schedule: remind_at_name(&event(), due)
        }
    );
    assert_eq!(f.once.lock().unwrap().len(), 1);
    assert_eq!(
        f.posts.lock().unwrap().len(),
        1,
        "only the extension's echo"
    );
    // At 00:00Z it reminds of the new end.
    let fired = app.remind(&event(), HOUR, due).await.unwrap();
    assert_eq!(fired, Reminded::Posted { end: new_end });
    let last = f.posts.lock().unwrap().last().unwrap().clone();
    assert!(
        last.contains("ends in 1h") && last.contains("2026-12-25T01:00:00Z"),
        "{last}"
    );
}

#[tokio::test]
async fn a_stopped_event_or_a_passed_end_is_not_reminded() {
    let (app, f) = with_reminder(60);
    let passed = app
        .remind(&event(), HOUR, end() + time::Duration::minutes(1))
        .await
        .unwrap();
    assert!(
        matches!(&passed, Reminded::Nothing(why) if why.contains("has passed")),
        "{passed:?}"
    );
    let now = end() - time::Duration::minutes(70);
    ask(&app, ALICE, "stop-now winter-sale-2026", now).await;
    let stopped = app
        .remind(&event(), HOUR, now + time::Duration::minutes(10))
        .await
        .unwrap();
    assert!(
        matches!(&stopped, Reminded::Nothing(why) if why.contains("stopped from Slack by alice")),
        "{stopped:?}"
    );
    assert!(
        f.posts
            .lock()
            .unwrap()
            .iter()
            .all(|p| !p.contains(":alarm_clock:"))
    );
}

#[test]
fn a_reminder_payload_is_checked_before_anything_is_read() {
    let ok = Reminder::parse(serde_json::json!({
        "remind": { "event_id": "winter-sale-2026", "before_end_minutes": 45 }
    }))
    .unwrap();
    assert_eq!(ok, (event(), Duration::from_secs(45 * 60)));
    for (payload, names) in [
        (
            serde_json::json!({ "remind": { "event_id": "Winter", "before_end_minutes": 60 } }),
            "event_id",
        ),
        (
            serde_json::json!({ "remind": { "event_id": "winter-sale-2026", "before_end_minutes": 0 } }),
            "`remind.before_end_minutes` must be from 1 to 1440, got 0",
        ),
        (
            serde_json::json!({ "remind": { "event_id": "winter-sale-2026", "before_end_minutes": 60, "x": 1 } }),
            "unknown field `x`",
        ),
    ] {
        let e = Reminder::parse(payload).unwrap_err().to_string();
        assert!(e.contains(names), "{e}");
    }
}
