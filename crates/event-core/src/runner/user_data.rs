//! The runner's user data (`runner-user-data.sh`), rendered with a runner's settings.

use super::{TERRAFORM_VERSION, shell_quote};
use crate::config::RunnerConfig;
use crate::payload::EventId;

/// The name of the Terraform zip among the runner artifacts (`local/artifacts.py` makes it).
pub fn terraform_zip() -> String {
    format!("terraform_{TERRAFORM_VERSION}_linux_amd64.zip")
}

/// The name of the provider mirror zip among the runner artifacts.
pub const MIRROR_ZIP: &str = "provider-mirror_linux_amd64.zip";

/// The runner's user data: installs Terraform and the provider mirror from the runner artifacts
/// (their sha256 checked), installs the pinned SSH host key from Secrets Manager, prepares the work
/// directory and marks the runner ready. Every value is shell-quoted.
pub fn user_data(config: &RunnerConfig, region: &str, event: &EventId) -> String {
    let artifacts = &config.artifacts;
    include_str!("../runner-user-data.sh")
        .replace("@EVENT_ID@", event.as_str())
        .replace("@REGION@", &shell_quote(region))
        .replace("@WORKDIR@", &shell_quote(&config.workdir))
        .replace("@TERRAFORM_VERSION@", &shell_quote(TERRAFORM_VERSION))
        .replace(
            "@HOST_KEY_SECRET@",
            &shell_quote(config.host_key_secret.as_deref().unwrap_or("")),
        )
        .replace(
            "@LOG_GROUP@",
            &shell_quote(config.log_group.as_deref().unwrap_or("")),
        )
        .replace("@ARTIFACTS@", &shell_quote(&artifacts.url()))
        .replace("@TERRAFORM_ZIP@", &shell_quote(&terraform_zip()))
        .replace(
            "@TERRAFORM_SHA256@",
            &shell_quote(&artifacts.terraform_sha256),
        )
        .replace("@MIRROR_ZIP@", &shell_quote(MIRROR_ZIP))
        .replace("@MIRROR_SHA256@", &shell_quote(&artifacts.mirror_sha256))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn config() -> RunnerConfig {
        let vars = [
            ("EVENT_TIER_STATE_BUCKET", "state"),
            ("EVENT_TIER_RUNNER_KEY_SECRET_ARN", "key"),
            ("EVENT_TIER_SLACK_WEBHOOK_SECRET_ARN", "hook"),
            ("EVENT_TIER_RUNNER_SUBNET_IDS", "subnet-1"),
            ("EVENT_TIER_RUNNER_SECURITY_GROUP_ID", "sg-1"),
            ("EVENT_TIER_RUNNER_INSTANCE_PROFILE", "runner"),
            (
                "EVENT_TIER_RUNNER_HOST_KEY_SHA256",
                "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
            ),
            ("EVENT_TIER_RUNNER_ARTIFACTS_BUCKET", "shop-artifacts"),
            (
                "EVENT_TIER_RUNNER_TERRAFORM_SHA256",
                "e628369df4162d98aa541fccd1351cf898b2346458319883ec296c42bc6ac093",
            ),
            (
                "EVENT_TIER_RUNNER_PROVIDER_MIRROR_SHA256",
                "f01cb9e944a2d0b9645d163b3611edce488e19b9693203cfd2583cd0664f06cb",
            ),
        ];
        let vars = vars.map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        Config::from_vars(vars).unwrap().runner
    }

    #[test]
    fn user_data_installs_terraform_and_the_mirror_from_the_artifacts_only() {
        let event = EventId::parse("winter-sale-2026").unwrap();
        let script = user_data(&config(), "eu-west-1", &event);
        assert!(
            !script.contains('@'),
            "every placeholder is filled: {script}"
        );
        for line in [
            "artifacts='s3://shop-artifacts/runner/'\n",
            "terraform_zip='terraform_1.11.4_linux_amd64.zip'\n",
            "terraform_sha256='e628369df4162d98aa541fccd1351cf898b2346458319883ec296c42bc6ac093'\n",
            "mirror_zip='provider-mirror_linux_amd64.zip'\n",
            "terraform_version='1.11.4'\n",
            "region='eu-west-1'\n",
        ] {
            assert!(script.contains(line), "{line}");
        }
        assert!(script.contains("sha256sum --check --strict"));
        // Nothing from HashiCorp or the registry: the mirror only, the registry excluded.
        assert!(!script.contains("hashicorp.com") && !script.contains("config-manager"));
        assert!(script.contains("exclude = [\"registry.terraform.io/*/*\"]"));
        assert!(script.contains("plugin_cache_dir"));
    }

    #[test]
    fn user_data_steps_run_in_order_and_each_exists() {
        let script = user_data(&config(), "eu-west-1", &EventId::parse("e").unwrap());
        let steps: Vec<&str> = script
            .lines()
            .filter_map(|l| l.strip_prefix("step "))
            .collect();
        assert_eq!(
            steps,
            [
                "install_packages",
                "fetch_artifacts",
                "install_terraform",
                "install_provider_mirror",
                "install_host_key",
                "restart_sshd",
                "prepare_workdir",
                "install_cloudwatch_agent",
                "write_profile",
                "mark_ready",
            ]
        );
        for s in steps {
            assert!(script.contains(&format!("\n{s}() {{\n")), "{s} is defined");
        }
    }
}
