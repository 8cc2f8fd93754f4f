//! One flow's invocation, and the run API both flows use: launch a run of the flow's action on the
//! runner, and see it through to its end within the deadline (or hand it over to a follow-up).

use std::collections::BTreeMap;

use serde_json::Value;
use tracing::info;

use super::follow::Followed;
use super::link::Link;
use super::{Deps, FlowError, Invocation, Outcome, Stage, Status, Told};
use crate::clock::Instant;
use crate::error::{Error, InputError};
use crate::payload::{EventId, Request};
use crate::run::{Action, LaunchFailure, RunFiles, RunId, RunStage, Started};

/// One flow's invocation: the event, the deadline and the shared steps.
pub(crate) struct Flow<'a> {
    pub deps: &'a Deps,
    pub event: EventId,
    /// What this flow runs: apply (event-start) or destroy (event-stop).
    pub action: Action,
    pub deadline: super::Deadline,
    pub function_arn: Option<String>,
    pub started: Instant,
    /// This invocation's own token: the marks it writes in the state bucket hold it.
    pub token: String,
    pub vars: BTreeMap<String, Value>,
    /// Stop only: destroy even if the final migration did not succeed.
    pub force: bool,
    /// Start only: a dress rehearsal, carried into its follow-ups.
    pub rehearsal: Option<crate::payload::Rehearse>,
    /// The reports this invocation made (a mark holding its token is its own only once).
    pub reported: std::sync::Mutex<Vec<String>>,
    /// Why a post of this invocation failed, if one did: its result then says Slack was not told.
    pub missed: std::sync::Mutex<Option<String>>,
    /// The runner this invocation works with, once it has one (a field of its messages).
    pub runner: std::sync::Mutex<Option<String>>,
}

/// A step's failure, and the run whose outcome it is (reported once), if any.
pub(crate) struct StepError {
    pub error: FlowError,
    pub run: Option<RunId>,
}

impl From<FlowError> for StepError {
    fn from(error: FlowError) -> Self {
        StepError { error, run: None }
    }
}

impl StepError {
    pub fn of_run(error: FlowError, run: &RunId) -> Self {
        StepError {
            error,
            run: Some(run.clone()),
        }
    }
}

pub(crate) type Step<T> = Result<T, StepError>;

/// How a run ended.
#[derive(Debug)]
pub(crate) struct Finished {
    pub exit: i32,
    pub stage: RunStage,
    pub changes: bool,
    pub tail: String,
    /// Terraform's own time on the runner, when the runner said (`took_ms`).
    pub took: Option<std::time::Duration>,
    /// When it ended (Unix time, the runner's clock), when the runner said (`ended_ms`): readiness
    /// is bounded from there, across follow-ups.
    pub ended: Option<std::time::Duration>,
    /// Its stages and their times (`init`, `plan`, `apply` or `destroy`), when the runner said.
    pub stages: Vec<(String, std::time::Duration)>,
}

pub(crate) enum RunEnd {
    Finished(Finished),
    /// The run goes on past this invocation; a follow-up reports it.
    HandedOver(Outcome),
}

impl<'a> Flow<'a> {
    pub fn new(deps: &'a Deps, req: &Request, action: Action, invocation: Invocation) -> Self {
        // Every flow ends with a post; what the post needs is made while the flow works.
        deps.notifier.warm_up();
        Self {
            deps,
            event: req.event_id.clone(),
            action,
            deadline: invocation.deadline,
            function_arn: invocation.function_arn.filter(|a| !a.is_empty()),
            started: Instant::now(),
            token: format!(
                "{}-{:016x}",
                crate::clock::since_epoch().as_millis(),
                crate::run::next_suffix()
            ),
            vars: req.vars.clone(),
            force: req.force,
            rehearsal: req.rehearsal,
            reported: Default::default(),
            missed: Default::default(),
            runner: Default::default(),
        }
    }

    /// The run a follow-up payload names: one of this flow's action only.
    pub fn followed_run(&self, req: &Request) -> Result<Option<RunId>, InputError> {
        let Some(f) = &req.follow else {
            return Ok(None);
        };
        match RunId::parse(&f.run_id) {
            Some(run) if run.action() == self.action => Ok(Some(run)),
            Some(run) => Err(InputError::Field {
                field: "follow.run_id".into(),
                reason: format!(
                    "is a run of `{}`: event-{} follows only {} runs",
                    run.action(),
                    self.action.flow(),
                    self.action
                ),
            }),
            None => Err(InputError::Field {
                field: "follow.run_id".into(),
                reason: "must be a run id as the functions write it (apply-… or destroy-…)".into(),
            }),
        }
    }

    pub fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn outcome(
        &self,
        status: Status,
        run_id: Option<RunId>,
        instance_id: Option<String>,
        message: String,
        told: Told,
    ) -> Outcome {
        let told = self.unless_missed(told);
        Outcome {
            event_id: self.event.to_string(),
            status,
            run_id,
            instance_id,
            duration_ms: self.elapsed_ms(),
            message,
            leftovers: Vec::new(),
            follow_up: None,
            readiness: Vec::new(),
            rehearsal: Vec::new(),
            told,
        }
    }

