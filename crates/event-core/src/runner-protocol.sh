#!/bin/bash
# The runner side of event-tier: starts a detached Terraform run and reports on it.
# Uploaded by the functions for each run, as <workdir>/<event>/runs/<run-id>/runner.sh beside the
# run's own copy of the module; every argument is a validated id, never free text.
#
#   runner.sh start <apply|destroy|plan> <run-id>
#                                             prints "started <run-id>", or "busy <run-id>" when a run
#                                             of this event holds the lock, or "retired" once a stop
#                                             retired the runner (it is about to be terminated)
#   runner.sh poll <run-id> <offset> [wait]   prints one status line, then the run's log from <offset>;
#                                             with [wait] (whole seconds, at most 60) it first waits up
#                                             to that long for a running run to end (a long poll: the
#                                             end is seen at once, not at the next poll)
#   runner.sh exec <apply|destroy|plan> <run-id>
#                                             the detached run itself (internal); a plan (the
#                                             rehearsal) takes no state lock, changes nothing and
#                                             leaves `terraform show -json` of itself in plan.json
set -u
run_dir=$(cd "$(dirname "$0")" && pwd)
here=$(cd "$run_dir/../.." && pwd)   # the event's directory: its lock, and which run holds it
[ -r /etc/profile.d/event-tier.sh ] && . /etc/profile.d/event-tier.sh

case "${1:-}" in
start)
  action=$2 run=$3
  exec 9>>"$here/lock"
  if ! flock -n 9; then
    echo "busy $(cat "$here/current" 2>/dev/null || echo unknown)"
    exit 0
  fi
  if [ -e "$here/retired" ]; then
    echo "retired"
    exit 0
  fi
  mkdir -p "$here/runs/$run"
  echo "$run" > "$here/current"
  echo "$action" > "$here/runs/$run/action"
  echo "queued" > "$here/runs/$run/stage"
  # The child inherits fd 9 and with it the lock, which it holds until it ends.
  setsid nohup bash "$run_dir/runner.sh" exec "$action" "$run" </dev/null >"$here/runs/$run/log" 2>&1 &
  echo "started $run"
  ;;
exec)
  action=$2 run=$3 dir="$here/runs/$3"
  export TF_IN_AUTOMATION=1 TF_INPUT=0
  cd "$run_dir/module" || exit 1
  # Each stage and when it began (ns), for the stages' times in the poll's answer.
  stage() { echo "$1" > "$dir/stage"; echo "$1 $(date +%s%N)" >> "$dir/stages"; echo "== event-tier: $1"; }
  # A Terraform command that takes the state lock. A lock left by a run of this runner that was
  # killed (this run holds the event's lock here, so no other run of it is alive on this runner) is
  # broken once; one held elsewhere is named, with what to do (docs/runbook.md, stale state lock).
  tf() {
    local rc=0 id who
    terraform "$@" 2>&1 | tee "$dir/tf.out"
    rc=${PIPESTATUS[0]}
    grep -q 'Error acquiring the state lock' "$dir/tf.out" || return "$rc"
    id=$(sed -n 's/^[^A-Za-z]*ID: *\([0-9a-f-]*\).*/\1/p' "$dir/tf.out" | head -n 1)
    who=$(sed -n 's/^[^A-Za-z]*Who: *\([^ ]*\).*/\1/p' "$dir/tf.out" | head -n 1)
    if [ -n "$id" ] && [ "$who" = "$(id -un)@$(hostname)" ]; then
      echo "== event-tier: breaking state lock $id, left by a killed run of this runner ($who)"
      terraform force-unlock -force "$id" || return "$rc"
      terraform "$@"
      return $?
    fi
    echo "== event-tier: the state is locked by $who (lock $id); if no run of this event is alive there, unlock it and run again (docs/runbook.md: stale state lock)"
    return "$rc"
  }
  code=0
  date +%s%N > "$dir/started_ns"
  stage init
  # Inits on one runner take turns: Terraform's plugin cache "is not guaranteed to be concurrency
  # safe" (CLI configuration docs, plugin_cache_dir), and two inits of different events sharing a
  # runner raced there ("mkdir .../linux_amd64: file exists"). On AWS a runner serves one event,
  # whose runs already take turns (the event's lock), so this costs nothing there.
  flock "$here/../.init.lock" terraform init -input=false -no-color -reconfigure -backend-config=backend.hcl || code=$?
  if [ "$code" -eq 0 ]; then
    case "$action" in
    apply)
      stage plan
      pc=0
      tf plan -input=false -no-color -detailed-exitcode -out=tfplan || pc=$?
      case "$pc" in
      0) touch "$dir/nochange" ;;
      2) stage apply; tf apply -input=false -no-color -auto-approve tfplan || code=$? ;;
      *) code=$pc ;;
      esac
      ;;
    destroy)
      stage destroy
      tf destroy -input=false -no-color -auto-approve || code=$?
      ;;
    plan)
      stage plan
      terraform plan -input=false -no-color -lock=false -out=tfplan || code=$?
      if [ "$code" -eq 0 ]; then
        # Owner-only, and never in the log: a plan holds the variables' values.
        (umask 077 && terraform show -json tfplan > "$dir/plan.json") || code=$?
      fi
      ;;
    *) echo "unknown action $action"; code=2 ;;
    esac
  fi
  date +%s%N > "$dir/ended_ns"
  echo "$code" > "$dir/exit.tmp" && mv "$dir/exit.tmp" "$dir/exit"
  echo "== event-tier: done, exit $code"
  ;;
