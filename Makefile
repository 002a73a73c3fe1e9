# Two commands set everything up on a fresh machine with python3 (3.11+):
#   make run    create .venv, install mnistkit (no test tools), train the tutorial CNN
#   make test   create .venv, install mnistkit with test tools, run the lint and the tests
# `make test` installs the versions the suite was last run with (constraints/py3.X.txt, when
# there is one for this Python); `make test-latest` resolves the newest the bounds allow.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
CONSTRAINTS := $(wildcard constraints/py$(PY_VERSION).txt)
PIP_CONSTRAINTS := $(if $(CONSTRAINTS),--constraint $(CONSTRAINTS))

.PHONY: run test test-latest lint install install-run constraints clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The worked third-party plugin is installed like any plugin package (not editable,
# so its packaging is tested too); its tests run with the rest (see testpaths).
EXAMPLE := examples/mnistkit-plugin-example
EXAMPLE_FILES := $(wildcard $(EXAMPLE)/pyproject.toml $(EXAMPLE)/mnistkit_example/*.py $(EXAMPLE)/mnistkit_example/lessons/*.md $(EXAMPLE)/mnistkit_example/lessons/exercises/*/*)

# Two stamps: `make run` installs what running needs (.installed-run: mnistkit and its
# dependencies); `make test`, `make lint` and `make install` add the test tools and the
# example plugin (.installed). The full install touches the run stamp too, since it
# holds everything that one does.
say_versions = $(if $(CONSTRAINTS),@echo "Installing the tested versions in $(CONSTRAINTS)",@echo "No constraints file for Python $(PY_VERSION): installing the newest versions the bounds allow")

$(VENV)/.installed-run: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(say_versions)
	$(BIN)/python -m pip install --quiet -e . $(PIP_CONSTRAINTS)
	touch $@

$(VENV)/.installed: $(BIN)/python pyproject.toml $(EXAMPLE_FILES) $(CONSTRAINTS)
	$(say_versions)
	$(BIN)/python -m pip install --quiet -e '.[test]' $(PIP_CONSTRAINTS)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation ./$(EXAMPLE)
	touch $@ $(VENV)/.installed-run

install-run: $(VENV)/.installed-run

install: $(VENV)/.installed

run: install-run
	$(BIN)/mnistkit run --model cnn

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The test files are shared out among up to 4 processes (pytest-xdist), a file to a process, so each file's
# module-scoped fixtures are built once; plain `pytest` runs them all in one process.
test: lint
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile

# The newest versions the bounds in pyproject.toml allow, in a venv of their own.
test-latest:
	$(MAKE) test VENV=.venv-latest CONSTRAINTS=

# Rewrite this Python's constraints file from what .venv holds now (after a green `make test-latest`).
constraints: install
	mkdir -p constraints
	printf '%s\n' '# The versions `make test` and CI install on Python $(PY_VERSION) (see the Makefile). Rewrite with' \
		'# `make constraints` after `make test-latest` passes; pip ignores names nothing requires.' > constraints/py$(PY_VERSION).txt
	$(BIN)/python -m pip freeze --all --exclude pip --exclude-editable --exclude mnistkit-plugin-example >> constraints/py$(PY_VERSION).txt

clean:
	rm -rf $(VENV) .venv-latest build *.egg-info
