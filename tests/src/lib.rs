//! The harness of the integration tests: the local stack's settings (from `.local/env`, sourced by
//! `local/with-stack.sh`), clients that look at what moto, the state bucket and the Slack sink hold,
//! and unique event ids so that tests can share one stack.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use event_core::{Config, Deps};

pub mod demo;
pub mod fault_proxy;
pub mod slack_client;
pub mod slack_posts;
pub use slack_posts::SlackPost;
pub mod watch;
use serde_json::Value;

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The small event tier the flow tests apply (`tests/fixtures/tier`).
pub fn fixture_module() -> PathBuf {
    root().join("tests/fixtures/tier")
}

/// A sample payload from `events/`, the same file `cargo lambda invoke --data-file` uses.
pub fn sample(name: &str) -> Value {
    let path = root().join("events").join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Runs `f` on a current-thread runtime whose clock is paused: sleeps and timeouts of the
/// in-memory world take no real time (the world tests).
pub fn paused<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime")
        .block_on(f)
}

/// An event id no other test uses: `t-<name>-<pid>-<n>`, at most 40 characters.
pub fn unique_event(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let suffix = format!(
        "-{}-{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::SeqCst)
    );
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .take(40 - 2 - suffix.len())
        .collect();
    format!("t-{name}{suffix}")
}

/// The local stack, as `.local/env` describes it.
pub struct Stack {
    pub env: HashMap<String, String>,
    pub sdk: aws_config::SdkConfig,
}

impl Stack {
    pub async fn get() -> Stack {
        let env: HashMap<String, String> = std::env::vars().collect();
        assert!(
            env.contains_key("EVENT_TIER_SLACK_SINK_LOG") && env.contains_key("AWS_ENDPOINT_URL"),
            "the local stack's settings are not in the environment: run the tests with `make test` \
             (or `local/with-stack.sh cargo nextest run`)"
        );
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Stack { env, sdk }
    }

