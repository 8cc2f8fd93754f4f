use std::sync::Arc;

use lambda_runtime::{Error, run, service_fn};

fn main() -> Result<(), Error> {
    // The root certificates from the CA bundle (set before any thread starts), then the runtime.
    event_core::roots::run(serve())?
}

async fn serve() -> Result<(), Error> {
    // JSON logs when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_runtime::tracing::init_default_subscriber();
    let config = event_core::config::NotifierConfig::from_env()?;
    let slack = event_core::slack::SlackWebhook::from_env_config(&config).await?;
    let deps = event_alarm::Deps {
        notifier: Arc::new(slack),
    };
    let watchers = event_alarm::Watchers::from_env();
    run(service_fn(|event| {
        event_alarm::dispatch(event, &deps, &watchers)
    }))
    .await
}
