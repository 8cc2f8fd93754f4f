//! event-core: everything event-start and event-stop do, behind small traits so that the flows can be
//! tested against the local stack and the AWS parts swapped.

pub mod config;
pub mod error;
pub mod flows;
pub mod followup;
pub mod inventory;
pub mod migration;
pub mod module;
pub mod payload;
pub mod records;
pub mod runner;
pub mod secrets;
pub mod slack;
pub mod ssh;
pub mod terraform;
pub mod timing;

pub use config::Config;
pub use error::{Error, InputError};
pub use flows::{Deadline, Deps, FlowError, Invocation, Outcome, Stage, Status};

impl FlowError {
    /// The Lambda error type: the error's kind, marked when a retry may succeed as is.
    pub fn error_type(&self) -> String {
        if self.error.is_transient() {
            format!("{}.Retryable", self.error.kind())
        } else {
            self.error.kind().to_owned()
        }
    }
}

#[cfg(feature = "test-util")]
pub mod testing;
