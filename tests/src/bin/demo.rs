//! `make demo`: a sales event's lifecycle on the local stack (started by local/with-stack.sh).
//! Exits 0 only if the lifecycle succeeded and nothing was left behind.

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let stack = event_tier_tests::Stack::get().await;
    let report = event_tier_tests::demo::lifecycle(&stack, false, None).await;
    println!("{}", report.summary());
    std::process::exit(if report.ok() { 0 } else { 1 });
}
