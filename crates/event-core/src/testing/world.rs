//! An in-memory world for the flows: EC2 instances and their states, the state bucket with S3's
//! conditional writes (412, 409, writes whose answer is lost), runners that keep one detached run per
//! event under a lock (runs that take time, runners that die mid-run, a Terraform state lock left by
//! a killed run), DMS loads, Scheduler follow-ups, and Slack (down, refusing, or posting and then
//! timing out). Time is tokio's: under paused time the world moves through hours in microseconds.
//!
//! Every operation takes a random latency first (an await point where the function may be killed)
//! and then happens at once, under one lock. The invariants of `shared/DESIGN.md` are checked where
//! they can break: at a launch, a run's start, a destroy's start and a termination.

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

/// A small deterministic random source (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A whole number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn secs(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_secs(self.range(lo, hi))
    }
}

/// How Slack behaves in a world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlackMode {
    Healthy,
    /// Every post fails.
    Down,
    /// A post is refused (5xx) with this probability.
    Refusing(f64),
    /// A post lands and then times out with this probability (the poster cannot tell).
    LandsThenTimesOut(f64),
}

/// The faults of a world and how long things take. Probabilities are per operation.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Largest latency of one operation, in milliseconds.
    pub latency_ms: u64,
    pub s3_conflict: f64,
    pub s3_lost_answer: f64,
    pub slack: SlackMode,
    pub schedule_fails: f64,
    pub launch_fails: f64,
    /// A launched runner whose user data never finishes.
    pub user_data_fails: f64,
    /// A runner's readiness check answering "not ready" once.
    pub ready_flaps: f64,
    pub ssh_drops: f64,
    /// A runner dying while a run is in progress on it.
    pub runner_dies: f64,
    pub run_fails: f64,
    pub load_fails: f64,
    pub boot: (u64, u64),
    pub apply: (u64, u64),
    pub destroy: (u64, u64),
    pub load: (u64, u64),
}

