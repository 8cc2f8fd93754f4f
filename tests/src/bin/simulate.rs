//! `make simulate`: runs seeds of the deterministic simulation (event_core::testing::sim) and prints
//! each seed that breaks an invariant, with its trace, then one summary line.
//!
//!   simulate [--seeds N] [--from S]     N seeds from S (default 20000 from 0)
//!   simulate --seed S                   one seed, its trace printed whatever happens

use std::time::Instant;

use event_core::testing::sim;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| -> Option<u64> {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{flag} takes a number, got {v}"))
            })
    };
    if let Some(seed) = value("--seed") {
        let r = sim::run_seed(seed);
        for line in &r.trace {
            println!("{line}");
        }
        if r.violations.is_empty() {
            println!("seed {seed}: 0 violations ({} invocations)", r.invocations);
        } else {
            print!("{}", r.render());
            std::process::exit(1);
        }
        return;
    }
    let count = value("--seeds").unwrap_or(20_000);
    let from = value("--from").unwrap_or(0);
    let started = Instant::now();
    let (failed, invocations) = sim::run_seeds(from, count);
    let took = started.elapsed().as_secs_f64();
    for r in failed.iter().take(3) {
        print!("{}", r.render());
    }
    for r in failed.iter().skip(3) {
        for v in &r.violations {
            println!("seed {}: {v}", r.seed);
        }
    }
    println!(
        "{count} seeds, {} violations, {:.0} seeds/s ({invocations} invocations)",
        failed.len(),
        count as f64 / took
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
