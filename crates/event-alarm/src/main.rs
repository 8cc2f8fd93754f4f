use std::sync::Arc;

use lambda_runtime::{Error, run, service_fn};

fn main() -> Result<(), Error> {
    // Before any thread: it sets SSL_CERT_FILE (the root certificates come from the CA bundle).
    event_core::roots::use_the_ca_bundle();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), Error> {
    // JSON logs when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_runtime::tracing::init_default_subscriber();
    let config = event_core::config::NotifierConfig::from_env()?;
    let slack = event_core::slack::SlackWebhook::from_env_config(&config).await?;
    let deps = event_alarm::Deps {
        notifier: Arc::new(slack),
    };
    run(service_fn(|event| event_alarm::handle(event, &deps))).await
}
