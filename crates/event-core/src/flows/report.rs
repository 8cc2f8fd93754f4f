//! Telling Slack. A run's outcome is posted once across invocations: the invocation that wins the
//! run's mark in the state bucket posts, and gives the mark back if the post fails, so that a later
//! invocation can tell it. With Slack healthy every outcome is posted exactly once; with Slack
//! failing, the function's own result says Slack was not told.

use tracing::{Instrument, info, warn};

use super::run::{Flow, StepError};
use super::{FlowError, Outcome, Stage, Status, Told};
use crate::clock::human;
use crate::error::Error;
use crate::run::{Action, RunId};
use crate::slack::{Button, Message};
use crate::slack_app::RetryOf;
use crate::timing;

impl Flow<'_> {
    /// Posts to Slack; a failing Slack never changes the flow's result, only says it was not told.
    pub async fn notify(&self, text: &str) -> Told {
        self.post(text, None, None, Offer::Nothing).await
    }

    /// Posts with what people can do about it: the offer's buttons, when the Slack app is set up.
    pub async fn notify_offering(&self, text: &str, offer: Offer) -> Told {
        self.post(text, None, None, offer).await
    }

    /// The buttons of `offer`; none unless the Slack app is there to answer them.
    fn buttons(&self, offer: Offer) -> Vec<Button> {
        if !self.deps.config.slack_app.buttons {
            return Vec::new();
        }
        let e = &self.event;
        match offer {
            Offer::Nothing => Vec::new(),
            Offer::KeepOrStop => vec![Button::extend_hour(e), Button::stop_now(e)],
            Offer::Retry(of) => vec![Button::retry(e, of)],
        }
    }

    /// The message's fields: the stage a failure stopped at, how long the invocation has taken, the
    /// run and the runner.
    fn fields(&self, run: Option<&RunId>, stage: Option<&Stage>) -> Vec<(&'static str, String)> {
        let mut fields = Vec::with_capacity(4);
        if let Some(stage) = stage {
            fields.push(("Stage", format!("`{stage}`")));
        }
        fields.push(("Duration", human(self.started.elapsed())));
        if let Some(run) = run {
            fields.push(("Run", format!("`{run}`")));
        }
        if let Some(runner) = self.runner.lock().expect("runner").as_deref() {
            fields.push(("Runner", format!("`{runner}`")));
        }
        fields
    }

    /// Where to look next: the event's dashboard and log group (named as `infra/event-tier` names
    /// them), and the function's own log group when it runs on Lambda.
    fn context(&self) -> Vec<String> {
        let (region, event) = (&self.deps.region, &self.event);
        let mut context = vec![
            format!(
                "<https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/event-tier-{event}|dashboard event-tier-{event}>"
            ),
            format!("tier logs `/event-tier/{event}/service`"),
        ];
        if let Ok(group) = std::env::var("AWS_LAMBDA_LOG_GROUP_NAME") {
            context.push(format!("function logs `{group}`"));
        }
        context
    }

    async fn post(
        &self,
        text: &str,
        outcome_of: Option<&RunId>,
        stage: Option<&Stage>,
        offer: Offer,
    ) -> Told {
        let fields = self.fields(outcome_of, stage);
        let context = self.context();
        let buttons = self.buttons(offer);
        let message = Message {
            text,
            event: Some(&self.event),
            outcome_of,
            fields: &fields,
            context: &context,
            buttons: &buttons,
        };
        match self
            .deps
            .notifier
            .post_message(&message)
            .instrument(tracing::debug_span!(target: timing::TARGET, "slack"))
            .await
        {
            Ok(()) => {
                info!(event_id = %self.event, "slack notified");
                Told::Told
            }
            Err(e) => {
                warn!(event_id = %self.event, error = %e, "slack notification failed");
                *self.missed.lock().expect("missed") = Some(e.to_string());
                Told::NotTold(e.to_string())
            }
        }
    }

    /// The event's cycle is over (its tier is down): its next message opens a new Slack thread. A
    /// thread left open only means the next cycle's messages join the old one.
    pub async fn end_thread(&self) {
        if let Err(e) = self.deps.notifier.end_thread(&self.event).await {
            warn!(event_id = %self.event, error = %e, "cannot end the event's slack thread");
        }
    }

    /// Posts a run's outcome once across invocations.
    pub async fn report_run(&self, run: &RunId, text: &str) -> Told {
        self.post_once(run, text, Some(run), None, Offer::Nothing)
            .await
    }

    /// The same, with what people can do about it.
    pub async fn report_run_offering(&self, run: &RunId, text: &str, offer: Offer) -> Told {
        self.post_once(run, text, Some(run), None, offer).await
    }

    /// Posts `text` once across invocations for `key` (a notice about a run).
    pub async fn notify_once(&self, key: &str, text: &str) -> Told {
        self.post_once(key, text, None, None, Offer::Nothing).await
    }

    async fn post_once(
        &self,
        key: &str,
        text: &str,
        outcome_of: Option<&RunId>,
        stage: Option<&Stage>,
        offer: Offer,
    ) -> Told {
        let records = &self.deps.records;
        {
            let mut mine = self.reported.lock().expect("reported");
            if mine.iter().any(|k| k == key) {
                return Told::AlreadyTold;
            }
            mine.push(key.to_owned());
        }
        match records.mark_reported(&self.event, key, &self.token).await {
            Ok(true) => {
                let told = self.post(text, outcome_of, stage, offer).await;
                if matches!(told, Told::NotTold(_)) {
                    self.reported.lock().expect("reported").retain(|k| k != key);
                    if let Err(e) = records.unmark_reported(&self.event, key).await {
                        warn!(event_id = %self.event, key, error = %e, "cannot give the report mark back");
                    }
                }
                told
            }
            Ok(false) => {
                info!(event_id = %self.event, key, "already reported");
                Told::AlreadyTold
            }
            Err(e) => {
                warn!(event_id = %self.event, key, error = %e, "cannot mark the report; reporting anyway");
                self.post(text, outcome_of, stage, offer).await
            }
        }
    }

    /// A failure as Slack shows it; a run's failure is named after the run's own flow.
    pub fn failure_text(&self, error: &FlowError, run: Option<&RunId>) -> String {
        let name = run.map_or(self.action, |r| r.action()).flow();
        let mut text = format!(
            ":x: event-tier *{}*: {name} failed at stage `{}` after {}: {}",
            self.event,
            error.stage,
            human(self.started.elapsed()),
            error.error
        );
        if let Some(tail) = error.tail.as_deref().filter(|t| !t.is_empty()) {
            text.push_str(&format!("\n```\n{tail}\n```"));
        }
        text
    }

    /// Reports a failure (to the log and to Slack) and hands it back; a failed run that another
    /// invocation already reported (a duplicate delivery) is no failure of this one.
    pub async fn fail(&self, step: StepError) -> Result<Outcome, FlowError> {
        let StepError { mut error, run } = step;
        // Work this invocation had no time for is handed over, not failed.
        if let (Error::Deadline(what), None) = (&error.error, &run) {
            match self.hand_over(what, None, None).await {
                Ok(o) => return Ok(o),
                Err(e) => error = e,
            }
        }
        warn!(event_id = %self.event, stage = %error.stage, error = %error.error, "{} failed", self.action.flow());
        let text = self.failure_text(&error, run.as_ref());
        let stage = Some(&error.stage);
        // The failed flow may be run again from the message: a stop's retry keeps its guard.
        let offer = Offer::retry(run.as_ref().map_or(self.action, |r| r.action()));
        error.told = match &run {
            Some(run) => self.post_once(run, &text, Some(run), stage, offer).await,
            None => self.post(&text, None, stage, offer).await,
        };
        error.told = self.unless_missed(error.told);
        match (error.told.clone(), run) {
            (Told::AlreadyTold, Some(run)) => Ok(self.outcome(
                Status::AlreadyReported,
                Some(run.clone()),
                None,
                format!("run {run} failed ({error}); another invocation already reported it"),
                Told::AlreadyTold,
            )),
            _ => Err(error),
        }
    }
}

