//! The start and stop flows, and what they share: finding or launching the runner, reaching it over
//! SSH, following a detached Terraform run within the function's deadline, and telling Slack.

pub mod start;
pub mod stop;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::SecretString;
use serde::Serialize;
use tracing::{Instrument, info, warn};

use crate::config::Config;
use crate::error::Error;
use crate::followup::FollowUps;
use crate::inventory::Inventory;
use crate::migration::Migrations;
use crate::module::Module;
use crate::payload::EventId;
use crate::records::Records;
use crate::runner::{Fleet, Runner};
use crate::secrets::Secrets;
use crate::slack::Notifier;
use crate::ssh::{Remote, Session, SshTarget};
use crate::terraform::{Action, Backend, RunState, Workspace};
use crate::timing;

/// Everything a flow needs, built once per Lambda instance.
pub struct Deps {
    pub config: Config,
    pub region: String,
    pub module: Module,
    pub fleet: Arc<dyn Fleet>,
    pub secrets: Arc<dyn Secrets>,
    pub remote: Arc<dyn Remote>,
    pub records: Arc<dyn Records>,
    pub notifier: Arc<dyn Notifier>,
    pub migrations: Arc<dyn Migrations>,
    pub inventory: Arc<dyn Inventory>,
    /// None when `EVENT_TIER_FOLLOW_UP_ROLE_ARN` is unset: a run that outlives the function is then
    /// picked up by invoking again with its run id.
    pub follow_ups: Option<Arc<dyn FollowUps>>,
}

impl Deps {
    /// The AWS-backed dependencies. `AWS_ENDPOINT_URL` (the local stack) is honoured by the SDK.
    pub async fn from_config(config: Config) -> Result<Self, Error> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::from_sdk_config(config, &sdk)
    }

    /// The same with a given SDK configuration: its endpoint, retry and timeout settings apply to
    /// every AWS client (the fault tests point it at a fault-injecting proxy).
    pub fn from_sdk_config(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, Error> {
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| Error::Config("AWS_REGION is not set".into()))?;
        let s3_conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        let secrets: Arc<dyn Secrets> = Arc::new(crate::secrets::SecretsManager::new(
            aws_sdk_secretsmanager::Client::new(sdk),
        ));
        let module = Module::load(config.module_dir.as_deref())?;
        Ok(Deps {
            region: region.clone(),
            module,
            fleet: Arc::new(crate::runner::Ec2Fleet::new(
                aws_sdk_ec2::Client::new(sdk),
                aws_sdk_ssm::Client::new(sdk),
                config.runner.clone(),
                region,
            )),
            remote: Arc::new(crate::ssh::Ssh2Remote),
            records: Arc::new(crate::records::S3Records::new(
                aws_sdk_s3::Client::from_conf(s3_conf),
                config.state_bucket.clone(),
            )),
            notifier: Arc::new(crate::slack::SlackWebhook::new(
                secrets.clone(),
                config.slack_webhook_secret.clone(),
                config.slack_timeout,
            )?),
            migrations: Arc::new(crate::migration::Dms::new(
                aws_sdk_databasemigration::Client::new(sdk),
            )),
            inventory: Arc::new(crate::inventory::TaggingInventory::new(
                aws_sdk_resourcegroupstagging::Client::new(sdk),
            )),
            follow_ups: config.follow_up_role_arn.clone().map(|role| {
                Arc::new(crate::followup::SchedulerFollowUps::new(
                    aws_sdk_scheduler::Client::new(sdk),
                    role,
                    config.follow_up_group.clone(),
                )) as Arc<dyn FollowUps>
            }),
            secrets,
            config,
        })
    }

    fn backend(&self) -> Backend {
        Backend {
            bucket: self.config.state_bucket.clone(),
            region: self.region.clone(),
            endpoint_url: self.config.tf_endpoint_url.clone(),
        }
    }
}

