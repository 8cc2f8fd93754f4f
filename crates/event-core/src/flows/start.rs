//! event-start: validate → find or launch the runner → key → SSH → apply (or join the apply in
//! progress) → follow it → Slack, once per run.

use tracing::info;

use super::link::Link;
use super::ready::Ready;
use super::run::{Finished, Flow, RunEnd, Step, StepError};
use super::{Deps, FlowError, Invocation, Outcome, Stage, Status};
use crate::clock::human;
use crate::error::Error;
use crate::payload::{self, Input, Purpose};
use crate::run::{Action, LastRun, RunId, Started};
use crate::runner::Runner;

/// Runs event-start for one payload. Invalid input is refused before any AWS call (and so without
/// Slack, whose webhook is a secret: the function's error and its alarm carry it).
pub async fn run(
    deps: &Deps,
    input: impl Into<Input>,
    invocation: impl Into<Invocation>,
) -> Result<Outcome, FlowError> {
    let req = payload::parse_input(input.into(), Purpose::Start, &deps.module)?;
    // A rehearsal, or the follow-up of a rehearsal's plan.
    let rehearsal = req.rehearsal.is_some()
        || req
            .follow
            .as_ref()
            .is_some_and(|f| f.run_id.starts_with("plan-"));
    let action = if rehearsal {
        Action::Plan
    } else {
        Action::Apply
    };
    let flow = Flow::new(deps, &req, action, invocation.into());
    let follow = flow.followed_run(&req)?;
    info!(event_id = %flow.event, follow = follow.is_some(), rehearsal, "start requested");
    let done = if rehearsal {
        super::rehearse::steps(&flow, follow).await
    } else {
        steps(&flow, follow).await
    };
    match done {
        Ok(o) => Ok(o),
        Err(e) => flow.fail(e).await,
    }
}

async fn steps(flow: &Flow<'_>, follow: Option<RunId>) -> Step<Outcome> {
    if let Some(run) = follow {
        let Some(runner) = flow.find_runner().await? else {
            return Err(StepError::of_run(flow.runner_gone(&run), &run));
        };
        let mut link = flow.connect(&runner).await?;
        return applied(flow, &mut link, &runner, run, true).await;
    }
    let runner = flow.acquire().await?;
    let mut link = flow.connect(&runner).await?;
    let last = flow.last_run(&link);
    if let Some(LastRun {
        run,
        running: false,
    }) = &last
    {
        tell_ended(flow, &mut link, &runner, run.clone()).await;
    }
    let run = match flow.launch(&link).await? {
        Started::Started(run) => {
            // A run still running when the link was made has ended since (the lock was free): its
            // outcome is told here, once, before this start follows its own (simulation seed 4242:
            // its invocation was killed, and nobody else would).
            if let Some(LastRun {
                run: ended,
                running: true,
            }) = last
            {
                tell_ended(flow, &mut link, &runner, ended).await;
            }
            run
        }
        // A start delivered twice, or retried while its apply runs: one apply, followed by both.
        Started::Busy(other) if other.action() == Action::Apply => {
            info!(event_id = %flow.event, run_id = %other, "joining the apply in progress");
            other
        }
        Started::Busy(other) if other.action() == Action::Plan => {
            return Err(FlowError::new(
                Stage::Runner,
                Error::Runner {
                    instance_id: runner.instance_id.clone(),
                    reason: format!("is running the event's rehearsal (terraform plan, run {other}); start again when it has ended (about a minute)"),
                },
            )
            .into());
        }
        Started::Busy(other) => return Ok(destroy_in_progress(flow, &runner, other).await),
        Started::Retired => {
            return Err(FlowError::new(
                Stage::Runner,
                Error::Runner {
                    instance_id: runner.instance_id.clone(),
                    reason: "was retired by a stop of this event and is being terminated; start again once the stop has ended".into(),
                },
            )
            .into());
        }
    };
    applied(flow, &mut link, &runner, run, true).await
}

/// Sees the apply `run` through and reports it; `ready`: its success waits for the tier's readiness.
async fn applied(
    flow: &Flow<'_>,
    link: &mut Link,
    runner: &Runner,
    run: RunId,
    ready: bool,
) -> Step<Outcome> {
    match flow.see_through(link, &run).await? {
        RunEnd::HandedOver(o) => Ok(o),
        RunEnd::Finished(f) => report_apply(flow, &runner.instance_id, run, f, ready).await,
    }
}

