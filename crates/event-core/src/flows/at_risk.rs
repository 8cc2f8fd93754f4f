//! A start late against what its module's applies take (issue 13, part 4): once an apply has run
//! longer than the p95 × 1.25 of this module version's recorded applies, Slack hears "at risk"
//! once per run, with the opening when the event's variables name it. Without a history there is no
//! expectation, and nothing is said.

use std::time::Duration;

use super::run::Flow;
use crate::clock::human;
use crate::history::Learned;
use crate::readiness::Tier;
use crate::run::{Action, RunId};

/// The margin over the learned p95 before a start is called at risk.
pub const MARGIN: f64 = 1.25;

/// When an apply is expected to have ended, from the module's history.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected {
    /// Unix time (the run's own start plus p95 × [`MARGIN`]).
    pub by: Duration,
    pub took: Duration,
    pub learned: Learned,
}

impl Flow<'_> {
    /// What the module's history expects of `run`: only an apply of event-start, with a history,
    /// for an event whose variables name its opening (without one there is nothing to be late for).
    pub(super) async fn expected(&self, run: &RunId) -> Option<Expected> {
        if run.action() != Action::Apply || self.action != Action::Apply {
            return None;
        }
        self.opening()?;
        let history = self.deps.records.history(&self.deps.module.hash()).await?;
        let learned = history.learned(Action::Apply)?;
        let took = learned.p95.mul_f64(MARGIN);
        Some(Expected {
            by: run.made_at()? + took,
            took,
            learned,
        })
    }

    /// Posts "at risk" once for `run` when it has run past what was expected of it; whether it
    /// was late (then it need not be asked again).
    pub(super) async fn warn_if_late(&self, run: &RunId, e: &Expected) -> bool {
        let now = crate::clock::since_epoch();
        if now <= e.by {
            return false;
        }
        let ran = now.saturating_sub(e.by) + e.took;
        let opening = self.opening().map(|at| {
            let now = now.as_secs() as i64;
            let when = crate::slack_app::rfc3339(
                time::OffsetDateTime::from_unix_timestamp(at)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
            );
            if at > now {
                format!(
                    ", opening at {when} (in {})",
                    human(Duration::from_secs((at - now) as u64))
                )
            } else {
                format!(", opening at {when} (passed)")
            }
        });
        let by = crate::slack_app::rfc3339(
            time::OffsetDateTime::from_unix_timestamp(e.by.as_secs() as i64)
                .unwrap_or(time::OffsetDateTime::UNIX_EPOCH),
        );
        let text = format!(
            ":warning: event-tier *{}*: at risk: terraform apply (run `{run}`) has run {}, past the {} this module's applies take (p95 {} × {MARGIN} over {} applies); ready expected by {by}{}",
            self.event,
            human(ran),
            human(e.took),
            human(e.learned.p95),
            e.learned.runs,
            opening.unwrap_or_default()
        );
        self.notify_once(&format!("{run}-at-risk"), &text).await;
        true
    }

    /// Whether this run's lead (from its start to the event's opening) covers what the module's
    /// applies take (p95 × [`MARGIN`]), as a line of the start's message: the learned lead time
    /// the event's `lead_time_minutes` should give. None without an opening or a history.
    pub(super) fn lead_time(&self, run: &RunId, e: &Expected) -> Option<String> {
        let opening = self.opening()?;
        let began = i64::try_from(run.made_at()?.as_secs()).ok()?;
        let lead = Duration::from_secs(u64::try_from(opening - began).unwrap_or(0));
        let take = format!(
            "this module's applies take {} (p95 {} × {MARGIN} over {} applies)",
            human(e.took),
            human(e.learned.p95),
            e.learned.runs
        );
        let lead_said = super::ready::human_long(lead);
        Some(if lead >= e.took {
            format!("\nlead time {lead_said} before the opening: covers what {take}")
        } else {
            format!(
                "\n:warning: lead time {lead_said} before the opening: short of what {take}; start earlier (`lead_time_minutes` of the event in infra/control)"
            )
        })
    }

    /// The event's opening as a Unix time, when its variables name it (`opens_at` in `timezone`).
    fn opening(&self) -> Option<i64> {
        let text = |k: &str| self.vars.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        Tier {
            opens_at: text("opens_at"),
            timezone: text("timezone"),
            ..Tier::default()
        }
        .opening()
    }
}
