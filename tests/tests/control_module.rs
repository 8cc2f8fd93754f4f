//! `infra/control` applied to the local stack as an operator would check it: `terraform apply`
//! succeeds, a second `terraform plan -detailed-exitcode` finds nothing to change, the functions,
//! the events' schedules, the secrets, the state bucket and the runner's key pair and security group
//! really exist in moto, then `terraform destroy` succeeds, leaves no resource in the state and
//! nothing of them in moto.
//!
//! The module is copied to a scratch directory with a local backend (its own is a partial S3
//! backend), the packages are the fixture `infra/control/tests/fixtures/placeholder.zip`, and every
//! name derives from a `name` of this run, so the test shares moto with the others. The account-wide
//! DMS roles are left out (`create_dms_roles = false`): the local stack seeds them, as an account
//! that has them would. The state bucket stays empty (moto cannot delete a versioned bucket's delete
//! markers, local/EMULATOR-GAPS.md), so its destroy needs no `force_destroy`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use event_tier_tests::{Stack, root, unique_event};
use serde_json::{Value, json};

/// A scratch copy of the module and the environment terraform runs with. Destroys on drop whatever
/// an apply may have created, when the test failed before its own destroy.
struct Workdir {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    applied: bool,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The end of the output, enough to see why terraform failed.
    fn tail(&self) -> String {
        let text = format!("{}\n--- stderr ---\n{}", self.stdout, self.stderr);
        let start = text.len().saturating_sub(6000);
        let start = (start..text.len())
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text[start..].to_owned()
    }
}

impl Workdir {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn terraform(&self, args: &[&str]) -> Run {
        let out = Command::new("terraform")
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("terraform runs");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs terraform and fails the test, with its output, unless it exits 0.
    fn ok(&self, args: &[&str]) -> Run {
        let run = self.terraform(args);
        assert_eq!(
            run.code,
            0,
            "terraform {} failed:\n{}",
            args.join(" "),
            run.tail()
        );
        run
    }

