#!/bin/bash
# User data of an event-tier Terraform runner (event @EVENT_ID@), on Amazon Linux 2023.
# Installs Terraform, installs the pinned SSH host key, ships the runs' Terraform output to CloudWatch
# Logs, prepares the work directory, marks ready.
set -euo pipefail
exec > >(tee /var/log/event-tier-runner.log) 2>&1

region=@REGION@
workdir=@WORKDIR@
host_key_secret=@HOST_KEY_SECRET@
log_group=@LOG_GROUP@

dnf install -y -q dnf-plugins-core util-linux
dnf config-manager --add-repo https://rpm.releases.hashicorp.com/AmazonLinux/hashicorp.repo
dnf install -y -q "terraform-@TERRAFORM_VERSION@*"

# The host key the functions pin (EVENT_TIER_RUNNER_HOST_KEY_SHA256). Only this instance's role may
# read it, so a host presenting it is this runner.
if [ -n "$host_key_secret" ]; then
  umask 077
  aws --region "$region" secretsmanager get-secret-value --secret-id "$host_key_secret" \
    --query SecretString --output text > /etc/ssh/ssh_host_ed25519_key.new
  mv /etc/ssh/ssh_host_ed25519_key.new /etc/ssh/ssh_host_ed25519_key
  ssh-keygen -y -f /etc/ssh/ssh_host_ed25519_key > /etc/ssh/ssh_host_ed25519_key.pub
  rm -f /etc/ssh/ssh_host_rsa_key* /etc/ssh/ssh_host_ecdsa_key*
  systemctl restart sshd
fi

install -d -o ec2-user -g ec2-user -m 0750 "$workdir"

# Each run's output (<workdir>/<event>/runs/<run-id>/log, runner-protocol.sh) goes to the platform's
# runner log group (EVENT_TIER_RUNNER_LOG_GROUP), stream <event>/<instance id>, through the
# CloudWatch agent (the instance profile may write to that group only). Runs of an event are serial
# (flock), so the newest log the pattern matches is the one being written.
if [ -n "$log_group" ]; then
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
fi
cat > /etc/profile.d/event-tier.sh <<PROFILE
export AWS_REGION=$region
export TF_IN_AUTOMATION=1
PROFILE
touch "$workdir/.ready"
