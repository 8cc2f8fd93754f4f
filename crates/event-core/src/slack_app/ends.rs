//! When an event ends, as an instant: its stop schedule says `at(2026-12-24T23:00:00)` in the
//! event's IANA time zone (EventBridge Scheduler evaluates it there, `infra/control/schedules.tf`),
//! and the time zone database (bundled with `jiff`, so a function does not depend on the image's
//! `/usr/share/zoneinfo`) turns that wall-clock time into UTC. And what a stop that fires must do,
//! given the event's override record ([`at_stop`]).

use std::time::Duration;

use time::OffsetDateTime;

use super::overrides::{EndReason, OverrideRecord, effective_end};

#[cfg(test)]
mod tests;

/// How early a stop may fire and still count as the schedule's: Scheduler fires an `at()` schedule
/// within its minute, and a clock may be a little off.
pub const STOP_GRACE: Duration = Duration::from_secs(120);

/// Why an event's end cannot be read from its stop schedule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndError {
    /// A recurring event (`cron(...)`) has an end each time; Slack overrides are for dated events.
    #[error(
        "its stop schedule is recurring ({0}): extend and hold apply to dated events; change a recurring event's schedule in the events map"
    )]
    Recurring(String),
    #[error("its stop schedule's expression {0:?} is not at(YYYY-MM-DDThh:mm:ss)")]
    Malformed(String),
    #[error("its stop schedule's time zone {0:?} is not a time zone the function knows")]
    UnknownZone(String),
    #[error("{expression} in {zone} is not a time that exists: {reason}")]
    NoSuchTime {
        expression: String,
        zone: String,
        reason: String,
    },
}

/// The instant an `at(...)` expression names in `zone` (an IANA name, or empty for UTC). A
/// wall-clock time skipped by a daylight-saving change is read as the hour after; one that
/// happens twice, as the first.
pub fn scheduled_end(expression: &str, zone: &str) -> Result<OffsetDateTime, EndError> {
    if expression.starts_with("cron(") || expression.starts_with("rate(") {
        return Err(EndError::Recurring(expression.to_owned()));
    }
    let wall = expression
        .strip_prefix("at(")
        .and_then(|s| s.strip_suffix(')'))
        .ok_or_else(|| EndError::Malformed(expression.to_owned()))?;
    // Scheduler's own shape only: jiff alone would also take `2026-12-24 23:00`.
    let shaped = wall.len() == 19
        && wall.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    let civil: jiff::civil::DateTime = wall
        .parse()
        .ok()
        .filter(|_| shaped)
        .ok_or_else(|| EndError::Malformed(expression.to_owned()))?;
    let zone_name = if zone.is_empty() { "UTC" } else { zone };
    let tz = jiff::tz::TimeZone::get(zone_name)
        .map_err(|_| EndError::UnknownZone(zone_name.to_owned()))?;
    let no_such = |reason: String| EndError::NoSuchTime {
        expression: expression.to_owned(),
        zone: zone_name.to_owned(),
        reason,
    };
    let zoned = tz
        .to_ambiguous_zoned(civil)
        .compatible()
        .map_err(|e| no_such(e.to_string()))?;
    OffsetDateTime::from_unix_timestamp(zoned.timestamp().as_second())
        .map_err(|e| no_such(e.to_string()))
}

/// What a stop does when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtStop {
    /// Stop now: nothing moved the end past now (or a person stopped before the scheduled end).
    Proceed,
    /// The end was moved by Slack: come back at `until`.
    Defer {
        until: OffsetDateTime,
        reason: EndReason,
    },
}

/// A stop fired at `now` for an event whose schedule ends it at `scheduled_end`. A stop before
/// the scheduled end (less [`STOP_GRACE`]) is a person's, and goes ahead: overrides only ever move
/// the end later than the schedule's, never earlier. From the scheduled end on, the override
/// record decides: an end still ahead (extended, held) defers the stop to it.
pub fn at_stop(
    scheduled_end: OffsetDateTime,
    record: Option<&OverrideRecord>,
    now: OffsetDateTime,
) -> AtStop {
    let Some(record) = record else {
        return AtStop::Proceed;
    };
    if super::after(now, STOP_GRACE) < scheduled_end {
        return AtStop::Proceed;
    }
    let (end, reason) = effective_end(scheduled_end, record, now);
    // Within a minute is now: Scheduler would fire the deferred stop at once anyway.
    if end > super::after(now, Duration::from_secs(60)) {
        AtStop::Defer { until: end, reason }
    } else {
        AtStop::Proceed
    }
}
