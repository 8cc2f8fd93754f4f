//! The deterministic simulation (event_core::testing::sim) in `make test`: 10,000 seeded lives of an
//! event in the in-memory world, every invariant of shared/DESIGN.md checked after each; a seed
//! replays exactly; and two defects the flows had, brought back, are found (the simulation can fail).

use event_core::flows::Defect;
use event_core::testing::sim;

/// Seeds that still break an invariant, each with what it shows (docs/testing.md, "Simulation").
/// A seed of 0-9,999 that starts failing and is not here fails the test; so does one here that
/// passes again (each is run, wherever it is).
const KNOWN_OPEN: &[(u64, &str)] = &[(
    23279,
    "an invocation killed between the run's `reported` mark (its answer lost) and its post: the mark stands, nobody posts (a mark should say `posting` until the post landed, and be taken over when stale)",
)];

#[test]
fn ten_thousand_seeds_keep_every_invariant_but_the_known_open_ones() {
    let started = std::time::Instant::now();
    let (failed, invocations) = sim::run_seeds(0, 10_000);
    let failing: Vec<u64> = failed.iter().map(|r| r.seed).collect();
    let known: Vec<u64> = KNOWN_OPEN
        .iter()
        .map(|(s, _)| *s)
        .filter(|s| *s < 10_000)
        .collect();
    for (seed, what) in KNOWN_OPEN {
        assert!(
            !sim::run_seed(*seed).violations.is_empty(),
            "seed {seed} keeps every invariant again: is this fixed? {what}"
        );
    }
    for r in failed.iter().filter(|r| !known.contains(&r.seed)).take(2) {
        eprintln!("{}", r.render());
    }
    println!(
        "10000 seeds, {} violations ({} known open), {invocations} invocations, {:.1}s",
        failing.len(),
        known.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(failing, known, "seeds breaking an invariant");
}

#[test]
fn a_seed_replays_exactly() {
    let a = sim::run_seed(4242);
    let b = sim::run_seed(4242);
    assert!(a.trace.len() > 10, "{:?}", a.trace);
    assert_eq!(a.trace, b.trace);
}

/// The first of `seeds` seeds that breaks an invariant with `defect` brought back.
fn finds(defect: Defect, seeds: u64) -> Option<sim::SeedReport> {
    (0..seeds)
        .map(|seed| sim::run_seed_with(seed, Some(defect)))
        .find(|r| !r.violations.is_empty() && !KNOWN_OPEN.iter().any(|(s, _)| *s == r.seed))
}

#[test]
fn the_silent_busy_stop_is_found() {
    let r = finds(Defect::SilentBusyStop, 2000).expect("the simulation finds the silent busy stop");
    println!("{}", r.render());
    assert!(
        r.violations
            .iter()
            .any(|v| v.contains("the event is not down and Slack holds no failure")),
        "{:?}",
        r.violations
    );
}

#[test]
fn a_final_migration_that_outlives_its_stop_is_found() {
    let r = finds(Defect::FinalMigrationOutlivesTheStop, 5000)
        .expect("the simulation finds a stop reusing an earlier stop's load");
    println!("{}", r.render());
    assert!(
        r.violations
            .iter()
            .any(|v| v
                .contains("without a final migration that started after the stop was requested")),
        "{:?}",
        r.violations
    );
}
