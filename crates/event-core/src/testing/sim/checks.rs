//! The invariants checked after a seed's life (the others are checked by the world as they happen).

use crate::testing::world::{Knobs, SlackMode, World};

/// With Slack healthy, every run's outcome is posted exactly once; with Slack failing, at least once
/// or a function's result says Slack was not told. A run whose every invocation gave up before
/// telling its outcome is held to the weaker rule that Slack heard of the failure that stopped them
/// (never silence): nothing is left that could tell it.
pub(super) fn check_reports(
    world: &World,
    knobs: &Knobs,
    not_told: bool,
    violations: &mut Vec<String>,
) {
    let posts = world.posts();
    for run in world.runs() {
        let n = posts
            .iter()
            .filter(|p| p.outcome_of.as_deref() == Some(run.id.as_str()))
            .count();
        let healthy = knobs.slack == SlackMode::Healthy;
        let flow = if run.id.starts_with("apply-") {
            "start"
        } else {
            "stop"
        };
        let gave_up_told = posts
            .iter()
            .any(|p| p.at >= run.ended && p.text.contains(&format!("{flow} failed at stage")));
        if n == 0 && gave_up_told {
            continue;
        }
        if healthy && run.finished && n != 1 {
            violations.push(format!(
                "run {} of {} finished and its outcome was posted {n} times",
                run.id, run.event
            ));
        } else if healthy && n > 1 {
            violations.push(format!("run {} was reported {n} times", run.id));
        } else if !healthy && run.finished && n == 0 && !not_told {
            violations.push(format!(
                "run {} finished, Slack never heard of it and no result says so",
                run.id
            ));
        }
    }
}
