//! Handing work over to a follow-up invocation when it outlives this one: a one-off schedule invokes
//! the function again with the run's identity (or the same request), and that invocation reports
//! the outcome. A follow-up that cannot be scheduled is a failure of its own, told to Slack with the
//! payload that picks the work up by hand: work is never left to nobody.

use std::time::Duration;

use serde_json::{Value, json};
use tracing::{info, warn};

use super::run::Flow;
use super::{FOLLOW_UP_DELAY, FlowError, Outcome, Stage, Status, Told};
use crate::clock::human;
use crate::error::Error;
use crate::run::RunId;

impl Flow<'_> {
    /// The payload of this flow's follow-up: the run to follow, or (no run) this request again.
    fn follow_up_payload(&self, run: Option<&RunId>) -> Value {
        let mut payload = json!({ "event_id": self.event.as_str() });
        match run {
            Some(run) => payload["follow"] = json!({ "run_id": run.as_str() }),
            None if !self.vars.is_empty() => payload["vars"] = json!(self.vars),
            None => {}
        }
        if self.force {
            payload["force"] = Value::Bool(true);
        }
        if let Some(r) = self.rehearsal {
            payload["rehearsal"] = match r.lead_time {
                Some(lead) => json!({ "lead_time_minutes": lead.as_secs() / 60 }),
                None => Value::Bool(true),
            };
        }
        payload
    }

    /// Schedules the follow-up; the schedule's name, or why there is none (with the payload to send
    /// by hand).
    async fn schedule_follow_up(&self, run: Option<&RunId>) -> Result<String, Error> {
        let payload = self.follow_up_payload(run);
        let by_hand = |why: String| {
            Error::FollowUp(format!(
                "{why}; invoke event-{} with {payload} to pick the work up",
                self.action.flow()
            ))
        };
        let (Some(follow_ups), Some(arn)) = (&self.deps.follow_ups, &self.function_arn) else {
            return Err(by_hand(
                "no follow-up can be scheduled (EVENT_TIER_FOLLOW_UP_ROLE_ARN unset, or no function ARN in the invocation)".into(),
            ));
        };
        follow_ups
            .schedule(&self.event, arn, &payload, FOLLOW_UP_DELAY)
            .await
            .map_err(|e| by_hand(format!("the follow-up could not be scheduled ({e})")))
    }

    /// The outcome of work still going when this invocation must return; `what` says what goes on
    /// ("terraform apply (run …) still runs").
    pub async fn hand_over(
        &self,
        what: &str,
        run: Option<&RunId>,
        instance_id: Option<String>,
    ) -> Result<Outcome, FlowError> {
        let name = self
            .schedule_follow_up(run)
            .await
            .map_err(|e| FlowError::new(Stage::Follow, e))?;
        let how = format!(
            "schedule {name} invokes the function again in {}s",
            FOLLOW_UP_DELAY.as_secs()
        );
        info!(event_id = %self.event, "{what} outlives this invocation: {how}");
        let mut o = self.outcome(
            Status::InProgress,
            run.cloned(),
            instance_id,
            format!("{what}; {how}"),
            Told::Nothing,
        );
        o.follow_up = Some(name);
        Ok(o)
    }

    /// The failure of an invocation that lost the runner while following a run: the run goes on
    /// there, so a follow-up reports its outcome, once.
    pub async fn lost_contact(&self, error: Error, after: Duration, run: &RunId) -> FlowError {
        let how = match self.schedule_follow_up(Some(run)).await {
            Ok(name) => format!(
                "schedule {name} follows it in {}s",
                FOLLOW_UP_DELAY.as_secs()
            ),
            Err(e) => {
                warn!(event_id = %self.event, run_id = %run, error = %e, "no follow-up");
                e.to_string()
            }
        };
        let (target, reason) = match error {
            Error::Ssh { target, reason } => (target, reason),
            other => ("-".to_owned(), other.to_string()),
        };
        FlowError::new(
            Stage::Follow,
            Error::Ssh {
                target,
                reason: format!(
                    "contact lost while following run {run} and not regained within {} ({reason}); the run goes on on the runner and its outcome is reported once: {how}",
                    human(after)
                ),
            },
        )
    }
}