    pub fn var(&self, name: &str) -> &str {
        self.env
            .get(name)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("{name} is not set"))
    }

    /// The functions' configuration on this stack, with the fixture module (which has no DMS task,
    /// so no final migration).
    pub fn config(&self) -> Config {
        let mut c =
            Config::from_vars(self.env.clone()).expect("the local stack's settings are complete");
        c.module_dir = Some(fixture_module());
        c.final_migration = false;
        c
    }

    pub async fn deps(&self) -> Deps {
        self.deps_with(|_| {}).await
    }

    pub async fn deps_with(&self, tweak: impl FnOnce(&mut Config)) -> Deps {
        let mut c = self.config();
        tweak(&mut c);
        Deps::from_config(c).await.expect("deps build")
    }

    /// Deps whose AWS calls go to `endpoint` (a fault proxy in front of moto) with the SDK's default
    /// retry settings; Terraform on the runner still reaches moto directly.
    pub async fn deps_through(&self, endpoint: &str, tweak: impl FnOnce(&mut Config)) -> Deps {
        let mut c = self.config();
        tweak(&mut c);
        // Set on the loader, the endpoint wins over `AWS_ENDPOINT_URL` (an endpoint set on a built
        // SdkConfig does not: the environment's is read again per service).
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .load()
            .await;
        Deps::from_sdk_config(c, &sdk).expect("deps build")
    }

    /// Asserts that the event has one live runner and that its claim names it (the launch token in
    /// the claim is the runner's `event-tier:launch-token` tag): a runner left behind is tracked.
    pub async fn assert_runner_tracked(&self, event: &str) {
        let live = self.live_instances(event).await;
        assert_eq!(live.len(), 1, "one live runner: {live:?}");
        assert_eq!(
            self.runner_claim(event).await.as_deref(),
            live[0]
                .tags
                .get("event-tier:launch-token")
                .map(String::as_str),
            "the claim names the runner"
        );
    }

    /// The event's runner claim in the state bucket (the launch token), if one stands.
    pub async fn runner_claim(&self, event: &str) -> Option<String> {
        let out = self
            .s3()
            .get_object()
            .bucket(self.var("EVENT_TIER_STATE_BUCKET"))
            .key(format!("events/{event}/runner-claim"))
            .send()
            .await
            .ok()?;
        let bytes = out.body.collect().await.unwrap().to_vec();
        Some(String::from_utf8_lossy(&bytes).trim().to_owned())
    }

    pub fn ec2(&self) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .force_path_style(true)
                .build(),
        )
    }

    /// Every instance tagged with the event, as (id, state, tags).
    pub async fn instances(&self, event: &str) -> Vec<Instance> {
        let out = self
            .ec2()
            .describe_instances()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:event-tier:event")
                    .values(event)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .map(|i| Instance {
                id: i.instance_id().unwrap().to_owned(),
                state: i
                    .state()
                    .and_then(|s| s.name())
                    .unwrap()
                    .as_str()
                    .to_owned(),
                tags: i
                    .tags()
                    .iter()
                    .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
                    .collect(),
                instance_type: i
                    .instance_type()
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                http_tokens: i
                    .metadata_options()
                    .and_then(|m| m.http_tokens())
                    .map(|t| t.as_str().to_owned())
                    .unwrap_or_default(),
                subnet: i.subnet_id().unwrap_or_default().to_owned(),
                profile: i
                    .iam_instance_profile()
                    .and_then(|p| p.arn())
                    .unwrap_or_default()
                    .to_owned(),
            })
            .collect()
    }

    pub async fn live_instances(&self, event: &str) -> Vec<Instance> {
        self.instances(event)
            .await
            .into_iter()
            .filter(|i| i.state == "pending" || i.state == "running")
            .collect()
    }

    /// The event's Terraform state in the state bucket, parsed; None if there is none.
    pub async fn state(&self, event: &str) -> Option<Value> {
        let out = self
            .s3()
            .get_object()
            .bucket(self.var("EVENT_TIER_STATE_BUCKET"))
            .key(format!("events/{event}/terraform.tfstate"))
            .send()
            .await
            .ok()?;
        let bytes = out.body.collect().await.unwrap().to_vec();
        Some(serde_json::from_slice(&bytes).unwrap())
    }

    /// Managed resource types in the event's state (one entry per instance).
    pub async fn state_resources(&self, event: &str) -> Vec<String> {
        let Some(state) = self.state(event).await else {
            return vec![];
        };
        managed_addresses(&state)
    }

    /// Security groups named after the event (the fixture tier creates one).
    pub async fn security_groups(&self, name: &str) -> Vec<String> {
        let out = self
            .ec2()
            .describe_security_groups()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("group-name")
                    .values(name)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.security_groups()
            .iter()
            .map(|g| g.group_id().unwrap().to_owned())
            .collect()
    }

    /// Every post the Slack sink received that mentions the event.
    pub fn slack(&self, event: &str) -> Vec<SlackPost> {
        let text =
            std::fs::read_to_string(self.var("EVENT_TIER_SLACK_SINK_LOG")).unwrap_or_default();
        let needle = format!("*{event}*");
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| {
                let t = v["text"].as_str()?.to_owned();
                t.contains(&needle).then(|| SlackPost::from_record(&v, t))
            })
            .collect()
    }

    /// Tells the Slack sink how to answer (`/_sink/fail`, `/_sink/delay`, `/_sink/reset`).
    pub async fn slack_control(&self, path: &str, body: Value) {
        let url = format!("{}{}", self.var("EVENT_TIER_SLACK_SINK_URL"), path);
        let (status, _) = http("POST", &url, Some(&body)).await;
        assert_eq!(status, 200, "sink control {path}");
    }

    /// The emulator's DMS task, as the compatibility layer's extension shows it (status, start_type, ...).
    pub async fn dms_task(&self, task_id: &str) -> Value {
        self.try_dms_task(task_id)
            .await
            .unwrap_or_else(|| panic!("no DMS task {task_id}"))
    }

    /// The same, None if there is no such task.
    pub async fn try_dms_task(&self, task_id: &str) -> Option<Value> {
        let url = format!(
            "{}/event-tier-compat/dms/replication-task?id={task_id}&region={}",
            self.var("AWS_ENDPOINT_URL"),
            self.var("AWS_REGION")
        );
        let (status, body) = http("GET", &url, None).await;
        (status == 200).then_some(body)
    }

    /// The secrets the stack holds, named, as they must never appear in a log, a Slack message or a
    /// state: the runner key's PEM (each long line, and its header word), the Slack webhook and its
    /// token, the operations database's password.
    pub async fn secrets(&self) -> Vec<(&'static str, String)> {
        let pem = std::fs::read_to_string(format!(
            "{}/ssh/runner_key",
            self.var("EVENT_TIER_LOCAL_STACK")
        ))
        .expect("the local stack's runner key");
        let value = |id: String| async move {
            aws_sdk_secretsmanager::Client::new(&self.sdk)
                .get_secret_value()
                .secret_id(id)
                .send()
                .await
                .expect("the local stack seeds its secrets")
                .secret_string()
                .unwrap()
                .to_owned()
        };
        let webhook = value(self.var("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN").to_owned()).await;
        let ops: Value =
            serde_json::from_str(&value("event-tier/ops-db".to_owned()).await).unwrap();
        let mut out: Vec<(&'static str, String)> = pem
            .lines()
            .filter(|l| l.len() > 20)
            .map(|l| ("the runner's SSH key", l.to_owned()))
            .collect();
        out.push(("the runner's SSH key", "PRIVATE KEY".to_owned()));
        out.push((
            "the Slack webhook's token",
            webhook.rsplit('/').next().unwrap().to_owned(),
        ));
        out.push(("the Slack webhook", webhook));
        out.push((
            "the operations database's password",
            ops["password"].as_str().unwrap().to_owned(),
        ));
        out
    }

    /// A call to a moto service the tests crate has no SDK client for (Lambda, CloudWatch Logs):
    /// moto routes a request by the credential scope of its Authorization header and does not check
    /// the signature. `headers`: extra header lines, each ending in CRLF.
    pub async fn moto_call(
        &self,
        service: &str,
        method: &str,
        path: &str,
        headers: &str,
        body: &str,
    ) -> (u16, Value) {
        let host = self
            .var("AWS_ENDPOINT_URL")
            .strip_prefix("http://")
            .expect("the local stack's endpoint is plain http")
            .trim_end_matches('/');
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}X-Amz-Date: 20260101T000000Z\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/{service}/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=0\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n{body}",
            key = self.var("AWS_ACCESS_KEY_ID"),
            region = self.var("AWS_REGION"),
            len = body.len(),
        );
        exchange(host, &request).await
    }

    /// Plays a full load of the task that finished, as DMS reports it.
    pub async fn finish_dms_load(&self, arn: &str) {
        self.set_dms_task(
            arn,
            "stopped",
            Some("Stop Reason FULL_LOAD_ONLY_FINISHED"),
            None,
        )
        .await;
    }

    /// Drives the emulator's DMS task into a state (local/EMULATOR-GAPS.md).
    pub async fn set_dms_task(
        &self,
        arn: &str,
        status: &str,
        stop_reason: Option<&str>,
        failure: Option<&str>,
    ) {
        let url = format!(
            "{}/event-tier-compat/dms/replication-task",
            self.var("AWS_ENDPOINT_URL")
        );
        let body = serde_json::json!({ "arn": arn, "status": status, "stop_reason": stop_reason, "last_failure_message": failure });
        let (code, answer) = http("POST", &url, Some(&body)).await;
        assert_eq!(code, 200, "{answer}");
    }

    /// Makes one part of a tier not ready (or ready again) through the emulator's readiness
    /// extension (local/moto_compat/tier_readiness.py): `{"ecs_service": {...}}` and the like.
    pub async fn set_readiness(&self, body: Value) {
        let url = format!(
            "{}/event-tier-compat/readiness",
            self.var("AWS_ENDPOINT_URL")
        );
        let (code, answer) = http("POST", &url, Some(&body)).await;
        assert_eq!(code, 200, "{body} -> {answer}");
    }

    /// What the tiers' site (local/tier_site.py) answers for a load balancer's name: `None`, 200.
    pub async fn set_site(&self, host: &str, status: Option<u16>) {
        let url = format!("{}/_site", self.var("EVENT_TIER_READY_HTTP_ENDPOINT"));
        let body = serde_json::json!({ "host": host, "status": status });
        let (code, answer) = http("POST", &url, Some(&body)).await;
        assert_eq!(code, 200, "{answer}");
    }
}

