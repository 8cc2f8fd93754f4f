//! Bad input: every kind of malformed payload is refused by the handler with an error naming the
//! problem, before any AWS, SSH or Slack call (the dependencies record every call).

use event_core::module::Module;
use event_core::payload::{self, Input, Purpose};
use event_core::testing::Recorder;
use event_core::{Config, Deps};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::{Value, json};

fn recording_deps() -> (Recorder, Deps) {
    let vars = event_core::testing::required_settings();
    let recorder = Recorder::default();
    let deps = recorder.deps(
        Config::from_vars(vars).unwrap(),
        Module::embedded().unwrap(),
    );
    (recorder, deps)
}

/// (what the case is, payload, the text the error must contain)
fn cases() -> Vec<(&'static str, Value, &'static str)> {
    let many_vars: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("v{i}"), json!(i))).collect();
    vec![
        (
            "null payload",
            json!(null),
            "payload must be a JSON object, got null",
        ),
        (
            "array payload",
            json!([{"event_id": "a"}]),
            "payload must be a JSON object, got an array",
        ),
        (
            "string payload",
            json!("winter-sale-2026"),
            "payload must be a JSON object, got a string",
        ),
        (
            "number payload",
            json!(42),
            "payload must be a JSON object, got a number",
        ),
        ("empty object", json!({}), "`event_id` is missing"),
        (
            "null event_id",
            json!({"event_id": null}),
            "`event_id` is missing",
        ),
        (
            "numeric event_id",
            json!({"event_id": 2026}),
            "`event_id` must be a string, got a number",
        ),
        (
            "object event_id",
            json!({"event_id": {"id": "a"}}),
            "`event_id` must be a string, got an object",
        ),
        (
            "empty event_id",
            json!({"event_id": ""}),
            "`event_id` must not be empty",
        ),
        (
            "upper case",
            json!({"event_id": "Winter-Sale"}),
            "`event_id` must start with a lower-case letter",
        ),
        (
            "leading digit",
            json!({"event_id": "2026-sale"}),
            "`event_id` must start with a lower-case letter",
        ),
        (
            "leading dash",
            json!({"event_id": "-sale"}),
            "`event_id` must start with a lower-case letter",
        ),
        (
            "underscore",
            json!({"event_id": "winter_sale"}),
            "`event_id` may hold only lower-case letters, digits and '-', found '_'",
        ),
        (
            "path traversal",
            json!({"event_id": "../../etc/passwd"}),
            "`event_id` must start with a lower-case letter",
        ),
        (
            "inner path",
            json!({"event_id": "a/../../root"}),
            "found '/'",
        ),
        (
            "shell separator",
            json!({"event_id": "sale;rm -rf /"}),
            "found ';'",
        ),
        (
            "command substitution",
            json!({"event_id": "sale$(reboot)"}),
            "found '$'",
        ),
        ("backticks", json!({"event_id": "sale`id`"}), "found '`'"),
        ("newline", json!({"event_id": "sale\nnext"}), "found '\\n'"),
        ("space", json!({"event_id": "winter sale"}), "found ' '"),
        ("quote", json!({"event_id": "sale'x"}), "found '\\''"),
        ("glob", json!({"event_id": "sale*"}), "found '*'"),
        ("non-ascii", json!({"event_id": "salé"}), "found 'é'"),
        (
            "41 characters",
            json!({"event_id": "a".repeat(41)}),
            "`event_id` must be at most 40 characters, got 41",
        ),
        (
            "trailing dash",
            json!({"event_id": "winter-sale-"}),
            "`event_id` must not end with '-' or hold \"--\"",
        ),
        (
            "double dash",
            json!({"event_id": "winter--sale"}),
            "`event_id` must not end with '-' or hold \"--\"",
        ),
        (
            "vars array",
            json!({"event_id": "a", "vars": [4, 20]}),
            "`vars` must be an object, got an array",
        ),
        (
            "vars string",
            json!({"event_id": "a", "vars": "desired_count=4"}),
            "`vars` must be an object, got a string",
        ),
        (
            "unknown var",
            json!({"event_id": "a", "vars": {"instance_count": 4}}),
            "`vars.instance_count` is not a variable of the event tier",
        ),
        (
            "string for number",
            json!({"event_id": "a", "vars": {"desired_count": "4"}}),
            "`vars.desired_count` must be a number, got a string",
        ),
        (
            "bool for number",
            json!({"event_id": "a", "vars": {"max_count": true}}),
            "`vars.max_count` must be a number, got a boolean",
        ),
        (
            "null var",
            json!({"event_id": "a", "vars": {"max_count": null}}),
            "`vars.max_count` must be a number, got null",
        ),
        (
            "array var",
            json!({"event_id": "a", "vars": {"max_count": [20]}}),
            "`vars.max_count` must be a number, got an array",
        ),
        (
            "object var",
            json!({"event_id": "a", "vars": {"max_count": {"n": 20}}}),
            "`vars.max_count` must be a number, got an object",
        ),
        (
            "reserved event_id var",
            json!({"event_id": "a", "vars": {"event_id": "other"}}),
            "`vars.event_id` is set by the functions themselves",
        ),
        (
            "reserved endpoint var",
            json!({"event_id": "a", "vars": {"aws_endpoint_url": "http://203.0.113.9"}}),
            "`vars.aws_endpoint_url` is set by the functions themselves",
        ),
        (
            "too many vars",
            json!({"event_id": "a", "vars": many_vars}),
            "`vars` may set at most 50 variables, got 51",
        ),
        (
            "unknown field",
            json!({"event_id": "a", "instance": "i-1"}),
            "`instance` is not an accepted field",
        ),
        (
            "oversized body",
            json!({"event_id": "a", "vars": {"max_count": 1}, "pad": "x".repeat(70_000)}),
            "more than the 65536 allowed",
        ),
        (
            "envelope without detail",
            json!({"detail-type": "Scheduled Event", "source": "aws.scheduler"}),
            "`detail` is missing",
        ),
        (
            "envelope with string detail",
            json!({"detail-type": "Scheduled Event", "source": "aws.scheduler", "detail": "winter"}),
            "`detail` must be an object, got a string",
        ),
        (
            "envelope without source",
            json!({"detail-type": "Scheduled Event", "detail": {"event_id": "a"}}),
            "`source` is missing",
        ),
        (
            "envelope with numeric source",
            json!({"detail-type": "x", "source": 1, "detail": {"event_id": "a"}}),
            "`source` must be a string",
        ),
        (
            "envelope detail without event_id",
            json!({"detail-type": "x", "source": "y", "detail": {}}),
            "`detail.event_id` is missing",
        ),
        (
            "envelope detail bad id",
            json!({"detail-type": "x", "source": "y", "detail": {"event_id": "A"}}),
            "`detail.event_id` must start with a lower-case letter",
        ),
        (
            "envelope detail unknown var",
            json!({"detail-type": "x", "source": "y", "detail": {"event_id": "a", "vars": {"x": 1}}}),
            "`detail.vars.x` is not a variable",
        ),
        (
            "follow-up with hostile run id",
            json!({"event_id": "a", "follow": {"run_id": "../../x; reboot"}}),
            "`follow.run_id` must be a run id",
        ),
        (
            "follow-up without run id",
            json!({"event_id": "a", "follow": {}}),
            "`follow.run_id` is missing",
        ),
        (
            "follow-up not an object",
            json!({"event_id": "a", "follow": "apply-1"}),
            "`follow` must be an object, got a string",
        ),
    ]
}

