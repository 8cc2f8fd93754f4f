//! An event's override record: the extensions and holds people asked for in Slack, kept in the
//! state bucket at [`override_key`], and the end they make ([`effective_end`]), which event-stop and
//! the end watchdog obey instead of the schedule's.
//!
//! Overrides are bounded three ways, because the people asking are awake at 23:50 and the tier
//! costs money:
//! - a cap on how far past the scheduled end any override may take the end: extensions add up
//!   against it (the total is kept apart from the entries, so trimming them cannot reopen it), and a
//!   hold may not reach past the scheduled end plus the cap;
//! - a hold expires by itself at its `until` (or earlier by `release`); once passed it is ignored;
//! - a record made against another scheduled end (the event was moved in the events map, or its
//!   id reused) is ignored, and the next change starts it afresh.
//!
//! Every change is an entry saying who, when, why (the command text) and the end it made; only the
//! last [`MAX_ENTRIES`] are kept. Two changes at once must not lose one: the wiring writes the
//! record back only if it is unchanged since read (S3 `If-Match` on its ETag) and retries otherwise.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::command::Requester;
use super::{after, human_duration, rfc3339};
use crate::payload::EventId;

#[cfg(test)]
mod tests;

/// Entries kept in a record; older ones are dropped (the total extension is kept apart).
pub const MAX_ENTRIES: usize = 50;
/// Characters of a "why" or a user name kept in an entry.
pub const MAX_TEXT: usize = 200;
/// The largest cap a configuration may set; [`effective_end`] never goes further past the
/// scheduled end, whatever a record holds.
pub const MAX_CAP: Duration = Duration::from_secs(7 * 24 * 3600);

/// Where an event's override record lives in the state bucket.
pub fn override_key(event: &EventId) -> String {
    format!("events/{event}/override.json")
}

/// One change to the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Change {
    Extend {
        by_secs: u64,
    },
    Hold {
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    Release,
    /// `stop-now`: the end is now, whatever was extended or held.
    StopNow,
}

/// A change, who asked for it, when, why, and the end it made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub change: Change,
    pub who: Requester,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub why: String,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
}

/// The hold in force (until it passes or is released).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    pub who: Requester,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverrideRecord {
    /// The scheduled end the overrides were made against.
    #[serde(with = "time::serde::rfc3339")]
    pub scheduled_end: OffsetDateTime,
    /// The sum of every extension granted against that end, in seconds.
    pub extended_secs: u64,
    pub hold: Option<Hold>,
    /// `stop-now` was asked (the time it was asked, and by whom): the end is then, for good.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Hold>,
    /// The newest last; at most [`MAX_ENTRIES`].
    pub entries: Vec<Entry>,
}

/// Who asks for a change, when, and in what words.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub who: &'a Requester,
    pub why: &'a str,
    pub now: OffsetDateTime,
}

/// Why the event ends when it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    Scheduled,
    Extended {
        total: Duration,
    },
    Held {
        until: OffsetDateTime,
        who: Requester,
    },
    /// `stop-now` was asked at `at`.
    StoppedNow {
        at: OffsetDateTime,
        who: Requester,
    },
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EndReason::Scheduled => f.write_str("as scheduled"),
            EndReason::Extended { total } => {
                write!(f, "extended by {} in all", human_duration(*total))
            }
            EndReason::Held { until, who } => {
                write!(f, "held by {} until {}", who.user_name, rfc3339(*until))
            }
            EndReason::StoppedNow { at, who } => {
                write!(f, "stopped now by {} at {}", who.user_name, rfc3339(*at))
            }
        }
    }
}

/// A change refused; the message is for the person who asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error("extending by {} would make {} in all, past the cap of {} per event; {} left", human_duration(*asked), human_duration(used.saturating_add(*asked)), human_duration(*cap), human_duration(cap.saturating_sub(*used)))]
    PastCap {
        cap: Duration,
        used: Duration,
        asked: Duration,
    },
    #[error("a hold until {} reaches past {}, the scheduled end plus the cap of {} per event", rfc3339(*until), rfc3339(*latest), human_duration(*cap))]
    HoldPastCap {
        until: OffsetDateTime,
        latest: OffsetDateTime,
        cap: Duration,
    },
    #[error("the event ended at {}; it is being stopped", rfc3339(*end))]
    Ended { end: OffsetDateTime },
    #[error("there is no hold to release")]
    NoHold,
}

/// When the event ends at `now`, given its scheduled end and its override record, and why.
/// A hold that has passed, and a record made against another scheduled end, change nothing; the
/// end never goes more than [`MAX_CAP`] past the scheduled end. An end in the past means: stop now.
pub fn effective_end(
    scheduled_end: OffsetDateTime,
    record: &OverrideRecord,
    now: OffsetDateTime,
) -> (OffsetDateTime, EndReason) {
    if record.scheduled_end != scheduled_end {
        return (scheduled_end, EndReason::Scheduled);
    }
    if let Some(stopped) = &record.stopped {
        return (
            stopped.until,
            EndReason::StoppedNow {
                at: stopped.until,
                who: stopped.who.clone(),
            },
        );
    }
    let latest = after(scheduled_end, MAX_CAP);
    let total = Duration::from_secs(record.extended_secs).min(MAX_CAP);
    let extended = after(scheduled_end, total);
    match &record.hold {
        Some(hold) if hold.until > now && hold.until > extended => (
            hold.until.min(latest),
            EndReason::Held {
                until: hold.until.min(latest),
                who: hold.who.clone(),
            },
        ),
        _ if total.is_zero() => (scheduled_end, EndReason::Scheduled),
        _ => (extended, EndReason::Extended { total }),
    }
}