    /// `told`, unless a post of this invocation failed: then the result says Slack was not told.
    pub fn unless_missed(&self, told: Told) -> Told {
        match (&told, self.missed.lock().expect("missed").clone()) {
            (Told::NotTold(_), _) | (_, None) => told,
            (_, Some(why)) => Told::NotTold(why),
        }
    }

    /// The number of resources in the event's Terraform state (0 without a state).
    pub async fn state_resources(&self) -> Result<usize, FlowError> {
        Ok(self
            .deps
            .records
            .state_resources(&self.event)
            .await
            .map_err(|e| FlowError::new(Stage::Runner, e))?
            .unwrap_or(0))
    }

    /// Hands the module, variables and backend to the runner and starts a run of this flow's action.
    pub async fn launch(&self, link: &Link) -> Result<Started, FlowError> {
        let run = RunId::new(self.action);
        let backend = self.deps.backend();
        let prepare = |e| FlowError::new(Stage::Prepare, e);
        let files = RunFiles {
            module: &self.deps.module,
            tfvars: crate::terraform::tfvars(&self.event, &self.vars, &self.deps.module, &backend),
            backend_hcl: backend.render(&self.event).map_err(prepare)?,
        };
        let started = link
            .host()
            .prepare_and_start(&run, &files)
            .await
            .map_err(|f| match f {
                LaunchFailure::Prepare(e) => prepare(e),
                LaunchFailure::Start(e) => {
                    FlowError::new(Stage::of_run(RunStage::Queued, self.action), e)
                }
            })?;
        if let Started::Started(id) = &started {
            info!(event_id = %self.event, run_id = %id, "terraform {} running", self.action);
            // Beside the state: a run that ends after its runner is gone can still be told (a
            // rehearsal's plan is told by the rehearsal, and is no run of the tier's).
            if self.action != Action::Plan
                && let Err(e) = self.deps.records.set_last_run(&self.event, id).await
            {
                tracing::warn!(event_id = %self.event, run_id = %id, error = %e, "cannot record the run");
            }
        }
        Ok(started)
    }

    /// Follows the run to its end, or hands it over to a follow-up when the deadline or a lost
    /// connection ends this invocation first.
    pub async fn see_through(&self, link: &mut Link, run: &RunId) -> Step<RunEnd> {
        match self.follow(link, run).await {
            Ok(Followed::Finished(f)) => Ok(RunEnd::Finished(f)),
            Ok(Followed::Pending) => {
                let what = format!("terraform {} (run {run}) still runs", run.action());
                let o = self
                    .hand_over(&what, Some(run), Some(link.instance_id.clone()))
                    .await?;
                Ok(RunEnd::HandedOver(o))
            }
            // Not the run's outcome: the follow-up reports that, once.
            Ok(Followed::LostContact { error, after }) => {
                Err(self.lost_contact(error, after, run).await.into())
            }
            Err(e) => Err(StepError::of_run(e, run)),
        }
    }

    /// The last run started on the runner, and whether it is in progress, as the runner answered
    /// when the link was made (in the same round trip as its readiness).
    pub fn last_run(&self, link: &Link) -> Option<crate::run::LastRun> {
        link.last.clone()
    }

    /// A followed run whose runner is gone: it ended without an outcome anyone can read.
    pub fn runner_gone(&self, run: &RunId) -> FlowError {
        let again = match self.action {
            Action::Apply => "start again to re-apply",
            Action::Destroy => "stop again to destroy",
            Action::Plan => "rehearse again",
        };
        FlowError::new(
            Stage::Runner,
            Error::Runner {
                instance_id: "-".into(),
                reason: format!(
                    "the event's runner is gone, so run {run} ended without an outcome; {again}"
                ),
            },
        )
    }

    /// The failure of a finished run, as its outcome.
    pub fn run_failed(&self, run: &RunId, f: Finished, note: &str) -> StepError {
        StepError::of_run(
            FlowError {
                stage: Stage::of_run(f.stage, run.action()),
                error: Error::Terraform {
                    action: f.stage.to_string(),
                    outcome: format!("exited {} (run {run}){note}", f.exit),
                },
                tail: Some(f.tail),
                told: Told::Nothing,
            },
            run,
        )
    }
}

/// Bugs the flows had, which the simulation's own tests bring back one at a time to show that it
/// finds them. Only the `test-util` feature can bring one back; otherwise none is ever injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Defect {
    /// A stop that meets a running apply answers `busy` and does nothing.
    SilentBusyStop,
    /// The final-migration record outlives a failed stop, so the next stop reuses that load.
    FinalMigrationOutlivesTheStop,
}

#[cfg(feature = "test-util")]
thread_local! {
    static DEFECT: std::cell::Cell<Option<Defect>> = const { std::cell::Cell::new(None) };
}

/// Brings `defect` back in this thread (the simulation's tests; test-util only).
#[cfg(feature = "test-util")]
pub fn inject(defect: Option<Defect>) {
    DEFECT.with(|c| c.set(defect));
}

pub(crate) fn injected(defect: Defect) -> bool {
    #[cfg(feature = "test-util")]
    return DEFECT.with(|c| c.get() == Some(defect));
    #[cfg(not(feature = "test-util"))]
    {
        let _ = defect;
        false
    }
}
