//! Who may do what from Slack. `status` is open to anyone in the channel; every action that
//! changes an event has its own allow-list of Slack user ids (ids, not names: a display name can be
//! changed by its owner, an id cannot).
//!
//! The lists are one setting, written as `action=ids` pairs separated by `;`, ids by `,`:
//!
//! ```text
//! extend=U012AB3CD,U045EF6GH;hold=U012AB3CD,U045EF6GH;release=U012AB3CD;stop-now=U012AB3CD;retry=U012AB3CD
//! ```
//!
//! An action left out, or given an empty list, is refused to everyone. A misspelt action is an
//! error at start-up rather than an action nobody can take, and `status` takes no list.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use super::command::{Request, Requester};

/// What a request does, as the allow-lists name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    Status,
    Extend,
    Hold,
    Release,
    StopNow,
    Retry,
}

impl Action {
    /// The actions that have an allow-list (all but `status`).
    pub const GUARDED: [Action; 5] = [
        Action::Extend,
        Action::Hold,
        Action::Release,
        Action::StopNow,
        Action::Retry,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Status => "status",
            Action::Extend => "extend",
            Action::Hold => "hold",
            Action::Release => "release",
            Action::StopNow => "stop-now",
            Action::Retry => "retry",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        [Action::Status]
            .into_iter()
            .chain(Action::GUARDED)
            .find(|a| a.as_str() == s)
            .ok_or(())
    }
}

/// A malformed allow-list setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("slack allow-lists: {0}")]
pub struct PolicyError(String);

/// A request refused by the allow-lists: answered 403, nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{} ({}) may not {action}: {}", mention(&requester.user_id), requester.user_name, allowed_line(*action, allowed))]
    NotAllowed {
        action: Action,
        requester: Requester,
        allowed: Vec<String>,
    },
    #[error(
        "{action} is taken only in the event channel {}",
        channel_mention(expected)
    )]
    WrongChannel { action: Action, expected: String },
}

impl Refused {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        403
    }
}

fn mention(user_id: &str) -> String {
    format!("<@{user_id}>")
}

fn channel_mention(channel: &str) -> String {
    format!("<#{channel}>")
}

fn allowed_line(action: Action, allowed: &[String]) -> String {
    if allowed.is_empty() {
        format!("nobody may {action} from Slack (its allow-list is empty)")
    } else {
        let people: Vec<String> = allowed.iter().map(|u| mention(u)).collect();
        format!("ask {}", people.join(", "))
    }
}

/// The allow-lists, and the channel commands are taken in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The event channel; `None` takes commands wherever the app is.
    pub channel: Option<String>,
    allowed: BTreeMap<Action, BTreeSet<String>>,
}

impl Policy {
    /// Reads the setting described in the module's documentation.
    pub fn parse(spec: &str) -> Result<Self, PolicyError> {
        let mut allowed = BTreeMap::new();
        for pair in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, ids) = pair
                .split_once('=')
                .ok_or_else(|| PolicyError(format!("`{pair}` is not action=ids")))?;
            let name = name.trim();
            let action: Action = name.parse().map_err(|()| {
                let known: Vec<&str> = Action::GUARDED.iter().map(|a| a.as_str()).collect();
                PolicyError(format!(
                    "`{name}` is not an action (one of {})",
                    known.join(", ")
                ))
            })?;
            if action == Action::Status {
                return Err(PolicyError(
                    "status is open to anyone in the channel and takes no list".into(),
                ));
            }
            let mut users = BTreeSet::new();
            for id in ids.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                if !is_user_id(id) {
                    return Err(PolicyError(format!(
                        "`{id}` (for {action}) is not a Slack user id, like U012AB3CD"
                    )));
                }
                users.insert(id.to_owned());
            }
            if allowed.insert(action, users).is_some() {
                return Err(PolicyError(format!("{action} is given twice")));
            }
        }
        Ok(Policy {
            channel: None,
            allowed,
        })
    }

    /// Takes commands only in `channel` (a Slack channel id).
    pub fn in_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// The user ids allowed to take `action`; empty for `status`, which everyone may ask.
    pub fn allowed(&self, action: Action) -> impl Iterator<Item = &str> {
        self.allowed
            .get(&action)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Whether `requester` may take `action` from `channel`.
    pub fn check(
        &self,
        action: Action,
        requester: &Requester,
        channel: Option<&str>,
    ) -> Result<(), Refused> {
        if let Some(expected) = &self.channel
            && channel != Some(expected.as_str())
        {
            return Err(Refused::WrongChannel {
                action,
                expected: expected.clone(),
            });
        }
        let listed = self
            .allowed
            .get(&action)
            .is_some_and(|users| users.contains(&requester.user_id));
        if action == Action::Status || listed {
            return Ok(());
        }
        Err(Refused::NotAllowed {
            action,
            requester: requester.clone(),
            allowed: self.allowed(action).map(str::to_owned).collect(),
        })
    }

    /// [`Policy::check`] of a parsed request.
    pub fn check_request(&self, request: &Request) -> Result<(), Refused> {
        self.check(
            request.command.action(),
            &request.requester,
            request.channel_id.as_deref(),
        )
    }
}

/// Slack user ids: `U` (or `W`, Enterprise Grid) and upper-case letters and digits.
fn is_user_id(id: &str) -> bool {
    (id.starts_with('U') || id.starts_with('W'))
        && (2..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
