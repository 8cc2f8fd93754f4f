//! The runner fleet: one EC2 instance per event that runs the event tier's Terraform.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, HttpTokensState, IamInstanceProfileSpecification,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, ResourceType, ShutdownBehavior,
    Tag, TagSpecification, VolumeType,
};
use base64::Engine;
use tracing::{info, warn};

use crate::config::RunnerConfig;
use crate::error::{Error, Result, aws};
use crate::payload::EventId;

pub const TAG_EVENT: &str = "event-tier:event";
pub const TAG_ROLE: &str = "event-tier:role";
pub const TAG_LAUNCH_TOKEN: &str = "event-tier:launch-token";
pub const ROLE_RUNNER: &str = "runner";

/// The Terraform version the runner installs; the same as the project's own tooling uses.
pub const TERRAFORM_VERSION: &str = "1.11.4";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runner {
    pub instance_id: String,
    /// EC2 state name: pending, running, shutting-down, terminated, stopping, stopped.
    pub state: String,
    pub private_ip: Option<String>,
    pub launch_token: Option<String>,
    /// Unix time of the launch.
    pub launched_at: Option<i64>,
}

impl Runner {
    pub fn is_live(&self) -> bool {
        matches!(self.state.as_str(), "pending" | "running")
    }
}

#[async_trait]
pub trait Fleet: Send + Sync {
    /// This event's runner that is pending or running, if any.
    async fn find(&self, event: &EventId) -> Result<Option<Runner>>;
    /// The instance launched with this token, in any state.
    async fn find_by_token(&self, event: &EventId, token: &str) -> Result<Option<Runner>>;
    /// Launches a runner. The token is the EC2 client token: a repeated launch is not a second runner.
    async fn launch(&self, event: &EventId, token: &str) -> Result<Runner>;
    async fn wait_running(&self, instance_id: &str, timeout: Duration) -> Result<Runner>;
    async fn terminate_and_wait(&self, instance_id: &str, timeout: Duration) -> Result<()>;
}

pub struct Ec2Fleet {
    ec2: aws_sdk_ec2::Client,
    ssm: aws_sdk_ssm::Client,
    config: RunnerConfig,
    region: String,
}

impl Ec2Fleet {
    pub fn new(
        ec2: aws_sdk_ec2::Client,
        ssm: aws_sdk_ssm::Client,
        config: RunnerConfig,
        region: String,
    ) -> Self {
        Self {
            ec2,
            ssm,
            config,
            region,
        }
    }

