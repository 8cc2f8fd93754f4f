//! The world's runners: one detached run per event under a lock, runs that take time, runners that
//! die mid-run, and Terraform's state lock in the bucket.

use super::*;

/// One connection to a runner of the world.
struct FakeHost {
    world: World,
    instance: String,
}

#[async_trait]
impl Remote for World {
    async fn connect(
        &self,
        target: &SshTarget,
        _: &SecretString,
        event: &EventId,
    ) -> Result<Arc<dyn Host>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        let ok = st.instances.iter().any(|i| {
            i.id == target.host && i.event == event.as_str() && i.state == InstState::Running
        });
        if !ok {
            return Err(ssh_error(
                &target.host,
                "cannot connect: connection refused",
            ));
        }
        Ok(Arc::new(FakeHost {
            world: self.clone(),
            instance: target.host.clone(),
        }))
    }
}

impl FakeHost {
    /// The latency, then the runner's state, or the SSH error of a runner that is gone or a
    /// connection that dropped.
    async fn enter(&self) -> Result<MutexGuard<'_, State>> {
        self.world.latency().await;
        if self.world.chance(self.world.inner.knobs.ssh_drops) {
            self.world.note(format!("ssh to {} dropped", self.instance));
            return Err(ssh_error(&self.instance, "connection reset"));
        }
        let mut st = self.world.st();
        self.world.settle(&mut st);
        let up = st
            .instances
            .iter()
            .any(|i| i.id == self.instance && i.state == InstState::Running);
        if !up {
            return Err(ssh_error(&self.instance, "no answer within 30s"));
        }
        Ok(st)
    }

    fn instance<'s>(&self, st: &'s mut State) -> &'s mut Instance {
        st.instances
            .iter_mut()
            .find(|i| i.id == self.instance)
            .expect("entered")
    }
}

#[async_trait]
impl Host for FakeHost {
    async fn ready(&self) -> Result<Readiness> {
        let flap = self.world.chance(self.world.inner.knobs.ready_flaps);
        let mut st = self.enter().await?;
        let has_runs = st.runs.iter().any(|r| r.instance == self.instance);
        let ready = self
            .instance(&mut st)
            .ready_at
            .is_some_and(|r| r <= Instant::now());
        Ok(if ready && !flap {
            Readiness::Ready
        } else {
            Readiness::NotReady { has_runs }
        })
    }

    async fn prepare(&self, _: &RunId, _: &RunFiles<'_>) -> Result<()> {
        self.enter().await.map(drop)
    }

    async fn start(&self, run: &RunId) -> Result<Started> {
        let (fails, dies, took, die_after) = {
            let mut rng = self.world.rng();
            let k = &self.world.inner.knobs;
            let took = rng.secs(match run.action() {
                Action::Apply | Action::Plan => k.apply,
                Action::Destroy => k.destroy,
            });
            let die_after = Duration::from_secs(rng.range(1, took.as_secs().max(1)));
            (
                rng.chance(k.run_fails),
                rng.chance(k.runner_dies),
                took,
                die_after,
            )
        };
        let t = self.world.t();
        let mut st = self.enter().await?;
        let event = self.instance(&mut st).event.clone();
        if let Some(cur) = st
            .runs
            .iter()
            .find(|r| r.instance == self.instance && r.phase == RunPhase::Running)
        {
            return Ok(Started::Busy(cur.id.clone()));
        }
        if self.instance(&mut st).retired {
            return Ok(Started::Retired);
        }
        if let Some(other) = st
            .runs
            .iter()
            .find(|r| r.event == event && r.phase == RunPhase::Running)
        {
            let what = format!(
                "two runs of {event}: {run} started on {} while {} runs on {}",
                self.instance, other.id, other.instance
            );
            Self::violation_in(&mut st, &t, what);
        }
        let now = Instant::now();
        if run.action() == Action::Destroy && st.tiers.get(&event).copied().unwrap_or(0) > 0 {
            let since = st.stop_requested.get(&event).copied();
            let migrated = since.is_some_and(|since| {
                st.loads
                    .iter()
                    .any(|l| l.event == event && l.ok && l.started >= since && l.ends <= now)
            });
            if !migrated {
                let what = format!(
                    "destroy {run} of {event} started without a final migration that started after the stop was requested ({})",
                    match since {
                        Some(s) => format!("requested {:.1}s ago", (now - s).as_secs_f64()),
                        None => "no stop was requested".into(),
                    }
                );
                Self::violation_in(&mut st, &t, what);
            }
        }
        // Terraform's state lock: a lock left by a killed run of this runner is broken by the
        // protocol; one left by another runner stops the run at init.
        let lock = st.objects.get(&lock_key(&event)).cloned();
        let stale_elsewhere = lock.is_some_and(|holder| holder != self.instance.as_bytes());
        let (exit, stage, ends) = if stale_elsewhere {
            (1, RunStage::Init, now + Duration::from_secs(5))
        } else {
            st.objects
                .insert(lock_key(&event), self.instance.as_bytes().to_vec());
            let stage = match run.action() {
                Action::Apply => RunStage::Apply,
                Action::Destroy => RunStage::Destroy,
                Action::Plan => RunStage::Plan,
            };
            (i32::from(fails), stage, now + took)
        };
        let before = st.tiers.get(&event).copied().unwrap_or(0);
        let changes = match run.action() {
            Action::Apply | Action::Plan => before != TIER_RESOURCES,
            Action::Destroy => before != 0,
        };
        let log = if stale_elsewhere {
            "Error: Error acquiring the state lock\n".to_owned()
        } else {
            String::new()
        };
        st.runs.push(Run {
            id: run.clone(),
            event: event.clone(),
            instance: self.instance.clone(),
            ends,
            exit,
            stage,
            phase: RunPhase::Running,
            changes,
            dies_at: dies.then_some(now + die_after),
            log,
        });
        st.trace.push(format!(
            "{t} run {run} started on {} ({}s{}{})",
            self.instance,
            (ends - now).as_secs(),
            if exit != 0 { ", will fail" } else { "" },
            if dies { ", its runner will die" } else { "" }
        ));
        Ok(Started::Started(run.clone()))
    }

