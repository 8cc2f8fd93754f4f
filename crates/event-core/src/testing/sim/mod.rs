//! The deterministic simulation: from a seed, a random life of an event in the in-memory world —
//! the scheduled start with EventBridge's duplicate deliveries, Lambda's retries, hand re-runs,
//! follow-ups (some twice, some late, some lost), the scheduled stop (also duplicated, also while an
//! apply runs), functions killed at any await point (Lambda's timeout), and the world's faults —
//! all in one thread on tokio's paused clock, so that a seed replays exactly. After each seed the
//! invariants of `shared/DESIGN.md` are checked; a seed that breaks one is printed with its trace.
//!
//! What it cannot model: real AWS consistency and timing, Terraform's own behaviour, a person
//! editing the state by hand, and starts delivered after the event's stop (an operator's re-run:
//! they bring the tier back up, which is what a re-run is for).

use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinSet;

mod checks;
mod plan;

pub use plan::config;

use super::world::{Rng, World};
use crate::clock::Instant;
use crate::flows::{Deadline, Defect, Invocation, Outcome, Told};
use crate::run::Action;
use checks::check_reports;
use plan::knobs;

/// What one seed did.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub seed: u64,
    pub violations: Vec<String>,
    pub trace: Vec<String>,
    pub invocations: usize,
}

impl SeedReport {
    /// The seed, its violations and its trace, for a person to read.
    pub fn render(&self) -> String {
        let mut out = format!(
            "seed {} broke {} invariant(s):\n",
            self.seed,
            self.violations.len()
        );
        for v in &self.violations {
            out.push_str(&format!("  - {v}\n"));
        }
        out.push_str("trace:\n");
        for line in &self.trace {
            out.push_str(&format!("  {line}\n"));
        }
        out.push_str(&format!("replay: make simulate SEED={}\n", self.seed));
        out
    }
}

const EVENT: &str = "winter-sale-2026";
const START_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-start";
const STOP_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:event-stop";

/// One delivery of a payload to a function.
#[derive(Debug, Clone)]
struct Delivery {
    action: Action,
    payload: Value,
    at: Instant,
    /// Lambda's attempt (1-3): its asynchronous invocations are retried twice after an error.
    attempt: u32,
    /// A delivery of a follow-up schedule.
    follow_up: bool,
}

#[allow(
    clippy::large_enum_variant,
    reason = "one value per simulated invocation, moved once: boxing it buys nothing"
)]
enum Ended {
    Returned(Result<Outcome, crate::flows::FlowError>),
    Killed,
}

/// Runs one seed and checks the invariants.
pub fn run_seed(seed: u64) -> SeedReport {
    run_seed_with(seed, None)
}

/// Runs one seed with a product defect brought back.
pub fn run_seed_with(seed: u64, defect: Option<Defect>) -> SeedReport {
    crate::flows::inject(defect);
    crate::run::seed_ids(seed);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let report = rt.block_on(life(seed));
    crate::flows::inject(None);
    report
}

/// The wall-clock time every seed starts at: 2026-12-01T00:00:00Z.
const SEED_EPOCH: Duration = Duration::from_secs(1_796_083_200);

