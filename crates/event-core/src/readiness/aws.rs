//! The readiness checks against AWS: ECS, Elastic Load Balancing, RDS, DMS, EventBridge Scheduler,
//! and an HTTP GET through the load balancer. Each check's calls are independent; one look makes
//! them all at once.

use async_trait::async_trait;
use aws_sdk_databasemigration::types::Filter;
use aws_sdk_ecs::types::DeploymentRolloutState;
use aws_sdk_elasticloadbalancingv2::types::TargetHealthStateEnum;

use super::{Check, HttpProbe, Probes, Seen, Tier};
use crate::error::aws;

pub struct AwsProbes {
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    rds: aws_sdk_rds::Client,
    dms: aws_sdk_databasemigration::Client,
    scheduler: aws_sdk_scheduler::Client,
    http: reqwest::Client,
    probe: HttpProbe,
}

impl AwsProbes {
    pub fn new(sdk: &aws_config::SdkConfig, probe: HttpProbe) -> Self {
        Self {
            ecs: aws_sdk_ecs::Client::new(sdk),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(sdk),
            rds: aws_sdk_rds::Client::new(sdk),
            dms: aws_sdk_databasemigration::Client::new(sdk),
            scheduler: aws_sdk_scheduler::Client::new(sdk),
            // A health check follows no redirect: a 3xx is not the site answering.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            probe,
        }
    }

    /// The service's running and desired counts and its primary deployment's rollout.
    async fn service(
        &self,
        cluster: &str,
        service: &str,
        task_definition: Option<&str>,
    ) -> (Seen, Option<i32>) {
        let out = match self
            .ecs
            .describe_services()
            .cluster(cluster)
            .services(service)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                return (
                    Seen::fail(Check::Service, failed(aws("ecs", "DescribeServices", e))),
                    None,
                );
            }
        };
        let Some(s) = out.services().first() else {
            let why = out
                .failures()
                .first()
                .and_then(|f| f.reason())
                .unwrap_or("not found");
            return (
                Seen::fail(Check::Service, format!("service {service}: {why}")),
                None,
            );
        };
        let (running, desired) = (s.running_count(), s.desired_count());
        let primary = s
            .deployments()
            .iter()
            .find(|d| d.status() == Some("PRIMARY"));
        let rollout = primary.and_then(|d| d.rollout_state());
        let rollout_text = match rollout {
            Some(r) => r.as_str().to_lowercase().replace('_', " "),
            None => "unknown".into(),
        };
        let saw = format!("{running} of {desired} tasks running, deployment {rollout_text}");
        // A deployment rolled back (the circuit breaker) completes too, on the old revision.
        let revision = primary.and_then(|d| d.task_definition());
        let current = task_definition.is_none_or(|td| revision == Some(td));
        let saw = if current {
            saw
        } else {
            format!(
                "{saw} of {}, not the applied {}",
                revision.unwrap_or("no task definition"),
                task_definition.unwrap_or_default()
            )
        };
        let passed = s.status() == Some("ACTIVE")
            && desired > 0
            && running >= desired
            && rollout == Some(&DeploymentRolloutState::Completed)
            && current;
        let saw = match primary.and_then(|d| d.rollout_state_reason()) {
            Some(reason) if !passed && rollout == Some(&DeploymentRolloutState::Failed) => {
                format!("{saw}: {reason}")
            }
            _ => saw,
        };
        (
            Seen {
                check: Check::Service,
                passed,
                saw,
            },
            Some(desired),
        )
    }

    /// Healthy targets against the service's desired count (at least one).
    async fn targets(&self, arn: &str, need: i32) -> Seen {
        let out = match self
            .elb
            .describe_target_health()
            .target_group_arn(arn)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => {
                return Seen::fail(
                    Check::Targets,
                    failed(aws("elbv2", "DescribeTargetHealth", e)),
                );
            }
        };
        let all = out.target_health_descriptions();
        let healthy = all
            .iter()
            .filter(|t| {
                t.target_health().and_then(|h| h.state()) == Some(&TargetHealthStateEnum::Healthy)
            })
            .count();
        let need = need.max(1) as usize;
        let mut saw = format!(
            "{healthy} healthy of {} registered (need {need})",
            all.len()
        );
        let other = all
            .iter()
            .filter_map(|t| t.target_health())
            .find(|h| h.state() != Some(&TargetHealthStateEnum::Healthy));
        if let Some(h) = other.filter(|_| healthy < need) {
            let state = h.state().map(|s| s.as_str()).unwrap_or("unknown");
            let reason = h.reason().map(|r| r.as_str()).unwrap_or("no reason given");
            saw = format!("{saw}; one is {state}: {reason}");
        }
        Seen {
            check: Check::Targets,
            passed: healthy >= need,
            saw,
        }
    }

    async fn database(&self, id: &str) -> Seen {
        match self
            .rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
        {
            Ok(o) => {
                let status = o
                    .db_instances()
                    .first()
                    .and_then(|d| d.db_instance_status())
                    .unwrap_or("not found");
                let saw = format!("{id} is {status}");
                if status == "available" {
                    Seen::pass(Check::Database, saw)
                } else {
                    Seen::fail(Check::Database, saw)
                }
            }
            Err(e) => Seen::fail(
                Check::Database,
                failed(aws("rds", "DescribeDBInstances", e)),
            ),
        }
    }

    /// A connection test from the replication instance: started on a fresh look and again after
    /// a failed one (its cause may have cleared), read on each look.
    async fn endpoint(&self, name: &str, instance: &str, endpoint: &str, fresh: bool) -> Seen {
        let check = Check::Dms(name.to_owned());
        // Refused (the instance modifying, or a test under way): only a test now `testing` can be
        // trusted, never an earlier `successful`.
        let mut refused = None;
        if fresh && let Err(e) = self.test(instance, endpoint).await {
            if !e.to_string().contains("InvalidResourceStateFault") {
                return Seen::fail(check, failed(e));
            }
            refused = Some(e);
        }
        let filter = |name: &str, value: &str| {
            Filter::builder()
                .name(name)
                .values(value)
                .build()
                .expect("name and values are set")
        };
        let out = match self
            .dms
            .describe_connections()
            .filters(filter("endpoint-arn", endpoint))
            .filters(filter("replication-instance-arn", instance))
            .send()
            .await
        {
            Ok(o) => o,
            Err(e) => return Seen::fail(check, failed(aws("dms", "DescribeConnections", e))),
        };
        let c = out.connections().iter().find(|c| {
            c.endpoint_arn() == Some(endpoint) && c.replication_instance_arn() == Some(instance)
        });
        match c.and_then(|c| c.status()) {
            Some(status) if status != "testing" && refused.is_some() => Seen::fail(
                check,
                format!(
                    "no new connection test ({}), the last one {status}",
                    failed(refused.expect("some"))
                ),
            ),
            Some("successful") => Seen::pass(check, "connection test successful"),
            Some("failed") => {
                let why = c
                    .and_then(|c| c.last_failure_message())
                    .filter(|m| !m.is_empty());
                // Tested again for the next look: the cause may clear within the bound.
                if !fresh {
                    let _ = self.test(instance, endpoint).await;
                }
                Seen::fail(
                    check,
                    format!("connection test failed: {}", why.unwrap_or("no message")),
                )
            }
            Some(other) => Seen::fail(check, format!("connection test {other}")),
            None => Seen::fail(check, "no connection test"),
        }
    }

    async fn test(&self, instance: &str, endpoint: &str) -> Result<(), crate::error::Error> {
        self.dms
            .test_connection()
            .replication_instance_arn(instance)
            .endpoint_arn(endpoint)
            .send()
            .await
            .map(drop)
            .map_err(|e| aws("dms", "TestConnection", e))
    }

    async fn first_migration(&self, name: &str, group: &str) -> Seen {
        match self
            .scheduler
            .get_schedule()
            .name(name)
            .group_name(group)
            .send()
            .await
        {
            Ok(s) => {
                let state = s
                    .state()
                    .map(|s| s.as_str().to_lowercase())
                    .unwrap_or_default();
                let saw = format!(
                    "schedule {name}: {} {state}",
                    s.schedule_expression().unwrap_or("?")
                );
                Seen::pass(Check::FirstMigration, saw)
            }
            Err(e) => {
                let e = aws("scheduler", "GetSchedule", e);
                let saw = if e.to_string().contains("ResourceNotFound") {
                    format!("schedule {name} does not exist in group {group}")
                } else {
                    failed(e)
                };
                Seen::fail(Check::FirstMigration, saw)
            }
        }
    }
}

