//! The final DMS migration: before an event tier is destroyed, its replication task reloads the event
//! database into the operations database once more, and must be seen to succeed.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_databasemigration::error::ProvideErrorMetadata;
use aws_sdk_databasemigration::types::{Filter, StartReplicationTaskTypeValue};
use tracing::info;

use crate::error::{Error, Result, aws};
use crate::flows::Deadline;
use crate::payload::EventId;
use crate::records::{FinalLoad, Records};

/// The replication task's identifier for an event (what `infra/event-tier` names it).
pub fn task_id(event: &EventId) -> String {
    format!("event-tier-{event}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub arn: String,
    pub status: String,
    pub stop_reason: Option<String>,
    pub last_failure_message: Option<String>,
    pub full_load_percent: Option<i32>,
    pub tables_errored: Option<i32>,
    /// Whether the task ever ran (DMS takes `reload-target` only from a task that did).
    pub has_run: bool,
}

/// What a task's state says about the last load it ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Loading, or moving between states.
    Running,
    Succeeded,
    Failed(String),
    /// A state that says nothing about a load (ready, creating, modifying, ...).
    Idle(String),
}

impl Task {
    pub fn progress(&self) -> Progress {
        let reason = || {
            self.last_failure_message
                .clone()
                .or_else(|| self.stop_reason.clone())
                .unwrap_or_else(|| format!("task is {}", self.status))
        };
        match self.status.as_str() {
            "running" | "starting" | "stopping" => Progress::Running,
            "failed" => Progress::Failed(reason()),
            "stopped" => {
                let finished = self
                    .stop_reason
                    .as_deref()
                    .is_some_and(|r| r.contains("FULL_LOAD_ONLY_FINISHED"));
                if finished
                    && self.tables_errored.unwrap_or(0) == 0
                    && self.last_failure_message.is_none()
                {
                    Progress::Succeeded
                } else {
                    Progress::Failed(format!("stopped without finishing the load: {}", reason()))
                }
            }
            other => Progress::Idle(other.to_owned()),
        }
    }
}

#[async_trait]
pub trait Migrations: Send + Sync {
    /// The event's replication task, if it exists.
    async fn find(&self, event: &EventId) -> Result<Option<Task>>;
    /// Starts a run that loads the target anew: `reload-target`, or `start-replication` for a task
    /// that never ran.
    async fn start_load(&self, task: &Task) -> Result<()>;
}

/// How the final migration stands when the invocation must move on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinalMigration {
    /// The load finished: the tier may be destroyed once the record is taken
    /// ([`take_final`]). A sentence for the report.
    Done { note: String, load: FinalLoad },
    /// Still loading (or waiting for a load to end) when the deadline came: a follow-up picks it up.
    Pending,
    /// The started load this invocation followed is no longer recorded: another invocation of the
    /// stop took it (its destroy starts) or cleared it (it failed).
    Taken,
}

/// A claim whose invocation never marked its load started is given up after this long.
const CLAIM_STALE_SECS: i64 = 120;

/// The final migration of a stop. One invocation claims it in the state bucket (duplicate
/// deliveries of the stop then follow that load instead of starting another), waits for an hourly
/// load that runs to end, starts a load, and marks it started; every invocation of the stop follows
/// the started load until it succeeds. The record counts only while it stands: a stop clears it when
/// it fails and takes it when its destroy starts, so that a later stop loads again.
pub async fn run_final(
    migrations: &dyn Migrations,
    records: &dyn Records,
    event: &EventId,
    token: &str,
    deadline: &Deadline,
    poll: Duration,
    margin: Duration,
) -> Result<FinalMigration> {
    let fail = |m: String| Error::Migration(m);
    let wait = || async {
        if !deadline.allows(margin + poll) {
            return false;
        }
        tokio::time::sleep(poll).await;
        true
    };
    let mut followed = false;
    loop {
        let task = migrations.find(event).await?.ok_or_else(|| {
            fail(format!(
                "no replication task {} found, so the event's data cannot be confirmed in the operations database",
                task_id(event)
            ))
        })?;
        let standing = records.final_migration(event).await?;
        let now = crate::clock::unix_now();
        match standing {
            None if followed => return Ok(FinalMigration::Taken),
            Some(load) if load.task_arn == task.arn && load.started => match task.progress() {
                Progress::Succeeded => {
                    info!(event_id = %event, task = %task.arn, "final migration finished");
                    let note = format!(
                        "final migration finished ({}% loaded)",
                        task.full_load_percent.unwrap_or(100)
                    );
                    return Ok(FinalMigration::Done { note, load });
                }
                Progress::Failed(reason) => {
                    return Err(fail(format!(
                        "replication task {} failed: {reason}",
                        task_id(event)
                    )));
                }
                Progress::Running | Progress::Idle(_) => followed = true,
            },
            // Claimed, not yet started: its invocation starts it, or died doing so.
            Some(load) if load.task_arn == task.arn && now - load.claimed_at < CLAIM_STALE_SECS => {
            }
            Some(stale) => {
                info!(event_id = %event, claimed_at = stale.claimed_at, "stale final migration claim given up");
                records.set_final_migration(event, None).await?;
                continue;
            }
            // An hourly load may be running: ours starts when it has ended.
            None if task.progress() == Progress::Running => {}
            None => {
                let claim = FinalLoad {
                    task_arn: task.arn.clone(),
                    claimed_at: now,
                    token: token.to_owned(),
                    started: false,
                };
                if records.claim_final_migration(event, &claim).await? != claim {
                    continue; // Another invocation of this stop claimed it: follow that one.
                }
                if let Err(e) = migrations.start_load(&task).await {
                    records.set_final_migration(event, None).await?;
                    return Err(e);
                }
                let started = FinalLoad {
                    started: true,
                    ..claim
                };
                records.set_final_migration(event, Some(&started)).await?;
                info!(event_id = %event, task = %task.arn, reload = task.has_run, "final migration started");
                followed = true;
                continue;
            }
        }
        if !wait().await {
            return Ok(FinalMigration::Pending);
        }
    }
}

