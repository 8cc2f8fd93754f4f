//! The benchmark's floor (`make bench`, `local/bench.py`): the calls one event-start made, replayed
//! back to back by a process of their own. An invocation logs its calls in order (the `steps` of
//! its `timings` line, `event_core::timing`); this harness makes the same calls against the same
//! local stack with nothing around them: each AWS operation once with the SDK (its own retries and
//! all), the SSH connection (handshake, host key check, key authentication), each transfer of the
//! same size into `cat`, each remote command as `true`, each Slack post. Its total is what those
//! calls cost at the least; what the function takes beyond it is its own overhead.
//!
//! `event-floor <event-id> <steps>` with the function's environment; prints one JSON object:
//! `{"total_ms": .., "steps": [{"step": .., "ms": ..}]}`. The clients are made before the clock
//! starts, as a function makes them at init; nothing else is done before it: the runner key, the
//! webhook URL and the AMI come from the replayed calls themselves, so the SDK's one-time work
//! (credentials, endpoint rules, the first connections) is inside the clock, as it is inside a
//! fresh function's first calls. Only a stop's `TerminateInstances` needs an instance made
//! beforehand (with clients of its own). Anything it launched is terminated after the clock stops.
//! A step it does not know fails the run, naming it: a new call in the flow must be added here, or
//! the floor would be missing it.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::Filter;
use event_core::Config;
use event_core::payload::EventId;

type Fail = Box<dyn std::error::Error>;

/// What the replay learned on its way (as the function does) and what its set-up made.
#[derive(Default)]
struct Scratch {
    bucket: String,
    key: String,
    /// The runner key, from the first `GetSecretValue` (the flow fetches it first).
    pem: Option<String>,
    /// The webhook URL, from the next `GetSecretValue`.
    webhook: Option<String>,
    /// From the `SSM.GetParameter` step (or the settings, when they pin an AMI).
    ami: Option<String>,
    /// An instance for a `TerminateInstances` to end (made before the clock starts).
    doomed: Option<String>,
}

struct Clients {
    /// The functions' own launch request (user data, tags, volume, metadata options).
    fleet: event_core::runner::Ec2Fleet,
    s3: aws_sdk_s3::Client,
    ec2: aws_sdk_ec2::Client,
    ssm: aws_sdk_ssm::Client,
    secrets: aws_sdk_secretsmanager::Client,
    dms: aws_sdk_databasemigration::Client,
    tagging: aws_sdk_resourcegroupstagging::Client,
    scheduler: aws_sdk_scheduler::Client,
    http: reqwest::Client,
}

impl Clients {
    async fn new(config: &Config) -> Result<Self, Fail> {
        let sdk = event_core::flows::sdk_config().await;
        let s3 = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        let region = sdk.region().map(ToString::to_string).unwrap_or_default();
        Ok(Self {
            fleet: event_core::runner::Ec2Fleet::new(
                aws_sdk_ec2::Client::new(&sdk),
                aws_sdk_ssm::Client::new(&sdk),
                config.runner.clone(),
                region,
            ),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ec2: aws_sdk_ec2::Client::new(&sdk),
            ssm: aws_sdk_ssm::Client::new(&sdk),
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
            dms: aws_sdk_databasemigration::Client::new(&sdk),
            tagging: aws_sdk_resourcegroupstagging::Client::new(&sdk),
            scheduler: aws_sdk_scheduler::Client::new(&sdk),
            http: reqwest::Client::builder()
                .timeout(config.slack_timeout)
                .build()?,
        })
    }

    async fn secret(&self, id: &str) -> Result<String, Fail> {
        let out = self.secrets.get_secret_value().secret_id(id).send().await?;
        Ok(out.secret_string().unwrap_or_default().to_owned())
    }

    /// A runner as the functions launch one (their own request: user data, tags, volume, metadata
    /// options), for an event id of the floor's, so that it is never the event's runner.
    async fn launch(&self, ami: &str, n: usize) -> Result<String, Fail> {
        let pid = std::process::id();
        let floor = EventId::parse(&format!("floor-{pid}"))?;
        let runner = self
            .fleet
            .run_first_placement(&floor, &format!("floor-{pid}-{n}"), ami)
            .await?;
        Ok(runner.instance_id)
    }
}

