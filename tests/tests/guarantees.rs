//! The guarantees an operator relies on, against the local stack: duplicate deliveries launch one
//! runner and run one apply, repeated requests change nothing, events don't interfere, and a run
//! longer than the function's deadline is reported exactly once by a follow-up.

use std::time::Duration;

use event_core::{Deadline, Status, Told};
use event_tier_tests::{Stack, context_with_deadline, unique_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;

async fn stop(deps: &event_core::Deps, event: &str) {
    let out = event_core::flows::stop::run(deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("stop succeeds");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
}

#[tokio::test]
async fn five_identical_starts_at_once_launch_one_runner_and_run_one_apply() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("five-starts");
    // A few seconds of apply keep the first run going while the others arrive.
    let payload = json!({ "event_id": event, "vars": { "apply_sleep": 8 } });
    let start = || event_core::flows::start::run(&deps, payload.clone(), Deadline::none());
    let results = tokio::join!(start(), start(), start(), start(), start());
    let outcomes: Vec<_> = [results.0, results.1, results.2, results.3, results.4]
        .into_iter()
        .map(|r| r.expect("every start succeeds"))
        .collect();
    // One apply, which every start follows to its end; Slack hears of it once.
    assert!(
        outcomes.iter().all(|o| o.status == Status::Applied),
        "{outcomes:#?}"
    );
    let run_id = outcomes[0].run_id.clone();
    assert!(
        outcomes.iter().all(|o| o.run_id == run_id),
        "one run: {outcomes:#?}"
    );
    let told = outcomes.iter().filter(|o| o.told == Told::Told).count();
    let already = outcomes
        .iter()
        .filter(|o| o.told == Told::AlreadyTold)
        .count();
    assert_eq!((told, already), (1, 4), "{outcomes:#?}");

    let runners = stack.instances(&event).await;
    assert_eq!(runners.len(), 1, "one runner: {runners:?}");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "one Slack message: {posts:?}");
    assert!(posts[0].text.contains("start succeeded"));
    stop(&deps, &event).await;
}

#[tokio::test]
async fn start_of_an_event_already_up_reports_already_up_and_changes_nothing() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("already-up");
    let payload = json!({ "event_id": event });
    let first = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
        .await
        .unwrap();
    assert_eq!(first.status, Status::Applied);
    let serial = stack.state(&event).await.unwrap()["serial"].clone();

    let again = event_core::flows::start::run(&deps, payload, Deadline::none())
        .await
        .unwrap();
    assert_eq!(again.status, Status::AlreadyUp, "{again:?}");
    assert!(again.message.contains("already up"));
    assert_eq!(
        stack.state(&event).await.unwrap()["serial"],
        serial,
        "the state did not change"
    );
    assert_eq!(stack.instances(&event).await.len(), 1, "the same runner");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(
        posts[1]
            .text
            .contains("already up: nothing changed, checked in "),
        "{}",
        posts[1].text
    );
    stop(&deps, &event).await;
}

#[tokio::test]
async fn a_stop_of_an_event_that_is_not_up_reports_already_down_and_launches_nothing() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("never-started");
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("a stop of an event that is down succeeds");
    assert_eq!(out.status, Status::AlreadyDown, "{out:?}");
    assert!(out.message.contains("already down"), "{}", out.message);
    assert!(
        stack.instances(&event).await.is_empty(),
        "no runner launched"
    );
    assert!(stack.state(&event).await.is_none(), "no state written");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0]
            .text
            .contains("stop: the event tier is already down: no resources in its state and no runner, checked in "),
        "{}",
        posts[0].text
    );
}

