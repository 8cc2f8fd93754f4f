//! Records kept beside the Terraform state in the state bucket: the claim that lets exactly one
//! invocation launch an event's runner, the marks that let exactly one invocation report a run, and
//! the final migration a stop started. Claims and marks rely on S3 conditional writes
//! (`If-None-Match: *`), which S3 makes atomic: 412 when the key exists, 409
//! `ConditionalRequestConflict` while another conditional write of the key is in flight (retried).
//! Each holds its writer's token, so a write whose answer was lost (the SDK's retry then gets 412)
//! is still recognised as ours.

use std::sync::Arc;

use async_trait::async_trait;

mod s3;
pub use s3::S3Objects;

use crate::error::Result;
use crate::payload::EventId;
use crate::run::RunId;

/// The S3 key of an event's Terraform state.
pub fn state_key(event: &EventId) -> String {
    format!("events/{event}/terraform.tfstate")
}

fn claim_key(event: &EventId) -> String {
    format!("events/{event}/runner-claim")
}

/// The claim that replaces a stale one (its runner is gone): one key per stale token, so that of
/// the invocations that found the same stale claim exactly one replaces it, and none deletes what
/// another claimed.
fn successor_key(event: &EventId, stale_token: &str) -> String {
    format!("events/{event}/runner-claims/after-{stale_token}")
}

/// A launch claim: where it is kept, and the launch token it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub key: String,
    pub token: String,
}

fn last_run_key(event: &EventId) -> String {
    format!("events/{event}/last-run")
}

fn migration_key(event: &EventId) -> String {
    format!("events/{event}/final-migration")
}

fn reported_key(event: &EventId, key: &str) -> String {
    format!("events/{event}/runs/{key}/reported")
}

/// The final migration of the stop being carried out: claimed by one invocation (so that duplicate
/// deliveries of a stop start one load, and follow it), then marked started once DMS took it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalLoad {
    pub task_arn: String,
    /// Unix time of the claim (the load starts right after it).
    pub claimed_at: i64,
    /// The claiming invocation's token.
    pub token: String,
    /// Whether DMS took the load.
    pub started: bool,
}

impl FinalLoad {
    fn render(&self) -> String {
        let phase = if self.started { "started" } else { "claimed" };
        format!(
            "{phase} {} {} {}",
            self.claimed_at, self.token, self.task_arn
        )
    }

    fn read(text: &str) -> Option<Self> {
        let mut words = text.split_whitespace();
        let started = match words.next()? {
            "started" => true,
            "claimed" => false,
            _ => return None,
        };
        Some(FinalLoad {
            claimed_at: words.next()?.parse().ok()?,
            token: words.next()?.to_owned(),
            task_arn: words.next()?.to_owned(),
            started,
        })
    }
}

#[async_trait]
pub trait Records: Send + Sync {
    /// The event's standing runner claim; ours (holding `token`) when there was none.
    async fn claim_runner(&self, event: &EventId, token: &str) -> Result<Claim>;
    /// Replaces a claim whose runner is gone; the claim that stands after (ours, or another's).
    async fn replace_claim(&self, event: &EventId, stale: &Claim, token: &str) -> Result<Claim>;
    /// Gives up the claim holding `token` (a launch that failed, a runner that was discarded).
    async fn release_claim(&self, event: &EventId, token: &str) -> Result<()>;
    /// Gives up every claim of the event (its runner is terminated after a stop).
    async fn release_runner(&self, event: &EventId) -> Result<()>;
    /// Claims the report of `key` (a run, or a notice about one) for the holder of `token`: true
    /// when the mark is ours (also when our own earlier write of it landed unseen).
    async fn mark_reported(&self, event: &EventId, key: &str, token: &str) -> Result<bool>;
    /// Gives the mark up again (its post failed), so that a later invocation reports.
    async fn unmark_reported(&self, event: &EventId, key: &str) -> Result<()>;
    /// The number of resources in the event's Terraform state; None when there is no state.
    async fn state_resources(&self, event: &EventId) -> Result<Option<usize>>;
    /// The tier's `readiness` output in the event's state: None without a state or that output.
    async fn readiness(&self, event: &EventId) -> Result<Option<crate::readiness::Tier>>;
    /// The last run started for the event (its runner may be gone since).
    async fn last_run(&self, event: &EventId) -> Result<Option<RunId>>;
    async fn set_last_run(&self, event: &EventId, run: &RunId) -> Result<()>;
    /// The final migration of the stop being carried out, if any.
    async fn final_migration(&self, event: &EventId) -> Result<Option<FinalLoad>>;
    /// Claims the final migration unless one is claimed: the record that stands (ours when equal).
    async fn claim_final_migration(&self, event: &EventId, load: &FinalLoad) -> Result<FinalLoad>;
    async fn set_final_migration(&self, event: &EventId, load: Option<&FinalLoad>) -> Result<()>;
    /// Records a finished run's Terraform time in the module's history and answers the history;
    /// None when it is not kept (these records' fakes) or could not be read or written.
    async fn record_run(
        &self,
        _module_hash: &str,
        _event: &EventId,
        _run: &RunId,
        _terraform: std::time::Duration,
        _stages: &[(String, std::time::Duration)],
    ) -> Option<crate::history::History> {
        None
    }
    /// The module's history of runs; None when it is not kept (these records' fakes), absent or
    /// unreadable.
    async fn history(&self, _module_hash: &str) -> Option<crate::history::History> {
        None
    }