#[tokio::main]
async fn main() -> Result<(), Fail> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [event, steps] = args.as_slice() else {
        return Err("usage: event-floor <event-id> <steps, comma-separated>".into());
    };
    let steps: Vec<&str> = match steps.as_str() {
        "warm-up" => WARM_UP.to_vec(),
        steps => steps.split(',').filter(|s| !s.is_empty()).collect(),
    };
    let config = Config::from_env()?;

    // The clients are made before the clock starts, as a function makes them at init. Nothing else
    // is: the key, the webhook URL and the AMI come from the replayed calls themselves, so the SDK's
    // one-time work (credentials, endpoint rules, the first connections) is paid inside the clock,
    // as the function pays it inside its first calls.
    let c = Clients::new(&config).await?;
    let mut scratch = Scratch {
        bucket: config.state_bucket.clone(),
        key: format!("bench-floor/{event}/{}", std::process::id()),
        ami: config.runner.ami_id.clone(),
        ..Scratch::default()
    };
    // Only a stop's steps need an instance to terminate: that set-up uses clients of its own.
    if steps.contains(&"EC2.TerminateInstances") {
        let setup = Clients::new(&config).await?;
        let p = setup.ssm.get_parameter().name(&config.runner.ami_parameter);
        let out = p.send().await?;
        let ami = out.parameter().and_then(|p| p.value()).ok_or("no AMI")?;
        scratch.doomed = Some(setup.launch(ami, usize::MAX).await?);
    }
    // Records of a few hundred bytes, as the flow's are.
    let record = vec![b'x'; 400];

    let mut replay = Replay {
        c,
        config: &config,
        event,
        s: &mut scratch,
        record: &record,
        ssh: None,
        launched: Vec::new(),
    };
    let mut took = Vec::new();
    let started = Instant::now();
    for step in &steps {
        let t = Instant::now();
        replay.step(step).await?;
        took.push(serde_json::json!({"step": step, "ms": ms(t.elapsed())}));
    }
    let total = started.elapsed();
    drop(replay.ssh.take());

    // Untimed: what the replay and the set-up left.
    let mut launched = std::mem::take(&mut replay.launched);
    let c = replay.c;
    launched.extend(scratch.doomed.clone());
    if !launched.is_empty() {
        let t = c.ec2.terminate_instances().set_instance_ids(Some(launched));
        t.send().await?;
    }
    let del =
        c.s3.delete_object()
            .bucket(&scratch.bucket)
            .key(&scratch.key);
    del.send().await?;
    let report = serde_json::json!({"total_ms": ms(total), "steps": took});
    println!("{report}");
    Ok(())
}

/// `event-floor <event-id> warm-up`: every step the harness knows, once, for `make bench` to run
/// before the function's flow. moto serves the first request of each operation in its process
/// more slowly than the next ones (measured: `RunInstances` 75-94 ms the first time, 19 after),
/// which AWS does not; warmed up, the function and the floor meet the same emulator.
const WARM_UP: &[&str] = &[
    "EC2.DescribeInstances",
    "S3.GetObject",
    "S3.PutObject",
    "S3.GetObject",
    "S3.DeleteObject",
    "SSM.GetParameter",
    "EC2.RunInstances",
    "EC2.TerminateInstances",
    "Secrets Manager.GetSecretValue",
    "Secrets Manager.GetSecretValue",
    "Database Migration Service.DescribeReplicationTasks",
    "Resource Groups Tagging API.GetResources",
    "Scheduler.ListSchedules",
    "ssh_connect",
    "remote",
    "upload:1024",
    "slack",
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The timed clients and what the steps need.
struct Replay<'a> {
    c: Clients,
    config: &'a Config,
    event: &'a str,
    s: &'a mut Scratch,
    record: &'a [u8],
    ssh: Option<ssh2::Session>,
    launched: Vec<String>,
}

