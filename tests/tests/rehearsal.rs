//! The dress rehearsal on the local stack: event-start with `"rehearsal"` plans the (fixture) tier
//! with real Terraform on the sshd runner, reports GO to the Slack sink, and leaves nothing: its
//! runner terminated, no state, nothing tagged. The account's checks against moto (with the
//! quotas of `local/moto_compat/quotas.py`): a quota below the need is NO-GO naming the quota, its
//! value and the need; an image missing from ECR, an operations secret that does not exist.

use event_core::rehearsal::{self, AwsLookups, Lookups, Mark, Plan};
use event_core::{Deadline, Status};
use event_tier_tests::{Stack, http, unique_event};
use serde_json::{Value, json};

const FOLLOW_UP_ROLE: &str = "arn:aws:iam::123456789012:role/event-tier-follow-up";

#[tokio::test]
async fn a_rehearsal_plans_on_the_runner_reports_go_and_leaves_nothing_behind() {
    let stack = Stack::get().await;
    let deps = stack
        .deps_with(|c| c.follow_up_role_arn = Some(FOLLOW_UP_ROLE.into()))
        .await;
    let event = unique_event("rehearse");
    let payload = json!({ "event_id": event, "vars": { "desired_count": 2, "max_count": 4 },
                          "rehearsal": { "lead_time_minutes": 45 } });
    let out = event_core::flows::start::run(&deps, payload, Deadline::none())
        .await
        .expect("rehearsed");
    assert_eq!(out.status, Status::Go, "{out:?}");
    let names: Vec<&str> = out.rehearsal.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "plan",
            "quota VPC security groups per Region",
            "image",
            "operations secret",
            "runner AMI",
            "lead time",
            "nothing left"
        ]
    );
    let plan = &out.rehearsal[0];
    assert_eq!(
        (plan.mark, plan.detail.as_str()),
        (Mark::Pass, "creates 2 resources and nothing else"),
        "the fixture tier: a security group and a log group"
    );
    assert_eq!(out.rehearsal[2].mark, Mark::Unchecked, "a public image");
    assert!(out.run_id.as_deref().unwrap().starts_with("plan-"));

    let posts = stack.slack(&event);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let text = &posts[0].text;
    assert!(
        text.starts_with(&format!(
            ":white_check_mark: event-tier *{event}* rehearsal: *GO*"
        )),
        "{text}"
    );
    assert!(
        text.contains(":white_check_mark: plan: creates 2 resources"),
        "{text}"
    );

    // Nothing created: the runner it launched is terminated, no state, nothing tagged.
    let instances = stack.instances(&event).await;
    assert_eq!(instances.len(), 1, "{instances:?}");
    assert_eq!(instances[0].state, "terminated", "{instances:?}");
    assert!(
        stack.state(&event).await.is_none(),
        "a plan writes no state"
    );
    assert!(
        stack
            .security_groups(&format!("event-tier-{event}"))
            .await
            .is_empty()
    );
    let tagged = deps
        .inventory
        .leftovers(&event_core::payload::EventId::parse(&event).unwrap())
        .await
        .unwrap();
    assert!(tagged.is_empty(), "{tagged:?}");
}

async fn set_quota(stack: &Stack, service: &str, code: &str, value: Value) {
    let url = format!("{}/event-tier-compat/quotas", stack.var("AWS_ENDPOINT_URL"));
    let body = json!({ "service_code": service, "quota_code": code, "value": value });
    let (status, answer) = http("POST", &url, Some(&body)).await;
    assert_eq!(status, 200, "{body} -> {answer}");
}

/// What the real tier's plan creates, as far as quotas go.
fn tier_plan() -> Plan {
    let mut plan = Plan {
        creates: 8,
        ..Plan::default()
    };
    for (kind, n) in [
        ("aws_ecs_service", 1),
        ("aws_lb", 1),
        ("aws_db_instance", 1),
        ("aws_dms_replication_instance", 1),
        ("aws_security_group", 4),
    ] {
        plan.by_type.insert(kind.into(), n);
    }
    plan.vars.insert("max_count".into(), json!(4));
    plan.vars.insert("task_cpu".into(), json!(1024));
    plan
}

