//! The state bucket, Slack, DMS, the tagging API and Scheduler of the world.

use super::*;

#[async_trait]
impl Objects for World {
    async fn create(&self, key: &str, body: &[u8]) -> Result<Create> {
        self.latency().await;
        let (conflict, lost) = {
            let mut rng = self.rng();
            let k = &self.inner.knobs;
            (rng.chance(k.s3_conflict), rng.chance(k.s3_lost_answer))
        };
        let mut st = self.st();
        // 409 answers a conditional write while another one of the same key is in flight: one
        // that landed within the last half second.
        let now = Instant::now();
        let recent = st
            .creates
            .get(key)
            .is_some_and(|at| now.duration_since(*at) < Duration::from_millis(500));
        if conflict && recent {
            drop(st);
            self.note(format!("s3 409 on {key}"));
            return Ok(Create::Conflict);
        }
        if st.objects.contains_key(key) {
            return Ok(Create::Exists);
        }
        st.objects.insert(key.to_owned(), body.to_vec());
        st.creates.insert(key.to_owned(), now);
        if lost {
            // The write landed; its answer was lost and the SDK's retry got 412.
            let t = self.t();
            st.trace
                .push(format!("{t} s3 create of {key} landed, answer lost"));
            return Ok(Create::Exists);
        }
        Ok(Create::Created)
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(st.objects.get(key).cloned())
    }

    async fn put(&self, key: &str, body: &[u8]) -> Result<()> {
        self.latency().await;
        self.st().objects.insert(key.to_owned(), body.to_vec());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.latency().await;
        self.st().objects.remove(key);
        Ok(())
    }

    async fn read_versioned(&self, key: &str) -> Result<Option<(Vec<u8>, String)>> {
        Ok(self.read(key).await?.map(|body| {
            let version = version_of(&body);
            (body, version)
        }))
    }

    async fn replace(&self, key: &str, body: &[u8], version: Option<&str>) -> Result<bool> {
        self.latency().await;
        let mut st = self.st();
        let current = st.objects.get(key).map(|b| version_of(b));
        if current.as_deref() != version {
            return Ok(false);
        }
        st.objects.insert(key.to_owned(), body.to_vec());
        Ok(true)
    }
}

/// The world's ETag: the body's SHA-256, as S3's is its MD5.
fn version_of(body: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(body))
}

#[async_trait]
impl Notifier for World {
    async fn post(&self, text: &str) -> Result<()> {
        self.post_message(&Message::plain(text)).await
    }

    async fn post_message(&self, m: &Message<'_>) -> Result<()> {
        self.latency().await;
        let refused = match self.inner.knobs.slack {
            SlackMode::Healthy | SlackMode::LandsThenTimesOut(_) => false,
            SlackMode::Down => true,
            SlackMode::Refusing(p) => self.chance(p),
        };
        if refused {
            self.note("slack refused a post");
            return Err(Error::Slack(
                "post failed: HTTP status server error (500)".into(),
            ));
        }
        let timed_out = match self.inner.knobs.slack {
            SlackMode::LandsThenTimesOut(p) => self.chance(p),
            _ => false,
        };
        let t = self.t();
        let mut st = self.st();
        st.posts.push(Post {
            at: Instant::now(),
            text: m.text.to_owned(),
            outcome_of: m.outcome_of.map(|r| r.to_string()),
        });
        let first = m.text.lines().next().unwrap_or_default();
        st.trace.push(format!("{t} slack: {first}"));
        if timed_out {
            st.trace
                .push(format!("{t} slack post landed, answer timed out"));
            return Err(Error::Slack(
                "post failed: timed out after 5000ms (the message may have been posted)".into(),
            ));
        }
        Ok(())
    }
}

