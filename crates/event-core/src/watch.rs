//! Watchdogs: checks of an event that do not depend on event-start or event-stop succeeding. Their
//! own schedules (`infra/control/watchdogs.tf`) invoke event-alarm, not the functions they watch,
//! so a start or a stop that failed, hung, was never delivered or was deleted is still noticed:
//!
//! - at the opening, the event must be **ready**: every readiness check its tier declares passes
//!   (`crate::readiness`; looked at again for a short while, as DMS connection tests take a moment);
//! - at the end plus a grace period, it must be **down**: nothing in its Terraform state, no
//!   resource tagged with it, no runner. An end moved later from Slack (`extend`, `hold`) moves the
//!   look with it, through a one-off schedule at the new end plus the grace period.
//!
//! A watchdog says nothing when the event is as it should be, and pages otherwise: in Slack and,
//! when Slack cannot be reached, on the control plane's alarm topic (whose subscribers, the
//! on-call's e-mail, hear it without Slack). A page that reaches neither fails the invocation, so
//! the function's error alarm (also on that topic) fires.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tracing::{info, warn};

use crate::error::{Error, Result, aws};
use crate::flows::Deps;
use crate::payload::EventId;
use crate::readiness::Seen;
use crate::schedules::OneOff;
use crate::slack::Message;
use crate::slack_app::{effective_end, rfc3339, scheduled_end};

/// The grace period after the end when the schedule does not say.
pub const DEFAULT_GRACE_MINUTES: u32 = 30;
/// The SNS message attribute of a page published on the alarm topic (`crate::watch::SnsPager`).
pub const PAGE_ATTRIBUTE: &str = "event-tier-page";
/// How many leftover ARNs a page names (the rest are counted).
const NAMED_LEFTOVERS: usize = 5;

/// What the event must be when the watchdog looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Ready,
    Down,
}

/// A watchdog's payload: `{"watch": {"event_id": "winter-sale", "expect": "ready"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Watch {
    pub event_id: String,
    pub expect: Expect,
    /// `down`: how long after the end (as moved from Slack) the event must be down.
    #[serde(default = "default_grace")]
    pub grace_minutes: u32,
}

impl Watch {
    /// The event, when the watch is one the watchdogs can carry out.
    pub fn validate(&self) -> Result<EventId> {
        let event = EventId::parse(&self.event_id)?;
        if self.grace_minutes > 1440 {
            return Err(Error::Input(crate::InputError::field(
                "watch.grace_minutes",
                format!("must be at most 1440, got {}", self.grace_minutes),
            )));
        }
        Ok(event)
    }
}

fn default_grace() -> u32 {
    DEFAULT_GRACE_MINUTES
}

/// What a watchdog found and did: the invocation's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub event_id: String,
    pub expect: Expect,
    /// The event is as expected (or not due yet): nothing was paged.
    pub ok: bool,
    /// What was seen wrong, one finding per line; the readiness checks that passed when ok.
    pub seen: Vec<String>,
    /// Where the page went: `slack`, or `alarm topic` when Slack could not be reached.
    pub paged: Option<String>,
    /// `down` when the end was moved later: the one-off schedule that looks again then.
    pub deferred_to: Option<String>,
}

/// The alarm path that does not go through Slack: the control plane's alarm topic.
#[async_trait]
pub trait Pager: Send + Sync {
    async fn page(&self, subject: &str, text: &str) -> Result<()>;
}

/// [`Pager`] on an SNS topic (`EVENT_TIER_ALARM_TOPIC_ARN`).
pub struct SnsPager {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsPager {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: String) -> Self {
        Self { client, topic_arn }
    }
}

#[async_trait]
impl Pager for SnsPager {
    async fn page(&self, subject: &str, text: &str) -> Result<()> {
        // SNS takes a subject of at most 100 printable ASCII characters (e-mail's subject line).
        let subject: String = subject
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .take(100)
            .collect();
        let page = aws_sdk_sns::types::MessageAttributeValue::builder()
            .data_type("String")
            .string_value("watchdog")
            .build()
            .map_err(|e| Error::Config(format!("SNS message attribute: {e}")))?;
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(subject)
            .message(text)
            // event-alarm is subscribed to this topic too: the attribute tells it this page
            // already failed to reach Slack, so it is not posted (and failed) again.
            .message_attributes(PAGE_ATTRIBUTE, page)
            .send()
            .await
            .map_err(|e| aws("sns", "Publish", e))?;
        Ok(())
    }
}

/// What the watchdogs need: the functions' dependencies (read-only use: state, probes, inventory,
/// runners, the events' schedules) and the alarm topic.
pub struct Watchdog {
    pub deps: Deps,
    /// None: no alarm topic is set; a page Slack refuses fails the invocation only.
    pub pager: Option<Arc<dyn Pager>>,
}