#[tokio::test]
async fn bad_payloads_are_refused_before_any_call_with_an_error_naming_the_problem() {
    let (recorder, deps) = recording_deps();
    let cases = cases();
    assert!(cases.len() >= 30);
    for (what, payload, want) in cases {
        // As a caller in Rust sends it, and as the runtime delivers it (the raw text).
        assert_refused(&deps, what, payload.clone(), want).await;
        assert_refused(&deps, what, raw(&payload.to_string()), want).await;
    }
    assert_eq!(
        recorder.calls(),
        Vec::<String>::new(),
        "no dependency was called"
    );
}

/// The payload as the Lambda runtime hands it to the functions.
fn raw(text: &str) -> event_start::Payload {
    RawValue::from_string(text.to_owned()).expect("valid JSON text")
}

/// Sends `payload` to both functions and checks each refuses it as invalid input, naming `want`.
async fn assert_refused<P: Into<Input> + Clone>(deps: &Deps, what: &str, payload: P, want: &str) {
    for stop in [false, true] {
        let ev = LambdaEvent::new(payload.clone(), Context::default());
        let res = if stop {
            event_stop::handle(ev, deps).await
        } else {
            event_start::handle(ev, deps).await
        };
        let err: Diagnostic = res.expect_err(what);
        assert_eq!(
            err.error_type, "InvalidInput",
            "{what}: {}",
            err.error_message
        );
        assert!(
            err.error_message
                .starts_with("validate failed: invalid input: "),
            "{what}: {}",
            err.error_message
        );
        assert!(
            err.error_message.contains(want),
            "{what}: got {:?}, want {want:?}",
            err.error_message
        );
    }
}

