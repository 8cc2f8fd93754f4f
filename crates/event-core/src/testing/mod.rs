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
        ("EVENT_TIER_RUNNER_ARTIFACTS_BUCKET", "artifacts"),
        (
            "EVENT_TIER_RUNNER_TERRAFORM_SHA256",
            "e628369df4162d98aa541fccd1351cf898b2346458319883ec296c42bc6ac093",
        ),
        (
            "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256",
            "f01cb9e944a2d0b9645d163b3611edce488e19b9693203cfd2583cd0664f06cb",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
