//! The end of a stop: the retired runner terminated, its claims given up, what is left tagged with the
//! event listed, and Slack told.

use tracing::warn;

use super::run::{Flow, Step, StepError};
use super::{FlowError, Outcome, Stage, Status};
use crate::clock::human;
use crate::run::RunId;

/// Terminates the retired runner (no run can start on it), checks for leftovers and reports; the
/// run's outcome once.
pub(super) async fn retired(
    flow: &Flow<'_>,
    iid: &str,
    run: Option<RunId>,
    note: String,
) -> Step<Outcome> {
    let deps = flow.deps;
    let terminate = |e| StepError {
        error: FlowError::new(Stage::Terminate, e),
        run: run.clone(),
    };
    deps.fleet
        .terminate_and_wait(iid, deps.config.runner.ready_timeout)
        .await
        .map_err(terminate)?;
    if let Err(e) = deps.records.release_runner(&flow.event).await {
        warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
    }
    let (leftovers, check) = check_leftovers(flow).await;
    let what = format!("{note}; runner `{iid}` terminated; {check}");
    let (icon, title, status) = if leftovers.is_empty() {
        (":white_check_mark:", "stop succeeded", Status::Destroyed)
    } else {
        let s = Status::DestroyedWithLeftovers;
        (":warning:", "stop finished with leftovers", s)
    };
    let took = human(flow.started.elapsed());
    let told = match &run {
        Some(run) => {
            let text = format!(
                "{icon} event-tier *{}*: {title} in {took}: {what} (run `{run}`)",
                flow.event
            );
            flow.report_run(run, &text).await
        }
        None => {
            flow.notify(&format!(
                "{icon} event-tier *{}*: {title} in {took}: {what}",
                flow.event
            ))
            .await
        }
    };
    if status == Status::Destroyed {
        flow.end_thread().await;
    }
    let mut o = flow.outcome(status, run, Some(iid.to_owned()), what, told);
    o.leftovers = leftovers;
    Ok(o)
}

pub(super) async fn already_down(flow: &Flow<'_>, why: &str) -> Outcome {
    if let Err(e) = flow.deps.records.release_runner(&flow.event).await {
        warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
    }
    let msg = format!("the event tier is already down: {why}");
    let took = human(flow.started.elapsed());
    // The last run was a destroy whose invocation ended before telling it: told here, once.
    if let Ok(Some(run)) = flow.deps.records.last_run(&flow.event).await
        && run.action() == crate::run::Action::Destroy
    {
        let text = format!(
            ":white_check_mark: event-tier *{}*: stop succeeded: the event tier is down: no resources in its state and no runner (run `{run}`)",
            flow.event
        );
        if flow.report_run(&run, &text).await == super::Told::Told {
            flow.end_thread().await;
            return flow.outcome(Status::AlreadyDown, Some(run), None, msg, super::Told::Told);
        }
    }
    let told = flow
        .notify(&format!(
            ":information_source: event-tier *{}*: stop: {msg}, checked in {took}",
            flow.event
        ))
        .await;
    flow.end_thread().await;
    flow.outcome(Status::AlreadyDown, None, None, msg, told)
}

/// What is still tagged with the event, and a sentence saying so.
pub(super) async fn check_leftovers(flow: &Flow<'_>) -> (Vec<String>, String) {
    let runner_left = match flow.deps.fleet.find(&flow.event).await {
        Ok(r) => r.map(|r| format!("runner {}", r.instance_id)),
        Err(e) => Some(format!("runner state unknown ({e})")),
    };
    match flow.deps.inventory.leftovers(&flow.event).await {
        Ok(mut arns) => {
            arns.extend(runner_left);
            let check = if arns.is_empty() {
                "nothing tagged with the event remains".to_owned()
            } else {
                format!("still tagged with the event: {}", arns.join(", "))
            };
            (arns, check)
        }
        Err(e) => {
            warn!(event_id = %flow.event, error = %e, "could not list what is left");
            let arns: Vec<String> = runner_left.into_iter().collect();
            (arns, format!("could not check for leftovers: {e}"))
        }
    }
}
