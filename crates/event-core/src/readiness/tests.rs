use std::time::Duration;

use super::*;

fn state(readiness: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "version": 4,
        "outputs": { "readiness": { "type": ["object", {}], "value": readiness } },
        "resources": [],
    }))
    .unwrap()
}

fn full() -> serde_json::Value {
    serde_json::json!({
        "cluster": "event-tier-flash-1",
        "service": "event-tier-flash-1",
        "target_group_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/event-tier-flash-1/0123456789abcdef",
        "url": "http://event-tier-flash-1-123.us-east-1.elb.amazonaws.com/",
        "db_instance": "event-tier-flash-1",
        "dms_replication_instance": "arn:aws:dms:us-east-1:123456789012:rep:RI",
        "dms_endpoints": { "source": "arn:aws:dms:us-east-1:123456789012:endpoint:S", "target": "arn:aws:dms:us-east-1:123456789012:endpoint:T" },
        "first_migration_schedule": "event-tier-flash-1-dms-first",
        "first_migration_group": "default",
        "opens_at": "2026-12-19T09:00:00",
        "timezone": "Asia/Seoul",
    })
}

#[test]
fn the_tier_declares_its_checks_in_its_output() {
    let tier = Tier::from_state(&state(full())).unwrap().unwrap();
    let names: Vec<String> = tier.checks().iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "service",
            "targets",
            "http",
            "database",
            "dms source",
            "dms target",
            "first migration"
        ]
    );
    // 09:00 in Seoul is 00:00 UTC.
    assert_eq!(tier.opening(), Some(1_797_638_400));
}

#[test]
fn a_module_without_the_output_declares_nothing_and_a_bad_output_is_named() {
    let none = br#"{"version": 4, "outputs": {}, "resources": []}"#;
    assert_eq!(Tier::from_state(none).unwrap(), None);
    let empty = Tier::from_state(&state(serde_json::json!({})))
        .unwrap()
        .unwrap();
    assert!(empty.checks().is_empty());
    assert_eq!(empty.opening(), None);
    let bad = Tier::from_state(&state(serde_json::json!({ "cluster": 3 }))).unwrap_err();
    assert!(bad.contains("`readiness` output"), "{bad}");
    assert!(Tier::from_state(b"not json").is_err());
}

#[test]
fn the_http_check_goes_to_the_override_with_the_load_balancers_name_as_host() {
    let url = "http://event-tier-flash-1-123.us-east-1.elb.amazonaws.com/healthz";
    let direct = HttpProbe {
        endpoint_override: None,
        timeout: Duration::from_secs(1),
    };
    assert_eq!(direct.target(url).unwrap(), (url.to_owned(), None));
    let local = HttpProbe {
        endpoint_override: Some("http://127.0.0.1:8080/".into()),
        timeout: Duration::from_secs(1),
    };
    assert_eq!(
        local.target(url).unwrap(),
        (
            "http://127.0.0.1:8080/healthz".to_owned(),
            Some("event-tier-flash-1-123.us-east-1.elb.amazonaws.com".to_owned())
        )
    );
    assert_eq!(
        local.target("http://lb.example").unwrap().0,
        "http://127.0.0.1:8080/"
    );
    assert!(local.target("ftp://lb.example/").is_err());
}
