//! SSH faults against the local stack: each one fails the start at the `ssh` stage with a clear
//! error, reaches Slack with the stage, and authenticates nowhere it should not.

use std::time::Duration;

use event_core::{Deadline, Status};
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
