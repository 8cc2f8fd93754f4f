//! How a world behaves: its faults, its durations, and its random source.

use std::time::Duration;

/// A small deterministic random source (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A whole number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn secs(&mut self, (lo, hi): (u64, u64)) -> Duration {
        Duration::from_secs(self.range(lo, hi))
    }
}

/// How Slack behaves in a world.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SlackMode {
    Healthy,
    /// Every post fails.
    Down,
    /// A post is refused (5xx) with this probability.
    Refusing(f64),
    /// A post lands and then times out with this probability (the poster cannot tell).
    LandsThenTimesOut(f64),
}

/// The faults of a world and how long things take. Probabilities are per operation.
#[derive(Debug, Clone)]
pub struct Knobs {
    /// Largest latency of one operation, in milliseconds.
    pub latency_ms: u64,
    pub s3_conflict: f64,
    pub s3_lost_answer: f64,
    pub slack: SlackMode,
    pub schedule_fails: f64,
    pub launch_fails: f64,
    /// A launched runner whose user data never finishes.
    pub user_data_fails: f64,
    /// A runner's readiness check answering "not ready" once.
    pub ready_flaps: f64,
    pub ssh_drops: f64,
    /// A runner dying while a run is in progress on it.
    pub runner_dies: f64,
    pub run_fails: f64,
    pub load_fails: f64,
    pub boot: (u64, u64),
    pub apply: (u64, u64),
    pub destroy: (u64, u64),
    pub load: (u64, u64),
    /// Seconds a tier takes to pass its readiness checks after its apply.
    pub ready: (u64, u64),
    /// A tier whose service never gets its tasks running (it never becomes ready).
    pub never_ready: f64,
}

impl Knobs {
    /// Nothing goes wrong.
    pub fn calm() -> Self {
        Knobs {
            latency_ms: 200,
            s3_conflict: 0.0,
            s3_lost_answer: 0.0,
            slack: SlackMode::Healthy,
            schedule_fails: 0.0,
            launch_fails: 0.0,
            user_data_fails: 0.0,
            ready_flaps: 0.0,
            ssh_drops: 0.0,
            runner_dies: 0.0,
            run_fails: 0.0,
            load_fails: 0.0,
            boot: (20, 120),
            apply: (60, 2700),
            destroy: (60, 900),
            load: (30, 900),
            ready: (0, 0),
            never_ready: 0.0,
        }
    }
}
