//! The dress rehearsal as event-start runs it (`"rehearsal"` in its payload), on the in-memory world
//! (paused time): a down event is planned on a runner launched for it, the runner is terminated and
//! Slack hears "GO" once; an event that is up is "NO-GO" and keeps its runner; a plan that outlives
//! the function is handed to a follow-up that carries the rehearsal on; bad rehearsal input is
//! refused before any call. The rehearsal's checks against the real runner, Terraform and moto are
//! in `rehearsal.rs`.

use std::time::Duration;

use event_core::testing::world::{Knobs, World};
use event_core::testing::{Recorder, sim};
use event_core::{Deadline, Invocation, Status};
use event_tier_tests::paused;
use serde_json::{Value, json};

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-tier-start";

fn world() -> World {
    let mut k = Knobs::calm();
    k.apply = (60, 60);
    k.latency_ms = 10;
    World::new(11, k).0
}

async fn invoke(w: &World, payload: Value, deadline: Duration) -> event_core::Outcome {
    let deps = w.deps(sim::config());
    let inv = Invocation {
        deadline: Deadline::after(deadline),
        function_arn: Some(ARN.into()),
    };
    match event_core::flows::start::run(&deps, payload, inv).await {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    }
}

fn rehearse() -> Value {
    json!({ "event_id": "flash-1", "rehearsal": { "lead_time_minutes": 45 } })
}

#[test]
fn a_down_event_is_rehearsed_go_and_left_as_it_was() {
    paused(async {
        let w = world();
        let o = invoke(&w, rehearse(), Duration::from_secs(900)).await;
        assert_eq!(o.status, Status::Go, "{o:?}");
        let plan = &o.rehearsal[0];
        assert_eq!(
            (plan.name.as_str(), plan.detail.as_str()),
            ("plan", "creates 5 resources and nothing else")
        );
        let left = o
            .rehearsal
            .iter()
            .find(|c| c.name == "nothing left")
            .unwrap();
        assert!(left.detail.contains("terminated"), "{left:?}");
        assert!(
            w.is_down("flash-1"),
            "no runner, no resources: {:?}",
            w.trace()
        );
        let posts = w.posts();
        assert_eq!(posts.len(), 1, "{posts:?}");
        assert!(
            posts[0]
                .text
                .starts_with(":white_check_mark: event-tier *flash-1* rehearsal: *GO*"),
            "{}",
            posts[0].text
        );
        assert!(w.violations().is_empty(), "{:?}", w.violations());
    });
}

#[test]
fn an_event_that_is_up_is_no_go_and_keeps_its_runner() {
    paused(async {
        let w = world();
        let up = invoke(
            &w,
            json!({ "event_id": "flash-1" }),
            Duration::from_secs(900),
        )
        .await;
        assert_eq!(up.status, Status::Applied, "{up:?}");
        let o = invoke(&w, rehearse(), Duration::from_secs(900)).await;
        assert_eq!(o.status, Status::NoGo, "{o:?}");
        assert_eq!(o.message, "rehearsal: no-go (plan, nothing left)");
        assert!(!w.is_down("flash-1"), "the tier and its runner are kept");
        let last = w.posts().pop().unwrap();
        assert!(
            last.text
                .starts_with(":no_entry: event-tier *flash-1* rehearsal: *NO-GO* (2 of"),
            "{}",
            last.text
        );
        assert!(
            last.text
                .contains(":x: plan: creates 0 resources but also touches 5 that exist"),
            "{}",
            last.text
        );
    });
}

#[test]
fn a_plan_that_outlives_the_function_is_finished_by_its_follow_up() {
    paused(async {
        let w = world();
        // The plan takes 60 s: a function with 40 s left hands the work over, each time.
        let mut payload = rehearse();
        let mut plans = Vec::new();
        let o = loop {
            let o = invoke(&w, payload.clone(), Duration::from_secs(40)).await;
            if o.status != Status::InProgress {
                break o;
            }
            assert!(w.posts().is_empty(), "nothing is said before the verdict");
            // The follow-up carries the rehearsal on (its lead time with it).
            payload = match &o.run_id {
                Some(run) => {
                    plans.push(run.to_string());
                    json!({ "event_id": "flash-1", "follow": { "run_id": run.as_str() },
                            "rehearsal": { "lead_time_minutes": 45 } })
                }
                None => rehearse(),
            };
            tokio::time::sleep(Duration::from_secs(30)).await;
        };
        assert_eq!(o.status, Status::Go, "{o:?}");
        assert!(
            !plans.is_empty() && plans.iter().all(|p| p.starts_with("plan-")),
            "{plans:?}"
        );
        assert_eq!(
            o.run_id.as_deref(),
            plans.last().map(String::as_str),
            "one plan, followed"
        );
        assert_eq!(w.posts().len(), 1);
        // The follow-up delivered again finds the runner gone, as the rehearsal left it: quiet.
        let again = invoke(&w, payload, Duration::from_secs(900)).await;
        assert_eq!(again.status, Status::AlreadyReported, "{again:?}");
        assert_eq!(w.posts().len(), 1, "{:?}", w.posts());
    });
}

#[tokio::test]
async fn bad_rehearsal_input_is_refused_before_any_call() {
    for (payload, field) in [
        (
            json!({ "event_id": "flash-1", "rehearsal": { "lead_time_minutes": -5 } }),
            "rehearsal.lead_time_minutes",
        ),
        (
            json!({ "event_id": "flash-1", "rehearsal": { "lead_time_minutes": 10081 } }),
            "rehearsal.lead_time_minutes",
        ),
        (
            json!({ "event_id": "flash-1", "rehearsal": { "lead": 5 } }),
            "rehearsal.lead",
        ),
        (
            json!({ "event_id": "flash-1", "rehearsal": "yes" }),
            "rehearsal",
        ),
    ] {
        let recorder = Recorder::default();
        let deps = recorder.deps(
            sim::config(),
            event_core::module::Module::embedded().unwrap(),
        );
        let e = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
            .await
            .expect_err("refused");
        assert!(e.to_string().contains(field), "{payload}: {e}");
        assert!(
            recorder.calls().is_empty(),
            "{payload}: {:?}",
            recorder.calls()
        );
    }
    let recorder = Recorder::default();
    let deps = recorder.deps(
        sim::config(),
        event_core::module::Module::embedded().unwrap(),
    );
    let e = event_core::flows::stop::run(
        &deps,
        json!({ "event_id": "flash-1", "rehearsal": true }),
        Deadline::none(),
    )
    .await
    .expect_err("a stop does not rehearse");
    assert!(
        e.to_string()
            .contains("`rehearsal` is not an accepted field"),
        "{e}"
    );
}
