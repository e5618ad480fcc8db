# The two commands of the README: `make demo` and `make test`. Both install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHECKED := $(wildcard src tests benchmarks)

.PHONY: demo test lint typecheck pytest tools bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/cyberpeace demo

# Debian tools the tests run as real peers: chromium drives the console tests (Playwright uses it;
# it never downloads a browser); softflowd, pmacct, nfdump and tcpreplay export, collect and replay
# flows; gobgpd is the BGP peer the ExaBGP enforcer announces FlowSpec and RTBH routes to; nftables
# and hping3 drop and send the packets of the response tests. Installed with apt-get only when one
# of them is missing.
DEBIAN_TOOLS := chromium:chromium softflowd:softflowd pmacctd:pmacct nfcapd:nfdump tcpreplay:tcpreplay \
	gobgpd:gobgpd nft:nftables hping3:hping3

tools:
	@missing=""; for pair in $(DEBIAN_TOOLS); do \
	  command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

lint: $(VENV)/.installed-test
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)

typecheck: $(VENV)/.installed-test
	$(BIN)/mypy --strict src

pytest: $(VENV)/.installed-test tools
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/borders_lookup.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache cyberpeace-data
