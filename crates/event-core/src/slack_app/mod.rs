//! The Slack app's side of issue 15: what a request from Slack must prove before anything happens,
//! what it asks for, who may ask it, and the override record it leaves for event-stop.
//!
//! A request goes through the parts in this order, and the first refusal ends it:
//! 1. [`verify()`]: the signature and its 5-minute window (401 when refused); the caller then claims
//!    the request's [`replay_key`] with a conditional create, and a second claim is a replay (401);
//! 2. [`command`] and [`buttons`]: the form body as Slack sends it, a slash command or a button,
//!    into a [`Request`]
//!    (a mistake is answered to the person with the usage line);
//! 3. [`authz`]: the action against its allow-list (403);
//! 4. [`overrides`]: `extend`, `hold` and `release` change the event's override record, capped and
//!    self-expiring; [`effective_end`] is what event-stop and the end watchdog obey.
//!
//! Nothing here does I/O or reads a clock: the caller passes `now`, so every edge is tested in
//! microseconds. Times are [`time::OffsetDateTime`] in UTC; amounts are [`std::time::Duration`].

pub mod authz;
pub mod buttons;
pub mod command;
pub mod ends;
pub mod overrides;
pub mod verify;

pub use authz::{Action, Policy, PolicyError, Refused};
pub use command::{Command, CommandError, CommandSettings, Request, Requester, RetryOf};
pub use ends::{AtStop, EndError, at_stop, scheduled_end};
pub use overrides::{
    Asked, Change, EndReason, Entry, Hold, MAX_CAP, OverrideError, OverrideRecord, effective_end,
    override_key,
};
pub use verify::{Signed, Verified, VerifyError, replay_key, sign, verify};

use std::time::Duration;

use time::OffsetDateTime;

/// `t` moved forward by `d`, saturating at the largest time `time` can hold rather than panicking
/// (a hand-edited record or schedule must not crash the function).
pub(crate) fn after(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    t.saturating_add(time::Duration::try_from(d).unwrap_or(time::Duration::MAX))
}

/// `1h30m`, `45m`, `2h`, `90s`: a duration the way people write it in a command.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, s) = (s / 3600, s % 3600 / 60, s % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// An RFC 3339 rendering of a time, for messages (`2026-12-24T23:00:00Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_they_are_typed() {
        assert_eq!(human_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human_duration(Duration::from_secs(2700)), "45m");
        assert_eq!(human_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(human_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(human_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn a_time_far_out_saturates_instead_of_panicking() {
        let end = OffsetDateTime::from_unix_timestamp(1_798_153_200).unwrap();
        assert_eq!(rfc3339(end), "2026-12-24T23:00:00Z");
        let far = after(end, Duration::from_secs(u64::MAX));
        assert!(far > end);
    }
}
