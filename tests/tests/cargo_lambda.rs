//! The README's path: `cargo lambda watch` (a local Lambda Runtime API running the real binaries with
//! the local stack's settings) and `cargo lambda invoke --data-file events/*.json`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use event_tier_tests::{Stack, fixture_module, root};
use serde_json::Value;

fn cargo_lambda() -> PathBuf {
    root().join(".local/venv/bin/cargo-lambda")
}

/// Stops `cargo lambda watch` by signalling the cargo-lambda process itself, then its whole group.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.0.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{pid}")])
            .status();
        let _ = self.0.wait();
    }
}

fn invoke(port: u16, function: &str, data_file: &str) -> Value {
    let out = Command::new(cargo_lambda())
        .args([
            "lambda",
            "invoke",
            function,
            "--data-file",
            data_file,
            "-A",
            "127.0.0.1",
            "-P",
        ])
        .arg(port.to_string())
        .current_dir(root())
        .output()
        .expect("cargo lambda invoke runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "invoke {function} failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("invoke {function} printed no JSON ({e}): {stdout}"))
}

#[tokio::test]
async fn cargo_lambda_invoke_runs_start_and_stop_with_the_sample_payloads_and_logs_no_secret() {
    let stack = Stack::get().await;
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::create_dir_all(root().join(".local/logs")).unwrap();
    let log_path = root().join(format!(".local/logs/cargo-lambda-watch-{port}.log"));
    let log = std::fs::File::create(&log_path).unwrap();
    use std::os::unix::process::CommandExt;
    let child = Command::new(cargo_lambda())
        .args([
            "lambda",
            "watch",
            "--ignore-changes",
            "--timeout",
            "900",
            "-A",
            "127.0.0.1",
            "-P",
        ])
        .arg(port.to_string())
        .env("EVENT_TIER_MODULE_DIR", fixture_module())
        .env(
            "PATH",
            format!(
                "{}:{}",
                root().join(".local/venv/bin").display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .expect("cargo lambda watch starts");
    let _watch = Watch(child);
    let until = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < until,
            "cargo lambda watch did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let event = "winter-sale-2026";
    let out = invoke(port, "event-start", "events/start.json");
    assert_eq!(out["status"], "applied", "{out}");
    assert_eq!(out["event_id"], event);
    let runners = stack.live_instances(event).await;
    assert_eq!(runners.len(), 1, "{runners:?}");
    assert_eq!(out["instance_id"], runners[0].id.as_str());
    let mut resources = stack.state_resources(event).await;
    resources.sort();
    assert_eq!(
        resources,
        ["aws_cloudwatch_log_group.tier", "aws_security_group.tier"]
    );
    assert!(
        stack
            .slack(event)
            .iter()
            .any(|p| p.text.contains("start succeeded"))
    );

    let out = invoke(port, "event-stop", "events/stop.json");
    assert_eq!(out["status"], "destroyed", "{out}");
    assert!(stack.live_instances(event).await.is_empty());
    assert!(stack.state_resources(event).await.is_empty());
    assert!(
        stack
            .slack(event)
            .iter()
            .any(|p| p.text.contains("stop succeeded"))
    );

    // No secret in the functions' logs or in what Slack received.
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("terraform: Apply complete!"),
        "the log holds the functions' output"
    );
    let slack: Vec<String> = stack.slack(event).into_iter().map(|p| p.text).collect();
    let pem = std::fs::read_to_string(format!(
        "{}/ssh/runner_key",
        stack.var("EVENT_TIER_LOCAL_STACK")
    ))
    .unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    let webhook = sm
        .get_secret_value()
        .secret_id(stack.var("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN"))
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_owned();
    let token = webhook.rsplit('/').next().unwrap().to_owned();
    let mut secrets: Vec<&str> = pem.lines().filter(|l| l.len() > 20).collect();
    secrets.push(&webhook);
    secrets.push(&token);
    secrets.push("PRIVATE KEY");
    for secret in secrets {
        assert!(
            !logs.contains(secret),
            "a secret is in the function's log: {secret:.12}..."
        );
        assert!(
            !slack.iter().any(|t| t.contains(secret)),
            "a secret reached Slack"
        );
    }
}
