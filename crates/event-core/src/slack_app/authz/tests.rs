use super::*;

const SPEC: &str =
    "extend=U012AB3CD,U045EF6GH; hold=U012AB3CD ;release=U012AB3CD;stop-now=U012AB3CD;";

fn person(id: &str, name: &str) -> Requester {
    Requester {
        user_id: id.into(),
        user_name: name.into(),
    }
}

fn policy() -> Policy {
    Policy::parse(SPEC).unwrap()
}

#[test]
fn each_action_has_its_own_list() {
    let p = policy();
    let alice = person("U012AB3CD", "alice");
    let bob = person("U045EF6GH", "bob");
    for action in [
        Action::Extend,
        Action::Hold,
        Action::Release,
        Action::StopNow,
    ] {
        assert_eq!(p.check(action, &alice, None), Ok(()), "{action}");
    }
    assert_eq!(p.check(Action::Extend, &bob, None), Ok(()));
    for action in [
        Action::Hold,
        Action::Release,
        Action::StopNow,
        Action::Retry,
    ] {
        assert!(p.check(action, &bob, None).is_err(), "{action}");
    }
    assert_eq!(
        p.allowed(Action::Extend).collect::<Vec<_>>(),
        ["U012AB3CD", "U045EF6GH"]
    );
}

#[test]
fn status_is_open_to_anyone() {
    let stranger = person("U999", "eve");
    assert_eq!(
        policy().check(Action::Status, &stranger, Some("C1")),
        Ok(())
    );
    assert_eq!(
        Policy::default().check(Action::Status, &stranger, None),
        Ok(())
    );
}

#[test]
fn a_refusal_names_the_action_and_the_user() {
    let eve = person("U999", "eve");
    let err = policy().check(Action::StopNow, &eve, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "<@U999> (eve) may not stop-now: ask <@U012AB3CD>"
    );
    assert_eq!(err.status(), 403);
    let err = policy().check(Action::Extend, &eve, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "<@U999> (eve) may not extend: ask <@U012AB3CD>, <@U045EF6GH>"
    );
    // An action left out of the setting is refused to everyone, and says so.
    let err = policy().check(Action::Retry, &eve, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "<@U999> (eve) may not retry: nobody may retry from Slack (its allow-list is empty)"
    );
    assert_eq!(
        err,
        Refused::NotAllowed {
            action: Action::Retry,
            requester: eve,
            allowed: vec![]
        }
    );
}

#[test]
fn names_do_not_grant_anything_ids_do() {
    // Someone who renamed themselves "U012AB3CD" is still not that user.
    let impostor = person("U777", "U012AB3CD");
    assert!(policy().check(Action::StopNow, &impostor, None).is_err());
}

#[test]
fn outside_the_event_channel_nothing_is_taken() {
    let p = policy().in_channel("C0EVENTS");
    let alice = person("U012AB3CD", "alice");
    assert_eq!(p.check(Action::Extend, &alice, Some("C0EVENTS")), Ok(()));
    for channel in [Some("C0OTHER"), None] {
        let err = p.check(Action::Status, &alice, channel).unwrap_err();
        assert_eq!(
            err.to_string(),
            "status is taken only in the event channel <#C0EVENTS>"
        );
        assert!(p.check(Action::Extend, &alice, channel).is_err());
    }
}

#[test]
fn a_parsed_request_is_checked_by_its_action() {
    let request = Request {
        command: crate::slack_app::Command::StopNow {
            event: crate::payload::EventId::parse("winter-sale-2026").unwrap(),
        },
        requester: person("U045EF6GH", "bob"),
        response_url: "https://hooks.slack.com/x".into(),
        channel_id: Some("C0EVENTS".into()),
        text: "/event stop-now winter-sale-2026".into(),
    };
    assert!(matches!(
        policy().check_request(&request),
        Err(Refused::NotAllowed {
            action: Action::StopNow,
            ..
        })
    ));
}

#[test]
fn a_bad_setting_is_an_error_that_says_what() {
    let err = |spec: &str| Policy::parse(spec).unwrap_err().to_string();
    assert_eq!(
        err("stop_now=U1"),
        "slack allow-lists: `stop_now` is not an action (one of extend, hold, release, stop-now, retry)"
    );
    assert_eq!(
        err("status=U1"),
        "slack allow-lists: status is open to anyone in the channel and takes no list"
    );
    assert_eq!(
        err("extend=U1;extend=U2"),
        "slack allow-lists: extend is given twice"
    );
    assert_eq!(
        err("extend=u012ab3cd"),
        "slack allow-lists: `u012ab3cd` (for extend) is not a Slack user id, like U012AB3CD"
    );
    assert!(err("extend=@alice").contains("`@alice`"));
    assert!(err("extend=C0EVENTS").contains("not a Slack user id"));
    assert_eq!(
        err("extend U1"),
        "slack allow-lists: `extend U1` is not action=ids"
    );
}

#[test]
fn an_empty_setting_allows_status_only() {
    let p = Policy::parse("").unwrap();
    let alice = person("U012AB3CD", "alice");
    assert_eq!(p.check(Action::Status, &alice, None), Ok(()));
    for action in Action::GUARDED {
        assert!(p.check(action, &alice, None).is_err(), "{action}");
    }
    // `extend=` is an explicit empty list; Enterprise Grid ids start with W.
    let p = Policy::parse("extend=;hold=W0123ABCD").unwrap();
    assert!(p.check(Action::Extend, &alice, None).is_err());
    assert_eq!(
        p.check(Action::Hold, &person("W0123ABCD", "wes"), None),
        Ok(())
    );
}

#[test]
fn actions_read_back_as_written() {
    for action in [Action::Status].into_iter().chain(Action::GUARDED) {
        assert_eq!(action.as_str().parse::<Action>(), Ok(action));
    }
    assert_eq!(Action::StopNow.to_string(), "stop-now");
}