/// The step of a flow, named in errors and Slack messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Validate,
    Runner,
    Key,
    Ssh,
    Ready,
    Migrate,
    Prepare,
    Init,
    Plan,
    Apply,
    Destroy,
    Follow,
    Terminate,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Runner => "runner",
            Stage::Key => "key",
            Stage::Ssh => "ssh",
            Stage::Ready => "ready",
            Stage::Migrate => "migrate",
            Stage::Prepare => "prepare",
            Stage::Init => "init",
            Stage::Plan => "plan",
            Stage::Apply => "apply",
            Stage::Destroy => "destroy",
            Stage::Follow => "follow",
            Stage::Terminate => "terminate",
        }
    }

    fn of_run(stage: &str, action: Action) -> Stage {
        match stage {
            "init" => Stage::Init,
            "plan" => Stage::Plan,
            "apply" => Stage::Apply,
            "destroy" => Stage::Destroy,
            _ => match action {
                Action::Apply => Stage::Apply,
                Action::Destroy => Stage::Destroy,
            },
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed flow: the stage, the error, and the tail of Terraform's output when there is one.
#[derive(Debug, thiserror::Error)]
#[error("{stage} failed: {error}")]
pub struct FlowError {
    pub stage: Stage,
    #[source]
    pub error: Error,
    pub tail: Option<String>,
}

impl FlowError {
    pub fn new(stage: Stage, error: Error) -> Self {
        Self {
            stage,
            error,
            tail: None,
        }
    }
}

impl From<crate::error::InputError> for FlowError {
    fn from(e: crate::error::InputError) -> Self {
        FlowError::new(Stage::Validate, e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The event tier was created or changed.
    Applied,
    /// The event tier was already as the module says: nothing changed.
    AlreadyUp,
    /// Terraform still runs; a follow-up invocation carrying `run_id` reports its outcome.
    InProgress,
    /// Another run of this event is in progress; this request did nothing.
    Busy,
    Destroyed,
    /// Destroyed, but resources tagged with the event remain (named in `leftovers`).
    DestroyedWithLeftovers,
    AlreadyDown,
}

/// What a flow returns to its caller (the Lambda result).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Outcome {
    pub event_id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub duration_ms: u64,
    pub message: String,
    /// ARNs of resources still tagged with the event after a stop.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
    /// The schedule that will invoke the function again for an `in_progress` run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<String>,
}

/// When the function must have returned, read from the Lambda context.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    pub fn none() -> Self {
        Deadline(None)
    }

    pub fn after(d: Duration) -> Self {
        Deadline(Some(Instant::now() + d))
    }

    /// From the Lambda context's deadline (Unix milliseconds); 0 means none.
    ///
    /// A value before 2001 is no Unix time a real invocation can carry: `cargo lambda watch` sends a
    /// duration there (600000), so such a value is read as milliseconds from now
    /// (local/EMULATOR-GAPS.md).
    pub fn from_epoch_millis(ms: u64) -> Self {
        const YEAR_2001_MS: u64 = 978_307_200_000;
        if ms == 0 {
            return Deadline(None);
        }
        if ms < YEAR_2001_MS {
            return Deadline::after(Duration::from_millis(ms));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64;
        Deadline(Some(
            Instant::now() + Duration::from_millis(ms.saturating_sub(now)),
        ))
    }

    /// Whether `needed` still fits before the deadline.
    pub fn allows(&self, needed: Duration) -> bool {
        self.0.is_none_or(|d| Instant::now() + needed < d)
    }

    pub fn remaining(&self) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(Instant::now()))
    }
}

/// How a followed run ended, or that it goes on past this invocation.
#[derive(Debug)]
pub(crate) enum Followed {
    Finished {
        exit: i32,
        stage: String,
        changes: bool,
        tail: String,
    },
    Pending,
    /// The runner stopped answering and did not answer again within the SSH timeout; the run goes
    /// on there (it is detached) and its outcome is still to be reported.
    LostContact {
        error: Error,
        after: Duration,
    },
}

