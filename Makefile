# The two commands every admin needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files so a second `make` does not reinstall unless pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/lecture-bot start

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q -rs

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check bot tests benchmarks

# Benchmarks stay out of `make test`; each writes its raw output to benchmarks/results/.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m benchmarks.retrieval
	$(BIN)/python -m benchmarks.reading
	$(BIN)/python -m benchmarks.decision
	$(BIN)/python -m benchmarks.scale
	$(BIN)/python -m benchmarks.cli_latency
	$(BIN)/python -m benchmarks.bot
	$(BIN)/python -m benchmarks.push
	$(BIN)/python -m benchmarks.publish
	$(BIN)/python -m benchmarks.quiz
	$(BIN)/python -m benchmarks.records
	$(BIN)/python -m benchmarks.links
	$(BIN)/python -m benchmarks.upload
	$(BIN)/python -m benchmarks.isolation
	$(BIN)/python -m benchmarks.cluster

clean:
	rm -rf $(VENV)
