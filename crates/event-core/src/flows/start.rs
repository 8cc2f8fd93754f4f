//! event-start: validate → find or launch the runner → key → SSH → upload → init + apply → Slack.

use serde_json::Value;
use tracing::info;

use super::{
    Deps, Flow, FlowError, Followed, Invocation, Link, Outcome, Stage, Status, human, summary,
};
use crate::error::Error;
use crate::payload::{self, Purpose};
use crate::runner::Runner;
use crate::terraform::{Action, Started, new_run_id};

/// Runs event-start for one payload. Invalid input is refused before any AWS call (and so without
/// Slack, whose webhook is a secret: the function's error and its alarm carry it).
pub async fn run(
    deps: &Deps,
    payload: Value,
    invocation: impl Into<Invocation>,
) -> Result<Outcome, FlowError> {
    let req = payload::parse(payload, Purpose::Start, &deps.module.variables)?;
    let flow = Flow::new(deps, req.event_id.clone(), invocation.into(), "start");
    info!(event_id = %flow.event, follow = req.follow.is_some(), "start requested");
    match steps(&flow, &req).await {
        Ok(o) => Ok(o),
        Err((e, run_id)) => Err(flow.fail(e, run_id.as_deref()).await),
    }
}

type StepError = (FlowError, Option<String>);

async fn steps(flow: &Flow<'_>, req: &payload::Request) -> Result<Outcome, StepError> {
    let no_run = |e: FlowError| (e, None);
    let runner = match &req.follow {
        Some(_) => flow
            .deps
            .fleet
            .find(&flow.event)
            .await
            .map_err(|e| FlowError::new(Stage::Runner, e))
            .and_then(|r| r.ok_or_else(|| runner_gone(req)))
            .map_err(|e| (e, req.follow.as_ref().map(|f| f.run_id.clone())))?,
        None => flow.runner().await.map_err(no_run)?,
    };
    let mut link = flow.connect(&runner).await.map_err(no_run)?;

    let run_id = match &req.follow {
        Some(f) => f.run_id.clone(),
        None => {
            let ws = flow.workspace(&link);
            let run_id = new_run_id(Action::Apply);
            flow.prepare(&ws, &run_id, &req.vars)
                .await
                .map_err(no_run)?;
            match ws
                .start(Action::Apply, &run_id)
                .await
                .map_err(|e| (FlowError::new(Stage::Apply, e), None))?
            {
                Started::Started(id) => id,
                Started::Busy(other) => {
                    info!(event_id = %flow.event, run_id = %other, "a run is already in progress");
                    return Ok(flow.outcome(
                        Status::Busy,
                        Some(other.clone()),
                        Some(runner.instance_id.clone()),
                        format!("a Terraform run of this event is already in progress (run {other}); nothing was started"),
                    ));
                }
            }
        }
    };
    info!(event_id = %flow.event, run_id, instance_id = %runner.instance_id, "terraform apply running");
    complete(flow, &mut link, &runner, run_id).await
}

async fn complete(
    flow: &Flow<'_>,
    link: &mut Link,
    runner: &Runner,
    run_id: String,
) -> Result<Outcome, StepError> {
    let followed = flow
        .follow(link, &run_id, Action::Apply)
        .await
        .map_err(|e| (e, Some(run_id.clone())))?;
    let iid = Some(runner.instance_id.clone());
    match followed {
        // Not reported as the run's outcome (None): the follow-up reports that, once.
        Followed::LostContact { error, after } => {
            Err((flow.lost_contact(error, after, &run_id, false).await, None))
        }
        Followed::Pending => Ok(flow
            .pending(
                "terraform apply",
                serde_json::json!({ "run_id": run_id }),
                Some(run_id.clone()),
                iid,
                false,
            )
            .await),
        Followed::Finished {
            exit: 0,
            changes: false,
            ..
        } => {
            let msg = "the event tier is already up: nothing changed".to_owned();
            flow.notify_run_once(
                &run_id,
                &format!(
                    ":information_source: event-tier *{}*: start: {msg}, checked in {} (run `{run_id}`, runner `{}`)",
                    flow.event,
                    human(flow.started.elapsed()),
                    runner.instance_id
                ),
            )
            .await;
            Ok(flow.outcome(Status::AlreadyUp, Some(run_id), iid, msg))
        }
        Followed::Finished { exit: 0, tail, .. } => {
            let what = summary(&tail).unwrap_or_else(|| "Apply complete".into());
            flow.notify_run_once(
                &run_id,
                &format!(
                    ":white_check_mark: event-tier *{}*: start succeeded in {}: {what} (run `{run_id}`, runner `{}`)",
                    flow.event,
                    human(flow.started.elapsed()),
                    runner.instance_id
                ),
            )
            .await;
            Ok(flow.outcome(Status::Applied, Some(run_id), iid, what))
        }
        Followed::Finished {
            exit, stage, tail, ..
        } => Err((
            FlowError {
                stage: Stage::of_run(&stage, Action::Apply),
                error: Error::Terraform {
                    action: stage.clone(),
                    outcome: format!("exited {exit} (run {run_id})"),
                },
                tail: Some(tail),
            },
            Some(run_id),
        )),
    }
}

fn runner_gone(req: &payload::Request) -> FlowError {
    FlowError::new(
        Stage::Runner,
        Error::Runner {
            instance_id: "-".into(),
            reason: format!(
                "the event's runner is gone, so run {} ended without an outcome; start again to re-apply",
                req.follow.as_ref().map_or("?", |f| f.run_id.as_str())
            ),
        },
    )
}
