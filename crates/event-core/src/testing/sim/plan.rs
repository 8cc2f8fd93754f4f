//! The settings and the faults of a seed.

use crate::config::Config;
use crate::testing::world::{Knobs, Rng, SlackMode};

/// The functions' settings in the simulation (the defaults of a deployment, with follow-ups).
pub fn config() -> Config {
    let mut vars = crate::testing::required_settings();
    vars.insert(
        "EVENT_TIER_FOLLOW_UP_ROLE_ARN".into(),
        "arn:aws:iam::123456789012:role/event-tier-follow-up".into(),
    );
    Config::from_vars(vars).expect("the simulation's settings")
}

/// The faults of a seed: each kind present in some seeds, absent in others.
pub(super) fn knobs(rng: &mut Rng) -> Knobs {
    let mut k = Knobs::calm();
    let some = |p: f64, rng: &mut Rng| if rng.chance(0.35) { p } else { 0.0 };
    k.s3_conflict = some(0.2, rng);
    k.s3_lost_answer = some(0.2, rng);
    k.schedule_fails = some(0.15, rng);
    k.launch_fails = some(0.3, rng);
    k.user_data_fails = some(0.3, rng);
    k.ready_flaps = some(0.2, rng);
    k.ssh_drops = some(0.05, rng);
    k.runner_dies = some(0.1, rng);
    k.run_fails = some(0.15, rng);
    k.load_fails = some(0.2, rng);
    k.slack = match rng.range(0, 9) {
        0 => SlackMode::Down,
        1 => SlackMode::Refusing(0.3),
        2 => SlackMode::LandsThenTimesOut(0.3),
        _ => SlackMode::Healthy,
    };
    // Readiness from a source of its own: the seeds' other draws stay as they were.
    let mut own = Rng::new(rng.clone().next_u64() ^ 0x7ead);
    if own.chance(0.5) {
        // Past the bound of 15 minutes sometimes; past an invocation's deadline often.
        k.ready = (0, 1200);
        k.never_ready = if own.chance(0.3) { 0.3 } else { 0.0 };
    }
    if rng.chance(0.3) {
        // Short runs: the interleavings of runs that end between two steps of a flow.
        k.apply = (5, 120);
        k.destroy = (5, 120);
        k.load = (5, 120);
    }
    k
}
