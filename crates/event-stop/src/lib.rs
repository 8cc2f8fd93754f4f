//! The event-stop Lambda handler: turns the invocation into a call of the stop flow.

use event_core::{Deadline, Deps, Invocation, Outcome};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

/// Handles one invocation. The payload stays raw JSON so that every kind of bad input gets the
/// library's error naming the field, not a deserializer's.
pub async fn handle(event: LambdaEvent<Value>, deps: &Deps) -> Result<Outcome, Diagnostic> {
    let invocation = Invocation {
        deadline: Deadline::from_epoch_millis(event.context.deadline),
        function_arn: Some(event.context.invoked_function_arn.clone()),
    };
    event_core::flows::stop::run(deps, event.payload, invocation)
        .await
        .map_err(|e| Diagnostic {
            error_type: e.error_type(),
            error_message: e.to_string(),
        })
}
