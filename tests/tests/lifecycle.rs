//! The backbone against the local stack: real moto, a real sshd runner, real Terraform, the Slack sink.

use event_core::{Deadline, Status};
use event_tier_tests::{Stack, unique_event};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;

fn invoke(payload: serde_json::Value) -> LambdaEvent<serde_json::Value> {
    LambdaEvent::new(payload, Context::default())
}

#[tokio::test]
async fn start_applies_with_one_tagged_runner_and_stop_destroys_and_terminates_it() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("lifecycle");

    // Start: the sample payload, with this test's event id.
    let mut payload = event_tier_tests::sample("start.json");
    payload["event_id"] = json!(event);
    let out = event_start::handle(invoke(payload), &deps)
        .await
        .expect("start succeeds");
    assert_eq!(out.status, Status::Applied, "{out:?}");

    let runners = stack.instances(&event).await;
    assert_eq!(runners.len(), 1, "exactly one runner: {runners:?}");
    let r = &runners[0];
    assert_eq!(r.state, "running");
    assert_eq!(r.tags["event-tier:event"], event);
    assert_eq!(r.tags["event-tier:role"], "runner");
    assert_eq!(r.tags["Name"], format!("event-tier-runner-{event}"));
    assert_eq!(r.instance_type, "t3.small");
    assert_eq!(r.http_tokens, "required", "IMDSv2 required");
    assert_eq!(
        Some(r.subnet.as_str()),
        stack.var("EVENT_TIER_RUNNER_SUBNET_IDS").split(',').next(),
        "the first runner subnet, when it has capacity"
    );
    assert!(r.profile.ends_with("/event-tier-runner"), "{}", r.profile);
    assert_eq!(out.instance_id.as_deref(), Some(r.id.as_str()));
    let volumes = stack
        .ec2()
        .describe_volumes()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("attachment.instance-id")
                .values(&r.id)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        !volumes.volumes().is_empty(),
        "the runner has a root volume"
    );
    assert!(
        volumes
            .volumes()
            .iter()
            .all(|v| v.encrypted() == Some(true)),
        "{volumes:?}"
    );
    let user_data = stack
        .ec2()
        .describe_instance_attribute()
        .instance_id(&r.id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let user_data = {
        use base64::Engine;
        let b64 = user_data
            .user_data()
            .and_then(|u| u.value())
            .expect("user data");
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    };
    // Terraform and the provider mirror from the runner artifacts, held to their pinned sums.
    assert!(
        user_data.contains(&format!(
            "artifacts='s3://{}/runner/'",
            stack.var("EVENT_TIER_RUNNER_ARTIFACTS_BUCKET")
        )) && user_data.contains(&format!(
            "terraform_sha256='{}'",
            stack.var("EVENT_TIER_RUNNER_TERRAFORM_SHA256")
        )) && !user_data.contains("hashicorp.com"),
        "{user_data}"
    );
    assert!(
        user_data.contains(&format!("(event {event})")),
        "{user_data}"
    );

    // Terraform's resources exist in moto and in the state, with the payload's variables.
    let mut resources = stack.state_resources(&event).await;
    resources.sort();
    assert_eq!(
        resources,
        ["aws_cloudwatch_log_group.tier", "aws_security_group.tier"]
    );
    let sgs = stack.security_groups(&format!("event-tier-{event}")).await;
    assert_eq!(sgs.len(), 1);
    let sg = stack
        .ec2()
        .describe_security_groups()
        .group_ids(&sgs[0])
        .send()
        .await
        .unwrap();
    let tags: Vec<(String, String)> = sg.security_groups()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    assert!(
        tags.contains(&("max_count".into(), "20".into())),
        "{tags:?}"
    );
    assert!(
        tags.contains(&("event-tier:event".into(), event.clone())),
        "{tags:?}"
    );

    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].text.contains("start succeeded"),
        "{}",
        posts[0].text
    );
    assert!(
        posts[0].text.contains("Apply complete! Resources: 2 added"),
        "{}",
        posts[0].text
    );
    assert!(posts[0].text.contains(&r.id));
    // The same message as Slack shows it: Block Kit, the text its fallback.
    let post = &posts[0];
    assert!(
        post.header()
            .starts_with(&format!("✅ {event}: start succeeded in ")),
        "{:?}",
        post.blocks
    );
    assert_eq!(post.field("Runner").as_deref(), Some(r.id.as_str()));
    assert!(
        post.field("Run")
            .is_some_and(|run| run.starts_with("apply-")),
        "{:?}",
        post.blocks
    );
    assert!(post.field("Duration").is_some(), "{:?}", post.blocks);
    assert_eq!(post.code(), None, "no output block on success");
    assert!(
        post.context()
            .contains(&format!("#dashboards/dashboard/event-tier-{event}|")),
        "{}",
        post.context()
    );
    assert!(
        post.context()
            .contains(&format!("`/event-tier/{event}/service`"))
    );

    // Stop: destroys, terminates the runner, tells Slack.
    let out = event_stop::handle(invoke(json!({ "event_id": event })), &deps)
        .await
        .expect("stop succeeds");
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(
        stack.state_resources(&event).await.is_empty(),
        "the state holds no resources"
    );
    assert!(
        stack.state(&event).await.is_some(),
        "the state itself stays (versioned bucket)"
    );
    assert!(
        stack
            .security_groups(&format!("event-tier-{event}"))
            .await
            .is_empty()
    );
    let runners = stack.instances(&event).await;
    assert_eq!(runners.len(), 1);
    assert_eq!(runners[0].state, "terminated");
    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(
        posts[1].text.contains("stop succeeded"),
        "{}",
        posts[1].text
    );
    assert!(
        posts[1]
            .text
            .contains("Destroy complete! Resources: 2 destroyed"),
        "{}",
        posts[1].text
    );
    assert!(posts[1].text.contains("terminated"));
    assert!(
        posts[1]
            .text
            .contains("nothing tagged with the event remains"),
        "{}",
        posts[1].text
    );
    assert!(out.leftovers.is_empty(), "{:?}", out.leftovers);

    // A second stop: already down, succeeds, launches nothing.
    let out = event_stop::handle(invoke(json!({ "event_id": event })), &deps)
        .await
        .expect("stop again succeeds");
    assert_eq!(out.status, Status::AlreadyDown, "{out:?}");
    assert_eq!(stack.instances(&event).await.len(), 1, "no new runner");
}

