use super::*;

/// 2026-12-24T22:00:00Z.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_798_149_600).unwrap()
}

fn settings() -> CommandSettings {
    CommandSettings::default()
}

fn slash_body(text: &str) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("command", "/event")
        .append_pair("text", text)
        .append_pair("user_id", "U012AB3CD")
        .append_pair("user_name", "alice")
        .append_pair("channel_id", "C0EVENTS")
        .append_pair("response_url", "https://hooks.slack.com/commands/T1/2/abc")
        .append_pair("trigger_id", "13345224609.738474920.8088930838d88f008e0")
        .finish()
        .into_bytes()
}

fn slash(text: &str) -> Result<Request, CommandError> {
    settings().parse(&slash_body(text), now())
}

fn command(text: &str) -> Command {
    slash(text).unwrap().command
}

/// The problem and usage line of a refused command.
fn refusal(text: &str) -> (String, String) {
    match slash(text) {
        Err(CommandError::Usage { problem, usage }) => (problem, usage),
        other => panic!("{text:?}: {other:?}"),
    }
}

fn id(s: &str) -> EventId {
    EventId::parse(s).unwrap()
}

#[test]
fn slash_commands_are_read_with_who_and_where_to_answer() {
    let request = slash("extend winter-sale-2026 1h30m").unwrap();
    assert_eq!(
        request.command,
        Command::Extend {
            event: id("winter-sale-2026"),
            by: Duration::from_secs(5400)
        }
    );
    assert_eq!(
        request.requester,
        Requester {
            user_id: "U012AB3CD".into(),
            user_name: "alice".into()
        }
    );
    assert_eq!(
        request.response_url,
        "https://hooks.slack.com/commands/T1/2/abc"
    );
    assert_eq!(request.channel_id.as_deref(), Some("C0EVENTS"));
    assert_eq!(request.text, "/event extend winter-sale-2026 1h30m");
    assert_eq!(request.command.action(), Action::Extend);
    assert_eq!(request.command.event(), &id("winter-sale-2026"));
}

#[test]
fn every_command_is_understood() {
    let sale = || id("winter-sale-2026");
    assert_eq!(
        command("status winter-sale-2026"),
        Command::Status { event: sale() }
    );
    assert_eq!(
        command("  release   winter-sale-2026 "),
        Command::Release { event: sale() }
    );
    assert_eq!(
        command("stop-now winter-sale-2026"),
        Command::StopNow { event: sale() }
    );
    assert_eq!(
        command("extend winter-sale-2026 30m"),
        Command::Extend {
            event: sale(),
            by: Duration::from_secs(1800)
        }
    );
    assert_eq!(
        command("hold winter-sale-2026"),
        Command::Hold {
            event: sale(),
            until: now() + Duration::from_secs(3600)
        }
    );
    assert_eq!(
        command("hold winter-sale-2026 2h"),
        Command::Hold {
            event: sale(),
            until: now() + Duration::from_secs(7200)
        }
    );
    // A time with an offset is kept in UTC.
    assert_eq!(
        command("hold winter-sale-2026 2026-12-24T23:30:00+01:00"),
        Command::Hold {
            event: sale(),
            until: now() + Duration::from_secs(1800)
        }
    );
}

#[test]
fn durations_are_hours_then_minutes() {
    let s = settings();
    assert_eq!(s.duration("30m"), Ok(Duration::from_secs(1800)));
    assert_eq!(s.duration("2h"), Ok(Duration::from_secs(7200)));
    assert_eq!(s.duration("1h30m"), Ok(Duration::from_secs(5400)));
    assert_eq!(s.duration("90M"), Ok(Duration::from_secs(5400)));
    assert_eq!(s.duration("24h"), Ok(Duration::from_secs(86_400)));
    for bad in [
        "",
        "90",
        "h",
        "1d",
        "30m1h",
        "1h1h",
        "1.5h",
        "-1h",
        "1h 30m",
        "99999999999999999999h",
    ] {
        let err = s.duration(bad).unwrap_err();
        assert!(err.contains("30m, 2h or 1h30m"), "{bad:?}: {err}");
    }
    assert_eq!(
        s.duration("0m").unwrap_err(),
        "`0m` is no time at all: give more than zero"
    );
    assert!(s.duration("0h0m").unwrap_err().contains("no time at all"));
    assert_eq!(
        s.duration("24h1m").unwrap_err(),
        "`24h1m` is more than the 24h a command may ask for"
    );
}

