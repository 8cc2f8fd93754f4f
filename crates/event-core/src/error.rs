//! The one error type of the library. Messages are lower-case without trailing punctuation and never
//! carry a secret value: secrets are named by their ARN or role, never by their content.

/// What went wrong with the payload. Always names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("payload is not valid JSON: {0}")]
    NotJson(String),
    #[error("payload is {size} bytes, more than the {limit} allowed")]
    TooLarge { size: usize, limit: usize },
    #[error("payload must be a JSON object, got {0}")]
    NotObject(&'static str),
    #[error("`{0}` is missing")]
    Missing(String),
    #[error("`{field}` {reason}")]
    Field { field: String, reason: String },
}

impl InputError {
    pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        InputError::Field {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid input: {0}")]
    Input(#[from] InputError),
    #[error("configuration: {0}")]
    Config(String),
    #[error("{service} {operation} failed{}: {message}", code.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Aws {
        service: &'static str,
        operation: &'static str,
        code: Option<String>,
        message: String,
        /// Throttling, 5xx or a transport failure that outlived the SDK's own retries.
        transient: bool,
    },
    #[error("secret {name}: {reason}")]
    Secret { name: String, reason: String },
    #[error("ssh {target}: {reason}")]
    Ssh { target: String, reason: String },
    #[error("runner {instance_id}: {reason}")]
    Runner { instance_id: String, reason: String },
    #[error("terraform {action} {outcome}")]
    Terraform { action: String, outcome: String },
    #[error("event tier module: {0}")]
    Module(String),
    #[error("slack: {0}")]
    Slack(String),
    #[error("final migration: {0}")]
    Migration(String),
    #[error("follow-up: {0}")]
    FollowUp(String),
    #[error("the invocation's deadline came first: {0}")]
    Deadline(String),
    #[error("the tier is not ready: {0}")]
    NotReady(String),
}

impl Error {
    /// Whether running the same request again later may succeed without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Aws { transient, .. } => *transient,
            Error::Ssh { .. } | Error::Slack(_) | Error::Deadline(_) => true,
            _ => false,
        }
    }

    /// A short, stable name of the error's kind, used as the Lambda error type.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Input(_) => "InvalidInput",
            Error::Config(_) => "Configuration",
            Error::Aws { .. } => "Aws",
            Error::Secret { .. } => "Secret",
            Error::Ssh { .. } => "Ssh",
            Error::Runner { .. } => "Runner",
            Error::Terraform { .. } => "Terraform",
            Error::Module(_) => "Module",
            Error::Slack(_) => "Slack",
            Error::Migration(_) => "Migration",
            Error::NotReady(_) => "NotReady",
            Error::FollowUp(_) => "FollowUp",
            Error::Deadline(_) => "Deadline",
        }
    }
}

/// Turns an SDK error into [`Error::Aws`], keeping the service's error code and message.
pub(crate) fn aws<E>(
    service: &'static str,
    operation: &'static str,
    err: aws_sdk_ec2::error::SdkError<E, aws_sdk_ec2::config::http::HttpResponse>,
) -> Error
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            let code = err.code().unwrap_or_default();
            let server_side = err
                .raw_response()
                .is_some_and(|r| r.status().is_server_error());
            server_side
                || code.contains("Throttl")
                || code == "RequestLimitExceeded"
                || code == "ServiceUnavailable"
                || code == "InternalError"
                || code == "InternalFailure"
        }
        _ => false,
    };
    let code = err.code().map(str::to_owned);
    let message = match err.message() {
        Some(m) => m.to_owned(),
        None => aws_sdk_ec2::error::DisplayErrorContext(&err).to_string(),
    };
    Error::Aws {
        service,
        operation,
        code,
        message,
        transient,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
