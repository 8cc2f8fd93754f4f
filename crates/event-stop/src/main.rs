use lambda_runtime::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    // JSON logs when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT).
    lambda_runtime::tracing::init_default_subscriber();
    let config = event_core::Config::from_env()?;
    let deps = event_core::Deps::from_config(config).await?;
    run(service_fn(|event| event_stop::handle(event, &deps))).await
}
