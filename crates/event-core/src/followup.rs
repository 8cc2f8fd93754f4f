//! Follow-up invocations: when a run outlives the function, a one-off EventBridge Scheduler schedule
//! invokes the function again, a minute later, with the run's identity. The schedule deletes itself
//! after it fired.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use serde_json::Value;

use crate::error::{Error, Result, aws};
use crate::payload::EventId;

#[async_trait]
pub trait FollowUps: Send + Sync {
    /// Schedules `payload` to be sent to `function_arn` after `delay`; returns the schedule's name.
    async fn schedule(
        &self,
        event: &EventId,
        function_arn: &str,
        payload: &Value,
        delay: Duration,
    ) -> Result<String>;
}

pub struct SchedulerFollowUps {
    client: aws_sdk_scheduler::Client,
    role_arn: String,
    group: String,
}

impl SchedulerFollowUps {
    pub fn new(client: aws_sdk_scheduler::Client, role_arn: String, group: String) -> Self {
        Self {
            client,
            role_arn,
            group,
        }
    }
}

/// `at(2026-11-24T21:18:00)` for a Unix time (UTC).
pub fn at_expression(unix: u64) -> String {
    let c = crate::clock::compact_utc(unix);
    format!(
        "at({}-{}-{}T{}:{}:{})",
        &c[0..4],
        &c[4..6],
        &c[6..8],
        &c[9..11],
        &c[11..13],
        &c[13..15]
    )
}

/// EventBridge Scheduler takes names of at most 64 characters: `event-tier-follow-` (18), an event id
/// (at most 40), `-` and the Unix time in seconds modulo 100 000 (5 digits).
fn schedule_name(event: &EventId, epoch_secs: u64) -> String {
    format!("event-tier-follow-{event}-{:05}", epoch_secs % 100_000)
}

#[async_trait]
impl FollowUps for SchedulerFollowUps {
    async fn schedule(
        &self,
        event: &EventId,
        function_arn: &str,
        payload: &Value,
        delay: Duration,
    ) -> Result<String> {
        let now = crate::clock::since_epoch();
        let name = schedule_name(event, now.as_secs());
        let target = Target::builder()
            .arn(function_arn)
            .role_arn(&self.role_arn)
            .input(payload.to_string())
            .build()
            .map_err(|e| Error::Config(format!("follow-up target: {e}")))?;
        self.client
            .create_schedule()
            .name(&name)
            .group_name(&self.group)
            .schedule_expression(at_expression((now + delay).as_secs()))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(
                FlexibleTimeWindow::builder()
                    .mode(FlexibleTimeWindowMode::Off)
                    .build()
                    .map_err(|e| Error::Config(format!("follow-up window: {e}")))?,
            )
            .action_after_completion(ActionAfterCompletion::Delete)
            .description(format!("event-tier follow-up of {event}"))
            .target(target)
            .send()
            .await
            .map_err(|e| aws("scheduler", "CreateSchedule", e))?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schedule_names_fit_the_schedulers_64_characters() {
        let longest = crate::payload::EventId::parse(&"a".repeat(40)).unwrap();
        let name = super::schedule_name(&longest, 1_795_599_999);
        assert_eq!(name, format!("event-tier-follow-{}-99999", "a".repeat(40)));
        assert_eq!(name.len(), 64);
        let short = crate::payload::EventId::parse("winter-sale-2026").unwrap();
        assert_eq!(
            super::schedule_name(&short, 1_795_500_007),
            "event-tier-follow-winter-sale-2026-00007"
        );
    }

    #[test]
    fn at_expressions_are_utc_seconds() {
        assert_eq!(
            super::at_expression(1_795_555_080),
            "at(2026-11-24T21:18:00)"
        );
    }
}
