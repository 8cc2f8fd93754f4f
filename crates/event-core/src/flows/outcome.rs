//! What a flow returns: its outcome and status, or the stage it failed at and why, and whether Slack
//! was told.

use std::fmt;

use serde::Serialize;

use crate::error::{Error, InputError};
use crate::run::{Action, RunId, RunStage};

/// The step of a flow, named in errors and Slack messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Validate,
    Runner,
    Key,
    Ssh,
    /// The runner's boot: its user data done (`.ready`).
    Boot,
    /// The tier's readiness after its apply (`crate::readiness`).
    Ready,
    Migrate,
    Prepare,
    Init,
    Plan,
    Apply,
    Destroy,
    Follow,
    Terminate,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Runner => "runner",
            Stage::Key => "key",
            Stage::Ssh => "ssh",
            Stage::Boot => "boot",
            Stage::Ready => "ready",
            Stage::Migrate => "migrate",
            Stage::Prepare => "prepare",
            Stage::Init => "init",
            Stage::Plan => "plan",
            Stage::Apply => "apply",
            Stage::Destroy => "destroy",
            Stage::Follow => "follow",
            Stage::Terminate => "terminate",
        }
    }

    /// The flow's stage of a run's step.
    pub fn of_run(stage: RunStage, action: Action) -> Stage {
        match (stage, action) {
            (RunStage::Init, _) => Stage::Init,
            (RunStage::Plan, _) => Stage::Plan,
            (RunStage::Apply, _) => Stage::Apply,
            (RunStage::Destroy, _) => Stage::Destroy,
            (_, Action::Apply) => Stage::Apply,
            (_, Action::Destroy) => Stage::Destroy,
            (_, Action::Plan) => Stage::Plan,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether Slack heard of this outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "slack", content = "reason")]
pub enum Told {
    Told,
    /// Another invocation reported this run.
    AlreadyTold,
    /// The post failed: nobody heard of it from Slack.
    NotTold(String),
    /// Nothing to tell yet (a run handed over to a follow-up).
    Nothing,
}

/// A failed flow: the stage, the error, the tail of Terraform's output when there is one, and
/// whether Slack was told.
#[derive(Debug, thiserror::Error)]
pub struct FlowError {
    pub stage: Stage,
    #[source]
    pub error: Error,
    pub tail: Option<String>,
    pub told: Told,
}

impl fmt::Display for FlowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.stage, self.error)?;
        if let Told::NotTold(why) = &self.told {
            write!(f, " (slack was not told: {why})")?;
        }
        Ok(())
    }
}

impl FlowError {
    pub fn new(stage: Stage, error: Error) -> Self {
        Self {
            stage,
            error,
            tail: None,
            told: Told::Nothing,
        }
    }

    /// The Lambda error type: the error's kind, marked when a retry may succeed as is.
    pub fn error_type(&self) -> String {
        if self.error.is_transient() {
            format!("{}.Retryable", self.error.kind())
        } else {
            self.error.kind().to_owned()
        }
    }
}

impl From<InputError> for FlowError {
    fn from(e: InputError) -> Self {
        FlowError::new(Stage::Validate, e.into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The event tier was created or changed.
    Applied,
    /// The event tier was already as the module says: nothing changed.
    AlreadyUp,
    /// Work goes on past this invocation; the follow-up in `follow_up` reports its outcome.
    InProgress,
    /// A destroy of this event is in progress; this start did nothing.
    Busy,
    Destroyed,
    /// Destroyed, but resources tagged with the event remain (named in `leftovers`).
    DestroyedWithLeftovers,
    AlreadyDown,
    /// The run failed and another invocation already reported it (a duplicate delivery).
    AlreadyReported,
    /// A stop at an end that was moved from Slack: nothing destroyed; the one-off schedule in
    /// `follow_up` brings the stop back at the new end.
    Deferred,
    /// A dress rehearsal found nothing that stops the event (its checks in `rehearsal`).
    Go,
    /// A dress rehearsal found what must be fixed before the start (its checks in `rehearsal`).
    NoGo,
}

/// What a flow returns to its caller (the Lambda result).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Outcome {
    pub event_id: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<RunId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    pub duration_ms: u64,
    pub message: String,
    /// ARNs of resources still tagged with the event after a stop.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
    /// The schedule that will invoke the function again for an `in_progress` run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<String>,
    /// A start's readiness checks, as the last look saw them (empty: none declared or not checked).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub readiness: Vec<crate::readiness::Seen>,
    /// A rehearsal's checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rehearsal: Vec<crate::rehearsal::Check>,
    #[serde(flatten)]
    pub told: Told,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_says_whether_slack_was_told() {
        let mut o = Outcome {
            event_id: "winter-sale-2026".into(),
            status: Status::Applied,
            run_id: RunId::parse("apply-20261202t101500-3fa9c1"),
            instance_id: None,
            duration_ms: 5,
            message: "Apply complete".into(),
            leftovers: Vec::new(),
            follow_up: None,
            readiness: Vec::new(),
            rehearsal: Vec::new(),
            told: Told::Told,
        };
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["slack"], "told", "{v}");
        assert_eq!(v["run_id"], "apply-20261202t101500-3fa9c1");
        o.told = Told::NotTold("post failed: timed out".into());
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["slack"], "not_told", "{v}");
        assert_eq!(v["reason"], "post failed: timed out", "{v}");
    }
}