async fn life(seed: u64) -> SeedReport {
    crate::clock::pin(SEED_EPOCH);
    let mut rng = Rng::new(seed);
    let knobs = knobs(&mut rng);
    let (world, mut schedules) = World::new(seed.wrapping_mul(31).wrapping_add(7), knobs.clone());
    world.note(format!("seed {seed}: {knobs:?}"));
    let deps = std::sync::Arc::new(world.deps(config()));
    let t0 = Instant::now();
    let at = |secs: u64| t0 + Duration::from_secs(secs);

    // The plan: starts (one scheduled, duplicates, perhaps a re-run by hand), then stops.
    let start = json!({ "event_id": EVENT, "vars": { "desired_count": 2, "max_count": 4 } });
    let stop = json!({ "event_id": EVENT });
    let first_stop = if rng.chance(0.2) {
        rng.range(120, 900) // during the apply
    } else {
        rng.range(1200, 10_800)
    };
    let mut plan = vec![(Action::Apply, start.clone(), 0)];
    for _ in 0..rng.range(0, 2) {
        plan.push((Action::Apply, start.clone(), rng.range(0, 90)));
    }
    if rng.chance(0.2) {
        plan.push((Action::Apply, start.clone(), rng.range(60, 1200)));
    }
    // Fresh starts are not delivered after the stop (see the module's docs).
    plan.retain(|(_, _, secs)| *secs < first_stop);
    plan.push((Action::Destroy, stop.clone(), first_stop));
    for _ in 0..rng.range(0, 2) {
        plan.push((Action::Destroy, stop.clone(), first_stop + rng.range(0, 90)));
    }
    if rng.chance(0.3) {
        plan.push((
            Action::Destroy,
            stop.clone(),
            first_stop + rng.range(60, 7200),
        ));
    }
    let stop_at = at(first_stop);

    let mut tasks: JoinSet<(Delivery, Ended)> = JoinSet::new();
    // Invocations of the stop at work or bound to come (retries, follow-ups): while there are any,
    // a failure of one does not end the stop.
    let stops = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut number = 0u32;
    let mut spawn = |tasks: &mut JoinSet<(Delivery, Ended)>, d: Delivery, rng: &mut Rng| {
        number += 1;
        let n = number;
        let deps = deps.clone();
        let world = world.clone();
        let stops = stops.clone();
        let planned = d.attempt == 1 && !d.follow_up;
        if d.action == Action::Destroy && !planned {
            stops.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        // Lambda's own timeout, and a kill at any await point (never on the last attempt).
        let timeout = Duration::from_secs(if rng.chance(0.3) {
            rng.range(120, 900)
        } else {
            900
        });
        let kill = (d.attempt < 3 && rng.chance(0.1))
            .then(|| Duration::from_millis(rng.range(0, timeout.as_millis() as u64)));
        let hourly = d.action == Action::Destroy && !d.follow_up && rng.chance(0.4);
        tasks.spawn(super::world::INVOCATION.scope(n, async move {
            tokio::time::sleep_until(d.at).await;
            let label = if d.follow_up { "follow-up" } else { "delivery" };
            world.note(format!(
                "{} {label} (attempt {}) {}{}",
                d.action.flow(),
                d.attempt,
                d.payload,
                kill.map(|k| format!(", killed after {:.1}s", k.as_secs_f64()))
                    .unwrap_or_default()
            ));
            if d.action == Action::Destroy && planned {
                stops.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            if d.action == Action::Destroy && d.payload.get("follow").is_none() {
                if hourly {
                    world.hourly_load(EVENT);
                }
                // A stop that is not following a run asks for the tier to go: it opens a stop
                // unless one is being carried out (then it is a duplicate of that one).
                world.stop_requested(EVENT);
            }
            let invocation = Invocation {
                deadline: Deadline::after(timeout),
                function_arn: Some(match d.action {
                    Action::Apply | Action::Plan => START_ARN.into(),
                    Action::Destroy => STOP_ARN.into(),
                }),
            };
            let flow = async {
                match d.action {
                    Action::Apply | Action::Plan => {
                        crate::flows::start::run(&deps, d.payload.clone(), invocation).await
                    }
                    Action::Destroy => {
                        crate::flows::stop::run(&deps, d.payload.clone(), invocation).await
                    }
                }
            };
            let ended = match kill {
                Some(k) => match tokio::time::timeout(k, flow).await {
                    Ok(r) => Ended::Returned(r),
                    Err(_) => Ended::Killed,
                },
                None => Ended::Returned(flow.await),
            };
            match &ended {
                Ended::Killed => world.note(format!("{} killed", d.action.flow())),
                Ended::Returned(Ok(o)) => world.note(format!(
                    "{} returned {:?}: {}",
                    d.action.flow(),
                    o.status,
                    o.message
                )),
                Ended::Returned(Err(e)) => world.note(format!("{} failed: {e}", d.action.flow())),
            }
            (d, ended)
        }));
    };
    for (action, payload, secs) in plan {
        spawn(
            &mut tasks,
            Delivery {
                action,
                payload,
                at: at(secs),
                attempt: 1,
                follow_up: false,
            },
            &mut rng,
        );
    }

    let mut lost_follow_up = false;
    let mut not_told = false;
    let mut invocations = 0;
    let horizon = t0 + Duration::from_secs(72 * 3600);
    loop {
        if tasks.is_empty() {
            match schedules.try_recv() {
                Ok(s) => {
                    fire(
                        &mut tasks,
                        &mut spawn,
                        &mut rng,
                        s,
                        &mut lost_follow_up,
                        &world,
                        stop_at,
                    );
                    continue;
                }
                Err(_) => break,
            }
        }
        if Instant::now() > horizon {
            world.note("VIOLATION the event's life did not settle within 72 hours");
            tasks.abort_all();
            break;
        }
        tokio::select! {
            biased;
            Some(s) = schedules.recv() => {
                fire(&mut tasks, &mut spawn, &mut rng, s, &mut lost_follow_up, &world, stop_at);
            }
            Some(joined) = tasks.join_next() => {
                let (d, ended) = joined.expect("a delivery never panics");
                invocations += 1;
                let retry = match &ended {
                    Ended::Killed => true,
                    Ended::Returned(Err(e)) => {
                        if matches!(e.told, Told::NotTold(_)) {
                            not_told = true;
                        }
                        true
                    }
                    Ended::Returned(Ok(o)) => {
                        if matches!(o.told, Told::NotTold(_)) {
                            not_told = true;
                        }
                        false
                    }
                };
                // Fresh starts are not delivered after the stop (see the module's docs).
                let fresh_start = d.action == Action::Apply && d.payload.get("follow").is_none();
                let retry_at = Instant::now() + Duration::from_secs(60 * u64::from(d.attempt));
                let retried = retry && d.attempt < 3 && !(fresh_start && retry_at >= stop_at);
                let is_stop = d.action == Action::Destroy;
                if retried {
                    spawn(&mut tasks, Delivery { at: retry_at, attempt: d.attempt + 1, ..d }, &mut rng);
                }
                if is_stop {
                    let left = stops.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) - 1;
                    // The stop failed, Slack was told, and nothing will try it again: it has ended,
                    // and the tier may take writes again until the next stop.
                    if matches!(ended, Ended::Returned(Err(_))) && left == 0 && schedules.is_empty() {
                        world.note("the stop has ended without destroying");
                        world.stop_ended(EVENT);
                    }
                }
            }
        }
    }
    world.settle_now();

    let mut violations = world.violations();
    if !lost_follow_up {
        check_reports(&world, &knobs, not_told, &mut violations);
        if !world.is_down(EVENT) {
            let failure_told = world
                .posts()
                .iter()
                .any(|p| p.at >= stop_at && p.text.contains("stop failed at stage"));
            if !failure_told && !not_told {
                violations.push(
                    "the stop was delivered and every follow-up ran, but the event is not down and Slack holds no failure of the stop".into(),
                );
            }
        }
    }
    let mut trace = world.trace();
    for v in violations.iter().skip(world.violations().len()) {
        trace.push(format!("end: VIOLATION {v}"));
    }
    SeedReport {
        seed,
        violations,
        trace,
        invocations,
    }
}

/// A follow-up fires: on time, late, twice, or (rarely) never.
fn fire(
    tasks: &mut JoinSet<(Delivery, Ended)>,
    spawn: &mut impl FnMut(&mut JoinSet<(Delivery, Ended)>, Delivery, &mut Rng),
    rng: &mut Rng,
    s: super::world::Schedule,
    lost: &mut bool,
    world: &World,
    stop_at: Instant,
) {
    if rng.chance(0.02) {
        world.note(format!("follow-up {} lost", s.name));
        *lost = true;
        return;
    }
    // A start handed over whole (no run yet) is a retry of the start: like Lambda's retries, none is
    // delivered after the stop (see the module's docs).
    if s.action == Action::Apply && s.payload.get("follow").is_none() && s.at >= stop_at {
        world.note(format!(
            "follow-up {} of a start not delivered after the stop",
            s.name
        ));
        return;
    }
    let times = if rng.chance(0.15) { 2 } else { 1 };
    for _ in 0..times {
        let late = if rng.chance(0.2) {
            rng.range(1, 900)
        } else {
            0
        };
        let at = s.at.max(Instant::now()) + Duration::from_secs(late);
        // A start handed over whole (no run yet) is a retry of the start: like Lambda's retries,
        // none is delivered after the stop (see the module's docs).
        if s.action == Action::Apply && s.payload.get("follow").is_none() && at >= stop_at {
            world.note(format!(
                "follow-up {} of a start not delivered after the stop",
                s.name
            ));
            continue;
        }
        spawn(
            tasks,
            Delivery {
                action: s.action,
                payload: s.payload.clone(),
                at,
                attempt: 1,
                follow_up: true,
            },
            rng,
        );
    }
}

/// Runs seeds `from..from + count`; the reports of those that broke an invariant.
pub fn run_seeds(from: u64, count: u64) -> (Vec<SeedReport>, usize) {
    let mut failed = Vec::new();
    let mut invocations = 0;
    for seed in from..from + count {
        let r = run_seed(seed);
        invocations += r.invocations;
        if !r.violations.is_empty() {
            failed.push(r);
        }
    }
    (failed, invocations)
}
