//! The README's path: `cargo lambda watch` (a local Lambda Runtime API running the real binaries with
//! the local stack's settings) and `cargo lambda invoke --data-file events/*.json`.

use event_tier_tests::watch::{Functions, Watch};
use event_tier_tests::{Stack, fixture_module, root};

#[tokio::test]
async fn cargo_lambda_invoke_runs_start_and_stop_with_the_sample_payloads_and_logs_no_secret() {
    let stack = Stack::get().await;
    std::fs::create_dir_all(root().join(".local/logs")).unwrap();
    let log_path = root().join(format!(
        ".local/logs/cargo-lambda-watch-{}.log",
        std::process::id()
    ));
    let fixture = fixture_module();
    // The small tier of the tests, which has no DMS task to migrate.
    let env = [
        ("EVENT_TIER_MODULE_DIR", fixture.to_str().unwrap()),
        ("EVENT_TIER_FINAL_MIGRATION", "off"),
    ];
    let watch = Watch::start(&env, &log_path, true, Functions::Built);
    let invoke = |f: &str, file: &str| {
        watch
            .invoke(f, file)
            .unwrap_or_else(|e| panic!("invoke {f}: {e}"))
    };

    let event = "winter-sale-2026";
    let out = invoke("event-start", "events/start.json");
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

    let out = invoke("event-stop", "events/stop.json");
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
    // Each invocation logs where its time went (event_core::timing): the start made AWS calls,
    // connected once, sent the run's files in one transfer and followed a Terraform run that the
    // runner timed.
    let timings: Vec<&str> = logs.lines().filter(|l| l.contains(" timings ")).collect();
    assert!(
        timings.len() >= 2,
        "one timings line per invocation: {timings:?}"
    );
    let field = |line: &str, name: &str| -> f64 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {line}"))
    };
    let start = timings[0];
    assert!(field(start, "aws_calls") >= 3.0, "{start}");
    assert_eq!(field(start, "ssh_connects"), 1.0, "{start}");
    assert_eq!(
        field(start, "uploads"),
        1.0,
        "the run's files travel as one archive: {start}"
    );
    assert!(field(start, "terraform_ms") > 1000.0, "{start}");
    assert!(
        field(start, "own_ms") < field(start, "wall_ms") - field(start, "terraform_ms") + 1.0,
        "{start}"
    );
    let slack: Vec<String> = stack.slack(event).into_iter().map(|p| p.text).collect();
    let secrets = stack.secrets().await;
    for (what, secret) in &secrets {
        assert!(!logs.contains(secret), "{what} is in the function's log");
        assert!(
            !slack.iter().any(|t| t.contains(secret)),
            "{what} reached Slack"
        );
    }
}
