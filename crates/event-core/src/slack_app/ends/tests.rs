use super::*;
use crate::slack_app::command::Requester;
use crate::slack_app::overrides::Asked;

const HOUR: Duration = Duration::from_secs(3600);
const CAP: Duration = Duration::from_secs(4 * 3600);

fn utc(s: &str) -> OffsetDateTime {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
}

fn alice() -> Requester {
    Requester {
        user_id: "U012AB3CD".into(),
        user_name: "alice".into(),
    }
}

#[test]
fn a_dated_end_is_read_in_its_time_zone() {
    assert_eq!(
        scheduled_end("at(2026-12-24T23:00:00)", "UTC"),
        Ok(utc("2026-12-24T23:00:00Z"))
    );
    assert_eq!(
        scheduled_end("at(2026-12-24T23:00:00)", ""),
        Ok(utc("2026-12-24T23:00:00Z"))
    );
    // Seoul is UTC+9 all year.
    assert_eq!(
        scheduled_end("at(2026-12-25T08:00:00)", "Asia/Seoul"),
        Ok(utc("2026-12-24T23:00:00Z"))
    );
    // New York in winter is UTC-5, in summer UTC-4.
    assert_eq!(
        scheduled_end("at(2026-12-24T18:00:00)", "America/New_York"),
        Ok(utc("2026-12-24T23:00:00Z"))
    );
    assert_eq!(
        scheduled_end("at(2026-07-04T19:00:00)", "America/New_York"),
        Ok(utc("2026-07-04T23:00:00Z"))
    );
}

#[test]
fn a_time_a_clock_change_skips_is_the_hour_after() {
    // Berlin skips 02:00-03:00 on 2026-03-29: 02:30 does not exist; it is read as 03:30 CEST.
    assert_eq!(
        scheduled_end("at(2026-03-29T02:30:00)", "Europe/Berlin"),
        Ok(utc("2026-03-29T01:30:00Z"))
    );
}

#[test]
fn what_is_not_a_dated_end_is_named() {
    assert_eq!(
        scheduled_end("cron(0 23 ? * FRI *)", "UTC"),
        Err(EndError::Recurring("cron(0 23 ? * FRI *)".into()))
    );
    assert!(matches!(
        scheduled_end("at(2026-12-24 23:00)", "UTC"),
        Err(EndError::Malformed(_))
    ));
    assert_eq!(
        scheduled_end("at(2026-12-24T23:00:00)", "Mars/Olympus"),
        Err(EndError::UnknownZone("Mars/Olympus".into()))
    );
}

#[test]
fn a_stop_before_the_scheduled_end_goes_ahead_whatever_the_record_says() {
    let end = utc("2026-12-24T23:00:00Z");
    let who = alice();
    let mut record = OverrideRecord::new(end);
    let asked = Asked {
        who: &who,
        why: "/event extend winter-sale-2026 2h",
        now: end - 2 * HOUR,
    };
    record.extend(end, 2 * HOUR, CAP, &asked).unwrap();
    assert_eq!(
        at_stop(end, Some(&record), end - HOUR),
        AtStop::Proceed,
        "a person's early stop"
    );
    // The schedule's own stop, a few seconds early or late, defers to the new end.
    for now in [end - Duration::from_secs(30), end + Duration::from_secs(20)] {
        assert_eq!(
            at_stop(end, Some(&record), now),
            AtStop::Defer {
                until: end + 2 * HOUR,
                reason: EndReason::Extended { total: 2 * HOUR }
            }
        );
    }
    // The deferred stop, at the new end, goes ahead.
    assert_eq!(at_stop(end, Some(&record), end + 2 * HOUR), AtStop::Proceed);
    assert_eq!(at_stop(end, None, end), AtStop::Proceed);
}

#[test]
fn an_expired_hold_no_longer_delays_the_stop_and_stop_now_ends_it() {
    let end = utc("2026-12-24T23:00:00Z");
    let who = alice();
    let mut record = OverrideRecord::new(end);
    let asked = |now| Asked {
        who: &who,
        why: "/event hold winter-sale-2026 1h",
        now,
    };
    record
        .hold(end, end + HOUR, CAP, &asked(end - HOUR))
        .unwrap();
    assert!(matches!(
        at_stop(end, Some(&record), end),
        AtStop::Defer { until, .. } if until == end + HOUR
    ));
    assert_eq!(
        at_stop(end, Some(&record), end + HOUR + Duration::from_secs(1)),
        AtStop::Proceed
    );
    // stop-now during the hold: the hold no longer counts.
    let now = end + Duration::from_secs(600);
    record.stop_now(end, &asked(now)).unwrap();
    assert_eq!(at_stop(end, Some(&record), now), AtStop::Proceed);
    assert!(matches!(
        record.extend(end, HOUR, CAP, &asked(now)),
        Err(crate::slack_app::OverrideError::Ended { .. })
    ));
}
