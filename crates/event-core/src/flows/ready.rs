//! Readiness is the start's success. After the apply (or the plan that found the tier already up),
//! event-start looks at the checks the tier declares (`crate::readiness`) until all pass or its
//! bound ends. The bound counts from the run's end as the runner tells it, so a follow-up that
//! takes the wait over continues the same bound instead of starting a new one.

use std::time::Duration;

use tracing::{info, warn};

use super::run::{Flow, Step, StepError};
use super::{FlowError, Outcome, Stage};
use crate::clock::human;
use crate::error::Error;
use crate::readiness::Seen;
use crate::run::RunId;

/// How the wait for readiness ended in this invocation.
pub(super) enum Ready {
    /// Every declared check passed: what each saw (empty: the module declares none), and the
    /// tier's opening as a Unix time when it names one.
    Passed {
        seen: Vec<Seen>,
        opening: Option<i64>,
    },
    /// Not yet, and this invocation has no time left to look again: a follow-up goes on.
    HandedOver(Outcome),
}

impl Flow<'_> {
    /// Waits for the tier of `run` (a finished apply) to be ready. `ended`: when the run ended.
    pub(super) async fn await_ready(
        &self,
        run: &RunId,
        iid: &str,
        ended: Option<Duration>,
    ) -> Step<Ready> {
        let fail = |e: Error| StepError::of_run(FlowError::new(Stage::Ready, e), run);
        let tier = self
            .deps
            .records
            .readiness(&self.event)
            .await
            .map_err(fail)?;
        let Some(tier) = tier.filter(|t| !t.checks().is_empty()) else {
            info!(event_id = %self.event, run_id = %run, "the tier module declares no readiness checks");
            return Ok(Ready::Passed {
                seen: Vec::new(),
                opening: None,
            });
        };
        let cfg = &self.deps.config.ready;
        let interval = cfg.interval.max(Duration::from_secs(1));
        // The runner's end of the run; else the run's own making (earlier, and the same in every
        // invocation, so that the bound still ends).
        let since = ended
            .or_else(|| run.made_at())
            .unwrap_or_else(|| crate::clock::since_epoch().saturating_sub(self.started.elapsed()));
        let mut fresh = true;
        loop {
            let seen = self.deps.probes.look(&tier, fresh).await;
            fresh = false;
            let waited = crate::clock::since_epoch().saturating_sub(since);
            if seen.iter().all(|s| s.passed) {
                info!(event_id = %self.event, run_id = %run, after = %human(waited), "the tier is ready");
                return Ok(Ready::Passed {
                    seen,
                    opening: tier.opening(),
                });
            }
            let failing = failing(&seen);
            if waited >= cfg.timeout {
                warn!(event_id = %self.event, run_id = %run, %failing, "the tier is not ready");
                return Err(fail(Error::NotReady(format!(
                    "{failing}, {} after the apply ended (bound {}); the tier is left up: start again to check again, or stop it",
                    human(waited),
                    human(cfg.timeout)
                ))));
            }
            if !self
                .deadline
                .allows(self.deps.config.deadline_margin + interval)
            {
                let what = format!("the tier is not ready yet ({failing})");
                let o = self
                    .hand_over(&what, Some(run), Some(iid.to_owned()))
                    .await
                    .map_err(|e| StepError::of_run(e, run))?;
                return Ok(Ready::HandedOver(o));
            }
            tokio::time::sleep(interval).await;
        }
    }
}

/// The failing checks with what each saw: `service: 1 of 2 tasks running, ...; http: ...`.
fn failing(seen: &[Seen]) -> String {
    seen.iter()
        .filter(|s| !s.passed)
        .map(|s| format!("{}: {}", s.check, s.saw))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Slack's lines for the checks (one per check, with what it saw), and how long before the opening
/// the tier was ready.
pub(super) fn told(seen: &[Seen], opening: Option<i64>) -> String {
    let mut text = String::new();
    if let Some(at) = opening {
        let now = crate::clock::unix_now();
        let d = Duration::from_secs(at.abs_diff(now));
        if at >= now {
            text.push_str(&format!("\nready {} before the opening", human_long(d)));
        } else {
            text.push_str(&format!(
                "\n:warning: ready {} after the opening",
                human_long(d)
            ));
        }
    }
    for s in seen {
        let mark = if s.passed {
            ":white_check_mark:"
        } else {
            ":x:"
        };
        text.push_str(&format!("\n{mark} {}: {}", s.check, s.saw));
    }
    text
}

/// `2h 05m`, `12m`, `45s`.
pub(super) fn human_long(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        _ => format!("{}h {:02}m", s / 3600, s % 3600 / 60),
    }
}
