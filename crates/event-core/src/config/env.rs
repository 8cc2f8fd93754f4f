//! The environment as the configuration reads it: every accessor names the variable in its error.

use std::collections::HashMap;
use std::time::Duration;

use crate::error::{Error, Result};

pub(super) struct Env {
    vars: HashMap<String, String>,
    /// Every variable asked for, so that a test can hold [`SETTINGS`] to what is read.
    #[cfg(test)]
    pub(super) asked: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl Env {
    pub(super) fn new(vars: HashMap<String, String>) -> Self {
        Env {
            vars,
            #[cfg(test)]
            asked: Default::default(),
        }
    }

    /// Every other accessor reads through this one.
    pub(super) fn optional(&self, name: &str) -> Option<String> {
        #[cfg(test)]
        self.asked.borrow_mut().insert(name.to_owned());
        self.vars
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn required(&self, name: &str) -> Result<String> {
        self.optional(name)
            .ok_or_else(|| Error::Config(format!("{name} is not set")))
    }

    pub(super) fn parse<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T> {
        match self.optional(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                Error::Config(format!(
                    "{name} must be a non-negative whole number, got {v:?}"
                ))
            }),
        }
    }

    /// A comma-separated list of at least one item, each passing `valid`, none twice.
    pub(super) fn list(
        &self,
        name: &str,
        default: Option<&str>,
        valid: impl Fn(&str) -> bool,
        what: &str,
    ) -> Result<Vec<String>> {
        let raw = match (self.optional(name), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_owned(),
            (None, None) => return Err(Error::Config(format!("{name} is not set"))),
        };
        let mut items: Vec<String> = Vec::new();
        for item in raw.split(',').map(str::trim) {
            if !valid(item) {
                return Err(Error::Config(format!("{name}: {item:?} is not {what}")));
            }
            if items.iter().any(|i| i == item) {
                return Err(Error::Config(format!("{name}: {item:?} is listed twice")));
            }
            items.push(item.to_owned());
        }
        Ok(items)
    }

    pub(super) fn secs(&self, name: &str, default: u64) -> Result<Duration> {
        self.parse(name, default).map(Duration::from_secs)
    }

    pub(super) fn host_key(&self, name: &str) -> Result<String> {
        let v = self.required(name)?;
        let ok = v.strip_prefix("SHA256:").is_some_and(|b| {
            b.len() == 43
                && b.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
        });
        if ok {
            Ok(v)
        } else {
            Err(Error::Config(format!(
                "{name} must be a host key fingerprint as `ssh-keygen -lf` prints it (SHA256:<43 base64 characters>)"
            )))
        }
    }
}
