//! What is left of an event after its stop: every resource still tagged with the event, through the
//! Resource Groups Tagging API.

use async_trait::async_trait;
use aws_sdk_resourcegroupstagging::types::TagFilter;

use crate::error::{Result, aws};
use crate::payload::EventId;
use crate::runner::{ROLE_RUNNER, TAG_EVENT, TAG_ROLE};

#[async_trait]
pub trait Inventory: Send + Sync {
    /// ARNs of resources tagged with the event that should not outlive it. The event's RDS final
    /// snapshots are kept on purpose; runners are checked through EC2 (terminated ones stay listed).
    async fn leftovers(&self, event: &EventId) -> Result<Vec<String>>;
}

pub struct TaggingInventory {
    client: aws_sdk_resourcegroupstagging::Client,
}

impl TaggingInventory {
    pub fn new(client: aws_sdk_resourcegroupstagging::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Inventory for TaggingInventory {
    async fn leftovers(&self, event: &EventId) -> Result<Vec<String>> {
        let mut arns = Vec::new();
        let mut pages = self
            .client
            .get_resources()
            .tag_filters(
                TagFilter::builder()
                    .key(TAG_EVENT)
                    .values(event.as_str())
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws("tagging", "GetResources", e))?;
            for r in page.resource_tag_mapping_list() {
                let arn = r.resource_arn().unwrap_or_default();
                let runner = r
                    .tags()
                    .iter()
                    .any(|t| t.key() == TAG_ROLE && t.value() == ROLE_RUNNER);
                if runner || is_kept(arn) {
                    continue;
                }
                arns.push(arn.to_owned());
            }
        }
        arns.sort();
        Ok(arns)
    }
}

/// Resources an event keeps on purpose after its stop: its RDS final snapshots (the data's last
/// copy), and its ECS task definitions, which ECS keeps as INACTIVE revisions after deregistration:
/// they run nothing and cost nothing.
fn is_kept(arn: &str) -> bool {
    (arn.starts_with("arn:aws:rds:") && arn.contains(":snapshot:"))
        || (arn.starts_with("arn:aws:ecs:") && arn.contains(":task-definition/"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn snapshots_and_task_definitions_are_kept_and_the_rest_is_a_leftover() {
        assert!(super::is_kept(
            "arn:aws:rds:us-east-1:1:snapshot:event-tier-x-final-0a1b"
        ));
        assert!(super::is_kept(
            "arn:aws:ecs:us-east-1:1:task-definition/event-tier-x:1"
        ));
        assert!(!super::is_kept("arn:aws:rds:us-east-1:1:db:event-tier-x"));
        assert!(!super::is_kept(
            "arn:aws:ec2:us-east-1:1:security-group/sg-1"
        ));
    }
}
