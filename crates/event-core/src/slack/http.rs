//! Posting JSON to Slack: one HTTP client per notifier, built off the caller's path, and bounded
//! retries of posts Slack certainly did not take. Shared by the webhook and the bot.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::warn;

use crate::error::{Error, Result};

type Built = std::result::Result<reqwest::Client, String>;

pub(crate) struct Poster {
    /// Built on a thread of its own when a flow begins ([`Poster::warm_up`]), while the flow waits
    /// on AWS and the runner: building it loads and parses the platform's root certificates (15-25
    /// ms on the bench machine, `make bench`), which would otherwise hold up the first post (or
    /// init). The first post takes it when ready, or builds it (a notifier never warmed up).
    http: Arc<OnceLock<Built>>,
    /// A warm-up thread was started.
    warming: AtomicBool,
    attempts: u32,
    backoff: Duration,
    timeout: Duration,
}

impl Poster {
    /// `timeout` bounds each attempt; there are at most three.
    pub fn new(timeout: Duration) -> Self {
        Self {
            http: Arc::new(OnceLock::new()),
            warming: AtomicBool::new(false),
            attempts: 3,
            backoff: Duration::from_millis(500),
            timeout,
        }
    }

    pub fn warm_up(&self) {
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

    fn http(&self) -> Result<&reqwest::Client> {
        self.http
            .get_or_init(|| build_client(self.timeout))
            .as_ref()
            .map_err(|e| Error::Slack(format!("cannot build the HTTP client: {e}")))
    }

    /// POSTs `body` to `url` (a secret: a webhook, or the Web API with a `bearer` token); the answer
    /// as JSON when it is JSON (the Web API's), else Null. Retried only when Slack certainly did
    /// not post: it refused (5xx, 429) or the connection was never made. A timeout may have posted,
    /// and a retry would post the message twice. Neither the URL nor the token is in an error.
    pub async fn post_json(
        &self,
        url: &str,
        bearer: Option<&SecretString>,
        body: &Value,
    ) -> Result<Value> {
        let http = self.http()?;
        let mut last = String::new();
        for attempt in 1..=self.attempts {
            let mut req = http.post(url).json(body);
            if let Some(token) = bearer {
                req = req.bearer_auth(token.expose_secret());
            }
            let mut wait = self.backoff * attempt;
            let res = req.send().await.and_then(|r| {
                if let Some(after) = r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                {
                    // Slack's rate limit says when to come back; within this invocation's bounds.
                    wait = Duration::from_secs(after).min(self.timeout);
                }
                r.error_for_status()
            });
            match res {
                Ok(r) => return Ok(r.json::<Value>().await.unwrap_or(Value::Null)),
                Err(e) => {
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
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Err(Error::Slack(format!("post failed: {last}")))
    }
}

fn build_client(timeout: Duration) -> Built {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| e.to_string())
}
