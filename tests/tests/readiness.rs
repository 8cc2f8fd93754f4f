//! Readiness as the start's success, on the local stack's real tier (`infra/event-tier` as built
//! into the functions): a start is ready only when every check passes; each check failing on its
//! own fails the start at stage `ready`, naming the check and what it saw, in the error and in
//! Slack; a tier that gets ready after the invocation's deadline is reported ready by the follow-up,
//! once; the watchdogs page at the opening and after the end in the cases they exist for and stay
//! quiet otherwise. What is not ready is made so through the emulator's readiness extension and the tiers'
//! site (local/EMULATOR-GAPS.md), as AWS would show it.

use std::sync::Arc;
use std::time::Duration;

use event_core::watch::{Expect, SnsPager, Watch, Watchdog};
use event_core::{Deadline, Invocation, Stage, Status, Told};
use event_tier_tests::{Stack, unique_event};
use serde_json::{Value, json};

const START_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-start";
const FOLLOW_UP_ROLE: &str = "arn:aws:iam::123456789012:role/event-tier-follow-up";

const CHECKS: &[&str] = &[
    "service",
    "targets",
    "http",
    "database",
    "dms source",
    "dms target",
    "first migration",
];

/// The error names `check` and no other check. A service short of tasks also has fewer targets
/// registered (ECS registers each running task): for it, `targets` fails too.
fn names_only(check: &str, err: &str) {
    let with: &[&str] = if check == "service" {
        &["service", "targets"]
    } else {
        &[check]
    };
    for other in CHECKS.iter().filter(|c| !with.contains(c)) {
        assert!(
            !err.contains(&format!("{other}: ")),
            "only {check} fails: {err}"
        );
    }
}

/// The names of the checks, and whether each passed.
fn checks(out: &event_core::Outcome) -> Vec<(String, bool)> {
    out.readiness
        .iter()
        .map(|s| (s.check.to_string(), s.passed))
        .collect()
}

