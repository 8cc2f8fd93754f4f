//! The start and stop flows, and the run layer they share: acquire the event's runner → connect →
//! launch a run → follow it within the deadline → its end (reported once, or handed over to a
//! follow-up invocation).

mod acquire;
mod at_risk;
mod deferral;
mod deps;
mod final_load;
mod follow;
mod handover;
mod invocation;
mod learned;
mod link;
mod outcome;
mod ready;
mod rehearse;
mod report;
mod retire;
mod run;
pub mod start;
pub mod stop;

pub use at_risk::MARGIN as AT_RISK_MARGIN;
pub use deps::{Deps, sdk_config};
pub use invocation::{Deadline, FOLLOW_UP_DELAY, Invocation};
pub use outcome::{FlowError, Outcome, Stage, Status, Told};
pub use report::summary;
pub use run::Defect;
#[cfg(feature = "test-util")]
pub use run::inject;
