#!/usr/bin/env bash
# Installs what the local stack needs, idempotently: Debian's openssh-server (the runner), unzip (its
# user data unpacks the runner artifacts) and a
# Python virtualenv with the pinned tools of local/requirements.txt (moto, cargo-lambda); checkov and
# parliament in virtualenvs of their own.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.local/venv"

if ! [ -x /usr/sbin/sshd ] || ! command -v flock >/dev/null || ! command -v unzip >/dev/null \
  || ! command -v strace >/dev/null; then
  echo "setup: installing openssh-server, util-linux, unzip, strace"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openssh-server openssh-client util-linux unzip strace >/dev/null
fi

install_venv() { # venv requirements-file
  local venv=$1 req=$2 stamp="$1/.requirements.sha256" want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: installing $req into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
}

install_venv "$venv" "$root/local/requirements.txt"
install_venv "$root/.local/checkov-venv" "$root/local/requirements-checkov.txt"
install_venv "$root/.local/parliament-venv" "$root/local/requirements-parliament.txt"
install_venv "$root/.local/docs-venv" "$root/local/requirements-docs.txt"
