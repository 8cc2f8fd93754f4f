//! The runner's real user data, as the local stack runs it (local/user-data.sh): every run's
//! Terraform installs providers from the mirror the user data unpacked from the artifacts, and can
//! reach no registry; a user data that fails (an artifact whose sha256 does not match) leaves a
//! runner without `.ready`, which the start's ready timeout terminates; and every connection the
//! runner's Terraform makes during a start and a stop goes to the local stack.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use event_core::{Deadline, Stage};
use event_tier_tests::{Stack, root, unique_event};
use serde_json::json;

fn runner_root(stack: &Stack) -> PathBuf {
    PathBuf::from(stack.var("EVENT_TIER_LOCAL_RUNNER_ROOT"))
}

/// `terraform init` in `dir` as a runner's session runs it: the environment sshd gives (credentials,
/// region, `BASH_ENV` = the profile the user data wrote), nothing of this machine's Terraform config.
fn runner_init(stack: &Stack, dir: &Path) -> std::process::Output {
    Command::new("bash")
        .args([
            "-c",
            "command -v terraform && terraform init -input=false -no-color",
        ])
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env(
            "BASH_ENV",
            runner_root(stack).join("etc/profile.d/event-tier.sh"),
        )
        .output()
        .expect("bash runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_terraform_installs_providers_from_the_artifacts_mirror_only() {
    let stack = Stack::get().await;
    let rroot = runner_root(&stack);
    let rc = std::fs::read_to_string(rroot.join("etc/event-tier/terraformrc")).unwrap();
    assert!(
        rc.contains("exclude = [\"registry.terraform.io/*/*\"]")
            && rc.contains("filesystem_mirror"),
        "{rc}"
    );

    // The tier's provider, pinned by its lock file: from the mirror the user data unpacked.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.tf"),
        "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\", version = \"5.100.0\" }\n  }\n}\n",
    )
    .unwrap();
    std::fs::copy(
        root().join("infra/event-tier/.terraform.lock.hcl"),
        dir.path().join(".terraform.lock.hcl"),
    )
    .unwrap();
    let out = runner_init(&stack, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().next().unwrap(),
        rroot.join("usr/local/bin/terraform").to_str().unwrap(),
        "the terraform the user data installed from the artifacts"
    );
    let provider = dir
        .path()
        .join(".terraform/providers/registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64")
        .canonicalize()
        .unwrap();
    assert!(
        provider.starts_with(rroot.canonicalize().unwrap()),
        "the provider comes from the runner's mirror or its cache, not {provider:?}"
    );

    // A provider the mirror does not hold is not fetched from the registry: init fails.
    let other = tempfile::tempdir().unwrap();
    std::fs::write(
        other.path().join("main.tf"),
        "terraform {\n  required_providers {\n    random = { source = \"hashicorp/random\" }\n  }\n}\n",
    )
    .unwrap();
    let out = runner_init(&stack, other.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "init must fail");
    assert!(
        stderr.contains("hashicorp/random")
            && !stderr.contains("registry.terraform.io/.well-known"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_data_with_a_corrupted_artifact_leaves_a_runner_the_ready_timeout_terminates() {
    let stack = Stack::get().await;
    let event = unique_event("corrupt-artifact");
    // The artifacts under a prefix of this test, the Terraform zip with one byte changed.
    let s3 = aws_sdk_s3::Client::new(&stack.sdk);
    let bucket = stack.var("EVENT_TIER_RUNNER_ARTIFACTS_BUCKET");
    let prefix = stack.var("EVENT_TIER_RUNNER_ARTIFACTS_PREFIX");
    let bad = format!("corrupt-{event}/");
    let tf = "terraform_1.11.4_linux_amd64.zip";
    let body = s3
        .get_object()
        .bucket(bucket)
        .key(format!("{prefix}{tf}"))
        .send()
        .await
        .unwrap();
    let mut bytes = body.body.collect().await.unwrap().into_bytes().to_vec();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    s3.put_object()
        .bucket(bucket)
        .key(format!("{bad}{tf}"))
        .body(bytes.into())
        .send()
        .await
        .unwrap();
    let mirror = "provider-mirror_linux_amd64.zip";
    s3.copy_object()
        .bucket(bucket)
        .key(format!("{bad}{mirror}"))
        .copy_source(format!("{bucket}/{prefix}{mirror}"))
        .send()
        .await
        .unwrap();

    // The user data as event-start renders it for these settings, run as the stack runs it.
    let workdir = tempfile::tempdir().unwrap();
    let sysroot = tempfile::tempdir().unwrap();
    let render = Command::new(env!("CARGO_BIN_EXE_runner-user-data"))
        .arg(&event)
        .env("EVENT_TIER_RUNNER_ARTIFACTS_PREFIX", &bad)
        .env("EVENT_TIER_RUNNER_WORKDIR", workdir.path())
        .output()
        .unwrap();
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let script = sysroot.path().join("user-data.sh");
    std::fs::write(&script, &render.stdout).unwrap();
    let run = Command::new(root().join("local/user-data.sh"))
        .arg(&script)
        .arg(sysroot.path().join("root"))
        .output()
        .unwrap();
    let log =
        String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "the user data must fail: {log}");
    assert!(log.contains("does not match its pinned sha256"), "{log}");
    assert!(
        !sysroot.path().join("root/usr/local/bin/terraform").exists(),
        "nothing installed"
    );
    assert!(!workdir.path().join(".ready").exists());

    // A start on that runner: not ready, terminated at the ready timeout.
    let ready = Duration::from_secs(3);
    let deps = stack
        .deps_with(|c| {
            c.runner.workdir = workdir.path().to_str().unwrap().to_owned();
            c.runner.ready_timeout = ready;
        })
        .await;
    let err = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect_err("the runner never gets ready");
    assert_eq!(err.stage, Stage::Boot, "{err}");
    assert!(err.to_string().contains("it was terminated"), "{err}");
    let all = stack.instances(&event).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].state, "terminated");
}

