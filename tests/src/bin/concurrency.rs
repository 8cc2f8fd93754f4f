//! Many events at once (issue 14, item 5): K events' whole lifecycles (start, then stop) on the
//! small fixture tier, started together, against the local stack; for each K the wall time, each
//! flow's time, and how busy the machine's cores were meanwhile (from /proc/stat), so that a K = 4
//! slower than K = 1 can be told apart: cores saturated (the machine) or cores idle (something
//! waits on something: the product or the local stack).
//!
//!   local/with-stack.sh target/debug/concurrency [--k 1 --k 4] [--json FILE]
//!
//! Prints a table; with --json writes the figures (read by local/bench.py). Exits 1 if a lifecycle
//! fails or leaves a runner behind.

use std::sync::Arc;
use std::time::{Duration, Instant};

use event_core::{Deadline, Status};
use event_tier_tests::{Stack, unique_event};
use serde_json::{Value, json};

/// Busy and total jiffies of all cores, from the first line of /proc/stat.
fn cpu_jiffies() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    // idle and iowait are the 4th and 5th.
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// CPU seconds this process (the flows: the product's own code, the SDK, SSH) has used so far.
fn own_cpu() -> f64 {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

struct Round {
    k: usize,
    wall: Duration,
    starts: Vec<Duration>,
    stops: Vec<Duration>,
    cores_busy: f64,
    /// CPU seconds of all cores during the round, and of this process (the product's part).
    cpu_s: f64,
    own_cpu_s: f64,
}

async fn lifecycle(stack: Arc<Stack>, name: String) -> Result<(Duration, Duration), String> {
    let deps = stack.deps().await;
    let t = Instant::now();
    let out = event_core::flows::start::run(&deps, json!({ "event_id": name }), Deadline::none())
        .await
        .map_err(|e| format!("{name}: start failed: {e}"))?;
    if out.status != Status::Applied {
        return Err(format!("{name}: start answered {:?}", out.status));
    }
    let started = t.elapsed();
    let t = Instant::now();
    let out = event_core::flows::stop::run(&deps, json!({ "event_id": name }), Deadline::none())
        .await
        .map_err(|e| format!("{name}: stop failed: {e}"))?;
    if out.status != Status::Destroyed {
        return Err(format!("{name}: stop answered {:?}", out.status));
    }
    if !stack.live_instances(&name).await.is_empty() {
        return Err(format!("{name}: a runner is left"));
    }
    Ok((started, t.elapsed()))
}

async fn round(stack: &Arc<Stack>, k: usize) -> Result<Round, String> {
    let (busy0, total0) = cpu_jiffies();
    let own0 = own_cpu();
    let t = Instant::now();
    let flows: Vec<_> = (0..k)
        .map(|i| tokio::spawn(lifecycle(stack.clone(), unique_event(&format!("k{k}-{i}")))))
        .collect();
    let mut results = Vec::new();
    for f in flows {
        results.push(f.await.map_err(|e| format!("a lifecycle panicked: {e}"))?);
    }
    let wall = t.elapsed();
    let (busy1, total1) = cpu_jiffies();
    let own_cpu_s = own_cpu() - own0;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let cpu_s = (busy1 - busy0) as f64 / hz;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cores_busy = if total1 > total0 {
        cores * (busy1 - busy0) as f64 / (total1 - total0) as f64
    } else {
        0.0
    };
    let mut starts = Vec::new();
    let mut stops = Vec::new();
    for r in results {
        let (s, e) = r?;
        starts.push(s);
        stops.push(e);
    }
    Ok(Round {
        k,
        wall,
        starts,
        stops,
        cores_busy,
        cpu_s,
        own_cpu_s,
    })
}

fn secs(d: &[Duration]) -> Vec<f64> {
    d.iter()
        .map(|d| (d.as_secs_f64() * 10.0).round() / 10.0)
        .collect()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut ks: Vec<usize> = args
        .windows(2)
        .filter(|w| w[0] == "--k")
        .map(|w| w[1].parse().expect("--k takes a whole number"))
        .collect();
    if ks.is_empty() {
        ks = vec![1, 4];
    }
    let json_out = args
        .windows(2)
        .find(|w| w[0] == "--json")
        .map(|w| w[1].clone());
    let stack = Arc::new(Stack::get().await);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut rounds = Vec::new();
    for k in ks {
        eprintln!("K = {k}: {k} lifecycles started together");
        match round(&stack, k).await {
            Ok(r) => rounds.push(r),
            Err(e) => {
                eprintln!("FAILED: {e}");
                std::process::exit(1);
            }
        }
    }
    let base = rounds.first().map(|r| r.wall.as_secs_f64()).unwrap_or(1.0);
    println!(
        "| K | wall (s) | x K=1 | starts (s) | stops (s) | cores busy (of {cores}) | CPU s: all / the flows |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in &rounds {
        println!(
            "| {} | {:.1} | {:.2} | {:?} | {:?} | {:.2} | {:.0} / {:.1} |",
            r.k,
            r.wall.as_secs_f64(),
            r.wall.as_secs_f64() / base,
            secs(&r.starts),
            secs(&r.stops),
            r.cores_busy,
            r.cpu_s,
            r.own_cpu_s
        );
    }
    if let Some(path) = json_out {
        let v: Vec<Value> = rounds
            .iter()
            .map(|r| {
                json!({
                    "k": r.k, "wall_s": r.wall.as_secs_f64(), "over_k1": r.wall.as_secs_f64() / base,
                    "starts_s": secs(&r.starts), "stops_s": secs(&r.stops),
                    "cores_busy": r.cores_busy, "cores": cores,
                    "cpu_s": r.cpu_s, "own_cpu_s": r.own_cpu_s,
                })
            })
            .collect();
        std::fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).expect("json written");
    }
}
