# The commands people type. `make demo` and `make test` are the two that matter; see README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .local/venv
PY := $(VENV)/bin/python
export TF_CLI_CONFIG_FILE := $(CURDIR)/.local/terraformrc
export CARGO_TERM_COLOR ?= never
# Where cargo puts what it builds: target/, or CARGO_TARGET_DIR (or build.target-dir) when set.
# Expanded only by the targets that run a built binary.
TARGET_DIR = $(shell cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

.PHONY: help simulate setup build release package artifacts sbom-check bench test lint tf-check checkov policy-lint deny local-up local-down slack-samples demo

help:
	@echo "make demo        run a whole sales event's lifecycle on the local stack"
	@echo "make test        every gate and test (what CI runs)"
	@echo "make local-up    start the local stack (moto, sshd runner, Slack sink); settings in .local/env"
	@echo "make local-down  stop it"
	@echo "make slack-samples  sign the Slack request samples in events/ again (5 minutes, once each)"
	@echo "make release     build event-start, event-stop, event-alarm and event-slack (release/ in cargo's target directory)"
	@echo "make package     the functions' Lambda zips and their SBOMs in dist/ (what infra/control deploys), checked"
	@echo "make artifacts   the runners' Terraform and provider mirror zips in dist/artifacts (what infra/control uploads)"
	@echo "make bench       init time, peak RSS, overhead and zip sizes of the packaged functions"
	@echo "make simulate    the deterministic simulation: SEEDS=N seeds (20000), or SEED=n with its trace"
	@echo "make deny        cargo-deny: advisories, licences, duplicate crates, crate sources (part of make lint)"
	@echo "make docs        regenerate the generated tables of the docs (settings, Terraform inputs and outputs)"

setup: .local/terraformrc
	@local/setup.sh

.local/terraformrc:
	@mkdir -p .local
	@printf 'disable_checkpoint = true\nprovider_installation {\n  filesystem_mirror {\n    path    = "/opt/tf-plugins"\n    include = ["registry.terraform.io/*/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n' > $@

# The workspace with its tests, so that no test compiles while it runs against the stack. The tests
# that go through `cargo lambda watch` run the functions of this build (tests/src/watch.rs).
build:
	cargo build --workspace --all-targets

release:
	cargo build --release -p event-start -p event-stop -p event-alarm -p event-slack

# The functions' zips for infra/control (dist/<function>.zip): release builds for Lambda's
# provided.al2023 on x86_64 (zig pins glibc 2.34; OpenSSL is built in), through cargo-auditable
# (the two variables `cargo auditable build` sets, since cargo lambda runs cargo itself: the
# bootstrap carries its dependency list in a `.dep-v0` section that scanners read), with a CycloneDX
# SBOM beside each zip (dist/<function>.cdx.json, local/sbom.sh); then checked: bootstrap present,
# linked to glibc only, starts under a local Lambda Runtime API, at most 8 MiB, its dependency list
# and its SBOM agree with Cargo.lock. Installs the pinned cargo-auditable and cargo-cyclonedx into
# ~/.cargo/bin unless those versions are there.
LAMBDAS := event-start event-stop event-alarm event-slack
CARGO_AUDITABLE_VERSION := 0.7.7
CARGO_CYCLONEDX_VERSION := 0.5.9
LAMBDA_BUILD = RUSTC_WORKSPACE_WRAPPER="$$(command -v cargo-auditable)" \
	CARGO_AUDITABLE_ORIG_ARGS='{"offline":false,"locked":false,"frozen":false,"config":[]}' \
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" cargo lambda build --release \
	  --target x86_64-unknown-linux-gnu.2.34 --features vendored-openssl
package: setup
	@cargo install --list | grep -qx 'cargo-auditable v$(CARGO_AUDITABLE_VERSION):' \
	  || cargo install cargo-auditable --locked --version $(CARGO_AUDITABLE_VERSION)
	@cargo install --list | grep -qx 'cargo-cyclonedx v$(CARGO_CYCLONEDX_VERSION):' \
	  || cargo install cargo-cyclonedx --locked --version $(CARGO_CYCLONEDX_VERSION)
	$(LAMBDA_BUILD) $(addprefix -p ,$(LAMBDAS)) --output-format zip --lambda-dir $(TARGET_DIR)/lambda
	@mkdir -p dist
	@for f in $(LAMBDAS); do cp $(TARGET_DIR)/lambda/$$f/bootstrap.zip dist/$$f.zip; done
	local/sbom.sh dist x86_64-unknown-linux-gnu vendored-openssl $(LAMBDAS)
	$(PY) local/package_check.py --lock Cargo.lock $(foreach f,$(LAMBDAS),dist/$(f).zip)

# The runners' artifacts for infra/control (dist/artifacts/): the pinned Terraform (the `terraform` on
# PATH, which must be 1.11.4) and a provider mirror of exactly what infra/event-tier's lock file pins
# (from /opt/tf-plugins, each provider checked against its h1: hash), as reproducible zips with
# their sha256 sums (local/artifacts.py). Nothing is downloaded.
artifacts:
	python3 local/artifacts.py --out dist/artifacts --mirror $(or $(TF_PLUGINS),/opt/tf-plugins)

# The SBOM half of `make package` without its release build (part of `make lint`): each function's
# CycloneDX SBOM made in a scratch directory and checked against Cargo.lock.
sbom-check: setup
	@cargo install --list | grep -qx 'cargo-cyclonedx v$(CARGO_CYCLONEDX_VERSION):' \
	  || cargo install cargo-cyclonedx --locked --version $(CARGO_CYCLONEDX_VERSION)
	@d=$$(mktemp -d) && local/sbom.sh $$d x86_64-unknown-linux-gnu vendored-openssl $(LAMBDAS) >/dev/null \
	  && $(PY) local/package_check.py --lock Cargo.lock --sbom-only $(foreach f,$(LAMBDAS),$$d/$(f).zip); \
	  rc=$$?; rm -rf $$d; exit $$rc

# Where the packaged functions' time and memory go (local/bench.py): table on stdout, JSON in
# target/bench/bench.json; exits 1 when a target is missed. The floor harness (crates/event-floor)
# is built by the same command as the functions (the three are fresh, only it is built and linked).
bench: package
	$(LAMBDA_BUILD) $(addprefix -p ,$(LAMBDAS)) -p event-floor --lambda-dir $(TARGET_DIR)/bench-lambda
	cargo build -p event-tier-tests --bin concurrency
	BENCH_CONCURRENCY_BIN=$(TARGET_DIR)/debug/concurrency \
	BENCH_FLOOR_BIN=$(TARGET_DIR)/bench-lambda/event-floor/bootstrap \
	  local/with-stack.sh $(PY) local/bench.py

local-up: setup
	@$(PY) local/stack.py up

# Signs the Slack request samples in events/ again (each is good for five minutes, once), with the
# local stack's signing secret: cargo lambda invoke event-slack --data-file events/slack-status.json
slack-samples: setup
	@$(PY) local/slack_samples.py

local-down:
	@if [ -x $(PY) ]; then $(PY) local/stack.py down; fi

# Terraform checks that need no AWS: formatting, validation, native tests with mocked providers.
tf-check: .local/terraformrc
	terraform fmt -check -recursive infra tests/fixtures
	@for m in infra/*/; do \
	  echo "terraform validate + test $$m"; \
	  (cd $$m && terraform init -backend=false -input=false -no-color >/dev/null \
	    && terraform validate -no-color && terraform test -no-color) || exit 1; \
	done

# Static analysis of the Terraform; every skip is inline in the code with its reason.
checkov: setup
	.local/checkov-venv/bin/checkov -d infra --framework terraform --skip-download --compact --quiet

# cargo-deny on Cargo.lock (deny.toml): known vulnerable, unsound or yanked crates (the RustSec
# advisory database, from the git bundle ADVISORY_DB_BUNDLE, cloned by local/advisory-db.sh into
# $CARGO_HOME/advisory-dbs, outside the repository), licences we may ship, no avoidable duplicate
# crates, crates from crates.io only. `cargo fetch` first (crates.io), so that `--offline` finds every
# platform's crates; cargo-deny itself then touches no network.
# Installs the pinned cargo-deny into ~/.cargo/bin unless that version is already there.
CARGO_DENY_VERSION := 0.20.2
ADVISORY_DB_BUNDLE ?= $(CURDIR)/../shared/advisory-db.bundle
deny:
	@cargo deny --version 2>/dev/null | grep -qx 'cargo-deny $(CARGO_DENY_VERSION)' \
	  || cargo install cargo-deny --locked --version $(CARGO_DENY_VERSION)
	@local/advisory-db.sh "$(ADVISORY_DB_BUNDLE)" "$${CARGO_HOME:-$$HOME/.cargo}/advisory-dbs"
	@cargo fetch --quiet
	cargo deny --offline check advisories licenses bans sources

# parliament (pinned, .local/parliament-venv) on every IAM policy document of infra/, rendered by
# Terraform offline (local/policy_lint.py); each finding fixed or suppressed inline with its reason.
policy-lint: setup
	.local/parliament-venv/bin/python local/policy_lint.py

# The docs' generated tables (docs/configuration.md, infra/*/README.md) from config.rs's SETTINGS and
# each module's variables.tf/outputs.tf; the check also fails on a dead relative link, anchor or
# repository path in the pages, and its self-test shows it failing on each (local/docs.py).
.PHONY: docs docs-check
docs: setup
	.local/docs-venv/bin/python local/docs.py generate

docs-check: setup
	.local/docs-venv/bin/python local/docs.py check
	.local/docs-venv/bin/python local/docs.py selftest

lint: docs-check

lint: tf-check checkov policy-lint deny sbom-check
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

test: setup lint build
	local/with-stack.sh cargo nextest run --workspace --no-fail-fast

# The deterministic simulation of deliveries, races and faults (event_core::testing::sim): SEEDS seeds
# from FROM, ending with one line ("20000 seeds, 0 violations, 560 seeds/s"); SEED=n replays one seed
# with its trace. No local stack needed.
SEEDS ?= 20000
FROM ?= 0
simulate:
	cargo build -p event-tier-tests --bin simulate
	$(TARGET_DIR)/debug/simulate $(if $(SEED),--seed $(SEED),--seeds $(SEEDS) --from $(FROM))

# A sales event's lifecycle on the local stack, through cargo lambda; exits 0 only if nothing is left.
demo: setup
	cargo build -p event-tier-tests --bin demo -p event-start -p event-stop -p event-slack
	local/with-stack.sh $(TARGET_DIR)/debug/demo