impl Knobs {
    /// Nothing goes wrong.
    pub fn calm() -> Self {
        Knobs {
            latency_ms: 200,
            s3_conflict: 0.0,
            s3_lost_answer: 0.0,
            slack: SlackMode::Healthy,
            schedule_fails: 0.0,
            launch_fails: 0.0,
            user_data_fails: 0.0,
            ready_flaps: 0.0,
            ssh_drops: 0.0,
            runner_dies: 0.0,
            run_fails: 0.0,
            load_fails: 0.0,
            boot: (20, 120),
            apply: (60, 2700),
            destroy: (60, 900),
            load: (30, 900),
        }
    }
}

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
                    if exit == 0 {
                        let n = match run.action() {
                            Action::Apply => TIER_RESOURCES,
                            Action::Destroy => 0,
                        };
                        st.tiers.insert(event.clone(), n);
                        st.objects.insert(state_key(&event), state_json(n));
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
            follow_ups: Some(Arc::new(self.clone())),
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

    /// Whether a run of the event is in progress.
    pub fn run_in_progress(&self, event: &str) -> bool {
        let mut st = self.st();
        self.settle(&mut st);
        st.runs
            .iter()
            .any(|r| r.event == event && r.phase == RunPhase::Running)
    }

    /// The instant of the world's last scheduled change (runs ending, loads ending).
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

fn state_json(resources: usize) -> Vec<u8> {
    let instances: Vec<Value> = (0..resources).map(|_| serde_json::json!({})).collect();
    serde_json::to_vec(&serde_json::json!({
        "version": 4,
        "resources": [{ "mode": "managed", "type": "aws_ecs_service", "name": "tier", "instances": instances }],
    }))
    .expect("json")
}

fn runner_of(i: &Instance) -> Runner {
    Runner {
        instance_id: i.id.clone(),
        state: match i.state {
            InstState::Pending => "pending",
            InstState::Running => "running",
            InstState::Terminated => "terminated",
        }
        .into(),
        private_ip: Some(i.id.clone()),
        launch_token: Some(i.token.clone()),
        launched_at: Some(i.launched_at),
    }
}

#[async_trait]
impl Fleet for World {
    async fn find(&self, event: &EventId) -> Result<Option<Runner>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(st
            .instances
            .iter()
            .find(|i| i.event == event.as_str() && i.state != InstState::Terminated)
            .map(runner_of))
    }

    async fn find_by_token(&self, event: &EventId, token: &str) -> Result<Option<Runner>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(st
            .instances
            .iter()
            .find(|i| i.event == event.as_str() && i.token == token)
            .map(runner_of))
    }

    async fn launch(&self, event: &EventId, token: &str) -> Result<Runner> {
        self.latency().await;
        if self.chance(self.inner.knobs.launch_fails) {
            self.note(format!(
                "launch refused (InsufficientInstanceCapacity) for {token}"
            ));
            return Err(Error::Aws {
                service: "ec2",
                operation: "RunInstances",
                code: Some("InsufficientInstanceCapacity".into()),
                message: "insufficient capacity".into(),
                transient: false,
            });
        }
        let t = self.t();
        let mut st = self.st();
        self.settle(&mut st);
        // The client token: a repeated launch is the same instance.
        if let Some(i) = st.instances.iter().find(|i| i.token == token) {
            return Ok(runner_of(i));
        }
        st.next_id += 1;
        let id = format!("i-{:04}", st.next_id);
        let (boot, never_ready, ready_after) = {
            let mut rng = self.rng();
            let boot = rng.secs((5, 40));
            let never = rng.chance(self.inner.knobs.user_data_fails);
            let ready = rng.secs(self.inner.knobs.boot);
            (boot, never, ready)
        };
        let now = Instant::now();
        st.instances.push(Instance {
            id: id.clone(),
            event: event.to_string(),
            token: token.to_owned(),
            state: InstState::Pending,
            launched_at: crate::clock::unix_now(),
            running_at: now + boot,
            ready_at: (!never_ready).then_some(now + boot + ready_after),
            retired: false,
        });
        st.trace.push(format!(
            "{t} launched {id} for {event}{}",
            if never_ready {
                " (its user data will fail)"
            } else {
                ""
            }
        ));
        let live = st
            .instances
            .iter()
            .filter(|i| i.event == event.as_str() && i.state != InstState::Terminated)
            .count();
        if live > 1 {
            Self::violation(
                &mut st,
                &t,
                format!("{live} live runners for {event} after launching {id}"),
            );
        }
        let i = st.instances.last().expect("just pushed");
        Ok(runner_of(i))
    }

    async fn wait_running(&self, instance_id: &str, timeout: Duration) -> Result<Runner> {
        let until = Instant::now() + timeout;
        loop {
            self.latency().await;
            let running_at = {
                let mut st = self.st();
                self.settle(&mut st);
                let Some(i) = st.instances.iter().find(|i| i.id == instance_id) else {
                    return Err(Error::Runner {
                        instance_id: instance_id.into(),
                        reason: "gone".into(),
                    });
                };
                match i.state {
                    InstState::Running => return Ok(runner_of(i)),
                    InstState::Terminated => {
                        return Err(Error::Runner {
                            instance_id: instance_id.into(),
                            reason: "can no longer reach running (it is terminated)".into(),
                        });
                    }
                    InstState::Pending => i.running_at,
                }
            };
            if running_at > until {
                tokio::time::sleep_until(until).await;
                return Err(Error::Runner {
                    instance_id: instance_id.into(),
                    reason: "did not reach running in time".into(),
                });
            }
            tokio::time::sleep_until(running_at).await;
        }
    }

    async fn terminate_and_wait(&self, instance_id: &str, _timeout: Duration) -> Result<()> {
        self.latency().await;
        let t = self.t();
        let mut st = self.st();
        self.settle(&mut st);
        let busy: Vec<String> = st
            .runs
            .iter()
            .filter(|r| r.instance == instance_id && r.phase == RunPhase::Running)
            .map(|r| r.id.to_string())
            .collect();
        if !busy.is_empty() {
            Self::violation(
                &mut st,
                &t,
                format!(
                    "runner {instance_id} terminated while run {} is in progress",
                    busy.join(", ")
                ),
            );
            for r in st.runs.iter_mut().filter(|r| r.instance == instance_id) {
                if r.phase == RunPhase::Running {
                    r.phase = RunPhase::Lost;
                }
            }
        }
        if let Some(i) = st.instances.iter_mut().find(|i| i.id == instance_id) {
            i.state = InstState::Terminated;
        }
        st.trace.push(format!("{t} terminated {instance_id}"));
        Ok(())
    }
}

