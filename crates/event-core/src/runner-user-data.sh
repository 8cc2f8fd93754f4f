#!/bin/bash
# User data of an event-tier Terraform runner (event @EVENT_ID@), on Amazon Linux 2023.
# Installs Terraform, installs the pinned SSH host key, prepares the work directory, marks ready.
set -euo pipefail
exec > >(tee /var/log/event-tier-runner.log) 2>&1

region=@REGION@
workdir=@WORKDIR@
host_key_secret=@HOST_KEY_SECRET@

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
cat > /etc/profile.d/event-tier.sh <<PROFILE
export AWS_REGION=$region
export TF_IN_AUTOMATION=1
PROFILE
touch "$workdir/.ready"
