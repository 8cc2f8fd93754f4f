//! The Slack app at work (event-slack): a request as the function URL delivers it goes through the
//! rules of [`crate::slack_app`] in their order, and the first refusal ends it:
//! 1. the signature and its window (401), then the request's replay claim in the state bucket (a
//!    second delivery of the same signed request is refused, 401);
//! 2. the form, a slash command or a button (400 when it is not Slack's; a person's mistake is
//!    answered with the usage line);
//! 3. the allow-lists (403);
//! 4. the effect: `status` reads; `extend`, `hold`, `release` and `stop-now` change the event's
//!    override record (and, once the scheduled end has passed, move the stop with a one-off
//!    schedule); `stop-now` and `retry` put the stop (or start) on a one-off schedule that fires
//!    a minute later. The long work, a destroy or an apply, runs in event-stop or event-start,
//!    which report in the event's thread; nothing here waits for Terraform.
//!
//! Slack gives an app three seconds to answer. Everything here is a few calls to S3 and Scheduler
//! (tens of milliseconds each), bounded by the SDK's timeouts; the answer is the HTTP response,
//! shown to the person who asked, and each change is echoed in the event's thread for everyone.

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::OnceCell;
use tracing::{info, warn};

use crate::config::SlackAppConfig;
use crate::ends::Ends;
use crate::error::Error;
use crate::payload::EventId;
use crate::records::{Create, Objects};
use crate::schedules::{OneOff, Which, stop_at_name};
use crate::secrets::Secrets;
use crate::slack::{Message, Notifier};
use crate::slack_app::{
    Asked, Command, CommandError, CommandSettings, OverrideError, Request, RetryOf, Signed,
    effective_end, human_duration, rfc3339, scheduled_end, verify,
};

mod remind;
#[cfg(test)]
mod tests;

pub use remind::{Reminded, Reminder};

/// How far ahead a one-off schedule that should fire "now" is put: an `at()` time already past when
/// Scheduler receives it is not one to rely on, and Scheduler fires within the minute anyway.
pub const SOON: Duration = Duration::from_secs(60);

/// What the function URL answers: a status and a JSON body (Slack shows its `text` to the person
/// who asked).
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    fn to_asker(status: u16, text: impl Into<String>) -> Self {
        Reply {
            status,
            body: json!({ "response_type": "ephemeral", "text": text.into() }),
        }
    }

    /// The text Slack shows.
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }
}

pub struct App {
    settings: SlackAppConfig,
    commands: CommandSettings,
    secrets: Arc<dyn Secrets>,
    signing_secret: OnceCell<SecretString>,
    objects: Arc<dyn Objects>,
    ends: Arc<Ends>,
    notifier: Arc<dyn Notifier>,
}

impl App {
    pub fn new(
        settings: SlackAppConfig,
        secrets: Arc<dyn Secrets>,
        objects: Arc<dyn Objects>,
        ends: Arc<Ends>,
        notifier: Arc<dyn Notifier>,
    ) -> Self {
        Self {
            settings,
            commands: CommandSettings::default(),
            secrets,
            signing_secret: OnceCell::new(),
            objects,
            ends,
            notifier,
        }
    }

    /// The app from a function's dependencies: the same state bucket, schedules and Slack.
    pub fn from_deps(deps: &crate::Deps) -> crate::error::Result<Self> {
        let ends = deps.ends.clone().ok_or_else(|| {
            Error::Config(
                "event-slack needs EVENT_TIER_EVENTS_SCHEDULE_GROUP and EVENT_TIER_FOLLOW_UP_ROLE_ARN: it moves the events' stops".into(),
            )
        })?;
        if deps.config.slack_app.signing_secret.is_none() {
            return Err(Error::Config(
                "EVENT_TIER_SLACK_SIGNING_SECRET_ARN is not set: no request could be verified"
                    .into(),
            ));
        }
        Ok(Self::new(
            deps.config.slack_app.clone(),
            deps.secrets.clone(),
            ends.objects(),
            ends,
            deps.notifier.clone(),
        ))
    }