    async fn describe(&self, filters: Vec<Filter>) -> Result<Vec<Runner>> {
        let mut runners = Vec::new();
        let mut pages = self
            .ec2
            .describe_instances()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws("ec2", "DescribeInstances", e))?;
            for i in page.reservations().iter().flat_map(|r| r.instances()) {
                runners.push(Runner {
                    instance_id: i.instance_id().unwrap_or_default().to_owned(),
                    state: i
                        .state()
                        .and_then(|s| s.name())
                        .map(|n| n.as_str().to_owned())
                        .unwrap_or_default(),
                    private_ip: i.private_ip_address().map(str::to_owned),
                    launch_token: i
                        .tags()
                        .iter()
                        .find(|t| t.key() == Some(TAG_LAUNCH_TOKEN))
                        .and_then(|t| t.value().map(str::to_owned)),
                    launched_at: i.launch_time().map(|t| t.secs()),
                });
            }
        }
        Ok(runners)
    }

    async fn ami(&self) -> Result<String> {
        if let Some(id) = &self.config.ami_id {
            return Ok(id.clone());
        }
        let out = self
            .ssm
            .get_parameter()
            .name(&self.config.ami_parameter)
            .send()
            .await
            .map_err(|e| aws("ssm", "GetParameter", e))?;
        out.parameter()
            .and_then(|p| p.value())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Config(format!(
                    "SSM parameter {} has no value",
                    self.config.ami_parameter
                ))
            })
    }

    /// The request a launch makes first (the first instance type in the first subnet), alone: the
    /// benchmark's floor (`crates/event-floor`) replays a start's `RunInstances` with it.
    pub async fn run_first_placement(
        &self,
        event: &EventId,
        token: &str,
        ami: &str,
    ) -> Result<Runner> {
        let (instance_type, subnet) = self.config.placements().next().ok_or_else(|| {
            Error::Config("no runner instance type or subnet is configured".into())
        })?;
        let at = Placement {
            instance_type,
            subnet,
            client_token: token,
        };
        self.run_instance(event, token, ami, at).await
    }

    /// One RunInstances of a runner in one placement.
    async fn run_instance(
        &self,
        event: &EventId,
        token: &str,
        ami: &str,
        at: Placement<'_>,
    ) -> Result<Runner> {
        let profile = if self.config.instance_profile.starts_with("arn:") {
            IamInstanceProfileSpecification::builder().arn(&self.config.instance_profile)
        } else {
            IamInstanceProfileSpecification::builder().name(&self.config.instance_profile)
        }
        .build();
        let tags = vec![
            tag("Name", &format!("event-tier-runner-{event}")),
            tag(TAG_EVENT, event.as_str()),
            tag(TAG_ROLE, ROLE_RUNNER),
            tag(TAG_LAUNCH_TOKEN, token),
        ];
        let spec = |rt: ResourceType| {
            TagSpecification::builder()
                .resource_type(rt)
                .set_tags(Some(tags.clone()))
                .build()
        };
        let out = self
            .ec2
            .run_instances()
            .client_token(at.client_token)
            .image_id(ami)
            .instance_type(at.instance_type.into())
            .min_count(1)
            .max_count(1)
            .subnet_id(at.subnet)
            .security_group_ids(&self.config.security_group_id)
            .iam_instance_profile(profile)
            .set_key_name(self.config.key_name.clone())
            .metadata_options(
                InstanceMetadataOptionsRequest::builder()
                    .http_tokens(HttpTokensState::Required)
                    .http_endpoint(InstanceMetadataEndpointState::Enabled)
                    .http_put_response_hop_limit(1)
                    .build(),
            )
            .block_device_mappings(
                BlockDeviceMapping::builder()
                    .device_name("/dev/xvda")
                    .ebs(
                        EbsBlockDevice::builder()
                            .encrypted(true)
                            .volume_size(20)
                            .volume_type(VolumeType::Gp3)
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build(),
            )
            .instance_initiated_shutdown_behavior(ShutdownBehavior::Terminate)
            .user_data(base64::engine::general_purpose::STANDARD.encode(self.user_data(event)))
            .tag_specifications(spec(ResourceType::Instance))
            .tag_specifications(spec(ResourceType::Volume))
            .send()
            .await
            .map_err(|e| aws("ec2", "RunInstances", e))?;
        let instance = out.instances().first().ok_or_else(|| Error::Runner {
            instance_id: "-".into(),
            reason: "RunInstances returned no instance".into(),
        })?;
        let id = instance.instance_id().unwrap_or_default().to_owned();
        info!(event_id = %event, instance_id = %id, instance_type = at.instance_type, subnet = at.subnet, "runner launched");
        Ok(Runner {
            instance_id: id,
            state: instance
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_else(|| "pending".into()),
            private_ip: instance.private_ip_address().map(str::to_owned),
            launch_token: Some(token.to_owned()),
            launched_at: Some(crate::clock::unix_now()),
        })
    }

    fn user_data(&self, event: &EventId) -> String {
        user_data(&self.config, &self.region, event)
    }
}

/// One launch attempt's instance type, subnet and EC2 client token.
#[derive(Clone, Copy)]
struct Placement<'a> {
    instance_type: &'a str,
    subnet: &'a str,
    client_token: &'a str,
}

/// EC2 error codes of a launch that another instance type or another zone may meet: no capacity for
/// the type in the zone, the type not offered in the zone, the subnet out of addresses
/// (<https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html>).
pub fn is_capacity_refusal(code: &str) -> bool {
    matches!(
        code,
        "InsufficientInstanceCapacity" | "Unsupported" | "InsufficientFreeAddressesInSubnet"
    )
}