impl Watchdog {
    /// From the environment, as the functions read it, and `EVENT_TIER_ALARM_TOPIC_ARN`.
    pub async fn from_env() -> Result<Self> {
        let config = crate::Config::from_env()?;
        let sdk = crate::flows::sdk_config().await;
        let pager = config.alarm_topic_arn.clone().map(|arn| {
            Arc::new(SnsPager::new(aws_sdk_sns::Client::new(&sdk), arn)) as Arc<dyn Pager>
        });
        Ok(Self {
            deps: Deps::from_sdk_config(config, &sdk)?,
            pager,
        })
    }

    /// Looks, and pages unless the event is as `watch` expects. `function_arn`: this function's,
    /// for the one-off schedule of a look moved with the end. Bad input is refused before any call.
    pub async fn run(&self, watch: &Watch, function_arn: Option<&str>) -> Result<Verdict> {
        let event = watch.validate()?;
        let mut verdict = Verdict {
            event_id: event.to_string(),
            expect: watch.expect,
            ok: true,
            seen: Vec::new(),
            paged: None,
            deferred_to: None,
        };
        let findings = match watch.expect {
            Expect::Ready => match self.ready(&event).await {
                Ok(passed) => {
                    verdict.seen = passed;
                    Vec::new()
                }
                Err(failing) => failing,
            },
            Expect::Down => {
                let grace = Duration::from_secs(u64::from(watch.grace_minutes) * 60);
                match self.moved_end(&event, grace).await {
                    Ok(Some(due)) => {
                        let name = self.look_again(&event, watch, due, function_arn).await?;
                        info!(event_id = %event, due = %rfc3339(due), %name, "the end was moved: the down watchdog looks again then");
                        verdict.deferred_to = Some(name);
                        return Ok(verdict);
                    }
                    Ok(None) => self.leftovers(&event).await,
                    Err(e) => {
                        let mut found = self.leftovers(&event).await;
                        if !found.is_empty() {
                            found.push(format!(
                                "whether the end was moved from Slack could not be read: {e}"
                            ));
                        }
                        found
                    }
                }
            }
        };
        if findings.is_empty() {
            info!(event_id = %event, expect = ?watch.expect, "the watchdog found the event as expected");
            return Ok(verdict);
        }
        verdict.ok = false;
        verdict.paged = Some(self.page(&event, watch, &findings).await?.to_owned());
        verdict.seen = findings;
        Ok(verdict)
    }

