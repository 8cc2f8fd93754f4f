//! Dependencies that record every call and refuse to act, to prove that a request did not reach AWS,
//! SSH or Slack.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::flows::Deps;
use crate::followup::FollowUps;
use crate::inventory::Inventory;
use crate::migration::{Migrations, Task};
use crate::module::Module;
use crate::payload::EventId;
use crate::payload::EventId as Event;
use crate::records::Records;
use crate::records::{Claim, FinalLoad};
use crate::run::Host;
use crate::runner::{Fleet, Runner};
use crate::secrets::Secrets;
use crate::slack::Notifier;
use crate::ssh::{Remote, SshTarget};

/// Records the name of every call made to any dependency; every call fails.
#[derive(Default, Clone)]
pub struct Recorder {
    calls: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: &str) -> Error {
        self.calls.lock().unwrap().push(call.to_owned());
        Error::Config(format!("recorder: {call} was called"))
    }

    /// Deps whose every part is this recorder, with `module` and `config`.
    pub fn deps(&self, config: Config, module: Module) -> Deps {
        Deps {
            config,
            region: "us-east-1".into(),
            module,
            fleet: Arc::new(self.clone()),
            secrets: Arc::new(self.clone()),
            remote: Arc::new(self.clone()),
            records: Arc::new(self.clone()),
            notifier: Arc::new(self.clone()),
            migrations: Arc::new(self.clone()),
            inventory: Arc::new(self.clone()),
            probes: Arc::new(self.clone()),
            lookups: Arc::new(self.clone()),
            follow_ups: Some(Arc::new(self.clone())),
            ends: None,
        }
    }
}

#[async_trait]
impl Fleet for Recorder {
    async fn find(&self, _: &EventId) -> Result<Option<Runner>> {
        Err(self.record("fleet.find"))
    }
    async fn find_by_token(&self, _: &EventId, _: &str) -> Result<Option<Runner>> {
        Err(self.record("fleet.find_by_token"))
    }
    async fn launch(&self, _: &EventId, _: &str) -> Result<Runner> {
        Err(self.record("fleet.launch"))
    }
    async fn wait_running(&self, _: &str, _: Duration) -> Result<Runner> {
        Err(self.record("fleet.wait_running"))
    }
    async fn terminate_and_wait(&self, _: &str, _: Duration) -> Result<()> {
        Err(self.record("fleet.terminate_and_wait"))
    }
}

#[async_trait]
impl Secrets for Recorder {
    async fn get(&self, _: &str) -> Result<SecretString> {
        Err(self.record("secrets.get"))
    }
}

#[async_trait]
impl Remote for Recorder {
    async fn connect(&self, _: &SshTarget, _: &SecretString, _: &Event) -> Result<Arc<dyn Host>> {
        Err(self.record("remote.connect"))
    }
}

#[async_trait]
impl Records for Recorder {
    async fn claim_runner(&self, _: &EventId, _: &str) -> Result<Claim> {
        Err(self.record("records.claim_runner"))
    }
    async fn replace_claim(&self, _: &EventId, _: &Claim, _: &str) -> Result<Claim> {
        Err(self.record("records.replace_claim"))
    }
    async fn release_claim(&self, _: &EventId, _: &str) -> Result<()> {
        Err(self.record("records.release_claim"))
    }
    async fn release_runner(&self, _: &EventId) -> Result<()> {
        Err(self.record("records.release_runner"))
    }
    async fn mark_reported(&self, _: &EventId, _: &str, _: &str) -> Result<bool> {
        Err(self.record("records.mark_reported"))
    }
    async fn unmark_reported(&self, _: &EventId, _: &str) -> Result<()> {
        Err(self.record("records.unmark_reported"))
    }
    async fn readiness(&self, _: &EventId) -> Result<Option<crate::readiness::Tier>> {
        Err(self.record("records.readiness"))
    }
    async fn state_resources(&self, _: &EventId) -> Result<Option<usize>> {
        Err(self.record("records.state_resources"))
    }
    async fn last_run(&self, _: &EventId) -> Result<Option<crate::run::RunId>> {
        Err(self.record("records.last_run"))
    }
    async fn set_last_run(&self, _: &EventId, _: &crate::run::RunId) -> Result<()> {
        Err(self.record("records.set_last_run"))
    }
    async fn final_migration(&self, _: &EventId) -> Result<Option<FinalLoad>> {
        Err(self.record("records.final_migration"))
    }
    async fn claim_final_migration(&self, _: &EventId, _: &FinalLoad) -> Result<FinalLoad> {
        Err(self.record("records.claim_final_migration"))
    }
    async fn set_final_migration(&self, _: &EventId, _: Option<&FinalLoad>) -> Result<()> {
        Err(self.record("records.set_final_migration"))
    }
}

#[async_trait]
impl Migrations for Recorder {
    async fn find(&self, _: &EventId) -> Result<Option<Task>> {
        Err(self.record("migrations.find"))
    }
    async fn start_load(&self, _: &Task) -> Result<()> {
        Err(self.record("migrations.start_load"))
    }
}

#[async_trait]
impl Inventory for Recorder {
    async fn leftovers(&self, _: &EventId) -> Result<Vec<String>> {
        Err(self.record("inventory.leftovers"))
    }
}

#[async_trait]
impl crate::readiness::Probes for Recorder {
    async fn look(&self, _: &crate::readiness::Tier, _: bool) -> Vec<crate::readiness::Seen> {
        self.record("probes.look");
        Vec::new()
    }
}

#[async_trait]
impl crate::rehearsal::Lookups for Recorder {
    async fn limit(&self, _: &crate::rehearsal::QuotaRef) -> Result<crate::rehearsal::Limit> {
        Err(self.record("lookups.limit"))
    }
    async fn platform(&self) -> Result<crate::rehearsal::Platform> {
        Err(self.record("lookups.platform"))
    }
    async fn image(&self, _: &str) -> Result<Option<bool>> {
        Err(self.record("lookups.image"))
    }
    async fn runner_ami(&self) -> Result<(String, bool)> {
        Err(self.record("lookups.runner_ami"))
    }
    async fn secret(&self, _: &str) -> Result<bool> {
        Err(self.record("lookups.secret"))
    }
}

#[async_trait]
impl FollowUps for Recorder {
    async fn schedule(
        &self,
        _: &EventId,
        _: &str,
        _: &serde_json::Value,
        _: Duration,
    ) -> Result<String> {
        Err(self.record("follow_ups.schedule"))
    }
}

#[async_trait]
impl Notifier for Recorder {
    async fn post(&self, _: &str) -> Result<()> {
        Err(self.record("slack.post"))
    }
}