    /// The managed resource instances in the local state, as `type.name` (one per instance).
    fn state_resources(&self) -> Vec<String> {
        let Ok(bytes) = std::fs::read(self.path().join("terraform.tfstate")) else {
            return vec![];
        };
        event_tier_tests::managed_addresses(&serde_json::from_slice(&bytes).unwrap())
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        if self.applied {
            let run = self.terraform(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
            eprintln!(
                "cleanup destroy after a failure exited {}:\n{}",
                run.code,
                run.tail()
            );
        }
    }
}

/// `GET /2015-03-31/functions/<name>` of the Lambda API (the tests crate has no Lambda client).
/// Returns the status and the JSON body (Null if none).
async fn lambda_get_function(stack: &Stack, name: &str) -> (u16, Value) {
    let path = format!("/2015-03-31/functions/{name}");
    stack.moto_call("lambda", "GET", &path, "", "").await
}

/// The seeded subnets of the local VPC with one of these CIDR blocks (local/stack.py `seed`).
async fn subnets(stack: &Stack, cidrs: &[&str]) -> Vec<String> {
    let out = stack
        .ec2()
        .describe_subnets()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("vpc-id")
                .values(stack.var("EVENT_TIER_LOCAL_VPC_ID"))
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("cidr-block")
                .set_values(Some(cidrs.iter().map(|c| (*c).to_owned()).collect()))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut found: Vec<(String, String)> = out
        .subnets()
        .iter()
        .map(|s| {
            (
                s.cidr_block().unwrap().to_owned(),
                s.subnet_id().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    assert_eq!(
        found.len(),
        cidrs.len(),
        "seeded subnets {cidrs:?}: {found:?}"
    );
    found.into_iter().map(|(_, id)| id).collect()
}

/// A fresh ed25519 public key (the runner key pair's), made with ssh-keygen.
fn public_key(dir: &Path) -> String {
    let key = dir.join("runner_key");
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "control-module-test",
            "-f",
        ])
        .arg(&key)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("ssh-keygen runs");
    assert!(out.status.success(), "ssh-keygen: {out:?}");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    std::fs::remove_file(&key).unwrap();
    public.trim().to_owned()
}

fn events() -> Value {
    json!({
        "winter-sale-2026": {
            "start": "2026-12-19T09:00:00",
            "end": "2026-12-21T23:00:00",
            "timezone": "Asia/Seoul",
            "lead_time_minutes": 45,
            "vars": { "desired_count": 4, "max_count": 20 }
        },
        "saturday-deals": {
            "start": "cron(15 7 ? * SAT *)",
            "end": "cron(0 22 ? * SAT *)",
            "timezone": "Asia/Seoul",
            "recurring": true,
            "vars": { "desired_count": 2, "image_tag": "weekend" }
        }
    })
}

#[tokio::test]
async fn control_module_applies_to_moto_replans_clean_and_destroys_clean() {
    let stack = Stack::get().await;
    let began = Instant::now();
    // `name`: 1-20 lower-case letters, digits or '-', from a letter, not `event-tier*`.
    let name = unique_event("control");
    assert!(
        name.len() <= 20 && !name.starts_with("event-tier"),
        "{name}"
    );

    // The scratch module: the *.tf files, a local backend, the packages, the variables.
    let dir = tempfile::tempdir().unwrap();
    let module = root().join("infra/control");
    for entry in std::fs::read_dir(&module).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_owned();
        if file.ends_with(".tf") || file.ends_with(".jq") || file == ".terraform.lock.hcl" {
            std::fs::copy(&path, dir.path().join(&file)).unwrap();
        }
    }
    std::fs::write(
        dir.path().join("backend_override.tf"),
        "terraform {\n  backend \"local\" {}\n}\n",
    )
    .unwrap();
    let fixture: PathBuf = module.join("tests/fixtures/placeholder.zip");
    std::fs::create_dir(dir.path().join("dist")).unwrap();
    for package in ["event-start.zip", "event-stop.zip", "event-alarm.zip"] {
        std::fs::copy(&fixture, dir.path().join("dist").join(package)).unwrap();
    }
    // The runner artifacts: the module's placeholders (the real ones are the local stack's).
    let artifacts = dir.path().join("dist/artifacts");
    std::fs::create_dir(&artifacts).unwrap();
    for entry in std::fs::read_dir(module.join("tests/fixtures/artifacts")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, artifacts.join(path.file_name().unwrap())).unwrap();
    }

    let public = subnets(&stack, &["10.42.10.0/24", "10.42.11.0/24"]).await;
    let private = subnets(&stack, &["10.42.20.0/24", "10.42.21.0/24"]).await;
    let sm = aws_sdk_secretsmanager::Client::new(&stack.sdk);
    let ops_db_secret = sm
        .describe_secret()
        .secret_id("event-tier/ops-db")
        .send()
        .await
        .expect("the local stack seeds the operations database's secret")
        .arn()
        .unwrap()
        .to_owned();
    let platform_parameter = format!("/{name}/platform");
    let vars = json!({
        "aws_region": stack.var("AWS_REGION"),
        "aws_endpoint_url": stack.var("AWS_ENDPOINT_URL"),
        "name": name,
        "tags": { "event-tier:test": "control_module" },
        "vpc_id": stack.var("EVENT_TIER_LOCAL_VPC_ID"),
        "public_subnet_ids": public,
        "private_subnet_ids": private,
        "runner_subnet_ids": stack.var("EVENT_TIER_RUNNER_SUBNET_IDS").split(',').collect::<Vec<_>>(),
        "start_zip_path": "dist/event-start.zip",
        "stop_zip_path": "dist/event-stop.zip",
        "alarm_zip_path": "dist/event-alarm.zip",
        "runner_artifacts_dir": "dist/artifacts",
        "function_reserved_concurrency": -1,
        "log_retention_days": 1,
        "events": events(),
        "runner_public_key": public_key(dir.path()),
        "runner_host_key_sha256": stack.var("EVENT_TIER_RUNNER_HOST_KEY_SHA256"),
        "secret_recovery_window_days": 0,
        "platform_parameter_name": platform_parameter,
        "container_image": "public.ecr.aws/nginx/nginx:stable",
        "container_port": 80,
        "ops_db_secret_arn": ops_db_secret,
        "ops_db_server_name": "ops-db.event-tier.internal",
        "ops_db_name": "shop",
        "create_dms_roles": false
    });
    std::fs::write(
        dir.path().join("terraform.tfvars.json"),
        serde_json::to_vec_pretty(&vars).unwrap(),
    )
    .unwrap();

