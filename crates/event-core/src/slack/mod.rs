//! Slack notifications: through an incoming webhook whose URL is a secret in Secrets Manager (the
//! default), or, when a bot token is configured, through the Web API's `chat.postMessage`, one
//! thread per event ([`SlackBot`]). Bounded retries of posts Slack certainly did not take; neither
//! the URL nor the token appears in an error or a log line. Each post is Block Kit with its text as
//! the fallback ([`blocks`]).

pub mod blocks;
mod bot;
mod buttons;
mod http;

pub use bot::SlackBot;
pub use buttons::Button;
use http::Poster;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;

use crate::error::{Error, Result};
use crate::payload::EventId;
use crate::run::RunId;
use crate::secrets::Secrets;

/// A message for the channel, and the run whose outcome it tells, if any.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The sentence (and any code block of output): the plain-text fallback, and what the blocks
    /// are made from.
    pub text: &'a str,
    /// The event it is about: a bot posts it in the event's thread.
    pub event: Option<&'a EventId>,
    pub outcome_of: Option<&'a RunId>,
    /// What the flow knows, shown as the message's fields: ("Stage", "plan"), ("Run", ...).
    pub fields: &'a [(&'static str, String)],
    /// Where to look next: the context line (the event's dashboard, its log groups).
    pub context: &'a [String],
    /// What people can do about it from the message (empty unless the Slack app is set up).
    pub buttons: &'a [Button],
}

impl<'a> Message<'a> {
    /// A message with its text only.
    pub fn plain(text: &'a str) -> Self {
        Self {
            text,
            event: None,
            outcome_of: None,
            fields: &[],
            context: &[],
            buttons: &[],
        }
    }
}

#[async_trait]
pub trait Notifier: Send + Sync {
    async fn post(&self, text: &str) -> Result<()>;

    /// Gets ready to post, off the caller's path: a flow calls it as it begins.
    fn warm_up(&self) {}

    async fn post_message(&self, message: &Message<'_>) -> Result<()> {
        self.post(message.text).await
    }

    /// The event's cycle is over (its tier is down): its next message opens a new thread.
    async fn end_thread(&self, _event: &EventId) -> Result<()> {
        Ok(())
    }
}

pub struct SlackWebhook {
    poster: Poster,
    secrets: Arc<dyn Secrets>,
    secret_id: String,
    url: OnceCell<SecretString>,
}

impl SlackWebhook {
    /// `timeout` bounds each attempt; there are at most three.
    pub fn new(secrets: Arc<dyn Secrets>, secret_id: String, timeout: Duration) -> Result<Self> {
        Ok(Self {
            poster: Poster::new(timeout),
            secrets,
            secret_id,
            url: OnceCell::new(),
        })
    }

    /// The webhook of a function that only notifies (event-alarm): the URL from Secrets Manager,
    /// with the SDK's settings from the environment.
    pub async fn from_env_config(config: &crate::config::NotifierConfig) -> Result<Self> {
        let sdk = crate::flows::sdk_config().await;
        let secrets: Arc<dyn Secrets> = Arc::new(crate::secrets::SecretsManager::new(
            aws_sdk_secretsmanager::Client::new(&sdk),
        ));
        Self::new(
            secrets,
            config.slack_webhook_secret.clone(),
            config.slack_timeout,
        )
    }

    async fn url(&self) -> Result<&SecretString> {
        self.url
            .get_or_try_init(|| async { self.secrets.get(&self.secret_id).await })
            .await
    }
}

/// The JSON body of a message: its text (the fallback) and its blocks, both redacted.
pub(crate) fn body(message: &Message<'_>) -> serde_json::Value {
    serde_json::json!({
        "text": blocks::redact(message.text),
        "blocks": blocks::blocks(message.text, message.fields, message.context, message.buttons),
    })
}

#[async_trait]
impl Notifier for SlackWebhook {
    fn warm_up(&self) {
        self.poster.warm_up();
    }

    async fn post(&self, text: &str) -> Result<()> {
        self.post_message(&Message::plain(text)).await
    }

    async fn post_message(&self, message: &Message<'_>) -> Result<()> {
        let url = self
            .url()
            .await
            .map_err(|e| Error::Slack(format!("webhook secret: {e}")))?;
        self.poster
            .post_json(url.expose_secret(), None, &body(message))
            .await
            .map(|_| ())
    }
}