/// The SSH session to a runner, and what it takes to open another one when it breaks: a dropped or
/// stalled connection does not end a detached Terraform run, so following it only needs a new session.
pub struct Link {
    session: Arc<dyn Session>,
    target: SshTarget,
    key: SecretString,
    /// Sessions opened, the first included.
    pub sessions: u32,
}

impl Link {
    pub fn session(&self) -> &dyn Session {
        self.session.as_ref()
    }
}

/// What a flow knows of its invocation: when it must return, and which function it is (the target
/// of a follow-up).
#[derive(Debug, Clone)]
pub struct Invocation {
    pub deadline: Deadline,
    pub function_arn: Option<String>,
}

impl From<Deadline> for Invocation {
    fn from(deadline: Deadline) -> Self {
        Invocation {
            deadline,
            function_arn: None,
        }
    }
}

/// How long after an invocation hands over its follow-up comes.
pub const FOLLOW_UP_DELAY: Duration = Duration::from_secs(60);

/// One flow's run: the event, the deadline and the shared steps.
pub(crate) struct Flow<'a> {
    pub deps: &'a Deps,
    pub event: EventId,
    pub deadline: Deadline,
    pub function_arn: Option<String>,
    pub started: Instant,
    /// "start" or "stop", for messages.
    pub name: &'static str,
}

