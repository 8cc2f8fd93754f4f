//! Test doubles (feature `test-util`), for other crates' tests too: a recorder that refuses every
//! call, and an in-memory world (EC2, the state bucket, runners, DMS, Scheduler, Slack) with the
//! semantics and the faults that matter, driven by the deterministic simulation.

mod recorder;
pub mod sim;
pub mod world;

pub use recorder::Recorder;
