//! event-stop: validate → final DMS migration (must succeed, unless forced) → find the runner (or
//! launch a fresh one) → SSH → destroy → terminate the runner and wait → check nothing tagged with
//! the event is left → Slack.

use serde_json::Value;
use tracing::{info, warn};

use super::{
    Deps, Flow, FlowError, Followed, Invocation, Link, Outcome, Stage, Status, human, summary,
};
use crate::error::Error;
use crate::migration::{Progress, task_id};
use crate::payload::{self, Purpose};
use crate::runner::Runner;
use crate::terraform::{Action, Started, new_run_id};

/// Runs event-stop for one payload. Invalid input is refused before any AWS call.
pub async fn run(
    deps: &Deps,
    payload: Value,
    invocation: impl Into<Invocation>,
) -> Result<Outcome, FlowError> {
    let req = payload::parse(payload, Purpose::Stop, &deps.module.variables)?;
    let flow = Flow::new(deps, req.event_id.clone(), invocation.into(), "stop");
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
        let mut link = flow.connect(&runner).await.map_err(no_run)?;
        return complete(flow, &mut link, &runner, f.run_id.clone(), None).await;
    }

    let resources = deps
        .records
        .state_resources(&flow.event)
        .await
        .map_err(|e| no_run(FlowError::new(Stage::Runner, e)))?
        .unwrap_or(0);
    if existing.is_none() && resources == 0 {
        if let Err(e) = deps.records.release_runner(&flow.event).await {
            warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
        }
        let msg =
            "the event tier is already down: no resources in its state and no runner".to_owned();
        flow.notify(&format!(
            ":information_source: event-tier *{}*: stop: {msg}, checked in {}",
            flow.event,
            human(flow.started.elapsed())
        ))
        .await;
        return Ok(flow.outcome(Status::AlreadyDown, None, None, msg));
    }

    // The event's data first: nothing is destroyed before it reached the operations database.
    let migrated = if resources > 0 {
        match final_migration(flow, req.force).await.map_err(no_run)? {
            Some(note) => Some(note),
            None => {
                return Ok(flow
                    .pending("the final migration", Value::Null, None, None, req.force)
                    .await);
            }
        }
    } else {
        None
    };

    let runner = match existing {
        Some(r) => r,
        None => flow.runner().await.map_err(no_run)?,
    };
    let mut link = flow.connect(&runner).await.map_err(no_run)?;
    let ws = flow.workspace(&link);
    let run_id = new_run_id(Action::Destroy);
    flow.prepare(&ws, &run_id, &req.vars)
        .await
        .map_err(no_run)?;
    let started = ws
        .start(Action::Destroy, &run_id)
        .await
        .map_err(|e| no_run(FlowError::new(Stage::Destroy, e)))?;
    drop(ws);
    match started {
        Started::Started(id) => {
            info!(event_id = %flow.event, run_id = %id, instance_id = %runner.instance_id, "terraform destroy running");
            complete(flow, &mut link, &runner, id, migrated).await
        }
        Started::Busy(other) => Ok(flow.outcome(
            Status::Busy,
            Some(other.clone()),
            Some(runner.instance_id.clone()),
            format!(
                "a Terraform run of this event is already in progress (run {other}); stop again when it ends"
            ),
        )),
    }
}

/// Runs the final migration, or follows the one an earlier invocation started. Ok(Some(note)) when
/// the tier may be destroyed, Ok(None) when the migration outlives this invocation.
async fn final_migration(flow: &Flow<'_>, force: bool) -> Result<Option<String>, FlowError> {
    if !flow.deps.config.final_migration {
        return Ok(Some(
            "no final migration (EVENT_TIER_FINAL_MIGRATION=off)".to_owned(),
        ));
    }
    match migrate(flow).await {
        Ok(done) => Ok(done),
        Err(e) if force => {
            warn!(event_id = %flow.event, error = %e, "final migration not confirmed; forced stop destroys anyway");
            flow.notify(&format!(
                ":warning: event-tier *{}*: stop FORCED: the final migration was not confirmed ({e}); destroying the event tier anyway. The RDS final snapshot is kept.",
                flow.event
            ))
            .await;
            Ok(Some(format!("final migration NOT confirmed (forced): {e}")))
        }
        Err(e) => Err(FlowError::new(
            Stage::Migrate,
            Error::Migration(format!(
                "{e}; nothing was destroyed: stop again to retry, or with \"force\": true to destroy without it"
            )),
        )),
    }
}