/// The context of an invocation of `function_arn` whose deadline is `within` from now.
pub fn context_with_deadline(
    within: std::time::Duration,
    function_arn: &str,
) -> lambda_runtime::Context {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let mut ctx = lambda_runtime::Context::default();
    ctx.deadline = (now + within).as_millis() as u64;
    ctx.invoked_function_arn = function_arn.into();
    ctx
}

/// The managed resources of a Terraform state document, as `type.name`, one entry per instance.
pub fn managed_addresses(state: &Value) -> Vec<String> {
    state["resources"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|r| r["mode"] == "managed")
        .flat_map(|r| {
            let address = format!(
                "{}.{}",
                r["type"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            );
            r["instances"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |_| address.clone())
        })
        .collect()
}

/// A plain HTTP/1.1 request on loopback (the sink's and the emulator's control paths), without pulling
/// another HTTP client into the tests. Returns the status and the JSON body (Null if none).
pub async fn http(method: &str, url: &str, body: Option<&Value>) -> (u16, Value) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap();
    let data = body.map(Value::to_string).unwrap_or_default();
    exchange(
        host,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{data}",
            data.len()
        ),
    )
    .await
}

/// Sends one raw HTTP/1.1 request (which says `Connection: close`) to `host`, on loopback only, and
/// reads the answer to its end: the status and the JSON body (Null if none).
async fn exchange(host: &str, request: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    assert!(
        host.starts_with("127.0.0.1:"),
        "the tests talk to loopback only: {host}"
    );
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[derive(Debug, Clone)]
pub struct Instance {
    pub id: String,
    pub state: String,
    pub tags: HashMap<String, String>,
    pub instance_type: String,
    pub http_tokens: String,
    pub subnet: String,
    pub profile: String,
}
