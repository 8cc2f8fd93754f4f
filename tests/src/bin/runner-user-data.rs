//! Prints the runner's user data exactly as event-start renders it for a launch
//! (`event_core::runner::user_data`), from the settings in the environment (as the functions read
//! them) and the region in `AWS_REGION`; the event id is the first argument (default `local-stack`).
//! The local stack runs what it prints (local/stack.py, local/user-data.sh), so the runner is
//! prepared by the same script as in AWS, not by a copy of its renderer.

use event_core::Config;
use event_core::payload::EventId;

fn main() {
    let event = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "local-stack".to_owned());
    let fail = |what: String| -> ! {
        eprintln!("runner-user-data: {what}");
        std::process::exit(2)
    };
    let event = EventId::parse(&event).unwrap_or_else(|e| fail(e.to_string()));
    let config = Config::from_env().unwrap_or_else(|e| fail(e.to_string()));
    let region =
        std::env::var("AWS_REGION").unwrap_or_else(|_| fail("AWS_REGION is not set".into()));
    print!(
        "{}",
        event_core::runner::user_data(&config.runner, &region, &event)
    );
}
