# The two commands: `make publish` and `make test` (and `make edit`, the editor's studio).
# Each sets itself up first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SETUP  := $(VENV)/.installed
NODE_SETUP := node_modules/.installed

# openai-whisper, the optional reference engine (transcribe.engine: openai-whisper). Its wheel
# asks for triton (about 1 GB, used only on CUDA GPUs), so it is installed with --no-deps
# beside the packages it really needs, all pinned.
OPENAI_WHISPER       := openai-whisper==20250625
OPENAI_WHISPER_NEEDS := torch==2.13.0 more-itertools==11.2.1 numba==0.68.1 llvmlite==0.50.0 \
                        tiktoken==0.14.0 tqdm==4.70.1

.PHONY: publish edit test bench bench-quick setup system-deps test-deps clean

publish: setup
	$(BIN)/pipeline publish

# The editor's studio in the browser (`make edit SLUG=council-leader-blogging` opens one
# interview); its review queue's second recogniser is the shipped Whisper base.
edit: setup
	$(BIN)/pipeline edit $(SLUG)

test: setup test-deps $(NODE_SETUP)
	$(BIN)/pytest

# Every benchmark (bench/): engines, publish, memory, re-publish and render on a generated
# 30-minute interview (made once into .bench/), search, the preview server's memory, and the
# reader's page on a phone (bench/reader.py).
# bench-quick: smaller.
bench: setup test-deps
	$(BIN)/python -m bench

bench-quick: setup test-deps
	$(BIN)/python -m bench --quick

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

# Re-run pip whenever pyproject.toml (or a pin above) changes.
$(SETUP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version)). Set PYTHON=python3.11." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet $(OPENAI_WHISPER_NEEDS)
	$(BIN)/python -m pip install --quiet --no-deps $(OPENAI_WHISPER)
	touch $@

clean:
	rm -rf site .pytest_cache
