//! event-stop: validate → join the destroy in progress, or wait out an apply → final DMS migration
//! (must succeed, unless forced) → destroy → retire and terminate the runner → check nothing tagged
//! with the event is left → Slack, once per run.

use tracing::info;

use super::final_load::{Migrated, final_migration, forget_final_migration};
use super::follow::Followed;
use super::link::Link;
use super::retire::{already_down, retired};
use super::run::{Defect, Flow, RunEnd, Step, StepError, injected};
use super::{Deps, FlowError, Invocation, Outcome, Stage, Status};
use crate::error::Error;
use crate::payload::{self, Input, Purpose};
use crate::run::{Action, LastRun, Retire, RunId, Started};
use crate::runner::Runner;

/// Runs event-stop for one payload. Invalid input is refused before any AWS call.
pub async fn run(
    deps: &Deps,
    input: impl Into<Input>,
    invocation: impl Into<Invocation>,
) -> Result<Outcome, FlowError> {
    let req = payload::parse_input(input.into(), Purpose::Stop, &deps.module)?;
    let flow = Flow::new(deps, &req, Action::Destroy, invocation.into());
    let follow = flow.followed_run(&req)?;
    info!(event_id = %flow.event, follow = follow.is_some(), force = req.force, "stop requested");
    match steps(&flow, follow).await {
        Ok(o) => Ok(o),
        Err(e) => {
            // A failed stop leaves the tier up: the next stop must load its data again.
            if !injected(Defect::FinalMigrationOutlivesTheStop) {
                forget_final_migration(&flow).await;
            }
            flow.fail(e).await
        }
    }
}

async fn steps(flow: &Flow<'_>, follow: Option<RunId>) -> Step<Outcome> {
    // A fresh stop first asks whether people moved the end (a follow-up continues a destroy).
    if follow.is_none()
        && let Some(o) = super::deferral::deferred(flow).await?
    {
        return Ok(o);
    }
    if let Some(run) = follow {
        let Some(runner) = flow.find_runner().await? else {
            return gone(flow, run).await;
        };
        let mut link = flow.connect(&runner).await?;
        return destroyed(flow, &mut link, &runner, run, None).await;
    }
    // Another invocation of this stop can change the ground under this one (take the final load,
    // destroy, terminate): then the stop looks again, a bounded number of times.
    for _ in 0..3 {
        if let Some(o) = once(flow).await? {
            return Ok(o);
        }
    }
    Err(FlowError::new(
        Stage::Destroy,
        Error::Terraform {
            action: "destroy".into(),
            outcome: "was not started: other invocations of this stop changed the event three times while this one looked; stop again".into(),
        },
    )
    .into())
}

/// One look at the event and what follows from it; None when the stop must look again.
async fn once(flow: &Flow<'_>) -> Step<Option<Outcome>> {
    let existing = flow.find_runner().await?;
    let resources = flow.state_resources().await?;
    if existing.is_none() && resources == 0 {
        let o = already_down(flow, "no resources in its state and no runner").await;
        return Ok(Some(o));
    }
    let runner = match existing {
        Some(r) => r,
        None => flow.acquire().await?,
    };
    let mut link = flow.connect(&runner).await?;
    let last = flow.last_run(&link);
    match last {
        // The destroy of a stop delivered earlier: joined, not started again. One that ended and
        // left the tier down is finished here (its invocation could not hand it over).
        Some(LastRun { run, running })
            if run.action() == Action::Destroy && (running || resources == 0) =>
        {
            return destroyed(flow, &mut link, &runner, run, None)
                .await
                .map(Some);
        }
        Some(LastRun { run, running: true }) if injected(Defect::SilentBusyStop) => {
            let msg = format!("a Terraform run of this event is already in progress (run {run})");
            let o = flow.outcome(Status::Busy, Some(run), None, msg, super::Told::Nothing);
            return Ok(Some(o));
        }
        Some(LastRun { run, running: true }) => {
            if let Some(o) = wait_out(flow, &mut link, &runner, &run).await? {
                return Ok(Some(o));
            }
        }
        Some(LastRun {
            run,
            running: false,
        }) => {
            super::start::tell_ended(flow, &mut link, &runner, run).await;
        }
        None => {}
    }
    let migrated = if resources > 0 || flow.state_resources().await? > 0 {
        match final_migration(flow).await? {
            Migrated::Done(note) => Some(note),
            Migrated::Pending => {
                return Ok(Some(
                    flow.hand_over("the final migration still runs", None, None)
                        .await?,
                ));
            }
            Migrated::Again => return Ok(None),
        }
    } else {
        None
    };
    match flow.launch(&link).await? {
        Started::Started(run) => destroyed(flow, &mut link, &runner, run, migrated)
            .await
            .map(Some),
        Started::Busy(run) if run.action() == Action::Destroy => {
            destroyed(flow, &mut link, &runner, run, None)
                .await
                .map(Some)
        }
        // An apply started since the look: waited out, then the stop looks again.
        Started::Busy(apply) => wait_out(flow, &mut link, &runner, &apply).await,
        // A stop destroyed the tier and retired the runner, and could not terminate it.
        Started::Retired => {
            let note = "the event tier was destroyed by an earlier stop".to_owned();
            retired(flow, &runner.instance_id, None, note)
                .await
                .map(Some)
        }
    }
}

