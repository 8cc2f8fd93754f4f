//! Faults against the local stack: SSH (host key mismatch, refused, wrong or malformed key), secrets
//! (PEM or webhook missing), a runner that disappears mid-run. Each has a clear outcome naming the
//! stage, reaches Slack when Slack can be reached, and leaks no secret.

use std::time::Duration;

use event_core::{Deadline, Invocation, Status};
use event_tier_tests::{Stack, unique_event};
use serde_json::json;

async fn start_fails_at_ssh(stack: &Stack, deps: &event_core::Deps, event: &str) -> String {
    let err = event_core::flows::start::run(deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the start fails");
    assert_eq!(err.stage, event_core::Stage::Ssh, "{err}");
    let posts = stack.slack(event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `ssh`"),
        "{}",
        posts[0].text
    );
    assert!(stack.state(event).await.is_none(), "nothing was applied");
    err.to_string()
}

/// The stop after a failed start: nothing to destroy, but the runner the start launched is terminated.
async fn stop(stack: &Stack, event: &str) {
    let deps = stack.deps().await;
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(
        out.message.contains("Resources: 0 destroyed"),
        "{}",
        out.message
    );
    assert!(
        stack.live_instances(event).await.is_empty(),
        "no runner left"
    );
}

#[tokio::test]
async fn host_key_mismatch_is_refused_before_authenticating() {
    let stack = Stack::get().await;
    let deps = stack
        .deps_with(|c| {
            c.ssh.host_key_sha256 = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into();
            c.runner.ready_timeout = Duration::from_secs(2);
        })
        .await;
    let event = unique_event("host-key");
    let err = start_fails_at_ssh(&stack, &deps, &event).await;
    assert!(err.contains("host key mismatch"), "{err}");
    assert!(
        err.contains(stack.var("EVENT_TIER_RUNNER_HOST_KEY_SHA256")),
        "names the key it saw: {err}"
    );
    stop(&stack, &event).await;
}

#[tokio::test]
async fn refused_connection_fails_the_ssh_stage() {
    let stack = Stack::get().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let deps = stack
        .deps_with(|c| {
            c.ssh.endpoint_override = Some(format!("127.0.0.1:{closed}"));
            c.runner.ready_timeout = Duration::from_secs(2);
        })
        .await;
    let event = unique_event("refused");
    let err = start_fails_at_ssh(&stack, &deps, &event).await;
    assert!(err.contains("cannot connect"), "{err}");
    stop(&stack, &event).await;
}

#[tokio::test]
async fn wrong_key_in_the_secret_fails_authentication() {
    let stack = Stack::get().await;
    // A freshly generated key the runner does not know.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(ok.success());
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    let event = unique_event("wrong-key");
    let arn = sm
        .create_secret()
        .name(format!("test/{event}/key"))
        .secret_string(std::fs::read_to_string(&key).unwrap())
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let deps = stack
        .deps_with(|c| {
            c.runner_key_secret = arn;
            c.runner.ready_timeout = Duration::from_secs(2);
        })
        .await;
    let err = start_fails_at_ssh(&stack, &deps, &event).await;
    assert!(err.contains("authentication failed"), "{err}");
    assert!(!err.contains("PRIVATE KEY"), "the key is not in the error");
    stop(&stack, &event).await;
}

#[tokio::test]
async fn missing_pem_secret_fails_the_key_stage_and_names_the_secret() {
    let stack = Stack::get().await;
    let missing =
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:event-tier/no-such-key-AbCdEf";
    let deps = stack
        .deps_with(|c| c.runner_key_secret = missing.into())
        .await;
    let event = unique_event("no-pem");
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("no key, no SSH");
    assert_eq!(err.stage, event_core::Stage::Key, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("secret {missing}: does not exist")),
        "{err}"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `key`"),
        "{}",
        posts[0].text
    );
    stop(&stack, &event).await;
}