#[tokio::test]
async fn the_accounts_checks_name_a_short_quota_a_missing_image_and_a_missing_secret() {
    let stack = Stack::get().await;
    let config = stack.config();
    let lookups = AwsLookups::new(
        &stack.sdk,
        config.runner.clone(),
        stack.var("AWS_REGION").into(),
    );

    // AWS's defaults: room for the tier.
    let checks = rehearsal::account_checks(&lookups, &tier_plan(), None, None, None).await;
    let quotas: Vec<_> = checks
        .iter()
        .filter(|c| c.name.starts_with("quota "))
        .collect();
    assert_eq!(quotas.len(), 5, "{checks:?}");
    assert!(quotas.iter().all(|c| c.mark == Mark::Pass), "{quotas:?}");
    assert!(
        quotas[0]
            .detail
            .starts_with("needs 4 vCPU (max_count 4 × 1 vCPU) (use not counted) of 6 (L-3032A538)"),
        "{}",
        quotas[0].detail
    );

    // Applied values below the need: no-go, naming the quota, its value and the need.
    set_quota(&stack, "fargate", "L-3032A538", json!(3)).await;
    set_quota(&stack, "dms", "ReplicationInstances", json!(0)).await;
    let checks = rehearsal::account_checks(&lookups, &tier_plan(), None, None, None).await;
    set_quota(&stack, "fargate", "L-3032A538", Value::Null).await;
    set_quota(&stack, "dms", "ReplicationInstances", Value::Null).await;
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.mark == Mark::Fail)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!(
        failed[0],
        "quota Fargate On-Demand vCPU resource count: needs 4 vCPU (max_count 4 × 1 vCPU) (use not counted) of 3 (L-3032A538)"
    );
    assert!(
        failed[1].starts_with("quota DMS replication instances: needs 1 replication instances (1 aws_dms_replication_instance) + ")
            && failed[1].ends_with(" in use of 0 (ReplicationInstances)"),
        "{}",
        failed[1]
    );
    assert!(!rehearsal::go(&checks));

    // The image: found in its ECR repository, or not.
    let ecr = aws_sdk_ecr::Client::new(&stack.sdk);
    let repo = unique_event("shop");
    let created = ecr
        .create_repository()
        .repository_name(&repo)
        .send()
        .await
        .unwrap();
    let registry = created
        .repository()
        .unwrap()
        .registry_id()
        .unwrap()
        .to_owned();
    let manifest = json!({ "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": { "mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:00" },
        "layers": [] });
    ecr.put_image()
        .repository_name(&repo)
        .image_manifest(manifest.to_string())
        .image_tag("1.2.3")
        .send()
        .await
        .unwrap();
    let image = |tag: &str| {
        format!(
            "{registry}.dkr.ecr.{}.amazonaws.com/{repo}:{tag}",
            stack.var("AWS_REGION")
        )
    };
    assert_eq!(lookups.image(&image("1.2.3")).await.unwrap(), Some(true));
    assert_eq!(lookups.image(&image("9.9.9")).await.unwrap(), Some(false));
    let other = image("1.2.3").replace(&repo, "no-such-repository");
    assert_eq!(lookups.image(&other).await.unwrap(), Some(false));

    // The operations secret the platform names exists; a made-up one does not.
    let platform = lookups.platform().await.expect("the platform parameter");
    assert!(lookups.secret(&platform.ops_db_secret_arn).await.unwrap());
    let gone = format!("{}-gone", platform.ops_db_secret_arn);
    assert!(!lookups.secret(&gone).await.unwrap());
    let (ami, available) = lookups.runner_ami().await.unwrap();
    assert!(available, "{ami}");
}
