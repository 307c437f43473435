# The two commands: `make publish` and `make test`. Each sets itself up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SETUP  := $(VENV)/.installed
NODE_SETUP := node_modules/.installed

.PHONY: publish test bench setup system-deps test-deps clean

publish: setup
	$(BIN)/pipeline publish

test: setup test-deps $(NODE_SETUP)
	$(BIN)/pytest

bench: setup test-deps
	$(BIN)/python -m pipeline.bench

setup: system-deps $(SETUP)

# Debian packages the pipeline itself needs (installed when missing).
system-deps:
	@scripts/system-deps.sh ffmpeg

# Extra Debian packages the tests need: speech, a real browser, and Java and npm for the
# W3C Nu HTML Checker.
test-deps:
	@scripts/system-deps.sh espeak-ng chromium default-jre-headless npm

# The Nu HTML Checker (npm vnu-jar, pinned in package-lock.json). --ignore-scripts: its
# postinstall script would download a Java runtime; the tests use the system's java.
$(NODE_SETUP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Re-run pip whenever pyproject.toml changes.
$(SETUP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version)). Set PYTHON=python3.11." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf site .pytest_cache
