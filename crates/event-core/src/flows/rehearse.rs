//! The dress rehearsal ([`crate::rehearsal`]) as event-start runs it: find or launch the event's
//! runner → `terraform plan` there (a detached run of its own, followed like an apply, handed to a
//! follow-up when it outlives the function) → read the plan → the account's checks → terminate the
//! runner when the tier is not up → check that nothing is left → go or no-go to Slack, once.

use tracing::{info, warn};

use super::run::{Finished, Flow, RunEnd, Step, StepError};
use super::{FlowError, Outcome, Stage, Status};
use crate::error::Error;
use crate::rehearsal::{self, Check, Mark, Plan};
use crate::run::{Action, RunId, Started};
use crate::runner::Runner;

pub(super) async fn steps(flow: &Flow<'_>, follow: Option<RunId>) -> Step<Outcome> {
    let (runner, mut link, run) = match follow {
        Some(run) => {
            let Some(runner) = flow.find_runner().await? else {
                return gone(flow, run).await;
            };
            let link = flow.connect(&runner).await?;
            (runner, link, run)
        }
        None => {
            let runner = flow.acquire().await?;
            let link = flow.connect(&runner).await?;
            let run = match flow.launch(&link).await? {
                Started::Started(run) => run,
                Started::Busy(other) if other.action() == Action::Plan => other,
                Started::Busy(other) => {
                    return Err(busy(
                        &runner,
                        format!(
                            "runs terraform {} of this event (run {other}): a rehearsal plans only beside no other run; rehearse again once it has ended",
                            other.action()
                        ),
                    ));
                }
                Started::Retired => {
                    return Err(busy(&runner, "was retired by a stop of this event and is being terminated; rehearse again once the stop has ended".into()));
                }
            };
            (runner, link, run)
        }
    };
    info!(event_id = %flow.event, run_id = %run, "rehearsal: terraform plan");
    let finished = match flow.see_through(&mut link, &run).await? {
        RunEnd::HandedOver(o) => return Ok(o),
        RunEnd::Finished(f) => f,
    };
    let plan = planned(flow, &link, &run, &finished).await;
    let mut checks = vec![match &plan {
        Ok(p) => p.check(),
        Err(why) => Check {
            name: "plan".into(),
            mark: Mark::Fail,
            detail: why.clone(),
        },
    }];
    let plan = plan.unwrap_or_default();
    let history = flow.deps.records.history(&flow.deps.module.hash()).await;
    let learned = history.as_ref().and_then(|h| h.learned(Action::Apply));
    let boot = history.as_ref().and_then(|h| h.learned_boot());
    let lead = flow.rehearsal.and_then(|r| r.lead_time);
    let lookups = flow.deps.lookups.as_ref();
    checks.extend(rehearsal::account_checks(lookups, &plan, lead, learned, boot).await);
    checks.push(leave_nothing(flow, &link, &runner).await?);
    let go = rehearsal::go(&checks);
    let text = format!(
        "{} (run `{run}`)",
        rehearsal::report(flow.event.as_str(), &checks)
    );
    let told = flow.notify_once(&report_key(&run), &text).await;
    let (status, message) = if go {
        (Status::Go, "rehearsal: go".to_owned())
    } else {
        let failed: Vec<&str> = checks
            .iter()
            .filter(|c| c.mark == Mark::Fail)
            .map(|c| c.name.as_str())
            .collect();
        (
            Status::NoGo,
            format!("rehearsal: no-go ({})", failed.join(", ")),
        )
    };
    let mut o = flow.outcome(status, Some(run), Some(runner.instance_id), message, told);
    o.rehearsal = checks;
    Ok(o)
}

/// A follow-up of a plan whose runner is gone: the rehearsal that reported terminated it (this is a
/// delivery of the follow-up again: nothing to say), or the runner died first (a failure, told).
async fn gone(flow: &Flow<'_>, run: RunId) -> Step<Outcome> {
    let key = report_key(&run);
    let records = &flow.deps.records;
    if let Ok(false) = records.mark_reported(&flow.event, &key, &flow.token).await {
        let msg = "this rehearsal was reported already, and its runner terminated".to_owned();
        let told = super::Told::AlreadyTold;
        return Ok(flow.outcome(Status::AlreadyReported, Some(run), None, msg, told));
    }
    if let Err(e) = records.unmark_reported(&flow.event, &key).await {
        warn!(event_id = %flow.event, error = %e, "cannot give the report mark back");
    }
    Err(StepError::of_run(flow.runner_gone(&run), &run))
}

/// The report's mark: one report per rehearsal run.
fn report_key(run: &RunId) -> String {
    format!("{run}-rehearsal")
}

fn busy(runner: &Runner, reason: String) -> StepError {
    FlowError::new(
        Stage::Runner,
        Error::Runner {
            instance_id: runner.instance_id.clone(),
            reason,
        },
    )
    .into()
}

/// The plan the run made, or why there is none (Terraform's first error, for a plan that failed).
async fn planned(
    flow: &Flow<'_>,
    link: &super::link::Link,
    run: &RunId,
    f: &Finished,
) -> Result<Plan, String> {
    if f.exit != 0 {
        let error = f
            .tail
            .lines()
            .find(|l| l.trim_start_matches(['│', ' ']).starts_with("Error:"))
            .map(|l| l.trim_start_matches(['│', ' ']).to_owned())
            .unwrap_or_else(|| "see the function's log".into());
        warn!(event_id = %flow.event, run_id = %run, "rehearsal: terraform {} failed", f.stage);
        return Err(format!(
            "terraform {} failed (exit {}): {error}",
            f.stage, f.exit
        ));
    }
    let json = link
        .host()
        .plan_json(run)
        .await
        .map_err(|e| format!("the plan cannot be read from the runner: {e}"))?;
    Plan::read(&json)
}

/// The rehearsal leaves nothing: a runner it stands on while the tier is down is retired and
/// terminated (the start launches its own), and then nothing may be tagged with the event and its
/// state may hold no resources.
async fn leave_nothing(
    flow: &Flow<'_>,
    link: &super::link::Link,
    runner: &Runner,
) -> Result<Check, StepError> {
    let name = "nothing left";
    let resources = flow.state_resources().await?;
    if resources > 0 {
        return Ok(Check {
            name: name.into(),
            mark: Mark::Fail,
            detail: format!(
                "the event's state holds {resources} resources: the tier is up, and its runner `{}` is kept",
                runner.instance_id
            ),
        });
    }
    // Retired first: a start that comes now is refused by it rather than cut off by the end.
    if let Err(e) = link.host().retire().await {
        warn!(event_id = %flow.event, error = %e, "rehearsal: cannot retire the runner");
    }
    let deps = flow.deps;
    deps.fleet
        .terminate_and_wait(&runner.instance_id, deps.config.runner.ready_timeout)
        .await
        .map_err(|e| StepError::from(FlowError::new(Stage::Terminate, e)))?;
    if let Err(e) = deps.records.release_runner(&flow.event).await {
        warn!(event_id = %flow.event, error = %e, "could not release the runner claim");
    }
    let (left, said) = super::retire::check_leftovers(flow).await;
    Ok(Check {
        name: name.into(),
        mark: if left.is_empty() && !said.starts_with("could not") {
            Mark::Pass
        } else {
            Mark::Fail
        },
        detail: format!(
            "runner `{}` terminated; state empty; {said}",
            runner.instance_id
        ),
    })
}
