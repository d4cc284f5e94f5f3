# Hearth developer entry points. Run `make` for the list.

SHELL := bash
# -e and pipefail so a failure anywhere in a recipe line, pipelines
# included, stops the target; -u so a typo'd variable isn't silently empty.
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
# `test` relies on its prerequisites running in the order written (cheap
# checks first); keep that true under `make -j`. Cargo parallelises
# internally, so nothing is lost.
.NOTPARALLEL:
MAKEFLAGS += --no-builtin-rules

PG := scripts/pg.sh

# Shell snippet: honour a DATABASE_URL from the environment, else start the
# private dev cluster. The assignment is a statement of its own so that -e
# sees pg.sh fail; `export X=$(...)` would report export's status instead.
with_dev_db = if [[ -z "$${DATABASE_URL:-}" ]]; then DATABASE_URL=$$($(PG) start dev); fi; export DATABASE_URL

# Same idea for the tests, which create their own databases on the admin URL.
with_test_db = if [[ -z "$${HEARTH_TEST_DATABASE_URL:-}" ]]; then HEARTH_TEST_DATABASE_URL=$$($(PG) start test); fi; export HEARTH_TEST_DATABASE_URL

.PHONY: help run test test-rust lint fmt openapi openapi-check migrate seed \
	build-tests spec-fuzz bench soak db-stop clean-db frontend-build frontend-test frontend-e2e frontend-generate

help: ## List the targets
	@echo 'Usage: make <target>'
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

run: frontend-build ## Build and serve Hearth on http://127.0.0.1:8000 (dev db unless DATABASE_URL is set)
	@$(with_dev_db); \
	cargo build --release -p hearth-api; \
	exec target/release/hearth serve --seed-if-empty

test: lint openapi-check test-rust spec-fuzz frontend-test frontend-e2e ## Everything CI checks: lint, spec drift, Rust, spec fuzzing, frontend and browser tests

test-rust: ## Rust tests only (private test cluster unless HEARTH_TEST_DATABASE_URL is set)
	@scripts/ensure-redis.sh
	@$(with_test_db); \
	cargo test --workspace --locked

spec-fuzz: build-tests ## Spec fuzzing: schemathesis against openapi/openapi.json and a live server
	@$(with_test_db); \
	scripts/schemathesis.sh

bench: ## Load-test a release build on a private database (not part of `test`; HEARTH_BENCH_RUNS=3 for medians)
	@scripts/bench.sh $(BENCH_ARGS)

soak: ## Soak a release build: 10 min of mixed REST + WebSocket load; fails on any error, lost message or growing memory
	@scripts/bench.sh --soak $(or $(SOAK_SECONDS),600) $(SOAK_ARGS)

lint: ## rustfmt check and clippy with warnings as errors
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt: ## Format the Rust code
	cargo fmt --all

openapi: ## Regenerate openapi/openapi.json and the frontend's client from the code
	@mkdir -p openapi
	cargo run -q -p hearth-api -- openapi > openapi/openapi.json.tmp || { rm -f openapi/openapi.json.tmp; exit 1; }
	mv openapi/openapi.json.tmp openapi/openapi.json
	$(MAKE) --no-print-directory frontend-generate

# Builds every test binary and, with them, target/debug/hearth. `cargo run` or `cargo build`
# would build the binary with other dependency features than the tests (dev-dependencies join
# in), compiling much of the tree twice; the spec check and the browser tests reuse this build.
build-tests:
	cargo test --workspace --locked --no-run -q

openapi-check: build-tests ## Fail if openapi/openapi.json is out of date with the code
	@tmp=$$(mktemp); \
	trap 'rm -f "$$tmp"' EXIT; \
	target/debug/hearth openapi > "$$tmp"; \
	if ! diff -u openapi/openapi.json "$$tmp"; then \
	  echo 'openapi/openapi.json is stale: run make openapi' >&2; \
	  exit 1; \
	fi

migrate: ## Apply migrations (dev db unless DATABASE_URL is set)
	@$(with_dev_db); \
	cargo run -q -p hearth-api -- migrate

seed: ## Load seed data (dev db unless DATABASE_URL is set)
	@$(with_dev_db); \
	cargo run -q -p hearth-api -- seed

db-stop: ## Stop the private dev, test and bench PostgreSQL clusters
	$(PG) stop dev
	$(PG) stop test
	$(PG) stop bench

clean-db: db-stop ## Stop the clusters and delete their data (.hearth/)
	rm -rf .hearth

# --- Frontend ---------------------------------------------------------------

# `npm ci` is slow and wipes node_modules, so only rerun it when node_modules is gone or the
# lockfile changed; the stamp lives inside node_modules so deleting that directory also forces
# a reinstall.
NPM_STAMP := frontend/node_modules/.hearth-npm-ci

$(NPM_STAMP): frontend/package-lock.json
	npm --prefix frontend ci --no-audit --no-fund
	@touch $@

frontend-generate: $(NPM_STAMP) ## Regenerate the typed API client from openapi/openapi.json
	npm --prefix frontend run generate

frontend-build: $(NPM_STAMP) ## Typecheck and build the SPA into frontend/dist
	npm --prefix frontend run build

frontend-test: $(NPM_STAMP) ## Fail on a stale generated client, then the Vitest unit tests
	npm --prefix frontend test

# The browser tests run the backend binary that `cargo test` builds (same features, so no
# second build after test-rust), the built SPA and Debian's Chromium.
frontend-e2e: $(NPM_STAMP) ## Browser end-to-end tests (Chromium) against a real backend and database
	@chromium=$$(scripts/ensure-chromium.sh); export CHROMIUM_PATH=$$chromium; \
	$(with_test_db); \
	$(MAKE) --no-print-directory build-tests; \
	npm --prefix frontend run build; \
	npm --prefix frontend run e2e