    /// Records a runner's boot (launch to ready) in the module's history ([`crate::history`]).
    async fn record_boot(
        &self,
        _module_hash: &str,
        _event: &EventId,
        _instance_id: &str,
        _took: std::time::Duration,
    ) {
    }
}

/// What a conditional create did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    Created,
    /// The key exists (412).
    Exists,
    /// Another conditional write of the key is in flight (409 `ConditionalRequestConflict`).
    Conflict,
}

/// The state bucket as the records see it: objects by key, and S3's conditional create.
#[async_trait]
pub trait Objects: Send + Sync {
    /// Puts `body` at `key` unless the key exists (`If-None-Match: *`).
    async fn create(&self, key: &str, body: &[u8]) -> Result<Create>;
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>>;
    async fn put(&self, key: &str, body: &[u8]) -> Result<()>;
    /// The same, saying the body is JSON (`Content-Type: application/json`): what Terraform's
    /// `aws_s3_object` data source needs to read it (infra/control's learned lead time).
    async fn put_json(&self, key: &str, body: &[u8]) -> Result<()> {
        self.put(key, body).await
    }
    async fn delete(&self, key: &str) -> Result<()>;
    /// The object and its version (its ETag), for a [`Objects::replace`] that loses no change.
    async fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, String)>>;
    /// Puts `body` at `key` if the object is still at `version` (`If-Match`), or, with None, if
    /// there is none (`If-None-Match: *`). False when it changed meanwhile (412, or 409 while
    /// another conditional write is in flight): read it again and redo the change.
    async fn replace(&self, key: &str, body: &[u8], version: Option<&str>) -> Result<bool>;
}

/// The records, over any [`Objects`].
pub struct StateRecords {
    objects: Arc<dyn Objects>,
}

impl StateRecords {
    pub fn new(objects: Arc<dyn Objects>) -> Self {
        Self { objects }
    }

    /// Puts `body` at `key` unless something is there. Ok(true) if we created it; a 409 (another
    /// conditional write of the key in flight) is retried, as S3's documentation asks.
    async fn create(&self, key: &str, body: &str) -> Result<bool> {
        for attempt in 1..=5u64 {
            match self.objects.create(key, body.as_bytes()).await? {
                Create::Created => return Ok(true),
                Create::Exists => return Ok(false),
                Create::Conflict => {
                    tokio::time::sleep(std::time::Duration::from_millis(100 * attempt)).await;
                }
            }
        }
        Err(crate::error::Error::Aws {
            service: "s3",
            operation: "PutObject",
            code: Some("ConditionalRequestConflict".into()),
            message: format!(
                "{key}: concurrent conditional writes did not settle after 5 attempts"
            ),
            transient: true,
        })
    }

    /// Creates `key` holding `token`, or finds it already holding `token`: true when it is ours.
    async fn create_ours(&self, key: &str, token: &str) -> Result<bool> {
        if self.create(key, token).await? {
            return Ok(true);
        }
        Ok(self
            .read(key)
            .await?
            .is_some_and(|b| String::from_utf8_lossy(&b).trim() == token))
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.objects.read(key).await
    }

    async fn read_token(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .read(key)
            .await?
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned()))
    }

    /// From `key` on: the last claim of the chain, or ours where the chain ends in a free key.
    async fn walk_or_claim(&self, event: &EventId, mut key: String, token: &str) -> Result<Claim> {
        loop {
            let Some(standing) = self.read_token(&key).await? else {
                if self.create_ours(&key, token).await? {
                    return Ok(Claim {
                        key,
                        token: token.to_owned(),
                    });
                }
                continue; // Another invocation took it first: read what it wrote.
            };
            let next = successor_key(event, &standing);
            if self.read(&next).await?.is_none() {
                return Ok(Claim {
                    key,
                    token: standing,
                });
            }
            key = next;
        }
    }

    /// Every claim of the event, the first one first.
    async fn chain(&self, event: &EventId) -> Result<Vec<Claim>> {
        let mut claims = Vec::new();
        let mut key = claim_key(event);
        while let Some(token) = self.read_token(&key).await? {
            let next = successor_key(event, &token);
            claims.push(Claim { key, token });
            key = next;
        }
        Ok(claims)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.objects.delete(key).await
    }
}