#[tokio::test]
async fn malformed_pem_fails_authentication_without_echoing_the_secret() {
    let stack = Stack::get().await;
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    let event = unique_event("bad-pem");
    let garbage = format!("not-a-key-{event}-do-not-print");
    let arn = sm
        .create_secret()
        .name(format!("test/{event}/key"))
        .secret_string(&garbage)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let deps = stack
        .deps_with(|c| {
            c.runner_key_secret = arn;
            c.runner.ready_timeout = Duration::from_secs(2);
        })
        .await;
    let err = start_fails_at_ssh(&stack, &deps, &event).await;
    assert!(err.contains("authentication failed"), "{err}");
    assert!(
        !err.contains(&garbage),
        "the secret's value is not in the error: {err}"
    );
    assert!(!stack.slack(&event)[0].text.contains(&garbage));
    stop(&stack, &event).await;
}

#[tokio::test]
async fn missing_webhook_secret_does_not_change_the_outcome() {
    let stack = Stack::get().await;
    let deps = stack
        .deps_with(|c| {
            c.slack_webhook_secret =
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:no-hook-AbCdEf".into()
        })
        .await;
    let event = unique_event("no-webhook");
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("a missing webhook does not fail a good start");
    assert_eq!(out.status, Status::Applied);
    let err = event_core::flows::start::run(
        &deps,
        json!({ "event_id": event, "vars": { "fail_apply": true } }),
        Deadline::none(),
    )
    .await
    .expect_err("the failing apply is still the result");
    assert!(
        err.to_string().contains("terraform apply exited 1"),
        "{err}"
    );
    assert!(stack.slack(&event).is_empty(), "nothing could be posted");
    let healthy = stack.deps().await;
    let out =
        event_core::flows::stop::run(&healthy, json!({ "event_id": event }), Deadline::none())
            .await
            .unwrap();
    assert_eq!(out.status, Status::Destroyed);
}

const FOLLOW_UP_ROLE: &str = "arn:aws:iam::123456789012:role/event-tier-follow-up";
const START_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-start";

#[tokio::test]
async fn runner_terminated_during_a_run_is_reported_once_not_waited_on() {
    let stack = Stack::get().await;
    let deps = stack
        .deps_with(|c| c.follow_up_role_arn = Some(FOLLOW_UP_ROLE.into()))
        .await;
    let event = unique_event("runner-gone");
    // A run that outlives a short deadline: handed over to a follow-up.
    let out = event_core::flows::start::run(
        &deps,
        json!({ "event_id": event, "vars": { "apply_sleep": 20 } }),
        Invocation {
            deadline: Deadline::after(Duration::from_secs(12)),
            function_arn: Some(START_ARN.into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(out.status, Status::InProgress, "{out:?}");
    let run_id = out.run_id.unwrap();
    // The runner disappears (a spot reclaim, a mistaken click).
    let iid = out.instance_id.unwrap();
    stack
        .ec2()
        .terminate_instances()
        .instance_ids(&iid)
        .send()
        .await
        .unwrap();

    let follow = json!({ "event_id": event, "follow": { "run_id": run_id } });
    let err = event_core::flows::start::run(&deps, follow.clone(), Deadline::none())
        .await
        .expect_err("the run has no outcome");
    assert_eq!(err.stage, event_core::Stage::Runner, "{err}");
    assert!(err.to_string().contains("runner is gone"), "{err}");
    // Delivered again: already reported, so no error (no alarm, no retry), and no second post.
    let again = event_core::flows::start::run(&deps, follow.clone(), Deadline::none())
        .await
        .expect("a duplicate follow-up is no failure");
    assert_eq!(again.status, Status::AlreadyReported, "{again:?}");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "reported once: {posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `runner`"),
        "{}",
        posts[0].text
    );

    // On the local stack the "runner" (the sshd) lives on, and so does the run: once it has written
    // its state, a stop (on a fresh runner) destroys what it made.
    let until = std::time::Instant::now() + Duration::from_secs(120);
    while stack.state_resources(&event).await.len() < 3 {
        assert!(std::time::Instant::now() < until, "the run never ended");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    loop {
        let out =
            event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
                .await
                .unwrap();
        if out.status != Status::Busy {
            assert_eq!(out.status, Status::Destroyed, "{out:?}");
            break;
        }
        assert!(std::time::Instant::now() < until, "the run never ended");
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(stack.state_resources(&event).await.is_empty());
    assert!(stack.live_instances(&event).await.is_empty());
}
