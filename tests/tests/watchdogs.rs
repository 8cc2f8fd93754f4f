//! The watchdogs (`event_core::watch`), on the in-memory world (paused time): at the opening, a
//! ready event is quiet and one that is not (never started, or a check failing) is paged, naming
//! what is wrong; after the end, a down event is quiet and one still up is paged, naming what is
//! left; an end moved later from Slack moves the look with it; a page Slack refuses goes to the
//! alarm topic, and one that reaches neither fails the invocation. Bad input is refused before any
//! call. The same checks against the local stack's real tier, Slack sink and SNS are in
//! `readiness.rs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use event_core::ends::Ends;
use event_core::payload::EventId;
use event_core::records::Objects;
use event_core::schedules::{EventSchedule, EventSchedules, OneOff, Which};
use event_core::testing::sim;
use event_core::testing::world::{Knobs, SlackMode, World};
use event_core::watch::{Expect, Pager, Watch, Watchdog};
use event_core::{Deadline, Status};
use event_tier_tests::paused;
use serde_json::json;

const ALARM_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-tier-alarm";

fn world(tweak: impl FnOnce(&mut Knobs)) -> World {
    let mut k = Knobs::calm();
    k.apply = (60, 60);
    k.latency_ms = 10;
    tweak(&mut k);
    World::new(7, k).0
}

/// The alarm topic: what it was given, or a refusal.
#[derive(Default)]
struct Topic {
    pages: Mutex<Vec<(String, String)>>,
    refuses: bool,
}

#[async_trait]
impl Pager for Topic {
    async fn page(&self, subject: &str, text: &str) -> event_core::error::Result<()> {
        if self.refuses {
            return Err(event_core::Error::Config("the topic refuses".into()));
        }
        self.pages
            .lock()
            .unwrap()
            .push((subject.to_owned(), text.to_owned()));
        Ok(())
    }
}

fn watchdog(w: &World, topic: &Arc<Topic>) -> Watchdog {
    Watchdog {
        deps: w.deps(sim::config()),
        pager: Some(topic.clone() as Arc<dyn Pager>),
    }
}

fn watch(expect: Expect) -> Watch {
    Watch {
        event_id: "flash-1".into(),
        expect,
        grace_minutes: 30,
    }
}