    /// Ok: the checks that passed (empty when the module declares none). Err: what is not ready.
    async fn ready(&self, event: &EventId) -> std::result::Result<Vec<String>, Vec<String>> {
        let records = &self.deps.records;
        let tier = match records.readiness(event).await {
            Ok(t) => t.filter(|t| !t.checks().is_empty()),
            Err(e) => return Err(vec![format!("its Terraform state cannot be read: {e}")]),
        };
        let Some(tier) = tier else {
            // No checks to look at. A module that declares them, whose state lacks them, has not
            // finished an apply (one failed partway, or is still running): not ready. A module
            // that declares none is up when its state holds resources.
            let declares = self.deps.module.declares_output("readiness");
            return match records.state_resources(event).await {
                Ok(Some(n)) if n > 0 && declares => Err(vec![format!(
                    "the tier's apply has not finished: its Terraform state holds {n} resources but not yet its `readiness` output"
                )]),
                Ok(Some(n)) if n > 0 => Ok(Vec::new()),
                Ok(_) => Err(vec![
                    "the tier is not up: the event has no Terraform state with resources".into(),
                ]),
                Err(e) => Err(vec![format!("its Terraform state cannot be read: {e}")]),
            };
        };
        let cfg = &self.deps.config.ready;
        let interval = cfg.interval.max(Duration::from_secs(1));
        let started = crate::clock::Instant::now();
        let mut fresh = true;
        loop {
            let seen = self.deps.probes.look(&tier, fresh).await;
            fresh = false;
            if seen.iter().all(|s| s.passed) {
                return Ok(seen.iter().map(line).collect());
            }
            if started.elapsed() + interval > cfg.watch {
                return Err(seen.iter().filter(|s| !s.passed).map(line).collect());
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// When the end was moved later from Slack and the event need not be down yet: the time it
    /// must be down by (the moved end plus `grace`). None: the look is due now.
    async fn moved_end(&self, event: &EventId, grace: Duration) -> Result<Option<OffsetDateTime>> {
        let Some(ends) = &self.deps.ends else {
            return Ok(None);
        };
        let Some(stop) = ends.stop_schedule(event).await? else {
            return Ok(None);
        };
        // A recurring event's stop has no single end to move.
        let Ok(end) = scheduled_end(&stop.expression, &stop.timezone) else {
            return Ok(None);
        };
        let Some((record, _)) = ends.record(event).await? else {
            return Ok(None);
        };
        let now = OffsetDateTime::now_utc();
        let (moved, _) = effective_end(end, &record, now);
        let due =
            moved.saturating_add(time::Duration::try_from(grace).unwrap_or(time::Duration::ZERO));
        // Within a minute is now.
        Ok((due > now + time::Duration::minutes(1)).then_some(due))
    }

    /// A one-off schedule that invokes this function with the same watch at `due`.
    async fn look_again(
        &self,
        event: &EventId,
        watch: &Watch,
        due: OffsetDateTime,
        function_arn: Option<&str>,
    ) -> Result<String> {
        let ends = self
            .deps
            .ends
            .as_ref()
            .ok_or_else(|| Error::Config("the events' schedules are not configured".into()))?;
        let arn = function_arn.ok_or_else(|| {
            Error::Config(format!(
                "the end of {event} was moved to {}: looking again then needs this function's ARN",
                rfc3339(due)
            ))
        })?;
        let input = serde_json::json!({ "watch": watch }).to_string();
        let name = crate::schedules::watch_at_name(event, due);
        ends.schedules
            .once(&OneOff {
                name: name.clone(),
                at: due,
                target_arn: arn,
                input: &input,
                description: format!(
                    "event-tier: is {event} down {} min after its moved end?",
                    watch.grace_minutes
                ),
            })
            .await?;
        Ok(name)
    }

    /// What is left of the event: resources in its state, its runner, resources tagged with it.
    /// A check that cannot be made is a finding: the event is not known to be down.
    async fn leftovers(&self, event: &EventId) -> Vec<String> {
        let (state, runner, tagged) = tokio::join!(
            self.deps.records.state_resources(event),
            self.deps.fleet.find(event),
            self.deps.inventory.leftovers(event),
        );
        let mut found = Vec::new();
        match state {
            Ok(Some(n)) if n > 0 => {
                found.push(format!("its Terraform state still holds {n} resources"))
            }
            Ok(_) => {}
            Err(e) => found.push(format!("its Terraform state cannot be read: {e}")),
        }
        match runner {
            Ok(Some(r)) => found.push(format!("runner {} is {}", r.instance_id, r.state)),
            Ok(None) => {}
            Err(e) => found.push(format!("its runner cannot be looked for: {e}")),
        }
        match tagged {
            Ok(arns) if arns.is_empty() => {}
            Ok(arns) => {
                let mut s = format!(
                    "{} resources tagged {}={event} are left: {}",
                    arns.len(),
                    crate::runner::TAG_EVENT,
                    arns.iter()
                        .take(NAMED_LEFTOVERS)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if arns.len() > NAMED_LEFTOVERS {
                    s.push_str(&format!(" and {} more", arns.len() - NAMED_LEFTOVERS));
                }
                found.push(s);
            }
            Err(e) => found.push(format!("the tagged resources cannot be listed: {e}")),
        }
        found
    }

    /// Posts the page to Slack, else to the alarm topic: where it went.
    async fn page(
        &self,
        event: &EventId,
        watch: &Watch,
        findings: &[String],
    ) -> Result<&'static str> {
        let text = page_text(event, watch, findings);
        warn!(event_id = %event, expect = ?watch.expect, findings = %findings.join("; "), "the watchdog pages");
        let mut message = Message::plain(&text);
        message.event = Some(event);
        let slack = match self.deps.notifier.post_message(&message).await {
            Ok(()) => return Ok("slack"),
            Err(e) => e,
        };
        let Some(pager) = &self.pager else {
            return Err(slack);
        };
        let subject = format!("event-tier {event}: {}", headline(watch));
        let body = format!("{text}\n\n(Slack could not be reached: {slack})");
        match pager.page(&subject, &body).await {
            Ok(()) => Ok("alarm topic"),
            Err(e) => Err(Error::Slack(format!(
                "the watchdog's page reached neither Slack ({slack}) nor the alarm topic ({e})"
            ))),
        }
    }
}

/// One readiness check as a page line: `service: 1 of 2 tasks running, ...`.
fn line(s: &Seen) -> String {
    format!("{}: {}", s.check, s.saw)
}

fn headline(watch: &Watch) -> String {
    match watch.expect {
        Expect::Ready => "not ready at its opening".into(),
        Expect::Down => format!("not down {} min after its end", watch.grace_minutes),
    }
}

/// The page: who to wake, what is wrong, what to do.
pub fn page_text(event: &EventId, watch: &Watch, findings: &[String]) -> String {
    let mut text = format!(
        ":rotating_light: <!here> *{event}* is {} (watchdog)",
        headline(watch)
    );
    for f in findings {
        text.push_str(&format!("\n• {f}"));
    }
    text.push_str(match watch.expect {
        Expect::Ready => "\nThe start's own messages say what it did. Runbook: \"Not ready at the opening\" (docs/runbook.md).",
        Expect::Down => "\nThe stop's own messages say what it did; stop it again (invoke event-stop). Runbook: \"Not down after the end\" (docs/runbook.md).",
    });
    text
}

#[cfg(test)]
mod tests;