/// Values of the right type that `infra/event-tier`'s own validation blocks refuse: refused with the
/// module's message before a runner is launched, not at `terraform plan`.
#[tokio::test]
async fn values_the_tier_cannot_take_are_refused_before_any_call() {
    let (recorder, deps) = recording_deps();
    let vars = |v: Value| json!({"event_id": "winter-sale-2026", "vars": v});
    let cases = [
        (
            "no tasks",
            vars(json!({"desired_count": 0})),
            "`vars.desired_count` is refused by the event tier: desired_count must be a whole number of at least 1; got desired_count = 0",
        ),
        (
            "half a task",
            vars(json!({"desired_count": 2.5})),
            "`vars.desired_count` is refused by the event tier: desired_count must be a whole number of at least 1",
        ),
        (
            "500 tasks",
            vars(json!({"max_count": 500})),
            "`vars.max_count` is refused by the event tier: max_count must be a whole number from 1 to 200; got max_count = 500",
        ),
        (
            "maximum below desired",
            vars(json!({"desired_count": 8, "max_count": 4})),
            "`vars.max_count` is refused by the event tier: max_count must be at least desired_count; got desired_count = 8, max_count = 4",
        ),
        (
            "desired above the default maximum",
            vars(json!({"desired_count": 30})),
            "`vars.desired_count` is refused by the event tier: max_count must be at least desired_count; got desired_count = 30, max_count = 10 (default)",
        ),
        (
            "cpu Fargate has not",
            vars(json!({"task_cpu": 300})),
            "`vars.task_cpu` is refused by the event tier: task_cpu must be one of Fargate's sizes",
        ),
        (
            "memory not offered for the cpu",
            vars(json!({"task_cpu": 256, "task_memory": 4096})),
            "`vars.task_memory` is refused by the event tier: task_memory must be a memory size Fargate offers for task_cpu",
        ),
        (
            "cpu whose default memory is not offered",
            vars(json!({"task_cpu": 4096})),
            "`vars.task_cpu` is refused by the event tier: task_memory must be a memory size Fargate offers for task_cpu",
        ),
        (
            "instance class without family",
            vars(json!({"db_instance_class": "large"})),
            "`vars.db_instance_class` is refused by the event tier: db_instance_class must look like db.<family>.<size>, e.g. db.m7g.large; got db_instance_class = \"large\"",
        ),
        (
            "dms class without prefix",
            vars(json!({"dms_instance_class": "t3.medium"})),
            "`vars.dms_instance_class` is refused by the event tier: dms_instance_class must look like dms.<family>.<size>",
        ),
        (
            "autoscaling target of 95 %",
            vars(json!({"cpu_target_percent": 95})),
            "`vars.cpu_target_percent` is refused by the event tier: cpu_target_percent must be from 10 to 90",
        ),
        (
            "10 GiB database",
            vars(json!({"db_allocated_storage": 10})),
            "`vars.db_allocated_storage` is refused by the event tier: db_allocated_storage must be a whole number of GiB from 20 to 16384",
        ),
        (
            "connections alarm at 0",
            vars(json!({"db_connections_alarm": 0})),
            "`vars.db_connections_alarm` is refused by the event tier: db_connections_alarm must be a whole number of at least 1",
        ),
        (
            "in an envelope",
            json!({"detail-type": "x", "source": "y", "detail": vars(json!({"max_count": 500}))}),
            "`detail.vars.max_count` is refused by the event tier: max_count must be a whole number from 1 to 200",
        ),
    ];
    for (what, payload, want) in cases {
        assert_refused(&deps, what, payload.clone(), want).await;
        assert_refused(&deps, what, raw(&payload.to_string()), want).await;
    }
    assert_eq!(
        recorder.calls(),
        Vec::<String>::new(),
        "no dependency was called"
    );
}

