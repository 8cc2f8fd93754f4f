//! Is the event's tier ready to take orders? What the shop needs, as the tier module names it in its
//! `readiness` output (in the event's Terraform state): the ECS service runs its desired count with
//! its deployment completed; the target group has at least that many healthy targets; the health
//! path answers 2xx through the load balancer; the RDS instance is `available`; each DMS endpoint
//! passes a connection test from the replication instance; the first migration's schedule exists.
//! One look answers every check; the flow looks again until all pass or its bound ends
//! (`flows::ready`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

/// What the tier module's `readiness` output names. A module declares the checks it has: a field
/// left out is a check it does not have (the tests' small tier declares none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Tier {
    pub cluster: Option<String>,
    pub service: Option<String>,
    /// The task definition the apply made (its ARN with revision): the service's primary
    /// deployment must run it.
    pub task_definition: Option<String>,
    pub target_group_arn: Option<String>,
    /// The health path through the load balancer: `http://<dns name>/<path>`.
    pub url: Option<String>,
    pub db_instance: Option<String>,
    pub dms_replication_instance: Option<String>,
    /// Name (`source`, `target`) to endpoint ARN.
    #[serde(default)]
    pub dms_endpoints: BTreeMap<String, String>,
    pub first_migration_schedule: Option<String>,
    pub first_migration_group: Option<String>,
    /// The opening, wall clock in `timezone`, to say how long before it the tier was ready.
    pub opens_at: Option<String>,
    pub timezone: Option<String>,
}

impl Tier {
    /// The `readiness` output of a Terraform state (`outputs.readiness.value`). None: the state has
    /// no such output. An output of another shape is an error naming what is wrong.
    pub fn from_state(state: &[u8]) -> Result<Option<Tier>, String> {
        let v: serde_json::Value =
            serde_json::from_slice(state).map_err(|e| format!("the state is not JSON: {e}"))?;
        let Some(out) = v.get("outputs").and_then(|o| o.get("readiness")) else {
            return Ok(None);
        };
        let value = out.get("value").cloned().unwrap_or_default();
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| format!("the `readiness` output cannot be read: {e}"))
    }

    /// The checks this tier declares, in the order they are looked at and told.
    pub fn checks(&self) -> Vec<Check> {
        let mut c = Vec::new();
        if self.cluster.is_some() && self.service.is_some() {
            c.push(Check::Service);
        }
        if self.target_group_arn.is_some() {
            c.push(Check::Targets);
        }
        if self.url.is_some() {
            c.push(Check::Http);
        }
        if self.db_instance.is_some() {
            c.push(Check::Database);
        }
        if self.dms_replication_instance.is_some() {
            c.extend(self.dms_endpoints.keys().map(|k| Check::Dms(k.clone())));
        }
        if self.first_migration_schedule.is_some() {
            c.push(Check::FirstMigration);
        }
        c
    }

    /// The opening as a Unix time, when the output names one (in its time zone; UTC by default).
    pub fn opening(&self) -> Option<i64> {
        let at: jiff::civil::DateTime = self.opens_at.as_deref()?.parse().ok()?;
        let tz = jiff::tz::TimeZone::get(self.timezone.as_deref().unwrap_or("UTC")).ok()?;
        Some(at.to_zoned(tz).ok()?.timestamp().as_second())
    }
}

/// One check of readiness.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    Service,
    Targets,
    Http,
    Database,
    /// A DMS endpoint, by its name in the output.
    Dms(String),
    FirstMigration,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Service => f.write_str("service"),
            Check::Targets => f.write_str("targets"),
            Check::Http => f.write_str("http"),
            Check::Database => f.write_str("database"),
            Check::Dms(name) => write!(f, "dms {name}"),
            Check::FirstMigration => f.write_str("first migration"),
        }
    }
}

/// What one look saw of one check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Seen {
    #[serde(serialize_with = "as_text")]
    pub check: Check,
    pub passed: bool,
    /// What was seen, for people: `2 of 2 tasks running, deployment completed`.
    pub saw: String,
}

impl Seen {
    pub fn pass(check: Check, saw: impl Into<String>) -> Self {
        Seen {
            check,
            passed: true,
            saw: saw.into(),
        }
    }

    pub fn fail(check: Check, saw: impl Into<String>) -> Self {
        Seen {
            check,
            passed: false,
            saw: saw.into(),
        }
    }
}

fn as_text<S: serde::Serializer>(c: &Check, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(c)
}

/// Looks at a tier's readiness.
#[async_trait]
pub trait Probes: Send + Sync {
    /// One look at each check the tier declares, in [`Tier::checks`]' order. `fresh`: the first look
    /// of an invocation, which starts new DMS connection tests (a test passed an hour ago proves
    /// nothing now). An AWS error is that check's failure, with what AWS said.
    async fn look(&self, tier: &Tier, fresh: bool) -> Vec<Seen>;
}

/// The HTTP check's request: where it goes, and how long it may take.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    /// `http://host:port` the request goes to instead of the URL's host (the local stack), with the
    /// URL's host as its `Host` header, as a request to the load balancer's address would carry.
    pub endpoint_override: Option<String>,
    pub timeout: Duration,
}

impl HttpProbe {
    /// The address the GET goes to, and the `Host` header it carries when it is not the URL's own.
    pub fn target(&self, url: &str) -> Result<(String, Option<String>), String> {
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"))
            .ok_or_else(|| format!("{url:?} is not an http(s) URL"))?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        match &self.endpoint_override {
            Some(base) => Ok((
                format!("{}{path}", base.trim_end_matches('/')),
                Some(host.to_owned()),
            )),
            None => Ok((url.to_owned(), None)),
        }
    }

    /// One GET: passes on 2xx.
    pub async fn get(&self, client: &reqwest::Client, url: &str) -> Seen {
        let (to, host) = match self.target(url) {
            Ok(t) => t,
            Err(e) => return Seen::fail(Check::Http, e),
        };
        let mut req = client.get(&to).timeout(self.timeout);
        if let Some(h) = host {
            req = req.header(reqwest::header::HOST, h);
        }
        let started = crate::clock::Instant::now();
        match req.send().await {
            Ok(r) => {
                let ms = started.elapsed().as_millis();
                let status = r.status();
                let saw = format!("GET {url} answered {} in {ms} ms", status.as_u16());
                if status.is_success() {
                    Seen::pass(Check::Http, saw)
                } else {
                    Seen::fail(Check::Http, saw)
                }
            }
            Err(e) if e.is_timeout() => Seen::fail(
                Check::Http,
                format!("GET {url} had no answer within {:?}", self.timeout),
            ),
            Err(e) => Seen::fail(
                Check::Http,
                format!("GET {url} failed: {}", without_url(&e)),
            ),
        }
    }
}

/// A reqwest error's cause, without the URL it repeats.
fn without_url(e: &reqwest::Error) -> String {
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut last = None;
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    last.unwrap_or_else(|| "no answer".into())
}

mod aws;
pub use aws::AwsProbes;

#[cfg(test)]
mod tests;
