//! Reaching the runner: wait until it runs, fetch the key, connect with the pinned host key, wait
//! until its user data is done. A dropped or stalled connection does not end a detached run, so
//! following it only needs a new connection.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tracing::{Instrument, info};

use super::run::Flow;
use super::{FlowError, Stage};
use crate::clock::Instant;
use crate::error::Error;
use crate::run::{Host, LastRun, Readiness};
use crate::runner::Runner;
use crate::ssh::SshTarget;
use crate::timing;

/// The connection to an event's runner, and what it takes to open another one.
pub struct Link {
    host: Arc<dyn Host>,
    target: SshTarget,
    key: SecretString,
    pub instance_id: String,
    /// Connections opened, the first included.
    pub sessions: u32,
    /// The last run on the runner, as it answered when this link was made (with its readiness).
    pub last: Option<LastRun>,
}

impl Link {
    pub fn host(&self) -> &dyn Host {
        self.host.as_ref()
    }
}

fn boot_wait() -> tracing::Span {
    tracing::debug_span!(target: timing::TARGET, "boot_wait")
}

impl Flow<'_> {
    /// Waits for the runner, connects with the pinned host key and waits until user data is done.
    /// A runner still booting is retried until `ready_timeout` after its launch. A runner that never
    /// reaches running, or whose user data never finishes before it ran any run, is terminated; one
    /// that ran runs before is never terminated here (a run may be in progress on it).
    pub async fn connect(&self, runner: &Runner) -> Result<Link, FlowError> {
        *self.runner.lock().expect("runner") = Some(runner.instance_id.clone());
        let cfg = &self.deps.config;
        // How long the runner may still take to boot: an unusable runner is one that used up its
        // whole ready timeout, never one that this invocation's deadline cut short.
        let boot_left = Duration::from_secs(
            runner
                .launched_at
                .map(|t| {
                    (t + cfg.runner.ready_timeout.as_secs() as i64 - crate::clock::unix_now())
                        .max(0) as u64
                })
                .unwrap_or(0),
        );
        let ours = self
            .deadline
            .remaining()
            .map_or(boot_left, |r| r.saturating_sub(cfg.deadline_margin));
        let not_yet = |what: &str| {
            FlowError::new(
                Stage::Boot,
                Error::Deadline(format!(
                    "runner {} is not {what} yet and may still take {}s",
                    runner.instance_id,
                    boot_left.as_secs()
                )),
            )
        };
        // Whether this connect saw the runner boot (not running, unreachable or not ready at first):
        // then its boot ends now, and is recorded.
        let mut waited = runner.state != "running";
        let runner = if runner.state == "running" {
            runner.clone()
        } else {
            match self
                .deps
                .fleet
                .wait_running(&runner.instance_id, boot_left.min(ours))
                .instrument(boot_wait())
                .await
            {
                Ok(r) => r,
                Err(Error::Runner { .. }) if ours < boot_left => return Err(not_yet("running")),
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

        let until = Instant::now() + boot_left;
        let pause = self.pause();
        // The pause before the next attempt, if one fits: the last attempt is made at `until`.
        let next = || {
            let p = until.saturating_duration_since(Instant::now()).min(pause);
            (!p.is_zero() && self.deadline.allows(cfg.deadline_margin + p)).then_some(p)
        };

        let mut attempt = 0u32;
        let host = loop {
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
                .connect(&target, &key, &self.event)
                .instrument(span)
                .await
            {
                Ok(h) => break h,
                Err(err) => match next() {
                    Some(p) => {
                        waited = true;
                        info!(event_id = %self.event, error = %err, "runner not reachable yet");
                        tokio::time::sleep(p).instrument(boot_wait()).await;
                    }
                    None if until > Instant::now() => return Err(not_yet("reachable")),
                    None => return Err(FlowError::new(Stage::Ssh, err)),
                },
            }
        };
        // A runner that ran runs before answers "not ready" only by accident: asked again a few times.
        let mut asked_again = 0;
        let last = loop {
            let has_runs = match host
                .ready_and_last()
                .await
                .map_err(|e| FlowError::new(Stage::Boot, e))?
            {
                (Readiness::Ready, last) => break last,
                (Readiness::NotReady { has_runs }, _) => has_runs,
            };
            if let Some(p) = next().or((has_runs && asked_again < 3).then_some(pause)) {
                waited |= !has_runs;
                asked_again += u32::from(has_runs);
                tokio::time::sleep(p).instrument(boot_wait()).await;
                continue;
            }
            if until > Instant::now() {
                return Err(not_yet("ready"));
            }
            let err = |reason: String| Error::Runner {
                instance_id: runner.instance_id.clone(),
                reason,
            };
            if has_runs {
                return Err(FlowError::new(
                    Stage::Boot,
                    err("answers but is not ready, though it ran runs before: it is kept (a run may be in progress); look at /var/log/event-tier-runner.log on it".into()),
                ));
            }
            let e = err(format!(
                "not ready {}s after launch: its user data did not finish (/var/log/event-tier-runner.log on it)",
                cfg.runner.ready_timeout.as_secs()
            ));
            return Err(self.discard(&runner, Stage::Boot, e).await);
        };
        // A fresh runner seen booting: its launch to now is what a start's lead time must also
        // cover (the rehearsal's lead-time check adds it to the applies').
        if waited
            && last.is_none()
            && let Some(at) = runner.launched_at
        {
            let took = Duration::from_secs((crate::clock::unix_now() - at).max(0) as u64);
            info!(event_id = %self.event, instance_id = %runner.instance_id, boot_secs = took.as_secs(), "runner booted");
            self.deps
                .records
                .record_boot(
                    &self.deps.module.hash(),
                    &self.event,
                    &runner.instance_id,
                    took,
                )
                .await;
        }
        Ok(Link {
            host,
            target,
            key,
            instance_id: runner.instance_id.clone(),
            sessions: 1,
            last,
        })
    }

    /// How long to wait between attempts to reach the runner.
    pub fn pause(&self) -> Duration {
        self.deps
            .config
            .poll_interval
            .clamp(Duration::from_millis(200), Duration::from_secs(5))
    }

    /// Opens a new connection to the runner (same target, key and pinned host key).
    pub async fn reconnect(&self, link: &mut Link) -> Result<(), Error> {
        let host = self
            .deps
            .remote
            .connect(&link.target, &link.key, &self.event)
            .instrument(tracing::debug_span!(target: timing::TARGET, "ssh_connect"))
            .await?;
        link.host = host;
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
}
