//! The dress rehearsal (issue 13, part 3): days before an event, what its start will need is
//! checked while there is time to act on it, and nothing is created.
//!
//! - **plan**: `terraform plan` of the tier with the event's variables, on the event's runner
//!   ([`crate::flows::rehearse`]): it must plan only creates, and says how many.
//! - **quotas**: what the plan needs against the account's quotas, counting what is already in use
//!   where the service says (Service Quotas; DMS's own account attributes).
//! - **image**, **runner AMI**, **operations secret**: they exist.
//! - **lead time**: the event's lead time covers what this module's applies take (p95 × 1.25 of
//!   the recorded ones, [`crate::flows`]' at-risk margin).
//! - **nothing left**: after the runner the rehearsal launched is terminated, nothing tagged with
//!   the event is left and its state holds no resources.
//!
//! Go when no check failed; a check that could not be made (an image outside ECR, no history yet)
//! is said as such and does not stop the event.

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::clock::human;
use crate::error::Result;
use crate::history::Learned;

mod aws;
mod plan;
mod quotas;
pub use aws::AwsLookups;
pub use plan::Plan;
pub use quotas::{
    DB_INSTANCES, DMS_INSTANCES, FARGATE_VCPU, LOAD_BALANCERS, Limit, Need, QuotaRef,
    SECURITY_GROUPS, needs, quota_check,
};

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Pass,
    Fail,
    /// Could not be checked here (said, never a no-go).
    Unchecked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub mark: Mark,
    pub detail: String,
}

impl Check {
    pub(super) fn new(name: impl Into<String>, mark: Mark, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            mark,
            detail: detail.into(),
        }
    }

    pub(super) fn pass_if(name: impl Into<String>, ok: bool, detail: impl Into<String>) -> Self {
        let mark = if ok { Mark::Pass } else { Mark::Fail };
        Check::new(name, mark, detail)
    }

    fn line(&self) -> String {
        let sign = match self.mark {
            Mark::Pass => ":white_check_mark:",
            Mark::Fail => ":x:",
            Mark::Unchecked => ":grey_question:",
        };
        format!("{sign} {}: {}", self.name, self.detail)
    }
}

/// Go when no check failed.
pub fn go(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.mark != Mark::Fail)
}

/// The Slack report: the verdict, then one line per check.
pub fn report(event: &str, checks: &[Check]) -> String {
    let failed = checks.iter().filter(|c| c.mark == Mark::Fail).count();
    let head = if failed == 0 {
        let passed = checks.iter().filter(|c| c.mark == Mark::Pass).count();
        format!(
            ":white_check_mark: event-tier *{event}* rehearsal: *GO* ({passed} of {} checks passed)",
            checks.len()
        )
    } else {
        format!(
            ":no_entry: event-tier *{event}* rehearsal: *NO-GO* ({failed} of {} checks failed); fix them before the start, then rehearse again (docs/runbook.md: \"Rehearsal no-go\")",
            checks.len()
        )
    };
    let lines: Vec<String> = checks.iter().map(|c| format!("\n{}", c.line())).collect();
    format!("{head}{}", lines.concat())
}

/// Whether `lead` (the event's start to its opening) covers what this module's applies take, and
/// a fresh runner's boot before them when boots are recorded: (p95 apply + p95 boot) × 1.25.
pub fn lead_time_check(
    lead: Option<Duration>,
    learned: Option<Learned>,
    boot: Option<Learned>,
) -> Check {
    const NAME: &str = "lead time";
    let (Some(lead), Some(l)) = (lead, learned) else {
        let why = if lead.is_none() {
            "the rehearsal was not told the event's lead time (rehearsal.lead_time_minutes)"
        } else {
            "no apply of this module version is recorded yet"
        };
        return Check::new(NAME, Mark::Unchecked, why);
    };
    let m = crate::flows::AT_RISK_MARGIN;
    let (take, why) = match boot {
        Some(b) => (
            crate::history::lead_needed(l, boot),
            format!(
                "(p95 {} over {} applies + p95 {} over {} runner boots) × {m}",
                human(l.p95),
                l.runs,
                human(b.p95),
                b.runs
            ),
        ),
        None => (
            crate::history::lead_needed(l, None),
            format!(
                "p95 {} × {m} over {} applies; no runner boot recorded",
                human(l.p95),
                l.runs
            ),
        ),
    };
    if lead >= take {
        Check::new(
            NAME,
            Mark::Pass,
            format!(
                "{} covers the {} a start takes ({why})",
                human(lead),
                human(take)
            ),
        )
    } else {
        Check::new(
            NAME,
            Mark::Fail,
            format!(
                "{} is short of the {} a start takes ({why}): raise the event's lead_time_minutes in infra/control",
                human(lead),
                human(take)
            ),
        )
    }
}

