# The rollout gate. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WEEK ?= 5
PROFILE ?= smoke
STACK ?= auto
RELEASE ?=
NAME ?=
export STACK

.DEFAULT_GOAL := help
.PHONY: help install test test-unit test-integration loadtest loadtest-ui stack-up stack-down \
        stack-status generator probe bench bench-compare baseline remeasure compare drill drills promtool-test clean

help: ## List every target with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project (quick when nothing changed)

test: $(STAMP) ## Import contracts, then unit and integration tests (starts what is missing)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest tests

test-unit: $(STAMP) ## Run unit tests only (no servers)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP) ## Run integration tests against the stack
	$(PY) -m pytest tests/integration

loadtest: $(STAMP) ## Run the rollout gate: make loadtest WEEK=1..7 PROFILE=smoke|standard|soak|spike [RUNS=] [STACK=] [RELEASE=]
	$(VENV)/bin/rollout-bench loadtest --week $(WEEK) --profile $(PROFILE) --stack $(STACK) $(if $(RELEASE),--release $(RELEASE)) $(if $(RUNS),--runs $(RUNS))

loadtest-ui: $(STAMP) ## Interactive Locust web UI on 127.0.0.1:8089 for WEEK=n
	$(PY) -m rollout_bench loadtest --week $(WEEK) --profile $(PROFILE) --stack $(STACK) --ui

# PATH=unified|legacy|mix|floor names the capacity search's path. Given on make's command line it
# would replace the shell's PATH in every recipe, so the shell's own is put back (make's $(shell)
# still sees the environment make started with) and the value kept as CAPACITY_PATH.
ifeq ($(origin PATH),command line)
CAPACITY_PATH := $(PATH)
override PATH := $(shell printf '%s' "$$PATH")
endif
CAPACITY_PATH ?= unified
WORKERS ?= 1
.PHONY: capacity

capacity: $(STAMP) ## Highest sustainable arrival rate: make capacity [WEEK=5] [PATH=unified|legacy|mix|floor] [WORKERS=1 or 1,2,4 for scale-out]
	$(VENV)/bin/rollout-bench capacity --week $(WEEK) --path $(CAPACITY_PATH) --workers $(WORKERS) --stack $(STACK) $(if $(RELEASE),--release $(RELEASE))

stack-up: $(STAMP) ## Start (or find) Redis, NATS and Postgres and print their URLs
	$(PY) -m rollout_bench stack up --mode $(STACK)

stack-down: $(STAMP) ## Stop the servers started by stack-up
	$(PY) -m rollout_bench stack down

stack-status: $(STAMP) ## Show which stack is up and whether each server answers
	$(PY) -m rollout_bench stack status

generator: $(STAMP) ## The load generator's own ceiling, no pipeline: make generator RATE=300 [DURATION=20] [PROCESSES=1]
	$(VENV)/bin/rollout-bench generator --rate $(or $(RATE),300) --duration $(or $(DURATION),20) --processes $(or $(PROCESSES),1)

probe: $(STAMP) ## One analysis per path on one tenant: make probe PROFILE=worked-example
	$(PY) -m rollout_bench probe --profile $(if $(filter smoke,$(PROFILE)),worked-example,$(PROFILE)) --path both

bench: $(STAMP) ## Run the pytest-benchmark suites and save results under results/bench
	$(PY) -m pytest benchmarks --benchmark-autosave --benchmark-save-data --benchmark-storage=results/bench

bench-compare: $(STAMP) ## Compare benchmarks with the last saved run
	$(PY) -m pytest benchmarks --benchmark-storage=results/bench --benchmark-compare --benchmark-compare-fail=mean:10%

baseline: $(STAMP) ## Store the latest undisturbed runs (default 10) as a release baseline: make baseline RELEASE=x [RUNS=10] [FORCE=1]
	$(PY) -m rollout_bench baseline --release $(RELEASE) $(if $(RUNS),--runs $(RUNS)) $(if $(FORCE),--force)

remeasure: $(STAMP) ## Measure the last stored release again on this machine, from its commit: make remeasure [RELEASE=x] [WEEK=5] [RUNS=10]
	$(PY) -m rollout_bench remeasure --week $(WEEK) --profile $(PROFILE) --stack $(if $(filter auto,$(STACK)),embedded,$(STACK)) $(if $(RELEASE),--release $(RELEASE)) $(if $(RUNS),--runs $(RUNS))

compare: $(STAMP) ## Compare runs or releases: make compare BASE=x [HEAD=run_or_release]
	$(PY) -m rollout_bench compare --base $(BASE) $(if $(HEAD),--head $(HEAD)) $(if $(JSON),--json) $(if $(FORCE),--force)

drill: $(STAMP) ## Run one fault drill: make drill NAME=worker-kill|redis-restart|nats-restart|postgres-faults|rollback|gradual-rollback
	$(PY) -m rollout_bench drill $(NAME)

drills: $(STAMP) ## Run every fault drill
	$(PY) -m rollout_bench drill all

promtool-test: ## Test the Prometheus alert rules with promtool
	./ops/promtool-test.sh

clean: ## Remove .venv, caches and run results
	rm -rf $(VENV) .pytest_cache .benchmarks results/runs results/bench .stack
