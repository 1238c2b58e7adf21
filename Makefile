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

.PHONY: install demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/msapgeo demo --out out/demo

lint: install
	$(BIN)/ruff check msapgeo tests benchmarks
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_routing.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