async fn migrate(flow: &Flow<'_>) -> Result<Option<String>, String> {
    let deps = flow.deps;
    let cfg = &deps.config;
    let find = || async {
        deps.migrations
            .find(&flow.event)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!(
                    "no replication task {} found, so the event's data cannot be confirmed in the operations database",
                    task_id(&flow.event)
                )
            })
    };
    let task = find().await?;
    let started = deps
        .records
        .final_migration(&flow.event)
        .await
        .map_err(|e| e.to_string())?;
    if started.as_deref() != Some(task.arn.as_str()) {
        // An hourly load may be running: ours starts when it has ended.
        while find().await?.progress() == Progress::Running {
            if !flow
                .deadline
                .allows(cfg.deadline_margin + cfg.poll_interval)
            {
                return Ok(None);
            }
            tokio::time::sleep(cfg.poll_interval).await;
        }
        let task = find().await?;
        deps.migrations
            .start_load(&task)
            .await
            .map_err(|e| e.to_string())?;
        deps.records
            .set_final_migration(&flow.event, Some(&task.arn))
            .await
            .map_err(|e| e.to_string())?;
        info!(event_id = %flow.event, task = %task.arn, reload = task.has_run, "final migration started");
    }
    loop {
        let t = find().await?;
        match t.progress() {
            Progress::Succeeded => {
                info!(event_id = %flow.event, task = %t.arn, "final migration finished");
                return Ok(Some(format!(
                    "final migration finished ({}% loaded)",
                    t.full_load_percent.unwrap_or(100)
                )));
            }
            Progress::Failed(reason) => {
                // A retry starts a new reload.
                if let Err(e) = deps.records.set_final_migration(&flow.event, None).await {
                    warn!(event_id = %flow.event, error = %e, "could not clear the final migration record");
                }
                return Err(format!(
                    "replication task {} failed: {reason}",
                    task_id(&flow.event)
                ));
            }
            Progress::Running | Progress::Idle(_) => {}
        }
        if !flow
            .deadline
            .allows(cfg.deadline_margin + cfg.poll_interval)
        {
            return Ok(None);
        }
        tokio::time::sleep(cfg.poll_interval).await;
    }
}

async fn complete(
    flow: &Flow<'_>,
    link: &mut Link,
    runner: &Runner,
    run_id: String,
    migrated: Option<String>,
) -> Result<Outcome, StepError> {
    let deps = flow.deps;
    let followed = flow
        .follow(link, &run_id, Action::Destroy)
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
                "terraform destroy",
                serde_json::json!({ "run_id": run_id }),
                Some(run_id.clone()),
                iid,
                false,
            )
            .await),
        Followed::Finished { exit: 0, tail, .. } => {
            deps.fleet
                .terminate_and_wait(&runner.instance_id, deps.config.runner.ready_timeout)
                .await
                .map_err(|e| (FlowError::new(Stage::Terminate, e), Some(run_id.clone())))?;
            if let Err(e) = deps.records.release_runner(&flow.event).await {
                warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
            }
            if let Err(e) = deps.records.set_final_migration(&flow.event, None).await {
                warn!(event_id = %flow.event, error = %e, "could not clear the final migration record");
            }
            let destroyed = summary(&tail).unwrap_or_else(|| "Destroy complete".into());
            let (leftovers, check) = check_leftovers(flow).await;
            let mut what = String::new();
            if let Some(m) = &migrated {
                what.push_str(m);
                what.push_str("; ");
            }
            what.push_str(&format!(
                "{destroyed}; runner `{}` terminated; {check}",
                runner.instance_id
            ));
            let (icon, title, status) = if leftovers.is_empty() {
                (":white_check_mark:", "stop succeeded", Status::Destroyed)
            } else {
                (
                    ":warning:",
                    "stop finished with leftovers",
                    Status::DestroyedWithLeftovers,
                )
            };
            flow.notify_run_once(
                &run_id,
                &format!(
                    "{icon} event-tier *{}*: {title} in {}: {what} (run `{run_id}`)",
                    flow.event,
                    human(flow.started.elapsed()),
                ),
            )
            .await;
            let mut o = flow.outcome(status, Some(run_id), iid, what);
            o.leftovers = leftovers;
            Ok(o)
        }
        Followed::Finished {
            exit, stage, tail, ..
        } => Err((
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

/// What is still tagged with the event, and a sentence saying so.
async fn check_leftovers(flow: &Flow<'_>) -> (Vec<String>, String) {
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
