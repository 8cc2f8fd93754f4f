//! What a verified Slack request asks for. Two shapes reach the app, both as a form body
//! (`application/x-www-form-urlencoded`):
//! - a slash command: fields `command`, `text`, `user_id`, `user_name`, `channel_id`,
//!   `response_url`, `trigger_id`; the text is one of the [`usage`] lines;
//! - a button on one of our messages: a `payload` field holding the `block_actions` JSON, read in
//!   [`super::buttons`].
//!
//! Both become one [`Request`]. A mistake a person made is a [`CommandError::Usage`], written to be
//! shown back in Slack: what was wrong, and the usage line.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::authz::Action;
use super::{after, human_duration, rfc3339};
use crate::error::InputError;
use crate::payload::EventId;

#[cfg(test)]
mod tests;

const DURATION_HINT: &str = "write durations like 30m, 2h or 1h30m";

/// The lines `/event help` shows; `{cmd}` is the slash command as Slack sent it.
pub fn usage(cmd: &str) -> String {
    [
        "status <id>",
        "extend <id> <duration>",
        "hold <id> [until]",
        "release <id>",
        "stop-now <id>",
    ]
    .map(|line| format!("{cmd} {line}"))
    .join("\n")
}

/// The settings a command's arguments are read with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSettings {
    /// How long `hold <id>` holds when no end is given.
    pub default_hold: Duration,
    /// The longest any command may name: an extension, a hold's duration, a hold's distance from now.
    pub max_duration: Duration,
}

impl Default for CommandSettings {
    fn default() -> Self {
        Self {
            default_hold: Duration::from_secs(3600),
            max_duration: Duration::from_secs(24 * 3600),
        }
    }
}

/// Which failed run a `retry` button runs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryOf {
    Start,
    Stop,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Status {
        event: EventId,
    },
    Extend {
        event: EventId,
        by: Duration,
    },
    /// Keep the tier up until `until` (UTC), whatever the schedule says, unless released first.
    Hold {
        event: EventId,
        until: OffsetDateTime,
    },
    Release {
        event: EventId,
    },
    StopNow {
        event: EventId,
    },
    Retry {
        event: EventId,
        of: RetryOf,
    },
}

impl Command {
    pub fn event(&self) -> &EventId {
        match self {
            Command::Status { event }
            | Command::Extend { event, .. }
            | Command::Hold { event, .. }
            | Command::Release { event }
            | Command::StopNow { event }
            | Command::Retry { event, .. } => event,
        }
    }

    /// What the allow-lists call it.
    pub fn action(&self) -> Action {
        match self {
            Command::Status { .. } => Action::Status,
            Command::Extend { .. } => Action::Extend,
            Command::Hold { .. } => Action::Hold,
            Command::Release { .. } => Action::Release,
            Command::StopNow { .. } => Action::StopNow,
            Command::Retry { .. } => Action::Retry,
        }
    }
}

/// Who asked: Slack's user id (what the allow-lists hold) and the name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requester {
    pub user_id: String,
    pub user_name: String,
}

/// A request, read: what is asked, by whom, and where to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: Command,
    pub requester: Requester,
    /// Where the asynchronous answer goes (valid for 30 minutes, five posts).
    pub response_url: String,
    pub channel_id: Option<String>,
    /// What was asked, as typed or as the button reads; kept as the override's "why".
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Not what Slack sends (a field missing, a broken payload): answered 400.
    #[error("not a Slack command or interaction: {0}")]
    Malformed(String),
    /// Something the person typed (or a button of an older message carried) that the command
    /// does not take, to be shown back to them with the usage line.
    #[error("{problem}{}", if usage.is_empty() { String::new() } else { format!("\nusage: {usage}") })]
    Usage { problem: String, usage: String },
}

impl CommandSettings {
    /// Reads a verified form body: a button's `payload`, or a slash command.
    pub fn parse(&self, body: &[u8], now: OffsetDateTime) -> Result<Request, CommandError> {
        let mut form = Form::decode(body)?;
        if let Some(payload) = form.0.remove("payload") {
            return self.interaction(&payload, now);
        }
        let cmd = form.take("command")?;
        let text = form.take("text")?;
        let requester = Requester {
            user_id: form.take("user_id")?,
            user_name: form.take("user_name")?,
        };
        let command = self.slash(&cmd, &text, now)?;
        Ok(Request {
            command,
            requester,
            response_url: form.take("response_url")?,
            channel_id: form.0.remove("channel_id"),
            text: format!("{cmd} {text}").trim_end().to_owned(),
        })
    }

