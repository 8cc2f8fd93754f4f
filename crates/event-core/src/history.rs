//! How long Terraform takes, learned from real runs (issue 13, part 4, its first step): every
//! apply and destroy that finishes records its Terraform time in the state bucket, per version of
//! the event tier module (the SHA-256 of its files: a changed module is a new history), and a start
//! or stop tells Slack its own time against the module's p50 and p95.
//!
//! One object per module version, `events/_history/<hash>.json` (`_history` can be no event id), holding
//! the last [`KEEP`] runs. It is changed with S3 `If-Match` and redone when another run overtook
//! it, so concurrent events lose no sample. A history that cannot be read or written costs the
//! figure in the message, never the run.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tracing::warn;

use crate::error::Result;
use crate::payload::EventId;
use crate::records::Objects;
use crate::run::{Action, RunId};

/// Runs kept per module version: enough for a p95, small enough to read on every run.
pub const KEEP: usize = 100;
/// Attempts at a change that other runs keep overtaking.
const ATTEMPTS: usize = 5;

/// Where the lead time a start needs, as the latest run's history says, is written for
/// infra/control (`learned.tf`: the default of an event's `lead_time_minutes`).
pub const LEAD_KEY: &str = "events/_history/lead-time.json";

/// What a start needs before the opening, from what its module's applies and runner boots take:
/// (p95 apply + p95 boot) × the at-risk margin (no boot recorded: the applies' alone).
pub fn lead_needed(apply: Learned, boot: Option<Learned>) -> Duration {
    let boot = boot.map_or(Duration::ZERO, |b| b.p95);
    (apply.p95 + boot).mul_f64(crate::flows::AT_RISK_MARGIN)
}

/// The action of a runner boot's sample.
pub const BOOT: &str = "boot";

/// Where the history of a module version is kept.
pub fn key(module_hash: &str) -> String {
    format!("events/_history/{module_hash}.json")
}

/// One finished run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub event: String,
    pub run: String,
    /// `apply`, `destroy`, or `boot` (a runner's launch to its user data's end; `run` is then
    /// the instance id).
    pub action: String,
    /// Terraform's own time on the runner (init, plan or destroy, apply), or a boot's, in
    /// milliseconds.
    pub terraform_ms: u64,
    /// When it was recorded, RFC 3339.
    pub at: String,
    /// A run's stages and their times in milliseconds (`init`, `plan`, `apply`), when the runner
    /// said; none for a boot, nor in samples recorded before stages were.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stages: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// The newest last; at most [`KEEP`].
    pub runs: Vec<Sample>,
}

/// What the history says of one action's Terraform time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Learned {
    pub runs: usize,
    pub p50: Duration,
    pub p95: Duration,
}

impl History {
    /// The p50 and p95 (nearest rank) of `action`'s runs; None without any.
    pub fn learned(&self, action: Action) -> Option<Learned> {
        self.learned_of(action.as_str())
    }

    /// The same of the runners' boots (launch to ready) recorded for this module version.
    pub fn learned_boot(&self) -> Option<Learned> {
        self.learned_of(BOOT)
    }

    /// What a start needs before the opening: (p95 apply + p95 boot) × the at-risk margin; None
    /// before any apply is recorded (a boot alone says nothing of the apply).
    pub fn lead_needed(&self) -> Option<Duration> {
        Some(lead_needed(
            self.learned(Action::Apply)?,
            self.learned_boot(),
        ))
    }

    fn learned_of(&self, action: &str) -> Option<Learned> {
        let mut ms: Vec<u64> = self
            .runs
            .iter()
            .filter(|s| s.action == action)
            .map(|s| s.terraform_ms)
            .collect();
        if ms.is_empty() {
            return None;
        }
        ms.sort_unstable();
        let rank = |p: usize| ms[(p * ms.len()).div_ceil(100).max(1) - 1];
        Some(Learned {
            runs: ms.len(),
            p50: Duration::from_millis(rank(50)),
            p95: Duration::from_millis(rank(95)),
        })
    }

    /// Adds `sample` (once: a run recorded twice, by two invocations, counts once), keeping the
    /// newest [`KEEP`].
    fn add(&mut self, sample: Sample) {
        if self.runs.iter().any(|s| s.run == sample.run) {
            return;
        }
        self.runs.push(sample);
        let over = self.runs.len().saturating_sub(KEEP);
        self.runs.drain(..over);
    }
}