#[async_trait]
impl Migrations for World {
    async fn find(&self, event: &EventId) -> Result<Option<Task>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        if st.tiers.get(event.as_str()).copied().unwrap_or(0) == 0 {
            return Ok(None);
        }
        let now = Instant::now();
        let last = st.loads.iter().rev().find(|l| l.event == event.as_str());
        let (status, stop_reason, failure) = match last {
            None => ("ready", None, None),
            Some(l) if l.ends > now => ("running", None, None),
            Some(l) if l.ok => (
                "stopped",
                Some("Stop Reason FULL_LOAD_ONLY_FINISHED".to_owned()),
                None,
            ),
            Some(_) => ("failed", None, Some("connection refused".to_owned())),
        };
        Ok(Some(Task {
            arn: format!("arn:aws:dms:us-east-1:123456789012:task:{event}"),
            status: status.into(),
            stop_reason,
            last_failure_message: failure,
            full_load_percent: Some(100),
            tables_errored: Some(0),
            has_run: last.is_some(),
        }))
    }

    async fn start_load(&self, task: &Task) -> Result<()> {
        self.latency().await;
        let (took, fails) = {
            let mut rng = self.rng();
            (
                rng.secs(self.inner.knobs.load),
                rng.chance(self.inner.knobs.load_fails),
            )
        };
        let t = self.t();
        let mut st = self.st();
        self.settle(&mut st);
        let event = task.arn.rsplit(':').next().unwrap_or_default().to_owned();
        let now = Instant::now();
        if st.loads.iter().any(|l| l.event == event && l.ends > now) {
            return Err(Error::Aws {
                service: "dms",
                operation: "StartReplicationTask",
                code: Some("InvalidResourceStateFault".into()),
                message: "task is running".into(),
                transient: false,
            });
        }
        st.loads.push(Load {
            event,
            started: now,
            ends: now + took,
            ok: !fails,
        });
        st.trace.push(format!(
            "{t} final load started ({}s{})",
            took.as_secs(),
            if fails { ", will fail" } else { "" }
        ));
        Ok(())
    }
}

#[async_trait]
impl Inventory for World {
    async fn leftovers(&self, event: &EventId) -> Result<Vec<String>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(if st.tiers.get(event.as_str()).copied().unwrap_or(0) > 0 {
            vec![format!(
                "arn:aws:ecs:us-east-1:123456789012:service/event-tier-{event}"
            )]
        } else {
            Vec::new()
        })
    }
}

#[async_trait]
impl FollowUps for World {
    async fn schedule(
        &self,
        event: &EventId,
        function_arn: &str,
        payload: &Value,
        delay: Duration,
    ) -> Result<String> {
        self.latency().await;
        if self.chance(self.inner.knobs.schedule_fails) {
            self.note("scheduler refused a follow-up");
            return Err(Error::Aws {
                service: "scheduler",
                operation: "CreateSchedule",
                code: Some("ServiceQuotaExceededException".into()),
                message: "quota".into(),
                transient: false,
            });
        }
        let name = {
            let mut st = self.st();
            st.next_id += 1;
            format!("event-tier-follow-{event}-{:05}", st.next_id)
        };
        let action = if function_arn.ends_with("event-stop") {
            Action::Destroy
        } else {
            Action::Apply
        };
        self.note(format!("scheduled {name}: {payload}"));
        let _ = self.inner.schedules.send(Schedule {
            name: name.clone(),
            action,
            payload: payload.clone(),
            at: Instant::now() + delay,
        });
        Ok(name)
    }
}

#[async_trait]
impl crate::rehearsal::Lookups for World {
    /// Room for everything: the world has no quotas.
    async fn limit(&self, _: &crate::rehearsal::QuotaRef) -> Result<crate::rehearsal::Limit> {
        self.latency().await;
        Ok(crate::rehearsal::Limit {
            value: 1000.0,
            used: Some(0.0),
        })
    }
    async fn platform(&self) -> Result<crate::rehearsal::Platform> {
        Ok(crate::rehearsal::Platform {
            container_image: "world/shop:1".into(),
            ops_db_secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ops".into(),
        })
    }
    async fn image(&self, _: &str) -> Result<Option<bool>> {
        Ok(None)
    }
    async fn runner_ami(&self) -> Result<(String, bool)> {
        Ok(("ami-world".into(), true))
    }
    async fn secret(&self, _: &str) -> Result<bool> {
        Ok(true)
    }
}

#[async_trait]
impl crate::readiness::Probes for World {
    /// The service passes once the tier's time to be ready has come (never for a tier that never
    /// gets ready); the first migration's schedule passes while the tier is up.
    async fn look(
        &self,
        tier: &crate::readiness::Tier,
        _fresh: bool,
    ) -> Vec<crate::readiness::Seen> {
        use crate::readiness::{Check, Seen};
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        let event = tier
            .service
            .as_deref()
            .and_then(|s| s.strip_prefix("event-tier-"))
            .unwrap_or_default();
        let up = st.tiers.get(event).copied().unwrap_or(0) > 0;
        let ready = up
            && st
                .ready_at
                .get(event)
                .is_some_and(|at| at.is_some_and(|at| Instant::now() >= at));
        let service = if ready {
            Seen::pass(Check::Service, "2 of 2 tasks running, deployment completed")
        } else {
            Seen::fail(
                Check::Service,
                "0 of 2 tasks running, deployment in progress",
            )
        };
        let first = if up {
            Seen::pass(Check::FirstMigration, "schedule exists")
        } else {
            Seen::fail(Check::FirstMigration, "schedule does not exist")
        };
        vec![service, first]
    }
}
