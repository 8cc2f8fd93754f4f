//! SSH faults during a Terraform run, against the real sshd "runner": the connection dropped
//! mid-run (reconnected), lost for good (handed over, reported once by the follow-up), a remote
//! command that hangs (bounded by `EVENT_TIER_SSH_TIMEOUT_SECS`), and a runner whose SSH accepts and
//! then stalls. A small TCP proxy the test controls sits between the functions and sshd.

use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use event_core::{Deadline, Stage, Status};
use event_tier_tests::{Stack, unique_event};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::AbortHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Bytes flow both ways.
    Forward,
    /// Connections are accepted (new ones too) and nothing flows: a peer that stopped answering.
    Stall,
    /// New connections are closed as soon as they are accepted.
    Refuse,
}

/// A TCP proxy in front of the runner's sshd.
struct SshProxy {
    addr: String,
    mode: watch::Sender<Mode>,
    accepted: Arc<AtomicUsize>,
    conns: Arc<Mutex<Vec<AbortHandle>>>,
    accept: AbortHandle,
}

impl SshProxy {
    async fn start(upstream: &str) -> SshProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (mode, rx) = watch::channel(Mode::Forward);
        let accepted = Arc::new(AtomicUsize::new(0));
        let conns: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let (upstream, n, all) = (upstream.to_owned(), accepted.clone(), conns.clone());
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                n.fetch_add(1, Ordering::SeqCst);
                if *rx.borrow() == Mode::Refuse {
                    continue; // dropped: closed
                }
                let (rx, upstream) = (rx.clone(), upstream.clone());
                let conn = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    tokio::join!(pump(cr, sw, rx.clone()), pump(sr, cw, rx));
                });
                all.lock().unwrap().push(conn.abort_handle());
            }
        })
        .abort_handle();
        SshProxy {
            addr,
            mode,
            accepted,
            conns,
            accept,
        }
    }

    fn set(&self, mode: Mode) {
        self.mode.send_replace(mode);
    }

    /// Drops every open connection (both sides see it close), as a network path that broke.
    fn cut(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SshProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// Copies one direction; while the proxy stalls, what was read is held back.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut mode: watch::Receiver<Mode>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if mode.wait_for(|m| *m != Mode::Stall).await.is_err() {
            break;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// The event's directory on the runner (the local sshd's work directory).
fn event_dir(stack: &Stack, event: &str) -> PathBuf {
    PathBuf::from(stack.var("EVENT_TIER_RUNNER_WORKDIR")).join(event)
}

/// Waits until the event's current run is in `stage` on the runner; returns the run id.
async fn run_in_stage(stack: &Stack, event: &str, stage: &str) -> String {
    let dir = event_dir(stack, event);
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(run) = std::fs::read_to_string(dir.join("current")) {
            let run = run.trim().to_owned();
            let now = std::fs::read_to_string(dir.join("runs").join(&run).join("stage"));
            if now.is_ok_and(|s| s.trim() == stage) {
                return run;
            }
        }
        assert!(Instant::now() < until, "the run never reached {stage}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn stop(stack: &Stack, event: &str) {
    let deps = stack.deps().await;
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("the stop after the fault cleans up");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(stack.state_resources(event).await.is_empty());
    assert!(
        stack.live_instances(event).await.is_empty(),
        "no runner left"
    );
}

/// Invokes the start again with the run's id (the follow-up) until the run has ended.
async fn follow_up(deps: &event_core::Deps, event: &str, run_id: &str) -> event_core::Outcome {
    let payload = json!({ "event_id": event, "follow": { "run_id": run_id } });
    event_core::flows::start::run(deps, payload, Deadline::none())
        .await
        .expect("the follow-up reports the run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_ssh_connection_mid_run_is_reopened_and_the_run_reported_once() {
    let stack = Stack::get().await;
    let proxy = SshProxy::start(stack.var("EVENT_TIER_RUNNER_SSH_ENDPOINT")).await;
    let deps = stack
        .deps_with(|c| c.ssh.endpoint_override = Some(proxy.addr.clone()))
        .await;
    let event = unique_event("ssh-dropped");
    let payload = json!({ "event_id": event, "vars": { "apply_sleep": 6 } });
    let (out, run) = tokio::join!(
        event_core::flows::start::run(&deps, payload, Deadline::none()),
        async {
            let run = run_in_stage(&stack, &event, "apply").await;
            proxy.cut();
            run
        }
    );
    let out = out.expect("the start survives the dropped connection");
    assert_eq!(out.status, Status::Applied, "{out:?}");
    assert_eq!(out.run_id.as_deref(), Some(run.as_str()));
    assert_eq!(proxy.accepted(), 2, "one new session after the drop");
    // The log was followed to its end over the new session.
    assert!(
        out.message.contains("Apply complete! Resources: 3 added"),
        "{}",
        out.message
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start succeeded") && posts[0].text.contains(&run),
        "{}",
        posts[0].text
    );
    stop(&stack, &event).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssh_lost_for_good_mid_run_is_handed_over_and_reported_once_by_the_follow_up() {
    let stack = Stack::get().await;
    let proxy = SshProxy::start(stack.var("EVENT_TIER_RUNNER_SSH_ENDPOINT")).await;
    let timeout = Duration::from_secs(2);
    let deps = stack
        .deps_with(|c| {
            c.ssh.endpoint_override = Some(proxy.addr.clone());
            c.ssh.timeout = timeout;
        })
        .await;
    let event = unique_event("ssh-lost");
    let payload = json!({ "event_id": event, "vars": { "apply_sleep": 6 } });
    let (err, (run, cut_at)) = tokio::join!(
        event_core::flows::start::run(&deps, payload, Deadline::none()),
        async {
            let run = run_in_stage(&stack, &event, "apply").await;
            proxy.set(Mode::Refuse);
            proxy.cut();
            (run, Instant::now())
        }
    );
    let took = cut_at.elapsed();
    eprintln!("lost for good: the invocation gave up {took:?} after the cut");
    let err = err.expect_err("the runner cannot be reached again");
    assert_eq!(err.stage, Stage::Follow, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("contact lost while following run {run}")),
        "{msg}"
    );
    assert!(
        msg.contains("the run goes on on the runner")
            && msg.contains(&format!(r#""follow":{{"run_id":"{run}"}}"#)),
        "says how its outcome is picked up: {msg}"
    );
    // Reconnecting is tried for the SSH timeout, then the invocation gives up.
    assert!(
        took >= timeout && took < timeout * 3 + Duration::from_secs(3),
        "{took:?}"
    );
    assert!(
        proxy.accepted() >= 2,
        "reconnecting was tried: {}",
        proxy.accepted()
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `follow`") && posts[0].text.contains(&run),
        "{}",
        posts[0].text
    );

    // The run went on; the follow-up (the runner reachable again) reports its outcome, once.
    proxy.set(Mode::Forward);
    let out = follow_up(&deps, &event, &run).await;
    assert_eq!(out.status, Status::Applied, "{out:?}");
    let again = follow_up(&deps, &event, &run).await;
    assert_eq!(again.status, Status::Applied, "{again:?}");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 2, "the outcome reported once: {posts:?}");
    assert!(
        posts[1].text.contains("start succeeded") && posts[1].text.contains(&run),
        "{}",
        posts[1].text
    );
    stop(&stack, &event).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_remote_command_is_bounded_by_the_ssh_timeout_and_names_the_stage() {
    let stack = Stack::get().await;
    let timeout = Duration::from_secs(2);
    let deps = stack.deps_with(|c| c.ssh.timeout = timeout).await;
    let event = unique_event("ssh-hung");
    // Long enough that the run is still going when the hung polls have used up their time.
    let payload = json!({ "event_id": event, "vars": { "apply_sleep": 12 } });
    let current = event_dir(&stack, &event).join("current");
    let (err, (run, hung_at)) = tokio::join!(
        event_core::flows::start::run(&deps, payload, Deadline::none()),
        async {
            let run = run_in_stage(&stack, &event, "apply").await;
            // The poll reads the run's `current` file: as a FIFO nobody writes, that read hangs.
            std::fs::rename(&current, current.with_extension("real")).unwrap();
            let ok = std::process::Command::new("mkfifo")
                .arg(&current)
                .status()
                .unwrap();
            assert!(ok.success());
            (run, Instant::now())
        }
    );
    let took = hung_at.elapsed();
    eprintln!("hung command: the invocation gave up {took:?} after the hang");
    let err = err.expect_err("the hung command fails the invocation");
    assert_eq!(err.stage, Stage::Follow, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("contact lost while following run {run}"))
            && msg.contains("no answer within 2s"),
        "{msg}"
    );
    // The poll in flight, one retry on a new session, each bounded by the timeout.
    assert!(
        took >= timeout && took < timeout * 3 + Duration::from_secs(3),
        "{took:?}"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `follow`")
            && posts[0].text.contains("no answer within 2s"),
        "{}",
        posts[0].text
    );

    // Unhang the commands still blocked on the runner (a writer releases the FIFO's readers), put
    // the file back, and let the follow-up report the run.
    // O_NONBLOCK: fails at once (ENXIO) rather than waiting if no reader is left.
    if let Ok(mut fifo) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(0o4000)
        .open(&current)
    {
        let _ = std::io::Write::write_all(&mut fifo, format!("{run}\n").as_bytes());
    }
    std::fs::rename(current.with_extension("real"), &current).unwrap();
    let out = follow_up(&deps, &event, &run).await;
    assert_eq!(out.status, Status::Applied, "{out:?}");
    assert_eq!(stack.slack(&event).len(), 2);
    stop(&stack, &event).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_ssh_handshake_fails_the_ssh_stage_in_bounded_time_and_the_runner_stays_tracked() {
    let stack = Stack::get().await;
    let proxy = SshProxy::start(stack.var("EVENT_TIER_RUNNER_SSH_ENDPOINT")).await;
    proxy.set(Mode::Stall);
    let (timeout, ready) = (Duration::from_secs(2), Duration::from_secs(3));
    let deps = stack
        .deps_with(|c| {
            c.ssh.endpoint_override = Some(proxy.addr.clone());
            c.ssh.timeout = timeout;
            c.runner.ready_timeout = ready;
        })
        .await;
    let event = unique_event("ssh-stalled");
    let began = Instant::now();
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("nothing answers");
    let took = began.elapsed();
    eprintln!("stalled handshake: stage ssh failed after {took:?}");
    assert_eq!(err.stage, Stage::Ssh, "{err}");
    assert!(
        err.to_string()
            .contains("handshake failed: no answer within 2s"),
        "{err}"
    );
    // Connecting is retried while a new runner may still be booting, each attempt bounded.
    assert!(
        took < ready + timeout * 2 + Duration::from_secs(3),
        "{took:?}"
    );
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start failed at stage `ssh`"),
        "{}",
        posts[0].text
    );
    // An unreachable runner may be busy with a run: it is kept, tracked by its tags and claim.
    stack.assert_runner_tracked(&event).await;
    stop(&stack, &event).await;
    assert_eq!(stack.runner_claim(&event).await, None);
}