    fn slash(&self, cmd: &str, text: &str, now: OffsetDateTime) -> Result<Command, CommandError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some((verb, args)) = words.split_first() else {
            return Err(usage_error("say what to do", usage(cmd)));
        };
        let line = |shape: &str| format!("{cmd} {verb} {shape}");
        let arity = |shape: &str, min: usize, max: usize| -> Result<(), CommandError> {
            match args.len() {
                0 => Err(usage_error("the event id is missing", line(shape))),
                n if n < min => Err(usage_error(
                    format!("{verb} needs {}", shape.rsplit(' ').next().unwrap_or(shape)),
                    line(shape),
                )),
                n if n > max => Err(usage_error(
                    format!("too many words after {verb}: `{}`", args[max..].join(" ")),
                    line(shape),
                )),
                _ => Ok(()),
            }
        };
        let event = |shape: &str| event_id(args[0]).map_err(|p| usage_error(p, line(shape)));
        match *verb {
            "status" | "release" | "stop-now" => {
                arity("<id>", 1, 1)?;
                let event = event("<id>")?;
                Ok(match *verb {
                    "status" => Command::Status { event },
                    "release" => Command::Release { event },
                    _ => Command::StopNow { event },
                })
            }
            "extend" => {
                let shape = "<id> <duration>";
                arity(shape, 2, 2)?;
                let event = event(shape)?;
                let by = self
                    .duration(args[1])
                    .map_err(|p| usage_error(p, line(shape)))?;
                Ok(Command::Extend { event, by })
            }
            "hold" => {
                let shape = "<id> [until]";
                arity(shape, 1, 2)?;
                let event = event(shape)?;
                let until = self
                    .hold_until(args.get(1).copied(), now)
                    .map_err(|p| usage_error(p, line(shape)))?;
                Ok(Command::Hold { event, until })
            }
            "help" => Err(usage_error("the commands", usage(cmd))),
            other => Err(usage_error(
                format!("`{other}` is not a command"),
                usage(cmd),
            )),
        }
    }

    /// `30m`, `2h`, `1h30m`: hours then minutes, each at most once, above zero and at most
    /// [`CommandSettings::max_duration`].
    pub fn duration(&self, word: &str) -> Result<Duration, String> {
        let not_one = || format!("`{word}` is not a duration: {DURATION_HINT}");
        let lower = word.to_ascii_lowercase();
        let mut rest = lower.as_str();
        let mut total: u64 = 0;
        for (unit, secs) in [('h', 3600), ('m', 60)] {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && rest[digits..].starts_with(unit) {
                let n: u64 = rest[..digits].parse().map_err(|_| not_one())?;
                total = total.saturating_add(n.saturating_mul(secs));
                rest = &rest[digits + 1..];
            }
        }
        if !rest.is_empty() || lower.is_empty() {
            return Err(not_one());
        }
        let d = Duration::from_secs(total);
        if d.is_zero() {
            return Err(format!("`{word}` is no time at all: give more than zero"));
        }
        if d > self.max_duration {
            return Err(format!(
                "`{word}` is more than the {} a command may ask for",
                human_duration(self.max_duration)
            ));
        }
        Ok(d)
    }

    /// A hold's end: an RFC 3339 time, a duration from now, or the default hold; in the future and
    /// at most [`CommandSettings::max_duration`] away.
    pub(super) fn hold_until(
        &self,
        word: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, String> {
        let until = match word {
            None => after(now, self.default_hold),
            Some(w) if w.contains(['-', ':']) => OffsetDateTime::parse(w, &Rfc3339)
                .map_err(|_| {
                    format!("`{w}` is not a time like 2026-12-24T23:00:00Z nor a duration: {DURATION_HINT}")
                })?
                .to_offset(time::UtcOffset::UTC),
            Some(w) => after(now, self.duration(w)?),
        };
        if until <= now {
            return Err(format!("{} has passed already", rfc3339(until)));
        }
        if until > after(now, self.max_duration) {
            return Err(format!(
                "{} is more than the {} from now a hold may reach",
                rfc3339(until),
                human_duration(self.max_duration)
            ));
        }
        Ok(until)
    }
}

pub(super) fn usage_error(problem: impl Into<String>, usage: impl Into<String>) -> CommandError {
    CommandError::Usage {
        problem: problem.into(),
        usage: usage.into(),
    }
}

/// The project's own event id check, worded for a person.
pub(super) fn event_id(word: &str) -> Result<EventId, String> {
    EventId::parse(word).map_err(|e| match e {
        InputError::Field { reason, .. } => format!("`{word}` is not an event id: it {reason}"),
        other => format!("`{word}` is not an event id: {other}"),
    })
}

/// A decoded form, each field once.
struct Form(BTreeMap<String, String>);

impl Form {
    fn decode(body: &[u8]) -> Result<Self, CommandError> {
        let mut fields = BTreeMap::new();
        for (k, v) in form_urlencoded::parse(body) {
            if fields.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(CommandError::Malformed(format!(
                    "field `{k}` appears twice"
                )));
            }
        }
        Ok(Form(fields))
    }

    fn take(&mut self, field: &str) -> Result<String, CommandError> {
        self.0
            .remove(field)
            .ok_or_else(|| CommandError::Malformed(format!("field `{field}` is missing")))
    }
}
