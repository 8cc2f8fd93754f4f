#!/usr/bin/env bash
# Runs a command with the local stack up and its settings in the environment, then stops the stack,
# whatever the command's outcome (also on Ctrl-C). Exits with the command's status.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.local/venv/bin/python"
# A stack that is already up (make local-up) is used and left up; one started here is stopped here.
if "$py" "$root/local/stack.py" status >/dev/null 2>&1; then
  echo "using the local stack that is already up (make local-down stops it)"
else
  "$py" "$root/local/stack.py" up || exit 1
  stop() { "$py" "$root/local/stack.py" down >/dev/null; }
  trap stop EXIT
fi
trap 'exit 130' INT TERM
set -a
# shellcheck disable=SC1091
. "$root/.local/env"
set +a
"$@"
