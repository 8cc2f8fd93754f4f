//! Slack through a bot token (`chat.postMessage`): the messages of one event go to one thread.
//!
//! The first message of an event's cycle is posted in the channel and opens the thread: its `ts`
//! is kept in the state bucket ([`thread_key`]); every later message of the event is a reply in
//! it, and a failure or a warning is also shown in the channel (`reply_broadcast`), so that nobody
//! misses it for being in a thread. The cycle ends when a stop finds the tier down
//! ([`Notifier::end_thread`]): the next start opens a new thread. When two invocations open a
//! thread at once, the first record stands and the other's message stays a message of its own.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::OnceCell;
use tracing::warn;

use super::{Message, Notifier, Poster};
use crate::config::SlackBotConfig;
use crate::error::{Error, Result};
use crate::payload::EventId;
use crate::records::Objects;
use crate::secrets::Secrets;

/// Where the event's open thread is kept in the state bucket.
pub fn thread_key(event: &EventId) -> String {
    format!("events/{event}/slack-thread.json")
}

/// An event's open thread: the channel and the `ts` of its first message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub channel: String,
    pub ts: String,
}

pub struct SlackBot {
    poster: Poster,
    secrets: Arc<dyn Secrets>,
    config: SlackBotConfig,
    token: OnceCell<SecretString>,
    /// The state bucket, where the threads are kept.
    objects: Arc<dyn Objects>,
}

impl SlackBot {
    /// `timeout` bounds each attempt; there are at most three.
    pub fn new(
        secrets: Arc<dyn Secrets>,
        config: SlackBotConfig,
        timeout: Duration,
        objects: Arc<dyn Objects>,
    ) -> Self {
        Self {
            poster: Poster::new(timeout),
            secrets,
            config,
            token: OnceCell::new(),
            objects,
        }
    }

    async fn token(&self) -> Result<&SecretString> {
        self.token
            .get_or_try_init(|| async { self.secrets.get(&self.config.token_secret).await })
            .await
            .map_err(|e| Error::Slack(format!("bot token secret: {e}")))
    }

    /// The `ts` of the event's open thread in this channel, if there is one. A record that cannot
    /// be read costs the thread, never the message.
    async fn thread(&self, event: &EventId) -> Option<String> {
        match self.objects.read(&thread_key(event)).await {
            Ok(Some(bytes)) => match serde_json::from_slice::<Thread>(&bytes) {
                Ok(t) if t.channel == self.config.channel => Some(t.ts),
                Ok(_) => None,
                Err(e) => {
                    warn!(event_id = %event, error = %e, "unreadable slack thread record; posting in the channel");
                    None
                }
            },
            Ok(None) => None,
            Err(e) => {
                warn!(event_id = %event, error = %e, "cannot read the slack thread; posting in the channel");
                None
            }
        }
    }
}

/// A failure or a warning: shown in the channel too, not only in the thread.
fn loud(text: &str) -> bool {
    [":x:", ":warning:", ":rotating_light:"]
        .iter()
        .any(|p| text.starts_with(p))
}

#[async_trait]
impl Notifier for SlackBot {
    fn warm_up(&self) {
        self.poster.warm_up();
    }

    async fn post(&self, text: &str) -> Result<()> {
        self.post_message(&Message::plain(text)).await
    }

    async fn post_message(&self, message: &Message<'_>) -> Result<()> {
        let token = self.token().await?;
        let thread = match message.event {
            Some(event) => self.thread(event).await,
            None => None,
        };
        let mut body = super::body(message);
        body["channel"] = Value::from(self.config.channel.as_str());
        if let Some(ts) = &thread {
            body["thread_ts"] = Value::from(ts.as_str());
            if loud(message.text) {
                body["reply_broadcast"] = Value::Bool(true);
            }
        }
        let url = format!(
            "{}/chat.postMessage",
            self.config.api_url.trim_end_matches('/')
        );
        let answer = self.poster.post_json(&url, Some(token), &body).await?;
        // The Web API answers 200 with `ok: false` and the reason when it refuses.
        if answer["ok"] != Value::Bool(true) {
            let why = answer["error"].as_str().unwrap_or("no answer from Slack");
            return Err(Error::Slack(format!("chat.postMessage refused: {why}")));
        }
        if let (None, Some(event), Some(ts)) = (&thread, message.event, answer["ts"].as_str()) {
            let record = Thread {
                channel: self.config.channel.clone(),
                ts: ts.to_owned(),
            };
            let bytes = serde_json::to_vec(&record).expect("a thread serialises");
            if let Err(e) = self.objects.create(&thread_key(event), &bytes).await {
                warn!(event_id = %event, error = %e, "cannot keep the slack thread; the next message opens another");
            }
        }
        Ok(())
    }

    async fn end_thread(&self, event: &EventId) -> Result<()> {
        self.objects.delete(&thread_key(event)).await
    }
}
