# Peerloop: `make run` and `make test` each work as the first command on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The browser tests drive Debian's Chromium (never a browser Playwright downloads).
CHROMIUM := /usr/bin/chromium
# WeasyPrint draws the PDF documents with Debian's Pango and HarfBuzz (the packages its
# documentation names for Debian) in the DejaVu fonts.
PDF_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

.PHONY: run test lint unit browser chromium pdf-libraries bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Installed once, as root, from Debian's packages; nothing to do when it is already there.
# Not root: say what to install and go on (the browser tests are then skipped, or fail under CI).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's chromium for the browser tests (once)"; \
	  apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    chromium fonts-dejavu-core && \
	  test -x $(CHROMIUM); \
	else \
	  echo "The browser tests need Debian's Chromium at $(CHROMIUM), not installed here:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2; \
	  if [ "$${CI:-}" = true ]; then exit 1; fi; \
	fi

chromium: $(CHROMIUM)

# Installed once, as root, like Chromium; nothing to do when every package is there already.
pdf-libraries:
	@installed=$$(dpkg-query -W -f='$${db:Status-Abbrev}\n' $(PDF_PACKAGES) 2>/dev/null | grep -c '^ii'); \
	if [ "$$installed" = "$(words $(PDF_PACKAGES))" ]; then \
	  :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian's Pango and fonts for the PDF documents (once)"; \
	  apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    -o DPkg::Lock::Timeout=120 $(PDF_PACKAGES); \
	else \
	  echo "The PDF documents need Debian's $(PDF_PACKAGES), not all installed here:" >&2; \
	  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $(PDF_PACKAGES)" >&2; \
	  if [ "$${CI:-}" = true ]; then exit 1; fi; \
	fi

run: $(STAMP) pdf-libraries
	$(BIN)/peerloop serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint $(CHROMIUM) pdf-libraries
	$(BIN)/pytest -q

browser: $(STAMP) $(CHROMIUM) pdf-libraries
	$(BIN)/pytest -q -m browser

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	PEERLOOP_BENCH_N=10000 $(BIN)/python -m bench
	PEERLOOP_BENCH_N=1000 $(BIN)/python -m bench compare --output docs/benchmarks-compare-n1000.md

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
