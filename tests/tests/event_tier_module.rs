//! The real event tier (`infra/event-tier`, as built into the functions) through the start and stop
//! flows on the local stack: load balancer, Fargate service with autoscaling, RDS with a managed
//! password and a final snapshot, DMS and its schedules, every resource tagged with the event; a
//! second start changes nothing; the stop leaves an empty state and no runner.
//!
//! moto's DMS tasks move no data and moto fires no schedule, so the test drives the task through the
//! emulator extension (local/EMULATOR-GAPS.md): it plays the first scheduled load before the stop, and
//! finishes the final migration the stop starts.

use std::time::Duration;

use event_core::{Deadline, Status};
use event_tier_tests::{Stack, unique_event};
use serde_json::{Value, json};

/// The managed resources the tier must have in its state, as `type.name`.
const TIER: &[&str] = &[
    "aws_lb.this",
    "aws_lb_listener.http",
    "aws_lb_target_group.this",
    "aws_ecs_cluster.this",
    "aws_ecs_task_definition.this",
    "aws_ecs_service.this",
    "aws_appautoscaling_target.service",
    "aws_appautoscaling_policy.cpu",
    "aws_db_instance.this",
    "aws_db_subnet_group.this",
    "aws_db_parameter_group.this",
    "aws_dms_replication_subnet_group.this",
    "aws_dms_replication_instance.this",
    "aws_dms_endpoint.source",
    "aws_dms_endpoint.target",
    "aws_dms_replication_task.this",
    "aws_scheduler_schedule.first_migration",
    "aws_scheduler_schedule.hourly_migration",
    "aws_security_group.alb",
    "aws_security_group.service",
    "aws_security_group.db",
    "aws_security_group.dms",
    "aws_cloudwatch_log_group.service",
    "aws_cloudwatch_log_group.dms",
    "aws_iam_role.dms_secrets",
    "aws_iam_role.scheduler",
    "aws_cloudwatch_dashboard.this",
    "aws_sns_topic.alarms",
    "aws_sns_topic_subscription.alarm_forwarder",
    "aws_cloudwatch_metric_alarm.this",
    "aws_cloudwatch_log_metric_filter.dms_errors",
    "aws_cloudwatch_log_subscription_filter.archive",
];

/// The attributes of the one instance of `type.name` in a state document.
fn attributes<'a>(state: &'a Value, address: &str) -> &'a Value {
    let (ty, name) = address.split_once('.').unwrap();
    let resource = state["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "managed" && r["type"] == ty && r["name"] == name)
        .unwrap_or_else(|| panic!("{address} is not in the state"));
    &resource["instances"][0]["attributes"]
}

/// The emulator's answer about the event's DMS task, or None once it is gone (404).
async fn dms_task(stack: &Stack, task_id: &str) -> Option<Value> {
    let url = format!(
        "{}/event-tier-compat/dms/replication-task?id={task_id}&region={}",
        stack.var("AWS_ENDPOINT_URL"),
        stack.var("AWS_REGION")
    );
    match event_tier_tests::http("GET", &url, None).await {
        (200, task) => Some(task),
        (404, _) => None,
        (status, body) => panic!("the emulator extension answered {status}: {body}"),
    }
}

async fn ops_db_password(stack: &Stack) -> String {
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    let secret = sm
        .get_secret_value()
        .secret_id("event-tier/ops-db")
        .send()
        .await
        .expect("the local stack seeds the operations database's secret");
    let v: Value = serde_json::from_str(secret.secret_string().unwrap()).unwrap();
    v["password"].as_str().unwrap().to_owned()
}

/// A CloudWatch Logs JSON call to moto (the tests crate has no Logs client).
async fn logs_call(stack: &Stack, target: &str, body: Value) -> (u16, Value) {
    let headers = format!(
        "X-Amz-Target: Logs_20140328.{target}\r\nContent-Type: application/x-amz-json-1.1\r\n"
    );
    stack
        .moto_call("logs", "POST", "/", &headers, &body.to_string())
        .await
}

/// Runs a program on `input` and returns its standard output; None if it is not installed.
fn run_with_input(program: &str, args: &[&str], input: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    let mut child = match std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("{program}: {e}"),
    };
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {out:?}");
    Some(out.stdout)
}