/// An apply that ended unreported (its invocations could not hand it over) is told, once: the
/// next start or stop on its runner finds it. Its readiness is the next run's to check.
pub(super) async fn tell_ended(flow: &Flow<'_>, link: &mut Link, runner: &Runner, run: RunId) {
    let told = match run.action() {
        Action::Apply => applied(flow, link, runner, run.clone(), false)
            .await
            .map(drop),
        // A rehearsal's plan is the rehearsal's to tell (it changed nothing).
        Action::Plan => Ok(()),
        // A destroy that ended with the tier still up failed: told as such.
        Action::Destroy => match flow.see_through(link, &run).await {
            Ok(super::run::RunEnd::Finished(f)) if f.exit != 0 => Err(flow.run_failed(&run, f, "")),
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        },
    };
    if let Err(e) = told {
        let text = flow.failure_text(&e.error, Some(&run));
        let offer = super::report::Offer::retry(run.action());
        flow.report_run_offering(&run, &text, offer).await;
    }
}

/// Reports a finished apply, once across invocations (event-stop reports an apply it waited out).
/// With `ready`, a successful apply is reported once the tier is ready (or fails at stage `ready`).
pub(super) async fn report_apply(
    flow: &Flow<'_>,
    iid: &str,
    run: RunId,
    f: Finished,
    ready: bool,
) -> Step<Outcome> {
    if f.exit != 0 {
        return Err(flow.run_failed(&run, f, ""));
    }
    let checked = if ready {
        match flow.await_ready(&run, iid, f.ended).await? {
            Ready::HandedOver(o) => return Ok(o),
            Ready::Passed { seen, opening } => Some((seen, opening)),
        }
    } else {
        None
    };
    let (ready_said, checks) = match &checked {
        Some((seen, _)) if seen.is_empty() => (
            ", ready (the module declares no readiness checks)".to_owned(),
            String::new(),
        ),
        Some((seen, opening)) => (
            format!(", ready: {} checks passed", seen.len()),
            super::ready::told(seen, *opening),
        ),
        None => (String::new(), String::new()),
    };
    let took = human(flow.started.elapsed());
    let (status, message, text) = if f.changes {
        let what = super::summary(&f.tail).unwrap_or_else(|| "Apply complete".into());
        let terraform = match flow.terraform_time(&run, f.took, &f.stages).await {
            Some(t) => format!("; {t}"),
            None => String::new(),
        };
        let lead = match flow.expected(&run).await {
            Some(e) => flow.lead_time(&run, &e).unwrap_or_default(),
            None => String::new(),
        };
        let text = format!(
            ":white_check_mark: event-tier *{}*: start succeeded in {took}{ready_said}: {what}{terraform} (run `{run}`, runner `{iid}`){lead}{checks}",
            flow.event
        );
        (Status::Applied, what, text)
    } else {
        let msg = "the event tier is already up: nothing changed".to_owned();
        let text = format!(
            ":information_source: event-tier *{}*: start: {msg}, checked in {took}{ready_said} (run `{run}`, runner `{iid}`){checks}",
            flow.event
        );
        (Status::AlreadyUp, msg, text)
    };
    let told = flow
        .report_run_offering(&run, &text, super::report::Offer::KeepOrStop)
        .await;
    let mut o = flow.outcome(status, Some(run), Some(iid.to_owned()), message, told);
    o.readiness = checked.map(|(seen, _)| seen).unwrap_or_default();
    Ok(o)
}

/// A start that meets the event's destroy (a late retry after the stop): it must not re-create the
/// tier under the destroy. Slack hears of it once per destroy run.
async fn destroy_in_progress(flow: &Flow<'_>, runner: &Runner, other: RunId) -> Outcome {
    let msg = format!("the event tier is being destroyed (run {other}); nothing was started");
    let told = flow
        .notify_once(
            &format!("{other}-start-refused"),
            &format!(
                ":information_source: event-tier *{}*: start refused: {msg}. Start again once the stop has ended to bring the tier back",
                flow.event
            ),
        )
        .await;
    flow.outcome(
        Status::Busy,
        Some(other),
        Some(runner.instance_id.clone()),
        msg,
        told,
    )
}
