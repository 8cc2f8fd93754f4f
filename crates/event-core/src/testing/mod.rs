//! Test doubles (feature `test-util`), for other crates' tests too: a recorder that refuses every
//! call, and an in-memory world (EC2, the state bucket, runners, DMS, Scheduler, Slack) with the
//! semantics and the faults that matter, driven by the deterministic simulation.

mod recorder;
pub mod sim;
pub mod world;

pub use recorder::Recorder;

/// The settings a deployment must give (every other one has a default), with made-up values.
pub fn required_settings() -> std::collections::HashMap<String, String> {
    [
        ("EVENT_TIER_STATE_BUCKET", "state"),
        (
            "EVENT_TIER_RUNNER_KEY_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:key",
        ),
        (
            "EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:hook",
        ),
        ("EVENT_TIER_RUNNER_SUBNET_IDS", "subnet-1"),
        ("EVENT_TIER_RUNNER_SECURITY_GROUP_ID", "sg-1"),
        ("EVENT_TIER_RUNNER_INSTANCE_PROFILE", "runner"),
        (
            "EVENT_TIER_RUNNER_HOST_KEY_SHA256",
            "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
