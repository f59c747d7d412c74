# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
CHECKOV_VENV := .venv-checkov
NODE_BIN := $(CURDIR)/node_modules/node/bin
# jsii and the cdktn CLI need Node 22 (npm package node@22); no CLI telemetry from tests or demos.
export PATH := $(NODE_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_NODE := $(NODE_BIN)/node
export CHECKPOINT_DISABLE := 1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup demo test lint bench clean chromium

setup: $(VENV)/.installed $(CHECKOV_VENV)/.installed node_modules/.installed chromium

# The HTML cost report is checked in a real headless Chromium (Debian's package).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[local,aws,bindings,test]'
	touch $@

# checkov pins an old botocore, so it lives in its own virtual environment.
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q 'checkov==3.3.30'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The main job with no cloud account: synthesize the platform, train the example locally through two
# simulated spot reclaims, register it in MLflow, serve it, ask it for a prediction, show the cost line.
demo: export TERRAML_HOME := $(CURDIR)/.terraml-demo
demo: setup
	terraml validate examples/platform.yaml
	terraml synth examples/platform.yaml
	rm -rf "$$TERRAML_HOME"
	terraml train examples/job.yaml --cloud local --simulate-interruptions 2 --spec examples/platform.yaml
	terraml deploy image-classifier --version 1 --endpoint classifier --cloud local
	terraml invoke classifier --cloud local --data @examples/predict.json; status=$$?; \
	  terraml endpoints stop classifier --cloud local; exit $$status
	terraml jobs status image-classifier --cloud local
	terraml cost report --spec examples/platform.yaml
	terraml cost report --spec examples/platform.yaml --format html --output cdktf.out/cost-report.html
	@echo "With an AWS account and terraform: npx cdktn deploy vision-aws, then terraml train examples/job.yaml --cloud aws"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: setup lint
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python scripts/bench_synth.py
	$(VENV)/bin/python scripts/bench_submit.py

clean:
	rm -rf cdktf.out .pytest_cache .ruff_cache