/// A follow-up of a destroy whose runner is gone: the tier is down (its stop terminated the runner
/// after the destroy, and the outcome is told here if nobody did), or the runner died mid-run.
async fn gone(flow: &Flow<'_>, run: RunId) -> Step<Outcome> {
    if flow.state_resources().await? > 0 {
        return Err(StepError::of_run(flow.runner_gone(&run), &run));
    }
    let msg = "the event tier is down: its state is empty and its runner gone".to_owned();
    let text = format!(
        ":white_check_mark: event-tier *{}*: stop succeeded: {msg} (run `{run}`)",
        flow.event
    );
    let told = flow.report_run(&run, &text).await;
    Ok(flow.outcome(Status::AlreadyDown, Some(run), None, msg, told))
}

/// Waits for an apply in progress (a late or retried start) to end before the stop goes on; when it
/// outlives this invocation, the stop is handed over to a follow-up that tries again, and Slack
/// hears once that the stop waits.
async fn wait_out(
    flow: &Flow<'_>,
    link: &mut Link,
    runner: &Runner,
    apply: &RunId,
) -> Step<Option<Outcome>> {
    info!(event_id = %flow.event, run_id = %apply, "an apply is in progress: the stop waits for it");
    match flow.follow(link, apply).await {
        // Told here, once: the start's follow-up may find the runner gone by the time it comes.
        // A rehearsal's plan changed nothing: nothing to tell.
        Ok(Followed::Finished(_)) if apply.action() == Action::Plan => return Ok(None),
        Ok(Followed::Finished(f)) => {
            if let Err(e) = super::start::report_apply(
                flow,
                runner.instance_id.as_str(),
                apply.clone(),
                f,
                false,
            )
            .await
            {
                let text = flow.failure_text(&e.error, Some(apply));
                let offer = super::report::Offer::retry(apply.action());
                flow.report_run_offering(apply, &text, offer).await;
            }
            return Ok(None);
        }
        // Lost or unknown to the runner: its lock is free, and the start's follow-up reports it.
        Err(_) => return Ok(None),
        Ok(Followed::Pending | Followed::LostContact { .. }) => {}
    }
    let mut o = flow
        .hand_over(
            &format!("terraform apply (run {apply}), which the stop waits for, still runs"),
            None,
            Some(runner.instance_id.clone()),
        )
        .await?;
    o.told = flow
        .notify_once(
            &format!("{apply}-stop-waits"),
            &format!(
                ":hourglass: event-tier *{}*: stop waits for terraform apply run `{apply}` to end, then migrates and destroys ({})",
                flow.event, o.message
            ),
        )
        .await;
    Ok(Some(o))
}

/// Follows the destroy to its end; then the runner is retired (no run can start on it any more),
/// terminated and checked for leftovers.
async fn destroyed(
    flow: &Flow<'_>,
    link: &mut Link,
    runner: &Runner,
    run: RunId,
    migrated: Option<String>,
) -> Step<Outcome> {
    let f = match flow.see_through(link, &run).await? {
        RunEnd::HandedOver(o) => return Ok(o),
        RunEnd::Finished(f) => f,
    };
    let iid = runner.instance_id.clone();
    if f.exit != 0 {
        let note = format!("; the runner {iid} is kept for the retry");
        return Err(flow.run_failed(&run, f, &note));
    }
    let terminate = |e| StepError::of_run(FlowError::new(Stage::Terminate, e), &run);
    match link.host().retire().await {
        Ok(Retire::Retired) => {}
        Ok(Retire::Busy(other)) => {
            return Err(terminate(Error::Runner {
                instance_id: iid,
                reason: format!(
                    "run {other} started on it after the destroy, so it is kept; stop again when that run has ended"
                ),
            }));
        }
        // Unreachable: terminated already (by a duplicate of this stop), or not (then it fails).
        Err(e) => {
            let live = flow.find_runner().await.map_err(|e| terminate(e.error))?;
            if live.is_some_and(|r| r.instance_id == iid) {
                return Err(terminate(e));
            }
        }
    }
    let destroyed = super::summary(&f.tail).unwrap_or_else(|| "Destroy complete".into());
    let terraform = match flow.terraform_time(&run, f.took, &f.stages).await {
        Some(t) => format!("; {t}"),
        None => String::new(),
    };
    let note = format!(
        "{}{destroyed}{terraform}",
        migrated.map(|m| m + "; ").unwrap_or_default()
    );
    retired(flow, &iid, Some(run), note).await
}
