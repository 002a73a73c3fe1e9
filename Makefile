# Two commands set everything up on a fresh machine with python3 (3.11+):
#   make run    create .venv, install mnistkit, train the tutorial CNN
#   make test   create .venv, install mnistkit with test tools, run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The worked third-party plugin is installed like any plugin package (not editable,
# so its packaging is tested too); its tests run with the rest (see testpaths).
EXAMPLE := examples/mnistkit-plugin-example
EXAMPLE_FILES := $(wildcard $(EXAMPLE)/pyproject.toml $(EXAMPLE)/mnistkit_example/*.py $(EXAMPLE)/mnistkit_example/lessons/*.md)

$(VENV)/.installed: $(BIN)/python pyproject.toml $(EXAMPLE_FILES)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation ./$(EXAMPLE)
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/mnistkit run --model cnn

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
