# laboursight — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11

.PHONY: help venv run test lint unit integration compose-tool browser-tool node-tools schemas method bench clean

help:
	@echo "make run    - start the whole system on embedded local servers, data kept in .run/ (Ctrl-C stops everything; FRESH=1 starts afresh)"
	@echo "make test   - lint, type-check and run every test against real Kafka and MongoDB"
	@echo "make schemas - refresh the committed JSON Schema snapshot and AsyncAPI document after a contract change"
	@echo "make method - refresh the committed rule-set documents (services/screening/method/)"
	@echo "make bench  - the engine alone, then the whole system on fresh local servers next to their raw limits, then the dashboard pages with 10,000 entities (~6 min)"
	@echo "make chaos  - SIGKILL every service, the broker and mongod under load; count what was lost or duplicated"

$(UV):
	python3.11 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# One locked set of versions for the whole workspace; --frozen refuses a stale lock.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml schemas/pyproject.toml runtime/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	@touch $@

venv: $(VENV)/.synced

# Debian's docker-compose validates docker-compose.yml offline; install it where we can.
compose-tool:
	@command -v docker-compose >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null) \
	      || echo "warning: could not install docker-compose; the compose test will say so"; \
	  else echo "note: docker-compose not found; the compose test will say so"; fi; }

# The official AsyncAPI parser that a test runs on schemas/asyncapi.json, pinned by
# tests/asyncapi/package-lock.json; reinstalled only when that lock changes.
NODE_TOOLS := tests/asyncapi/node_modules/.installed
$(NODE_TOOLS): tests/asyncapi/package.json tests/asyncapi/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (>= 18) and npm"; exit 1; }
	npm ci --prefix tests/asyncapi --no-audit --no-fund --ignore-scripts
	@touch $@

# axe-core, which the browser tests (tests/browser) inject into every dashboard page, pinned by
# tests/browser/package-lock.json.
AXE := tests/browser/node_modules/.installed
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js (>= 18) and npm"; exit 1; }
	npm ci --prefix tests/browser --no-audit --no-fund --ignore-scripts
	@touch $@

node-tools: $(NODE_TOOLS) $(AXE)

# Debian's chromium, which the browser tests drive headless through Playwright (never
# `playwright install`: nothing is downloaded when the tests run); install it where we can.
browser-tool:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser tests will say so"; \
	  else echo "note: chromium not found; the browser tests will say so"; fi; }

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy schemas runtime services tests deploy/local

# promtool checks the alert rules (tests/test_monitoring.py): Debian's prometheus package,
# unpacked into .tools, so nothing is installed system-wide and no server is started.
PROMTOOL := $(TOOLS)/prometheus/usr/bin/promtool
$(PROMTOOL):
	@mkdir -p $(TOOLS)/debs $(TOOLS)/prometheus
	@cd $(TOOLS)/debs && { apt-get download -qq prometheus 2>/dev/null \
	  || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get download -qq prometheus; }; } \
	  && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -x -C ../prometheus ./usr/bin/promtool \
	  || echo "warning: could not unpack promtool; the alert-rule test will say so"
	@rm -rf $(TOOLS)/debs

prom-tool: $(PROMTOOL)

test: venv compose-tool browser-tool node-tools prom-tool lint
	$(VENV)/bin/pytest -v -ra

run: venv
	$(PY) deploy/local/run.py $(if $(FRESH),--fresh)

schemas: venv
	$(VENV)/bin/laboursight-schemas
	$(VENV)/bin/laboursight-asyncapi

method: venv
	@for v in $$($(VENV)/bin/laboursight-rules list | cut -d' ' -f1); do \
	  $(VENV)/bin/laboursight-rules document $$v -o services/screening/method/$$v.md; done

# The engine alone (issue 3's targets), then the whole system on fresh local servers next to
# their raw limits (issue 8's targets; JSON in tests/bench/results/), then each dashboard page's
# server time with 10,000 entities (issue 13's). Asserts nothing.
bench: venv
	$(PY) -m tests.bench.engine
	$(PY) -m tests.bench.replay
	$(PY) -m tests.bench.ledger --repeats 1
	$(PY) -m tests.bench.system
	$(PY) -m tests.bench.dashboard

# The fault suite (tests/chaos): SIGKILLs each service, the broker and mongod under a steady
# load on fresh loopback servers, checks nothing accepted was lost or duplicated, prints one
# table. CHAOS_TRIALS per fault (default 3); CHAOS_SEED repeats a run's random points.
CHAOS_TRIALS ?= 3
.PHONY: chaos
chaos: venv
	$(PY) -m tests.chaos --trials $(CHAOS_TRIALS) $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
