//! Typed configuration, read once from the environment at start-up. A missing or malformed setting
//! fails fast with the variable's name. The environment carries secret ARNs, never secret values.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

mod artifacts;
mod env;
mod slack;
pub use artifacts::RunnerArtifacts;
use env::Env;
pub use slack::{DEFAULT_SLACK_API_URL, SlackAppConfig, SlackBotConfig};

/// The public SSM parameter that names the latest Amazon Linux 2023 AMI.
pub const DEFAULT_AMI_PARAMETER: &str =
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/// What a setting is when its variable is unset or empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingDefault {
    /// The function refuses to start without it.
    Required,
    /// Optional; unset turns the feature off or picks what the description says.
    Unset,
    /// This value, exactly as it could be written in the variable.
    Value(&'static str),
}

/// One environment variable the functions read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub name: &'static str,
    pub default: SettingDefault,
    pub description: &'static str,
}

/// Every variable [`Config::from_vars`] and [`NotifierConfig::from_vars`] read, in the order of
/// `docs/configuration.md`, whose table `make docs` generates from this list (`local/docs.py` reads
/// this source: keep each entry a `Setting { name, default, description }` of plain string literals,
/// without `"` or `\` inside). A unit test holds the list to what `from_vars` reads.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "EVENT_TIER_STATE_BUCKET",
        default: SettingDefault::Required,
        description: "S3 bucket of the Terraform states (one key per event) and the run records",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_KEY_SECRET_ARN",
        default: SettingDefault::Required,
        description: "Secrets Manager secret (ARN or name) holding the runner's SSH private key (PEM)",
    },
    Setting {
        name: "EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN",
        default: SettingDefault::Required,
        description: "Secrets Manager secret (ARN or name) holding the Slack incoming-webhook URL; also read by event-alarm",
    },
    Setting {
        name: "EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN",
        default: SettingDefault::Unset,
        description: "Secrets Manager secret (ARN or name) holding a Slack bot token (xoxb-...); when set, event-start and event-stop post through chat.postMessage, one thread per event, instead of the webhook",
    },
    Setting {
        name: "EVENT_TIER_SLACK_CHANNEL",
        default: SettingDefault::Unset,
        description: "the channel id (C0123ABCD) the bot posts to; required with the bot token, which must be a member of it",
    },
    Setting {
        name: "EVENT_TIER_SLACK_API_URL",
        default: SettingDefault::Value("https://slack.com/api"),
        description: "Slack's Web API (the local stack points it at its Slack sink)",
    },
    Setting {
        name: "EVENT_TIER_SLACK_SIGNING_SECRET_ARN",
        default: SettingDefault::Unset,
        description: "Secrets Manager secret (ARN or name) holding the Slack app's signing secret; event-slack refuses every request without it",
    },
    Setting {
        name: "EVENT_TIER_SLACK_ALLOW",
        default: SettingDefault::Unset,
        description: "who may act from Slack: action=user ids pairs, e.g. extend=U012AB3CD,U045EF6GH;hold=U012AB3CD;release=U012AB3CD;stop-now=U012AB3CD;retry=U012AB3CD (unset: nobody; status is open to the channel)",
    },
    Setting {
        name: "EVENT_TIER_SLACK_EXTENSION_CAP_MINUTES",
        default: SettingDefault::Value("240"),
        description: "how far past its scheduled end Slack may take an event: all its extensions together, and the furthest a hold may reach (at most 10080, seven days)",
    },
    Setting {
        name: "EVENT_TIER_SLACK_BUTTONS",
        default: SettingDefault::Value("false"),
        description: "true when the Slack app is set up: messages carry buttons (extend 1h, hold, stop now, retry) that the app answers; infra/control sets it with slack_app",
    },
    Setting {
        name: "EVENT_TIER_EVENTS_SCHEDULE_GROUP",
        default: SettingDefault::Unset,
        description: "the Scheduler group of the events' start and stop schedules; when set (with the follow-up role), event-stop obeys the ends moved from Slack and event-slack can act (unset: no Slack overrides)",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_SUBNET_IDS",
        default: SettingDefault::Required,
        description: "subnets a runner may be launched in, comma-separated, in order of preference (one per zone: a launch refused for capacity in one tries the next)",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_SECURITY_GROUP_ID",
        default: SettingDefault::Required,
        description: "security group of the runner",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_INSTANCE_PROFILE",
        default: SettingDefault::Required,
        description: "instance profile (name or ARN) giving the runner its Terraform permissions",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_HOST_KEY_SHA256",
        default: SettingDefault::Required,
        description: "the runner's pinned SSH host key, `SHA256:<43 base64 characters>` as `ssh-keygen -lf` prints it",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_HOST_KEY_SECRET_ARN",
        default: SettingDefault::Unset,
        description: "secret holding that host key; the runner's user data installs it",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_AMI_ID",
        default: SettingDefault::Unset,
        description: "AMI of the runner; unset: the one `EVENT_TIER_RUNNER_AMI_PARAMETER` names",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_AMI_PARAMETER",
        default: SettingDefault::Value(
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        ),
        description: "SSM parameter naming the runner's AMI (the latest Amazon Linux 2023)",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_INSTANCE_TYPES",
        default: SettingDefault::Value("t3.small,t3a.small"),
        description: "instance types a runner may be, comma-separated, in order of preference: each is tried in every subnet before the next",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_KEY_NAME",
        default: SettingDefault::Unset,
        description: "EC2 key pair whose public half is installed for the SSH user",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_SSH_USER",
        default: SettingDefault::Value("ec2-user"),
        description: "user the functions SSH in as",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_SSH_PORT",
        default: SettingDefault::Value("22"),
        description: "SSH port of the runner",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_SSH_ENDPOINT",
        default: SettingDefault::Unset,
        description: "`host:port` to SSH to instead of the runner's private address (local stack only)",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_WORKDIR",
        default: SettingDefault::Value("/var/lib/event-tier"),
        description: "directory on the runner holding the per-event work directories",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_READY_TIMEOUT_SECS",
        default: SettingDefault::Value("600"),
        description: "how long a new runner may take to boot and finish its user data; one that has not is terminated (stage `runner` or `boot`)",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_LOG_GROUP",
        default: SettingDefault::Unset,
        description: "log group a new runner's CloudWatch agent ships each run's Terraform output to; unset: no agent",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_ARTIFACTS_BUCKET",
        default: SettingDefault::Required,
        description: "bucket of the runner artifacts (`make artifacts`, uploaded by infra/control): a new runner's user data installs Terraform and the provider mirror from there",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_ARTIFACTS_PREFIX",
        default: SettingDefault::Value("runner/"),
        description: "key prefix of the runner artifacts in that bucket",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_TERRAFORM_SHA256",
        default: SettingDefault::Required,
        description: "sha256 of `terraform_1.11.4_linux_amd64.zip` there; a runner whose download does not match installs nothing and never gets ready",
    },
    Setting {
        name: "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256",
        default: SettingDefault::Required,
        description: "sha256 of `provider-mirror_linux_amd64.zip` there (the providers of the tier's lock file), checked the same way",
    },
    Setting {
        name: "EVENT_TIER_SSH_TIMEOUT_SECS",
        default: SettingDefault::Value("30"),
        description: "bound on connecting and on each SSH operation; a runner lost while following a run is reconnected for this long, then the run is handed to the follow-up",
    },
    Setting {
        name: "EVENT_TIER_TF_ENDPOINT_URL",
        default: SettingDefault::Unset,
        description: "AWS endpoint for the runner's Terraform (local stack only)",
    },
    Setting {
        name: "EVENT_TIER_MODULE_DIR",
        default: SettingDefault::Unset,
        description: "apply this module directory instead of the `infra/event-tier` built into the binary",
    },
    Setting {
        name: "EVENT_TIER_POLL_INTERVAL_SECS",
        default: SettingDefault::Value("10"),
        description: "how often a running Terraform run is polled",
    },
    Setting {
        name: "EVENT_TIER_DEADLINE_MARGIN_SECS",
        default: SettingDefault::Value("60"),
        description: "time kept free before the Lambda deadline: the flow hands over to a follow-up before it",
    },
    Setting {
        name: "EVENT_TIER_READY_TIMEOUT_SECS",
        default: SettingDefault::Value("900"),
        description: "how long the tier may take, from the end of its apply, to pass every readiness check (docs/readiness.md); a check still failing then fails the start at stage `ready`, naming it. The bound carries over to the follow-up",
    },
    Setting {
        name: "EVENT_TIER_READY_INTERVAL_SECS",
        default: SettingDefault::Value("15"),
        description: "how often the readiness checks are looked at again while one fails",
    },
    Setting {
        name: "EVENT_TIER_WATCH_READY_SECS",
        default: SettingDefault::Value("120"),
        description: "how long the watchdog at the opening (event-alarm) looks at the readiness checks before it pages; event-alarm's timeout must exceed it",
    },
    Setting {
        name: "EVENT_TIER_ALARM_TOPIC_ARN",
        default: SettingDefault::Unset,
        description: "SNS topic a watchdog's page goes to when Slack cannot be reached (event-alarm); unset: such a page fails the invocation only",
    },
    Setting {
        name: "EVENT_TIER_READY_HTTP_TIMEOUT_MS",
        default: SettingDefault::Value("5000"),
        description: "bound on the readiness check's GET of the health path through the load balancer",
    },
    Setting {
        name: "EVENT_TIER_READY_HTTP_ENDPOINT",
        default: SettingDefault::Unset,
        description: "`http://host:port` the readiness GET goes to instead of the load balancer's address, with the load balancer's name as `Host` (local stack only)",
    },
    Setting {
        name: "EVENT_TIER_SLACK_TIMEOUT_MS",
        default: SettingDefault::Value("5000"),
        description: "bound on each Slack attempt (3 attempts at most; 5xx, 429 and timeouts are retried, other 4xx are not); also read by event-alarm",
    },
    Setting {
        name: "EVENT_TIER_FINAL_MIGRATION",
        default: SettingDefault::Value("required"),
        description: "`required`: a stop destroys nothing before the final DMS migration succeeded; `off` only for tiers without DMS (the tests' small tier)",
    },
    Setting {
        name: "EVENT_TIER_FOLLOW_UP_ROLE_ARN",
        default: SettingDefault::Unset,
        description: "role EventBridge Scheduler assumes to invoke a follow-up; unset: no follow-up is scheduled (follow up by hand)",
    },
    Setting {
        name: "EVENT_TIER_FOLLOW_UP_SCHEDULE_GROUP",
        default: SettingDefault::Value("default"),
        description: "schedule group of the follow-ups",
    },
];

