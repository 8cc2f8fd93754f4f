//! Slack notifications through an incoming webhook whose URL is a secret in Secrets Manager.
//! Bounded retries of posts Slack certainly did not take; the URL never appears in an error or a
//! log line. Each post is Block Kit with its text as the fallback ([`blocks`]).

pub mod blocks;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OnceCell;
use tracing::warn;

use crate::error::{Error, Result};
use crate::run::RunId;
use crate::secrets::Secrets;

/// A message for the channel, and the run whose outcome it tells, if any.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// The sentence (and any code block of output): the plain-text fallback, and what the blocks
    /// are made from.
    pub text: &'a str,
    pub outcome_of: Option<&'a RunId>,
    /// What the flow knows, shown as the message's fields: ("Stage", "plan"), ("Run", ...).
    pub fields: &'a [(&'static str, String)],
    /// Where to look next: the context line (the event's dashboard, its log groups).
    pub context: &'a [String],
}

impl<'a> Message<'a> {
    /// A message with its text only.
    pub fn plain(text: &'a str) -> Self {
        Self {
            text,
            outcome_of: None,
            fields: &[],
            context: &[],
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
}

pub struct SlackWebhook {
    /// Built on a thread of its own when a flow begins ([`Notifier::warm_up`]), while the flow
    /// waits on AWS and the runner: building it loads and parses the platform's root certificates
    /// (15-25 ms on the bench machine, `make bench`), which would otherwise hold up the first post
    /// (or init). The first post takes it when ready, or builds it (a notifier never warmed up).
    http: Arc<OnceLock<std::result::Result<reqwest::Client, String>>>,
    /// A warm-up thread was started.
    warming: AtomicBool,
    secrets: Arc<dyn Secrets>,
    secret_id: String,
    url: OnceCell<SecretString>,
    attempts: u32,
    backoff: Duration,
    timeout: Duration,
}

impl SlackWebhook {
    /// `timeout` bounds each attempt; there are at most three.
    pub fn new(secrets: Arc<dyn Secrets>, secret_id: String, timeout: Duration) -> Result<Self> {
        Ok(Self {
            http: Arc::new(OnceLock::new()),
            warming: AtomicBool::new(false),
            secrets,
            secret_id,
            url: OnceCell::new(),
            attempts: 3,
            backoff: Duration::from_millis(500),
            timeout,
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

    fn http(&self) -> Result<&reqwest::Client> {
        self.http
            .get_or_init(|| build_client(self.timeout))
            .as_ref()
            .map_err(|e| Error::Slack(format!("cannot build the HTTP client: {e}")))
    }

    async fn url(&self) -> Result<&SecretString> {
        self.url
            .get_or_try_init(|| async { self.secrets.get(&self.secret_id).await })
            .await
    }
}

fn build_client(timeout: Duration) -> std::result::Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}

#[async_trait]
impl Notifier for SlackWebhook {
    fn warm_up(&self) {
        if self.http.get().is_some() || self.warming.swap(true, Ordering::AcqRel) {
            return;
        }
        let (cell, timeout) = (Arc::clone(&self.http), self.timeout);
        // Detached: it ends once the client is built (the first post waits for it if it must).
        let _ = std::thread::Builder::new()
            .name("slack-client".into())
            .spawn(move || {
                cell.get_or_init(|| build_client(timeout));
            });
    }

    async fn post(&self, text: &str) -> Result<()> {
        self.post_message(&Message::plain(text)).await
    }

    async fn post_message(&self, message: &Message<'_>) -> Result<()> {
        let url = self
            .url()
            .await
            .map_err(|e| Error::Slack(format!("webhook secret: {e}")))?;
        let http = self.http()?;
        let body = serde_json::json!({
            "text": blocks::redact(message.text),
            "blocks": blocks::blocks(message.text, message.fields, message.context),
        });
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            let res = http
                .post(url.expose_secret())
                .json(&body)
                .send()
                .await
                .and_then(|r| r.error_for_status());
            match res {
                Ok(_) => return Ok(()),
                Err(e) => {
                    // Retried only when Slack certainly did not post: it refused (5xx, 429) or
                    // the connection was never made. A timeout may have posted, and a retry
                    // would post the message twice.
                    let retry = match e.status() {
                        Some(s) => s.is_server_error() || s.as_u16() == 429,
                        None => e.is_connect(),
                    };
                    last = if e.is_timeout() {
                        format!(
                            "timed out after {}ms (the message may have been posted)",
                            self.timeout.as_millis()
                        )
                    } else if e.is_connect() {
                        "cannot connect".to_owned()
                    } else {
                        e.without_url().to_string()
                    };
                    warn!(attempt, error = %last, "slack post failed");
                    if !retry || attempt == self.attempts {
                        break;
                    }
                    tokio::time::sleep(self.backoff * attempt).await;
                }
            }
        }
        Err(Error::Slack(format!("post failed: {last}")))
    }
}