#[async_trait]
impl Secrets for World {
    async fn get(&self, _: &str) -> Result<SecretString> {
        self.latency().await;
        Ok(SecretString::from("-----runner key-----".to_owned()))
    }
}

/// One connection to a runner of the world.
struct FakeHost {
    world: World,
    instance: String,
}

#[async_trait]
impl Remote for World {
    async fn connect(
        &self,
        target: &SshTarget,
        _: &SecretString,
        event: &EventId,
    ) -> Result<Arc<dyn Host>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        let ok = st.instances.iter().any(|i| {
            i.id == target.host && i.event == event.as_str() && i.state == InstState::Running
        });
        if !ok {
            return Err(ssh_error(
                &target.host,
                "cannot connect: connection refused",
            ));
        }
        Ok(Arc::new(FakeHost {
            world: self.clone(),
            instance: target.host.clone(),
        }))
    }
}

impl FakeHost {
    /// The latency, then the runner's state, or the SSH error of a runner that is gone or a
    /// connection that dropped.
    async fn enter(&self) -> Result<MutexGuard<'_, State>> {
        self.world.latency().await;
        if self.world.chance(self.world.inner.knobs.ssh_drops) {
            self.world.note(format!("ssh to {} dropped", self.instance));
            return Err(ssh_error(&self.instance, "connection reset"));
        }
        let mut st = self.world.st();
        self.world.settle(&mut st);
        let up = st
            .instances
            .iter()
            .any(|i| i.id == self.instance && i.state == InstState::Running);
        if !up {
            return Err(ssh_error(&self.instance, "no answer within 30s"));
        }
        Ok(st)
    }

    fn instance<'s>(&self, st: &'s mut State) -> &'s mut Instance {
        st.instances
            .iter_mut()
            .find(|i| i.id == self.instance)
            .expect("entered")
    }
}

#[async_trait]
impl Host for FakeHost {
    async fn ready(&self) -> Result<Readiness> {
        let flap = self.world.chance(self.world.inner.knobs.ready_flaps);
        let mut st = self.enter().await?;
        let has_runs = st.runs.iter().any(|r| r.instance == self.instance);
        let ready = self
            .instance(&mut st)
            .ready_at
            .is_some_and(|r| r <= Instant::now());
        Ok(if ready && !flap {
            Readiness::Ready
        } else {
            Readiness::NotReady { has_runs }
        })
    }

    async fn prepare(&self, _: &RunId, _: &RunFiles<'_>) -> Result<()> {
        self.enter().await.map(drop)
    }