#[test]
fn mistakes_are_named_with_the_usage_line() {
    let (problem, usage) = refusal("extend winter-sale-2026 0m");
    assert_eq!(problem, "`0m` is no time at all: give more than zero");
    assert_eq!(usage, "/event extend <id> <duration>");
    let shown = slash("extend winter-sale-2026 0m").unwrap_err().to_string();
    assert_eq!(
        shown,
        "`0m` is no time at all: give more than zero\nusage: /event extend <id> <duration>"
    );

    assert_eq!(
        refusal("extend winter-sale-2026").0,
        "extend needs <duration>"
    );
    assert_eq!(refusal("extend").0, "the event id is missing");
    assert_eq!(refusal("status").1, "/event status <id>");
    assert_eq!(
        refusal("status a b c").0,
        "too many words after status: `b c`"
    );
    assert_eq!(refusal("hold a 1h extra").1, "/event hold <id> [until]");
    let (problem, usage) = refusal("extend Winter-Sale 1h");
    assert_eq!(
        problem,
        "`Winter-Sale` is not an event id: it must start with a lower-case letter"
    );
    assert_eq!(usage, "/event extend <id> <duration>");
    assert!(
        refusal("status winter--sale")
            .0
            .contains("is not an event id")
    );

    // An unknown word, or nothing, shows every command.
    let (problem, usage) = refusal("destroy winter-sale-2026");
    assert_eq!(problem, "`destroy` is not a command");
    assert_eq!(usage, usage_lines());
    assert_eq!(refusal("").1, usage_lines());
    assert_eq!(refusal("help").1, usage_lines());
}

fn usage_lines() -> String {
    "/event status <id>\n/event extend <id> <duration>\n/event hold <id> [until]\n/event release <id>\n/event stop-now <id>".into()
}

#[test]
fn holds_end_in_the_future_and_within_the_bound() {
    assert_eq!(
        refusal("hold winter-sale-2026 2026-12-24T21:00:00Z").0,
        "2026-12-24T21:00:00Z has passed already"
    );
    assert_eq!(
        refusal("hold winter-sale-2026 2026-12-26T00:00:00Z").0,
        "2026-12-26T00:00:00Z is more than the 24h from now a hold may reach"
    );
    assert!(
        refusal("hold winter-sale-2026 2026-12-25")
            .0
            .contains("is not a time like 2026-12-24T23:00:00Z nor a duration")
    );
    assert!(
        refusal("hold winter-sale-2026 25h")
            .0
            .contains("more than the 24h")
    );
    let tight = CommandSettings {
        default_hold: Duration::from_secs(7200),
        max_duration: Duration::from_secs(3600),
    };
    let err = tight
        .parse(&slash_body("hold winter-sale-2026"), now())
        .unwrap_err();
    assert!(
        err.to_string().contains("more than the 1h from now"),
        "{err}"
    );
}

#[test]
fn requests_not_shaped_like_slacks_are_malformed() {
    let no_user = b"command=%2Fevent&text=status+a&user_name=x&response_url=https%3A%2F%2Fh";
    assert_eq!(
        settings().parse(no_user, now()),
        Err(CommandError::Malformed("field `user_id` is missing".into()))
    );
    let twice = [slash_body("status a"), b"&user_id=U999".to_vec()].concat();
    assert_eq!(
        settings().parse(&twice, now()),
        Err(CommandError::Malformed(
            "field `user_id` appears twice".into()
        ))
    );
    assert!(matches!(
        settings().parse(b"", now()),
        Err(CommandError::Malformed(m)) if m == "field `command` is missing"
    ));
    assert!(matches!(
        settings().parse(b"payload=%7Bnot+json", now()),
        Err(CommandError::Malformed(m)) if m.starts_with("payload:")
    ));
    let view = form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "payload",
            r#"{"type":"view_submission","user":{"id":"U1"}}"#,
        )
        .finish();
    assert!(matches!(
        settings().parse(view.as_bytes(), now()),
        Err(CommandError::Malformed(m)) if m.contains("view_submission")
    ));
}
