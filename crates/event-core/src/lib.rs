//! event-core: everything event-start and event-stop do, behind small traits so that the flows can be
//! tested against the local stack and the AWS parts swapped.

pub mod clock;
pub mod commands;
pub mod config;
pub mod ends;
pub mod error;
pub mod flows;
pub mod followup;
pub mod history;
pub mod inventory;
pub mod migration;
pub mod module;
pub mod payload;
pub mod readiness;
pub mod records;
pub mod rehearsal;
pub mod roots;
pub mod run;
pub mod runner;
pub mod schedules;
pub mod sdk_http;
pub mod secrets;
pub mod slack;
pub mod slack_app;
pub mod ssh;
pub mod terraform;
pub mod timing;
pub mod watch;

pub use config::Config;
pub use error::{Error, InputError};
pub use flows::{Deadline, Deps, FlowError, Invocation, Outcome, Stage, Status, Told};

#[cfg(feature = "test-util")]
pub mod testing;
