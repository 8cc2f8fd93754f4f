//! AWS throttling and 5xx, injected for real by `local/fault_proxy.py` between the functions and
//! moto (Terraform on the runner still reaches moto directly). Transient faults are absorbed by the
//! SDK's own retry settings (standard mode, 3 attempts) and the proxy's counters show the retries;
//! lasting ones fail the flow with the stage and the AWS error code named, on Slack too, and leave
//! nothing untracked: a failed launch releases its claim, a launched runner stays tracked, and a
//! following stop cleans up.

use event_core::{Deadline, Stage, Status};
use event_tier_tests::fault_proxy::FaultProxy;
use event_tier_tests::{Stack, unique_event};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_throttling_and_5xx_are_retried_by_the_sdk_and_the_lifecycle_succeeds() {
    let stack = Stack::get().await;
    let proxy = FaultProxy::start(stack.var("AWS_ENDPOINT_URL"));
    let deps = stack.deps_through(&proxy.url, |_| {}).await;
    let event = unique_event("aws-transient");
    // Two faults each: the third attempt of each call gets through.
    proxy
        .fail("ec2", "DescribeInstances", "throttling", 2)
        .await;
    proxy.fail("ec2", "RunInstances", "503", 2).await;
    proxy.fail("s3", "PutObject", "500", 2).await;
    proxy
        .fail("secretsmanager", "GetSecretValue", "throttling", 2)
        .await;
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("transient faults are retried");
    assert_eq!(out.status, Status::Applied, "{out:?}");
    eprintln!("start through the proxy: {}", proxy.counters().await);
    for (service, action) in [
        ("ec2", "DescribeInstances"),
        ("ec2", "RunInstances"),
        ("s3", "PutObject"),
        ("secretsmanager", "GetSecretValue"),
    ] {
        let (requests, faulted, forwarded) = proxy.counts(service, action).await;
        assert_eq!(faulted, 2, "{service}:{action}");
        assert!(
            forwarded >= 1 && requests == faulted + forwarded,
            "{service}:{action}: {requests} {faulted} {forwarded}"
        );
    }
    assert_eq!(
        proxy.counts("ec2", "RunInstances").await,
        (3, 2, 1),
        "one launch, in three attempts"
    );
    assert_eq!(stack.live_instances(&event).await.len(), 1, "one runner");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start succeeded"),
        "{}",
        posts[0].text
    );

    proxy.reset().await;
    proxy
        .fail("ec2", "TerminateInstances", "throttling", 2)
        .await;
    proxy.fail("s3", "GetObject", "503", 2).await;
    proxy.fail("s3", "DeleteObject", "throttling", 2).await;
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("transient faults are retried");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    eprintln!("stop through the proxy: {}", proxy.counters().await);
    assert_eq!(proxy.counts("ec2", "TerminateInstances").await, (3, 2, 1));
    assert_eq!(proxy.counts("s3", "GetObject").await.1, 2);
    assert_eq!(proxy.counts("s3", "DeleteObject").await.1, 2);
    assert!(stack.live_instances(&event).await.is_empty());
    assert!(stack.state_resources(&event).await.is_empty());
    assert_eq!(stack.runner_claim(&event).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_throttling_of_the_launch_fails_the_runner_stage_and_releases_the_claim() {
    let stack = Stack::get().await;
    let proxy = FaultProxy::start(stack.var("AWS_ENDPOINT_URL"));
    let deps = stack.deps_through(&proxy.url, |_| {}).await;
    let event = unique_event("aws-launch-throttled");
    proxy.fail("ec2", "RunInstances", "throttling", -1).await;
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("no runner can be launched");
    assert_eq!(err.stage, Stage::Runner, "{err}");
    assert!(
        err.to_string()
            .starts_with("runner failed: ec2 RunInstances failed (RequestLimitExceeded)"),
        "{err}"
    );
    assert_eq!(err.error_type(), "Aws.Retryable");
    assert_eq!(
        proxy.counts("ec2", "RunInstances").await,
        (3, 3, 0),
        "the SDK's three attempts, no more"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `runner`")
            && posts[0].text.contains("RequestLimitExceeded"),
        "{}",
        posts[0].text
    );
    assert!(stack.instances(&event).await.is_empty(), "nothing launched");
    assert_eq!(
        stack.runner_claim(&event).await,
        None,
        "the claim is released: the next start need not wait on it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_5xx_fails_the_key_then_the_terminate_stage_and_a_later_stop_cleans_up() {
    let stack = Stack::get().await;
    let proxy = FaultProxy::start(stack.var("AWS_ENDPOINT_URL"));
    let deps = stack.deps_through(&proxy.url, |_| {}).await;
    let event = unique_event("aws-lasting-5xx");
    // Only the runner's key: the Slack webhook's secret is still read.
    proxy
        .rule(
            json!({ "service": "secretsmanager", "action": "GetSecretValue", "fault": "500",
                      "match": "runner-ssh-key", "count": -1 }),
        )
        .await;
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the key cannot be read");
    assert_eq!(err.stage, Stage::Key, "{err}");
    assert!(
        err.to_string()
            .contains("secretsmanager GetSecretValue failed (InternalFailure)"),
        "{err}"
    );
    assert_eq!(err.error_type(), "Aws.Retryable");
    let (_, faulted, forwarded) = proxy.counts("secretsmanager", "GetSecretValue").await;
    assert_eq!(
        (faulted, forwarded),
        (3, 1),
        "three attempts at the key; the webhook read"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `key`"),
        "{}",
        posts[0].text
    );
    // The runner it launched is tracked: tagged, and named by the claim.
    stack.assert_runner_tracked(&event).await;

    // A stop whose terminate is throttled throughout: destroyed, but the runner stays, tracked.
    proxy.reset().await;
    proxy
        .fail("ec2", "TerminateInstances", "throttling", -1)
        .await;
    let err = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the runner cannot be terminated");
    assert_eq!(err.stage, Stage::Terminate, "{err}");
    assert!(
        err.to_string()
            .contains("ec2 TerminateInstances failed (RequestLimitExceeded)"),
        "{err}"
    );
    assert_eq!(proxy.counts("ec2", "TerminateInstances").await, (3, 3, 0));
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(
        posts[1].text.contains("stop failed at stage `terminate`"),
        "{}",
        posts[1].text
    );
    stack.assert_runner_tracked(&event).await;

    // AWS answers again: the next stop finishes the job.
    proxy.reset().await;
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the stop cleans up");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(stack.live_instances(&event).await.is_empty());
    assert_eq!(stack.runner_claim(&event).await, None);
}

/// Capacity refusals as EC2 answers them (`InsufficientInstanceCapacity`, a server error the SDK
/// retries three times): the launch tries each instance type in each runner subnet, in order.
async fn refuse_capacity(proxy: &FaultProxy, only_in: Option<&str>) {
    let mut rule = json!({ "service": "ec2", "action": "RunInstances", "fault": "500",
                           "code": "InsufficientInstanceCapacity", "count": -1 });
    if let Some(subnet) = only_in {
        rule["match"] = json!(format!("SubnetId={subnet}"));
    }
    proxy.rule(rule).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_refused_for_capacity_in_one_zone_launches_in_the_next() {
    let stack = Stack::get().await;
    let proxy = FaultProxy::start(stack.var("AWS_ENDPOINT_URL"));
    let deps = stack.deps_through(&proxy.url, |_| {}).await;
    let event = unique_event("aws-capacity-zone");
    let subnets: Vec<&str> = stack
        .var("EVENT_TIER_RUNNER_SUBNET_IDS")
        .split(',')
        .collect();
    assert!(subnets.len() >= 2, "the local stack has two runner subnets");
    refuse_capacity(&proxy, Some(subnets[0])).await;

    let id = event_core::payload::EventId::parse(&event).unwrap();
    let runner = deps
        .fleet
        .launch(&id, &format!("{event}-capacity"))
        .await
        .expect("the second zone has capacity");
    let launched = stack.instances(&event).await;
    assert_eq!(launched.len(), 1, "one runner: {launched:?}");
    assert_eq!(launched[0].id, runner.instance_id);
    assert_eq!(launched[0].subnet, subnets[1], "the next zone");
    assert_eq!(launched[0].instance_type, "t3.small", "the preferred type");
    assert_eq!(
        launched[0].tags["event-tier:launch-token"],
        format!("{event}-capacity")
    );
    assert_eq!(
        proxy.counts("ec2", "RunInstances").await,
        (4, 3, 1),
        "three attempts (the SDK's) in the first zone, one in the second"
    );
    deps.fleet
        .terminate_and_wait(&runner.instance_id, std::time::Duration::from_secs(60))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_refused_everywhere_names_each_attempt_on_slack_and_launches_nothing() {
    let stack = Stack::get().await;
    let proxy = FaultProxy::start(stack.var("AWS_ENDPOINT_URL"));
    let deps = stack.deps_through(&proxy.url, |_| {}).await;
    let event = unique_event("aws-capacity-none");
    refuse_capacity(&proxy, None).await;
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("no placement has capacity");
    assert_eq!(err.stage, Stage::Runner, "{err}");
    let placements: Vec<String> = ["t3.small", "t3a.small"]
        .iter()
        .flat_map(|t| {
            stack
                .var("EVENT_TIER_RUNNER_SUBNET_IDS")
                .split(',')
                .map(move |s| format!("{t} in {s}: InsufficientInstanceCapacity"))
        })
        .collect();
    assert_eq!(placements.len(), 4);
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    for p in &placements {
        assert!(err.to_string().contains(p.as_str()), "{p}: {err}");
        assert!(posts[0].text.contains(p.as_str()), "{p}: {}", posts[0].text);
    }
    assert!(
        posts[0].text.contains("start failed at stage `runner`"),
        "{}",
        posts[0].text
    );
    assert_eq!(
        proxy.counts("ec2", "RunInstances").await,
        (12, 12, 0),
        "four placements, three attempts each"
    );
    assert!(stack.instances(&event).await.is_empty(), "nothing launched");
    assert_eq!(
        stack.runner_claim(&event).await,
        None,
        "the claim is released"
    );
}
