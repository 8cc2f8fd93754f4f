#!/usr/bin/env bash
# Writes a CycloneDX SBOM (JSON, spec 1.5) per function into DIST/<function>.cdx.json (`make
# package`): the crates compiled into its bootstrap, for the Lambda target and features the package
# is built with, from Cargo.lock (cargo-cyclonedx, no build-time dependencies).
#
#   local/sbom.sh DIST TARGET FEATURES FUNCTION...
#
# cargo-cyclonedx writes next to each crate's Cargo.toml; it runs on a copy of the workspace's
# manifests and sources, so that nothing is written into the working tree. Timestamps are the last
# commit's (SOURCE_DATE_EPOCH), so the same commit gives the same SBOM.
set -euo pipefail
dist=$1 target=$2 features=$3
shift 3
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp "$root/Cargo.toml" "$root/Cargo.lock" "$tmp/"
for d in crates tests; do
  (cd "$root" && find "$d" -name target -prune -o -type f -print) | while read -r f; do
    mkdir -p "$tmp/$(dirname "$f")" && cp "$root/$f" "$tmp/$f"
  done
done

SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct) cargo cyclonedx -q \
  --manifest-path "$tmp/Cargo.toml" --format json --spec-version 1.5 --describe binaries \
  --target "$target" --features "$features" --no-build-deps

mkdir -p "$dist"
for f in "$@"; do
  cp "$tmp/crates/$f/${f}_bin.cdx.json" "$dist/$f.cdx.json"
  echo "sbom: $dist/$f.cdx.json"
done
