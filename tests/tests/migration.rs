//! No event tier is destroyed before its data is safe: event-stop runs the event's DMS task
//! (`reload-target`, or `start-replication` if it never ran) and destroys only when it finished; a failure keeps everything and alerts;
//! `"force": true` overrides, loudly. moto's tasks move no data, so the tests drive the task's state
//! through the emulator extension (local/EMULATOR-GAPS.md).

use std::time::{Duration, Instant};

use aws_sdk_databasemigration::types::MigrationTypeValue;
use event_core::{Deadline, Deps, Stage, Status};
use event_tier_tests::{Stack, context_with_deadline, unique_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;

/// Starts the event (fixture tier) and creates its replication task; returns the task's ARN.
async fn event_with_task(
    stack: &Stack,
    deps: &Deps,
    event: &str,
    with_task: bool,
) -> Option<String> {
    let out = event_core::flows::start::run(deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::Applied);
    if !with_task {
        return None;
    }
    let dms = aws_sdk_databasemigration::Client::new(&stack.sdk);
    let arn = |kind: &str| format!("arn:aws:dms:us-east-1:123456789012:{kind}:{event}");
    let task = dms
        .create_replication_task()
        .replication_task_identifier(format!("event-tier-{event}"))
        .source_endpoint_arn(arn("endpoint"))
        .target_endpoint_arn(arn("endpoint"))
        .replication_instance_arn(arn("rep"))
        .migration_type(MigrationTypeValue::FullLoad)
        .table_mappings(r#"{"rules":[]}"#)
        .send()
        .await
        .expect("the emulator creates the task");
    Some(
        task.replication_task()
            .unwrap()
            .replication_task_arn()
            .unwrap()
            .to_owned(),
    )
}

/// Waits until the stop has started the final migration with `kind` (`start-replication` for a task
/// that never ran, `reload-target` after).
async fn wait_load_running(stack: &Stack, event: &str, kind: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let t = stack.dms_task(&format!("event-tier-{event}")).await;
        if t["status"] == "running" && t["start_type"] == kind {
            return;
        }
        assert!(
            Instant::now() < until,
            "the final migration was not started: {t}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn migrating_deps(c: &mut event_core::Config) {
    c.final_migration = true;
}

#[tokio::test]
async fn stop_destroys_only_after_the_final_migration_finished() {
    let stack = Stack::get().await;
    let deps = stack.deps_with(migrating_deps).await;
    let event = unique_event("migration-ok");
    let arn = event_with_task(&stack, &deps, &event, true).await.unwrap();

    let stop = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none());
    let drive = async {
        wait_load_running(&stack, &event, "start-replication").await;
        // While the load runs, nothing is destroyed.
        assert_eq!(stack.state_resources(&event).await.len(), 2);
        stack.finish_dms_load(&arn).await;
    };
    let (out, ()) = tokio::join!(stop, drive);
    let out = out.expect("stop succeeds");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(
        out.message.starts_with("final migration finished"),
        "{}",
        out.message
    );
    assert!(stack.state_resources(&event).await.is_empty());
    assert!(stack.live_instances(&event).await.is_empty());
    let posts = stack.slack(&event);
    assert!(
        posts.last().unwrap().text.contains("stop succeeded"),
        "{posts:?}"
    );
    assert!(
        posts
            .last()
            .unwrap()
            .text
            .contains("final migration finished"),
        "{posts:?}"
    );
}

#[tokio::test]
async fn a_final_migration_longer_than_the_deadline_is_followed_up_and_started_once() {
    let stack = Stack::get().await;
    let role = "arn:aws:iam::123456789012:role/event-tier-follow-up";
    let deps = stack
        .deps_with(|c| {
            c.final_migration = true;
            c.follow_up_role_arn = Some(role.into());
        })
        .await;
    let event = unique_event("migration-long");
    let arn = event_with_task(&stack, &deps, &event, true).await.unwrap();

    // The settings keep 5 s before the deadline; the load does not finish in 12 s: hand over.
    let function_arn = "arn:aws:lambda:us-east-1:123456789012:function:event-stop";
    let ctx = context_with_deadline(Duration::from_secs(12), function_arn);
    let started = Instant::now();
    let out = event_stop::handle(LambdaEvent::new(json!({ "event_id": event }), ctx), &deps)
        .await
        .expect("the first invocation returns in time");
    assert!(
        started.elapsed() < Duration::from_secs(12),
        "returned before the deadline: {:?}",
        started.elapsed()
    );
    assert_eq!(out.status, Status::InProgress, "{out:?}");
    assert!(
        out.message.starts_with("the final migration still runs"),
        "{}",
        out.message
    );
    // Nothing destroyed while the load runs; the load was started once, as a first run.
    assert_eq!(stack.state_resources(&event).await.len(), 2);
    let task = stack.dms_task(&format!("event-tier-{event}")).await;
    assert_eq!(task["start_types"], json!(["start-replication"]), "{task}");

    // The follow-up: this function again, with the same request.
    let name = out.follow_up.clone().expect("a follow-up schedule");
    let schedule = aws_sdk_scheduler::Client::new(&stack.sdk)
        .get_schedule()
        .name(&name)
        .send()
        .await
        .unwrap();
    let target = schedule.target().unwrap();
    assert_eq!(target.arn(), function_arn);
    let input: serde_json::Value = serde_json::from_str(target.input().unwrap()).unwrap();
    assert_eq!(input, json!({ "event_id": event }));

    // The load finishes; the follow-up (what the scheduler would fire) destroys without a new load.
    stack.finish_dms_load(&arn).await;
    let out = event_stop::handle(LambdaEvent::new(input, Context::default()), &deps)
        .await
        .expect("the follow-up succeeds");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(
        out.message.starts_with("final migration finished"),
        "{}",
        out.message
    );
    let task = stack.dms_task(&format!("event-tier-{event}")).await;
    assert_eq!(task["start_types"], json!(["start-replication"]), "{task}");
    assert!(stack.state_resources(&event).await.is_empty());
    assert!(stack.live_instances(&event).await.is_empty());
    let posts = stack.slack(&event);
    let last = &posts.last().unwrap().text;
    assert!(
        last.contains("stop succeeded") && last.contains("final migration finished"),
        "{posts:?}"
    );
}

#[tokio::test]
async fn stop_refuses_to_destroy_when_the_final_migration_fails_and_force_overrides_loudly() {
    let stack = Stack::get().await;
    let deps = stack.deps_with(migrating_deps).await;
    let event = unique_event("migration-fails");
    let arn = event_with_task(&stack, &deps, &event, true).await.unwrap();

    let stop = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none());
    let drive = async {
        wait_load_running(&stack, &event, "start-replication").await;
        stack
            .set_dms_task(
                &arn,
                "failed",
                None,
                Some("could not connect to the operations database"),
            )
            .await;
    };
    let (res, ()) = tokio::join!(stop, drive);
    let err = res.expect_err("a failed migration fails the stop");
    assert_eq!(err.stage, Stage::Migrate);
    let msg = err.to_string();
    assert!(
        msg.contains("could not connect to the operations database"),
        "{msg}"
    );
    assert!(msg.contains("nothing was destroyed"), "{msg}");
    // Nothing destroyed, the runner still there for the retry.
    assert_eq!(stack.state_resources(&event).await.len(), 2);
    assert_eq!(stack.live_instances(&event).await.len(), 1);
    let posts = stack.slack(&event);
    let last = &posts.last().unwrap().text;
    assert!(last.contains("stop failed at stage `migrate`"), "{last}");
    assert!(
        last.contains("could not connect to the operations database"),
        "{last}"
    );

    // The operator decides the data is safe elsewhere: force.
    let stop = event_core::flows::stop::run(
        &deps,
        json!({ "event_id": event, "force": true }),
        Deadline::none(),
    );
    let drive = async {
        // The task ran before: this time a reload.
        wait_load_running(&stack, &event, "reload-target").await;
        stack
            .set_dms_task(
                &arn,
                "failed",
                None,
                Some("still no route to the operations database"),
            )
            .await;
    };
    let (out, ()) = tokio::join!(stop, drive);
    let out = out.expect("a forced stop destroys");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(
        out.message
            .contains("final migration NOT confirmed (forced)"),
        "{}",
        out.message
    );
    assert!(stack.state_resources(&event).await.is_empty());
    assert!(stack.live_instances(&event).await.is_empty());
    let texts: Vec<String> = stack.slack(&event).into_iter().map(|p| p.text).collect();
    assert!(
        texts.iter().any(|t| t.contains(":warning:")
            && t.contains("stop FORCED")
            && t.contains("still no route")),
        "{texts:#?}"
    );
}

#[tokio::test]
async fn stop_without_a_replication_task_keeps_the_tier_unless_forced() {
    let stack = Stack::get().await;
    let deps = stack.deps_with(migrating_deps).await;
    let event = unique_event("no-task");
    event_with_task(&stack, &deps, &event, false).await;

    let err = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("no task: the data cannot be confirmed");
    assert_eq!(err.stage, Stage::Migrate);
    assert!(
        err.to_string()
            .contains(&format!("no replication task event-tier-{event} found")),
        "{err}"
    );
    assert_eq!(
        stack.state_resources(&event).await.len(),
        2,
        "nothing destroyed"
    );

    let out = event_core::flows::stop::run(
        &deps,
        json!({ "event_id": event, "force": true }),
        Deadline::none(),
    )
    .await
    .expect("forced");
    assert_eq!(out.status, Status::Destroyed);
    assert!(stack.state_resources(&event).await.is_empty());
}

#[tokio::test]
async fn leftovers_tagged_with_the_event_turn_a_stop_into_a_warning_naming_them() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("leftovers");
    event_with_task(&stack, &deps, &event, false).await;
    // Something made by hand during the event, outside Terraform, tagged with it.
    let vpc = stack.var("EVENT_TIER_LOCAL_VPC_ID").to_owned();
    let sg = stack
        .ec2()
        .create_security_group()
        .group_name(format!("hand-made-{event}"))
        .description("made by hand")
        .vpc_id(vpc)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("event-tier:event")
                        .value(&event)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_owned();

    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::DestroyedWithLeftovers, "{out:?}");
    assert_eq!(out.leftovers.len(), 1, "{:?}", out.leftovers);
    assert!(out.leftovers[0].ends_with(&sg), "{:?}", out.leftovers);
    let last = stack.slack(&event).pop().unwrap().text;
    assert!(
        last.contains(":warning:") && last.contains("stop finished with leftovers"),
        "{last}"
    );
    assert!(last.contains(&sg), "{last}");
    assert!(
        stack.live_instances(&event).await.is_empty(),
        "the runner is gone all the same"
    );
}
