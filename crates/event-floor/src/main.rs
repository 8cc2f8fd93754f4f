//! The benchmark's floor (`make bench`, `local/bench.py`): the calls one event-start made, replayed
//! back to back by a process of their own. An invocation logs its calls in order (the `steps` of
//! its `timings` line, `event_core::timing`); this harness makes the same calls against the same
//! local stack with nothing around them: each AWS operation once with the SDK (its own retries and
//! all), the SSH connection (handshake, host key check, key authentication), each transfer of the
//! same size into `cat`, each remote command as `true`, each Slack post. Its total is what those
//! calls cost at the least; what the function takes beyond it is its own overhead.
//!
//! `event-floor <event-id> <steps>` with the function's environment; prints one JSON object:
//! `{"total_ms": .., "steps": [{"step": .., "ms": ..}]}`. Set-up (the key, the webhook URL, a
//! scratch object, an instance to terminate) is done with clients of its own before the clock
//! starts. The timed clients are new, but that set-up has already done the SDK's process-wide
//! one-time work (endpoint partitions, the first connection), which a fresh function pays inside
//! its first calls: this floor is lower than a cold one by that much. Anything it launched is
//! terminated after the clock stops. A step it does not know fails the run, naming it: a new call
//! in the flow must be added here, or the floor would be missing it.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{Filter, InstanceType};
use event_core::Config;

type Fail = Box<dyn std::error::Error>;

/// What the set-up found, used by the timed calls.
struct Scratch {
    bucket: String,
    key: String,
    pem: String,
    webhook: String,
    ami: String,
    /// An instance for a `TerminateInstances` to end.
    doomed: Option<String>,
}

struct Clients {
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
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let s3 = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        Ok(Self {
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

    async fn launch(&self, config: &Config, ami: &str) -> Result<String, Fail> {
        let r = &config.runner;
        let out = self
            .ec2
            .run_instances()
            .image_id(ami)
            .instance_type(InstanceType::from(r.instance_types[0].as_str()))
            .subnet_id(&r.subnet_ids[0])
            .security_group_ids(&r.security_group_id)
            .min_count(1)
            .max_count(1)
            .send()
            .await?;
        let id = out.instances().first().and_then(|i| i.instance_id());
        Ok(id.ok_or("RunInstances answered no instance")?.to_owned())
    }
}

#[tokio::main]
async fn main() -> Result<(), Fail> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [event, steps] = args.as_slice() else {
        return Err("usage: event-floor <event-id> <steps, comma-separated>".into());
    };
    let steps: Vec<&str> = steps.split(',').filter(|s| !s.is_empty()).collect();
    let config = Config::from_env()?;

    let setup = Clients::new(&config).await?;
    let ami = match &config.runner.ami_id {
        Some(ami) => ami.clone(),
        None => {
            let p = setup.ssm.get_parameter().name(&config.runner.ami_parameter);
            let out = p.send().await?;
            let value = out.parameter().and_then(|p| p.value());
            value.ok_or("the AMI parameter has no value")?.to_owned()
        }
    };
    let scratch = Scratch {
        bucket: config.state_bucket.clone(),
        key: format!("bench-floor/{event}/{}", std::process::id()),
        pem: setup.secret(&config.runner_key_secret).await?,
        webhook: setup.secret(&config.slack_webhook_secret).await?,
        doomed: if steps.contains(&"EC2.TerminateInstances") {
            Some(setup.launch(&config, &ami).await?)
        } else {
            None
        },
        ami,
    };
    // Records of a few hundred bytes, as the flow's are.
    let record = vec![b'x'; 400];
    let s3 = &setup.s3;
    let put = s3.put_object().bucket(&scratch.bucket).key(&scratch.key);
    put.body(record.clone().into()).send().await?;

    let mut replay = Replay {
        c: Clients::new(&config).await?,
        config: &config,
        event,
        s: &scratch,
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
    launched.extend(scratch.doomed.clone());
    if !launched.is_empty() {
        let t = setup
            .ec2
            .terminate_instances()
            .set_instance_ids(Some(launched));
        t.send().await?;
    }
    let del = s3.delete_object().bucket(&scratch.bucket).key(&scratch.key);
    del.send().await?;
    let report = serde_json::json!({"total_ms": ms(total), "steps": took});
    println!("{report}");
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The timed clients and what the steps need.
struct Replay<'a> {
    c: Clients,
    config: &'a Config,
    event: &'a str,
    s: &'a Scratch,
    record: &'a [u8],
    ssh: Option<ssh2::Session>,
    launched: Vec<String>,
}

impl Replay<'_> {
    /// One step, as the flow made it.
    async fn step(&mut self, step: &str) -> Result<(), Fail> {
        let (c, config, event, s) = (&self.c, self.config, self.event, self.s);
        let (record, ssh, launched) = (self.record, &mut self.ssh, &mut self.launched);
        let tag =
            |key: &str, value: &str| Filter::builder().name(format!("tag:{key}")).values(value);
        match step {
            "S3.GetObject" => {
                let out =
                    c.s3.get_object()
                        .bucket(&s.bucket)
                        .key(&s.key)
                        .send()
                        .await?;
                out.body.collect().await?;
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
            "EC2.RunInstances" => launched.push(c.launch(config, &s.ami).await?),
            "EC2.TerminateInstances" => {
                let id = s.doomed.clone().ok_or("no instance to terminate")?;
                c.ec2.terminate_instances().instance_ids(id).send().await?;
            }
            "SSM.GetParameter" => {
                let name = &config.runner.ami_parameter;
                c.ssm.get_parameter().name(name).send().await?;
            }
            "Secrets Manager.GetSecretValue" => {
                c.secret(&config.runner_key_secret).await?;
            }
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
            "ssh_connect" => *ssh = Some(connect(config, &s.pem)?),
            "remote" => exec(
                ssh.as_ref().ok_or("a command before ssh_connect")?,
                "true",
                &[],
            )?,
            "slack" => {
                let text = format!("event {event}: bench floor, a message of the usual length");
                let body = serde_json::json!({ "text": text });
                c.http
                    .post(&s.webhook)
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
