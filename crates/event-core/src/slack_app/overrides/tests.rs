use super::*;

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);
const CAP: Duration = Duration::from_secs(4 * 3600);

/// 2026-12-24T23:00:00Z.
fn end() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_798_153_200).unwrap()
}

fn alice() -> Requester {
    Requester {
        user_id: "U012AB3CD".into(),
        user_name: "alice".into(),
    }
}

fn asked(who: &Requester, now: OffsetDateTime) -> Asked<'_> {
    Asked {
        who,
        why: "/event extend winter-sale-2026 1h",
        now,
    }
}

/// Ten minutes before the scheduled end.
fn before_end() -> OffsetDateTime {
    end() - 10 * MINUTE
}

#[test]
fn the_record_is_kept_beside_the_state() {
    let event = crate::payload::EventId::parse("winter-sale-2026").unwrap();
    assert_eq!(
        override_key(&event),
        "events/winter-sale-2026/override.json"
    );
}

#[test]
fn without_overrides_the_schedule_decides() {
    let record = OverrideRecord::new(end());
    assert_eq!(
        effective_end(end(), &record, before_end()),
        (end(), EndReason::Scheduled)
    );
}

#[test]
fn extensions_add_up_to_the_cap_and_not_a_minute_more() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    assert_eq!(
        record.extend(end(), HOUR, CAP, &asked(&who, before_end())),
        Ok(end() + HOUR)
    );
    // Exactly at the cap passes.
    assert_eq!(
        record.extend(end(), 3 * HOUR, CAP, &asked(&who, before_end())),
        Ok(end() + CAP)
    );
    assert_eq!(
        effective_end(end(), &record, before_end()),
        (end() + CAP, EndReason::Extended { total: CAP })
    );
    // One minute past it is refused, naming the cap and what is left.
    let err = record
        .extend(end(), MINUTE, CAP, &asked(&who, before_end()))
        .unwrap_err();
    assert_eq!(
        err,
        OverrideError::PastCap {
            cap: CAP,
            used: CAP,
            asked: MINUTE
        }
    );
    assert_eq!(
        err.to_string(),
        "extending by 1m would make 4h1m in all, past the cap of 4h per event; 0s left"
    );
    assert_eq!(record.extended_secs, CAP.as_secs());
    assert_eq!(record.entries.len(), 2);
}

#[test]
fn a_refusal_says_how_much_is_left() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    record
        .extend(end(), 3 * HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    let err = record
        .extend(end(), HOUR + MINUTE, CAP, &asked(&who, before_end()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "extending by 1h1m would make 4h1m in all, past the cap of 4h per event; 1h left"
    );
}

#[test]
fn each_change_says_who_when_why_and_the_end_it_made() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    record
        .extend(end(), HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    assert_eq!(
        record.entries,
        [Entry {
            change: Change::Extend { by_secs: 3600 },
            who: alice(),
            at: before_end(),
            why: "/event extend winter-sale-2026 1h".into(),
            end: end() + HOUR,
        }]
    );
}

#[test]
fn a_hold_keeps_the_tier_up_until_it_expires() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    let until = end() + 2 * HOUR;
    assert_eq!(
        record.hold(end(), until, CAP, &asked(&who, before_end())),
        Ok(until)
    );
    let held = EndReason::Held {
        until,
        who: alice(),
    };
    assert_eq!(
        effective_end(end(), &record, before_end()),
        (until, held.clone())
    );
    assert_eq!(effective_end(end(), &record, until - MINUTE), (until, held));
    // Expired: it no longer moves the end (which has passed: stop now).
    assert_eq!(
        effective_end(end(), &record, until),
        (end(), EndReason::Scheduled)
    );
    assert_eq!(
        effective_end(end(), &record, until + HOUR),
        (end(), EndReason::Scheduled)
    );
}

#[test]
fn a_hold_inside_the_extension_changes_nothing() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    record
        .extend(end(), 2 * HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    assert_eq!(
        record.hold(end(), end() + HOUR, CAP, &asked(&who, before_end())),
        Ok(end() + 2 * HOUR)
    );
    assert_eq!(
        effective_end(end(), &record, before_end()).1,
        EndReason::Extended { total: 2 * HOUR }
    );
}

#[test]
fn a_hold_may_not_reach_past_the_cap() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    assert_eq!(
        record.hold(end(), end() + CAP, CAP, &asked(&who, before_end())),
        Ok(end() + CAP)
    );
    let err = record
        .hold(end(), end() + CAP + MINUTE, CAP, &asked(&who, before_end()))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a hold until 2026-12-25T03:01:00Z reaches past 2026-12-25T03:00:00Z, the scheduled end plus the cap of 4h per event"
    );
}

