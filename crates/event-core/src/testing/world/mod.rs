//! An in-memory world for the flows: EC2 instances and their states, the state bucket with S3's
//! conditional writes (412, 409, writes whose answer is lost), runners that keep one detached run per
//! event under a lock (runs that take time, runners that die mid-run, a Terraform state lock left by
//! a killed run), DMS loads, Scheduler follow-ups, and Slack (down, refusing, or posting and then
//! timing out). Time is tokio's: under paused time the world moves through hours in microseconds.
//!
//! Every operation takes a random latency first (an await point where the function may be killed)
//! and then happens at once, under one lock. The invariants of `shared/DESIGN.md` are checked where
//! they can break: at a launch, a run's start, a destroy's start and a termination.

mod ec2;
mod knobs;
mod runner;
mod services;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::clock::Instant;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::flows::Deps;
use crate::followup::FollowUps;
use crate::inventory::Inventory;
use crate::migration::{Migrations, Task};
use crate::module::Module;
use crate::payload::EventId;
use crate::records::{Create, Objects, StateRecords};
use crate::run::{
    Action, Host, LastRun, Poll, Readiness, Retire, RunFiles, RunId, RunStage, RunState, Started,
};
use crate::runner::{Fleet, Runner};
use crate::secrets::Secrets;
use crate::slack::{Message, Notifier};
use crate::ssh::{Remote, SshTarget};
pub use knobs::{Knobs, Rng, SlackMode};

/// A follow-up the world's Scheduler holds: the function it invokes and the payload.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub name: String,
    pub action: Action,
    pub payload: Value,
    pub at: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InstState {
    Pending,
    Running,
    Terminated,
}

#[derive(Debug, Clone)]
struct Instance {
    id: String,
    event: String,
    token: String,
    state: InstState,
    launched_at: i64,
    running_at: Instant,
    /// When its user data finishes; None: never.
    ready_at: Option<Instant>,
    retired: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunPhase {
    Running,
    Done,
    Lost,
}

#[derive(Debug, Clone)]
struct Run {
    id: RunId,
    event: String,
    instance: String,
    ends: Instant,
    exit: i32,
    stage: RunStage,
    phase: RunPhase,
    changes: bool,
    /// Dies with its runner at this time.
    dies_at: Option<Instant>,
    log: String,
}

#[derive(Debug, Clone)]
struct Load {
    event: String,
    started: Instant,
    ends: Instant,
    ok: bool,
}

/// A post Slack received.
#[derive(Debug, Clone)]
pub struct Post {
    pub at: Instant,
    pub text: String,
    pub outcome_of: Option<String>,
}

/// A finished or lost run, as the invariants see it.
#[derive(Debug, Clone)]
pub struct RunRecord {
    pub id: String,
    pub event: String,
    pub finished: bool,
    /// When it ended (or was due to).
    pub ended: Instant,
}

#[derive(Default)]
struct State {
    instances: Vec<Instance>,
    objects: BTreeMap<String, Vec<u8>>,
    /// Resources of each event's tier.
    tiers: BTreeMap<String, usize>,
    runs: Vec<Run>,
    loads: Vec<Load>,
    posts: Vec<Post>,
    trace: Vec<String>,
    violations: Vec<String>,
    /// When the stop that is being carried out was first requested, per event.
    stop_requested: BTreeMap<String, Instant>,
    /// When each event's tier passes its readiness checks (None: never), from its first apply.
    ready_at: BTreeMap<String, Option<Instant>>,
    /// When each key was last written conditionally.
    creates: BTreeMap<String, Instant>,
    next_id: u64,
}

/// The world. Cheap to clone (shared).
#[derive(Clone)]
pub struct World {
    inner: Arc<WorldInner>,
}

struct WorldInner {
    state: Mutex<State>,
    rng: Mutex<Rng>,
    knobs: Knobs,
    epoch: Instant,
    schedules: mpsc::UnboundedSender<Schedule>,
}

const TIER_RESOURCES: usize = 5;

tokio::task_local! {
    /// The number of the invocation a task runs (set by the simulation), for the trace.
    pub static INVOCATION: u32;
}

fn state_key(event: &str) -> String {
    format!("events/{event}/terraform.tfstate")
}

fn lock_key(event: &str) -> String {
    format!("events/{event}/terraform.tfstate.tflock")
}

fn ssh_error(target: &str, reason: &str) -> Error {
    Error::Ssh {
        target: target.to_owned(),
        reason: reason.to_owned(),
    }
}

impl World {
    /// A world and the receiving end of its Scheduler (what the simulation fires).
    pub fn new(seed: u64, knobs: Knobs) -> (World, mpsc::UnboundedReceiver<Schedule>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let world = World {
            inner: Arc::new(WorldInner {
                state: Mutex::new(State::default()),
                rng: Mutex::new(Rng::new(seed)),
                knobs,
                epoch: Instant::now(),
                schedules: tx,
            }),
        };
        (world, rx)
    }