#[tokio::test]
async fn the_real_tier_is_ready_only_when_every_check_passes_and_each_failing_check_fails_the_start()
 {
    let stack = Stack::get().await;
    let deps = stack
        .deps_with(|c| {
            c.module_dir = None;
            c.final_migration = false;
            c.ready.timeout = Duration::from_secs(3);
            c.follow_up_role_arn = Some(FOLLOW_UP_ROLE.into());
        })
        .await;
    let event = unique_event("ready");
    let payload = json!({ "event_id": event, "vars": { "desired_count": 2, "max_count": 4 } });

    // The apply: ready, every check passed.
    let out = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
        .await
        .expect("the tier is applied and ready");
    assert_eq!(out.status, Status::Applied, "{out:?}");
    let all: Vec<(String, bool)> = CHECKS.iter().map(|c| (c.to_string(), true)).collect();
    assert_eq!(checks(&out), all);
    let told = stack.slack(&event);
    let text = &told.last().expect("a post").text;
    assert!(
        text.contains("start succeeded") && text.contains("ready: 7 checks passed"),
        "{text}"
    );
    assert!(
        text.contains("targets: 2 healthy of 2 registered (need 2)"),
        "{text}"
    );
    assert!(
        text.contains("service: 2 of 2 tasks running, deployment completed"),
        "{text}"
    );

    let state = stack.state(&event).await.expect("a state");
    let r = &state["outputs"]["readiness"]["value"];
    let s = |k: &str| {
        r[k].as_str()
            .unwrap_or_else(|| panic!("{k} in {r}"))
            .to_owned()
    };
    let host = s("url")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let source = r["dms_endpoints"]["source"].as_str().unwrap().to_owned();

    // Each check failing on its own: a start of the tier already up checks again and fails at
    // `ready`, naming the check and what it saw; made ready again, the next check.
    let cases: Vec<(&str, Value, Value, String)> = vec![
        (
            "service",
            json!({ "ecs_service": { "cluster": s("cluster"), "service": s("service"), "running": 1 } }),
            json!({ "ecs_service": { "cluster": s("cluster"), "service": s("service"), "running": null } }),
            "service: 1 of 2 tasks running, deployment in progress".into(),
        ),
        (
            "targets",
            json!({ "target_group": { "arn": s("target_group_arn"), "state": "unhealthy", "reason": "Target.ResponseCodeMismatch" } }),
            json!({ "target_group": { "arn": s("target_group_arn"), "state": null } }),
            "targets: 0 healthy of 2 registered (need 2); one is unhealthy: Target.ResponseCodeMismatch".into(),
        ),
        (
            "database",
            json!({ "db_instance": { "id": s("db_instance"), "status": "storage-full" } }),
            json!({ "db_instance": { "id": s("db_instance"), "status": "available" } }),
            format!("database: {} is storage-full", s("db_instance")),
        ),
        (
            "dms source",
            json!({ "dms_endpoint": { "arn": source, "status": "failed", "message": "Cannot connect to ODBC provider" } }),
            json!({ "dms_endpoint": { "arn": source, "status": null } }),
            "dms source: connection test failed: Cannot connect to ODBC provider".into(),
        ),
    ];
    for (check, broken, fixed, saw) in cases {
        stack.set_readiness(broken).await;
        let e = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
            .await
            .expect_err(check);
        assert_eq!(e.stage, Stage::Ready, "{check}: {e}");
        let err = e.error.to_string();
        assert!(err.contains(&saw), "{check}: {err}");
        names_only(check, &err);
        let post = stack.slack(&event).last().unwrap().text.clone();
        assert!(post.contains("`ready`") || post.contains("ready"), "{post}");
        assert!(post.contains(&saw), "Slack names {check}: {post}");
        stack.set_readiness(fixed).await;
    }
    // The site behind the load balancer answers 503.
    stack.set_site(&host, Some(503)).await;
    let e = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
        .await
        .expect_err("http");
    assert_eq!(e.stage, Stage::Ready, "{e}");
    assert!(
        e.error
            .to_string()
            .contains(&format!("http: GET {} answered 503", s("url"))),
        "{e}"
    );
    names_only("http", &e.error.to_string());
    stack.set_site(&host, None).await;

    // A tier that gets ready after the invocation's deadline: handed over, then told ready by the
    // follow-up, once.
    stack
        .set_readiness(json!({ "ecs_service": { "cluster": s("cluster"), "service": s("service"), "running": 0 } }))
        .await;
    let slow = stack
        .deps_with(|c| {
            c.module_dir = None;
            c.final_migration = false;
            c.ready.timeout = Duration::from_secs(600);
            c.follow_up_role_arn = Some(FOLLOW_UP_ROLE.into());
        })
        .await;
    let first = event_core::flows::start::run(
        &slow,
        payload.clone(),
        Invocation {
            deadline: Deadline::after(Duration::from_secs(60)),
            function_arn: Some(START_ARN.into()),
        },
    )
    .await
    .expect("handed over");
    assert_eq!(first.status, Status::InProgress, "{first:?}");
    assert!(first.follow_up.is_some(), "{first:?}");
    assert!(
        first
            .message
            .contains("the tier is not ready yet (service: 0 of 2 tasks running"),
        "{first:?}"
    );
    let posts_before = stack.slack(&event).len();
    stack
        .set_readiness(json!({ "ecs_service": { "cluster": s("cluster"), "service": s("service"), "running": null } }))
        .await;
    let follow =
        json!({ "event_id": event, "follow": { "run_id": first.run_id.clone().unwrap() } });
    let ready = event_core::flows::start::run(&slow, follow.clone(), Deadline::none())
        .await
        .expect("ready late");
    assert_eq!(ready.status, Status::AlreadyUp, "{ready:?}");
    assert_eq!(checks(&ready), all);
    let again = event_core::flows::start::run(&slow, follow.clone(), Deadline::none())
        .await
        .expect("ready, told before");
    assert_eq!(again.told, Told::AlreadyTold, "{again:?}");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), posts_before + 1, "told once: {posts:?}");
    assert!(
        posts
            .last()
            .unwrap()
            .text
            .contains("ready: 7 checks passed")
    );

    // The first migration's schedule gone after the apply: the run's readiness, checked again by
    // a delivery of its follow-up, names it (that run was told ready, so it is not told again);
    // the next start's apply re-creates the schedule and is ready.
    let scheduler = aws_sdk_scheduler::Client::new(&stack.sdk);
    scheduler
        .delete_schedule()
        .name(s("first_migration_schedule"))
        .group_name(s("first_migration_group"))
        .send()
        .await
        .expect("the schedule is deleted");
    let late = event_core::flows::start::run(&deps, follow.clone(), Deadline::none())
        .await
        .expect("already reported");
    assert_eq!(late.status, Status::AlreadyReported, "{late:?}");
    assert!(
        late.message.contains(&format!(
            "first migration: schedule {} does not exist in group default",
            s("first_migration_schedule")
        )),
        "{late:?}"
    );
    names_only("first migration", &late.message);
    let healed = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
        .await
        .expect("the schedule is re-created");
    assert_eq!(healed.status, Status::Applied, "{healed:?}");
    assert_eq!(checks(&healed), all);

    // The watchdogs (event_core::watch) on the same tier: at the opening, quiet while it is ready,
    // a page naming the check that fails; Slack failing, the page goes to the alarm topic (an
    // SQS queue stands for the on-call's subscription); after the end, a page naming what is left
    // while the tier is up, quiet once it is down.
    let (dog, oncall) = watchdog(&stack, &event).await;
    let watch = |expect| Watch {
        event_id: event.clone(),
        expect,
        grace_minutes: 30,
    };
    let told = stack.slack(&event).len();
    let v = dog
        .run(&watch(Expect::Ready), None)
        .await
        .expect("a verdict");
    assert!(v.ok && v.paged.is_none(), "{v:?}");
    assert_eq!(v.seen.len(), CHECKS.len(), "{v:?}");
    assert_eq!(stack.slack(&event).len(), told, "quiet when ready");
    let full = json!({ "db_instance": { "id": s("db_instance"), "status": "storage-full" } });
    stack.set_readiness(full).await;
    let v = dog
        .run(&watch(Expect::Ready), None)
        .await
        .expect("a verdict");
    let saw = format!("database: {} is storage-full", s("db_instance"));
    assert_eq!((v.ok, v.paged.as_deref()), (false, Some("slack")), "{v:?}");
    assert_eq!(v.seen, vec![saw.clone()]);
    let page = stack.slack(&event).last().unwrap().text.clone();
    assert!(
        page.contains(&format!(
            "<!here> *{event}* is not ready at its opening (watchdog)\n• {saw}"
        )),
        "{page}"
    );
    stack
        .slack_control(
            "/_sink/fail",
            json!({ "status": 500, "count": 10, "match": event }),
        )
        .await;
    let v = dog
        .run(&watch(Expect::Ready), None)
        .await
        .expect("a verdict");
    assert_eq!(v.paged.as_deref(), Some("alarm topic"), "{v:?}");
    let got = oncall.receive().await;
    assert!(
        got.contains("is not ready at its opening")
            && got.contains(&saw)
            && got.contains("(Slack could not be reached: "),
        "{got}"
    );
    stack
        .slack_control("/_sink/reset", json!({ "match": event }))
        .await;
    stack
        .set_readiness(json!({ "db_instance": { "id": s("db_instance"), "status": "available" } }))
        .await;
    let v = dog
        .run(&watch(Expect::Down), None)
        .await
        .expect("a verdict");
    assert_eq!((v.ok, v.paged.as_deref()), (false, Some("slack")), "{v:?}");
    let left = v.seen.join("\n");
    assert!(left.contains("its Terraform state still holds "), "{left}");
    assert!(
        left.contains("runner i-") && left.contains(" is running"),
        "{left}"
    );
    assert!(
        left.contains(&format!(
            "resources tagged event-tier:event={event} are left: arn:aws:"
        )),
        "{left}"
    );

    // The stop takes the tier down.
    let stop = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("stop");
    assert_eq!(stop.status, Status::Destroyed, "{stop:?}");
    let told = stack.slack(&event).len();
    let v = dog
        .run(&watch(Expect::Down), None)
        .await
        .expect("a verdict");
    assert!(
        v.ok && v.paged.is_none() && v.seen.is_empty(),
        "down: {v:?}"
    );
    assert_eq!(stack.slack(&event).len(), told, "quiet when down");
}