poll)
  run=$2 off=$3 max_wait=${4:-0} dir="$here/runs/$2"
  if [ ! -d "$dir" ]; then
    echo "state=unknown"
    exit 0
  fi
  [ "$max_wait" -le 60 ] 2>/dev/null || max_wait=0
  # The run holds the event's lock until it ends: waiting for the lock is waiting for the end.
  if [ "$max_wait" -gt 0 ] && [ ! -f "$dir/exit" ] && [ "$(cat "$here/current" 2>/dev/null)" = "$run" ]; then
    flock -s -w "$max_wait" "$here/lock" true 2>/dev/null || true
  fi
  stage=$(cat "$dir/stage" 2>/dev/null || echo unknown)
  changes=yes; [ -e "$dir/nochange" ] && changes=no
  took=""
  if [ -f "$dir/started_ns" ] && [ -f "$dir/ended_ns" ]; then
    took=" took_ms=$((($(cat "$dir/ended_ns") - $(cat "$dir/started_ns")) / 1000000)) ended_ms=$(($(cat "$dir/ended_ns") / 1000000))"
    # stages=init:1200,plan:5400,apply:61000: each stage's time, to the next one or the end (ms).
    [ -f "$dir/stages" ] && took="$took stages=$(awk -v end="$(cat "$dir/ended_ns")" \
      '{ n[NR] = $1; t[NR] = $2 } END { for (i = 1; i <= NR; i++) { e = (i < NR) ? t[i + 1] : end; printf "%s%s:%d", (i > 1 ? "," : ""), n[i], (e - t[i]) / 1000000 } }' "$dir/stages")"
  fi
  if [ -f "$dir/exit" ]; then
    echo "state=done exit=$(cat "$dir/exit") stage=$stage changes=$changes$took"
  elif [ "$(cat "$here/current" 2>/dev/null)" = "$run" ] && ! flock -n "$here/lock" true; then
    echo "state=running stage=$stage"
  elif [ -f "$dir/exit" ]; then
    echo "state=done exit=$(cat "$dir/exit") stage=$stage changes=$changes$took"
  else
    echo "state=lost stage=$stage"
  fi
  tail -c +"$((off + 1))" "$dir/log" 2>/dev/null | head -c 262144
  ;;
*)
  echo "usage: runner.sh start|poll|exec ..." >&2
  exit 2
  ;;
esac
