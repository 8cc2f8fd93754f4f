//! Everything a flow needs, built once per Lambda instance.

use std::sync::Arc;

use crate::config::Config;
use crate::ends::Ends;
use crate::error::Error;
use crate::followup::FollowUps;
use crate::inventory::Inventory;
use crate::migration::Migrations;
use crate::module::Module;
use crate::records::{Objects, Records};
use crate::runner::Fleet;
use crate::secrets::Secrets;
use crate::slack::Notifier;
use crate::ssh::Remote;
use crate::terraform::Backend;

/// The SDK's configuration from the environment. A Lambda function's credentials are in its
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); when they are,
/// they are taken from there alone, without building the default chain's other providers (instance
/// metadata, container, SSO, web identity), which a function never uses. Every service client made
/// from it shares one HTTPS client ([`crate::sdk_http`]).
pub async fn sdk_config() -> aws_config::SdkConfig {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crate::sdk_http::shared());
    let loader = if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        loader.credentials_provider(
            aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
        )
    } else {
        loader
    };
    loader.load().await
}

pub struct Deps {
    pub config: Config,
    pub region: String,
    pub module: Module,
    pub fleet: Arc<dyn Fleet>,
    pub secrets: Arc<dyn Secrets>,
    pub remote: Arc<dyn Remote>,
    pub records: Arc<dyn Records>,
    pub notifier: Arc<dyn Notifier>,
    pub migrations: Arc<dyn Migrations>,
    pub inventory: Arc<dyn Inventory>,
    /// The tier's readiness checks (event-start's success).
    pub probes: Arc<dyn crate::readiness::Probes>,
    /// The account as the dress rehearsal reads it: quotas, image, AMI, secret.
    pub lookups: Arc<dyn crate::rehearsal::Lookups>,
    /// None when `EVENT_TIER_FOLLOW_UP_ROLE_ARN` is unset: work that outlives the function then fails
    /// the invocation, saying how to pick it up by hand.
    pub follow_ups: Option<Arc<dyn FollowUps>>,
    /// The events' schedules and override records: None unless `EVENT_TIER_EVENTS_SCHEDULE_GROUP`
    /// and the follow-up role are set (then there are no Slack overrides to obey).
    pub ends: Option<Arc<Ends>>,
}

impl Deps {
    /// The AWS-backed dependencies. `AWS_ENDPOINT_URL` (the local stack) is honoured by the SDK.
    pub async fn from_config(config: Config) -> Result<Self, Error> {
        Self::from_sdk_config(config, &sdk_config().await)
    }

    /// The same with a given SDK configuration: its endpoint, retry and timeout settings apply to
    /// every AWS client (the fault tests point it at a fault-injecting proxy).
    pub fn from_sdk_config(config: Config, sdk: &aws_config::SdkConfig) -> Result<Self, Error> {
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| Error::Config("AWS_REGION is not set".into()))?;
        let s3_conf = aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(sdk.endpoint_url().is_some())
            .build();
        let secrets: Arc<dyn Secrets> = Arc::new(crate::secrets::SecretsManager::new(
            aws_sdk_secretsmanager::Client::new(sdk),
        ));
        let module = Module::load(config.module_dir.as_deref())?;
        let objects: Arc<dyn Objects> = Arc::new(crate::records::S3Objects::new(
            aws_sdk_s3::Client::from_conf(s3_conf),
            config.state_bucket.clone(),
        ));
        let notifier: Arc<dyn Notifier> = match &config.slack_bot {
            Some(bot) => Arc::new(crate::slack::SlackBot::new(
                secrets.clone(),
                bot.clone(),
                config.slack_timeout,
                objects.clone(),
            )),
            None => Arc::new(crate::slack::SlackWebhook::new(
                secrets.clone(),
                config.slack_webhook_secret.clone(),
                config.slack_timeout,
            )?),
        };
        let ends = match (&config.events_group, &config.follow_up_role_arn) {
            (Some(group), Some(role)) => Some(Arc::new(Ends::new(
                Arc::new(crate::schedules::SchedulerEvents::new(
                    aws_sdk_scheduler::Client::new(sdk),
                    group.clone(),
                    config.follow_up_group.clone(),
                    role.clone(),
                )),
                objects.clone(),
            ))),
            (Some(_), None) => {
                return Err(Error::Config(
                    "EVENT_TIER_EVENTS_SCHEDULE_GROUP is set without EVENT_TIER_FOLLOW_UP_ROLE_ARN: moving a stop needs the role its one-off schedule runs as".into(),
                ));
            }
            (None, _) => None,
        };
        Ok(Deps {
            ends,
            region: region.clone(),
            module,
            fleet: Arc::new(crate::runner::Ec2Fleet::new(
                aws_sdk_ec2::Client::new(sdk),
                aws_sdk_ssm::Client::new(sdk),
                config.runner.clone(),
                region.clone(),
            )),
            remote: Arc::new(crate::ssh::Ssh2Remote::new(config.runner.workdir.clone())),
            records: Arc::new(crate::records::StateRecords::new(objects)),
            notifier,
            migrations: Arc::new(crate::migration::Dms::new(
                aws_sdk_databasemigration::Client::new(sdk),
            )),
            inventory: Arc::new(crate::inventory::TaggingInventory::new(
                aws_sdk_resourcegroupstagging::Client::new(sdk),
            )),
            probes: Arc::new(crate::readiness::AwsProbes::new(
                sdk,
                config.ready.http.clone(),
            )),
            lookups: Arc::new(crate::rehearsal::AwsLookups::new(
                sdk,
                config.runner.clone(),
                region.clone(),
            )),
            follow_ups: config.follow_up_role_arn.clone().map(|role| {
                Arc::new(crate::followup::SchedulerFollowUps::new(
                    aws_sdk_scheduler::Client::new(sdk),
                    role,
                    config.follow_up_group.clone(),
                )) as Arc<dyn FollowUps>
            }),
            secrets,
            config,
        })
    }

    pub(crate) fn backend(&self) -> Backend {
        Backend {
            bucket: self.config.state_bucket.clone(),
            region: self.region.clone(),
            endpoint_url: self.config.tf_endpoint_url.clone(),
        }
    }
}
