# Syncline: `make demo` runs the main job on the embedded default (sandbox + DuckDB); `make test` runs the tests.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
VENV := .venv
export DAGSTER_HOME ?= $(CURDIR)/.syncline/dagster
# The venv's tools first (dagster-dbt's dev-mode parse calls `dbt` from PATH).
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export UV_PYTHON_PREFERENCE ?= only-system

.PHONY: bootstrap demo dev test bench lint stop clean

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || { echo "uv not found: installing it (pip install uv)"; python3 -m pip install --quiet uv; }
	$(UV) sync --frozen
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster_home/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp $< $@

DBT_MANIFEST := dbt_project/target/manifest.json
DBT_SOURCES := $(shell find dbt_project/models dbt_project/seeds dbt_project/macros -type f 2>/dev/null) dbt_project/dbt_project.yml

# dagster-dbt loads the manifest at import: build it whenever a model, seed or macro changes.
$(DBT_MANIFEST): $(VENV)/.synced $(DBT_SOURCES)
	DBT_SEND_ANONYMOUS_USAGE_STATS=false $(VENV)/bin/dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project

bootstrap: $(VENV)/.synced $(DAGSTER_HOME)/dagster.yaml $(DBT_MANIFEST)

demo: bootstrap
	$(VENV)/bin/syncline demo

dev: bootstrap
	$(VENV)/bin/python -c "from syncline.demo import ensure_sandbox; ensure_sandbox(1000, 42)"
	$(VENV)/bin/dagster dev -w workspace.yaml

test: bootstrap
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

bench: bootstrap
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

lint: bootstrap
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

stop:
	@if [ -f .syncline/sandbox/sandbox.pid ]; then kill $$(cat .syncline/sandbox/sandbox.pid) 2>/dev/null && echo "sandbox stopped"; rm -f .syncline/sandbox/sandbox.pid; else echo "no sandbox pid file"; fi

clean: stop
	rm -rf .syncline
