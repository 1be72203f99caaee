# The two commands a new user needs: `make up` and `make test`. Everything else is set-up they call.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= /var/lib/pocketkube
LISTEN ?= 127.0.0.1:6443
PYTEST_ARGS ?=

.PHONY: up test setup host venv lint typecheck unprivileged bench clean

up: setup
	$(BIN)/pocketkube server --data-dir $(DATA_DIR) --listen $(LISTEN)

test: setup
	$(BIN)/ruff check src tests bench
	@$(MAKE) --no-print-directory typecheck
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory unprivileged

# The real node agent's component tier needs no privilege: as root, prove it again with every
# capability dropped (uid 0 without capabilities cannot mount, mknod or touch others' files).
unprivileged: venv
	@if [ "$$(id -u)" = 0 ]; then \
	  setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all --no-new-privs \
	    $(BIN)/python -m pytest -q -p no:cacheprovider tests/component/agent; fi

# The whole tree is type-checked; the four seams, api and the bottom layer strictly, because every
# component builds on them.
STRICT_PACKAGES := -p pocketkube.api -p pocketkube.storage -p pocketkube.runtime -p pocketkube.network \
	-p pocketkube.images -m pocketkube.clock -m pocketkube.process -m pocketkube.tasks

typecheck: venv
	$(BIN)/mypy
	$(BIN)/mypy --strict $(STRICT_PACKAGES)

setup: host venv

host:
	@bash scripts/setup-host.sh

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# Each prints its figures against the bars of its issue; pod_startup and controllers need root.
bench: setup
	$(BIN)/python bench/api.py
	$(BIN)/python bench/pod_startup.py
	$(BIN)/python bench/controllers.py

clean:
	rm -rf $(VENV) build *.egg-info
