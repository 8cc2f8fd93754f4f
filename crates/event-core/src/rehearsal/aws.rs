//! The rehearsal's look at the account: Service Quotas (the applied value, else AWS's default),
//! DMS's account attributes, what is in use (load balancers, DB instances, security groups), ECR,
//! EC2 images, SSM and Secrets Manager. Read-only calls, each named in event-start's policy.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancerTypeEnum;

use super::{Limit, Lookups, Platform, QuotaRef};
use crate::config::RunnerConfig;
use crate::error::{Error, Result, aws};

/// Where infra/control writes the platform the tier runs in (`infra/event-tier/platform.tf`).
pub const PLATFORM_PARAMETER: &str = "/event-tier/platform";

pub struct AwsLookups {
    quotas: aws_sdk_servicequotas::Client,
    dms: aws_sdk_databasemigration::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    rds: aws_sdk_rds::Client,
    ec2: aws_sdk_ec2::Client,
    ecr: aws_sdk_ecr::Client,
    ssm: aws_sdk_ssm::Client,
    secrets: aws_sdk_secretsmanager::Client,
    runner: RunnerConfig,
    region: String,
}

impl AwsLookups {
    pub fn new(sdk: &aws_config::SdkConfig, runner: RunnerConfig, region: String) -> Self {
        Self {
            quotas: aws_sdk_servicequotas::Client::new(sdk),
            dms: aws_sdk_databasemigration::Client::new(sdk),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(sdk),
            rds: aws_sdk_rds::Client::new(sdk),
            ec2: aws_sdk_ec2::Client::new(sdk),
            ecr: aws_sdk_ecr::Client::new(sdk),
            ssm: aws_sdk_ssm::Client::new(sdk),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            runner,
            region,
        }
    }

    /// The applied value; AWS's default for a quota never raised (GetServiceQuota answers
    /// NoSuchResourceException for some of those).
    async fn quota_value(&self, q: &QuotaRef) -> Result<f64> {
        let applied = self
            .quotas
            .get_service_quota()
            .service_code(q.service)
            .quota_code(q.code)
            .send()
            .await;
        let quota = match applied {
            Ok(o) => o.quota,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_resource_exception()) =>
            {
                self.quotas
                    .get_aws_default_service_quota()
                    .service_code(q.service)
                    .quota_code(q.code)
                    .send()
                    .await
                    .map_err(|e| aws("servicequotas", "GetAWSDefaultServiceQuota", e))?
                    .quota
            }
            Err(e) => return Err(aws("servicequotas", "GetServiceQuota", e)),
        };
        quota.and_then(|q| q.value).ok_or_else(|| Error::Aws {
            service: "servicequotas",
            operation: "GetServiceQuota",
            code: None,
            message: format!("{} ({}) has no value", q.name, q.code),
            transient: false,
        })
    }

    async fn used(&self, q: &QuotaRef) -> Result<Option<f64>> {
        let n = match q.code {
            c if c == super::LOAD_BALANCERS.code => {
                let mut n = 0;
                let mut pages = self.elb.describe_load_balancers().into_paginator().send();
                while let Some(p) = pages.next().await {
                    let p =
                        p.map_err(|e| aws("elasticloadbalancing", "DescribeLoadBalancers", e))?;
                    n += p
                        .load_balancers()
                        .iter()
                        .filter(|l| l.r#type() == Some(&LoadBalancerTypeEnum::Application))
                        .count();
                }
                n
            }
            c if c == super::DB_INSTANCES.code => {
                let mut n = 0;
                let mut pages = self.rds.describe_db_instances().into_paginator().send();
                while let Some(p) = pages.next().await {
                    n += p
                        .map_err(|e| aws("rds", "DescribeDBInstances", e))?
                        .db_instances()
                        .len();
                }
                n
            }
            c if c == super::SECURITY_GROUPS.code => {
                let mut n = 0;
                let mut pages = self.ec2.describe_security_groups().into_paginator().send();
                while let Some(p) = pages.next().await {
                    n += p
                        .map_err(|e| aws("ec2", "DescribeSecurityGroups", e))?
                        .security_groups()
                        .len();
                }
                n
            }
            _ => return Ok(None),
        };
        Ok(Some(n as f64))
    }
}