    // Terraform sees the offline CLI config, the credentials and the region, and nothing else of
    // the environment.
    let mut env: Vec<(String, String)> = [
        "TF_CLI_CONFIG_FILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
    ]
    .iter()
    .map(|k| ((*k).to_owned(), stack.var(k).to_owned()))
    .collect();
    for k in ["PATH", "HOME", "TMPDIR"] {
        if let Ok(v) = std::env::var(k) {
            env.push((k.to_owned(), v));
        }
    }
    env.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
    env.push(("TF_IN_AUTOMATION".into(), "1".into()));
    env.push(("CHECKPOINT_DISABLE".into(), "1".into()));
    let mut work = Workdir {
        dir,
        env,
        applied: false,
    };

    work.ok(&["init", "-input=false", "-no-color"]);

    // Apply.
    let t = Instant::now();
    work.applied = true;
    work.ok(&["apply", "-auto-approve", "-input=false", "-no-color"]);
    let apply_secs = t.elapsed().as_secs();
    let created = work.state_resources();
    println!(
        "apply: {} resources in {apply_secs} s: {created:?}",
        created.len()
    );
    for address in [
        "aws_lambda_function.start",
        "aws_lambda_function.stop",
        "aws_scheduler_schedule_group.events",
        "aws_iam_role.scheduler",
        "aws_s3_bucket.state",
        "aws_kms_key.control",
        "aws_key_pair.runner",
        "aws_security_group.runner",
        "aws_security_group.functions",
        "aws_ssm_parameter.platform",
        "aws_sqs_queue.dead_letters",
        "aws_lambda_function.alarm",
        "aws_lambda_permission.alarm_from_tier_topics",
        "aws_sns_topic_subscription.control_alarms_to_slack",
        "aws_s3_bucket.logs",
        "aws_kinesis_firehose_delivery_stream.logs",
        "aws_cloudwatch_log_group.runner",
    ] {
        assert!(
            created.iter().any(|a| a == address),
            "{address} is not in the state: {created:?}"
        );
    }
    for schedule in [
        "aws_scheduler_schedule.start",
        "aws_scheduler_schedule.stop",
    ] {
        assert_eq!(
            created.iter().filter(|a| *a == schedule).count(),
            2,
            "one {schedule} per event: {created:?}"
        );
    }
    assert!(
        !created.iter().any(|a| a.starts_with("aws_iam_role.dms")),
        "create_dms_roles = false creates no DMS role: {created:?}"
    );

    // A second plan: nothing to change.
    let t = Instant::now();
    let plan = work.terraform(&["plan", "-detailed-exitcode", "-input=false", "-no-color"]);
    assert_eq!(
        plan.code,
        0,
        "the plan after apply is not empty (2: changes, 1: error):\n{}",
        plan.tail()
    );
    println!("re-plan: no changes in {} s", t.elapsed().as_secs());

    let outputs: Value =
        serde_json::from_str(&work.ok(&["output", "-json", "-no-color"]).stdout).unwrap();
    let output = |k: &str| -> String {
        outputs[k]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("output {k}: {outputs}"))
            .to_owned()
    };

