#!/usr/bin/env bash
# Runs a command with the local stack up and its settings in the environment, then stops the stack,
# whatever the command's outcome (also on Ctrl-C). Exits with the command's status.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.local/venv/bin/python"
"$py" "$root/local/stack.py" up || exit 1
stop() { "$py" "$root/local/stack.py" down >/dev/null; }
trap stop EXIT
trap 'exit 130' INT TERM
set -a
# shellcheck disable=SC1091
. "$root/.local/env"
set +a
"$@"
