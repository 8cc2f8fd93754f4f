//! `local/fault_proxy.py` in front of moto, one per test: AWS throttling, 5xx and slow answers for the
//! requests of one service and action, with counters of what it saw (see the script's doc).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

use crate::{http, root};

pub struct FaultProxy {
    child: Child,
    pub url: String,
}

impl FaultProxy {
    /// Starts a proxy forwarding to `upstream` (moto) on a free loopback port.
    pub fn start(upstream: &str) -> FaultProxy {
        let mut child = Command::new("python3")
            .arg(root().join("local/fault_proxy.py"))
            .args(["--upstream", upstream])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs local/fault_proxy.py");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("fault proxy said {line:?}"))
            .to_owned();
        FaultProxy {
            child,
            url: format!("http://{addr}"),
        }
    }

    /// Adds a rule: `{"service", "action", "fault", "count", "match", "delay", "delay_response"}`.
    pub async fn rule(&self, rule: Value) {
        let (status, body) = http("POST", &format!("{}/_fault/rules", self.url), Some(&rule)).await;
        assert_eq!(status, 200, "fault rule {rule}: {body}");
    }

    /// Faults the next `count` requests of `service:action` (-1: all of them).
    pub async fn fail(&self, service: &str, action: &str, fault: &str, count: i64) {
        self.rule(json!({ "service": service, "action": action, "fault": fault, "count": count }))
            .await;
    }

    pub async fn reset(&self) {
        let (status, _) = http(
            "POST",
            &format!("{}/_fault/reset", self.url),
            Some(&json!({})),
        )
        .await;
        assert_eq!(status, 200);
    }

    /// (requests, faulted, forwarded) of `service:action` so far.
    pub async fn counts(&self, service: &str, action: &str) -> (u64, u64, u64) {
        let (status, body) = http("GET", &format!("{}/_fault/counters", self.url), None).await;
        assert_eq!(status, 200);
        let c = &body[format!("{service}:{action}")];
        let n = |k: &str| c[k].as_u64().unwrap_or(0);
        (n("requests"), n("faulted"), n("forwarded"))
    }

    /// Every counter, for messages.
    pub async fn counters(&self) -> Value {
        http("GET", &format!("{}/_fault/counters", self.url), None)
            .await
            .1
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        // Only the process this proxy started.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
