//! A runner that never becomes usable: it never reaches `running` (stopped right after its launch,
//! through the EC2 API), or its user data never finishes (no `.ready` in its work directory). Both
//! are bounded by `EVENT_TIER_RUNNER_READY_TIMEOUT_SECS`, fail with the stage named (in the result
//! and on Slack), and leave no runner running: it is terminated and its claim released, so the next
//! start launches a fresh one and a stop finds the event already down.

use std::time::{Duration, Instant};

use event_core::{Deadline, Stage, Status};
use event_tier_tests::fault_proxy::FaultProxy;
use event_tier_tests::{Stack, unique_event};
use serde_json::json;

/// What a user checks after the failure: the runner terminated, its claim gone, nothing applied,
/// and a stop that finds nothing to do.
async fn nothing_left(stack: &Stack, event: &str, instance_id: &str) {
    let all = stack.instances(event).await;
    assert_eq!(all.len(), 1, "one runner was launched: {all:?}");
    assert_eq!(all[0].id, instance_id);
    assert_eq!(all[0].state, "terminated", "{all:?}");
    assert_eq!(stack.runner_claim(event).await, None, "claim released");
    assert!(stack.state(event).await.is_none(), "nothing was applied");
    let deps = stack.deps().await;
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::AlreadyDown, "{out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_that_never_reaches_running_is_terminated_at_the_ready_timeout() {
    let stack = Stack::get().await;
    // The launch's answer is held for 4 s (a slow EC2 API): time to stop the new instance before
    // the function looks at it.
    let proxy = FaultProxy::start(stack.var("AWS_ENDPOINT_URL"));
    proxy
        .rule(
            json!({ "service": "ec2", "action": "RunInstances", "fault": "none",
                      "delay_response": 4, "count": 1 }),
        )
        .await;
    let ready = Duration::from_secs(2);
    let deps = stack
        .deps_through(&proxy.url, |c| c.runner.ready_timeout = ready)
        .await;
    let event = unique_event("never-running");
    let began = Instant::now();
    let (res, stopped) = tokio::join!(
        event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none()),
        async {
            let until = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(i) = stack.live_instances(&event).await.into_iter().next() {
                    stack
                        .ec2()
                        .stop_instances()
                        .instance_ids(&i.id)
                        .send()
                        .await
                        .unwrap();
                    return i.id;
                }
                assert!(Instant::now() < until, "no runner was launched");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    );
    let took = began.elapsed();
    eprintln!("never running: stage runner failed after {took:?}");
    let err = res.expect_err("the runner never runs");
    assert_eq!(err.stage, Stage::Runner, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!(
            "runner {stopped}: did not reach running within 2s (it is stopped); it was terminated"
        )),
        "{msg}"
    );
    assert_eq!(err.error_type(), "Runner");
    // The held answer, then the ready timeout, then the termination.
    assert!(
        took < Duration::from_secs(4) + ready + Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(proxy.counts("ec2", "RunInstances").await, (1, 0, 1));
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `runner`")
            && posts[0].text.contains(&stopped)
            && posts[0].text.contains("terminated"),
        "{}",
        posts[0].text
    );
    nothing_left(&stack, &event, &stopped).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_whose_user_data_never_finishes_is_terminated_at_the_ready_timeout() {
    let stack = Stack::get().await;
    // A work directory without the `.ready` mark the user data writes last.
    let workdir = tempfile::tempdir().unwrap();
    let ready = Duration::from_secs(3);
    let deps = stack
        .deps_with(|c| {
            c.runner.workdir = workdir.path().to_str().unwrap().to_owned();
            c.runner.ready_timeout = ready;
        })
        .await;
    let event = unique_event("never-ready");
    let began = Instant::now();
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the runner never gets ready");
    let took = began.elapsed();
    eprintln!("never ready: stage boot failed after {took:?}");
    assert_eq!(err.stage, Stage::Boot, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("not ready 3s after launch: its user data did not finish")
            && msg.contains("it was terminated: the next start launches a fresh runner"),
        "{msg}"
    );
    assert!(
        took >= ready && took < ready + Duration::from_secs(4),
        "{took:?}"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `boot`")
            && posts[0].text.contains("terminated"),
        "{}",
        posts[0].text
    );
    let iid = stack.instances(&event).await[0].id.clone();
    assert!(msg.contains(&iid), "names the runner: {msg}");
    nothing_left(&stack, &event, &iid).await;
    assert!(
        std::fs::read_dir(workdir.path()).unwrap().next().is_none(),
        "nothing was started on it"
    );
}

/// The run's files and its start travel in one remote command; an archive that cannot be unpacked
/// fails the start at stage `prepare`, and the runner starts nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_files_cannot_be_unpacked_fails_at_prepare_and_starts_nothing() {
    let stack = Stack::get().await;
    let deps = stack.deps_with(|_| {}).await;
    let event = unique_event("no-unpack");
    // `runs` as a file: the run's directory under it cannot be made.
    let dir = std::path::Path::new(&deps.config.runner.workdir).join(&event);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("runs"), "not a directory").unwrap();

    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the files cannot be unpacked");
    assert_eq!(err.stage, Stage::Prepare, "{err}");
    assert!(err.to_string().contains("exit 86"), "{err}");
    assert!(
        !dir.join("current").exists() && !dir.join("lock").exists(),
        "nothing was started"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `prepare`"),
        "{}",
        posts[0].text
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
