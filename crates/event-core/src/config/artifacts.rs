//! Where a new runner's user data fetches Terraform and the provider mirror (the runner artifacts
//! bucket of `infra/control`), and the sha256 sums it holds them to.

use super::Env;
use crate::error::{Error, Result};

/// The runner artifacts of `infra/control` (`make artifacts` builds them, `artifacts.tf` uploads
/// them): `<prefix>terraform_<version>_linux_amd64.zip` and `<prefix>provider-mirror_linux_amd64.zip`
/// in `bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerArtifacts {
    pub bucket: String,
    /// Key prefix of both objects, `runner/` by default (ends with `/` or is empty).
    pub prefix: String,
    /// sha256 (64 lower-case hex digits) of the Terraform zip.
    pub terraform_sha256: String,
    /// sha256 of the provider mirror zip.
    pub mirror_sha256: String,
}

impl RunnerArtifacts {
    pub(super) fn read(env: &Env) -> Result<Self> {
        let prefix = env
            .optional("EVENT_TIER_RUNNER_ARTIFACTS_PREFIX")
            .unwrap_or_else(|| "runner/".to_owned());
        if !(prefix.is_empty() || prefix.ends_with('/')) || prefix.starts_with('/') {
            return Err(Error::Config(format!(
                "EVENT_TIER_RUNNER_ARTIFACTS_PREFIX must be a key prefix ending with `/` such as runner/, got {prefix:?}"
            )));
        }
        Ok(RunnerArtifacts {
            bucket: env.required("EVENT_TIER_RUNNER_ARTIFACTS_BUCKET")?,
            prefix,
            terraform_sha256: sha256(env, "EVENT_TIER_RUNNER_TERRAFORM_SHA256")?,
            mirror_sha256: sha256(env, "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256")?,
        })
    }

    /// `s3://<bucket>/<prefix>`, to which the user data appends each object's name.
    pub fn url(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }
}

fn sha256(env: &Env, name: &str) -> Result<String> {
    let v = env.required(name)?;
    if v.len() == 64 && v.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(v)
    } else {
        Err(Error::Config(format!(
            "{name} must be a sha256 as `sha256sum` prints it (64 lower-case hex digits)"
        )))
    }
}
