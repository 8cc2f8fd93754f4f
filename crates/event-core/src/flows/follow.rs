//! Following a detached run: its log streamed to ours, its end seen through a long poll, until it
//! ends or the deadline needs the invocation to return. A connection that drops or stalls is opened
//! again; when the runner does not answer again within the SSH timeout, the run is handed over.

use std::collections::VecDeque;
use std::time::Duration;

use tracing::{Instrument, info, warn};

use super::link::Link;
use super::report::render_tail;
use super::run::{Finished, Flow};
use super::{FlowError, Stage, Told};
use crate::clock::{Instant, human};
use crate::error::Error;
use crate::run::{RunId, RunState};
use crate::timing;

/// How a followed run ended, or that it goes on past this invocation.
#[derive(Debug)]
pub(crate) enum Followed {
    Finished(Finished),
    Pending,
    /// The runner stopped answering and did not answer again within the SSH timeout; the run goes
    /// on there (it is detached) and its outcome is still to be reported.
    LostContact {
        error: Error,
        after: Duration,
    },
}

const TAIL_KEPT: usize = 25;

impl Flow<'_> {
    pub async fn follow(&self, link: &mut Link, run: &RunId) -> Result<Followed, FlowError> {
        self.follow_run(link, run)
            .instrument(tracing::debug_span!(target: timing::TARGET, "follow"))
            .await
    }

    async fn follow_run(&self, link: &mut Link, run: &RunId) -> Result<Followed, FlowError> {
        let cfg = &self.deps.config;
        let mut offset = 0u64;
        let mut partial = Vec::new();
        let mut tail: VecDeque<String> = VecDeque::new();
        // A long poll: the runner answers as soon as the run ends, or after `wait` with the log so far.
        let wait = cfg.poll_interval.min(cfg.ssh.timeout / 2);
        let pause = self.pause();
        // Since when the runner has not answered, and how many new connections were tried.
        let mut lost: Option<(Instant, u32)> = None;
        // What the module's history expects of an apply: past it, Slack hears "at risk" once.
        let mut expected = self.expected(run).await;
        loop {
            let polled = match lost {
                None => link.host().poll(run, offset, wait).await,
                Some(_) => match self.reconnect(link).await {
                    Ok(()) => link.host().poll(run, offset, wait).await,
                    Err(e) => Err(e),
                },
            };
            let poll = match polled {
                Ok(poll) => {
                    if let Some((since, _)) = lost.take() {
                        info!(event_id = %self.event, run_id = %run, after = %human(since.elapsed()), "contact with the runner regained");
                    }
                    poll
                }
                Err(error @ Error::Ssh { .. }) => {
                    let (since, tries) = lost.unwrap_or((Instant::now(), 0));
                    let after = since.elapsed();
                    if (tries > 0 && after >= cfg.ssh.timeout)
                        || !self.deadline.allows(cfg.deadline_margin + pause)
                    {
                        warn!(event_id = %self.event, run_id = %run, error = %error, "contact with the runner lost for good");
                        return Ok(Followed::LostContact { error, after });
                    }
                    warn!(event_id = %self.event, run_id = %run, error = %error, "contact with the runner lost; reconnecting");
                    lost = Some((since, tries + 1));
                    tokio::time::sleep(pause).await;
                    continue;
                }
                Err(e) => return Err(FlowError::new(Stage::Follow, e)),
            };
            offset += poll.chunk.len() as u64;
            partial.extend_from_slice(&poll.chunk);
            while let Some(nl) = partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = partial.drain(..=nl).collect();
                let line = String::from_utf8_lossy(&line).trim_end().to_owned();
                info!(event_id = %self.event, run_id = %run, "terraform: {line}");
                tail.push_back(line);
                if tail.len() > TAIL_KEPT {
                    tail.pop_front();
                }
            }
            match poll.state {
                RunState::Done { exit, changes } => {
                    if let Some(took) = poll.took {
                        timing::Timings::terraform(took);
                    }
                    if !partial.is_empty() {
                        tail.push_back(String::from_utf8_lossy(&partial).into_owned());
                    }
                    return Ok(Followed::Finished(Finished {
                        exit,
                        stage: poll.stage,
                        changes,
                        tail: render_tail(&tail),
                        took: poll.took,
                        ended: poll.ended,
                        stages: poll.stages,
                    }));
                }
                RunState::Lost | RunState::Unknown => {
                    let what = if poll.state == RunState::Lost {
                        "stopped without an outcome (the runner restarted or the process was killed)"
                    } else {
                        "is unknown to the runner (a different or replaced runner)"
                    };
                    return Err(FlowError {
                        stage: Stage::of_run(poll.stage, run.action()),
                        error: Error::Terraform {
                            action: run.action().to_string(),
                            outcome: format!("run {run} {what}"),
                        },
                        tail: Some(render_tail(&tail)),
                        told: Told::Nothing,
                    });
                }
                RunState::Running => {
                    // Once late, said (or found said by another invocation): not asked again.
                    if let Some(e) = &expected
                        && self.warn_if_late(run, e).await
                    {
                        expected = None;
                    }
                }
            }
            if !self
                .deadline
                .allows(cfg.deadline_margin + cfg.poll_interval)
            {
                return Ok(Followed::Pending);
            }
            if wait.as_secs() == 0 {
                tokio::time::sleep(cfg.poll_interval).await;
            }
        }
    }
}
