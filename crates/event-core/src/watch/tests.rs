use super::*;

#[test]
fn a_watch_names_the_event_and_what_to_expect_and_nothing_else() {
    let w: Watch =
        serde_json::from_str(r#"{"event_id": "winter-sale", "expect": "down"}"#).unwrap();
    assert_eq!(w.expect, Expect::Down);
    assert_eq!(w.grace_minutes, DEFAULT_GRACE_MINUTES);
    let w: Watch = serde_json::from_str(
        r#"{"event_id": "winter-sale", "expect": "ready", "grace_minutes": 5}"#,
    )
    .unwrap();
    assert_eq!((w.expect, w.grace_minutes), (Expect::Ready, 5));
    for bad in [
        r#"{"event_id": "winter-sale", "expect": "up"}"#,
        r#"{"event_id": "winter-sale"}"#,
        r#"{"event_id": "winter-sale", "expect": "down", "grace": 5}"#,
        r#"{"event_id": "winter-sale", "expect": "down", "grace_minutes": -1}"#,
    ] {
        assert!(serde_json::from_str::<Watch>(bad).is_err(), "{bad}");
    }
}

#[test]
fn a_page_wakes_the_channel_names_every_finding_and_the_runbook_row() {
    let event = EventId::parse("winter-sale").unwrap();
    let watch = Watch {
        event_id: event.to_string(),
        expect: Expect::Down,
        grace_minutes: 30,
    };
    let text = page_text(
        &event,
        &watch,
        &[
            "runner i-0abc is running".into(),
            "its Terraform state still holds 3 resources".into(),
        ],
    );
    assert!(
        text.starts_with(":rotating_light: <!here> *winter-sale* is not down 30 min after its end"),
        "{text}"
    );
    assert!(
        text.contains(
            "\n• runner i-0abc is running\n• its Terraform state still holds 3 resources\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\"Not down after the end\" (docs/runbook.md)"),
        "{text}"
    );
    let ready = Watch {
        expect: Expect::Ready,
        ..watch
    };
    let text = page_text(
        &event,
        &ready,
        &["http: GET http://x/health answered 503 in 3 ms".into()],
    );
    assert!(
        text.contains("*winter-sale* is not ready at its opening (watchdog)"),
        "{text}"
    );
    assert!(text.contains("\"Not ready at the opening\""), "{text}");
}
