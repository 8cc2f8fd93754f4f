use std::sync::Mutex;

use serde_json::{Value, json};

use super::*;

fn plan_json(changes: &[(&str, &str, &str)]) -> Vec<u8> {
    let rc: Vec<Value> = changes
        .iter()
        .map(|(address, kind, action)| {
            json!({"address": address, "mode": "managed", "type": kind,
                   "change": {"actions": action.split('+').collect::<Vec<_>>(), "after": {"password": "s3cret"}}})
        })
        .chain([json!({"address": "data.aws_vpc.platform", "mode": "data", "type": "aws_vpc",
                       "change": {"actions": ["read"]}})])
        .collect();
    serde_json::to_vec(&json!({
        "format_version": "1.2",
        "variables": {"max_count": {"value": 8}, "task_cpu": {"value": 1024}, "event_id": {"value": "x"}},
        "resource_changes": rc,
    }))
    .unwrap()
}

fn tier_plan() -> Plan {
    Plan::read(&plan_json(&[
        ("aws_ecs_service.app", "aws_ecs_service", "create"),
        ("aws_lb.app", "aws_lb", "create"),
        ("aws_db_instance.db", "aws_db_instance", "create"),
        (
            "aws_dms_replication_instance.ri",
            "aws_dms_replication_instance",
            "create",
        ),
        ("aws_security_group.alb", "aws_security_group", "create"),
        ("aws_security_group.db", "aws_security_group", "create"),
    ]))
    .unwrap()
}

#[test]
fn a_plan_of_creates_only_passes_and_says_how_many() {
    let plan = tier_plan();
    assert_eq!(plan.creates, 6, "data sources are not counted");
    let c = plan.check();
    assert_eq!(c.mark, Mark::Pass, "{c:?}");
    assert_eq!(c.detail, "creates 6 resources and nothing else");
}

#[test]
fn a_plan_that_touches_what_exists_fails_naming_it() {
    let plan = Plan::read(&plan_json(&[
        ("aws_lb.app", "aws_lb", "create"),
        ("aws_db_instance.db", "aws_db_instance", "update"),
        ("aws_ecs_service.app", "aws_ecs_service", "delete+create"),
    ]))
    .unwrap();
    let c = plan.check();
    assert_eq!(c.mark, Mark::Fail);
    assert!(
        c.detail.contains("aws_db_instance.db (update)")
            && c.detail.contains("aws_ecs_service.app (delete, create)"),
        "{}",
        c.detail
    );
    assert_eq!(
        Plan::read(&plan_json(&[])).unwrap().check().mark,
        Mark::Fail
    );
    assert!(
        Plan::read(b"<html>")
            .unwrap_err()
            .contains("not a Terraform plan")
    );
}

#[test]
fn the_plan_keeps_no_value_but_its_variables() {
    let plan = tier_plan();
    assert!(!format!("{plan:?}").contains("s3cret"));
    assert_eq!(plan.vars["max_count"], json!(8));
}

#[test]
fn needs_come_from_what_the_plan_creates() {
    let needs = needs(&tier_plan());
    let of = |q: QuotaRef| needs.iter().find(|n| n.quota == q).map(|n| n.need);
    assert_eq!(of(FARGATE_VCPU), Some(8.0), "max_count 8 × 1 vCPU");
    assert_eq!(of(LOAD_BALANCERS), Some(1.0));
    assert_eq!(of(DB_INSTANCES), Some(1.0));
    assert_eq!(of(DMS_INSTANCES), Some(1.0));
    assert_eq!(of(SECURITY_GROUPS), Some(2.0));
}

#[test]
fn a_quota_below_the_need_names_the_quota_its_value_and_the_need() {
    let need = &needs(&tier_plan())[0];
    let c = quota_check(
        need,
        Ok(Limit {
            value: 6.0,
            used: None,
        }),
    );
    assert_eq!(c.mark, Mark::Fail);
    assert_eq!(c.name, "quota Fargate On-Demand vCPU resource count");
    assert_eq!(
        c.detail,
        "needs 8 vCPU (max_count 8 × 1 vCPU) (use not counted) of 6 (L-3032A538)"
    );
    let lb = needs(&tier_plan())
        .into_iter()
        .find(|n| n.quota == LOAD_BALANCERS)
        .unwrap();
    let full = Limit {
        value: 50.0,
        used: Some(50.0),
    };
    let c = quota_check(&lb, Ok(full));
    assert_eq!(c.mark, Mark::Fail, "what is in use counts: {c:?}");
    assert!(c.detail.contains("+ 50 in use of 50"), "{}", c.detail);
    let room = Limit {
        value: 50.0,
        used: Some(49.0),
    };
    assert_eq!(quota_check(&lb, Ok(room)).mark, Mark::Pass);
    let c = quota_check(&lb, Err("AccessDenied".into()));
    assert_eq!(
        (c.mark, c.detail.as_str()),
        (Mark::Fail, "cannot be read: AccessDenied")
    );
}

fn learned(p95_secs: u64) -> Learned {
    Learned {
        runs: 12,
        p50: Duration::from_secs(p95_secs / 2),
        p95: Duration::from_secs(p95_secs),
    }
}

