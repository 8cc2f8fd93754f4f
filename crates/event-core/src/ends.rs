//! An event's end as event-stop and the Slack app see it: the stop schedule the events map made
//! (its time, time zone, target and payload), the override record people changed from Slack (in
//! the state bucket, beside the Terraform state), and the one-off schedules that move the stop to
//! the end they make. The rules are pure, in [`crate::slack_app`]; this is their I/O.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::payload::EventId;
use crate::records::Objects;
use crate::schedules::{EventSchedule, EventSchedules, OneOff, Which, stop_at_name};
use crate::slack_app::{AtStop, OverrideError, OverrideRecord, at_stop, override_key};

/// Attempts at a change of the override record that another change keeps overtaking.
const CHANGE_ATTEMPTS: usize = 5;

pub struct Ends {
    pub schedules: Arc<dyn EventSchedules>,
    objects: Arc<dyn Objects>,
}

impl Ends {
    pub fn new(schedules: Arc<dyn EventSchedules>, objects: Arc<dyn Objects>) -> Self {
        Self { schedules, objects }
    }

    /// The state bucket the records are kept in.
    pub fn objects(&self) -> Arc<dyn Objects> {
        self.objects.clone()
    }

    /// The event's stop schedule; None when the events map has no such event.
    pub async fn stop_schedule(&self, event: &EventId) -> Result<Option<EventSchedule>> {
        self.schedules.get(event, Which::Stop).await
    }

    /// The event's override record and its version; None when nobody changed the end.
    pub async fn record(&self, event: &EventId) -> Result<Option<(OverrideRecord, String)>> {
        let Some((body, version)) = self.objects.read_versioned(&override_key(event)).await? else {
            return Ok(None);
        };
        let record = serde_json::from_slice(&body).map_err(|e| {
            Error::Config(format!(
                "{} is not an override record ({e}); delete it to clear the overrides",
                override_key(event)
            ))
        })?;
        Ok(Some((record, version)))
    }

    /// Applies `change` to the event's record (a fresh one for `scheduled_end` when there is none)
    /// and writes it back only if nobody changed it meanwhile; otherwise reads it again and
    /// redoes the change. The end the change made, or why it was refused.
    pub async fn change<F>(
        &self,
        event: &EventId,
        scheduled_end: OffsetDateTime,
        change: F,
    ) -> Result<std::result::Result<OffsetDateTime, OverrideError>>
    where
        F: Fn(&mut OverrideRecord) -> std::result::Result<OffsetDateTime, OverrideError>,
    {
        let key = override_key(event);
        for _ in 0..CHANGE_ATTEMPTS {
            let (mut record, version) = match self.record(event).await? {
                Some((r, v)) => (r, Some(v)),
                None => (OverrideRecord::new(scheduled_end), None),
            };
            let end = match change(&mut record) {
                Ok(end) => end,
                Err(refused) => return Ok(Err(refused)),
            };
            let body = serde_json::to_vec_pretty(&record)
                .map_err(|e| Error::Config(format!("override record: {e}")))?;
            if self
                .objects
                .replace(&key, &body, version.as_deref())
                .await?
            {
                return Ok(Ok(end));
            }
        }
        Err(Error::Aws {
            service: "s3",
            operation: "PutObject",
            code: Some("PreconditionFailed".into()),
            message: format!(
                "{key}: other changes kept overtaking this one ({CHANGE_ATTEMPTS} attempts); ask again"
            ),
            transient: true,
        })
    }

    /// What a stop of `event` firing at `now` must do, and the schedule it read; None when the
    /// event has no stop schedule of the events map (a stop by hand of an event not in it).
    pub async fn at_stop(
        &self,
        event: &EventId,
        now: OffsetDateTime,
    ) -> Result<Option<(AtStop, EventSchedule)>> {
        let Some(stop) = self.stop_schedule(event).await? else {
            return Ok(None);
        };
        // A recurring event's stop has no single end to move: it stops as scheduled.
        let Ok(end) = crate::slack_app::scheduled_end(&stop.expression, &stop.timezone) else {
            return Ok(Some((AtStop::Proceed, stop)));
        };
        let record = self.record(event).await?.map(|(r, _)| r);
        Ok(Some((at_stop(end, record.as_ref(), now), stop)))
    }

    /// A one-off schedule that invokes the event's stop at `at` with its schedule's payload;
    /// its name (the same for every call with the same minute, so duplicates make one).
    pub async fn stop_at(
        &self,
        event: &EventId,
        stop: &EventSchedule,
        at: OffsetDateTime,
        why: &str,
    ) -> Result<String> {
        let name = stop_at_name(event, at);
        self.schedules
            .once(&OneOff {
                name: name.clone(),
                at,
                target_arn: &stop.target_arn,
                input: &stop.input,
                description: format!(
                    "event-tier: stop {event} at {}: {why}",
                    crate::slack_app::rfc3339(at)
                ),
            })
            .await?;
        Ok(name)
    }
}
