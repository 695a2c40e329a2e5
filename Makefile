# Rampart — the two commands of the README, and a few more.
# Tools (the wasm-bindgen CLI, wasm-opt, chromium, npm and PyPI test packages) are installed by
# scripts/install-tools.sh into $(TOOLS), outside the clone. The site (wasm, css) is built by
# scripts/build-site.sh, in place of cargo-leptos (README, "Building without cargo-leptos").

TOOLS ?= $(HOME)/.cache/rampart-tools
export PATH := $(TOOLS)/bin:$(TOOLS)/node_modules/.bin:$(PATH)
TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
export RAMPART_TEST_POSTGRES_URL ?= $(PG_URL)

.PHONY: run test tools build-tools build server site release lint test-server test-e2e bench clean-test-schemas

## Start Rampart on SQLite (data/) with the console at http://127.0.0.1:3000/console
run: build
	LEPTOS_SITE_ROOT=$(CURDIR)/target/site $(TARGET_DIR)/debug/rampart serve

## Every test: formatting, lints, unit + store (SQLite and PostgreSQL) + API, browser tests
test: tools lint test-server test-e2e

# What building needs (wasm target, wasm-bindgen, wasm-opt); `tools` adds what testing needs.
build-tools:
	@bash scripts/install-tools.sh build
tools:
	@bash scripts/install-tools.sh

## The server binary and the site it serves (target/site). The server compiles while the tools
## install (a first build: the wasm-bindgen CLI beside the server, then the wasm).
build:
	@$(MAKE) --no-print-directory -j2 server site

server:
	@echo "[build] compiling the server (a first build takes about 8 minutes on two cores)"
	cargo build -p server --bin rampart

site: build-tools
	@bash scripts/build-site.sh

release: build-tools
	cargo build --release -p server --bin rampart
	@bash scripts/build-site.sh --release

lint:
	cargo fmt --all --check
	cargo clippy-server -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

test-server: clean-test-schemas
	cargo test-server

# The browser tests run the binary that the API tests ran (`cargo test-server` builds it with
# the same features), so the server is compiled once per `make test`.
test-e2e: site
	cargo test-server --no-run -q
	cd end2end && RAMPART_BIN=$(TARGET_DIR)/debug/rampart LEPTOS_SITE_ROOT=$(CURDIR)/target/site npx playwright test

## Benchmarks (bench/): release build, then every scenario on SQLite and PostgreSQL, printed as
## tables and saved under bench/results/. Shorter: make bench BENCH_ARGS="--duration 3 --small-only"
bench:
	@command -v wrk >/dev/null || apt-get install -y wrk >/dev/null || sudo apt-get install -y wrk >/dev/null
	cargo build --release -p server -p bench --bin rampart --bin bench
	$(TARGET_DIR)/release/bench --rampart $(TARGET_DIR)/release/rampart $(BENCH_ARGS)

# Test schemas left behind by interrupted runs.
clean-test-schemas:
	@psql "$(PG_URL)" -qtAc "SELECT 'DROP SCHEMA IF EXISTS \"' || nspname || '\" CASCADE;' FROM pg_namespace WHERE nspname LIKE 't\\_%'" 2>/dev/null \
		| psql "$(PG_URL)" -q >/dev/null 2>&1 || true
