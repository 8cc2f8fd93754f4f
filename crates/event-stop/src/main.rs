use lambda_runtime::{Error, LambdaEvent, run, service_fn};

fn main() -> Result<(), Error> {
    // Before any thread: it sets SSL_CERT_FILE (the root certificates come from the CA bundle).
    event_core::roots::use_the_ca_bundle();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve())
}

async fn serve() -> Result<(), Error> {
    // JSON logs when the function's log format is JSON (AWS_LAMBDA_LOG_FORMAT), and where each
    // invocation's time went (one `timings` line after each).
    let timings = event_core::timing::init_logging();
    let config = event_core::Config::from_env()?;
    let deps = event_core::Deps::from_config(config).await?;
    let deps = &deps;
    run(service_fn(|event: LambdaEvent<event_stop::Payload>| {
        let timings = timings.clone();
        async move {
            let started = std::time::Instant::now();
            let result = event_stop::handle(event, deps).await;
            timings.log_invocation(started.elapsed());
            result
        }
    }))
    .await
}
