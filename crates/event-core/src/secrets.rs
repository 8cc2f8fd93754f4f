//! Secrets from Secrets Manager. Values live in `SecretString` and are never printed; errors name the
//! secret, never its content.

use async_trait::async_trait;
use secrecy::SecretString;

use crate::error::{Error, Result};

#[async_trait]
pub trait Secrets: Send + Sync {
    async fn get(&self, secret_id: &str) -> Result<SecretString>;
}

pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
}

impl SecretsManager {
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self { client }
    }
}

#[async_trait]
impl Secrets for SecretsManager {
    async fn get(&self, secret_id: &str) -> Result<SecretString> {
        use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
        let out = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| {
                let not_found = e.code() == Some("ResourceNotFoundException");
                let err = crate::error::aws("secretsmanager", "GetSecretValue", e);
                if not_found {
                    Error::Secret {
                        name: secret_id.to_owned(),
                        reason: "does not exist".into(),
                    }
                } else {
                    err
                }
            })?;
        match out.secret_string() {
            Some(s) if !s.trim().is_empty() => Ok(SecretString::from(s.to_owned())),
            _ => Err(Error::Secret {
                name: secret_id.to_owned(),
                reason: "has no string value".into(),
            }),
        }
    }
}
