use std::sync::Arc;

use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON logs when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_runtime::tracing::init_default_subscriber();
    let config = event_core::config::NotifierConfig::from_env()?;
    let slack = event_core::slack::SlackWebhook::from_env_config(&config).await?;
    let deps = event_alarm::Deps {
        notifier: Arc::new(slack),
    };
    run(service_fn(|event| event_alarm::handle(event, &deps))).await
}