/// Puts a line into the tier's service log group and finds it in the local stack's log archive
/// (`event-tier-logs-local`, local/stack.py), as CloudWatch Logs' subscription message: from the
/// tier's filter, named with the partition keys. moto runs none of Firehose's processing
/// (local/EMULATOR-GAPS.md), so the object holds the gzip'd message under the literal prefix; the
/// partitioning query of infra/control (log-partitioning.jq) is run on it here, with jq.
async fn archived_log_names_the_event(stack: &Stack, event: &str) {
    let group = format!("/event-tier/{event}/service");
    let line = format!("GET /checkout 200 {event}");
    let (status, body) = logs_call(
        stack,
        "CreateLogStream",
        json!({ "logGroupName": group, "logStreamName": "app/app/0" }),
    )
    .await;
    assert_eq!(status, 200, "CreateLogStream: {body}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let (status, body) = logs_call(
        stack,
        "PutLogEvents",
        json!({ "logGroupName": group, "logStreamName": "app/app/0",
                "logEvents": [{ "timestamp": now, "message": line }] }),
    )
    .await;
    assert_eq!(status, 200, "PutLogEvents: {body}");

    let s3 = stack.s3();
    let bucket = "event-tier-logs-local";
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix("logs/")
        .send()
        .await
        .unwrap();
    let mut found = None;
    for object in listed.contents() {
        let key = object.key().unwrap();
        let bytes = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .to_vec();
        let plain = run_with_input("gzip", &["-dc"], &bytes).expect("gzip is installed");
        let message: Value = serde_json::from_slice(&plain).unwrap();
        if message["logGroup"] == group.as_str() {
            found = Some(message);
        }
    }
    let message = found.unwrap_or_else(|| panic!("no archived message of {group} in {bucket}"));
    assert_eq!(
        message["subscriptionFilters"],
        json!([format!("event={event},source=service")])
    );
    assert_eq!(message["logEvents"][0]["message"], line.as_str());
    let query = event_tier_tests::root().join("infra/control/log-partitioning.jq");
    match run_with_input(
        "jq",
        &["-c", "-f", query.to_str().unwrap()],
        message.to_string().as_bytes(),
    ) {
        Some(out) => assert_eq!(
            serde_json::from_slice::<Value>(&out).unwrap(),
            json!({ "event": event, "source": "service" }),
            "the archive's partition keys"
        ),
        None => eprintln!("jq is not installed: the partitioning query was not run"),
    }
}

