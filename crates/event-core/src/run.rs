//! The vocabulary of a Terraform run on the runner, and the runner as the flows see it: a host that
//! keeps one detached run per event at a time (`runner-protocol.sh` over SSH in production, an
//! in-memory runner in the simulation).

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Serialize, Serializer};

use crate::error::Result;
use crate::module::Module;

/// What a run does to the event tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Apply,
    Destroy,
    /// The dress rehearsal's `terraform plan` ([`crate::rehearsal`]): reads, changes nothing.
    Plan,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Apply => "apply",
            Action::Destroy => "destroy",
            Action::Plan => "plan",
        }
    }

    /// The flow that runs this action: `start`, `stop` or `rehearsal` (event-start's).
    pub fn flow(self) -> &'static str {
        match self {
            Action::Apply => "start",
            Action::Destroy => "stop",
            Action::Plan => "rehearsal",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run's identity: its action, the UTC time it was made and a random suffix
/// (`apply-20261124t211800-3fa9c1`). Lower-case letters, digits and `-`: a safe shell word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunId {
    action: Action,
    id: String,
}

impl RunId {
    /// A fresh id for a run of `action`.
    pub fn new(action: Action) -> Self {
        let secs = crate::clock::unix_now().max(0) as u64;
        RunId {
            action,
            id: format!(
                "{action}-{}-{:06x}",
                crate::clock::compact_utc(secs),
                next_suffix() & 0xff_ffff
            ),
        }
    }

    /// Reads an id as the functions write it; None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-');
        let action = if s.starts_with("apply-") {
            Action::Apply
        } else if s.starts_with("destroy-") {
            Action::Destroy
        } else if s.starts_with("plan-") {
            Action::Plan
        } else {
            return None;
        };
        ok.then(|| RunId {
            action,
            id: s.to_owned(),
        })
    }

    pub fn action(&self) -> Action {
        self.action
    }

    /// When the id was made (whole seconds since the Unix epoch), from its UTC time.
    pub fn made_at(&self) -> Option<std::time::Duration> {
        let compact = self.id.split('-').nth(1)?;
        let at = jiff::civil::DateTime::strptime("%Y%m%dt%H%M%S", compact).ok()?;
        let secs = at
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second();
        u64::try_from(secs).ok().map(std::time::Duration::from_secs)
    }

    pub fn as_str(&self) -> &str {
        &self.id
    }
}

impl Deref for RunId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.id
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl Serialize for RunId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.id)
    }
}

thread_local! {
    static SUFFIXES: Cell<u64> = Cell::new(random_seed());
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(crate::clock::since_epoch().as_nanos());
    h.write_u32(std::process::id());
    h.finish()
}

/// The next random suffix of this thread (splitmix64): distinct ids and launch tokens.
pub(crate) fn next_suffix() -> u64 {
    SUFFIXES.with(|s| {
        let mut z = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

/// Makes this thread's ids repeatable (the simulation replays a seed with the same ids).
pub fn seed_ids(seed: u64) {
    SUFFIXES.with(|s| s.set(seed));
}

/// The step a run is in or ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStage {
    Queued,
    Init,
    Plan,
    Apply,
    Destroy,
    Unknown,
}

impl RunStage {
    pub fn parse(s: &str) -> Self {
        match s {
            "queued" => RunStage::Queued,
            "init" => RunStage::Init,
            "plan" => RunStage::Plan,
            "apply" => RunStage::Apply,
            "destroy" => RunStage::Destroy,
            _ => RunStage::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunStage::Queued => "queued",
            RunStage::Init => "init",
            RunStage::Plan => "plan",
            RunStage::Apply => "apply",
            RunStage::Destroy => "destroy",
            RunStage::Unknown => "unknown",
        }
    }
}

impl fmt::Display for RunStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the runner answered to a request to start a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    Started(RunId),
    /// Another run of this event holds the runner's lock.
    Busy(RunId),
    /// The runner was retired by a stop: it takes no more runs.
    Retired,
}

/// What the runner answered to a request to retire it (before it is terminated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retire {
    /// No run is in progress and none can start any more.
    Retired,
    Busy(RunId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Done {
        exit: i32,
        changes: bool,
    },
    /// The run stopped without an outcome (the runner rebooted, the process was killed).
    Lost,
    /// The runner knows no such run.
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Poll {
    pub state: RunState,
    pub stage: RunStage,
    /// Log bytes from the requested offset on.
    pub chunk: Vec<u8>,
    /// How long a finished run took on the runner (Terraform's own time), when it says.
    pub took: Option<Duration>,
    /// When a finished run ended, as Unix time on the runner's clock, when it says (`ended_ms`).
    pub ended: Option<Duration>,
    /// A finished run's stages and the time each took, in order, when it says (`stages`).
    pub stages: Vec<(String, Duration)>,
}

/// The last run started on a runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub run: RunId,
    /// It holds the event's lock: in progress.
    pub running: bool,
}

/// Whether the runner can take runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Its user data has not finished; `has_runs` when it ran runs before (so it was ready once and
    /// must not be treated as a runner that never booted).
    NotReady {
        has_runs: bool,
    },
}

