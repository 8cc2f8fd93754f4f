//! event-stop: validate → find the runner (or launch a fresh one) → SSH → destroy → terminate the
//! runner and wait → Slack.

use serde_json::Value;
use tracing::{info, warn};

use super::{Deadline, Deps, Flow, FlowError, Followed, Outcome, Stage, Status, human, summary};
use crate::error::Error;
use crate::payload::{self, Purpose};
use crate::runner::Runner;
use crate::terraform::{Action, Started, Workspace, new_run_id};

/// Runs event-stop for one payload. Invalid input is refused before any AWS call.
pub async fn run(deps: &Deps, payload: Value, deadline: Deadline) -> Result<Outcome, FlowError> {
    let req = payload::parse(payload, Purpose::Stop, &deps.module.variables)?;
    let flow = Flow::new(deps, req.event_id.clone(), deadline, "stop");
    info!(event_id = %flow.event, follow = req.follow.is_some(), force = req.force, "stop requested");
    match steps(&flow, &req).await {
        Ok(o) => Ok(o),
        Err((e, run_id)) => Err(flow.fail(e, run_id.as_deref()).await),
    }
}

type StepError = (FlowError, Option<String>);

async fn steps(flow: &Flow<'_>, req: &payload::Request) -> Result<Outcome, StepError> {
    let no_run = |e: FlowError| (e, None);
    let deps = flow.deps;
    let existing = deps
        .fleet
        .find(&flow.event)
        .await
        .map_err(|e| no_run(FlowError::new(Stage::Runner, e)))?;

    if let Some(f) = &req.follow {
        let runner = existing.ok_or_else(|| {
            (
                FlowError::new(
                    Stage::Runner,
                    Error::Runner {
                        instance_id: "-".into(),
                        reason: format!(
                            "the event's runner is gone, so run {} ended without an outcome; stop again to destroy",
                            f.run_id
                        ),
                    },
                ),
                Some(f.run_id.clone()),
            )
        })?;
        let session = flow.connect(&runner).await.map_err(no_run)?;
        let ws = Workspace::new(session.as_ref(), &deps.config.runner.workdir, &flow.event);
        return complete(flow, &ws, &runner, f.run_id.clone()).await;
    }

    let resources = deps
        .records
        .state_resources(&flow.event)
        .await
        .map_err(|e| no_run(FlowError::new(Stage::Runner, e)))?;
    if existing.is_none() && resources.unwrap_or(0) == 0 {
        if let Err(e) = deps.records.release_runner(&flow.event).await {
            warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
        }
        let msg =
            "the event tier is already down: no resources in its state and no runner".to_owned();
        flow.notify(&format!(
            ":information_source: event-tier *{}*: stop: {msg}",
            flow.event
        ))
        .await;
        return Ok(flow.outcome(Status::AlreadyDown, None, None, msg));
    }

    let runner = match existing {
        Some(r) => r,
        None => flow.runner().await.map_err(no_run)?,
    };
    let session = flow.connect(&runner).await.map_err(no_run)?;
    let ws = Workspace::new(session.as_ref(), &deps.config.runner.workdir, &flow.event);
    let run_id = new_run_id(Action::Destroy);
    flow.prepare(&ws, &run_id, &req.vars)
        .await
        .map_err(no_run)?;
    match ws
        .start(Action::Destroy, &run_id)
        .await
        .map_err(|e| no_run(FlowError::new(Stage::Destroy, e)))?
    {
        Started::Started(id) => {
            info!(event_id = %flow.event, run_id = %id, instance_id = %runner.instance_id, "terraform destroy running");
            complete(flow, &ws, &runner, id).await
        }
        Started::Busy(other) => Ok(flow.outcome(
            Status::Busy,
            Some(other.clone()),
            Some(runner.instance_id.clone()),
            format!("a Terraform run of this event is already in progress (run {other}); stop again when it ends"),
        )),
    }
}

async fn complete(
    flow: &Flow<'_>,
    ws: &Workspace<'_>,
    runner: &Runner,
    run_id: String,
) -> Result<Outcome, StepError> {
    let deps = flow.deps;
    let followed = flow
        .follow(ws, &run_id, Action::Destroy)
        .await
        .map_err(|e| (e, Some(run_id.clone())))?;
    let iid = Some(runner.instance_id.clone());
    match followed {
        Followed::Pending => Ok(flow.outcome(
            Status::InProgress,
            Some(run_id.clone()),
            iid,
            format!("terraform destroy still runs on the runner; a follow-up with run {run_id} reports it"),
        )),
        Followed::Finished { exit: 0, tail, .. } => {
            deps.fleet
                .terminate_and_wait(&runner.instance_id, deps.config.runner.ready_timeout)
                .await
                .map_err(|e| (FlowError::new(Stage::Terminate, e), Some(run_id.clone())))?;
            if let Err(e) = deps.records.release_runner(&flow.event).await {
                warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
            }
            let what = summary(&tail).unwrap_or_else(|| "Destroy complete".into());
            flow.notify_run_once(
                &run_id,
                &format!(
                    ":white_check_mark: event-tier *{}*: stop succeeded in {}: {what}; runner `{}` terminated (run `{run_id}`)",
                    flow.event,
                    human(flow.started.elapsed()),
                    runner.instance_id
                ),
            )
            .await;
            Ok(flow.outcome(
                Status::Destroyed,
                Some(run_id),
                iid,
                format!("{what}; runner terminated"),
            ))
        }
        Followed::Finished { exit, stage, tail, .. } => Err((
            FlowError {
                stage: Stage::of_run(&stage, Action::Destroy),
                error: Error::Terraform {
                    action: stage.clone(),
                    outcome: format!(
                        "exited {exit} (run {run_id}); the runner {} is kept for the retry",
                        runner.instance_id
                    ),
                },
                tail: Some(tail),
            },
            Some(run_id),
        )),
    }
}