    async fn last(&self) -> Result<Option<LastRun>> {
        let st = self.enter().await?;
        Ok(st
            .runs
            .iter()
            .rev()
            .find(|r| r.instance == self.instance)
            .map(|r| LastRun {
                run: r.id.clone(),
                running: r.phase == RunPhase::Running,
            }))
    }

    async fn poll(&self, run: &RunId, offset: u64, wait: Duration) -> Result<Poll> {
        let ends = {
            let st = self.enter().await?;
            st.runs
                .iter()
                .find(|r| &r.id == run && r.instance == self.instance)
                .filter(|r| r.phase == RunPhase::Running)
                .map(|r| r.ends)
        };
        if let Some(ends) = ends {
            // The long poll: the answer comes when the run ends, or after `wait`.
            if !wait.is_zero() {
                tokio::time::sleep_until(ends.min(Instant::now() + wait)).await;
            }
        }
        let mut st = self.world.st();
        self.world.settle(&mut st);
        let Some(r) = st
            .runs
            .iter()
            .find(|r| &r.id == run && r.instance == self.instance)
        else {
            return Ok(Poll {
                state: RunState::Unknown,
                stage: RunStage::Unknown,
                chunk: Vec::new(),
                took: None,
                ended: None,
                stages: Vec::new(),
            });
        };
        let state = match r.phase {
            RunPhase::Running => RunState::Running,
            RunPhase::Done => RunState::Done {
                exit: r.exit,
                changes: r.changes,
            },
            RunPhase::Lost => RunState::Lost,
        };
        let chunk = r
            .log
            .as_bytes()
            .get(offset as usize..)
            .unwrap_or_default()
            .to_vec();
        // The runner's clock: the wall-clock time of the run's end.
        let ended = (r.phase == RunPhase::Done).then(|| {
            crate::clock::since_epoch()
                .saturating_sub(Instant::now().saturating_duration_since(r.ends))
        });
        Ok(Poll {
            state,
            stage: r.stage,
            chunk,
            took: None,
            ended,
            stages: Vec::new(),
        })
    }

    async fn retire(&self) -> Result<Retire> {
        let mut st = self.enter().await?;
        if let Some(cur) = st
            .runs
            .iter()
            .find(|r| r.instance == self.instance && r.phase == RunPhase::Running)
        {
            return Ok(Retire::Busy(cur.id.clone()));
        }
        self.instance(&mut st).retired = true;
        Ok(Retire::Retired)
    }

    /// The tier's resources as creates when it is down, as kept when it is up.
    async fn plan_json(&self, _run: &RunId) -> Result<Vec<u8>> {
        let mut st = self.enter().await?;
        let event = self.instance(&mut st).event.clone();
        let up = st.tiers.get(&event).copied().unwrap_or(0) > 0;
        let action = if up { "no-op" } else { "create" };
        let changes: Vec<serde_json::Value> = (0..super::TIER_RESOURCES)
            .map(|i| {
                serde_json::json!({"address": format!("aws_thing.t{i}"), "mode": "managed",
                "type": "aws_thing", "change": {"actions": [action]}})
            })
            .collect();
        Ok(serde_json::to_vec(&serde_json::json!({"resource_changes": changes})).expect("json"))
    }
}

impl FakeHost {
    fn violation_in(st: &mut State, t: &str, what: String) {
        World::violation(st, t, what);
    }
}
