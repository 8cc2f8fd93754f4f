#!/usr/bin/env bash
# Runs a rendered runner user data (crates/event-core/src/runner-user-data.sh) on this machine, as
# the local stack's runner: the same script as on EC2, with what only Amazon Linux has left out.
#
#   local/user-data.sh SCRIPT ROOT
#
# ROOT stands for the runner's / (/etc, /usr/local, /opt, /var are written under it); the runner's
# user is this user; the steps in SKIP below are not run (local/EMULATOR-GAPS.md says why). The AWS
# CLI is the local stack's (.local/venv), talking to AWS_ENDPOINT_URL with the credentials of the
# environment, as a runner's instance profile would give them. Exits with the script's status.
set -euo pipefail
root_dir=$(cd "$(dirname "$0")/.." && pwd)
script=$1 root=$2
mkdir -p "$root"
export EVENT_TIER_USER_DATA_ROOT
EVENT_TIER_USER_DATA_ROOT=$(cd "$root" && pwd)
export EVENT_TIER_USER_DATA_USER
EVENT_TIER_USER_DATA_USER=$(id -un)
# dnf (packages), systemd (sshd's restart: the stack starts sshd after this run), the CloudWatch agent.
export EVENT_TIER_USER_DATA_SKIP="install_packages restart_sshd install_cloudwatch_agent"
export PATH="$root_dir/.local/venv/bin:$PATH"
: "${AWS_ENDPOINT_URL:?must be the AWS endpoint of the local stack}"
exec bash "$script"
