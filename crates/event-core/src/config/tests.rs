use super::*;

fn minimal() -> HashMap<String, String> {
    [
        ("EVENT_TIER_STATE_BUCKET", "state"),
        ("EVENT_TIER_RUNNER_KEY_SECRET_ARN", "arn:key"),
        ("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN", "arn:hook"),
        ("EVENT_TIER_RUNNER_SUBNET_IDS", "subnet-1"),
        ("EVENT_TIER_RUNNER_SECURITY_GROUP_ID", "sg-1"),
        ("EVENT_TIER_RUNNER_INSTANCE_PROFILE", "runner"),
        (
            "EVENT_TIER_RUNNER_HOST_KEY_SHA256",
            "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
        ),
        ("EVENT_TIER_RUNNER_ARTIFACTS_BUCKET", "artifacts"),
        ("EVENT_TIER_RUNNER_TERRAFORM_SHA256", &"a".repeat(64)),
        ("EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256", &"b".repeat(64)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[test]
fn minimal_settings_fill_in_defaults() {
    let c = Config::from_vars(minimal()).unwrap();
    assert_eq!(c.runner.instance_types, ["t3.small", "t3a.small"]);
    assert_eq!(c.runner.subnet_ids, ["subnet-1"]);
    assert_eq!(c.runner.ami_parameter, DEFAULT_AMI_PARAMETER);
    assert_eq!(c.ssh.user, "ec2-user");
    assert_eq!(c.ssh.port, 22);
    assert_eq!(c.poll_interval, Duration::from_secs(10));
    assert!(c.tf_endpoint_url.is_none());
    assert!(
        c.final_migration,
        "the final migration is required unless turned off"
    );
    assert!(c.follow_up_role_arn.is_none());
}

#[test]
fn missing_setting_is_named() {
    let mut vars = minimal();
    vars.remove("EVENT_TIER_STATE_BUCKET");
    let err = Config::from_vars(vars).unwrap_err().to_string();
    assert_eq!(err, "configuration: EVENT_TIER_STATE_BUCKET is not set");
}

#[test]
fn malformed_number_is_named() {
    let mut vars = minimal();
    vars.insert("EVENT_TIER_POLL_INTERVAL_SECS".into(), "soon".into());
    let err = Config::from_vars(vars).unwrap_err().to_string();
    assert!(err.contains("EVENT_TIER_POLL_INTERVAL_SECS"), "{err}");
}

#[test]
fn a_notifier_needs_the_webhook_secret_only() {
    let vars: HashMap<String, String> = [("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN", "arn:hook")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let c = NotifierConfig::from_vars(vars).unwrap();
    assert_eq!(c.slack_webhook_secret, "arn:hook");
    assert_eq!(c.slack_timeout, Duration::from_millis(5000));
    let err = NotifierConfig::from_vars(HashMap::new())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "configuration: EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN is not set"
    );
}

#[test]
fn settings_list_exactly_the_variables_read() {
    // minimal() sets every required variable, so each reader reads to its end.
    let env = Env::new(minimal());
    Config::read(&env).unwrap();
    NotifierConfig::read(&env).unwrap();
    let asked = env.asked.into_inner();
    let listed: std::collections::BTreeSet<String> =
        SETTINGS.iter().map(|s| s.name.to_owned()).collect();
    assert_eq!(listed.len(), SETTINGS.len(), "a setting is listed twice");
    let unlisted: Vec<_> = asked.difference(&listed).collect();
    let unread: Vec<_> = listed.difference(&asked).collect();
    assert!(
        unlisted.is_empty(),
        "read but not in SETTINGS: {unlisted:?}"
    );
    assert!(unread.is_empty(), "in SETTINGS but never read: {unread:?}");
}

#[test]
fn settings_defaults_are_what_an_unset_variable_gives() {
    let unset = format!("{:?}", Config::from_vars(minimal()).unwrap());
    for s in SETTINGS {
        let mut vars = minimal();
        match s.default {
            SettingDefault::Value(v) => {
                vars.insert(s.name.to_owned(), v.to_owned());
                let set = format!("{:?}", Config::from_vars(vars).unwrap());
                assert_eq!(set, unset, "{} = {v:?} is not its default", s.name);
            }
            SettingDefault::Required => {
                vars.remove(s.name);
                let err = Config::from_vars(vars).unwrap_err().to_string();
                assert!(
                    err.contains(s.name),
                    "{} is listed as required: {err}",
                    s.name
                );
            }
            SettingDefault::Unset => assert!(!vars.contains_key(s.name), "{}", s.name),
        }
    }
}

#[test]
fn malformed_host_key_is_refused() {
    let mut vars = minimal();
    vars.insert("EVENT_TIER_RUNNER_HOST_KEY_SHA256".into(), "yes".into());
    let err = Config::from_vars(vars).unwrap_err().to_string();
    assert!(err.contains("EVENT_TIER_RUNNER_HOST_KEY_SHA256"), "{err}");
}

#[test]
fn runner_placements_try_each_type_in_every_subnet_first() {
    let mut vars = minimal();
    vars.insert(
        "EVENT_TIER_RUNNER_SUBNET_IDS".into(),
        "subnet-a, subnet-b".into(),
    );
    vars.insert(
        "EVENT_TIER_RUNNER_INSTANCE_TYPES".into(),
        "t3.small,m7i.large".into(),
    );
    let c = Config::from_vars(vars.clone()).unwrap();
    let order: Vec<(&str, &str)> = c.runner.placements().collect();
    assert_eq!(
        order,
        [
            ("t3.small", "subnet-a"),
            ("t3.small", "subnet-b"),
            ("m7i.large", "subnet-a"),
            ("m7i.large", "subnet-b"),
        ]
    );
    for (name, value, says) in [
        (
            "EVENT_TIER_RUNNER_SUBNET_IDS",
            "subnet-a,,subnet-b",
            "\"\" is not a subnet id",
        ),
        (
            "EVENT_TIER_RUNNER_SUBNET_IDS",
            "sg-1",
            "\"sg-1\" is not a subnet id",
        ),
        (
            "EVENT_TIER_RUNNER_SUBNET_IDS",
            "subnet-a,subnet-a",
            "\"subnet-a\" is listed twice",
        ),
        (
            "EVENT_TIER_RUNNER_INSTANCE_TYPES",
            "t3.small,large",
            "\"large\" is not an instance type",
        ),
    ] {
        let mut bad = vars.clone();
        bad.insert(name.into(), value.into());
        let err = Config::from_vars(bad).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(says), "{value}: {err}");
    }
}

#[test]
fn malformed_artifact_settings_are_refused() {
    for (name, value, says) in [
        (
            "EVENT_TIER_RUNNER_TERRAFORM_SHA256",
            "abc",
            "64 lower-case hex digits",
        ),
        (
            "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256",
            &"B".repeat(64),
            "64 lower-case hex digits",
        ),
        (
            "EVENT_TIER_RUNNER_ARTIFACTS_PREFIX",
            "runner",
            "ending with `/`",
        ),
    ] {
        let mut vars = minimal();
        vars.insert(name.to_owned(), value.to_owned());
        let err = Config::from_vars(vars).unwrap_err().to_string();
        assert!(err.contains(name) && err.contains(says), "{err}");
    }
    let c = Config::from_vars(minimal()).unwrap();
    assert_eq!(c.runner.artifacts.url(), "s3://artifacts/runner/");
}

#[test]
fn a_slack_bot_needs_its_token_and_a_channel_id_together() {
    assert_eq!(Config::from_vars(minimal()).unwrap().slack_bot, None);
    let with = |pairs: &[(&str, &str)]| {
        let mut vars = minimal();
        for (k, v) in pairs {
            vars.insert((*k).into(), (*v).into());
        }
        Config::from_vars(vars).map_err(|e| e.to_string())
    };
    let bot = with(&[
        ("EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN", "arn:bot"),
        ("EVENT_TIER_SLACK_CHANNEL", "C0EVENTS1"),
    ])
    .unwrap()
    .slack_bot
    .unwrap();
    assert_eq!(bot.channel, "C0EVENTS1");
    assert_eq!(bot.api_url, DEFAULT_SLACK_API_URL);
    let err = with(&[("EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN", "arn:bot")]).unwrap_err();
    assert!(err.contains("EVENT_TIER_SLACK_CHANNEL is not set"), "{err}");
    let err = with(&[("EVENT_TIER_SLACK_CHANNEL", "C0EVENTS1")]).unwrap_err();
    assert!(
        err.contains("EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN is not set"),
        "{err}"
    );
    let err = with(&[
        ("EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN", "arn:bot"),
        ("EVENT_TIER_SLACK_CHANNEL", "#sales"),
    ])
    .unwrap_err();
    assert!(
        err.contains("must be a channel id such as C0123ABCD"),
        "{err}"
    );
    let err = with(&[
        ("EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN", "arn:bot"),
        ("EVENT_TIER_SLACK_CHANNEL", "C0EVENTS1"),
        ("EVENT_TIER_SLACK_API_URL", "http://slack.example"),
    ])
    .unwrap_err();
    assert!(
        err.contains("EVENT_TIER_SLACK_API_URL must be an https:// URL"),
        "{err}"
    );
}