impl OverrideRecord {
    /// A record with no override, for the event's scheduled end.
    pub fn new(scheduled_end: OffsetDateTime) -> Self {
        Self {
            scheduled_end,
            extended_secs: 0,
            hold: None,
            stopped: None,
            entries: Vec::new(),
        }
    }

    /// Moves the end `by` later; refused past the cap or once the event has ended.
    /// Returns the new end.
    pub fn extend(
        &mut self,
        scheduled_end: OffsetDateTime,
        by: Duration,
        cap: Duration,
        asked: &Asked<'_>,
    ) -> Result<OffsetDateTime, OverrideError> {
        self.open(scheduled_end, asked.now)?;
        let used = Duration::from_secs(self.extended_secs);
        let cap = cap.min(MAX_CAP);
        if used.saturating_add(by) > cap {
            return Err(OverrideError::PastCap {
                cap,
                used,
                asked: by,
            });
        }
        self.extended_secs = (used + by).as_secs();
        Ok(self.record(
            scheduled_end,
            Change::Extend {
                by_secs: by.as_secs(),
            },
            asked,
        ))
    }

    /// Keeps the tier up until `until` (replacing any earlier hold); refused past the scheduled
    /// end plus the cap, or once the event has ended. Returns the new end.
    pub fn hold(
        &mut self,
        scheduled_end: OffsetDateTime,
        until: OffsetDateTime,
        cap: Duration,
        asked: &Asked<'_>,
    ) -> Result<OffsetDateTime, OverrideError> {
        self.open(scheduled_end, asked.now)?;
        let cap = cap.min(MAX_CAP);
        let latest = after(scheduled_end, cap);
        if until > latest {
            return Err(OverrideError::HoldPastCap { until, latest, cap });
        }
        self.hold = Some(Hold {
            until,
            who: bounded(asked.who),
        });
        Ok(self.record(scheduled_end, Change::Hold { until }, asked))
    }

    /// Ends the hold in force; extensions stay. Returns the new end (it may have passed: then the
    /// event is stopped now).
    pub fn release(
        &mut self,
        scheduled_end: OffsetDateTime,
        asked: &Asked<'_>,
    ) -> Result<OffsetDateTime, OverrideError> {
        self.restart_if_other(scheduled_end);
        if self.hold.as_ref().is_none_or(|h| h.until <= asked.now) {
            return Err(OverrideError::NoHold);
        }
        self.hold = None;
        Ok(self.record(scheduled_end, Change::Release, asked))
    }

    /// Ends the event now (`stop-now`): holds and extensions no longer count, and nothing can move
    /// the end again. Refused once the event has ended. Returns the new end (now).
    pub fn stop_now(
        &mut self,
        scheduled_end: OffsetDateTime,
        asked: &Asked<'_>,
    ) -> Result<OffsetDateTime, OverrideError> {
        self.restart_if_other(scheduled_end);
        if let Some(stopped) = &self.stopped {
            return Err(OverrideError::Ended { end: stopped.until });
        }
        self.hold = None;
        self.stopped = Some(Hold {
            until: asked.now,
            who: bounded(asked.who),
        });
        Ok(self.record(scheduled_end, Change::StopNow, asked))
    }

    /// Starts afresh when the record was made against another scheduled end.
    fn restart_if_other(&mut self, scheduled_end: OffsetDateTime) {
        if self.scheduled_end != scheduled_end {
            *self = Self::new(scheduled_end);
        }
    }

    /// Ready for a change that moves the end later: the event must not have ended.
    fn open(
        &mut self,
        scheduled_end: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), OverrideError> {
        self.restart_if_other(scheduled_end);
        let (end, _) = effective_end(scheduled_end, self, now);
        if end <= now {
            return Err(OverrideError::Ended { end });
        }
        Ok(())
    }

    /// Appends the entry of a change just made, drops the oldest beyond [`MAX_ENTRIES`], and
    /// returns the end it made.
    fn record(
        &mut self,
        scheduled_end: OffsetDateTime,
        change: Change,
        asked: &Asked<'_>,
    ) -> OffsetDateTime {
        let (end, _) = effective_end(scheduled_end, self, asked.now);
        self.entries.push(Entry {
            change,
            who: bounded(asked.who),
            at: asked.now,
            why: truncate(asked.why),
            end,
        });
        let excess = self.entries.len().saturating_sub(MAX_ENTRIES);
        self.entries.drain(..excess);
        end
    }
}

fn bounded(who: &Requester) -> Requester {
    Requester {
        user_id: truncate(&who.user_id),
        user_name: truncate(&who.user_name),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}