async fn start(w: &World) -> Status {
    let deps = w.deps(sim::config());
    match event_core::flows::start::run(&deps, json!({ "event_id": "flash-1" }), Deadline::none())
        .await
    {
        Ok(o) => o.status,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn at_the_opening_a_ready_event_is_quiet_and_one_not_ready_is_paged_naming_the_check() {
    paused(async {
        // Never started: paged.
        let w = world(|_| {});
        let topic = Arc::new(Topic::default());
        let dog = watchdog(&w, &topic);
        let v = dog
            .run(&watch(Expect::Ready), None)
            .await
            .expect("a verdict");
        assert!(!v.ok, "{v:?}");
        assert_eq!(v.paged.as_deref(), Some("slack"), "{v:?}");
        let posts = w.posts();
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert!(
            posts[0].text.contains(
                "<!here> *flash-1* is not ready at its opening (watchdog)\n• the tier is not up: the event has no Terraform state with resources"
            ),
            "{}",
            posts[0].text
        );

        // Started and ready: quiet.
        assert_eq!(start(&w).await, Status::Applied);
        let told = w.posts().len();
        let v = dog
            .run(&watch(Expect::Ready), None)
            .await
            .expect("a verdict");
        assert!(v.ok && v.paged.is_none(), "{v:?}");
        assert_eq!(v.seen.len(), 2, "{v:?}");
        assert!(
            v.seen[0].starts_with("service: 2 of 2 tasks running"),
            "{v:?}"
        );
        assert!(v.seen[1].starts_with("first migration: "), "{v:?}");
        assert_eq!(w.posts().len(), told, "quiet when ready");
        assert!(topic.pages.lock().unwrap().is_empty());
    });
}

#[test]
fn an_apply_that_has_not_finished_at_the_opening_is_paged() {
    paused(async {
        // A first apply that failed partway (or still runs): resources, but no `readiness` output.
        let w = world(|_| {});
        let event = EventId::parse("flash-1").unwrap();
        let partial = json!({ "version": 4, "outputs": {}, "resources": [
            { "mode": "managed", "type": "aws_lb", "name": "this", "instances": [{}] },
            { "mode": "managed", "type": "aws_db_instance", "name": "this", "instances": [{}] },
        ] });
        Objects::put(
            &w,
            &event_core::records::state_key(&event),
            partial.to_string().as_bytes(),
        )
        .await
        .unwrap();
        let topic = Arc::new(Topic::default());
        let v = watchdog(&w, &topic)
            .run(&watch(Expect::Ready), None)
            .await
            .expect("a verdict");
        assert!(!v.ok, "{v:?}");
        assert_eq!(
            v.seen,
            vec!["the tier's apply has not finished: its Terraform state holds 2 resources but not yet its `readiness` output".to_owned()]
        );
    });
}

#[test]
fn a_tier_that_never_gets_ready_is_paged_after_the_watchdogs_own_bound() {
    paused(async {
        let w = world(|k| k.never_ready = 1.0);
        let deps = w.deps(sim::config());
        let e = event_core::flows::start::run(
            &deps,
            json!({ "event_id": "flash-1" }),
            Deadline::none(),
        )
        .await
        .expect_err("never ready");
        assert_eq!(e.stage, event_core::Stage::Ready);
        let told = w.posts().len();
        let topic = Arc::new(Topic::default());
        let dog = watchdog(&w, &topic);
        let began = tokio::time::Instant::now();
        let v = dog
            .run(&watch(Expect::Ready), None)
            .await
            .expect("a verdict");
        let looked = began.elapsed();
        assert!(!v.ok, "{v:?}");
        assert_eq!(
            v.seen,
            vec!["service: 0 of 2 tasks running, deployment in progress".to_owned()]
        );
        // Looked every 15 s for at most the 120 s bound.
        assert!(
            looked >= Duration::from_secs(105) && looked <= Duration::from_secs(125),
            "{looked:?}"
        );
        let posts = w.posts();
        assert_eq!(posts.len(), told + 1, "one page: {posts:?}");
        assert!(
            posts
                .last()
                .unwrap()
                .text
                .contains("• service: 0 of 2 tasks running"),
            "{}",
            posts.last().unwrap().text
        );
    });
}

#[test]
fn after_the_end_a_down_event_is_quiet_and_one_still_up_is_paged_naming_what_is_left() {
    paused(async {
        let w = world(|_| {});
        assert_eq!(start(&w).await, Status::Applied);
        let topic = Arc::new(Topic::default());
        let dog = watchdog(&w, &topic);
        let told = w.posts().len();
        let v = dog
            .run(&watch(Expect::Down), None)
            .await
            .expect("a verdict");
        assert!(!v.ok, "{v:?}");
        let all = v.seen.join("\n");
        assert!(all.contains("its Terraform state still holds "), "{all}");
        assert!(
            all.contains("runner i-") && all.contains(" is running"),
            "{all}"
        );
        assert!(
            all.contains("1 resources tagged event-tier:event=flash-1 are left: arn:aws:ecs:"),
            "{all}"
        );
        let page = &w.posts()[told].text;
        assert!(
            page.contains("<!here> *flash-1* is not down 30 min after its end (watchdog)"),
            "{page}"
        );

        let deps = w.deps(sim::config());
        w.stop_requested("flash-1");
        let stop =
            event_core::flows::stop::run(&deps, json!({ "event_id": "flash-1" }), Deadline::none())
                .await
                .expect("the stop");
        assert_eq!(stop.status, Status::Destroyed, "{stop:?}");
        let told = w.posts().len();
        let v = dog
            .run(&watch(Expect::Down), None)
            .await
            .expect("a verdict");
        assert!(v.ok && v.paged.is_none() && v.seen.is_empty(), "{v:?}");
        assert_eq!(w.posts().len(), told, "quiet when down");
    });
}

/// The events' schedules with one dated stop, `end`; the one-off schedules made.
struct Stops {
    end: time::OffsetDateTime,
    made: Mutex<Vec<(String, time::OffsetDateTime, String, String)>>,
}

#[async_trait]
impl EventSchedules for Stops {
    async fn get(
        &self,
        _: &EventId,
        which: Which,
    ) -> event_core::error::Result<Option<EventSchedule>> {
        let e = self.end;
        let wall = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            e.year(),
            u8::from(e.month()),
            e.day(),
            e.hour(),
            e.minute(),
            e.second()
        );
        Ok((which == Which::Stop).then(|| EventSchedule {
            expression: format!("at({wall})"),
            timezone: "UTC".into(),
            target_arn: "arn:aws:lambda:us-east-1:123456789012:function:event-tier-stop".into(),
            input: r#"{"event_id":"flash-1"}"#.into(),
        }))
    }

    async fn once(&self, s: &OneOff<'_>) -> event_core::error::Result<bool> {
        self.made.lock().unwrap().push((
            s.name.clone(),
            s.at,
            s.target_arn.to_owned(),
            s.input.to_owned(),
        ));
        Ok(true)
    }
}

#[test]
fn an_end_extended_from_slack_moves_the_down_look_to_the_new_end_plus_the_grace() {
    paused(async {
        let w = world(|_| {});
        assert_eq!(start(&w).await, Status::Applied);
        let now = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap();
        // The scheduled end was 30 minutes ago; someone extended it by an hour.
        let end = now - time::Duration::minutes(30);
        let stops = Arc::new(Stops {
            end,
            made: Mutex::new(Vec::new()),
        });
        let record = json!({
            "scheduled_end": end.format(&time::format_description::well_known::Rfc3339).unwrap(),
            "extended_secs": 3600, "hold": null, "entries": []
        });
        let event = EventId::parse("flash-1").unwrap();
        Objects::put(
            &w,
            &event_core::slack_app::override_key(&event),
            record.to_string().as_bytes(),
        )
        .await
        .unwrap();
        let topic = Arc::new(Topic::default());
        let mut dog = watchdog(&w, &topic);
        dog.deps.ends = Some(Arc::new(Ends::new(stops.clone(), Arc::new(w.clone()))));
        let told = w.posts().len();
        let v = dog
            .run(&watch(Expect::Down), Some(ALARM_ARN))
            .await
            .expect("a verdict");
        assert!(v.ok && v.paged.is_none(), "not due yet: {v:?}");
        assert_eq!(w.posts().len(), told, "quiet");
        let made = stops.made.lock().unwrap().clone();
        assert_eq!(made.len(), 1, "{made:?}");
        let (name, at, target, input) = &made[0];
        assert_eq!(Some(name), v.deferred_to.as_ref());
        assert!(name.starts_with("event-tier-wdg-flash-1-"), "{name}");
        assert_eq!(
            *at,
            end + time::Duration::minutes(90),
            "the new end plus 30 min"
        );
        assert_eq!(target, ALARM_ARN);
        let again: serde_json::Value = serde_json::from_str(input).unwrap();
        assert_eq!(
            again,
            json!({ "watch": { "event_id": "flash-1", "expect": "down", "grace_minutes": 30 } })
        );

        // Without the extension the look is due now: the tier is still up, so it pages.
        let mut dog = watchdog(&w, &topic);
        dog.deps.ends = Some(Arc::new(Ends::new(stops.clone(), Arc::new(w.clone()))));
        Objects::delete(&w, &event_core::slack_app::override_key(&event))
            .await
            .unwrap();
        let v = dog
            .run(&watch(Expect::Down), Some(ALARM_ARN))
            .await
            .expect("a verdict");
        assert!(!v.ok && v.paged.as_deref() == Some("slack"), "{v:?}");
        assert_eq!(
            stops.made.lock().unwrap().len(),
            1,
            "no second look scheduled"
        );
    });
}

#[test]
fn a_page_slack_refuses_goes_to_the_alarm_topic_and_one_neither_takes_fails_the_invocation() {
    paused(async {
        let w = world(|k| k.slack = SlackMode::Down);
        let topic = Arc::new(Topic::default());
        let v = watchdog(&w, &topic)
            .run(&watch(Expect::Ready), None)
            .await
            .expect("paged on the topic");
        assert_eq!(v.paged.as_deref(), Some("alarm topic"), "{v:?}");
        let pages = topic.pages.lock().unwrap().clone();
        assert_eq!(pages.len(), 1, "{pages:?}");
        assert_eq!(pages[0].0, "event-tier flash-1: not ready at its opening");
        assert!(
            pages[0].1.contains("the tier is not up")
                && pages[0].1.contains("(Slack could not be reached: "),
            "{}",
            pages[0].1
        );

        let refusing = Arc::new(Topic {
            refuses: true,
            ..Topic::default()
        });
        let e = watchdog(&w, &refusing)
            .run(&watch(Expect::Ready), None)
            .await
            .expect_err("neither took the page");
        let e = e.to_string();
        assert!(
            e.contains("reached neither Slack")
                && e.contains("nor the alarm topic (configuration: the topic refuses)"),
            "{e}"
        );
    });
}

#[test]
fn a_watch_with_bad_input_is_refused_before_any_call() {
    paused(async {
        let recorder = event_core::testing::Recorder::default();
        let deps = recorder.deps(
            event_core::Config::from_vars(event_core::testing::required_settings()).unwrap(),
            event_core::module::Module::embedded().unwrap(),
        );
        let dog = Watchdog { deps, pager: None };
        for (w, says) in [
            (
                Watch {
                    event_id: "Flash_1".into(),
                    ..watch(Expect::Ready)
                },
                "event_id",
            ),
            (
                Watch {
                    grace_minutes: 2000,
                    ..watch(Expect::Down)
                },
                "`watch.grace_minutes` must be at most 1440, got 2000",
            ),
        ] {
            let e = dog.run(&w, None).await.expect_err("refused").to_string();
            assert!(e.starts_with("invalid input: ") && e.contains(says), "{e}");
        }
        assert!(recorder.calls().is_empty(), "{:?}", recorder.calls());
    });
}
