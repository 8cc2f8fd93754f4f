use super::*;

#[test]
fn variables_are_read_with_their_types() {
    let tf = br#"
variable "event_id" { type = string }
variable "desired_count" {
  type        = number
  description = "tasks"
  validation {
    condition     = var.desired_count >= 1
    error_message = "at least one"
  }
}
variable "flag" { type = bool }
variable "anything" {}
variable "tags" { type = map(string) }
"#;
    let m = Module::from_files(vec![("variables.tf".into(), tf.to_vec())]).unwrap();
    assert_eq!(m.variables.get("desired_count"), Some(&VarType::Number));
    assert_eq!(m.variables.get("flag"), Some(&VarType::Bool));
    assert_eq!(m.variables.get("anything"), Some(&VarType::Any));
    assert_eq!(m.variables.get("tags"), Some(&VarType::Complex));
    assert!(
        !m.variables.contains_key("event_id"),
        "reserved variables are not settable"
    );
    assert!(m.reserved.contains("event_id"));
}

#[test]
fn embedded_module_is_the_event_tier() {
    let m = Module::embedded().unwrap();
    assert!(m.files.iter().any(|(n, _)| n == "variables.tf"));
    assert!(m.variables.contains_key("desired_count"));
    assert!(m.variables.contains_key("max_count"));
}

fn set(pairs: &[(&str, hcl::Value)]) -> BTreeMap<String, hcl::Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn every_validation_block_of_the_event_tier_is_evaluable() {
    let m = Module::embedded().unwrap();
    let v = &m.validations;
    assert_eq!(v.skipped, Vec::<Skipped>::new(), "blocks not checked");
    let blocks: usize = m
        .files
        .iter()
        .map(|(_, c)| String::from_utf8_lossy(c).matches("validation {").count())
        .sum();
    assert_eq!(v.rules.len(), blocks, "each validation block is a rule");
    // Every rule reads only variables with a known value, and holds for the defaults.
    let mut all = v.defaults.clone();
    all.insert("event_id".into(), "winter-sale-2026".into());
    for rule in &v.rules {
        assert!(
            rule.involves.iter().all(|n| all.contains_key(n)),
            "{rule:?}"
        );
    }
    assert_eq!(v.check(&all), Ok(()));
}

#[test]
fn values_the_tier_cannot_take_are_refused_with_the_module_message() {
    let v = Module::embedded().unwrap().validations;
    let n = |x: f64| functions::number(x);
    let s = |x: &str| hcl::Value::from(x);
    let cases = [
        (
            set(&[("desired_count", n(0.0))]),
            "desired_count",
            "desired_count must be a whole number of at least 1; got desired_count = 0",
        ),
        (
            set(&[("desired_count", n(2.5))]),
            "desired_count",
            "desired_count must be a whole number",
        ),
        (
            set(&[("max_count", n(500.0))]),
            "max_count",
            "max_count must be a whole number from 1 to 200; got max_count = 500",
        ),
        (
            set(&[("desired_count", n(4.0)), ("max_count", n(3.0))]),
            "max_count",
            "max_count must be at least desired_count; got desired_count = 4, max_count = 3",
        ),
        (
            set(&[("desired_count", n(30.0))]),
            "desired_count",
            "max_count must be at least desired_count; got desired_count = 30, max_count = 10 (default)",
        ),
        (
            set(&[("task_cpu", n(300.0))]),
            "task_cpu",
            "task_cpu must be one of Fargate's sizes: 256, 512, 1024, 2048, 4096, 8192, 16384; got task_cpu = 300",
        ),
        (
            set(&[("task_memory", n(9999.0))]),
            "task_memory",
            "task_memory must be a memory size Fargate offers for task_cpu",
        ),
        (
            set(&[("task_cpu", n(4096.0))]),
            "task_cpu",
            "task_cpu = 4096, task_memory = 1024 (default)",
        ),
        (
            set(&[("cpu_target_percent", n(95.0))]),
            "cpu_target_percent",
            "cpu_target_percent must be from 10 to 90",
        ),
        (
            set(&[("db_instance_class", s("large"))]),
            "db_instance_class",
            "db_instance_class must look like db.<family>.<size>, e.g. db.m7g.large; got db_instance_class = \"large\"",
        ),
        (
            set(&[("dms_instance_class", s("dms.t3"))]),
            "dms_instance_class",
            "dms_instance_class must look like",
        ),
        (
            set(&[("db_allocated_storage", n(10.0))]),
            "db_allocated_storage",
            "from 20 to 16384",
        ),
        (
            set(&[("db_connections_alarm", n(0.0))]),
            "db_connections_alarm",
            "at least 1",
        ),
        (
            set(&[("event_id", s("a--b"))]),
            "event_id",
            "event_id must not contain '--' or end with '-'",
        ),
    ];
    for (values, variable, want) in cases {
        let r = v.check(&values).expect_err(want);
        assert_eq!(r.variable, variable, "{values:?}");
        assert!(
            r.reason.starts_with("is refused by the event tier: "),
            "{r:?}"
        );
        assert!(r.reason.contains(want), "{values:?}: got {:?}", r.reason);
    }
    let fine = set(&[
        ("event_id", s("winter-sale-2026")),
        ("desired_count", n(4.0)),
        ("max_count", n(20.0)),
        ("task_cpu", n(1024.0)),
        ("task_memory", n(4096.0)),
        ("db_instance_class", s("db.m7g.large")),
    ]);
    assert_eq!(v.check(&fine), Ok(()));
}

