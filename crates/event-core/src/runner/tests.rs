//! Faults that can't be produced for real on the local stack: throttling and 5xx sequences,
//! answered by the SDK's own retry settings.

use super::*;
use aws_sdk_ec2::config::retry::RetryConfig;
use aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput;
use aws_sdk_ec2::types::{Instance, InstanceState, InstanceStateName, Reservation};
use aws_smithy_mocks::{RuleMode, mock, mock_client};

const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";
const UNAVAILABLE: &str = "<Response><Errors><Error><Code>Unavailable</Code><Message>The service is unavailable.</Message></Error></Errors><RequestID>r</RequestID></Response>";

fn fleet(ec2: aws_sdk_ec2::Client) -> Ec2Fleet {
    let ssm = aws_sdk_ssm::Client::from_conf(
        aws_sdk_ssm::Config::builder()
            .behavior_version(aws_sdk_ssm::config::BehaviorVersion::latest())
            .region(aws_sdk_ssm::config::Region::new("us-east-1"))
            .build(),
    );
    let config = RunnerConfig {
        ami_id: Some("ami-1".into()),
        ..runner_config()
    };
    Ec2Fleet::new(ec2, ssm, config, "us-east-1".into())
}

fn runner_config() -> RunnerConfig {
    RunnerConfig {
        ami_id: None,
        ami_parameter: String::new(),
        instance_types: vec!["t3.small".into()],
        subnet_ids: vec!["subnet-1".into()],
        security_group_id: "sg-1".into(),
        instance_profile: "runner".into(),
        key_name: None,
        host_key_secret: None,
        workdir: "/var/lib/event-tier".into(),
        ready_timeout: Duration::from_secs(1),
        log_group: None,
        artifacts: crate::config::RunnerArtifacts {
            bucket: "artifacts".into(),
            prefix: "runner/".into(),
            terraform_sha256: "1".repeat(64),
            mirror_sha256: "2".repeat(64),
        },
    }
}

/// The CloudWatch agent's configuration the user data writes, as the shell would expand it.
fn agent_config(user_data: &str, workdir: &str, log_group: &str) -> serde_json::Value {
    let (_, rest) = user_data
        .split_once("<<AGENT\n")
        .expect("the agent's config");
    let (json, _) = rest.split_once("\nAGENT\n").unwrap();
    let json = json
        .replace("$workdir", workdir)
        .replace("$log_group", log_group);
    serde_json::from_str(&json).expect("the agent's config is JSON")
}

#[test]
fn user_data_ships_each_runs_output_to_the_runner_log_group() {
    let mut config = RunnerConfig {
        log_group: Some("/event/runner".into()),
        ..runner_config()
    };
    let event = EventId::parse("winter-sale-2026").unwrap();
    let script = user_data(&config, "us-east-1", &event);
    assert!(script.contains("log_group='/event/runner'\n"), "{script}");
    let agent = agent_config(&script, "/var/lib/event-tier", "/event/runner");
    let file = &agent["logs"]["logs_collected"]["files"]["collect_list"][0];
    assert_eq!(
        file["file_path"],
        "/var/lib/event-tier/winter-sale-2026/runs/*/log"
    );
    assert_eq!(file["log_group_name"], "/event/runner");
    // The log archive's partitioning query reads the event from the stream's first part.
    assert_eq!(file["log_stream_name"], "winter-sale-2026/{instance_id}");

    config.log_group = None;
    let script = user_data(&config, "us-east-1", &event);
    assert!(
        script.contains("log_group=''\n") && script.contains("[ -n \"$log_group\" ] || return 0"),
        "without a log group the agent is not installed: {script}"
    );
}

fn retrying(c: aws_sdk_ec2::config::Builder) -> aws_sdk_ec2::config::Builder {
    c.retry_config(
        RetryConfig::standard()
            .with_max_attempts(3)
            .with_initial_backoff(Duration::from_millis(1)),
    )
}

fn one_runner() -> DescribeInstancesOutput {
    DescribeInstancesOutput::builder()
        .reservations(
            Reservation::builder()
                .instances(
                    Instance::builder()
                        .instance_id("i-1")
                        .state(
                            InstanceState::builder()
                                .name(InstanceStateName::Running)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_until_it_passes() {
    let rule = mock!(aws_sdk_ec2::Client::describe_instances)
        .sequence()
        .http_status(503, Some(THROTTLED.into()))
        .times(2)
        .output(one_runner)
        .build();
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule], retrying);
    let found = fleet(ec2)
        .find(&EventId::parse("flash-1").unwrap())
        .await
        .expect("the third attempt succeeds");
    assert_eq!(found.map(|r| r.instance_id).as_deref(), Some("i-1"));
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn a_lasting_outage_is_reported_as_transient_with_the_aws_code() {
    let rule = mock!(aws_sdk_ec2::Client::describe_instances)
        .sequence()
        .http_status(503, Some(UNAVAILABLE.into()))
        .repeatedly()
        .build();
    let ec2 = mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule], retrying);
    let err = fleet(ec2)
        .find(&EventId::parse("flash-1").unwrap())
        .await
        .expect_err("every attempt fails");
    assert_eq!(rule.num_calls(), 3, "the SDK's retries, no more");
    assert!(err.is_transient(), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("ec2 DescribeInstances failed (Unavailable)"),
        "{msg}"
    );
}