    pub fn knobs(&self) -> &Knobs {
        &self.inner.knobs
    }

    fn st(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().expect("world state")
    }

    pub fn rng(&self) -> MutexGuard<'_, Rng> {
        self.inner.rng.lock().expect("world rng")
    }

    fn chance(&self, p: f64) -> bool {
        self.rng().chance(p)
    }

    /// The time since the world began and the invocation at work, for the trace.
    fn t(&self) -> String {
        let secs = (Instant::now() - self.inner.epoch).as_secs_f64();
        let who = INVOCATION
            .try_with(|n| format!("#{n}"))
            .unwrap_or_else(|_| "  ".into());
        format!("{secs:>9.1}s {who:>4}")
    }

    pub fn note(&self, what: impl AsRef<str>) {
        let line = format!("{} {}", self.t(), what.as_ref());
        self.st().trace.push(line);
    }

    fn violation(st: &mut State, t: &str, what: String) {
        st.trace.push(format!("{t} VIOLATION {what}"));
        st.violations.push(what);
    }

    /// One operation's latency: an await point.
    async fn latency(&self) {
        let ms = {
            let max = self.inner.knobs.latency_ms;
            self.rng().range(0, max)
        };
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    /// Moves time-driven state on to now: instances boot, runs end or die with their runner.
    fn settle(&self, st: &mut State) {
        let now = Instant::now();
        let t = self.t();
        for i in st.instances.iter_mut() {
            if i.state == InstState::Pending && i.running_at <= now {
                i.state = InstState::Running;
            }
        }
        let mut ended = Vec::new();
        for r in st.runs.iter_mut().filter(|r| r.phase == RunPhase::Running) {
            if r.dies_at.is_some_and(|d| d <= now.min(r.ends)) {
                r.phase = RunPhase::Lost;
                ended.push((r.event.clone(), r.instance.clone(), None));
            } else if r.ends <= now {
                r.phase = RunPhase::Done;
                r.log
                    .push_str(&format!("== event-tier: done, exit {}\n", r.exit));
                ended.push((
                    r.event.clone(),
                    r.instance.clone(),
                    Some((r.id.clone(), r.exit)),
                ));
            }
        }
        for (event, instance, done) in ended {
            match done {
                None => {
                    // The runner died with the run: the instance is gone, the state lock stays.
                    if let Some(i) = st.instances.iter_mut().find(|i| i.id == instance) {
                        i.state = InstState::Terminated;
                    }
                    st.trace
                        .push(format!("{t} runner {instance} died mid-run (lock left)"));
                }
                Some((run, exit)) => {
                    st.objects.remove(&lock_key(&event));
                    // A plan changes nothing.
                    if exit == 0 && run.action() != Action::Plan {
                        let n = match run.action() {
                            Action::Apply | Action::Plan => TIER_RESOURCES,
                            Action::Destroy => 0,
                        };
                        if n == 0 {
                            st.ready_at.remove(&event);
                        } else if !st.ready_at.contains_key(&event) {
                            let mut rng = self.rng();
                            let k = &self.inner.knobs;
                            let at = (!rng.chance(k.never_ready)).then(|| now + rng.secs(k.ready));
                            st.ready_at.insert(event.clone(), at);
                        }
                        st.tiers.insert(event.clone(), n);
                        st.objects.insert(state_key(&event), state_json(&event, n));
                        if n == 0 {
                            st.stop_requested.remove(&event);
                        }
                    }
                    st.trace.push(format!("{t} run {run} ended, exit {exit}"));
                }
            }
        }
    }

    /// The flows' dependencies, all of this world.
    pub fn deps(&self, config: Config) -> Deps {
        Deps {
            config,
            region: "us-east-1".into(),
            module: embedded_module(),
            fleet: Arc::new(self.clone()),
            secrets: Arc::new(self.clone()),
            remote: Arc::new(self.clone()),
            records: Arc::new(StateRecords::new(Arc::new(self.clone()))),
            notifier: Arc::new(self.clone()),
            migrations: Arc::new(self.clone()),
            inventory: Arc::new(self.clone()),
            probes: Arc::new(self.clone()),
            lookups: Arc::new(self.clone()),
            follow_ups: Some(Arc::new(self.clone())),
            ends: None,
        }
    }

    /// A stop was requested (a delivery that is not a follow-up): it opens the stop that the next
    /// destroy must have migrated for, unless one is being carried out.
    pub fn stop_requested(&self, event: &str) {
        let mut st = self.st();
        st.stop_requested
            .entry(event.to_owned())
            .or_insert_with(Instant::now);
    }

    /// The stop ended without destroying (its failure was reported): the next stop is a new one.
    pub fn stop_ended(&self, event: &str) {
        self.st().stop_requested.remove(event);
    }

    /// An hourly DMS load, if the tier is up and no load runs.
    pub fn hourly_load(&self, event: &str) {
        let mut st = self.st();
        self.settle(&mut st);
        let now = Instant::now();
        let up = st.tiers.get(event).copied().unwrap_or(0) > 0;
        let running = st.loads.iter().any(|l| l.event == event && l.ends > now);
        if up && !running {
            let took = self.rng().secs(self.inner.knobs.load);
            st.loads.push(Load {
                event: event.to_owned(),
                started: now,
                ends: now + took,
                ok: true,
            });
            let t = self.t();
            st.trace.push(format!("{t} hourly load started"));
        }
    }

    pub fn violations(&self) -> Vec<String> {
        self.st().violations.clone()
    }

    pub fn trace(&self) -> Vec<String> {
        self.st().trace.clone()
    }

    pub fn posts(&self) -> Vec<Post> {
        self.st().posts.clone()
    }

    pub fn runs(&self) -> Vec<RunRecord> {
        let mut st = self.st();
        self.settle(&mut st);
        st.runs
            .iter()
            .filter(|r| r.phase != RunPhase::Running)
            .map(|r| RunRecord {
                id: r.id.to_string(),
                event: r.event.clone(),
                finished: r.phase == RunPhase::Done,
                ended: r.ends,
            })
            .collect()
    }

    /// Whether the event is down: no resources and no live runner.
    pub fn is_down(&self, event: &str) -> bool {
        let mut st = self.st();
        self.settle(&mut st);
        st.tiers.get(event).copied().unwrap_or(0) == 0
            && !st
                .instances
                .iter()
                .any(|i| i.event == event && i.state != InstState::Terminated)
    }

    /// Moves the world's time-driven state (runs ending, runners booting) on to now.
    pub fn settle_now(&self) {
        let mut st = self.st();
        self.settle(&mut st);
    }
}

/// The embedded module, read once per process (its validation rules take a moment to parse).
fn embedded_module() -> Module {
    static MODULE: std::sync::OnceLock<Module> = std::sync::OnceLock::new();
    MODULE
        .get_or_init(|| Module::embedded().expect("the embedded module loads"))
        .clone()
}

fn state_json(event: &str, resources: usize) -> Vec<u8> {
    let instances: Vec<Value> = (0..resources).map(|_| serde_json::json!({})).collect();
    let mut state = serde_json::json!({
        "version": 4,
        "resources": [{ "mode": "managed", "type": "aws_ecs_service", "name": "tier", "instances": instances }],
    });
    if resources > 0 {
        state["outputs"] = serde_json::json!({ "readiness": { "type": "object", "value": {
            "cluster": format!("event-tier-{event}"),
            "service": format!("event-tier-{event}"),
            "first_migration_schedule": format!("event-tier-{event}-dms-first"),
        }}});
    }
    serde_json::to_vec(&state).expect("json")
}
