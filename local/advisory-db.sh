#!/usr/bin/env bash
# Puts the RustSec advisory database where cargo-deny reads it offline, from the git bundle beside
# the repository (../shared/advisory-db.bundle), and prints its date and age.
#
#   local/advisory-db.sh BUNDLE DB_ROOT
#
# DB_ROOT is deny.toml's [advisories] db-path ($CARGO_HOME/advisory-dbs, outside the repository).
# The clone lives in DB_ROOT/advisory-db-3157b0e258782691, the directory name cargo-deny derives
# from https://github.com/rustsec/advisory-db. It is cloned again when it is missing or its commit
# is older than the bundle's. Past 180 days of age it warns; it never fails for age, because only a
# person can refresh the bundle (docs/security.md says how).
set -euo pipefail
bundle=$1
root=$2
db="$root/advisory-db-3157b0e258782691"
warn_days=${ADVISORY_DB_WARN_DAYS:-180}

if ! [ -f "$bundle" ]; then
  echo "advisory-db: no bundle at $bundle (set ADVISORY_DB_BUNDLE to the RustSec advisory-db git bundle)" >&2
  exit 1
fi

bundle_head=$(git bundle list-heads "$bundle" | awk 'NR == 1 {print $1}')
have_head=$(git -C "$db" rev-parse -q --verify HEAD 2>/dev/null || true)

if [ "$have_head" != "$bundle_head" ]; then
  mkdir -p "$root"
  tmp=$(mktemp -d "$root/.clone.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  git clone -q "$bundle" "$tmp/db" 2>/dev/null
  new_date=$(git -C "$tmp/db" log -1 --format=%ct)
  old_date=$(git -C "$db" log -1 --format=%ct 2>/dev/null || echo 0)
  if [ "$new_date" -gt "$old_date" ] || [ -z "$have_head" ]; then
    rm -rf "$db"
    mv "$tmp/db" "$db"
    echo "advisory-db: cloned $bundle into $db"
  else
    echo "advisory-db: kept $db (its commit is not older than the bundle's)"
  fi
fi

commit_date=$(git -C "$db" log -1 --format=%cI)
age_days=$(( ($(date +%s) - $(git -C "$db" log -1 --format=%ct)) / 86400 ))
echo "advisory-db: commit $(git -C "$db" rev-parse --short=12 HEAD) of $commit_date, $age_days days old"
if [ "$age_days" -gt "$warn_days" ]; then
  echo "advisory-db: WARNING: the database is $age_days days old (over $warn_days): advisories published since $commit_date are not checked; refresh the bundle (docs/security.md)" >&2
fi