#[test]
fn the_lead_time_must_cover_p95_with_the_margin() {
    let mins = |m: u64| Some(Duration::from_secs(m * 60));
    // p95 20 min × 1.25 = 25 min.
    let c = lead_time_check(mins(30), Some(learned(1200)), None);
    assert_eq!(c.mark, Mark::Pass, "{c:?}");
    let c = lead_time_check(mins(24), Some(learned(1200)), None);
    assert_eq!(c.mark, Mark::Fail, "{c:?}");
    assert!(c.detail.contains("lead_time_minutes"), "{}", c.detail);
    // With the runner's boot: (20 + 4) × 1.25 = 30 min.
    let c = lead_time_check(mins(29), Some(learned(1200)), Some(learned(240)));
    assert_eq!(c.mark, Mark::Fail, "the boot counts: {c:?}");
    assert_eq!(
        c.detail,
        "29m 00s is short of the 30m 00s a start takes ((p95 20m 00s over 12 applies + p95 4m 00s over 12 runner boots) × 1.25): raise the event's lead_time_minutes in infra/control"
    );
    let boot = Some(learned(240));
    assert_eq!(
        lead_time_check(mins(30), Some(learned(1200)), boot).mark,
        Mark::Pass
    );
    assert_eq!(lead_time_check(mins(1), None, None).mark, Mark::Unchecked);
    assert_eq!(
        lead_time_check(None, Some(learned(1)), None).mark,
        Mark::Unchecked
    );
}

#[test]
fn ecr_references_are_read_and_others_are_not_checked() {
    use super::aws::EcrImage;
    let r = "123456789012.dkr.ecr.ap-northeast-2.amazonaws.com/shop/web:1.2.3";
    assert_eq!(
        EcrImage::parse(r, "ap-northeast-2"),
        Some(EcrImage {
            account: "123456789012".into(),
            repository: "shop/web".into(),
            tag: "1.2.3".into(),
            digest: None
        })
    );
    let d = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop@sha256:ab";
    assert_eq!(
        EcrImage::parse(d, "us-east-1").unwrap().digest.as_deref(),
        Some("sha256:ab")
    );
    assert_eq!(EcrImage::parse(r, "us-east-1"), None, "another region");
    assert_eq!(
        EcrImage::parse("public.ecr.aws/nginx/nginx:stable", "us-east-1"),
        None
    );
}

#[derive(Default)]
struct FakeAccount {
    vcpu: f64,
    image: Option<bool>,
    secret: bool,
    asked: Mutex<Vec<String>>,
}

#[async_trait]
impl Lookups for FakeAccount {
    async fn limit(&self, q: &QuotaRef) -> Result<Limit> {
        self.asked.lock().unwrap().push(q.code.to_owned());
        let value = if *q == FARGATE_VCPU { self.vcpu } else { 100.0 };
        Ok(Limit {
            value,
            used: Some(0.0),
        })
    }
    async fn platform(&self) -> Result<Platform> {
        Ok(Platform {
            container_image: "img".into(),
            ops_db_secret_arn: "arn:ops".into(),
        })
    }
    async fn image(&self, _: &str) -> Result<Option<bool>> {
        Ok(self.image)
    }
    async fn runner_ami(&self) -> Result<(String, bool)> {
        Ok(("ami-1".into(), true))
    }
    async fn secret(&self, _: &str) -> Result<bool> {
        Ok(self.secret)
    }
}

#[tokio::test]
async fn go_when_nothing_fails_and_no_go_naming_each_failure() {
    let ok = FakeAccount {
        vcpu: 8.0,
        image: None,
        secret: true,
        ..Default::default()
    };
    let mut checks = vec![tier_plan().check()];
    checks.extend(account_checks(&ok, &tier_plan(), None, None, None).await);
    assert_eq!(ok.asked.lock().unwrap().len(), 5, "one look per quota");
    assert!(go(&checks), "{checks:?}");
    let text = report("winter-sale", &checks);
    assert!(
        text.starts_with(
            ":white_check_mark: event-tier *winter-sale* rehearsal: *GO* (8 of 10 checks passed)"
        ),
        "{text}"
    );
    assert!(
        text.contains(":grey_question: image: img is not in a private ECR repository"),
        "{text}"
    );

    let bad = FakeAccount {
        vcpu: 4.0,
        image: Some(false),
        secret: false,
        ..Default::default()
    };
    let mut checks = vec![tier_plan().check()];
    checks.extend(account_checks(&bad, &tier_plan(), None, None, None).await);
    assert!(!go(&checks));
    let text = report("winter-sale", &checks);
    assert!(
        text.starts_with(
            ":no_entry: event-tier *winter-sale* rehearsal: *NO-GO* (3 of 10 checks failed)"
        ),
        "{text}"
    );
    for line in [
        ":x: quota Fargate On-Demand vCPU resource count: needs 8 vCPU (max_count 8 × 1 vCPU) + 0 in use of 4 (L-3032A538)",
        ":x: image: img is not in its ECR repository",
        ":x: operations secret: arn:ops does not exist or is scheduled for deletion",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }
}
