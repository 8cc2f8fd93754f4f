//! The reminder before an event's end: "ends in 60m: the tier is destroyed at ...", with the
//! buttons to extend, hold or stop now. `infra/control` makes a schedule `<id>-remind` for each dated
//! event (its `reminder_minutes` before the end, 60 by default) that invokes event-slack with
//! [`Reminder`]. The end may have moved since the schedule was made, so the reminder reads it again
//! when it fires, as event-stop does:
//! - the end (scheduled, extended or held) is further off than the lead time: nothing is posted,
//!   and the reminder comes back at the new end minus the lead (a one-off schedule, named by the
//!   minute, so the deliveries that move it to the same time make one);
//! - it is within the lead time: the reminder is posted, once per end (a marker in the state bucket
//!   beside the override record);
//! - it has passed, or the event was stopped from Slack: nothing (the stop is under way).
//!
//! An extension or a hold made after the reminder was posted puts the next one at the new end minus
//! the lead ([`App::remind_before`]), so each end people set is announced before it comes.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tracing::{info, warn};

use super::{App, SOON};
use crate::error::{Error, InputError, Result};
use crate::payload::EventId;
use crate::schedules::{EventSchedule, OneOff, Which, remind_at_name};
use crate::slack::{Button, Message};
use crate::slack_app::{EndReason, after, effective_end, human_duration, rfc3339, scheduled_end};

/// The payload of an event's reminder schedule: `{"remind": {"event_id": ..., "before_end_minutes": 60}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    pub remind: RemindOf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemindOf {
    pub event_id: String,
    pub before_end_minutes: u64,
}

/// The longest lead a reminder may have (as `infra/control` allows): a day.
const MAX_LEAD_MINUTES: u64 = 1440;

impl Reminder {
    /// The event and the lead, checked before anything is read.
    pub fn parse(payload: serde_json::Value) -> Result<(EventId, Duration)> {
        let field = |field: &str, reason: String| {
            Error::Input(InputError::Field {
                field: field.to_owned(),
                reason,
            })
        };
        let r: Reminder =
            serde_json::from_value(payload).map_err(|e| field("remind", e.to_string()))?;
        let event = EventId::parse(&r.remind.event_id)
            .map_err(|e| field("remind.event_id", e.to_string()))?;
        let m = r.remind.before_end_minutes;
        if !(1..=MAX_LEAD_MINUTES).contains(&m) {
            return Err(field(
                "remind.before_end_minutes",
                format!("must be from 1 to {MAX_LEAD_MINUTES}, got {m}"),
            ));
        }
        Ok((event, Duration::from_secs(m * 60)))
    }
}

/// What a reminder that fired did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reminded {
    /// Posted, for the end it names.
    Posted { end: OffsetDateTime },
    /// The end is further off: the reminder comes back at `at`, through `schedule`.
    Moved {
        at: OffsetDateTime,
        schedule: String,
    },
    /// Nothing to remind of, and why.
    Nothing(String),
}

impl App {
    /// A reminder of `event`, `lead` before its end, firing at `now`.
    pub async fn remind(
        &self,
        event: &EventId,
        lead: Duration,
        now: OffsetDateTime,
    ) -> Result<Reminded> {
        let nothing = |why: String| {
            info!(event_id = %event, why, "no reminder");
            Ok(Reminded::Nothing(why))
        };
        let Some(stop) = self.ends.stop_schedule(event).await? else {
            return nothing(format!("no schedule {event}-stop in the events map"));
        };
        let end = match scheduled_end(&stop.expression, &stop.timezone) {
            Ok(end) => end,
            Err(e) => return nothing(e.to_string()),
        };
        let record = self.ends.record(event).await?.map(|(r, _)| r);
        if let Some(stopped) = record.as_ref().and_then(|r| r.stopped.as_ref()) {
            return nothing(format!("stopped from Slack by {}", stopped.who.user_name));
        }
        let (effective, reason) = match &record {
            Some(r) => effective_end(end, r, now),
            None => (end, EndReason::Scheduled),
        };
        if effective <= now {
            return nothing(format!("its end {} has passed", rfc3339(effective)));
        }
        let at = effective - lead;
        if at > after(now, SOON) {
            let Some(schedule) = self.remind_at(event, at).await? else {
                return nothing(format!("no schedule {event}-remind in the events map"));
            };
            info!(event_id = %event, at = %rfc3339(at), %schedule, "reminder moved");
            return Ok(Reminded::Moved { at, schedule });
        }
        let marker = reminded_key(event, effective);
        if self.objects.read(&marker).await?.is_some() {
            return nothing(format!(
                "already reminded of the end {}",
                rfc3339(effective)
            ));
        }
        let text = reminder_text(event, &stop, effective, &reason, now);
        let fields = [("Ends", rfc3339(effective)), ("Why", reason.to_string())];
        let buttons = [
            Button::extend_hour(event),
            Button::hold_past(event, effective),
            Button::stop_now(event),
        ];
        self.notifier
            .post_message(&Message {
                event: Some(event),
                fields: &fields,
                buttons: &buttons,
                ..Message::plain(&text)
            })
            .await?;
        // After the post: a reminder Slack did not take is tried again by the invocation's retry.
        // Two deliveries at the same instant may both post; Scheduler delivers at least once.
        if let Err(e) = self.objects.put(&marker, rfc3339(now).as_bytes()).await {
            warn!(event_id = %event, error = %e, "cannot mark the reminder as posted");
        }
        info!(event_id = %event, end = %rfc3339(effective), "reminded");
        Ok(Reminded::Posted { end: effective })
    }

