//! Interleavings the simulation found, produced for real on the local stack: a stop during an apply,
//! a duplicate follow-up, Terraform's state lock left behind (by a killed run of the same runner, and
//! by another machine).

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use event_core::{Deadline, Invocation, Stage, Status, Told};
use event_tier_tests::{Stack, unique_event};
use serde_json::json;

const FOLLOW_UP_ROLE: &str = "arn:aws:iam::123456789012:role/event-tier-follow-up";
const START_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-start";

#[tokio::test]
async fn a_stop_during_an_apply_waits_it_out_then_destroys_and_each_run_is_told_once() {
    let stack = Stack::get().await;
    let deps = stack
        .deps_with(|c| c.follow_up_role_arn = Some(FOLLOW_UP_ROLE.into()))
        .await;
    let event = unique_event("stop-during-apply");
    // The start hands its 25 s apply over to a follow-up (which moto's Scheduler never fires).
    let started = event_core::flows::start::run(
        &deps,
        json!({ "event_id": event, "vars": { "apply_sleep": 25 } }),
        Invocation {
            deadline: Deadline::after(Duration::from_secs(12)),
            function_arn: Some(START_ARN.into()),
        },
    )
    .await
    .expect("the start hands over");
    assert_eq!(started.status, Status::InProgress, "{started:?}");
    let apply = started.run_id.clone().expect("the apply's id");

    // The stop meets the apply: it waits for it, tells its outcome, then destroys.
    let stopped =
        event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
            .await
            .expect("the stop succeeds");
    assert_eq!(stopped.status, Status::Destroyed, "{stopped:?}");
    assert!(stack.state_resources(&event).await.is_empty());
    assert!(stack.live_instances(&event).await.is_empty());
    let posts = stack.slack(&event);
    assert_eq!(
        posts.len(),
        2,
        "the apply's outcome, then the stop's: {posts:?}"
    );
    assert!(
        posts[0].text.contains("start succeeded") && posts[0].text.contains(apply.as_str()),
        "{}",
        posts[0].text
    );
    assert!(
        posts[1].text.contains("stop succeeded"),
        "{}",
        posts[1].text
    );

    // The start's follow-up comes late, the runner gone: the apply was already told, so no error.
    let follow = json!({ "event_id": event, "follow": { "run_id": apply.as_str() } });
    let late = event_core::flows::start::run(&deps, follow, Deadline::none())
        .await
        .expect("an apply already told is no failure");
    assert_eq!(late.status, Status::AlreadyReported, "{late:?}");
    assert_eq!(late.told, Told::AlreadyTold);
    assert_eq!(stack.slack(&event).len(), 2, "nothing posted twice");
}

/// The lock object Terraform's S3 backend leaves when its process is killed (`use_lockfile`).
async fn leave_state_lock(stack: &Stack, event: &str, who: &str) -> String {
    let id = "6c1f2a9e-5b7d-4e3a-9f10-2d4c8b7a6e51";
    let bucket = stack.var("EVENT_TIER_STATE_BUCKET");
    let info = json!({
        "ID": id,
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": who,
        "Version": "1.11.4",
        "Created": "2026-12-02T10:00:00.000000000Z",
        "Path": format!("{bucket}/events/{event}/terraform.tfstate"),
    });
    stack
        .s3()
        .put_object()
        .bucket(bucket)
        .key(format!("events/{event}/terraform.tfstate.tflock"))
        .body(ByteStream::from(info.to_string().into_bytes()))
        .send()
        .await
        .expect("the lock object is written");
    id.to_owned()
}

async fn lock_left(stack: &Stack, event: &str) -> bool {
    stack
        .s3()
        .head_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(format!("events/{event}/terraform.tfstate.tflock"))
        .send()
        .await
        .is_ok()
}

/// The user and host Terraform names in a lock it takes on the local stack's runner (this machine).
fn runner_identity(stack: &Stack) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("the hostname");
    format!(
        "{}@{}",
        stack.var("EVENT_TIER_RUNNER_SSH_USER"),
        host.trim()
    )
}

#[tokio::test]
async fn a_state_lock_left_by_a_killed_run_of_the_same_runner_is_broken_by_the_next_run() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("stale-lock-here");
    leave_state_lock(&stack, &event, &runner_identity(&stack)).await;
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the start breaks the stale lock and applies");
    assert_eq!(out.status, Status::Applied, "{out:?}");
    assert!(!lock_left(&stack, &event).await, "the lock is released");
    assert!(
        !stack.state_resources(&event).await.is_empty(),
        "the tier was applied"
    );
    event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the stop cleans up");
}

#[tokio::test]
async fn a_state_lock_held_elsewhere_fails_the_run_naming_the_holder_and_what_to_do() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("stale-lock-there");
    let id = leave_state_lock(&stack, &event, "ec2-user@ip-10-0-7-12").await;
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the lock is not ours to break");
    assert_eq!(err.stage, Stage::Plan, "{err}");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let text = &posts[0].text;
    assert!(text.contains("start failed at stage `plan`"), "{text}");
    assert!(
        text.contains(&format!(
            "the state is locked by ec2-user@ip-10-0-7-12 (lock {id})"
        )) && text.contains("docs/runbook.md"),
        "{text}"
    );
    assert!(lock_left(&stack, &event).await, "nothing broke it");
    assert!(stack.state_resources(&event).await.is_empty());

    // The operator removes it (the runbook's row); the next start applies, a stop cleans up.
    stack
        .s3()
        .delete_object()
        .bucket(stack.var("EVENT_TIER_STATE_BUCKET"))
        .key(format!("events/{event}/terraform.tfstate.tflock"))
        .send()
        .await
        .unwrap();
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the start applies");
    assert_eq!(out.status, Status::Applied, "{out:?}");
    event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the stop cleans up");
}