#[async_trait]
impl Lookups for AwsLookups {
    async fn limit(&self, q: &QuotaRef) -> Result<Limit> {
        if q.service == "dms" {
            let out = self
                .dms
                .describe_account_attributes()
                .send()
                .await
                .map_err(|e| aws("dms", "DescribeAccountAttributes", e))?;
            let a = out
                .account_quotas()
                .iter()
                .find(|a| a.account_quota_name() == Some(q.code))
                .ok_or_else(|| Error::Aws {
                    service: "dms",
                    operation: "DescribeAccountAttributes",
                    code: None,
                    message: format!("no {} quota in the answer", q.code),
                    transient: false,
                })?;
            return Ok(Limit {
                value: a.max() as f64,
                used: Some(a.used() as f64),
            });
        }
        let (value, used) = tokio::join!(self.quota_value(q), self.used(q));
        Ok(Limit {
            value: value?,
            used: used?,
        })
    }

    async fn platform(&self) -> Result<Platform> {
        let out = self
            .ssm
            .get_parameter()
            .name(PLATFORM_PARAMETER)
            .send()
            .await
            .map_err(|e| aws("ssm", "GetParameter", e))?;
        let text = out.parameter().and_then(|p| p.value()).unwrap_or_default();
        serde_json::from_str(text).map_err(|e| {
            Error::Config(format!(
                "{PLATFORM_PARAMETER} is not the platform's JSON: {e}"
            ))
        })
    }

    async fn image(&self, reference: &str) -> Result<Option<bool>> {
        let Some(image) = EcrImage::parse(reference, &self.region) else {
            return Ok(None);
        };
        let mut id = aws_sdk_ecr::types::ImageIdentifier::builder();
        id = match &image.digest {
            Some(d) => id.image_digest(d),
            None => id.image_tag(&image.tag),
        };
        match self
            .ecr
            .describe_images()
            .registry_id(&image.account)
            .repository_name(&image.repository)
            .image_ids(id.build())
            .send()
            .await
        {
            Ok(o) => Ok(Some(!o.image_details().is_empty())),
            Err(e)
                if e.as_service_error().is_some_and(|s| {
                    s.is_image_not_found_exception() || s.is_repository_not_found_exception()
                }) =>
            {
                Ok(Some(false))
            }
            Err(e) => Err(aws("ecr", "DescribeImages", e)),
        }
    }

    async fn runner_ami(&self) -> Result<(String, bool)> {
        let id = match &self.runner.ami_id {
            Some(id) => id.clone(),
            None => self
                .ssm
                .get_parameter()
                .name(&self.runner.ami_parameter)
                .send()
                .await
                .map_err(|e| aws("ssm", "GetParameter", e))?
                .parameter()
                .and_then(|p| p.value())
                .unwrap_or_default()
                .to_owned(),
        };
        let out = self.ec2.describe_images().image_ids(&id).send().await;
        let available = match out {
            Ok(o) => o
                .images()
                .iter()
                .any(|i| i.state() == Some(&aws_sdk_ec2::types::ImageState::Available)),
            Err(e)
                if e.as_service_error()
                    .and_then(|s| s.meta().code())
                    .is_some_and(|c| c.starts_with("InvalidAMIID")) =>
            {
                false
            }
            Err(e) => return Err(aws("ec2", "DescribeImages", e)),
        };
        Ok((id, available))
    }

    async fn secret(&self, arn: &str) -> Result<bool> {
        match self.secrets.describe_secret().secret_id(arn).send().await {
            Ok(o) => Ok(o.deleted_date().is_none()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws("secretsmanager", "DescribeSecret", e)),
        }
    }
}

/// A private ECR image of this region: `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct EcrImage {
    pub account: String,
    pub repository: String,
    pub tag: String,
    pub digest: Option<String>,
}

impl EcrImage {
    pub(super) fn parse(reference: &str, region: &str) -> Option<Self> {
        let (host, path) = reference.split_once('/')?;
        let account = host.strip_suffix(&format!(".dkr.ecr.{region}.amazonaws.com"))?;
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (repository, tag, digest) = match path.split_once('@') {
            Some((repo, digest)) => (repo, String::new(), Some(digest.to_owned())),
            None => match path.rsplit_once(':') {
                Some((repo, tag)) => (repo, tag.to_owned(), None),
                None => (path, "latest".to_owned(), None),
            },
        };
        Some(EcrImage {
            account: account.to_owned(),
            repository: repository.to_owned(),
            tag,
            digest,
        })
    }
}