/// What a run needs on the runner besides the module: its variables and its backend settings.
#[derive(Debug, Clone)]
pub struct RunFiles<'a> {
    pub module: &'a Module,
    pub tfvars: Vec<u8>,
    pub backend_hcl: String,
}

/// Which half of [`Host::prepare_and_start`] failed.
#[derive(Debug)]
pub enum LaunchFailure {
    /// The run's files did not reach its directory.
    Prepare(crate::error::Error),
    /// The files are there; the run did not start.
    Start(crate::error::Error),
}

/// One connection to an event's runner, speaking the detached-run protocol.
#[async_trait]
pub trait Host: Send + Sync {
    async fn ready(&self) -> Result<Readiness>;
    /// Hands the run its own copy of the module, variables and backend.
    async fn prepare(&self, run: &RunId, files: &RunFiles<'_>) -> Result<()>;
    /// Starts the run detached, unless another run of the event holds the runner.
    async fn start(&self, run: &RunId) -> Result<Started>;
    /// [`Host::prepare`], then [`Host::start`] if it succeeded; a host that can do both in one
    /// round trip does (over SSH: one remote command).
    async fn prepare_and_start(
        &self,
        run: &RunId,
        files: &RunFiles<'_>,
    ) -> std::result::Result<Started, LaunchFailure> {
        self.prepare(run, files)
            .await
            .map_err(LaunchFailure::Prepare)?;
        self.start(run).await.map_err(LaunchFailure::Start)
    }
    /// The last run started on this runner for the event, and whether it is still in progress.
    async fn last(&self) -> Result<Option<LastRun>>;
    /// [`Host::ready`], and when ready [`Host::last`] as well; a host that can answer both in one
    /// round trip does (over SSH: one remote command).
    async fn ready_and_last(&self) -> Result<(Readiness, Option<LastRun>)> {
        match self.ready().await? {
            Readiness::Ready => Ok((Readiness::Ready, self.last().await?)),
            not_ready => Ok((not_ready, None)),
        }
    }
    /// The run's state and its log from `offset`; with a `wait`, a long poll.
    async fn poll(&self, run: &RunId, offset: u64, wait: Duration) -> Result<Poll>;
    /// Takes the event's lock for good, so that no run can start before the runner is terminated.
    async fn retire(&self) -> Result<Retire>;
    /// What a finished `plan` run planned: `terraform show -json` of it.
    async fn plan_json(&self, run: &RunId) -> Result<Vec<u8>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_know_their_action_and_are_distinct() {
        let a = RunId::new(Action::Apply);
        let b = RunId::new(Action::Apply);
        assert_ne!(a, b);
        assert!(a.starts_with("apply-"), "{a}");
        assert_eq!(RunId::parse(&a), Some(a.clone()));
        assert_eq!(
            RunId::parse("destroy-20261124t211800-00ab12").map(|r| r.action()),
            Some(Action::Destroy)
        );
        assert_eq!(
            RunId::parse("plan-20261124t211800-00ab12").map(|r| r.action()),
            Some(Action::Plan)
        );
        assert_eq!(RunId::parse("show-20261124t211800-00ab12"), None);
        assert_eq!(RunId::parse("apply-X"), None);
        assert_eq!(RunId::parse(&format!("apply-{}", "a".repeat(60))), None);
    }

    #[test]
    fn a_run_id_says_when_it_was_made() {
        let r = RunId::parse("apply-20261124t211800-00ab12").unwrap();
        // 2026-11-24T21:18:00Z
        assert_eq!(
            r.made_at(),
            Some(std::time::Duration::from_secs(1_795_555_080))
        );
        assert_eq!(RunId::parse("apply-x-1").unwrap().made_at(), None);
    }

    #[test]
    fn seeded_ids_repeat() {
        seed_ids(7);
        let a = next_suffix();
        seed_ids(7);
        assert_eq!(next_suffix(), a);
    }
}