/// What the tier's platform names (the SSM parameter infra/control writes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Platform {
    pub container_image: String,
    pub ops_db_secret_arn: String,
}

/// The account as the rehearsal reads it.
#[async_trait]
pub trait Lookups: Send + Sync {
    async fn limit(&self, quota: &QuotaRef) -> Result<Limit>;
    async fn platform(&self) -> Result<Platform>;
    /// Whether the image exists; None when it is not in a private ECR repository of this account
    /// and region (then it cannot be looked at from here).
    async fn image(&self, reference: &str) -> Result<Option<bool>>;
    /// The AMI runners launch from, and whether it is `available`.
    async fn runner_ami(&self) -> Result<(String, bool)>;
    /// Whether the secret exists and is not scheduled for deletion.
    async fn secret(&self, arn: &str) -> Result<bool>;
}

/// Every check but the plan's own and what is left: quotas for what `plan` creates, the image,
/// the runner AMI, the operations secret and the lead time.
pub async fn account_checks(
    lookups: &dyn Lookups,
    plan: &Plan,
    lead: Option<Duration>,
    learned: Option<Learned>,
    boot: Option<Learned>,
) -> Vec<Check> {
    let mut checks = Vec::new();
    for need in needs(plan) {
        let limit = lookups.limit(&need.quota).await.map_err(|e| e.to_string());
        checks.push(quota_check(&need, limit));
    }
    match lookups.platform().await {
        Ok(p) => {
            checks.push(match lookups.image(&p.container_image).await {
                Ok(Some(true)) => {
                    Check::new("image", Mark::Pass, format!("{} exists", p.container_image))
                }
                Ok(Some(false)) => Check::new(
                    "image",
                    Mark::Fail,
                    format!("{} is not in its ECR repository", p.container_image),
                ),
                Ok(None) => Check::new(
                    "image",
                    Mark::Unchecked,
                    format!(
                        "{} is not in a private ECR repository of this account and region",
                        p.container_image
                    ),
                ),
                Err(e) => Check::new(
                    "image",
                    Mark::Fail,
                    format!("{} cannot be looked up: {e}", p.container_image),
                ),
            });
            checks.push(match lookups.secret(&p.ops_db_secret_arn).await {
                Ok(true) => Check::new(
                    "operations secret",
                    Mark::Pass,
                    format!("{} exists", p.ops_db_secret_arn),
                ),
                Ok(false) => Check::new(
                    "operations secret",
                    Mark::Fail,
                    format!(
                        "{} does not exist or is scheduled for deletion",
                        p.ops_db_secret_arn
                    ),
                ),
                Err(e) => Check::new(
                    "operations secret",
                    Mark::Fail,
                    format!("{} cannot be looked up: {e}", p.ops_db_secret_arn),
                ),
            });
        }
        Err(e) => checks.push(Check::new(
            "platform",
            Mark::Fail,
            format!("/event-tier/platform cannot be read: {e}"),
        )),
    }
    checks.push(match lookups.runner_ami().await {
        Ok((id, true)) => Check::new("runner AMI", Mark::Pass, format!("{id} is available")),
        Ok((id, false)) => Check::new(
            "runner AMI",
            Mark::Fail,
            format!("{id} does not exist or is not available"),
        ),
        Err(e) => Check::new(
            "runner AMI",
            Mark::Fail,
            format!("cannot be looked up: {e}"),
        ),
    });
    checks.push(lead_time_check(lead, learned, boot));
    checks
}

#[cfg(test)]
mod tests;
