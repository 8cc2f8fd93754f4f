//! The Slack bot's settings: when a bot token is configured, messages go through the Web API's
//! `chat.postMessage`, one thread per event, instead of the webhook.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::slack_app::{MAX_CAP, Policy};

use super::env::Env;

/// Slack's Web API, unless `EVENT_TIER_SLACK_API_URL` says otherwise (the local stack's sink).
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackBotConfig {
    /// Secrets Manager ARN (or name) of the bot token (`xoxb-...`).
    pub token_secret: String,
    /// The channel's id (`C0123ABCD`): the bot posts there, and must be a member of it.
    pub channel: String,
    pub api_url: String,
}

/// The bot's settings, or None when no bot token is configured. The token and the channel come
/// together: one without the other is a mistake, named.
pub(super) fn read(env: &Env) -> Result<Option<SlackBotConfig>> {
    let token = env.optional("EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN");
    let channel = env.optional("EVENT_TIER_SLACK_CHANNEL");
    let api_url = env
        .optional("EVENT_TIER_SLACK_API_URL")
        .unwrap_or_else(|| DEFAULT_SLACK_API_URL.to_owned());
    let (token_secret, channel) = match (token, channel) {
        (None, None) => return Ok(None),
        (Some(t), Some(c)) => (t, c),
        (Some(_), None) => {
            return Err(Error::Config(
                "EVENT_TIER_SLACK_CHANNEL is not set: the bot token needs the channel to post to"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(Error::Config(
                "EVENT_TIER_SLACK_BOT_TOKEN_SECRET_ARN is not set: a channel is only used by the bot".into(),
            ));
        }
    };
    // Slack's channel ids: C (public), G (private), D (direct), then upper-case letters and digits.
    let id_like = channel.len() >= 3
        && channel.starts_with(['C', 'G', 'D'])
        && channel
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    if !id_like {
        return Err(Error::Config(format!(
            "EVENT_TIER_SLACK_CHANNEL must be a channel id such as C0123ABCD (not a name), got {channel:?}"
        )));
    }
    if !api_url.starts_with("https://") && !api_url.starts_with("http://127.0.0.1:") {
        return Err(Error::Config(format!(
            "EVENT_TIER_SLACK_API_URL must be an https:// URL (or http://127.0.0.1:<port> for the local stack), got {api_url:?}"
        )));
    }
    Ok(Some(SlackBotConfig {
        token_secret,
        channel,
        api_url,
    }))
}

/// The Slack app's settings (event-slack): the signing secret that proves a request comes from
/// Slack, who may do what, and how far past its scheduled end people may take an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlackAppConfig {
    /// Secrets Manager ARN (or name) of the app's signing secret; event-slack needs it.
    pub signing_secret: Option<String>,
    /// The allow-lists (`EVENT_TIER_SLACK_ALLOW`); the channel is the bot's, when there is one.
    pub policy: Policy,
    /// The most all extensions of an event may add, and the furthest past its scheduled end a hold
    /// may reach.
    pub extension_cap: Duration,
    /// Whether messages carry the app's buttons (`EVENT_TIER_SLACK_BUTTONS`): only when an app is
    /// there to answer their clicks.
    pub buttons: bool,
}

pub(super) fn read_app(env: &Env, bot: Option<&SlackBotConfig>) -> Result<SlackAppConfig> {
    let policy = Policy::parse(&env.optional("EVENT_TIER_SLACK_ALLOW").unwrap_or_default())
        .map_err(|e| Error::Config(format!("EVENT_TIER_SLACK_ALLOW: {e}")))?;
    let policy = match bot {
        Some(bot) => policy.in_channel(bot.channel.clone()),
        None => policy,
    };
    let minutes: u64 = env.parse("EVENT_TIER_SLACK_EXTENSION_CAP_MINUTES", 240)?;
    let extension_cap = Duration::from_secs(minutes.saturating_mul(60));
    if extension_cap > MAX_CAP {
        return Err(Error::Config(format!(
            "EVENT_TIER_SLACK_EXTENSION_CAP_MINUTES must be at most {} (seven days), got {minutes}",
            MAX_CAP.as_secs() / 60
        )));
    }
    Ok(SlackAppConfig {
        signing_secret: env.optional("EVENT_TIER_SLACK_SIGNING_SECRET_ARN"),
        policy,
        extension_cap,
        buttons: match env.optional("EVENT_TIER_SLACK_BUTTONS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(Error::Config(format!(
                    "EVENT_TIER_SLACK_BUTTONS must be true or false, got {other:?}"
                )));
            }
        },
    })
}