impl<'a> Flow<'a> {
    pub fn new(deps: &'a Deps, event: EventId, invocation: Invocation, name: &'static str) -> Self {
        Self {
            deps,
            event,
            deadline: invocation.deadline,
            function_arn: invocation.function_arn.filter(|a| !a.is_empty()),
            started: Instant::now(),
            name,
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn outcome(
        &self,
        status: Status,
        run_id: Option<String>,
        instance_id: Option<String>,
        message: String,
    ) -> Outcome {
        Outcome {
            event_id: self.event.to_string(),
            status,
            run_id,
            instance_id,
            duration_ms: self.elapsed_ms(),
            message,
            leftovers: Vec::new(),
            follow_up: None,
        }
    }

    /// The outcome of work still going when this invocation must return: schedules the follow-up
    /// (or says how to follow up by hand). `follow` is the payload's `follow` object.
    pub async fn pending(
        &self,
        what: &str,
        follow: serde_json::Value,
        run_id: Option<String>,
        instance_id: Option<String>,
        force: bool,
    ) -> Outcome {
        let mut payload = serde_json::json!({ "event_id": self.event.as_str() });
        if !follow.is_null() {
            payload["follow"] = follow;
        }
        if force {
            payload["force"] = serde_json::Value::Bool(true);
        }
        let (scheduled, how) = self.follow_up(payload).await;
        info!(event_id = %self.event, "{what} outlives this invocation: {how}");
        let mut o = self.outcome(
            Status::InProgress,
            run_id,
            instance_id,
            format!("{what} still runs; {how}"),
        );
        o.follow_up = scheduled;
        o
    }

    /// Schedules an invocation with `payload` (when follow-ups are configured); returns the schedule
    /// and a sentence saying how the work will be picked up.
    async fn follow_up(&self, payload: serde_json::Value) -> (Option<String>, String) {
        let scheduled = match (&self.deps.follow_ups, &self.function_arn) {
            (Some(f), Some(arn)) => match f
                .schedule(&self.event, arn, &payload, FOLLOW_UP_DELAY)
                .await
            {
                Ok(name) => Some(name),
                Err(e) => {
                    warn!(event_id = %self.event, error = %e, "could not schedule the follow-up");
                    None
                }
            },
            _ => None,
        };
        let how = match &scheduled {
            Some(name) => format!(
                "schedule {name} invokes the function again in {}s",
                FOLLOW_UP_DELAY.as_secs()
            ),
            None => format!("invoke the function again with {payload} to follow it"),
        };
        (scheduled, how)
    }

    /// The failure of an invocation that lost the runner while following a run: the run goes on
    /// there, so a follow-up (scheduled when configured) reports its outcome, once.
    pub async fn lost_contact(
        &self,
        error: Error,
        after: Duration,
        run_id: &str,
        force: bool,
    ) -> FlowError {
        let mut payload =
            serde_json::json!({ "event_id": self.event.as_str(), "follow": { "run_id": run_id } });
        if force {
            payload["force"] = serde_json::Value::Bool(true);
        }
        let (_, how) = self.follow_up(payload).await;
        let (target, reason) = match error {
            Error::Ssh { target, reason } => (target, reason),
            other => ("-".to_owned(), other.to_string()),
        };
        FlowError::new(
            Stage::Follow,
            Error::Ssh {
                target,
                reason: format!(
                    "contact lost while following run {run_id} and not regained within {} ({reason}); the run goes on on the runner and its outcome is reported once: {how}",
                    human(after)
                ),
            },
        )
    }

    /// This event's live runner; launches one (exactly one, across concurrent invocations) if none.
    pub async fn runner(&self) -> Result<Runner, FlowError> {
        let e = |err| FlowError::new(Stage::Runner, err);
        let fleet = &self.deps.fleet;
        if let Some(r) = fleet.find(&self.event).await.map_err(e)? {
            info!(event_id = %self.event, instance_id = %r.instance_id, "runner found");
            return Ok(r);
        }
        let mut ours = launch_token(&self.event);
        let mut claim = self
            .deps
            .records
            .claim_runner(&self.event, &ours)
            .await
            .map_err(e)?;
        let waited = Instant::now();
        loop {
            if let Some(r) = fleet.find_by_token(&self.event, &claim).await.map_err(e)? {
                if r.is_live() {
                    info!(event_id = %self.event, instance_id = %r.instance_id, "runner found by its launch claim");
                    return Ok(r);
                }
                // The claimed runner is gone (a stop that could not release its claim): claim anew.
                warn!(event_id = %self.event, instance_id = %r.instance_id, "stale runner claim released");
                self.deps
                    .records
                    .release_runner(&self.event)
                    .await
                    .map_err(e)?;
                ours = launch_token(&self.event);
                claim = self
                    .deps
                    .records
                    .claim_runner(&self.event, &ours)
                    .await
                    .map_err(e)?;
                continue;
            }
            // Our claim, or another invocation's that has not launched after 30 s (it may have died):
            // launching with the claim's token is idempotent in EC2.
            if claim == ours || waited.elapsed() > Duration::from_secs(30) {
                return match fleet.launch(&self.event, &claim).await {
                    Ok(r) => Ok(r),
                    Err(err) => self.launch_failed(&claim, err).await.map_err(e),
                };
            }
            if let Some(r) = fleet.find(&self.event).await.map_err(e)? {
                return Ok(r);
            }
            if !self.deadline.allows(self.deps.config.deadline_margin) {
                return Err(e(Error::Runner {
                    instance_id: "-".into(),
                    reason: "another invocation claimed the launch and no runner appeared before the deadline".into(),
                }));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            // The claim is read again: released after a failed launch, it is ours to take.
            claim = self
                .deps
                .records
                .claim_runner(&self.event, &ours)
                .await
                .map_err(e)?;
        }
    }

    /// After a failed launch: if EC2 has no instance with the claim's token, the claim is released,
    /// so that the next start launches at once instead of waiting on a claim nothing stands behind.
    /// If the launch went through after all (its answer was lost), that runner is the event's.
    async fn launch_failed(&self, token: &str, err: Error) -> Result<Runner, Error> {
        match self.deps.fleet.find_by_token(&self.event, token).await {
            Ok(Some(r)) if r.is_live() => {
                warn!(event_id = %self.event, instance_id = %r.instance_id, error = %err, "the launch failed, but its runner exists: using it");
                Ok(r)
            }
            Ok(_) => {
                match self.deps.records.release_runner(&self.event).await {
                    Ok(()) => info!(event_id = %self.event, "launch failed: runner claim released"),
                    Err(e) => {
                        warn!(event_id = %self.event, error = %e, "launch failed and its claim could not be released")
                    }
                }
                Err(err)
            }
            Err(e) => {
                // EC2 cannot say whether the launch went through: the claim stays, and the next start
                // launches with the same token (idempotent in EC2) after waiting for it.
                warn!(event_id = %self.event, error = %e, "launch failed and cannot be checked: runner claim kept");
                Err(err)
            }
        }
    }

    /// A runner that cannot be used (it never reached running, or its user data never finished) is
    /// terminated and its launch claim released: the next start or stop launches a fresh one
    /// instead of waiting on it again, and no runner is left running untracked.
    async fn discard(&self, runner: &Runner, stage: Stage, err: Error) -> FlowError {
        let Error::Runner {
            instance_id,
            reason,
        } = err
        else {
            return FlowError::new(stage, err);
        };
        let cfg = &self.deps.config;
        let bound = self
            .deadline
            .remaining()
            .map_or(cfg.runner.ready_timeout, |r| {
                r.saturating_sub(cfg.deadline_margin)
                    .min(cfg.runner.ready_timeout)
            });
        let what = match self
            .deps
            .fleet
            .terminate_and_wait(&runner.instance_id, bound)
            .await
        {
            Ok(()) => {
                if let Err(e) = self.deps.records.release_runner(&self.event).await {
                    warn!(event_id = %self.event, error = %e, "could not release the runner claim");
                }
                "it was terminated: the next start launches a fresh runner".to_owned()
            }
            Err(e) => format!("terminating it failed ({e}): the next start or stop tries again"),
        };
        warn!(event_id = %self.event, instance_id = %runner.instance_id, "unusable runner: {what}");
        FlowError::new(
            stage,
            Error::Runner {
                instance_id,
                reason: format!("{reason}; {what}"),
            },
        )
    }

    /// Waits for the runner, connects with the pinned host key and waits until user data is done.
    /// A runner still booting is retried until `ready_timeout` after its launch.
    /// A runner that never reaches running, or whose user data never finishes, is terminated.
    pub async fn connect(&self, runner: &Runner) -> Result<Link, FlowError> {
        let cfg = &self.deps.config;
        let boot_wait = || tracing::debug_span!(target: timing::TARGET, "boot_wait");
        let runner = if runner.state == "running" {
            runner.clone()
        } else {
            match self
                .deps
                .fleet
                .wait_running(&runner.instance_id, cfg.runner.ready_timeout)
                .instrument(boot_wait())
                .await
            {
                Ok(r) => r,
                Err(e @ Error::Runner { .. }) => {
                    return Err(self.discard(runner, Stage::Runner, e).await);
                }
                Err(e) => return Err(FlowError::new(Stage::Runner, e)),
            }
        };
        let key = self
            .deps
            .secrets
            .get(&cfg.runner_key_secret)
            .await
            .map_err(|e| FlowError::new(Stage::Key, e))?;
        let target = self
            .ssh_target(&runner)
            .map_err(|e| FlowError::new(Stage::Ssh, e))?;

        let now = unix_now();
        let boot_left = runner
            .launched_at
            .map(|t| (t + cfg.runner.ready_timeout.as_secs() as i64 - now).max(0) as u64)
            .unwrap_or(0);
        let until = Instant::now() + Duration::from_secs(boot_left);
        let pause = self.pause();
        // The pause before the next attempt, if one fits: the last attempt is made at `until`.
        let next = || {
            let p = until.saturating_duration_since(Instant::now()).min(pause);
            (!p.is_zero() && self.deadline.allows(cfg.deadline_margin + p)).then_some(p)
        };

        let mut attempt = 0u32;
        let session = loop {
            // The first attempt is the connection's cost; later ones wait for the runner to boot.
            let span = if attempt == 0 {
                tracing::debug_span!(target: timing::TARGET, "ssh_connect")
            } else {
                boot_wait()
            };
            attempt += 1;
            match self
                .deps
                .remote
                .connect(&target, &key)
                .instrument(span)
                .await
            {
                Ok(s) => break s,
                Err(err) => match next() {
                    Some(p) => {
                        info!(event_id = %self.event, error = %err, "runner not reachable yet");
                        tokio::time::sleep(p).instrument(boot_wait()).await;
                    }
                    None => return Err(FlowError::new(Stage::Ssh, err)),
                },
            }
        };
        let ws = Workspace::new(session.as_ref(), &cfg.runner.workdir, &self.event);
        loop {
            if ws
                .ready()
                .await
                .map_err(|e| FlowError::new(Stage::Ready, e))?
            {
                break;
            }
            let Some(p) = next() else {
                let err = Error::Runner {
                    instance_id: runner.instance_id.clone(),
                    reason: format!(
                        "not ready {}s after launch: its user data did not finish (/var/log/event-tier-runner.log on it)",
                        cfg.runner.ready_timeout.as_secs()
                    ),
                };
                return Err(self.discard(&runner, Stage::Ready, err).await);
            };
            tokio::time::sleep(p).instrument(boot_wait()).await;
        }
        drop(ws);
        Ok(Link {
            session,
            target,
            key,
            sessions: 1,
        })
    }

    /// How long to wait between attempts to reach the runner.
    fn pause(&self) -> Duration {
        self.deps
            .config
            .poll_interval
            .clamp(Duration::from_millis(200), Duration::from_secs(5))
    }

    /// The event's work directory on the runner, through the link's current session.
    pub fn workspace<'l>(&self, link: &'l Link) -> Workspace<'l> {
        Workspace::new(
            link.session(),
            &self.deps.config.runner.workdir,
            &self.event,
        )
    }

    /// Opens a new session to the runner (same target, key and pinned host key).
    async fn reconnect(&self, link: &mut Link) -> Result<(), Error> {
        let session = self
            .deps
            .remote
            .connect(&link.target, &link.key)
            .instrument(tracing::debug_span!(target: timing::TARGET, "ssh_connect"))
            .await?;
        link.session = session;
        link.sessions += 1;
        info!(event_id = %self.event, sessions = link.sessions, "reconnected to the runner");
        Ok(())
    }

    fn ssh_target(&self, runner: &Runner) -> Result<SshTarget, Error> {
        let ssh = &self.deps.config.ssh;
        let (host, port) = match &ssh.endpoint_override {
            Some(ep) => {
                let (h, p) = ep.rsplit_once(':').ok_or_else(|| {
                    Error::Config("EVENT_TIER_RUNNER_SSH_ENDPOINT must be host:port".into())
                })?;
                let p = p.parse().map_err(|_| {
                    Error::Config("EVENT_TIER_RUNNER_SSH_ENDPOINT must be host:port".into())
                })?;
                (h.to_owned(), p)
            }
            None => (
                runner.private_ip.clone().ok_or_else(|| Error::Runner {
                    instance_id: runner.instance_id.clone(),
                    reason: "has no private address".into(),
                })?,
                ssh.port,
            ),
        };
        Ok(SshTarget {
            host,
            port,
            user: ssh.user.clone(),
            host_key_sha256: ssh.host_key_sha256.clone(),
            timeout: ssh.timeout,
        })
    }

    /// Hands the module, the variables and the backend to the runner.
    pub async fn prepare(
        &self,
        ws: &Workspace<'_>,
        run_id: &str,
        vars: &std::collections::BTreeMap<String, serde_json::Value>,
    ) -> Result<(), FlowError> {
        let backend = self.deps.backend();
        let hcl = backend
            .render(&self.event)
            .map_err(|e| FlowError::new(Stage::Prepare, e))?;
        let tfvars = crate::terraform::tfvars(&self.event, vars, &self.deps.module, &backend);
        ws.prepare(run_id, &self.deps.module, tfvars, hcl)
            .await
            .map_err(|e| FlowError::new(Stage::Prepare, e))
    }

    /// Follows a run, streaming its log to ours, until it ends or the deadline needs us to return.
    /// A connection that drops or stalls is opened again; if the runner does not answer again within
    /// the SSH timeout, the run is handed over (`Followed::LostContact`).
    pub async fn follow(
        &self,
        link: &mut Link,
        run_id: &str,
        action: Action,
    ) -> Result<Followed, FlowError> {
        self.follow_run(link, run_id, action)
            .instrument(tracing::debug_span!(target: timing::TARGET, "follow"))
            .await
    }

    async fn follow_run(
        &self,
        link: &mut Link,
        run_id: &str,
        action: Action,
    ) -> Result<Followed, FlowError> {
        let cfg = &self.deps.config;
        let mut offset = 0u64;
        let mut partial = Vec::new();
        let mut tail: VecDeque<String> = VecDeque::new();
        // A long poll: the runner answers as soon as the run ends, or after `wait` with the log so far.
        let wait = cfg.poll_interval.min(cfg.ssh.timeout / 2);
        let pause = self.pause();
        // Since when the runner has not answered, and how many new sessions were tried.
        let mut lost: Option<(Instant, u32)> = None;
        loop {
            let polled = match lost {
                None => self.workspace(link).poll(run_id, offset, wait).await,
                Some(_) => match self.reconnect(link).await {
                    Ok(()) => self.workspace(link).poll(run_id, offset, wait).await,
                    Err(e) => Err(e),
                },
            };
            let poll = match polled {
                Ok(poll) => {
                    if let Some((since, _)) = lost.take() {
                        info!(event_id = %self.event, run_id, after = %human(since.elapsed()), "contact with the runner regained");
                    }
                    poll
                }
                Err(error @ Error::Ssh { .. }) => {
                    let (since, tries) = lost.unwrap_or((Instant::now(), 0));
                    let after = since.elapsed();
                    if (tries > 0 && after >= cfg.ssh.timeout)
                        || !self.deadline.allows(cfg.deadline_margin + pause)
                    {
                        warn!(event_id = %self.event, run_id, error = %error, "contact with the runner lost for good");
                        return Ok(Followed::LostContact { error, after });
                    }
                    warn!(event_id = %self.event, run_id, error = %error, "contact with the runner lost; reconnecting");
                    lost = Some((since, tries + 1));
                    tokio::time::sleep(pause).await;
                    continue;
                }
                Err(e) => return Err(FlowError::new(Stage::Follow, e)),
            };
            offset += poll.chunk.len() as u64;
            partial.extend_from_slice(&poll.chunk);
            while let Some(nl) = partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = partial.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line).trim_end().to_owned();
                info!(event_id = %self.event, run_id, "terraform: {line}");
                tail.push_back(line);
                if tail.len() > TAIL_LINES {
                    tail.pop_front();
                }
            }
            match poll.state {
                RunState::Done { exit, changes } => {
                    if let Some(took) = poll.took {
                        timing::Timings::terraform(took);
                    }
                    if !partial.is_empty() {
                        tail.push_back(String::from_utf8_lossy(&partial).into_owned());
                    }
                    return Ok(Followed::Finished {
                        exit,
                        stage: poll.stage,
                        changes,
                        tail: render_tail(&tail),
                    });
                }
                RunState::Lost | RunState::Unknown => {
                    let what = if poll.state == RunState::Lost {
                        "stopped without an outcome (the runner restarted or the process was killed)"
                    } else {
                        "is unknown to the runner (a different or replaced runner)"
                    };
                    return Err(FlowError {
                        stage: Stage::of_run(&poll.stage, action),
                        error: Error::Terraform {
                            action: action.to_string(),
                            outcome: format!("run {run_id} {what}"),
                        },
                        tail: Some(render_tail(&tail)),
                    });
                }
                RunState::Running => {}
            }
            if !self
                .deadline
                .allows(cfg.deadline_margin + cfg.poll_interval)
            {
                return Ok(Followed::Pending);
            }
            if wait.as_secs() == 0 {
                tokio::time::sleep(cfg.poll_interval).await;
            }
        }
    }

    /// Posts to Slack; a failing Slack is logged and never changes the flow's result.
    pub async fn notify(&self, text: &str) {
        match self
            .deps
            .notifier
            .post(text)
            .instrument(tracing::debug_span!(target: timing::TARGET, "slack"))
            .await
        {
            Ok(()) => info!(event_id = %self.event, "slack notified"),
            Err(e) => warn!(event_id = %self.event, error = %e, "slack notification failed"),
        }
    }

    /// Posts a run's outcome exactly once across invocations (the mark lives in the state bucket).
    pub async fn notify_run_once(&self, run_id: &str, text: &str) {
        match self.deps.records.mark_reported(&self.event, run_id).await {
            Ok(true) => self.notify(text).await,
            Ok(false) => info!(event_id = %self.event, run_id, "run outcome already reported"),
            Err(e) => {
                warn!(event_id = %self.event, run_id, error = %e, "cannot mark the run reported; reporting anyway");
                self.notify(text).await;
            }
        }
    }

    /// Reports a failure (to the log and to Slack) and hands it back.
    pub async fn fail(&self, err: FlowError, run_id: Option<&str>) -> FlowError {
        warn!(event_id = %self.event, stage = %err.stage, error = %err.error, "{} failed", self.name);
        let mut text = format!(
            ":x: event-tier *{}*: {} failed at stage `{}` after {}: {}",
            self.event,
            self.name,
            err.stage,
            human(self.started.elapsed()),
            err.error
        );
        if let Some(tail) = err.tail.as_deref().filter(|t| !t.is_empty()) {
            text.push_str(&format!("\n```\n{tail}\n```"));
        }
        match run_id {
            Some(id) => self.notify_run_once(id, &text).await,
            None => self.notify(&text).await,
        }
        err
    }
}

