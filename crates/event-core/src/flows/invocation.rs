//! What a flow knows of its invocation: when it must return, and which function it is (the target of
//! a follow-up).

use std::time::Duration;

use crate::clock::Instant;

/// How long after an invocation hands over its follow-up comes.
pub const FOLLOW_UP_DELAY: Duration = Duration::from_secs(60);

/// When the function must have returned, read from the Lambda context.
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    pub fn none() -> Self {
        Deadline(None)
    }

    pub fn after(d: Duration) -> Self {
        Deadline(Some(Instant::now() + d))
    }

    /// From the Lambda context's deadline (Unix milliseconds); 0 means none.
    ///
    /// A value before 2001 is no Unix time a real invocation can carry: `cargo lambda watch` sends a
    /// duration there (600000), so such a value is read as milliseconds from now
    /// (local/EMULATOR-GAPS.md).
    pub fn from_epoch_millis(ms: u64) -> Self {
        const YEAR_2001_MS: u64 = 978_307_200_000;
        if ms == 0 {
            return Deadline(None);
        }
        if ms < YEAR_2001_MS {
            return Deadline::after(Duration::from_millis(ms));
        }
        let now = crate::clock::since_epoch().as_millis() as u64;
        Deadline::after(Duration::from_millis(ms.saturating_sub(now)))
    }

    /// Whether `needed` still fits before the deadline.
    pub fn allows(&self, needed: Duration) -> bool {
        self.0.is_none_or(|d| Instant::now() + needed < d)
    }

    pub fn remaining(&self) -> Option<Duration> {
        self.0.map(|d| d.saturating_duration_since(Instant::now()))
    }
}

#[derive(Debug, Clone)]
pub struct Invocation {
    pub deadline: Deadline,
    pub function_arn: Option<String>,
}

impl From<Deadline> for Invocation {
    fn from(deadline: Deadline) -> Self {
        Invocation {
            deadline,
            function_arn: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_from_the_lambda_context() {
        assert!(Deadline::from_epoch_millis(0).remaining().is_none());
        let now_ms = crate::clock::since_epoch().as_millis() as u64;
        let d = Deadline::from_epoch_millis(now_ms + 120_000)
            .remaining()
            .unwrap();
        assert!(
            d > Duration::from_secs(118) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        let past = Deadline::from_epoch_millis(now_ms - 1000);
        assert!(!past.allows(Duration::from_millis(1)));
        // cargo lambda watch's duration-as-deadline.
        let d = Deadline::from_epoch_millis(600_000).remaining().unwrap();
        assert!(d > Duration::from_secs(598), "{d:?}");
    }
}