    async fn start(&self, run: &RunId) -> Result<Started> {
        let (fails, dies, took, die_after) = {
            let mut rng = self.world.rng();
            let k = &self.world.inner.knobs;
            let took = rng.secs(match run.action() {
                Action::Apply => k.apply,
                Action::Destroy => k.destroy,
            });
            let die_after = Duration::from_secs(rng.range(1, took.as_secs().max(1)));
            (
                rng.chance(k.run_fails),
                rng.chance(k.runner_dies),
                took,
                die_after,
            )
        };
        let t = self.world.t();
        let mut st = self.enter().await?;
        let event = self.instance(&mut st).event.clone();
        if let Some(cur) = st
            .runs
            .iter()
            .find(|r| r.instance == self.instance && r.phase == RunPhase::Running)
        {
            return Ok(Started::Busy(cur.id.clone()));
        }
        if self.instance(&mut st).retired {
            return Ok(Started::Retired);
        }
        if let Some(other) = st
            .runs
            .iter()
            .find(|r| r.event == event && r.phase == RunPhase::Running)
        {
            let what = format!(
                "two runs of {event}: {run} started on {} while {} runs on {}",
                self.instance, other.id, other.instance
            );
            Self::violation_in(&mut st, &t, what);
        }
        let now = Instant::now();
        if run.action() == Action::Destroy && st.tiers.get(&event).copied().unwrap_or(0) > 0 {
            let since = st.stop_requested.get(&event).copied();
            let migrated = since.is_some_and(|since| {
                st.loads
                    .iter()
                    .any(|l| l.event == event && l.ok && l.started >= since && l.ends <= now)
            });
            if !migrated {
                let what = format!(
                    "destroy {run} of {event} started without a final migration that started after the stop was requested ({})",
                    match since {
                        Some(s) => format!("requested {:.1}s ago", (now - s).as_secs_f64()),
                        None => "no stop was requested".into(),
                    }
                );
                Self::violation_in(&mut st, &t, what);
            }
        }
        // Terraform's state lock: a lock left by a killed run of this runner is broken by the
        // protocol; one left by another runner stops the run at init.
        let lock = st.objects.get(&lock_key(&event)).cloned();
        let stale_elsewhere = lock.is_some_and(|holder| holder != self.instance.as_bytes());
        let (exit, stage, ends) = if stale_elsewhere {
            (1, RunStage::Init, now + Duration::from_secs(5))
        } else {
            st.objects
                .insert(lock_key(&event), self.instance.as_bytes().to_vec());
            let stage = match run.action() {
                Action::Apply => RunStage::Apply,
                Action::Destroy => RunStage::Destroy,
            };
            (i32::from(fails), stage, now + took)
        };
        let before = st.tiers.get(&event).copied().unwrap_or(0);
        let changes = match run.action() {
            Action::Apply => before != TIER_RESOURCES,
            Action::Destroy => before != 0,
        };
        let log = if stale_elsewhere {
            "Error: Error acquiring the state lock\n".to_owned()
        } else {
            String::new()
        };
        st.runs.push(Run {
            id: run.clone(),
            event: event.clone(),
            instance: self.instance.clone(),
            ends,
            exit,
            stage,
            phase: RunPhase::Running,
            changes,
            dies_at: dies.then_some(now + die_after),
            log,
        });
        st.trace.push(format!(
            "{t} run {run} started on {} ({}s{}{})",
            self.instance,
            (ends - now).as_secs(),
            if exit != 0 { ", will fail" } else { "" },
            if dies { ", its runner will die" } else { "" }
        ));
        Ok(Started::Started(run.clone()))
    }

    async fn last(&self) -> Result<Option<LastRun>> {
        let st = self.enter().await?;
        Ok(st
            .runs
            .iter()
            .rev()
            .find(|r| r.instance == self.instance)
            .map(|r| LastRun {
                run: r.id.clone(),
                running: r.phase == RunPhase::Running,
            }))
    }