#[tokio::test]
async fn two_events_at_once_get_their_own_runner_state_and_messages() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let (a, b) = (unique_event("event-a"), unique_event("event-b"));
    let (ra, rb) = tokio::join!(
        event_core::flows::start::run(
            &deps,
            json!({ "event_id": a, "vars": { "max_count": 7 } }),
            Deadline::none()
        ),
        event_core::flows::start::run(
            &deps,
            json!({ "event_id": b, "vars": { "max_count": 9 } }),
            Deadline::none()
        ),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!((ra.status, rb.status), (Status::Applied, Status::Applied));
    assert_ne!(ra.instance_id, rb.instance_id, "one runner each");
    assert_eq!(stack.instances(&a).await.len(), 1);
    assert_eq!(stack.instances(&b).await.len(), 1);
    assert_eq!(stack.state_resources(&a).await.len(), 2);
    assert_eq!(stack.state_resources(&b).await.len(), 2);
    for (event, max) in [(&a, "7"), (&b, "9")] {
        let sg = stack.security_groups(&format!("event-tier-{event}")).await;
        let out = stack
            .ec2()
            .describe_security_groups()
            .group_ids(&sg[0])
            .send()
            .await
            .unwrap();
        let tag = out.security_groups()[0]
            .tags()
            .iter()
            .find(|t| t.key() == Some("max_count"))
            .unwrap();
        assert_eq!(tag.value(), Some(max), "{event} got its own variables");
        let posts = stack.slack(event);
        assert_eq!(posts.len(), 1, "{posts:?}");
    }
    stop(&deps, &a).await;
    assert_eq!(
        stack.live_instances(&b).await.len(),
        1,
        "stopping one event leaves the other up"
    );
    assert_eq!(stack.state_resources(&b).await.len(), 2);
    stop(&deps, &b).await;
}

#[tokio::test]
async fn run_longer_than_the_deadline_is_reported_once_by_a_follow_up() {
    let stack = Stack::get().await;
    let role = "arn:aws:iam::123456789012:role/event-tier-follow-up";
    let deps = stack
        .deps_with(|c| c.follow_up_role_arn = Some(role.into()))
        .await;
    let event = unique_event("long-run");
    // The settings keep 5 s before the deadline; the apply sleeps 25 s: the invocation must hand over.
    let function_arn = "arn:aws:lambda:us-east-1:123456789012:function:event-start";
    let ctx = context_with_deadline(Duration::from_secs(15), function_arn);
    let ev = LambdaEvent::new(
        json!({ "event_id": event, "vars": { "apply_sleep": 25 } }),
        ctx,
    );
    let started = std::time::Instant::now();
    let out = event_start::handle(ev, &deps)
        .await
        .expect("the first invocation returns in time");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "returned before the deadline: {:?}",
        started.elapsed()
    );
    assert_eq!(out.status, Status::InProgress, "{out:?}");
    let run_id = out.run_id.clone().expect("the run's identity");
    assert!(stack.slack(&event).is_empty(), "nothing reported yet");

    // The follow-up is scheduled: one-off, a minute later, at this function, carrying the run id.
    let name = out.follow_up.clone().expect("a follow-up schedule");
    let schedule = aws_sdk_scheduler::Client::new(&stack.sdk)
        .get_schedule()
        .name(&name)
        .send()
        .await
        .unwrap();
    assert!(
        schedule.schedule_expression().unwrap().starts_with("at(20"),
        "{schedule:?}"
    );
    let target = schedule.target().unwrap();
    assert_eq!(target.arn(), function_arn);
    assert_eq!(target.role_arn(), role);
    let input: serde_json::Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({ "event_id": event, "follow": { "run_id": run_id } })
    );

    // The follow-up (what the scheduler would fire), with a full deadline.
    let follow = json!({ "event_id": event, "follow": { "run_id": run_id } });
    let out = event_start::handle(LambdaEvent::new(follow.clone(), Context::default()), &deps)
        .await
        .unwrap();
    assert_eq!(out.status, Status::Applied, "{out:?}");
    assert_eq!(out.run_id.as_deref(), Some(run_id.as_str()));
    let mut resources = stack.state_resources(&event).await;
    resources.sort();
    assert_eq!(
        resources,
        [
            "aws_cloudwatch_log_group.tier",
            "aws_security_group.tier",
            "terraform_data.slow"
        ]
    );

    // A duplicate follow-up sees the same outcome and does not report it again.
    let out = event_start::handle(LambdaEvent::new(follow, Context::default()), &deps)
        .await
        .unwrap();
    assert_eq!(out.status, Status::Applied);
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "reported exactly once: {posts:?}");
    assert!(posts[0].text.contains("start succeeded"));
    stop(&deps, &event).await;
}