#[test]
fn only_rules_reading_a_value_the_payload_set_can_refuse_it() {
    let tf = br#"
variable "aws_region" { type = string }
variable "a" {
  default = 0
  validation {
    condition     = var.a >= 1
    error_message = "a must be at least 1."
  }
}
variable "b" {
  default = 1
  validation {
    condition     = var.b < 10 && var.aws_region != ""
    error_message = "b below 10."
  }
}
"#;
    let m = Module::from_files(vec![("v.tf".into(), tf.to_vec())]).unwrap();
    let v = &m.validations;
    assert!(v.skipped.is_empty(), "{:?}", v.skipped);
    // `a`'s own default fails, but the payload did not set it: Terraform's problem, not the payload's.
    assert_eq!(v.check(&set(&[("b", 2.into())])), Ok(()));
    // `b`'s rule also reads `aws_region`, which only the functions know: left to Terraform.
    assert_eq!(v.check(&set(&[("b", 20.into())])), Ok(()));
    assert_eq!(v.check(&set(&[("a", 0.into())])).unwrap_err().variable, "a");
}

#[test]
fn a_condition_this_evaluator_cannot_evaluate_is_skipped_and_listed_not_passed() {
    let tf = br#"
variable "net" {
  default = "10.0.0.0/16"
  validation {
    condition     = can(cidrhost(var.net, 0))
    error_message = "net must be a CIDR."
  }
  validation {
    condition     = var.net != "${local.x}"
    error_message = "template."
  }
  validation {
    condition     = can(regex(var.net, "x"))
    error_message = "dynamic pattern."
  }
  validation {
    condition     = can(regex("(?i)^10\\.", var.net))
    error_message = "flags."
  }
  validation {
    condition     = var.other == 1
    error_message = "undeclared."
  }
  validation {
    condition     = length(var.net) > 0
    error_message = "evaluable."
  }
}
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("variables.tf"), tf).unwrap();
    let m = Module::load(Some(dir.path())).unwrap();
    let reasons: Vec<&str> = m
        .validations
        .skipped
        .iter()
        .map(|s| s.reason.as_str())
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    for want in [
        "cidrhost()",
        "template",
        "not a literal",
        "unsupported group",
        "var.other",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "{want}: {reasons:?}"
        );
    }
    assert_eq!(m.validations.rules.len(), 1);
    let empty = set(&[("net", "".into())]);
    assert_eq!(m.validations.check(&empty).unwrap_err().variable, "net");
}
