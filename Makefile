# The two commands of the README: `make demo` and `make test`.
# Both create the virtual environment on first use and install the project into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_DATA := $(abspath ../shared/data)

# Real data mirror: ../shared/data when it exists and MSAPGEO_MIRROR is unset.
ifeq ($(strip $(MSAPGEO_MIRROR)),)
ifneq ($(wildcard $(SHARED_DATA)/INDEX.md),)
export MSAPGEO_MIRROR := $(SHARED_DATA)
endif
endif

.PHONY: install demo test lint bench clean browser

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/msapgeo demo --out out/demo

lint: install
	$(BIN)/ruff check msapgeo tests benchmarks notebooks
	$(BIN)/mypy

# Headless Chromium (Debian package) for the tests that render the maps and the report.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the rendering tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: lint browser
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_routing.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
