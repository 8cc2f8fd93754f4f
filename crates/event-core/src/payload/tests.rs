use super::*;
use serde_json::json;

fn declared() -> BTreeMap<String, VarType> {
    [
        ("desired_count".to_owned(), VarType::Number),
        ("max_count".to_owned(), VarType::Number),
        ("image".to_owned(), VarType::String),
    ]
    .into()
}

#[test]
fn canonical_payload_is_accepted() {
    let r = parse(
        json!({"event_id": "winter-sale-2026", "vars": {"desired_count": 4, "max_count": 20}}),
        Purpose::Start,
        &declared(),
    )
    .unwrap();
    assert_eq!(r.event_id.as_str(), "winter-sale-2026");
    assert_eq!(r.vars["max_count"], json!(20));
    assert!(!r.force);
}

#[test]
fn eventbridge_envelope_is_unwrapped() {
    let r = parse(
        json!({"detail-type": "Scheduled Event", "source": "aws.scheduler", "id": "x",
               "detail": {"event_id": "flash-1"}}),
        Purpose::Stop,
        &declared(),
    )
    .unwrap();
    assert_eq!(r.event_id.as_str(), "flash-1");
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (json!({}), "`event_id` is missing"),
        (
            json!({"event_id": "Winter"}),
            "`event_id` must start with a lower-case letter",
        ),
        (
            json!({"event_id": "a", "vars": {"nope": 1}}),
            "`vars.nope` is not a variable",
        ),
        (
            json!({"event_id": "a", "vars": {"max_count": "9"}}),
            "`vars.max_count` must be a number, got a string",
        ),
        (
            json!({"event_id": "a", "force": true}),
            "`force` is not an accepted field",
        ),
        (
            json!({"source": "x", "detail-type": "y", "detail": {"event_id": 3}}),
            "`detail.event_id` must be a string",
        ),
    ];
    for (payload, want) in cases {
        let err = parse(payload.clone(), Purpose::Start, &declared())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(want),
            "{payload}: got {err:?}, want {want:?}"
        );
    }
}

#[test]
fn force_is_a_stop_field() {
    let r = parse(
        json!({"event_id": "a", "force": true}),
        Purpose::Stop,
        &declared(),
    )
    .unwrap();
    assert!(r.force);
}

/// The embedded module, loaded once for these tests.
fn module() -> &'static Module {
    static MODULE: std::sync::LazyLock<Module> =
        std::sync::LazyLock::new(|| Module::embedded().unwrap());
    &MODULE
}

fn input_error(input: Input, purpose: Purpose) -> String {
    parse_input(input, purpose, module())
        .unwrap_err()
        .to_string()
}

#[test]
fn values_the_tier_cannot_take_are_refused_naming_the_field() {
    let envelope = |detail: Value| json!({"source": "s", "detail-type": "t", "detail": detail});
    let cases = [
        (
            json!({"event_id": "a", "vars": {"desired_count": 0}}),
            "`vars.desired_count` is refused by the event tier: desired_count must be a whole number of at least 1",
        ),
        (
            json!({"event_id": "a", "vars": {"max_count": 500}}),
            "`vars.max_count` is refused by the event tier: max_count must be a whole number from 1 to 200",
        ),
        (
            json!({"event_id": "a", "vars": {"desired_count": 8, "max_count": 4}}),
            "`vars.max_count` is refused by the event tier: max_count must be at least desired_count",
        ),
        (
            json!({"event_id": "a", "vars": {"task_cpu": 300}}),
            "`vars.task_cpu` is refused by the event tier: task_cpu must be one of Fargate's sizes",
        ),
        (
            json!({"event_id": "a", "vars": {"task_cpu": 256, "task_memory": 4096}}),
            "`vars.task_memory` is refused by the event tier: task_memory must be a memory size Fargate offers",
        ),
        (
            json!({"event_id": "a", "vars": {"db_instance_class": "large"}}),
            "`vars.db_instance_class` is refused by the event tier: db_instance_class must look like db.<family>.<size>",
        ),
        (
            envelope(json!({"event_id": "a", "vars": {"max_count": 500}})),
            "`detail.vars.max_count` is refused by the event tier",
        ),
    ];
    for (payload, want) in cases {
        for purpose in [Purpose::Start, Purpose::Stop] {
            let bytes = serde_json::to_vec(&payload).unwrap();
            for err in [
                input_error(Input::Json(payload.clone()), purpose),
                input_error(Input::Bytes(bytes.clone()), purpose),
            ] {
                assert!(
                    err.starts_with(want),
                    "{payload}: got {err:?}, want {want:?}"
                );
            }
        }
    }
}

#[test]
fn a_canonical_payload_and_the_samples_pass_the_module_validation() {
    let canonical =
        json!({"event_id": "winter-sale-2026", "vars": {"desired_count": 4, "max_count": 20}});
    let r = parse_input(canonical.into(), Purpose::Start, module()).unwrap();
    assert_eq!(r.vars["max_count"], json!(20));
    let events = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events");
    for (file, purpose) in [
        ("start.json", Purpose::Start),
        ("start-eventbridge.json", Purpose::Start),
        ("stop.json", Purpose::Stop),
    ] {
        let bytes = std::fs::read(events.join(file)).unwrap();
        let r = parse_input(Input::Bytes(bytes), purpose, module()).unwrap();
        assert_eq!(r.event_id.as_str(), "winter-sale-2026", "{file}");
    }
}

#[test]
fn a_key_twice_is_refused_naming_it_before_any_other_check() {
    let cases = [
        (
            r#"{"event_id":"a","event_id":"b"}"#,
            "`event_id` appears more than once",
        ),
        (
            r#"{"event_id":"a","vars":{"max_count":5,"max_count":500}}"#,
            "`vars.max_count` appears more than once",
        ),
        (
            r#"{"event_id":"a","follow":{"run_id":"a","run_id":"b"}}"#,
            "`follow.run_id` appears more than once",
        ),
        (
            r#"{"source":"s","detail-type":"t","detail":{"event_id":"a","event_id":"B"}}"#,
            "`detail.event_id` appears more than once",
        ),
    ];
    for (body, want) in cases {
        let err = input_error(Input::Bytes(body.as_bytes().to_vec()), Purpose::Stop);
        assert_eq!(err, want, "{body}");
        let err = parse_bytes(body.as_bytes(), Purpose::Stop, &declared()).unwrap_err();
        assert_eq!(err.to_string(), want, "{body}");
    }
}