/// The module's history; None when there is none or it cannot be read (logged).
pub async fn read(objects: &dyn Objects, module_hash: &str) -> Option<History> {
    match objects.read(&key(module_hash)).await {
        Ok(Some(body)) => serde_json::from_slice(&body).ok(),
        Ok(None) => None,
        Err(e) => {
            warn!(error = %e, "cannot read the module's history");
            None
        }
    }
}

/// Records a finished run and answers the module's history with it; None when the history could
/// not be read or written (logged).
pub async fn record(
    objects: &dyn Objects,
    module_hash: &str,
    event: &EventId,
    run: &RunId,
    terraform: Duration,
    stages: &[(String, Duration)],
) -> Option<History> {
    let ms = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let sample = Sample {
        event: event.to_string(),
        run: run.to_string(),
        action: run.action().as_str().to_owned(),
        terraform_ms: ms(&terraform),
        at: crate::slack_app::rfc3339(time::OffsetDateTime::now_utc()),
        stages: stages.iter().map(|(n, d)| (n.clone(), ms(d))).collect(),
    };
    match add(objects, &key(module_hash), sample).await {
        Ok(h) => {
            publish_lead(objects, module_hash, &h).await;
            Some(h)
        }
        Err(e) => {
            warn!(event_id = %event, error = %e, "cannot record the run's time in the history");
            None
        }
    }
}

/// Writes what [`History::lead_needed`] says to [`LEAD_KEY`], for infra/control's default lead
/// time; nothing before any apply is recorded. A failure is logged and costs nothing else.
async fn publish_lead(objects: &dyn Objects, module_hash: &str, h: &History) {
    let Some(lead) = h.lead_needed() else {
        return;
    };
    let body = serde_json::json!({
        "lead_time_minutes": (lead.as_secs_f64() / 6.0).ceil() / 10.0,
        "module": module_hash,
        "applies": h.learned(Action::Apply).map_or(0, |l| l.runs),
        "boots": h.learned_boot().map_or(0, |l| l.runs),
        "at": crate::slack_app::rfc3339(time::OffsetDateTime::now_utc()),
    });
    if let Err(e) = objects
        .put_json(LEAD_KEY, body.to_string().as_bytes())
        .await
    {
        warn!(error = %e, "cannot write the learned lead time");
    }
}

/// Records how long a runner took from its launch to ready (its user data done), once per
/// instance; a failure is logged and costs nothing else.
pub async fn record_boot(
    objects: &dyn Objects,
    module_hash: &str,
    event: &EventId,
    instance_id: &str,
    took: Duration,
) {
    let sample = Sample {
        event: event.to_string(),
        run: instance_id.to_owned(),
        action: BOOT.to_owned(),
        terraform_ms: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        at: crate::slack_app::rfc3339(time::OffsetDateTime::now_utc()),
        stages: BTreeMap::new(),
    };
    match add(objects, &key(module_hash), sample).await {
        Ok(h) => publish_lead(objects, module_hash, &h).await,
        Err(e) => {
            warn!(event_id = %event, error = %e, "cannot record the runner's boot in the history")
        }
    }
}

async fn add(objects: &dyn Objects, key: &str, sample: Sample) -> Result<History> {
    for _ in 0..ATTEMPTS {
        let (mut history, version) = match objects.read_versioned(key).await? {
            // An unreadable history (a hand edit) starts again rather than failing every run.
            Some((body, v)) => (serde_json::from_slice(&body).unwrap_or_default(), Some(v)),
            None => (History::default(), None),
        };
        history.add(sample.clone());
        let body = serde_json::to_vec(&history).expect("a history serializes");
        if objects.replace(key, &body, version.as_deref()).await? {
            return Ok(history);
        }
    }
    Err(crate::error::Error::Aws {
        service: "s3",
        operation: "PutObject",
        code: Some("PreconditionFailed".into()),
        message: format!("{key}: other runs kept overtaking this one ({ATTEMPTS} attempts)"),
        transient: true,
    })
}

/// `41.0s (p50 39.0s, p95 55.0s over 12 applies of this module)`: a run's time against the learned one.
pub fn against(took: Duration, learned: Option<Learned>, action: Action) -> String {
    let took = crate::clock::human(took);
    let runs = match action {
        Action::Apply => "applies",
        Action::Destroy => "destroys",
        Action::Plan => "plans",
    };
    match learned {
        Some(l) if l.runs > 1 => format!(
            "{took} (p50 {}, p95 {} over {} {runs} of this module)",
            crate::clock::human(l.p50),
            crate::clock::human(l.p95),
            l.runs,
        ),
        _ => format!("{took} (the first {} of this module)", action.as_str()),
    }
}

#[cfg(test)]
mod tests;