const TAIL_LINES: usize = 25;
const TAIL_CHARS: usize = 2500;

fn render_tail(lines: &VecDeque<String>) -> String {
    let text = lines.iter().cloned().collect::<Vec<_>>().join("\n");
    if text.len() <= TAIL_CHARS {
        return text;
    }
    let mut cut = text.len() - TAIL_CHARS;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &text[cut..])
}

/// Terraform's own summary line ("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."), if in the tail.
pub(crate) fn summary(tail: &str) -> Option<String> {
    tail.lines()
        .rev()
        .find(|l| l.contains("complete! Resources:"))
        .map(|l| l.trim().trim_end_matches('.').to_owned())
}

fn launch_token(event: &EventId) -> String {
    // EC2 client tokens are at most 64 ASCII characters: event (<= 40) + '-' + 20.
    let id = crate::terraform::new_run_id(Action::Apply);
    let suffix: String = id.rsplit('-').next().unwrap_or("0").to_owned();
    format!("{event}-{}-{suffix}", unix_now())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `4.2s`, `3m 05s`.
pub fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else {
        format!("{}m {:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_from_the_lambda_context() {
        assert!(Deadline::from_epoch_millis(0).remaining().is_none());
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let d = Deadline::from_epoch_millis(now_ms + 120_000)
            .remaining()
            .unwrap();
        assert!(
            d > Duration::from_secs(118) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        let past = Deadline::from_epoch_millis(now_ms - 1000);
        assert!(!past.allows(Duration::from_millis(1)));
        // cargo lambda watch's duration-as-deadline.
        let d = Deadline::from_epoch_millis(600_000).remaining().unwrap();
        assert!(d > Duration::from_secs(598), "{d:?}");
    }

    #[test]
    fn summary_line_is_found() {
        let tail = "aws_security_group.tier: Creation complete\n\nApply complete! Resources: 2 added, 0 changed, 0 destroyed.\n";
        assert_eq!(
            summary(tail).as_deref(),
            Some("Apply complete! Resources: 2 added, 0 changed, 0 destroyed")
        );
        assert_eq!(summary("nothing"), None);
    }
}
