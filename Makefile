# omni: make help lists the targets. Every target sets itself up on a fresh clone.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DATA ?= data/sample
PERSONS ?= 50000
SEED ?= 7
MONTH ?=
TEST_DATA := data/test_world
TEST_PERSONS := 3000
TEST_SEED := 11

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-10s %s\n", $$1, $$2}'

setup: $(VENV)/.installed fonts browser java ## create .venv with the pinned requirements and omni (editable), the CJK font, Chromium and a Java check

CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
fonts: ## the CJK font of Chinese report charts (Debian fonts-wqy-microhei; apt-get as root, else says how)
	@if [ -f $(CJK_FONT) ] || [ -n "$$OMNI_CJK_FONT" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 || \
		 (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei)); \
	else echo "make fonts: Chinese reports (--lang zh) need a CJK font: sudo apt-get install fonts-wqy-microhei, or set OMNI_CJK_FONT to a .ttf/.otf/.ttc file"; fi

# Chromium for the browser test (tests/reporting/test_report_browser.py): Debian's package, by apt-get.
# Without it that test is skipped with a loud reason (a failure under CI=true); OMNI_CHROMIUM names another.
browser: ## install Chromium (apt-get) for the browser test of the reports
	@if [ -n "$$OMNI_CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium) \
	  || echo "!! could not install Chromium: the browser test of the reports will be SKIPPED"; \
	else echo "!! no Chromium and no apt-get: install Chromium (or set OMNI_CHROMIUM), or the browser test is SKIPPED"; fi

# Java for the Spark engine (pyspark 4 needs Java 17+): checked, installed by apt-get when missing.
java: ## check Java 17+ for the Spark engine (apt-get installs openjdk-17-jre-headless when missing)
	@if command -v java >/dev/null 2>&1 && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; then :; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  ($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jre-headless) \
	  || echo "!! could not install Java 17: the Spark engine (omni resolve --engine spark) and its tests need it"; \
	else echo "!! no Java 17+: the Spark engine (omni resolve --engine spark) and its tests need it"; fi

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.0.1"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

data: setup $(DATA)/raw/sources.yaml ## build the synthetic sample dataset (PERSONS=50000 SEED=7)

$(DATA)/raw/sources.yaml:
	$(BIN)/omni synth --out $(DATA) --persons $(PERSONS) --seed $(SEED)

report: data ## run every notebook for a month into reports/<month>/ (MONTH=YYYY-MM, default: last complete month)
	$(BIN)/omni report --data $(DATA) $(if $(MONTH),--month $(MONTH))

test: setup $(TEST_DATA)/raw/sources.yaml $(TEST_DATA)/mix/raw/sources.yaml ## run the test suite (unit, integration, notebooks via nbval)
	OMNI_DATA=$(TEST_DATA) $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax tests notebooks

# the test world belongs to the tests: rebuilt when the generator changes (a world made by an older
# omni synth lacks its newer sources); DATA is never rebuilt or removed by make
SYNTH_SOURCES := $(wildcard omni/synth/*.py)

$(TEST_DATA)/raw/sources.yaml: $(SYNTH_SOURCES)
	rm -rf $(TEST_DATA)/raw $(TEST_DATA)/truth $(TEST_DATA)/processed $(TEST_DATA)/mix
	$(BIN)/omni synth --out $(TEST_DATA) --persons $(TEST_PERSONS) --seed $(TEST_SEED) --quiet

# the marketing mix next to a test world written before it existed (omni synth writes both now)
$(TEST_DATA)/mix/raw/sources.yaml: $(TEST_DATA)/raw/sources.yaml
	$(BIN)/omni synth --out $(TEST_DATA) --persons $(TEST_PERSONS) --seed $(TEST_SEED) --quiet --mix-only

notebooks: setup $(TEST_DATA)/raw/sources.yaml ## rebuild notebooks/*.ipynb from notebooks/src/*.py and refresh their checked outputs
	OMNI_DATA=$(TEST_DATA) $(BIN)/python tools/nbbuild.py --execute

lint: setup ## ruff check and the import-layer contracts (pyproject.toml [tool.importlinter])
	$(BIN)/ruff check omni tests benchmarks tools notebooks/src
	$(BIN)/lint-imports --no-cache

bench: setup ## run the benchmarks (slow; prints time, peak memory, accuracy)
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lock: ## re-pin requirements.txt from a clean install of the top-level packages
	@echo "edit requirements.txt by hand or: pip install <pkgs> in a clean venv && pip freeze"

clean: ## remove generated reports and processed data (keeps raw data and .venv)
	rm -rf reports/*/ reports/index.html $(DATA)/processed

.PHONY: help setup fonts browser java data report test notebooks lint bench lock clean
