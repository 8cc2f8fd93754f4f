//! The events' own schedules in EventBridge Scheduler (`infra/control/schedules.tf`): each event's
//! `<id>-start` and `<id>-stop`, read for their time, time zone, target and payload; and the
//! one-off schedules that move a stop (an extension from Slack, `stop-now`, a retry), made in the
//! follow-up group and deleted by Scheduler once they fired.

use async_trait::async_trait;
use aws_sdk_scheduler::error::ProvideErrorMetadata;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, FlexibleTimeWindow, FlexibleTimeWindowMode, Target,
};
use time::OffsetDateTime;

use crate::error::{Error, Result, aws};
use crate::payload::EventId;

/// Which of an event's two schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Start,
    Stop,
    /// The reminder before the end (made for dated events when the Slack app is set up).
    Remind,
}

impl Which {
    fn suffix(self) -> &'static str {
        match self {
            Which::Start => "start",
            Which::Stop => "stop",
            Which::Remind => "remind",
        }
    }
}

/// An event's schedule, as Scheduler holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSchedule {
    /// `at(2026-12-24T23:00:00)` or `cron(...)`.
    pub expression: String,
    /// The IANA time zone the expression is read in (empty: UTC).
    pub timezone: String,
    /// The function it invokes.
    pub target_arn: String,
    /// The payload it sends (`{"event_id": ..., "vars": {...}}`).
    pub input: String,
}

/// A one-off schedule to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOff<'a> {
    pub name: String,
    pub at: OffsetDateTime,
    pub target_arn: &'a str,
    pub input: &'a str,
    pub description: String,
}

#[async_trait]
pub trait EventSchedules: Send + Sync {
    /// The event's start or stop schedule; None when the events map has no such event.
    async fn get(&self, event: &EventId, which: Which) -> Result<Option<EventSchedule>>;
    /// Makes a one-off schedule; false when one of that name exists already (it does the same).
    async fn once(&self, schedule: &OneOff<'_>) -> Result<bool>;
}

/// The one-off stop of `event` at `at`: named by the time, so that the invocations that move
/// the stop to the same end make one schedule. At most 64 characters: `event-tier-end-` (15), the
/// id (at most 40), `-` and the Unix minute modulo 10^8 (8 digits).
pub fn stop_at_name(event: &EventId, at: OffsetDateTime) -> String {
    one_off_name("end", event, at)
}

/// The one-off reminder of `event` at `at`, named as [`stop_at_name`] names stops
/// (`event-tier-rem-<id>-<minute>`).
pub fn remind_at_name(event: &EventId, at: OffsetDateTime) -> String {
    one_off_name("rem", event, at)
}

/// The one-off look of the down watchdog at `at`, when the end was moved later
/// (`event-tier-wdg-<id>-<minute>`, `crate::watch`).
pub fn watch_at_name(event: &EventId, at: OffsetDateTime) -> String {
    one_off_name("wdg", event, at)
}

/// `event-tier-<kind>-<id>-<minute>`; `kind` is three characters, so the name fits 64.
fn one_off_name(kind: &str, event: &EventId, at: OffsetDateTime) -> String {
    let minute = at.unix_timestamp().div_euclid(60).rem_euclid(100_000_000);
    format!("event-tier-{kind}-{event}-{minute:08}")
}

/// Scheduler, with the events' group and the group and role of the one-off schedules.
pub struct SchedulerEvents {
    client: aws_sdk_scheduler::Client,
    events_group: String,
    once_group: String,
    role_arn: String,
}

impl SchedulerEvents {
    pub fn new(
        client: aws_sdk_scheduler::Client,
        events_group: String,
        once_group: String,
        role_arn: String,
    ) -> Self {
        Self {
            client,
            events_group,
            once_group,
            role_arn,
        }
    }
}

#[async_trait]
impl EventSchedules for SchedulerEvents {
    async fn get(&self, event: &EventId, which: Which) -> Result<Option<EventSchedule>> {
        let name = format!("{event}-{}", which.suffix());
        let out = match self
            .client
            .get_schedule()
            .group_name(&self.events_group)
            .name(&name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(aws("scheduler", "GetSchedule", e)),
        };
        let target = out.target.ok_or_else(|| {
            Error::Config(format!(
                "schedule {name} in {} has no target",
                self.events_group
            ))
        })?;
        Ok(Some(EventSchedule {
            expression: out.schedule_expression.unwrap_or_default(),
            timezone: out.schedule_expression_timezone.unwrap_or_default(),
            target_arn: target.arn,
            input: target.input.unwrap_or_default(),
        }))
    }

    async fn once(&self, s: &OneOff<'_>) -> Result<bool> {
        let target = Target::builder()
            .arn(s.target_arn)
            .role_arn(&self.role_arn)
            .input(s.input)
            .build()
            .map_err(|e| Error::Config(format!("one-off target: {e}")))?;
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()
            .map_err(|e| Error::Config(format!("one-off window: {e}")))?;
        let res = self
            .client
            .create_schedule()
            .name(&s.name)
            .group_name(&self.once_group)
            .schedule_expression(crate::followup::at_expression(
                s.at.unix_timestamp().max(0) as u64
            ))
            .schedule_expression_timezone("UTC")
            .flexible_time_window(window)
            .action_after_completion(ActionAfterCompletion::Delete)
            .description(&s.description)
            .target(target)
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ConflictException") => Ok(false),
            Err(e) => Err(aws("scheduler", "CreateSchedule", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_off_stop_names_fit_the_schedulers_64_characters_and_name_the_minute() {
        let longest = EventId::parse(&"a".repeat(40)).unwrap();
        let at = OffsetDateTime::from_unix_timestamp(1_798_153_200).unwrap();
        let name = stop_at_name(&longest, at);
        assert_eq!(name.len(), 64, "{name}");
        let name = remind_at_name(&longest, at);
        assert_eq!(name.len(), 64, "{name}");
        assert!(name.starts_with("event-tier-rem-aaaa"), "{name}");
        let short = EventId::parse("winter-sale-2026").unwrap();
        // Two ends within one minute are one schedule.
        assert_eq!(
            stop_at_name(&short, at),
            stop_at_name(&short, at + time::Duration::seconds(59))
        );
        assert_ne!(
            stop_at_name(&short, at),
            stop_at_name(&short, at + time::Duration::seconds(60))
        );
    }
}