impl Replay<'_> {
    /// One step, as the flow made it.
    async fn step(&mut self, step: &str) -> Result<(), Fail> {
        let (c, config, event) = (&self.c, self.config, self.event);
        let s = &mut *self.s;
        let (record, ssh, launched) = (self.record, &mut self.ssh, &mut self.launched);
        let tag =
            |key: &str, value: &str| Filter::builder().name(format!("tag:{key}")).values(value);
        match step {
            "S3.GetObject" => {
                let get = c.s3.get_object().bucket(&s.bucket).key(&s.key);
                match get.send().await {
                    Ok(out) => drop(out.body.collect().await?),
                    // No record yet is an answer, as it is for the flow's first reads.
                    Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            "S3.PutObject" => {
                let put = c.s3.put_object().bucket(&s.bucket).key(&s.key);
                put.body(record.to_vec().into()).send().await?;
            }
            "S3.DeleteObject" => {
                let key = format!("{}-deleted", s.key);
                c.s3.delete_object()
                    .bucket(&s.bucket)
                    .key(key)
                    .send()
                    .await?;
            }
            "EC2.DescribeInstances" => {
                let states = Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running");
                let d = c.ec2.describe_instances();
                d.filters(tag("event-tier:event", event).build())
                    .filters(states.build())
                    .send()
                    .await?;
            }
            // The function's own request, for an event id of the floor's (its runner is not the
            // event's): as long as the function's, user data, tags and all.
            "EC2.RunInstances" => {
                let ami = s
                    .ami
                    .as_deref()
                    .ok_or("RunInstances before the AMI's GetParameter")?;
                launched.push(c.launch(ami, launched.len()).await?)
            }
            "EC2.TerminateInstances" => {
                let id = s.doomed.clone().ok_or("no instance to terminate")?;
                c.ec2.terminate_instances().instance_ids(id).send().await?;
            }
            "SSM.GetParameter" => {
                let name = &config.runner.ami_parameter;
                let out = c.ssm.get_parameter().name(name).send().await?;
                s.ami = out.parameter().and_then(|p| p.value()).map(str::to_owned);
            }
            // The flow fetches the runner key, then (for its Slack post) the webhook URL.
            "Secrets Manager.GetSecretValue" => match s.pem {
                None => s.pem = Some(c.secret(&config.runner_key_secret).await?),
                Some(_) => s.webhook = Some(c.secret(&config.slack_webhook_secret).await?),
            },
            "Database Migration Service.DescribeReplicationTasks" => {
                let id = aws_sdk_databasemigration::types::Filter::builder()
                    .name("replication-task-id")
                    .values(format!("event-tier-{event}"))
                    .build()?;
                // No task is an answer (a fault), as it is for the flow before the tier exists.
                let _ = c.dms.describe_replication_tasks().filters(id).send().await;
            }
            "Resource Groups Tagging API.GetResources" => {
                let f = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
                    .key("event-tier:event")
                    .values(event);
                c.tagging
                    .get_resources()
                    .tag_filters(f.build())
                    .send()
                    .await?;
            }
            "Scheduler.ListSchedules" => {
                c.scheduler.list_schedules().send().await?;
            }
            "ssh_connect" => {
                let pem = s
                    .pem
                    .as_deref()
                    .ok_or("ssh_connect before the key's GetSecretValue")?;
                *ssh = Some(connect(config, pem)?)
            }
            "remote" => exec(
                ssh.as_ref().ok_or("a command before ssh_connect")?,
                "true",
                &[],
            )?,
            "slack" => {
                let text = format!("event {event}: bench floor, a message of the usual length");
                let body = serde_json::json!({ "text": text });
                let webhook = s
                    .webhook
                    .as_deref()
                    .ok_or("slack before the webhook's secret")?;
                c.http
                    .post(webhook)
                    .json(&body)
                    .send()
                    .await?
                    .error_for_status()?;
            }
            other => match other.strip_prefix("upload:").map(str::parse::<usize>) {
                Some(Ok(bytes)) => {
                    let session = ssh.as_ref().ok_or("a transfer before ssh_connect")?;
                    exec(session, "cat >/dev/null", &vec![0u8; bytes])?;
                }
                _ => return Err(format!("step {other:?} has no replay here: add it").into()),
            },
        }
        Ok(())
    }
}

/// Connect, handshake, check the pinned host key, authenticate: what the flow does, and no more.
fn connect(config: &Config, pem: &str) -> Result<ssh2::Session, Fail> {
    let ssh = &config.ssh;
    let endpoint = ssh.endpoint_override.as_deref();
    let endpoint = endpoint.ok_or("the floor needs EVENT_TIER_RUNNER_SSH_ENDPOINT")?;
    let addr = endpoint.to_socket_addrs()?.next().ok_or("no address")?;
    let tcp = TcpStream::connect_timeout(&addr, ssh.timeout)?;
    let mut session = ssh2::Session::new()?;
    session.set_timeout(ssh.timeout.as_millis() as u32);
    session.set_tcp_stream(tcp);
    session.handshake()?;
    let hash = session.host_key_hash(ssh2::HashType::Sha256);
    let seen = hash.map(event_core::ssh::fingerprint);
    if seen.as_deref() != Some(ssh.host_key_sha256.as_str()) {
        return Err(format!("host key mismatch: {seen:?}").into());
    }
    session.userauth_pubkey_memory(&ssh.user, None, pem, None)?;
    Ok(session)
}

/// One channel: the command, its input, its output to the end, its exit status.
fn exec(session: &ssh2::Session, command: &str, input: &[u8]) -> Result<(), Fail> {
    let mut ch = session.channel_session()?;
    ch.exec(command)?;
    ch.write_all(input)?;
    ch.send_eof()?;
    let mut out = Vec::new();
    ch.read_to_end(&mut out)?;
    ch.stderr().read_to_end(&mut out)?;
    ch.wait_close()?;
    match ch.exit_status()? {
        0 => Ok(()),
        n => Err(format!("{command} exited {n} on the runner").into()),
    }
}