/// The addresses of the `connect(2)` calls to IP sockets in an strace log.
fn inet_connects(trace: &str) -> Vec<String> {
    trace
        .lines()
        .filter(|l| l.contains("connect(") && l.contains("sa_family=AF_INET"))
        .map(|l| {
            let addr = |key: &str| {
                l.split(key)
                    .nth(1)
                    .and_then(|rest| rest.split('"').nth(1))
                    .map(str::to_owned)
            };
            addr("inet_addr(")
                .or_else(|| addr("inet_pton(AF_INET6, "))
                .unwrap_or_else(|| l.to_owned())
        })
        .collect()
}

/// Traced from the runner's sshd down (the shell, `terraform`, its provider plugin), through a start
/// and a stop: every IP connection goes to 127.0.0.1, the local stack. A registry lookup, the
/// checkpoint service, instance metadata or a DNS query to a resolver elsewhere would show here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_runners_terraform_connects_to_the_local_stack_only() {
    let stack = Stack::get().await;
    let sshd = std::fs::read_to_string(root().join(".local/stack/ssh/sshd.pid")).unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut strace = Command::new("strace")
        .args(["-f", "--seccomp-bpf", "-qq", "-e", "trace=connect", "-o"])
        .arg(log.path())
        .args(["-p", sshd.trim()])
        .spawn()
        .expect("strace runs (make setup installs it)");
    // strace has attached once it has written its first line or a moment has passed.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let deps = stack.deps().await;
    let event = unique_event("egress");
    let out = event_core::flows::start::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("start succeeds");
    assert_eq!(out.status, event_core::Status::Applied, "{out:?}");
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .expect("stop succeeds");
    assert_eq!(out.status, event_core::Status::Destroyed, "{out:?}");

    // SIGINT: strace detaches from sshd and its children, which go on.
    let pid = i32::try_from(strace.id()).unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    strace.wait().unwrap();
    let trace = std::fs::read_to_string(log.path()).unwrap();
    let connects = inet_connects(&trace);
    let moto_port = stack
        .var("AWS_ENDPOINT_URL")
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    assert!(
        trace.contains(&format!("htons({moto_port})")),
        "the trace saw the provider's calls to moto (port {moto_port}): {}",
        &trace[..trace.len().min(2000)]
    );
    // Go probes for IPv4 and IPv6 support with UDP sockets connected to the unspecified address,
    // which Linux takes as this host: no packet leaves it.
    let elsewhere: Vec<&String> = connects
        .iter()
        .filter(|a| {
            !matches!(
                a.as_str(),
                "127.0.0.1" | "::1" | "::ffff:127.0.0.1" | "0.0.0.0" | "::"
            )
        })
        .collect();
    assert!(
        elsewhere.is_empty(),
        "the runner connected outside the local stack: {elsewhere:?}"
    );
}

#[test]
fn inet_connects_reads_strace_lines() {
    let trace = "12 connect(7, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr(\"52.1.2.3\")}, 16) = -1 EINPROGRESS\n\
                 13 connect(3, {sa_family=AF_UNIX, sun_path=\"/dev/log\"}, 110) = 0\n\
                 14 connect(8, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, \"::1\", &sin6_addr), sin6_scope_id=0}, 28) = 0\n";
    assert_eq!(inet_connects(trace), ["52.1.2.3", "::1"]);
}
