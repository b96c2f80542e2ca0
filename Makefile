# The two commands in README.md: `make run` and `make test`. Everything installs into ./.venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/greenroom serve

# Browser tests drive a real chromium and run in their own pytest process (Playwright's sync API
# and other event loops do not share a process well). pytest exit code 5 (no tests) fails.
test: $(STAMP)
	$(BIN)/ruff check greenroom tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/pytest -m "not browser"
	$(BIN)/pytest -m browser

test-fast: $(STAMP)
	$(BIN)/pytest -m "not browser and not slow" -x -q

# Slow (tens of minutes): each prints a markdown section of benchmarks/REPORT.md.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python benchmarks/rebuild.py
	$(BIN)/python -m benchmarks.people
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.leaderboards --people 40000 --events 1000000
	$(BIN)/python -m benchmarks.studio --rooms 8 --events 3000 --processes 1,2,4

clean:
	rm -rf $(VENV) greenroom-data