/// A body that JSON readers read differently (a key twice: serde_json keeps the last, others the
/// first) is refused, at every depth the contract reads, naming the key.
#[tokio::test]
async fn an_ambiguous_body_is_refused_before_any_call_naming_the_key() {
    let (recorder, deps) = recording_deps();
    let cases = [
        (
            "event id twice",
            r#"{"event_id":"winter-sale-2026","event_id":"other-sale"}"#,
            "`event_id` appears more than once",
        ),
        (
            "the same event id twice",
            r#"{"event_id":"winter-sale-2026","event_id":"winter-sale-2026"}"#,
            "`event_id` appears more than once",
        ),
        (
            "escaped spelling of the key",
            r#"{"event_id":"winter-sale-2026","event\u005fid":"x"}"#,
            "`event_id` appears more than once",
        ),
        (
            "vars twice",
            r#"{"event_id":"a","vars":{"max_count":20},"vars":{"max_count":500}}"#,
            "`vars` appears more than once",
        ),
        (
            "a variable twice",
            r#"{"event_id":"a","vars":{"max_count":20,"max_count":500}}"#,
            "`vars.max_count` appears more than once",
        ),
        (
            "force twice",
            r#"{"event_id":"a","force":false,"force":true}"#,
            "`force` appears more than once",
        ),
        (
            "run id twice",
            r#"{"event_id":"a","follow":{"run_id":"apply-1","run_id":"destroy-1"}}"#,
            "`follow.run_id` appears more than once",
        ),
        (
            "detail twice",
            r#"{"detail-type":"x","source":"y","detail":{"event_id":"a"},"detail":{"event_id":"b"}}"#,
            "`detail` appears more than once",
        ),
        (
            "event id twice in the detail",
            r#"{"detail-type":"x","source":"y","detail":{"event_id":"a","event_id":"b"}}"#,
            "`detail.event_id` appears more than once",
        ),
        (
            "a variable twice in the detail",
            r#"{"detail-type":"x","source":"y","detail":{"event_id":"a","vars":{"task_cpu":512,"task_cpu":300}}}"#,
            "`detail.vars.task_cpu` appears more than once",
        ),
    ];
    for (what, body, want) in cases {
        assert_refused(&deps, what, raw(body), want).await;
    }
    assert_eq!(
        recorder.calls(),
        Vec::<String>::new(),
        "no dependency was called"
    );
}

