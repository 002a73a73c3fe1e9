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

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/mnistkit run --model cnn

test: install
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) build *.egg-info