/// Takes the finished load's record before the destroy starts: true when it still stood (no failed
/// invocation of the stop cleared it meanwhile), so the destroy may go on.
pub async fn take_final(records: &dyn Records, event: &EventId, load: &FinalLoad) -> Result<bool> {
    if records.final_migration(event).await?.as_ref() != Some(load) {
        return Ok(false);
    }
    records.set_final_migration(event, None).await?;
    Ok(true)
}

pub struct Dms {
    client: aws_sdk_databasemigration::Client,
}

impl Dms {
    pub fn new(client: aws_sdk_databasemigration::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Migrations for Dms {
    async fn find(&self, event: &EventId) -> Result<Option<Task>> {
        let res = self
            .client
            .describe_replication_tasks()
            .filters(
                Filter::builder()
                    .name("replication-task-id")
                    .values(task_id(event))
                    .build()
                    .expect("name and values are set"),
            )
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e) if e.code() == Some("ResourceNotFoundFault") => return Ok(None),
            Err(e) => return Err(aws("dms", "DescribeReplicationTasks", e)),
        };
        Ok(out.replication_tasks().first().map(|t| Task {
            arn: t.replication_task_arn().unwrap_or_default().to_owned(),
            status: t.status().unwrap_or_default().to_owned(),
            stop_reason: t.stop_reason().map(str::to_owned),
            last_failure_message: t
                .last_failure_message()
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
            full_load_percent: t
                .replication_task_stats()
                .map(|s| s.full_load_progress_percent()),
            tables_errored: t.replication_task_stats().map(|s| s.tables_errored()),
            has_run: t.replication_task_start_date().is_some(),
        }))
    }

    async fn start_load(&self, task: &Task) -> Result<()> {
        let kind = if task.has_run {
            StartReplicationTaskTypeValue::ReloadTarget
        } else {
            StartReplicationTaskTypeValue::StartReplication
        };
        self.client
            .start_replication_task()
            .replication_task_arn(&task.arn)
            .start_replication_task_type(kind)
            .send()
            .await
            .map_err(|e| aws("dms", "StartReplicationTask", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: &str, reason: Option<&str>, failure: Option<&str>) -> Task {
        Task {
            arn: "arn".into(),
            status: status.into(),
            stop_reason: reason.map(Into::into),
            last_failure_message: failure.map(Into::into),
            full_load_percent: Some(100),
            tables_errored: Some(0),
            has_run: true,
        }
    }

    #[test]
    fn a_finished_full_load_is_a_success_and_anything_else_is_not() {
        assert_eq!(
            task("stopped", Some("Stop Reason FULL_LOAD_ONLY_FINISHED"), None).progress(),
            Progress::Succeeded
        );
        assert_eq!(task("running", None, None).progress(), Progress::Running);
        assert!(
            matches!(task("failed", None, Some("connection refused")).progress(), Progress::Failed(m) if m == "connection refused")
        );
        assert!(matches!(
            task("stopped", Some("Stop Reason STOPPED_BY_USER"), None).progress(),
            Progress::Failed(_)
        ));
        let mut errored = task("stopped", Some("Stop Reason FULL_LOAD_ONLY_FINISHED"), None);
        errored.tables_errored = Some(2);
        assert!(matches!(errored.progress(), Progress::Failed(_)));
        assert_eq!(
            task("ready", None, None).progress(),
            Progress::Idle("ready".into())
        );
    }
}
