//! Readiness as the start's success, on the in-memory world (paused time): a tier that never gets
//! ready fails the start at stage `ready`, naming the check and what it saw; one that gets ready
//! after the invocation's deadline is handed over and reported ready by the follow-up, once. The
//! same paths against the local stack's real tier are in `readiness.rs`. And an apply slower than
//! its module's recorded applies is told "at risk" once.

use std::time::Duration;

use event_core::testing::sim;
use event_core::testing::world::{Knobs, World};
use event_core::{Deadline, Invocation, Stage, Status, Told};
use event_tier_tests::paused;
use serde_json::json;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-start";

fn world(tweak: impl FnOnce(&mut Knobs)) -> World {
    let mut k = Knobs::calm();
    k.apply = (60, 60);
    k.latency_ms = 10;
    tweak(&mut k);
    World::new(7, k).0
}

fn invocation(deadline: Duration) -> Invocation {
    Invocation {
        deadline: Deadline::after(deadline),
        function_arn: Some(ARN.into()),
    }
}

#[test]
fn a_tier_that_never_gets_ready_fails_the_start_at_stage_ready_naming_the_check() {
    paused(async {
        let w = world(|k| k.never_ready = 1.0);
        let deps = w.deps(sim::config());
        let e = event_core::flows::start::run(
            &deps,
            json!({ "event_id": "flash-1" }),
            invocation(Duration::from_secs(3600)),
        )
        .await
        .expect_err("a tier that never gets ready fails the start");
        assert_eq!(e.stage, Stage::Ready, "{e}");
        let text = e.error.to_string();
        assert!(
            text.contains("service: 0 of 2 tasks running, deployment in progress"),
            "{text}"
        );
        assert!(text.contains("15m 00s"), "the bound is named: {text}");
        assert!(
            !text.contains("first migration"),
            "only the failing check: {text}"
        );
        let posts = w.posts();
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert!(posts[0].text.contains("ready"), "{}", posts[0].text);
        assert!(
            posts[0].text.contains("service: 0 of 2 tasks running"),
            "Slack names the check: {}",
            posts[0].text
        );
    });
}

#[test]
fn a_tier_ready_after_the_deadline_is_reported_ready_by_the_follow_up_once() {
    paused(async {
        let w = world(|k| k.ready = (1000, 1000));
        let deps = w.deps(sim::config());
        let start = json!({ "event_id": "flash-1" });
        let first =
            event_core::flows::start::run(&deps, start, invocation(Duration::from_secs(900)))
                .await
                .expect("handed over");
        assert_eq!(first.status, Status::InProgress, "{first:?}");
        assert!(first.follow_up.is_some(), "{first:?}");
        assert!(
            first.message.contains("not ready yet (service: 0 of 2"),
            "{first:?}"
        );
        assert!(
            w.posts().is_empty(),
            "nothing told before it is ready: {:?}",
            w.posts()
        );

        let run = first.run_id.clone().expect("the apply's run");
        let follow = json!({ "event_id": "flash-1", "follow": { "run_id": run.as_str() } });
        tokio::time::sleep(Duration::from_secs(300)).await;
        let second = event_core::flows::start::run(
            &deps,
            follow.clone(),
            invocation(Duration::from_secs(900)),
        )
        .await
        .expect("ready");
        assert_eq!(second.status, Status::Applied, "{second:?}");
        let checks: Vec<(String, bool)> = second
            .readiness
            .iter()
            .map(|s| (s.check.to_string(), s.passed))
            .collect();
        assert_eq!(
            checks,
            [("service".into(), true), ("first migration".into(), true)]
        );
        let posts = w.posts();
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert!(
            posts[0].text.contains("start succeeded")
                && posts[0].text.contains("ready: 2 checks passed"),
            "{}",
            posts[0].text
        );

        // The same follow-up delivered again: ready, and told once.
        let again =
            event_core::flows::start::run(&deps, follow, invocation(Duration::from_secs(900)))
                .await
                .expect("ready");
        assert_eq!(again.told, Told::AlreadyTold, "{again:?}");
        assert_eq!(w.posts().len(), 1);
    });
}

#[test]
fn an_apply_slower_than_its_modules_history_is_told_at_risk_once_with_the_opening() {
    paused(async {
        let w = world(|k| k.apply = (600, 600));
        let deps = w.deps(sim::config());
        // Twenty applies of this module took a minute each: p95 60 s, at risk past 75 s.
        let runs: Vec<serde_json::Value> = (0..20)
            .map(|i| {
                json!({ "event": "earlier", "run": format!("apply-20261101t000000-{i:06x}"),
                        "action": "apply", "terraform_ms": 60_000, "at": "2026-11-01T00:00:00Z" })
            })
            .collect();
        let key = event_core::history::key(&deps.module.hash());
        event_core::records::Objects::put(&w, &key, json!({ "runs": runs }).to_string().as_bytes())
            .await
            .unwrap();
        let out = event_core::flows::start::run(
            &deps,
            json!({ "event_id": "flash-1", "vars": { "opens_at": "2027-01-02T09:00:00", "timezone": "Asia/Seoul" } }),
            invocation(Duration::from_secs(3600)),
        )
        .await
        .expect("started");
        assert_eq!(out.status, Status::Applied, "{out:?}");
        let posts = w.posts();
        let risk: Vec<&str> = posts
            .iter()
            .map(|p| p.text.as_str())
            .filter(|t| t.contains("at risk"))
            .collect();
        assert_eq!(risk.len(), 1, "told once: {posts:?}");
        assert!(
            risk[0].contains(
                "past the 1m 15s this module's applies take (p95 1m 00s × 1.25 over 20 applies)"
            ) && risk[0].contains("opening at 2027-01-02T00:00:00Z"),
            "{}",
            risk[0]
        );
        let done = &posts.last().unwrap().text;
        assert!(done.contains("start succeeded"), "{posts:?}");
        // The lead this start had (its apply began weeks before the opening) covers the history.
        assert!(
            done.contains("\nlead time ")
                && done.contains(" before the opening: covers what this module's applies take 1m 15s (p95 1m 00s × 1.25 over 20 applies)"),
            "{done}"
        );
    });
}

#[test]
fn a_start_whose_lead_time_is_short_of_its_modules_applies_says_so() {
    paused(async {
        let w = world(|k| k.apply = (60, 60));
        let deps = w.deps(sim::config());
        // p95 10 min × 1.25 = 12m 30s, and the opening is 5 minutes away.
        let runs: Vec<serde_json::Value> = (0..20)
            .map(|i| {
                json!({ "event": "earlier", "run": format!("apply-20261101t000000-{i:06x}"),
                        "action": "apply", "terraform_ms": 600_000, "at": "2026-11-01T00:00:00Z" })
            })
            .collect();
        let key = event_core::history::key(&deps.module.hash());
        event_core::records::Objects::put(&w, &key, json!({ "runs": runs }).to_string().as_bytes())
            .await
            .unwrap();
        let at = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
        let opens_at = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        );
        let out = event_core::flows::start::run(
            &deps,
            json!({ "event_id": "flash-1", "vars": { "opens_at": opens_at, "timezone": "UTC" } }),
            invocation(Duration::from_secs(3600)),
        )
        .await
        .expect("started");
        assert_eq!(out.status, Status::Applied, "{out:?}");
        let done = w.posts().last().unwrap().text.clone();
        assert!(
            done.contains(":warning: lead time ")
                && done.contains("m before the opening: short of what this module's applies take 12m 30s (p95 10m 00s × 1.25 over 20 applies); start earlier"),
            "{done}"
        );
    });
}