    async fn poll(&self, run: &RunId, offset: u64, wait: Duration) -> Result<Poll> {
        let ends = {
            let st = self.enter().await?;
            st.runs
                .iter()
                .find(|r| &r.id == run && r.instance == self.instance)
                .filter(|r| r.phase == RunPhase::Running)
                .map(|r| r.ends)
        };
        if let Some(ends) = ends {
            // The long poll: the answer comes when the run ends, or after `wait`.
            if !wait.is_zero() {
                tokio::time::sleep_until(ends.min(Instant::now() + wait)).await;
            }
        }
        let mut st = self.world.st();
        self.world.settle(&mut st);
        let Some(r) = st
            .runs
            .iter()
            .find(|r| &r.id == run && r.instance == self.instance)
        else {
            return Ok(Poll {
                state: RunState::Unknown,
                stage: RunStage::Unknown,
                chunk: Vec::new(),
                took: None,
            });
        };
        let state = match r.phase {
            RunPhase::Running => RunState::Running,
            RunPhase::Done => RunState::Done {
                exit: r.exit,
                changes: r.changes,
            },
            RunPhase::Lost => RunState::Lost,
        };
        let chunk = r
            .log
            .as_bytes()
            .get(offset as usize..)
            .unwrap_or_default()
            .to_vec();
        Ok(Poll {
            state,
            stage: r.stage,
            chunk,
            took: None,
        })
    }

    async fn retire(&self) -> Result<Retire> {
        let mut st = self.enter().await?;
        if let Some(cur) = st
            .runs
            .iter()
            .find(|r| r.instance == self.instance && r.phase == RunPhase::Running)
        {
            return Ok(Retire::Busy(cur.id.clone()));
        }
        self.instance(&mut st).retired = true;
        Ok(Retire::Retired)
    }
}

impl FakeHost {
    fn violation_in(st: &mut State, t: &str, what: String) {
        World::violation(st, t, what);
    }
}

#[async_trait]
impl Objects for World {
    async fn create(&self, key: &str, body: &[u8]) -> Result<Create> {
        self.latency().await;
        let (conflict, lost) = {
            let mut rng = self.rng();
            let k = &self.inner.knobs;
            (rng.chance(k.s3_conflict), rng.chance(k.s3_lost_answer))
        };
        let mut st = self.st();
        // 409 answers a conditional write while another one of the same key is in flight: one
        // that came within the last half second.
        let now = Instant::now();
        let recent = st
            .creates
            .get(key)
            .is_some_and(|at| now.duration_since(*at) < Duration::from_millis(500));
        st.creates.insert(key.to_owned(), now);
        if conflict && recent {
            drop(st);
            self.note(format!("s3 409 on {key}"));
            return Ok(Create::Conflict);
        }
        if st.objects.contains_key(key) {
            return Ok(Create::Exists);
        }
        st.objects.insert(key.to_owned(), body.to_vec());
        if lost {
            // The write landed; its answer was lost and the SDK's retry got 412.
            let t = self.t();
            st.trace
                .push(format!("{t} s3 create of {key} landed, answer lost"));
            return Ok(Create::Exists);
        }
        Ok(Create::Created)
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(st.objects.get(key).cloned())
    }

    async fn put(&self, key: &str, body: &[u8]) -> Result<()> {
        self.latency().await;
        self.st().objects.insert(key.to_owned(), body.to_vec());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.latency().await;
        self.st().objects.remove(key);
        Ok(())
    }
}

#[async_trait]
impl Notifier for World {
    async fn post(&self, text: &str) -> Result<()> {
        self.post_message(&Message {
            text,
            outcome_of: None,
        })
        .await
    }

