//! The event-slack Lambda handler: a request to the function URL (Slack's slash command or button)
//! becomes a call of the Slack app ([`event_core::commands::App`]), and its reply the HTTP
//! response. The function URL has no IAM auth (Slack cannot sign with AWS keys): every request
//! proves itself with Slack's signature instead, checked before anything else.
//!
//! The other way in is the event's reminder schedule (`<id>-remind`, and the one-offs that move
//! it), through Lambda's Invoke, which only the scheduler's role may call: a payload
//! `{"remind": {...}}` ([`Reminder`]). Anything else is read as a function-URL request.

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use event_core::commands::{App, Reminded, Reminder, Reply};
use lambda_runtime::{Diagnostic, LambdaEvent};
use time::OffsetDateTime;

/// Answers one invocation: a reminder from its schedule, or a request to the function URL.
pub async fn dispatch(
    event: LambdaEvent<serde_json::Value>,
    app: &App,
) -> Result<serde_json::Value, Diagnostic> {
    let LambdaEvent { payload, context } = event;
    if payload.get("remind").is_some() {
        return remind(payload, app).await;
    }
    let request: LambdaFunctionUrlRequest = serde_json::from_value(payload).map_err(|e| {
        diagnostic(
            "InvalidInput",
            format!("neither a function URL request nor a reminder: {e}"),
        )
    })?;
    let response = handle(LambdaEvent::new(request, context), app).await?;
    serde_json::to_value(response).map_err(|e| diagnostic("Internal", e.to_string()))
}

/// A reminder: `{"outcome": "posted" | "moved" | "nothing", "detail": ...}`, or an error (a bad
/// payload, or AWS or Slack failing: the invocation's retry tries again).
async fn remind(payload: serde_json::Value, app: &App) -> Result<serde_json::Value, Diagnostic> {
    let (event, lead) = Reminder::parse(payload).map_err(|e| diagnostic("InvalidInput", e))?;
    let done = app
        .remind(&event, lead, OffsetDateTime::now_utc())
        .await
        .map_err(|e| diagnostic("ReminderFailed", e))?;
    let rfc = |t: OffsetDateTime| event_core::slack_app::rfc3339(t);
    Ok(match done {
        Reminded::Posted { end } => {
            serde_json::json!({ "outcome": "posted", "event_id": event.as_str(), "end": rfc(end) })
        }
        Reminded::Moved { at, schedule } => serde_json::json!({
            "outcome": "moved", "event_id": event.as_str(), "at": rfc(at), "schedule": schedule
        }),
        Reminded::Nothing(why) => {
            serde_json::json!({ "outcome": "nothing", "event_id": event.as_str(), "detail": why })
        }
    })
}

fn diagnostic(kind: &str, message: impl std::fmt::Display) -> Diagnostic {
    Diagnostic {
        error_type: kind.to_owned(),
        error_message: message.to_string(),
    }
}

/// Answers one request to the function URL.
pub async fn handle(
    event: LambdaEvent<LambdaFunctionUrlRequest>,
    app: &App,
) -> Result<LambdaFunctionUrlResponse, Diagnostic> {
    let request = event.payload;
    let body = match (request.body, request.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(text), false) => text.into_bytes(),
        (Some(text), true) => match base64::engine::general_purpose::STANDARD.decode(text) {
            Ok(bytes) => bytes,
            Err(_) => return Ok(response(&bad_body())),
        },
    };
    // A header that is not text cannot be one Slack signs with; it is left out (and so missing).
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let reply = app.handle(headers, &body, OffsetDateTime::now_utc()).await;
    Ok(response(&reply))
}

fn bad_body() -> Reply {
    Reply {
        status: 400,
        body: serde_json::json!({ "text": "the body is not valid base64" }),
    }
}

/// The HTTP response: the reply's status and its JSON body.
pub fn response(reply: &Reply) -> LambdaFunctionUrlResponse {
    let mut out = LambdaFunctionUrlResponse::default();
    out.status_code = i64::from(reply.status);
    out.headers.insert(
        "content-type",
        "application/json".parse().expect("a valid header value"),
    );
    out.body = Some(reply.body.to_string());
    out
}
