//! A finished run's Terraform time, recorded in the module's history ([`crate::history`]) and told
//! against what the history learned: "terraform 41.0s (p50 39.0s, p95 55.0s over 12 applies of this
//! module)".

use std::time::Duration;

use super::run::Flow;
use crate::clock::human;
use crate::run::RunId;

impl Flow<'_> {
    /// Records `run`'s Terraform time and says it against the module's history; None when the
    /// runner did not say how long Terraform took.
    pub(super) async fn terraform_time(
        &self,
        run: &RunId,
        took: Option<Duration>,
        stages: &[(String, Duration)],
    ) -> Option<String> {
        let took = took?;
        let module = self.deps.module.hash();
        let history = self
            .deps
            .records
            .record_run(&module, &self.event, run, took, stages)
            .await;
        Some(match history {
            Some(h) => format!(
                "terraform {}",
                crate::history::against(took, h.learned(run.action()), run.action())
            ),
            None => format!("terraform {}", human(took)),
        })
    }
}