#[test]
fn release_ends_a_hold_but_keeps_extensions() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    record
        .extend(end(), HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    record
        .hold(end(), end() + 3 * HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    assert_eq!(record.release(end(), &asked(&who, end())), Ok(end() + HOUR));
    assert_eq!(record.hold, None);
    assert_eq!(
        effective_end(end(), &record, end()),
        (end() + HOUR, EndReason::Extended { total: HOUR })
    );
    assert_eq!(record.entries.last().unwrap().change, Change::Release);
    // Nothing left to release; nor is an expired hold.
    assert_eq!(
        record.release(end(), &asked(&who, end())),
        Err(OverrideError::NoHold)
    );
    record
        .hold(end(), end() + 2 * HOUR, CAP, &asked(&who, end()))
        .unwrap();
    assert_eq!(
        record.release(end(), &asked(&who, end() + 2 * HOUR)),
        Err(OverrideError::NoHold)
    );
}

#[test]
fn nothing_moves_an_end_that_has_passed() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    let err = record
        .extend(end(), HOUR, CAP, &asked(&who, end()))
        .unwrap_err();
    assert_eq!(err, OverrideError::Ended { end: end() });
    assert_eq!(
        err.to_string(),
        "the event ended at 2026-12-24T23:00:00Z; it is being stopped"
    );
    assert!(
        record
            .hold(end(), end() + HOUR, CAP, &asked(&who, end() + MINUTE))
            .is_err()
    );
    assert!(record.entries.is_empty());
}

#[test]
fn a_record_for_another_schedule_is_ignored_and_started_afresh() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    record
        .extend(end(), CAP, CAP, &asked(&who, before_end()))
        .unwrap();
    let moved = end() + 24 * HOUR;
    assert_eq!(
        effective_end(moved, &record, before_end()),
        (moved, EndReason::Scheduled)
    );
    // The cap counts afresh against the new end.
    assert_eq!(
        record.extend(moved, HOUR, CAP, &asked(&who, before_end())),
        Ok(moved + HOUR)
    );
    assert_eq!(record.scheduled_end, moved);
    assert_eq!(record.entries.len(), 1);
}

#[test]
fn the_record_is_bounded_and_trimming_keeps_the_cap() {
    let who = alice();
    let long = "x".repeat(10 * MAX_TEXT);
    let mut record = OverrideRecord::new(end());
    for _ in 0..(2 * MAX_ENTRIES) {
        let asked = Asked {
            who: &who,
            why: &long,
            now: before_end(),
        };
        record.extend(end(), MINUTE, 24 * HOUR, &asked).unwrap();
    }
    assert_eq!(record.entries.len(), MAX_ENTRIES);
    assert_eq!(record.extended_secs, 2 * MAX_ENTRIES as u64 * 60);
    assert!(
        record
            .entries
            .iter()
            .all(|e| e.why.chars().count() == MAX_TEXT)
    );
    // The newest entry is the last, and holds the whole total.
    assert_eq!(
        record.entries.last().unwrap().end,
        end() + MINUTE * (2 * MAX_ENTRIES) as u32
    );
}

#[test]
fn no_record_keeps_the_tier_up_past_the_largest_cap() {
    let mut record = OverrideRecord::new(end());
    record.extended_secs = u64::MAX;
    assert_eq!(
        effective_end(end(), &record, before_end()).0,
        end() + MAX_CAP
    );
    record.hold = Some(Hold {
        until: end() + 30 * 24 * HOUR,
        who: alice(),
    });
    assert_eq!(
        effective_end(end(), &record, before_end()).0,
        end() + MAX_CAP
    );
}

#[test]
fn the_record_round_trips_through_json() {
    let who = alice();
    let mut record = OverrideRecord::new(end());
    record
        .extend(end(), HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    record
        .hold(end(), end() + 2 * HOUR, CAP, &asked(&who, before_end()))
        .unwrap();
    record.release(end(), &asked(&who, before_end())).unwrap();
    let json = serde_json::to_string(&record).unwrap();
    assert!(
        json.contains(r#""scheduled_end":"2026-12-24T23:00:00Z""#),
        "{json}"
    );
    assert!(json.contains(r#""kind":"extend","by_secs":3600"#), "{json}");
    assert!(json.contains(r#""kind":"release""#), "{json}");
    let back: OverrideRecord = serde_json::from_str(&json).unwrap();
    assert_eq!(back, record);
    assert_eq!(
        EndReason::Held {
            until: end(),
            who: alice()
        }
        .to_string(),
        "held by alice until 2026-12-24T23:00:00Z"
    );
}
