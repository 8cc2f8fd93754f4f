#!/bin/bash
# User data of an event-tier Terraform runner (event @EVENT_ID@), on Amazon Linux 2023.
# Installs Terraform and the provider mirror from the account's runner artifacts bucket (checked
# against the sha256 sums below; nothing comes from HashiCorp or the Terraform registry), installs
# the pinned SSH host key, ships the runs' Terraform output to CloudWatch Logs, prepares the work
# directory, marks ready.
#
# Each step is a function. The local stack runs this same script (local/user-data.sh) with
# EVENT_TIER_USER_DATA_ROOT (a directory standing for /), EVENT_TIER_USER_DATA_USER (the runner's
# user) and EVENT_TIER_USER_DATA_SKIP (the steps only Amazon Linux has) set; on a runner all three
# are unset (local/EMULATOR-GAPS.md lists what the local run skips).
set -euo pipefail

region=@REGION@
workdir=@WORKDIR@
host_key_secret=@HOST_KEY_SECRET@
log_group=@LOG_GROUP@
artifacts=@ARTIFACTS@
terraform_zip=@TERRAFORM_ZIP@
terraform_sha256=@TERRAFORM_SHA256@
mirror_zip=@MIRROR_ZIP@
mirror_sha256=@MIRROR_SHA256@
terraform_version=@TERRAFORM_VERSION@

root=${EVENT_TIER_USER_DATA_ROOT:-}
user=${EVENT_TIER_USER_DATA_USER:-ec2-user}
skip=" ${EVENT_TIER_USER_DATA_SKIP:-} "
mkdir -p "$root/var/log"
exec > >(tee "$root/var/log/event-tier-runner.log") 2>&1

step() {
  if [[ $skip == *" $1 "* ]]; then
    echo "user data: $1 skipped"
  else
    echo "user data: $1"
    "$1"
  fi
}

install_packages() {
  # flock for the run protocol, unzip for the artifacts (the AWS CLI is part of the AMI).
  dnf install -y -q util-linux unzip
}

fetch_artifacts() {
  download=$(mktemp -d)
  aws --region "$region" s3 cp --only-show-errors "$artifacts$terraform_zip" "$download/$terraform_zip"
  aws --region "$region" s3 cp --only-show-errors "$artifacts$mirror_zip" "$download/$mirror_zip"
  if ! printf '%s  %s\n%s  %s\n' "$terraform_sha256" "$download/$terraform_zip" \
      "$mirror_sha256" "$download/$mirror_zip" | sha256sum --check --strict; then
    echo "user data: an artifact from $artifacts does not match its pinned sha256: not installed" >&2
    exit 1
  fi
}

install_terraform() {
  install -d "$root/usr/local/bin"
  unzip -o -q "$download/$terraform_zip" terraform -d "$root/usr/local/bin"
  # Read whole before matching: `terraform version | grep -q` fails now and then under pipefail,
  # when grep exits at the first line and terraform's second line meets a closed pipe (SIGPIPE, 141).
  local version
  version=$("$root/usr/local/bin/terraform" version)
  grep -qx "Terraform v$terraform_version" <<<"$version"
}

# Every run's `terraform init` installs providers from this mirror only: `direct` excludes the
# registry, so a provider that is not in the mirror fails init instead of being downloaded.
install_provider_mirror() {
  install -d "$root/opt/event-tier/providers" "$root/etc/event-tier"
  unzip -o -q "$download/$mirror_zip" -d "$root/opt/event-tier/providers"
  install -d -o "$user" -m 0750 "$root/var/cache/event-tier/plugins"
  cat > "$root/etc/event-tier/terraformrc" <<TFRC
disable_checkpoint = true
plugin_cache_dir   = "$root/var/cache/event-tier/plugins"
provider_installation {
  filesystem_mirror {
    path    = "$root/opt/event-tier/providers"
    include = ["registry.terraform.io/*/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
TFRC
  rm -rf "$download"
}

# The host key the functions pin (EVENT_TIER_RUNNER_HOST_KEY_SHA256). Only this instance's role may
# read it, so a host presenting it is this runner.
install_host_key() {
  [ -n "$host_key_secret" ] || return 0
  install -d "$root/etc/ssh"
  (
    umask 077
    aws --region "$region" secretsmanager get-secret-value --secret-id "$host_key_secret" \
      --query SecretString --output text > "$root/etc/ssh/ssh_host_ed25519_key.new"
  )
  mv "$root/etc/ssh/ssh_host_ed25519_key.new" "$root/etc/ssh/ssh_host_ed25519_key"
  ssh-keygen -y -f "$root/etc/ssh/ssh_host_ed25519_key" > "$root/etc/ssh/ssh_host_ed25519_key.pub"
  rm -f "$root"/etc/ssh/ssh_host_rsa_key* "$root"/etc/ssh/ssh_host_ecdsa_key*
}

restart_sshd() {
  [ -n "$host_key_secret" ] || return 0
  systemctl restart sshd
}

prepare_workdir() {
  install -d -o "$user" -m 0750 "$workdir"
}

# Each run's output (<workdir>/<event>/runs/<run-id>/log, runner-protocol.sh) goes to the platform's
# runner log group (EVENT_TIER_RUNNER_LOG_GROUP), stream <event>/<instance id>, through the
# CloudWatch agent (the instance profile may write to that group only). Runs of an event are serial
# (flock), so the newest log the pattern matches is the one being written.
install_cloudwatch_agent() {
  [ -n "$log_group" ] || return 0
  dnf install -y -q amazon-cloudwatch-agent
  cat > /opt/aws/amazon-cloudwatch-agent/etc/event-tier.json <<AGENT
{
  "agent": { "run_as_user": "root" },
  "logs": {
    "logs_collected": {
      "files": {
        "collect_list": [
          {
            "file_path": "$workdir/@EVENT_ID@/runs/*/log",
            "log_group_name": "$log_group",
            "log_stream_name": "@EVENT_ID@/{instance_id}",
            "timezone": "UTC"
          }
        ]
      }
    }
  }
}
AGENT
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
    -c file:/opt/aws/amazon-cloudwatch-agent/etc/event-tier.json
}

# What every run sources (runner-protocol.sh): the region, the Terraform CLI config, the PATH.
write_profile() {
  install -d "$root/etc/profile.d"
  cat > "$root/etc/profile.d/event-tier.sh" <<PROFILE
export AWS_REGION=$region
export TF_IN_AUTOMATION=1
export CHECKPOINT_DISABLE=1
export TF_CLI_CONFIG_FILE=$root/etc/event-tier/terraformrc
export PATH=$root/usr/local/bin:\$PATH
PROFILE
}

mark_ready() {
  touch "$workdir/.ready"
}

step install_packages
step fetch_artifacts
step install_terraform
step install_provider_mirror
step install_host_key
step restart_sshd
step prepare_workdir
step install_cloudwatch_agent
step write_profile
step mark_ready