#[async_trait]
impl Records for StateRecords {
    async fn claim_runner(&self, event: &EventId, token: &str) -> Result<Claim> {
        self.walk_or_claim(event, claim_key(event), token).await
    }

    async fn replace_claim(&self, event: &EventId, stale: &Claim, token: &str) -> Result<Claim> {
        self.walk_or_claim(event, successor_key(event, &stale.token), token)
            .await
    }

    async fn release_claim(&self, event: &EventId, token: &str) -> Result<()> {
        for claim in self.chain(event).await? {
            if claim.token == token {
                self.delete(&claim.key).await?;
            }
        }
        Ok(())
    }

    async fn release_runner(&self, event: &EventId) -> Result<()> {
        for claim in self.chain(event).await?.iter().rev() {
            self.delete(&claim.key).await?;
        }
        Ok(())
    }

    async fn mark_reported(&self, event: &EventId, key: &str, token: &str) -> Result<bool> {
        self.create_ours(&reported_key(event, key), token).await
    }

    async fn unmark_reported(&self, event: &EventId, key: &str) -> Result<()> {
        self.delete(&reported_key(event, key)).await
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

    async fn readiness(&self, event: &EventId) -> Result<Option<crate::readiness::Tier>> {
        let Some(bytes) = self.read(&state_key(event)).await? else {
            return Ok(None);
        };
        crate::readiness::Tier::from_state(&bytes).map_err(|why| {
            crate::error::Error::Module(format!("the state at {}: {why}", state_key(event)))
        })
    }

    async fn last_run(&self, event: &EventId) -> Result<Option<RunId>> {
        Ok(self
            .read_token(&last_run_key(event))
            .await?
            .and_then(|r| RunId::parse(&r)))
    }

    async fn set_last_run(&self, event: &EventId, run: &RunId) -> Result<()> {
        self.objects
            .put(&last_run_key(event), run.as_str().as_bytes())
            .await
    }

    async fn record_run(
        &self,
        module_hash: &str,
        event: &EventId,
        run: &RunId,
        terraform: std::time::Duration,
        stages: &[(String, std::time::Duration)],
    ) -> Option<crate::history::History> {
        crate::history::record(
            self.objects.as_ref(),
            module_hash,
            event,
            run,
            terraform,
            stages,
        )
        .await
    }

    async fn history(&self, module_hash: &str) -> Option<crate::history::History> {
        crate::history::read(self.objects.as_ref(), module_hash).await
    }

    async fn record_boot(
        &self,
        module_hash: &str,
        event: &EventId,
        instance_id: &str,
        took: std::time::Duration,
    ) {
        crate::history::record_boot(self.objects.as_ref(), module_hash, event, instance_id, took)
            .await
    }

    async fn final_migration(&self, event: &EventId) -> Result<Option<FinalLoad>> {
        Ok(self
            .read(&migration_key(event))
            .await?
            .and_then(|b| FinalLoad::read(&String::from_utf8_lossy(&b))))
    }

    async fn claim_final_migration(&self, event: &EventId, load: &FinalLoad) -> Result<FinalLoad> {
        let key = migration_key(event);
        if self.create(&key, &load.render()).await? {
            return Ok(load.clone());
        }
        // Taken: by another invocation, or by our own write whose answer was lost (same token).
        Ok(self
            .final_migration(event)
            .await?
            .unwrap_or_else(|| FinalLoad {
                // Released between our write and our read: nobody's.
                token: String::new(),
                ..load.clone()
            }))
    }

    async fn set_final_migration(&self, event: &EventId, load: Option<&FinalLoad>) -> Result<()> {
        let key = migration_key(event);
        match load {
            Some(load) => self.objects.put(&key, load.render().as_bytes()).await,
            None => self.delete(&key).await,
        }
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

    #[test]
    fn final_load_records_read_back() {
        let mut load = FinalLoad {
            task_arn: "arn:aws:dms:us-east-1:1:task:ABC".into(),
            claimed_at: 1_795_555_080,
            token: "1795555080000-00ab".into(),
            started: false,
        };
        assert_eq!(FinalLoad::read(&load.render()), Some(load.clone()));
        load.started = true;
        assert_eq!(FinalLoad::read(&load.render()), Some(load));
        // The record of an older release (the ARN alone) is no final load of this stop.
        assert_eq!(FinalLoad::read("arn:aws:dms:us-east-1:1:task:ABC"), None);
    }
}
