//! The event-slack Lambda handler: a request to the function URL (Slack's slash command or button)
//! becomes a call of the Slack app ([`event_core::commands::App`]), and its reply the HTTP
//! response. The function URL has no IAM auth (Slack cannot sign with AWS keys): every request
//! proves itself with Slack's signature instead, checked before anything else.

use aws_lambda_events::event::lambda_function_urls::{
    LambdaFunctionUrlRequest, LambdaFunctionUrlResponse,
};
use base64::Engine;
use event_core::commands::{App, Reply};
use lambda_runtime::{Diagnostic, LambdaEvent};
use time::OffsetDateTime;

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
