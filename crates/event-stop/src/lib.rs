//! The event-stop Lambda handler: turns the invocation into a call of the stop flow.

use event_core::payload::Input;
use event_core::{Deadline, Deps, Invocation, Outcome};
use lambda_runtime::{Diagnostic, LambdaEvent};

/// The payload as the runtime delivers it: the raw JSON text, not a decoded value, so that a body
/// a decoded value can no longer show as bad (a key given twice) is refused too.
pub type Payload = Box<serde_json::value::RawValue>;

/// Handles one invocation: [`Payload`] from the runtime, or a `serde_json::Value` from a caller in
/// Rust. Every kind of bad input gets the library's error naming the field, not a deserializer's.
pub async fn handle<P: Into<Input>>(
    event: LambdaEvent<P>,
    deps: &Deps,
) -> Result<Outcome, Diagnostic> {
    let invocation = Invocation {
        deadline: Deadline::from_epoch_millis(event.context.deadline),
        function_arn: Some(event.context.invoked_function_arn.clone()),
    };
    event_core::flows::stop::run(deps, event.payload.into(), invocation)
        .await
        .map_err(|e| Diagnostic {
            error_type: e.error_type(),
            error_message: e.to_string(),
        })
}