fn failed(e: crate::error::Error) -> String {
    e.to_string()
}

#[async_trait]
impl Probes for AwsProbes {
    async fn look(&self, tier: &Tier, fresh: bool) -> Vec<Seen> {
        let service = async {
            match (&tier.cluster, &tier.service) {
                (Some(c), Some(s)) => {
                    let (seen, desired) = self.service(c, s, tier.task_definition.as_deref()).await;
                    (Some(seen), desired)
                }
                _ => (None, None),
            }
        };
        let http = async {
            match &tier.url {
                Some(url) => Some(self.probe.get(&self.http, url).await),
                None => None,
            }
        };
        let database = async {
            match &tier.db_instance {
                Some(id) => Some(self.database(id).await),
                None => None,
            }
        };
        let dms = async {
            let Some(instance) = &tier.dms_replication_instance else {
                return Vec::new();
            };
            let tests = tier
                .dms_endpoints
                .iter()
                .map(|(name, arn)| self.endpoint(name, instance, arn, fresh));
            futures_util::future::join_all(tests).await
        };
        let first = async {
            match &tier.first_migration_schedule {
                Some(name) => {
                    let group = tier.first_migration_group.as_deref().unwrap_or("default");
                    Some(self.first_migration(name, group).await)
                }
                None => None,
            }
        };
        let ((service, desired), http, database, dms, first) =
            tokio::join!(service, http, database, dms, first);
        // The targets are counted against the desired count the service answered.
        let targets = match &tier.target_group_arn {
            Some(arn) => Some(self.targets(arn, desired.unwrap_or(1)).await),
            None => None,
        };
        let mut seen: Vec<Seen> = [service, targets, http, database]
            .into_iter()
            .flatten()
            .collect();
        seen.extend(dms);
        seen.extend(first);
        seen
    }
}
