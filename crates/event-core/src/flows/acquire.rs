//! The event's runner: found, or launched exactly once across concurrent invocations (a claim in the
//! state bucket names the launch; the claim's token is the EC2 client token), and terminated when it
//! can never be used.

use std::time::Duration;

use tracing::{info, warn};

use super::run::Flow;
use super::{FlowError, Stage};
use crate::clock::Instant;
use crate::error::Error;
use crate::runner::Runner;

impl Flow<'_> {
    /// This event's live runner, if any.
    pub async fn find_runner(&self) -> Result<Option<Runner>, FlowError> {
        self.deps
            .fleet
            .find(&self.event)
            .await
            .map_err(|e| FlowError::new(Stage::Runner, e))
    }

    /// This event's live runner; launches one (exactly one, across concurrent invocations) if none.
    pub async fn acquire(&self) -> Result<Runner, FlowError> {
        let e = |err| FlowError::new(Stage::Runner, err);
        let (fleet, records) = (&self.deps.fleet, &self.deps.records);
        if let Some(r) = fleet.find(&self.event).await.map_err(e)? {
            info!(event_id = %self.event, instance_id = %r.instance_id, "runner found");
            return Ok(r);
        }
        let mut ours = self.launch_token();
        let mut claim = records.claim_runner(&self.event, &ours).await.map_err(e)?;
        let waited = Instant::now();
        loop {
            if let Some(r) = fleet
                .find_by_token(&self.event, &claim.token)
                .await
                .map_err(e)?
            {
                if r.is_live() {
                    info!(event_id = %self.event, instance_id = %r.instance_id, "runner found by its launch claim");
                    return Ok(r);
                }
                // The claimed runner is gone (a stop that could not release its claim, a runner that
                // died): replaced by a claim of ours, or of whoever replaced it first.
                warn!(event_id = %self.event, instance_id = %r.instance_id, "stale runner claim replaced");
                ours = self.launch_token();
                claim = records
                    .replace_claim(&self.event, &claim, &ours)
                    .await
                    .map_err(e)?;
                continue;
            }
            // Our claim, or another invocation's that has not launched after 30 s (it may have died):
            // launching with the claim's token is idempotent in EC2.
            if claim.token == ours || waited.elapsed() > Duration::from_secs(30) {
                return match fleet.launch(&self.event, &claim.token).await {
                    Ok(r) => Ok(r),
                    Err(err) => self.launch_failed(&claim.token, err).await.map_err(e),
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
            claim = records.claim_runner(&self.event, &ours).await.map_err(e)?;
        }
    }

    /// An EC2 client token (at most 64 ASCII characters): event (<= 40) + '-' + 20.
    fn launch_token(&self) -> String {
        format!(
            "{}-{}-{:06x}",
            self.event,
            crate::clock::unix_now(),
            crate::run::next_suffix() & 0xff_ffff
        )
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
                match self.deps.records.release_claim(&self.event, token).await {
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

    /// A runner that can never be used (it never reached running, or its user data never finished
    /// and it never ran a run) is terminated and its launch claim released: the next start or stop
    /// launches a fresh one instead of waiting on it again, and no runner is left running untracked.
    pub async fn discard(&self, runner: &Runner, stage: Stage, err: Error) -> FlowError {
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
                let token = runner.launch_token.as_deref().unwrap_or_default();
                if let Err(e) = self.deps.records.release_claim(&self.event, token).await {
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
}
