//! Records kept beside the Terraform state in the state bucket: the claim that lets exactly one
//! invocation launch an event's runner, and the marks that let exactly one invocation report a run.
//! Both rely on S3 conditional writes (`If-None-Match: *`), which S3 makes atomic.

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;

use crate::error::{Result, aws};
use crate::payload::EventId;

/// The S3 key of an event's Terraform state.
pub fn state_key(event: &EventId) -> String {
    format!("events/{event}/terraform.tfstate")
}

fn claim_key(event: &EventId) -> String {
    format!("events/{event}/runner-claim")
}

fn migration_key(event: &EventId) -> String {
    format!("events/{event}/final-migration")
}

fn reported_key(event: &EventId, run_id: &str) -> String {
    format!("events/{event}/runs/{run_id}/reported")
}

#[async_trait]
pub trait Records: Send + Sync {
    /// Creates the event's runner claim holding `token`; returns the token of the claim that stands
    /// (ours if we created it).
    async fn claim_runner(&self, event: &EventId, token: &str) -> Result<String>;
    async fn release_runner(&self, event: &EventId) -> Result<()>;
    /// True exactly once per run: the caller that gets true reports the run's outcome.
    async fn mark_reported(&self, event: &EventId, run_id: &str) -> Result<bool>;
    /// The number of resources in the event's Terraform state; None when there is no state.
    async fn state_resources(&self, event: &EventId) -> Result<Option<usize>>;
    /// The final migration this event's stop started (the task's ARN), if any.
    async fn final_migration(&self, event: &EventId) -> Result<Option<String>>;
    async fn set_final_migration(&self, event: &EventId, task_arn: Option<&str>) -> Result<()>;
}

pub struct S3Records {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Records {
    pub fn new(client: aws_sdk_s3::Client, bucket: String) -> Self {
        Self { client, bucket }
    }

    /// Puts `body` at `key` unless something is there. Ok(true) if we created it.
    async fn create(&self, key: &str, body: &str) -> Result<bool> {
        let res = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(body.as_bytes().to_vec()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed") | Some("ConditionalRequestConflict")
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(aws("s3", "PutObject", e)),
        }
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out
                    .body
                    .collect()
                    .await
                    .map_err(|e| crate::error::Error::Aws {
                        service: "s3",
                        operation: "GetObject",
                        code: None,
                        message: e.to_string(),
                        transient: true,
                    })?;
                Ok(Some(bytes.to_vec()))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(aws("s3", "GetObject", e)),
        }
    }
}

#[async_trait]
impl Records for S3Records {
    async fn claim_runner(&self, event: &EventId, token: &str) -> Result<String> {
        let key = claim_key(event);
        if self.create(&key, token).await? {
            return Ok(token.to_owned());
        }
        match self.read(&key).await? {
            Some(b) => Ok(String::from_utf8_lossy(&b).trim().to_owned()),
            // Released between our write and our read: try once more.
            None if self.create(&key, token).await? => Ok(token.to_owned()),
            None => Ok(self
                .read(&key)
                .await?
                .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
                .unwrap_or_else(|| token.to_owned())),
        }
    }

    async fn release_runner(&self, event: &EventId) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(claim_key(event))
            .send()
            .await
            .map_err(|e| aws("s3", "DeleteObject", e))?;
        Ok(())
    }

    async fn mark_reported(&self, event: &EventId, run_id: &str) -> Result<bool> {
        self.create(&reported_key(event, run_id), "reported").await
    }

    async fn state_resources(&self, event: &EventId) -> Result<Option<usize>> {
        let Some(bytes) = self.read(&state_key(event)).await? else {
            return Ok(None);
        };
        count_state_resources(&bytes)
            .map(Some)
            .ok_or_else(|| crate::error::Error::Aws {
                service: "s3",
                operation: "GetObject",
                code: None,
                message: format!("the state at {} is not a Terraform state", state_key(event)),
                transient: false,
            })
    }

    async fn final_migration(&self, event: &EventId) -> Result<Option<String>> {
        Ok(self
            .read(&migration_key(event))
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
    }

    async fn set_final_migration(&self, event: &EventId, task_arn: Option<&str>) -> Result<()> {
        let key = migration_key(event);
        match task_arn {
            Some(arn) => {
                self.client
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .body(ByteStream::from(arn.as_bytes().to_vec()))
                    .send()
                    .await
                    .map_err(|e| aws("s3", "PutObject", e))?;
            }
            None => {
                self.client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .send()
                    .await
                    .map_err(|e| aws("s3", "DeleteObject", e))?;
            }
        }
        Ok(())
    }
}

/// Counts managed resource instances in a Terraform state file (data sources don't count); None if
/// the bytes are not a Terraform state.
pub fn count_state_resources(state: &[u8]) -> Option<usize> {
    let v = serde_json::from_slice::<serde_json::Value>(state).ok()?;
    let resources = v.get("resources")?.as_array()?;
    Some(
        resources
            .iter()
            .filter(|r| r["mode"] == "managed")
            .map(|r| r["instances"].as_array().map_or(0, Vec::len))
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_resources_are_counted_and_garbage_is_refused() {
        let state = br#"{"version":4,"resources":[
            {"mode":"managed","type":"aws_security_group","name":"a","instances":[{},{}]},
            {"mode":"data","type":"aws_ssm_parameter","name":"p","instances":[{}]}]}"#;
        assert_eq!(count_state_resources(state), Some(2));
        assert_eq!(
            count_state_resources(br#"{"version":4,"resources":[]}"#),
            Some(0)
        );
        assert_eq!(count_state_resources(b"<html>"), None);
    }
}