    /// After an end moved to `new_end`: the reminder comes `lead` before it, if that is still
    /// ahead (an earlier reminder's one-off, if any, finds the end moved and does nothing or moves
    /// again). A failure costs the reminder, never the change people asked for.
    pub(super) async fn remind_before(
        &self,
        event: &EventId,
        new_end: OffsetDateTime,
        now: OffsetDateTime,
    ) {
        let remind = match self.ends.schedules.get(event, Which::Remind).await {
            Ok(Some(s)) => s,
            Ok(None) => return,
            Err(e) => {
                warn!(event_id = %event, error = %e, "cannot read the reminder schedule");
                return;
            }
        };
        let Some(lead) = lead_of(&remind) else {
            return;
        };
        let at = new_end - lead;
        if at <= after(now, SOON) {
            return;
        }
        if let Err(e) = self.once_of(event, &remind, at).await {
            warn!(event_id = %event, error = %e, "cannot move the reminder");
        }
    }

    /// A one-off of the event's reminder schedule at `at`; None when the event has none.
    async fn remind_at(&self, event: &EventId, at: OffsetDateTime) -> Result<Option<String>> {
        match self.ends.schedules.get(event, Which::Remind).await? {
            Some(remind) => self.once_of(event, &remind, at).await.map(Some),
            None => Ok(None),
        }
    }

    /// A one-off of `remind` (the event's reminder schedule, already read) at `at`: its name.
    async fn once_of(
        &self,
        event: &EventId,
        remind: &EventSchedule,
        at: OffsetDateTime,
    ) -> Result<String> {
        let name = remind_at_name(event, at);
        self.ends
            .schedules
            .once(&OneOff {
                name: name.clone(),
                at,
                target_arn: &remind.target_arn,
                input: &remind.input,
                description: format!("event-tier: remind of the end of {event}"),
            })
            .await?;
        Ok(name)
    }
}

/// The lead a reminder schedule's payload names; None when it is not a reminder's.
fn lead_of(schedule: &EventSchedule) -> Option<Duration> {
    let payload = serde_json::from_str(&schedule.input).ok()?;
    Reminder::parse(payload).ok().map(|(_, lead)| lead)
}

/// Where a posted reminder is marked, per end: `events/<id>/reminded-<unix minute>`.
fn reminded_key(event: &EventId, end: OffsetDateTime) -> String {
    format!(
        "events/{event}/reminded-{}",
        end.unix_timestamp().div_euclid(60)
    )
}

fn reminder_text(
    event: &EventId,
    stop: &EventSchedule,
    end: OffsetDateTime,
    reason: &EndReason,
    now: OffsetDateTime,
) -> String {
    let left = Duration::from_secs(((end - now).whole_seconds().max(0) as u64).div_ceil(60) * 60);
    let local = local_time(end, &stop.timezone)
        .map(|l| format!("{l} ({})", rfc3339(end)))
        .unwrap_or_else(|| rfc3339(end));
    format!(
        ":alarm_clock: event-tier *{event}*: ends in {}: the tier is destroyed at {local} ({reason}). Extend or hold to keep it up; stop now to end it sooner.",
        human_duration(left)
    )
}

/// `2026-12-25 08:00 Asia/Seoul`: the end as the event's people read it; None in UTC.
fn local_time(t: OffsetDateTime, zone: &str) -> Option<String> {
    if zone.is_empty() || zone == "UTC" {
        return None;
    }
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let at = jiff::Timestamp::from_second(t.unix_timestamp()).ok()?;
    Some(format!(
        "{} {zone}",
        at.to_zoned(tz).strftime("%Y-%m-%d %H:%M")
    ))
}