/// The other side of the checks above: the samples, as raw text, get past validation (and so reach
/// the dependencies, which here refuse everything).
#[tokio::test]
async fn the_samples_as_raw_text_get_past_validation() {
    for (file, stop) in [
        ("start.json", false),
        ("start-eventbridge.json", false),
        ("stop.json", true),
    ] {
        let (recorder, deps) = recording_deps();
        let text =
            std::fs::read_to_string(event_tier_tests::root().join("events").join(file)).unwrap();
        let ev = LambdaEvent::new(raw(&text), Context::default());
        let res = if stop {
            event_stop::handle(ev, &deps).await
        } else {
            event_start::handle(ev, &deps).await
        };
        if let Err(e) = res {
            assert_ne!(e.error_type, "InvalidInput", "{file}: {}", e.error_message);
        }
        assert!(!recorder.calls().is_empty(), "{file} reached no dependency");
    }
}

#[tokio::test]
async fn force_is_only_for_stop_and_must_be_a_boolean() {
    let (recorder, deps) = recording_deps();
    let ev = |p: Value| LambdaEvent::new(p, Context::default());
    let err = event_start::handle(ev(json!({"event_id": "a", "force": true})), &deps)
        .await
        .unwrap_err();
    assert!(
        err.error_message
            .contains("`force` is not an accepted field"),
        "{}",
        err.error_message
    );
    let err = event_stop::handle(ev(json!({"event_id": "a", "force": "yes"})), &deps)
        .await
        .unwrap_err();
    assert!(
        err.error_message
            .contains("`force` must be true or false, got a string"),
        "{}",
        err.error_message
    );
    assert!(recorder.calls().is_empty());
}

#[tokio::test]
async fn a_follow_up_of_the_other_functions_run_is_refused_before_any_call() {
    let (recorder, deps) = recording_deps();
    let ev = |p: Value| LambdaEvent::new(p, Context::default());
    // event-stop following an apply would terminate the runner with the tier up.
    let apply = json!({"event_id": "a", "follow": {"run_id": "apply-20261202t101500-3fa9c1"}});
    let err = event_stop::handle(ev(apply), &deps).await.unwrap_err();
    assert_eq!(err.error_type, "InvalidInput");
    assert!(
        err.error_message
            .contains("`follow.run_id` is a run of `apply`: event-stop follows only destroy runs"),
        "{}",
        err.error_message
    );
    let destroy = json!({"event_id": "a", "follow": {"run_id": "destroy-20261202t101500-3fa9c1"}});
    let err = event_start::handle(ev(destroy), &deps).await.unwrap_err();
    assert!(
        err.error_message
            .contains("`follow.run_id` is a run of `destroy`: event-start follows only apply runs"),
        "{}",
        err.error_message
    );
    assert!(recorder.calls().is_empty(), "{:?}", recorder.calls());
}

#[test]
fn raw_bodies_that_are_not_json_or_too_large_are_refused() {
    let declared = Module::embedded().unwrap().variables;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty body", b"".to_vec(), "payload is not valid JSON"),
        (
            "unquoted keys",
            b"{event_id: winter}".to_vec(),
            "payload is not valid JSON",
        ),
        (
            "truncated",
            br#"{"event_id": "winter""#.to_vec(),
            "payload is not valid JSON",
        ),
        (
            "binary",
            vec![0xff, 0xfe, 0x00, 0x01],
            "payload is not valid JSON",
        ),
        (
            "yaml",
            b"event_id: winter-sale".to_vec(),
            "payload is not valid JSON",
        ),
        (
            "one megabyte",
            vec![b' '; 1 << 20],
            "payload is 1048576 bytes, more than the 65536 allowed",
        ),
    ];
    for (what, body, want) in cases {
        let err = payload::parse_bytes(&body, Purpose::Start, &declared)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with(want), "{what}: got {err:?}");
    }
    let ok = payload::parse_bytes(
        &std::fs::read(event_tier_tests::root().join("events/start.json")).unwrap(),
        Purpose::Start,
        &declared,
    );
    assert_eq!(ok.unwrap().event_id.as_str(), "winter-sale-2026");
}
