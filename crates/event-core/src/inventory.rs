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

/// Resources an event keeps on purpose after its stop.
fn is_kept(arn: &str) -> bool {
    arn.starts_with("arn:aws:rds:") && arn.contains(":snapshot:")
}