    async fn post_message(&self, m: &Message<'_>) -> Result<()> {
        self.latency().await;
        let refused = match self.inner.knobs.slack {
            SlackMode::Healthy | SlackMode::LandsThenTimesOut(_) => false,
            SlackMode::Down => true,
            SlackMode::Refusing(p) => self.chance(p),
        };
        if refused {
            self.note("slack refused a post");
            return Err(Error::Slack(
                "post failed: HTTP status server error (500)".into(),
            ));
        }
        let timed_out = match self.inner.knobs.slack {
            SlackMode::LandsThenTimesOut(p) => self.chance(p),
            _ => false,
        };
        let t = self.t();
        let mut st = self.st();
        st.posts.push(Post {
            at: Instant::now(),
            text: m.text.to_owned(),
            outcome_of: m.outcome_of.map(|r| r.to_string()),
        });
        let first = m.text.lines().next().unwrap_or_default();
        st.trace.push(format!("{t} slack: {first}"));
        if timed_out {
            st.trace
                .push(format!("{t} slack post landed, answer timed out"));
            return Err(Error::Slack(
                "post failed: timed out after 5000ms (the message may have been posted)".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Migrations for World {
    async fn find(&self, event: &EventId) -> Result<Option<Task>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        if st.tiers.get(event.as_str()).copied().unwrap_or(0) == 0 {
            return Ok(None);
        }
        let now = Instant::now();
        let last = st.loads.iter().rev().find(|l| l.event == event.as_str());
        let (status, stop_reason, failure) = match last {
            None => ("ready", None, None),
            Some(l) if l.ends > now => ("running", None, None),
            Some(l) if l.ok => (
                "stopped",
                Some("Stop Reason FULL_LOAD_ONLY_FINISHED".to_owned()),
                None,
            ),
            Some(_) => ("failed", None, Some("connection refused".to_owned())),
        };
        Ok(Some(Task {
            arn: format!("arn:aws:dms:us-east-1:123456789012:task:{event}"),
            status: status.into(),
            stop_reason,
            last_failure_message: failure,
            full_load_percent: Some(100),
            tables_errored: Some(0),
            has_run: last.is_some(),
        }))
    }

    async fn start_load(&self, task: &Task) -> Result<()> {
        self.latency().await;
        let (took, fails) = {
            let mut rng = self.rng();
            (
                rng.secs(self.inner.knobs.load),
                rng.chance(self.inner.knobs.load_fails),
            )
        };
        let t = self.t();
        let mut st = self.st();
        self.settle(&mut st);
        let event = task.arn.rsplit(':').next().unwrap_or_default().to_owned();
        let now = Instant::now();
        if st.loads.iter().any(|l| l.event == event && l.ends > now) {
            return Err(Error::Aws {
                service: "dms",
                operation: "StartReplicationTask",
                code: Some("InvalidResourceStateFault".into()),
                message: "task is running".into(),
                transient: false,
            });
        }
        st.loads.push(Load {
            event,
            started: now,
            ends: now + took,
            ok: !fails,
        });
        st.trace.push(format!(
            "{t} final load started ({}s{})",
            took.as_secs(),
            if fails { ", will fail" } else { "" }
        ));
        Ok(())
    }
}

#[async_trait]
impl Inventory for World {
    async fn leftovers(&self, event: &EventId) -> Result<Vec<String>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(if st.tiers.get(event.as_str()).copied().unwrap_or(0) > 0 {
            vec![format!(
                "arn:aws:ecs:us-east-1:123456789012:service/event-tier-{event}"
            )]
        } else {
            Vec::new()
        })
    }
}

#[async_trait]
impl FollowUps for World {
    async fn schedule(
        &self,
        event: &EventId,
        function_arn: &str,
        payload: &Value,
        delay: Duration,
    ) -> Result<String> {
        self.latency().await;
        if self.chance(self.inner.knobs.schedule_fails) {
            self.note("scheduler refused a follow-up");
            return Err(Error::Aws {
                service: "scheduler",
                operation: "CreateSchedule",
                code: Some("ServiceQuotaExceededException".into()),
                message: "quota".into(),
                transient: false,
            });
        }
        let name = {
            let mut st = self.st();
            st.next_id += 1;
            format!("event-tier-follow-{event}-{:05}", st.next_id)
        };
        let action = if function_arn.ends_with("event-stop") {
            Action::Destroy
        } else {
            Action::Apply
        };
        self.note(format!("scheduled {name}: {payload}"));
        let _ = self.inner.schedules.send(Schedule {
            name: name.clone(),
            action,
            payload: payload.clone(),
            at: Instant::now() + delay,
        });
        Ok(name)
    }
}