    /// Answers one request: its headers (any case) and raw body, at `now`.
    pub async fn handle<'a, I>(&self, headers: I, body: &'a [u8], now: OffsetDateTime) -> Reply
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let signed = Signed::from_headers(headers, body);
        let secret = match self.signing_secret().await {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "signing secret unavailable");
                return Reply::to_asker(500, "event-slack cannot read its signing secret");
            }
        };
        let verified = match verify(secret, &signed, now.unix_timestamp()) {
            Ok(v) => v,
            Err(e) => {
                info!(refused = %e, "request refused");
                return Reply::to_asker(e.status(), format!("refused: {e}"));
            }
        };
        match self
            .objects
            .create(
                &verified.replay_key,
                verified.timestamp.to_string().as_bytes(),
            )
            .await
        {
            Ok(Create::Created) => {}
            Ok(Create::Exists | Create::Conflict) => {
                info!(key = %verified.replay_key, "replayed request refused");
                return Reply::to_asker(401, "refused: request was already received (a replay)");
            }
            Err(e) => {
                warn!(error = %e, "replay claim failed");
                return Reply::to_asker(
                    503,
                    "could not record the request; nothing changed, try again",
                );
            }
        }
        let request = match self.commands.parse(body, now) {
            Ok(r) => r,
            Err(CommandError::Malformed(m)) => {
                return Reply::to_asker(400, format!("not a Slack command or interaction: {m}"));
            }
            Err(usage @ CommandError::Usage { .. }) => {
                return Reply::to_asker(200, usage.to_string());
            }
        };
        if let Err(refused) = self.settings.policy.check_request(&request) {
            info!(user = %request.requester.user_id, action = %request.command.action(), "not allowed");
            return Reply::to_asker(refused.status(), refused.to_string());
        }
        info!(user = %request.requester.user_id, command = %request.text, "acting");
        match self.act(&request, now).await {
            Ok(text) => Reply::to_asker(200, text),
            Err(e) => {
                warn!(error = %e, command = %request.text, "command failed");
                Reply::to_asker(200, format!("`{}` failed: {e}", request.text))
            }
        }
    }

    async fn signing_secret(&self) -> crate::error::Result<&SecretString> {
        let id = self.settings.signing_secret.as_deref().unwrap_or_default();
        self.signing_secret
            .get_or_try_init(|| async { self.secrets.get(id).await })
            .await
    }

    async fn act(&self, request: &Request, now: OffsetDateTime) -> Result<String, Error> {
        let event = request.command.event();
        let Some(stop) = self.ends.stop_schedule(event).await? else {
            return Ok(format!(
                "there is no event *{event}* in the events map (no schedule {event}-stop)"
            ));
        };
        let end = scheduled_end(&stop.expression, &stop.timezone);
        let asked = Asked {
            who: &request.requester,
            why: &request.text,
            now,
        };
        let cap = self.settings.extension_cap;
        let changed = match (&request.command, end.clone()) {
            (Command::Status { .. }, end) => return self.status(event, end.ok(), now).await,
            (Command::Retry { of, .. }, _) => return self.retry(event, *of, request, now).await,
            (Command::StopNow { .. }, Err(_)) => None,
            (_, Err(e)) => return Ok(format!("*{event}* cannot be changed from Slack: {e}")),
            (Command::Extend { by, .. }, Ok(end)) => Some(
                self.ends
                    .change(event, end, |r| r.extend(end, *by, cap, &asked))
                    .await?,
            ),
            (Command::Hold { until, .. }, Ok(end)) => Some(
                self.ends
                    .change(event, end, |r| r.hold(end, *until, cap, &asked))
                    .await?,
            ),
            (Command::Release { .. }, Ok(end)) => Some(
                self.ends
                    .change(event, end, |r| r.release(end, &asked))
                    .await?,
            ),
            (Command::StopNow { .. }, Ok(end)) => Some(
                self.ends
                    .change(event, end, |r| r.stop_now(end, &asked))
                    .await?,
            ),
        };
        let new_end = match changed {
            Some(Err(refused)) => return Ok(refusal_text(event, &refused)),
            Some(Ok(new_end)) => Some(new_end),
            None => None,
        };
        // Before the scheduled end, the stop schedule itself fires and reads the record; after
        // it (the stop fired and was deferred), the stop must come back at the new end.
        let stop_now = matches!(request.command, Command::StopNow { .. });
        let past_end = end.is_ok_and(|end| end <= now);
        let soon = crate::slack_app::after(now, SOON);
        let at = new_end.unwrap_or(soon).max(soon);
        let schedule = if stop_now || past_end {
            Some(self.ends.stop_at(event, &stop, at, &request.text).await?)
        } else {
            None
        };
        if let (Some(new_end), false) = (new_end, stop_now) {
            self.remind_before(event, new_end, now).await;
        }
        let text = done_text(request, new_end, schedule.as_deref());
        self.echo(event, &text, request).await;
        Ok(text)
    }

    async fn status(
        &self,
        event: &EventId,
        end: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<String, Error> {
        let Some(end) = end else {
            return Ok(format!(
                "*{event}* is recurring: it ends as its schedule says"
            ));
        };
        let record = self.ends.record(event).await?.map(|(r, _)| r);
        let (effective, reason) = match &record {
            Some(r) => effective_end(end, r, now),
            None => (end, crate::slack_app::EndReason::Scheduled),
        };
        let state = crate::records::state_key(event);
        let up = self.objects.read(&state).await?.is_some();
        let left = self
            .settings
            .extension_cap
            .saturating_sub(Duration::from_secs(
                record
                    .filter(|r| r.scheduled_end == end)
                    .map_or(0, |r| r.extended_secs),
            ));
        Ok(format!(
            "*{event}*: {}; ends {} ({reason}); scheduled end {}; {} of extension left",
            if up {
                "has Terraform state (up, or not yet destroyed)"
            } else {
                "no Terraform state (down)"
            },
            rfc3339(effective),
            rfc3339(end),
            human_duration(left),
        ))
    }

    async fn retry(
        &self,
        event: &EventId,
        of: RetryOf,
        request: &Request,
        now: OffsetDateTime,
    ) -> Result<String, Error> {
        let soon = crate::slack_app::after(now, SOON);
        let which = match of {
            RetryOf::Start => Which::Start,
            RetryOf::Stop => Which::Stop,
        };
        let Some(schedule) = self.ends.schedules.get(event, which).await? else {
            return Ok(format!("there is no schedule to retry for *{event}*"));
        };
        let name = match of {
            RetryOf::Stop => stop_at_name(event, soon),
            RetryOf::Start => {
                stop_at_name(event, soon).replacen("event-tier-end-", "event-tier-go--", 1)
            }
        };
        self.ends
            .schedules
            .once(&OneOff {
                name: name.clone(),
                at: soon,
                target_arn: &schedule.target_arn,
                input: &schedule.input,
                description: format!(
                    "event-tier: {} asked {}",
                    request.requester.user_name, request.text
                ),
            })
            .await?;
        let what = match of {
            RetryOf::Start => "start",
            RetryOf::Stop => "stop",
        };
        let text = format!(
            "{} retries the {what} of *{event}*: it runs in about a minute (schedule `{name}`)",
            request.requester.user_name
        );
        self.echo(event, &text, request).await;
        Ok(text)
    }

    /// Tells the event's thread what was done, and by whom; a failing Slack changes nothing.
    async fn echo(&self, event: &EventId, text: &str, request: &Request) {
        let fields = [("Asked by", format!("<@{}>", request.requester.user_id))];
        let message = Message {
            text,
            event: Some(event),
            outcome_of: None,
            fields: &fields,
            context: &[],
            buttons: &[],
        };
        if let Err(e) = self.notifier.post_message(&message).await {
            warn!(error = %e, "echo to the channel failed");
        }
    }
}

fn done_text(request: &Request, new_end: Option<OffsetDateTime>, schedule: Option<&str>) -> String {
    let who = &request.requester.user_name;
    let event = request.command.event();
    let end = new_end.map(rfc3339).unwrap_or_default();
    let mut text = match &request.command {
        Command::Extend { by, .. } => {
            format!(
                "{who} extended *{event}* by {}: it now ends {end}",
                human_duration(*by)
            )
        }
        Command::Hold { until, .. } => {
            format!(
                "{who} holds *{event}* until {}: it now ends {end}",
                rfc3339(*until)
            )
        }
        Command::Release { .. } => {
            format!("{who} released the hold on *{event}*: it now ends {end}")
        }
        Command::StopNow { .. } => format!(
            "{who} asked to stop *{event}* now: the stop runs in about a minute, after the final migration as always"
        ),
        Command::Status { .. } | Command::Retry { .. } => String::new(),
    };
    if let Some(name) = schedule {
        text.push_str(&format!(" (schedule `{name}`)"));
    }
    text
}

fn refusal_text(event: &EventId, refused: &OverrideError) -> String {
    format!("*{event}* was not changed: {refused}")
}