/// What a message offers people to do, as buttons (when the Slack app is set up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Nothing,
    /// The tier is up: "extend 1h" and "stop now".
    KeepOrStop,
    /// A start or a stop failed: "retry" it.
    Retry(RetryOf),
}

impl Offer {
    /// "Retry" of the flow that runs `action`.
    pub fn retry(action: Action) -> Self {
        match action {
            Action::Apply => Offer::Retry(RetryOf::Start),
            Action::Destroy => Offer::Retry(RetryOf::Stop),
            // A rehearsal is run again by invoking it (docs/runbook.md), not from Slack.
            Action::Plan => Offer::Nothing,
        }
    }
}

const TAIL_LINES: usize = 25;
const TAIL_CHARS: usize = 2500;

/// The last lines of Terraform's output, bounded for a Slack message.
pub(crate) fn render_tail<'l>(lines: impl IntoIterator<Item = &'l String>) -> String {
    let lines: Vec<&String> = lines.into_iter().collect();
    let from = lines.len().saturating_sub(TAIL_LINES);
    let text = lines[from..]
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    if text.len() <= TAIL_CHARS {
        return text;
    }
    let mut cut = text.len() - TAIL_CHARS;
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    format!("…{}", &text[cut..])
}

/// Terraform's own summary line ("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."), if in the tail.
pub fn summary(tail: &str) -> Option<String> {
    tail.lines()
        .rev()
        .find(|l| l.contains("complete! Resources:"))
        .map(|l| l.trim().trim_end_matches('.').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_line_is_found() {
        let tail = "aws_security_group.tier: Creation complete\n\nApply complete! Resources: 2 added, 0 changed, 0 destroyed.\n";
        assert_eq!(
            summary(tail).as_deref(),
            Some("Apply complete! Resources: 2 added, 0 changed, 0 destroyed")
        );
        assert_eq!(summary("nothing"), None);
    }

    #[test]
    fn tails_are_bounded() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("line {i} {}", "x".repeat(200)))
            .collect();
        let tail = render_tail(&lines);
        assert!(tail.len() <= TAIL_CHARS + 3, "{}", tail.len());
        assert!(tail.ends_with(&lines[99]));
    }
}