#[tokio::test]
async fn failing_apply_posts_the_stage_and_terraform_error_and_returns_an_error() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("failing-apply");

    let err = event_start::handle(
        invoke(json!({ "event_id": event, "vars": { "fail_apply": true } })),
        &deps,
    )
    .await
    .expect_err("a failing apply is an error");
    assert_eq!(err.error_type, "Terraform");
    assert!(
        err.error_message
            .starts_with("apply failed: terraform apply exited 1"),
        "{}",
        err.error_message
    );

    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let text = &posts[0].text;
    assert!(text.contains("start failed at stage `apply`"), "{text}");
    assert!(
        text.contains("simulated failure of the event tier"),
        "the tail of Terraform's output: {text}"
    );
    let post = &posts[0];
    assert!(
        post.header()
            .starts_with(&format!("❌ {event}: start failed at stage apply after ")),
        "{:?}",
        post.blocks
    );
    assert_eq!(post.field("Stage").as_deref(), Some("apply"));
    assert!(
        post.code()
            .is_some_and(|c| c.contains("simulated failure of the event tier")),
        "Terraform's output as a code block: {:?}",
        post.blocks
    );

    // The resources created before the failure are in the state, so a stop destroys them.
    let resources = stack.state_resources(&event).await;
    assert!(
        resources.contains(&"aws_security_group.tier".to_owned()),
        "{resources:?}"
    );
    let out = event_stop::handle(invoke(json!({ "event_id": event })), &deps)
        .await
        .expect("stop succeeds");
    assert_eq!(out.status, Status::Destroyed);
    assert!(stack.state_resources(&event).await.is_empty());
    assert!(stack.live_instances(&event).await.is_empty());
}

#[tokio::test]
async fn eventbridge_envelope_starts_the_same_way() {
    let stack = Stack::get().await;
    let deps = stack.deps().await;
    let event = unique_event("envelope");
    let mut payload = event_tier_tests::sample("start-eventbridge.json");
    payload["detail"]["event_id"] = json!(event);
    let out = event_core::flows::start::run(&deps, payload, Deadline::none())
        .await
        .expect("start succeeds");
    assert_eq!(out.status, Status::Applied);
    assert_eq!(stack.live_instances(&event).await.len(), 1);
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none())
        .await
        .unwrap();
    assert_eq!(out.status, Status::Destroyed);
    assert!(stack.live_instances(&event).await.is_empty());
}