    // The functions in moto's Lambda.
    for (suffix, arn_output) in [
        ("start", "start_function_arn"),
        ("stop", "stop_function_arn"),
    ] {
        let function = format!("{name}-{suffix}");
        assert_eq!(output(&format!("{suffix}_function_name")), function);
        let (status, body) = lambda_get_function(&stack, &function).await;
        assert_eq!(status, 200, "GetFunction {function}: {body}");
        let config = &body["Configuration"];
        assert_eq!(config["FunctionArn"], output(arn_output).as_str(), "{body}");
        assert_eq!(config["Runtime"], "provided.al2023", "{body}");
        assert_eq!(config["Handler"], "bootstrap", "{body}");
        assert_eq!(
            config["Environment"]["Variables"]["EVENT_TIER_STATE_BUCKET"],
            output("state_bucket").as_str(),
            "{body}"
        );
    }

    // The events' schedules in moto's Scheduler, as built from the events map.
    let scheduler = aws_sdk_scheduler::Client::new(&stack.sdk);
    let group = output("schedule_group");
    assert_eq!(group, format!("{name}-events"));
    let listed = scheduler
        .list_schedules()
        .group_name(&group)
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = listed.schedules().iter().filter_map(|s| s.name()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "saturday-deals-start",
            "saturday-deals-stop",
            "winter-sale-2026-rehearsal",
            "winter-sale-2026-start",
            "winter-sale-2026-stop",
            "winter-sale-2026-watch-down",
            "winter-sale-2026-watch-ready"
        ]
    );
    let expected = [
        (
            "winter-sale-2026-start",
            "at(2026-12-19T08:15:00)",
            "start_function_arn",
            json!({ "event_id": "winter-sale-2026", "vars": { "desired_count": 4, "max_count": 20 } }),
        ),
        (
            "winter-sale-2026-stop",
            "at(2026-12-21T23:00:00)",
            "stop_function_arn",
            json!({ "event_id": "winter-sale-2026", "vars": { "desired_count": 4, "max_count": 20 } }),
        ),
        // The dress rehearsal (event-start): two days before the opening, with the lead time.
        (
            "winter-sale-2026-rehearsal",
            "at(2026-12-17T09:00:00)",
            "start_function_arn",
            json!({ "event_id": "winter-sale-2026", "vars": { "desired_count": 4, "max_count": 20 }, "rehearsal": { "lead_time_minutes": 45 } }),
        ),
        // The watchdogs (event-alarm): at the opening, and 30 minutes after the end.
        (
            "winter-sale-2026-watch-ready",
            "at(2026-12-19T09:00:00)",
            "alarm_function_arn",
            json!({ "watch": { "event_id": "winter-sale-2026", "expect": "ready" } }),
        ),
        (
            "winter-sale-2026-watch-down",
            "at(2026-12-21T23:30:00)",
            "alarm_function_arn",
            json!({ "watch": { "event_id": "winter-sale-2026", "expect": "down", "grace_minutes": 30 } }),
        ),
        (
            "saturday-deals-start",
            "cron(15 7 ? * SAT *)",
            "start_function_arn",
            json!({ "event_id": "saturday-deals", "vars": { "desired_count": 2, "image_tag": "weekend" } }),
        ),
        (
            "saturday-deals-stop",
            "cron(0 22 ? * SAT *)",
            "stop_function_arn",
            json!({ "event_id": "saturday-deals", "vars": { "desired_count": 2, "image_tag": "weekend" } }),
        ),
    ];
    let queue_url = output("dead_letter_queue_url");
    let dead_letters = queue_url.rsplit('/').next().unwrap().to_owned();
    for (schedule, expression, function_output, payload) in expected {
        let s = scheduler
            .get_schedule()
            .group_name(&group)
            .name(schedule)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetSchedule {schedule}: {e:?}"));
        assert_eq!(s.schedule_expression(), Some(expression), "{s:?}");
        assert_eq!(
            s.schedule_expression_timezone(),
            Some("Asia/Seoul"),
            "{s:?}"
        );
        let target = s.target().expect("a target");
        assert_eq!(target.arn(), output(function_output), "{s:?}");
        let input: Value = serde_json::from_str(target.input().unwrap()).unwrap();
        // Numbers stay numbers (events is typed `any`): the functions refuse "4" for a number.
        assert_eq!(input, payload, "{schedule}");
        assert!(
            target
                .dead_letter_config()
                .and_then(|d| d.arn())
                .is_some_and(|arn| arn.ends_with(&format!(":{dead_letters}"))),
            "{s:?}"
        );
    }
    scheduler
        .get_schedule_group()
        .name(format!("{name}-follow-ups"))
        .send()
        .await
        .expect("the follow-up schedule group exists");

    // The secrets, the state bucket (empty), the runner's key pair and security group.
    for k in [
        "runner_key_secret_arn",
        "slack_webhook_secret_arn",
        "runner_host_key_secret_arn",
    ] {
        let secret = sm
            .describe_secret()
            .secret_id(output(k))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{k}: {e:?}"));
        assert!(
            secret.name().unwrap().starts_with(&format!("{name}/")),
            "{secret:?}"
        );
    }
    let bucket = output("state_bucket");
    assert!(
        bucket.starts_with(&format!("{name}-tier-state-")),
        "{bucket}"
    );
    // (Not GetBucketVersioning: moto answers it with a `GetBucketVersioningResponse` root the Rust
    // SDK refuses; the re-plan above already compared the versioning with the configuration.)
    stack
        .s3()
        .head_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("the state bucket exists");
    let objects = stack
        .s3()
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(objects.key_count(), Some(0), "{objects:?}");
    let ec2 = stack.ec2();
    let pairs = ec2
        .describe_key_pairs()
        .key_names(output("runner_key_pair_name"))
        .send()
        .await
        .unwrap();
    assert_eq!(pairs.key_pairs().len(), 1);
    assert_eq!(
        pairs.key_pairs()[0].key_name(),
        Some(format!("{name}-runner").as_str())
    );
    let groups = ec2
        .describe_security_groups()
        .group_ids(output("runner_security_group_id"))
        .group_ids(output("functions_security_group_id"))
        .send()
        .await
        .unwrap();
    assert_eq!(groups.security_groups().len(), 2);
    for g in groups.security_groups() {
        assert_eq!(g.vpc_id(), Some(stack.var("EVENT_TIER_LOCAL_VPC_ID")));
    }

    // Destroy: succeeds, leaves an empty state, and moto holds none of it any more.
    let t = Instant::now();
    work.ok(&["destroy", "-auto-approve", "-input=false", "-no-color"]);
    work.applied = false;
    let destroy_secs = t.elapsed().as_secs();
    let left = work.state_resources();
    assert!(left.is_empty(), "left in the state: {left:?}");
    let listed = work.ok(&["state", "list", "-no-color"]);
    assert!(
        listed.stdout.trim().is_empty(),
        "terraform state list: {}",
        listed.stdout
    );
    for suffix in ["start", "stop"] {
        let (status, body) = lambda_get_function(&stack, &format!("{name}-{suffix}")).await;
        assert_eq!(status, 404, "{name}-{suffix} is still there: {body}");
    }
    assert!(
        scheduler
            .get_schedule_group()
            .name(&group)
            .send()
            .await
            .is_err(),
        "the schedule group {group} is still there"
    );
    assert!(
        stack
            .s3()
            .head_bucket()
            .bucket(&bucket)
            .send()
            .await
            .is_err(),
        "the state bucket {bucket} is still there"
    );
    let pairs = ec2
        .describe_key_pairs()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("key-name")
                .values(format!("{name}-runner"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(pairs.key_pairs().is_empty(), "{pairs:?}");

    println!(
        "control module: {} resources applied in {apply_secs} s, re-plan clean, destroyed in \
         {destroy_secs} s; whole test {} s",
        created.len(),
        began.elapsed().as_secs()
    );
}