#[derive(Debug, Clone)]
pub struct Config {
    /// S3 bucket holding every event's Terraform state (one key per event) and the run records.
    pub state_bucket: String,
    /// Secrets Manager ARN (or name) of the runner's SSH private key (PEM).
    pub runner_key_secret: String,
    /// Secrets Manager ARN (or name) of the Slack incoming-webhook URL.
    pub slack_webhook_secret: String,
    /// The Slack bot, when a bot token is configured: it posts instead of the webhook.
    pub slack_bot: Option<SlackBotConfig>,
    /// The Slack app's settings (event-slack).
    pub slack_app: SlackAppConfig,
    /// The Scheduler group of the events' schedules: set, event-stop obeys the ends moved from Slack.
    pub events_group: Option<String>,
    pub runner: RunnerConfig,
    pub ssh: SshConfig,
    /// Where the runner's Terraform sends AWS calls, when not to AWS itself (the local stack).
    pub tf_endpoint_url: Option<String>,
    /// Read the event tier's Terraform from this directory instead of the copy built into the binary.
    pub module_dir: Option<PathBuf>,
    /// How often a running Terraform run is polled.
    pub poll_interval: Duration,
    /// Time kept free before the Lambda deadline: the flow hands over to a follow-up before it.
    pub deadline_margin: Duration,
    pub slack_timeout: Duration,
    /// When the tier counts as ready (event-start's success).
    pub ready: ReadyConfig,
    /// Whether a stop must see the event's DMS replication task reload the operations database before
    /// it destroys anything (`EVENT_TIER_FINAL_MIGRATION=required`, the default, or `off` for tiers
    /// without DMS).
    pub final_migration: bool,
    /// Role EventBridge Scheduler assumes to invoke a follow-up; unset: no follow-up is scheduled.
    pub follow_up_role_arn: Option<String>,
    pub follow_up_group: String,
    /// Where a watchdog's page goes when Slack cannot be reached (`crate::watch`).
    pub alarm_topic_arn: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RunnerConfig {
    /// AMI to launch; when unset, the AMI named by `ami_parameter` in SSM.
    pub ami_id: Option<String>,
    pub ami_parameter: String,
    /// Instance types to try, in order of preference (at least one).
    pub instance_types: Vec<String>,
    /// Subnets to try for each type, in order of preference (at least one).
    pub subnet_ids: Vec<String>,
    pub security_group_id: String,
    /// IAM instance profile name (or ARN) giving the runner its Terraform permissions.
    pub instance_profile: String,
    /// EC2 key pair whose public half is installed for `ssh_user`.
    pub key_name: Option<String>,
    /// Secrets Manager ARN of the runner's SSH host key, fetched by the runner's user data.
    pub host_key_secret: Option<String>,
    /// Directory on the runner holding the per-event work directories.
    pub workdir: String,
    /// How long a launched runner may take to become ready (booted, user data done).
    pub ready_timeout: Duration,
    /// CloudWatch Logs group the runner's CloudWatch agent ships each run's Terraform output to.
    pub log_group: Option<String>,
    /// Where the user data installs Terraform and the provider mirror from.
    pub artifacts: RunnerArtifacts,
}

impl RunnerConfig {
    /// Where a launch may place a runner, in the order tried: each type in every subnet, then the
    /// next type (a capacity shortage is of one type in one zone; the first type is the one wanted).
    pub fn placements(&self) -> impl Iterator<Item = (&str, &str)> {
        self.instance_types.iter().flat_map(|t| {
            self.subnet_ids
                .iter()
                .map(move |s| (t.as_str(), s.as_str()))
        })
    }
}

#[derive(Debug, Clone)]
pub struct SshConfig {
    pub user: String,
    pub port: u16,
    /// Connect here instead of the runner's private address (the local stack's sshd).
    pub endpoint_override: Option<String>,
    /// The runner's pinned host key, as `ssh-keygen -lf` prints it: `SHA256:<base64>`.
    pub host_key_sha256: String,
    /// Bound on connecting and on each blocking SSH operation.
    pub timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads the configuration from the given variables (the environment, or a test's map).
    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self> {
        Self::read(&Env::new(vars))
    }

    fn read(env: &Env) -> Result<Self> {
        let slack_bot = slack::read(env)?;
        Ok(Config {
            state_bucket: env.required("EVENT_TIER_STATE_BUCKET")?,
            runner_key_secret: env.required("EVENT_TIER_RUNNER_KEY_SECRET_ARN")?,
            slack_webhook_secret: env.required("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN")?,
            slack_app: slack::read_app(env, slack_bot.as_ref())?,
            slack_bot,
            events_group: env.optional("EVENT_TIER_EVENTS_SCHEDULE_GROUP"),
            runner: RunnerConfig {
                ami_id: env.optional("EVENT_TIER_RUNNER_AMI_ID"),
                ami_parameter: env
                    .optional("EVENT_TIER_RUNNER_AMI_PARAMETER")
                    .unwrap_or_else(|| DEFAULT_AMI_PARAMETER.to_owned()),
                instance_types: env.list(
                    "EVENT_TIER_RUNNER_INSTANCE_TYPES",
                    Some("t3.small,t3a.small"),
                    |t| {
                        t.split_once('.').is_some_and(|(f, s)| {
                            !f.is_empty()
                                && !s.is_empty()
                                && t.bytes()
                                    .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'-')
                        })
                    },
                    "an instance type such as t3.small",
                )?,
                subnet_ids: env.list(
                    "EVENT_TIER_RUNNER_SUBNET_IDS",
                    None,
                    |s| {
                        s.strip_prefix("subnet-").is_some_and(|id| {
                            !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric())
                        })
                    },
                    "a subnet id such as subnet-0123456789abcdef0",
                )?,
                security_group_id: env.required("EVENT_TIER_RUNNER_SECURITY_GROUP_ID")?,
                instance_profile: env.required("EVENT_TIER_RUNNER_INSTANCE_PROFILE")?,
                key_name: env.optional("EVENT_TIER_RUNNER_KEY_NAME"),
                host_key_secret: env.optional("EVENT_TIER_RUNNER_HOST_KEY_SECRET_ARN"),
                workdir: env
                    .optional("EVENT_TIER_RUNNER_WORKDIR")
                    .unwrap_or_else(|| "/var/lib/event-tier".to_owned()),
                ready_timeout: env.secs("EVENT_TIER_RUNNER_READY_TIMEOUT_SECS", 600)?,
                log_group: env.optional("EVENT_TIER_RUNNER_LOG_GROUP"),
                artifacts: RunnerArtifacts::read(env)?,
            },
            ssh: SshConfig {
                user: env
                    .optional("EVENT_TIER_RUNNER_SSH_USER")
                    .unwrap_or_else(|| "ec2-user".to_owned()),
                port: env.parse("EVENT_TIER_RUNNER_SSH_PORT", 22)?,
                endpoint_override: env.optional("EVENT_TIER_RUNNER_SSH_ENDPOINT"),
                host_key_sha256: env.host_key("EVENT_TIER_RUNNER_HOST_KEY_SHA256")?,
                timeout: env.secs("EVENT_TIER_SSH_TIMEOUT_SECS", 30)?,
            },
            tf_endpoint_url: env.optional("EVENT_TIER_TF_ENDPOINT_URL"),
            module_dir: env.optional("EVENT_TIER_MODULE_DIR").map(PathBuf::from),
            poll_interval: env.secs("EVENT_TIER_POLL_INTERVAL_SECS", 10)?,
            deadline_margin: env.secs("EVENT_TIER_DEADLINE_MARGIN_SECS", 60)?,
            slack_timeout: Duration::from_millis(env.parse("EVENT_TIER_SLACK_TIMEOUT_MS", 5000)?),
            ready: ReadyConfig {
                timeout: env.secs("EVENT_TIER_READY_TIMEOUT_SECS", 900)?,
                interval: env.secs("EVENT_TIER_READY_INTERVAL_SECS", 15)?,
                watch: env.secs("EVENT_TIER_WATCH_READY_SECS", 120)?,
                http: crate::readiness::HttpProbe {
                    endpoint_override: env.optional("EVENT_TIER_READY_HTTP_ENDPOINT"),
                    timeout: Duration::from_millis(
                        env.parse("EVENT_TIER_READY_HTTP_TIMEOUT_MS", 5000)?,
                    ),
                },
            },
            final_migration: match env.optional("EVENT_TIER_FINAL_MIGRATION").as_deref() {
                None | Some("required") => true,
                Some("off") => false,
                Some(other) => {
                    return Err(Error::Config(format!(
                        "EVENT_TIER_FINAL_MIGRATION must be `required` or `off`, got {other:?}"
                    )));
                }
            },
            follow_up_role_arn: env.optional("EVENT_TIER_FOLLOW_UP_ROLE_ARN"),
            follow_up_group: env
                .optional("EVENT_TIER_FOLLOW_UP_SCHEDULE_GROUP")
                .unwrap_or_else(|| "default".to_owned()),
            alarm_topic_arn: env.optional("EVENT_TIER_ALARM_TOPIC_ARN"),
        })
    }
}

