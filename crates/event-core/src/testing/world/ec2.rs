//! EC2 and Secrets Manager of the world: instances that boot, run and are terminated.

use super::*;

fn runner_of(i: &Instance) -> Runner {
    Runner {
        instance_id: i.id.clone(),
        state: match i.state {
            InstState::Pending => "pending",
            InstState::Running => "running",
            InstState::Terminated => "terminated",
        }
        .into(),
        private_ip: Some(i.id.clone()),
        launch_token: Some(i.token.clone()),
        launched_at: Some(i.launched_at),
    }
}

#[async_trait]
impl Fleet for World {
    async fn find(&self, event: &EventId) -> Result<Option<Runner>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(st
            .instances
            .iter()
            .find(|i| i.event == event.as_str() && i.state != InstState::Terminated)
            .map(runner_of))
    }

    async fn find_by_token(&self, event: &EventId, token: &str) -> Result<Option<Runner>> {
        self.latency().await;
        let mut st = self.st();
        self.settle(&mut st);
        Ok(st
            .instances
            .iter()
            .find(|i| i.event == event.as_str() && i.token == token)
            .map(runner_of))
    }

    async fn launch(&self, event: &EventId, token: &str) -> Result<Runner> {
        self.latency().await;
        if self.chance(self.inner.knobs.launch_fails) {
            self.note(format!(
                "launch refused (InsufficientInstanceCapacity) for {token}"
            ));
            return Err(Error::Aws {
                service: "ec2",
                operation: "RunInstances",
                code: Some("InsufficientInstanceCapacity".into()),
                message: "insufficient capacity".into(),
                transient: false,
            });
        }
        let t = self.t();
        let mut st = self.st();
        self.settle(&mut st);
        // The client token: a repeated launch is the same instance.
        if let Some(i) = st.instances.iter().find(|i| i.token == token) {
            return Ok(runner_of(i));
        }
        st.next_id += 1;
        let id = format!("i-{:04}", st.next_id);
        let (boot, never_ready, ready_after) = {
            let mut rng = self.rng();
            let boot = rng.secs((5, 40));
            let never = rng.chance(self.inner.knobs.user_data_fails);
            let ready = rng.secs(self.inner.knobs.boot);
            (boot, never, ready)
        };
        let now = Instant::now();
        st.instances.push(Instance {
            id: id.clone(),
            event: event.to_string(),
            token: token.to_owned(),
            state: InstState::Pending,
            launched_at: crate::clock::unix_now(),
            running_at: now + boot,
            ready_at: (!never_ready).then_some(now + boot + ready_after),
            retired: false,
        });
        st.trace.push(format!(
            "{t} launched {id} for {event}{}",
            if never_ready {
                " (its user data will fail)"
            } else {
                ""
            }
        ));
        let live = st
            .instances
            .iter()
            .filter(|i| i.event == event.as_str() && i.state != InstState::Terminated)
            .count();
        if live > 1 {
            Self::violation(
                &mut st,
                &t,
                format!("{live} live runners for {event} after launching {id}"),
            );
        }
        let i = st.instances.last().expect("just pushed");
        Ok(runner_of(i))
    }

    async fn wait_running(&self, instance_id: &str, timeout: Duration) -> Result<Runner> {
        let until = Instant::now() + timeout;
        loop {
            self.latency().await;
            let running_at = {
                let mut st = self.st();
                self.settle(&mut st);
                let Some(i) = st.instances.iter().find(|i| i.id == instance_id) else {
                    return Err(Error::Runner {
                        instance_id: instance_id.into(),
                        reason: "gone".into(),
                    });
                };
                match i.state {
                    InstState::Running => return Ok(runner_of(i)),
                    InstState::Terminated => {
                        return Err(Error::Runner {
                            instance_id: instance_id.into(),
                            reason: "can no longer reach running (it is terminated)".into(),
                        });
                    }
                    InstState::Pending => i.running_at,
                }
            };
            if running_at > until {
                tokio::time::sleep_until(until).await;
                return Err(Error::Runner {
                    instance_id: instance_id.into(),
                    reason: "did not reach running in time".into(),
                });
            }
            tokio::time::sleep_until(running_at).await;
        }
    }

    async fn terminate_and_wait(&self, instance_id: &str, _timeout: Duration) -> Result<()> {
        self.latency().await;
        let t = self.t();
        let mut st = self.st();
        self.settle(&mut st);
        let busy: Vec<String> = st
            .runs
            .iter()
            .filter(|r| r.instance == instance_id && r.phase == RunPhase::Running)
            .map(|r| r.id.to_string())
            .collect();
        if !busy.is_empty() {
            Self::violation(
                &mut st,
                &t,
                format!(
                    "runner {instance_id} terminated while run {} is in progress",
                    busy.join(", ")
                ),
            );
            for r in st.runs.iter_mut().filter(|r| r.instance == instance_id) {
                if r.phase == RunPhase::Running {
                    r.phase = RunPhase::Lost;
                }
            }
        }
        if let Some(i) = st.instances.iter_mut().find(|i| i.id == instance_id) {
            i.state = InstState::Terminated;
        }
        st.trace.push(format!("{t} terminated {instance_id}"));
        Ok(())
    }
}

#[async_trait]
impl Secrets for World {
    async fn get(&self, _: &str) -> Result<SecretString> {
        self.latency().await;
        Ok(SecretString::from("-----runner key-----".to_owned()))
    }
}