/// The on-call's subscription to the alarm topic: an SQS queue.
struct OnCall {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl OnCall {
    /// The next message published to the topic (raw delivery: the text as published).
    async fn receive(&self) -> String {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .wait_time_seconds(2)
            .send()
            .await
            .expect("ReceiveMessage");
        out.messages()
            .first()
            .and_then(|m| m.body())
            .expect("a message on the alarm topic")
            .to_owned()
    }
}

/// The watchdogs with the stack's dependencies and an alarm topic of their own, subscribed by a
/// queue. One look at the opening (the readiness bound shorter than the interval).
async fn watchdog(stack: &Stack, event: &str) -> (Watchdog, OnCall) {
    let sns = aws_sdk_sns::Client::new(&stack.sdk);
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let topic = sns
        .create_topic()
        .name(format!("{event}-alarms"))
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn
        .expect("a topic ARN");
    let url = sqs
        .create_queue()
        .queue_name(format!("{event}-oncall"))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("a queue URL");
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .and_then(|a| {
            a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .cloned()
        })
        .expect("the queue's ARN");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("Subscribe");
    let deps = stack
        .deps_with(|c| {
            c.module_dir = None;
            c.final_migration = false;
            c.ready.watch = Duration::from_secs(3);
        })
        .await;
    let dog = Watchdog {
        deps,
        pager: Some(Arc::new(SnsPager::new(sns, topic))),
    };
    (dog, OnCall { sqs, url })
}