fn tag_filter(key: &str, value: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// Quotes a word for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[async_trait]
impl Fleet for Ec2Fleet {
    async fn find(&self, event: &EventId) -> Result<Option<Runner>> {
        let runners = self
            .describe(vec![
                tag_filter(TAG_EVENT, event.as_str()),
                tag_filter(TAG_ROLE, ROLE_RUNNER),
                Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running")
                    .build(),
            ])
            .await?;
        Ok(runners.into_iter().next())
    }

    async fn find_by_token(&self, event: &EventId, token: &str) -> Result<Option<Runner>> {
        let runners = self
            .describe(vec![
                tag_filter(TAG_EVENT, event.as_str()),
                tag_filter(TAG_LAUNCH_TOKEN, token),
            ])
            .await?;
        // A live one first, should there be more than one.
        Ok(runners
            .iter()
            .find(|r| r.is_live())
            .or(runners.first())
            .cloned())
    }

    /// Tries each instance type in each subnet, in the configured order, until one launches. Only a
    /// refusal that another type or zone may meet ([`is_capacity_refusal`]) moves on; any other
    /// error ends the launch. Attempt `i` uses the client token `token` (`i` = 0) or `token-i`, so a
    /// repeated launch repeats each attempt idempotently; every instance carries `token` in its tag.
    async fn launch(&self, event: &EventId, token: &str) -> Result<Runner> {
        let ami = self.ami().await?;
        let mut refused = Vec::new();
        for (i, (instance_type, subnet)) in self.config.placements().enumerate() {
            let client_token = if i == 0 {
                token.to_owned()
            } else {
                format!("{token}-{i}")
            };
            let placement = Placement {
                instance_type,
                subnet,
                client_token: &client_token,
            };
            match self.run_instance(event, token, &ami, placement).await {
                Ok(runner) => {
                    if !refused.is_empty() {
                        warn!(event_id = %event, instance_id = %runner.instance_id, instance_type, subnet,
                              refused = %refused.join("; "), "runner launched after capacity refusals");
                    }
                    return Ok(runner);
                }
                Err(Error::Aws {
                    code: Some(code),
                    message,
                    ..
                }) if is_capacity_refusal(&code) => {
                    warn!(event_id = %event, instance_type, subnet, code, "launch refused: trying the next placement");
                    refused.push(format!("{instance_type} in {subnet}: {code} ({message})"));
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::Runner {
            instance_id: "-".into(),
            reason: format!(
                "no runner could be launched, every placement was refused: {}",
                refused.join("; ")
            ),
        })
    }

    async fn wait_running(&self, instance_id: &str, timeout: Duration) -> Result<Runner> {
        use aws_sdk_ec2::waiters::instance_running::WaitUntilInstanceRunningError as Waited;
        let by_id = || {
            vec![
                Filter::builder()
                    .name("instance-id")
                    .values(instance_id)
                    .build(),
            ]
        };
        let waited = self
            .ec2
            .wait_until_instance_running()
            .instance_ids(instance_id)
            .wait(timeout)
            .await;
        match waited {
            Ok(_) => {}
            // DescribeInstances itself failed (after the SDK's retries): the runner's state is
            // unknown, which is no reason to give up on it.
            Err(Waited::OperationFailed(e)) => {
                return Err(aws("ec2", "DescribeInstances", e.into_error()));
            }
            Err(e) => {
                // Timed out, or in a state it cannot come back from (stopping, shutting-down, terminated).
                let state = match self.describe(by_id()).await {
                    Ok(found) => found
                        .into_iter()
                        .next()
                        .map_or_else(|| "gone".to_owned(), |r| r.state),
                    Err(_) => "in an unknown state".to_owned(),
                };
                let why = match e {
                    Waited::FailureState(_) => "can no longer reach running".to_owned(),
                    _ => format!("did not reach running within {}s", timeout.as_secs()),
                };
                return Err(Error::Runner {
                    instance_id: instance_id.to_owned(),
                    reason: format!("{why} (it is {state})"),
                });
            }
        }
        let runners = self.describe(by_id()).await?;
        runners.into_iter().next().ok_or_else(|| Error::Runner {
            instance_id: instance_id.to_owned(),
            reason: "vanished after reaching running".into(),
        })
    }

    async fn terminate_and_wait(&self, instance_id: &str, timeout: Duration) -> Result<()> {
        self.ec2
            .terminate_instances()
            .instance_ids(instance_id)
            .send()
            .await
            .map_err(|e| aws("ec2", "TerminateInstances", e))?;
        self.ec2
            .wait_until_instance_terminated()
            .instance_ids(instance_id)
            .wait(timeout)
            .await
            .map_err(|e| Error::Runner {
                instance_id: instance_id.to_owned(),
                reason: format!(
                    "not terminated within {}s: {}",
                    timeout.as_secs(),
                    aws_sdk_ec2::error::DisplayErrorContext(&e)
                ),
            })?;
        info!(instance_id, "runner terminated");
        Ok(())
    }
}

mod user_data;
pub use user_data::user_data;

#[cfg(test)]
mod tests;