/// When the tier counts as ready: every check of [`crate::readiness`] passed, within `timeout` of
/// the apply's end, looked at every `interval`.
#[derive(Debug, Clone)]
pub struct ReadyConfig {
    pub timeout: Duration,
    pub interval: Duration,
    /// How long the watchdog at the opening looks before it pages (`crate::watch`).
    pub watch: Duration,
    pub http: crate::readiness::HttpProbe,
}

/// The settings of a function that only posts to Slack (event-alarm): the webhook secret and the
/// bound on each attempt, read as [`Config`] reads them.
#[derive(Debug, Clone)]
pub struct NotifierConfig {
    /// Secrets Manager ARN (or name) of the Slack incoming-webhook URL.
    pub slack_webhook_secret: String,
    pub slack_timeout: Duration,
}

impl NotifierConfig {
    pub fn from_env() -> Result<Self> {
        Self::from_vars(std::env::vars().collect())
    }

    pub fn from_vars(vars: HashMap<String, String>) -> Result<Self> {
        Self::read(&Env::new(vars))
    }

    fn read(env: &Env) -> Result<Self> {
        Ok(NotifierConfig {
            slack_webhook_secret: env.required("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN")?,
            slack_timeout: Duration::from_millis(env.parse("EVENT_TIER_SLACK_TIMEOUT_MS", 5000)?),
        })
    }
}

#[cfg(test)]
mod tests;
