//! The stop's final migration, as the flow sees it: run or follow it (migration.rs), take its record
//! before the destroy, forget it when the stop fails, and the forced stop's loud way past it.

use tracing::{info, warn};

use super::run::{Defect, Flow, injected};
use super::{FlowError, Stage};
use crate::error::Error;
use crate::migration::{FinalMigration, run_final, take_final};

pub(super) enum Migrated {
    /// The tier may be destroyed: a sentence for the report.
    Done(String),
    /// The migration outlives this invocation.
    Pending,
    /// Another invocation of the stop took the load (its destroy starts) or the tier went meanwhile.
    Again,
}

/// Runs the final migration, or follows the one this stop started, and takes its record.
pub(super) async fn final_migration(flow: &Flow<'_>) -> Result<Migrated, FlowError> {
    let (deps, cfg) = (flow.deps, &flow.deps.config);
    if !cfg.final_migration {
        return Ok(Migrated::Done(
            "no final migration (EVENT_TIER_FINAL_MIGRATION=off)".to_owned(),
        ));
    }
    let migrate = |e| FlowError::new(Stage::Migrate, e);
    loop {
        let loaded = run_final(
            deps.migrations.as_ref(),
            deps.records.as_ref(),
            &flow.event,
            &flow.token,
            &flow.deadline,
            cfg.poll_interval,
            cfg.deadline_margin,
        )
        .await;
        return match loaded {
            Ok(FinalMigration::Done { note, load }) => {
                if injected(Defect::FinalMigrationOutlivesTheStop) {
                    return Ok(Migrated::Done(note));
                }
                // Taken before the destroy starts: whatever happens next, a later stop loads again.
                if !take_final(deps.records.as_ref(), &flow.event, &load)
                    .await
                    .map_err(migrate)?
                {
                    info!(event_id = %flow.event, "the final load's record was cleared by a failed stop: loading again");
                    continue;
                }
                Ok(Migrated::Done(note))
            }
            Ok(FinalMigration::Pending) => Ok(Migrated::Pending),
            Ok(FinalMigration::Taken) => Ok(Migrated::Again),
            // The tier (and its task) went meanwhile: another invocation of the stop destroyed it.
            Err(_) if flow.state_resources().await? == 0 => Ok(Migrated::Again),
            Err(e) if flow.force => {
                warn!(event_id = %flow.event, error = %e, "final migration not confirmed; forced stop destroys anyway");
                flow.notify(&format!(
                    ":warning: event-tier *{}*: stop FORCED: the final migration was not confirmed ({e}); destroying the event tier anyway. The RDS final snapshot is kept.",
                    flow.event
                ))
                .await;
                Ok(Migrated::Done(format!(
                    "final migration NOT confirmed (forced): {e}"
                )))
            }
            Err(e) => {
                let why = match e {
                    Error::Migration(m) => m,
                    other => other.to_string(),
                };
                Err(migrate(Error::Migration(format!(
                    "{why}; nothing was destroyed: stop again to retry, or with \"force\": true to destroy without it"
                ))))
            }
        };
    }
}

pub(super) async fn forget_final_migration(flow: &Flow<'_>) {
    if let Err(e) = flow
        .deps
        .records
        .set_final_migration(&flow.event, None)
        .await
    {
        warn!(event_id = %flow.event, error = %e, "could not clear the final migration record");
    }
}
