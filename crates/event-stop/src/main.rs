use lambda_runtime::{Error, LambdaEvent, run, service_fn};

fn main() -> Result<(), Error> {
    // The root certificates from the CA bundle (set before any thread starts), then the runtime.
    event_core::roots::run(serve())?
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