#[tokio::test]
async fn the_real_tier_starts_once_is_already_up_on_a_second_start_and_stops_clean() {
    let stack = Stack::get().await;
    // The functions' own module (infra/event-tier as built into event-core), final migration on.
    let deps = stack
        .deps_with(|c| {
            c.module_dir = None;
            c.final_migration = true;
        })
        .await;
    let event = unique_event("real-tier");
    let payload = json!({
        "event_id": event,
        "vars": { "desired_count": 2, "max_count": 6, "cpu_target_percent": 50 }
    });

    // Start: the whole tier is applied.
    let out = event_core::flows::start::run(&deps, payload.clone(), Deadline::none())
        .await
        .expect("start succeeds");
    assert_eq!(out.status, Status::Applied, "{out:?}");

    let resources = stack.state_resources(&event).await;
    for address in TIER {
        assert!(
            resources.iter().any(|r| r == address),
            "{address} missing from the state: {resources:?}"
        );
    }
    let state = stack.state(&event).await.unwrap();
    let state_text = state.to_string();

    // RDS: managed password, final snapshot on and named after the event.
    let db = attributes(&state, "aws_db_instance.this");
    assert_eq!(db["identifier"], format!("event-tier-{event}"));
    assert_eq!(db["skip_final_snapshot"], false);
    assert_eq!(db["deletion_protection"], false);
    assert_eq!(db["manage_master_user_password"], true);
    let snapshot = db["final_snapshot_identifier"].as_str().unwrap();
    let prefix = format!("event-tier-{event}-final-");
    assert!(
        snapshot.starts_with(&prefix) && snapshot.len() == prefix.len() + 12,
        "{snapshot}"
    );
    let db_secret = db["master_user_secret"][0]["secret_arn"].as_str().unwrap();
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    sm.describe_secret()
        .secret_id(db_secret)
        .send()
        .await
        .expect("RDS keeps the master password in its own secret");

    // Autoscaling follows the payload's variables.
    let target = attributes(&state, "aws_appautoscaling_target.service");
    assert_eq!(target["min_capacity"], 2);
    assert_eq!(target["max_capacity"], 6);
    assert_eq!(
        target["resource_id"],
        format!("service/event-tier-{event}/event-tier-{event}")
    );
    let policy = attributes(&state, "aws_appautoscaling_policy.cpu");
    assert_eq!(
        policy["target_tracking_scaling_policy_configuration"][0]["target_value"],
        50.0
    );
    assert_eq!(
        attributes(&state, "aws_ecs_service.this")["desired_count"],
        2
    );

    // DMS: the task event-stop looks for, loading into the event's schema, with secrets only.
    let task = attributes(&state, "aws_dms_replication_task.this");
    let task_id = format!("event-tier-{event}");
    assert_eq!(task["replication_task_id"], task_id.as_str());
    let task_arn = task["replication_task_arn"].as_str().unwrap().to_owned();
    let mappings: Value = serde_json::from_str(task["table_mappings"].as_str().unwrap()).unwrap();
    let schema = format!("event_{}", event.replace('-', "_"));
    assert!(
        mappings["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["rule-action"] == "rename" && r["value"] == schema.as_str()),
        "{mappings}"
    );
    let source = attributes(&state, "aws_dms_endpoint.source");
    assert_eq!(source["secrets_manager_arn"], db_secret);
    let ops_password = ops_db_password(&stack).await;
    assert!(
        !state_text.contains(&ops_password),
        "the operations database's password is in the Terraform state"
    );

    // The schedules: hourly reload-target, and the one-time first start-replication.
    let hourly = attributes(&state, "aws_scheduler_schedule.hourly_migration");
    assert_eq!(hourly["schedule_expression"], "rate(1 hour)");
    assert_eq!(
        hourly["target"][0]["arn"],
        "arn:aws:scheduler:::aws-sdk:databasemigration:startReplicationTask"
    );
    let input: Value =
        serde_json::from_str(hourly["target"][0]["input"].as_str().unwrap()).unwrap();
    assert_eq!(
        input,
        json!({ "ReplicationTaskArn": task_arn, "StartReplicationTaskType": "reload-target" })
    );
    let first = attributes(&state, "aws_scheduler_schedule.first_migration");
    assert!(
        first["schedule_expression"]
            .as_str()
            .unwrap()
            .starts_with("at("),
        "{first}"
    );

    // Every taggable resource carries the event (the provider's default tags, as read back).
    let mut tagged = 0;
    for r in state["resources"].as_array().unwrap() {
        for instance in r["instances"].as_array().unwrap() {
            if let Some(tags) = instance["attributes"].get("tags_all") {
                assert_eq!(
                    tags["event-tier:event"],
                    event.as_str(),
                    "{}.{} is not tagged with the event: {tags}",
                    r["type"],
                    r["name"]
                );
                tagged += 1;
            }
        }
    }
    assert!(tagged >= 30, "only {tagged} tagged resources");

    // In moto: the security groups, tagged; the task, never started (moto fires no schedule).
    for sg in ["alb", "service", "db", "dms"] {
        let name = format!("event-tier-{event}-{sg}");
        let groups = stack
            .ec2()
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-name")
                    .values(&name)
                    .build(),
            )
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:event-tier:event")
                    .values(&event)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(groups.security_groups().len(), 1, "{name}");
    }
    let t = dms_task(&stack, &task_id)
        .await
        .expect("the task is in moto");
    assert_eq!(t["status"], "ready", "{t}");

    // The log shipping path: a line of the service's log group reaches the platform's archive
    // through the tier's subscription filter (the local stack's delivery stream and bucket).
    archived_log_names_the_event(&stack, &event).await;

    // A second start: the plan shows no changes.
    let again = event_core::flows::start::run(&deps, payload, Deadline::none())
        .await
        .expect("a second start succeeds");
    assert_eq!(again.status, Status::AlreadyUp, "{again:?}");
    assert_eq!(stack.state_resources(&event).await, resources);

    // As in AWS, the first scheduled load (start-replication) has run by the time the event ends.
    stack.finish_dms_load(&task_arn).await;

    // Stop. The final migration the stop starts is made to finish; the driver ends when the destroy
    // has deleted the task, answering the start types the task saw.
    let driver = {
        let stack = Stack::get().await;
        let (task_id, task_arn) = (task_id.clone(), task_arn.clone());
        tokio::spawn(async move {
            let mut seen = Value::Null;
            while let Some(t) = dms_task(&stack, &task_id).await {
                if t["status"] == "running" {
                    stack.finish_dms_load(&task_arn).await;
                }
                seen = t["start_types"].clone();
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            seen
        })
    };
    let out =
        event_core::flows::stop::run(&deps, json!({ "event_id": event }), Deadline::none()).await;
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            driver.abort();
            panic!("stop failed: {e}");
        }
    };
    let start_types = tokio::time::timeout(Duration::from_secs(30), driver)
        .await
        .expect("the destroy deleted the DMS task")
        .unwrap();
    // The task had run (the first scheduled load): the final migration reloads the target.
    assert_eq!(start_types, json!(["reload-target"]));
    assert!(out.message.contains("final migration finished"), "{out:?}");
    // Destroyed, nothing tagged with the event left (the deregistered task definition and the final
    // snapshot are kept on purpose: event-core's inventory).
    assert_eq!(out.status, Status::Destroyed, "{out:?}");
    assert!(out.leftovers.is_empty(), "{:?}", out.leftovers);
    assert!(
        stack.state_resources(&event).await.is_empty(),
        "the state is empty after the stop"
    );
    assert!(stack.live_instances(&event).await.is_empty());
    let runners = stack.instances(&event).await;
    assert!(
        !runners.is_empty() && runners.iter().all(|r| r.state == "terminated"),
        "{runners:?}"
    );
    for sg in ["alb", "service", "db", "dms"] {
        let name = format!("event-tier-{event}-{sg}");
        assert!(stack.security_groups(&name).await.is_empty(), "{name} left");
    }
    let posts = stack.slack(&event);
    assert!(
        posts.iter().any(|p| p.text.contains("start succeeded"))
            && posts.iter().any(|p| p.text.contains("already up"))
            && posts.last().unwrap().text.contains("stop"),
        "{posts:#?}"
    );
    assert!(
        posts.iter().all(|p| !p.text.contains(&ops_password)),
        "a password reached Slack"
    );
}
