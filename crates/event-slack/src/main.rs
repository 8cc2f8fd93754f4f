use lambda_runtime::{Error, LambdaEvent, run, service_fn};

fn main() -> Result<(), Error> {
    // The root certificates from the CA bundle (set before any thread starts), then the runtime.
    event_core::roots::run(serve())?
}

async fn serve() -> Result<(), Error> {
    let timings = event_core::timing::init_logging();
    let config = event_core::Config::from_env()?;
    let deps = event_core::Deps::from_config(config).await?;
    let app = event_core::commands::App::from_deps(&deps)?;
    let app = &app;
    run(service_fn(|event: LambdaEvent<serde_json::Value>| {
        let timings = timings.clone();
        async move {
            let started = std::time::Instant::now();
            let result = event_slack::dispatch(event, app).await;
            timings.log_invocation(started.elapsed());
            result
        }
    }))
    .await
}
