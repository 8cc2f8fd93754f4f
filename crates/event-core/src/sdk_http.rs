//! One HTTPS client for all of a function's AWS service clients.
//!
//! Left to itself, each service client (`aws_sdk_ec2::Client::new(&sdk)`, and so on for S3, SSM,
//! Secrets Manager, DMS, the tagging API and the scheduler) makes its own default HTTPS client, and
//! each of those builds its connector, with a root store parsed from the platform's certificates,
//! twice: once when the service client is made (`validate_base_client_config`, so that the
//! certificates load at init) and again at its first request (the connector cache is filled only
//! there). A function made seven service clients, so seven root stores at init and one more at the
//! first call to each service, and kept one connection pool per service.
//!
//! The SDK's documented answer is one client shared through the `SdkConfig`
//! (`aws_config::ConfigLoader::http_client`, "share a Hyper connector between multiple generated
//! Smithy clients" in `aws_smithy_http_client::Builder`). [`shared`] builds exactly the SDK's
//! default client (`aws_smithy_runtime::client::http::default_https_client` of the pinned
//! `aws-smithy-runtime`: rustls with aws-lc, the proxy settings from the environment) and makes its
//! start-up check run once however many service clients share it.

use std::sync::Once;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;

/// The SDK's default HTTPS client, to be shared by every service client of the process.
pub fn shared() -> SharedHttpClient {
    let inner = Builder::new().build_with_connector_fn(|settings, components| {
        let mut b =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        b.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            b.set_sleep_impl(components.sleep_impl());
        }
        b.set_proxy_config(Some(ProxyConfig::from_env()));
        b.build()
    });
    SharedHttpClient::new(ValidatedOnce::new(inner))
}

/// An HTTP client whose start-up check runs for the first service client only: the others share
/// what it loaded. Requests go to the inner client, whose connector cache all of them share.
#[derive(Debug)]
struct ValidatedOnce {
    inner: SharedHttpClient,
    validated: Once,
}

impl ValidatedOnce {
    fn new(inner: SharedHttpClient) -> Self {
        Self {
            inner,
            validated: Once::new(),
        }
    }
}

impl HttpClient for ValidatedOnce {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.inner.http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        let mut result = Ok(());
        self.validated.call_once(|| {
            result = self.inner.validate_base_client_config(components, cfg);
        });
        result
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::http::{HttpConnector, HttpConnectorFuture};
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts the start-up checks and the connectors asked for.
    #[derive(Debug, Default)]
    struct Counting {
        validations: AtomicUsize,
        connectors: AtomicUsize,
    }

    #[derive(Debug)]
    struct Refuse;
    impl HttpConnector for Refuse {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            HttpConnectorFuture::ready(Err(
                aws_smithy_runtime_api::client::result::ConnectorError::other(
                    "no traffic in this test".into(),
                    None,
                ),
            ))
        }
    }

    #[derive(Debug)]
    struct CountingClient(Arc<Counting>);

    impl HttpClient for CountingClient {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.0.connectors.fetch_add(1, Ordering::SeqCst);
            SharedHttpConnector::new(Refuse)
        }
        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.0.validations.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn seven_service_clients_check_the_shared_client_once() {
        let counting = Arc::new(Counting::default());
        let inner = SharedHttpClient::new(CountingClient(counting.clone()));
        let http = SharedHttpClient::new(ValidatedOnce::new(inner));
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ec2::config::SharedCredentialsProvider::new(
                aws_sdk_ec2::config::Credentials::new("AKIDTEST", "test", None, None, "test"),
            ))
            .http_client(http)
            .build();
        let ec2 = aws_sdk_ec2::Client::new(&sdk);
        let _ = aws_sdk_s3::Client::new(&sdk);
        let _ = aws_sdk_ssm::Client::new(&sdk);
        let _ = aws_sdk_secretsmanager::Client::new(&sdk);
        let _ = aws_sdk_databasemigration::Client::new(&sdk);
        let _ = aws_sdk_resourcegroupstagging::Client::new(&sdk);
        let _ = aws_sdk_scheduler::Client::new(&sdk);
        assert_eq!(counting.validations.load(Ordering::SeqCst), 1);

        // Requests still reach the shared client (this one refuses them).
        let err = ec2.describe_instances().send().await.unwrap_err();
        assert!(counting.connectors.load(Ordering::SeqCst) >= 1, "{err:?}");
    }
}
