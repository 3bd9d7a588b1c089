# shuanglian — the two commands: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export SHUANGLIAN_HOME ?= $(CURDIR)/var
DEMO := demo
# The 2020 platform postings name no holder; they are filed under these names (demo/PROVENANCE.md).
DEMO_LISTINGS_HOLDER := 科技成果公开汇编（2020，演示数据）
DEMO_DEMANDS_HOLDER := 企业技术需求公开汇编（2020，演示数据）

.PHONY: install demo demo-data test test-deps lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

HTMX_VERSION := 2.0.11
HTMX := shuanglian/web/static/vendor/htmx.min.js

# HTMX comes from the npm registry at install time (never a CDN, never committed);
# every page still works without it.
$(HTMX):
	mkdir -p build/npm $(dir $(HTMX))
	npm install --silent --no-save --no-audit --no-fund --prefix build/npm htmx.org@$(HTMX_VERSION) \
	  && cp build/npm/node_modules/htmx.org/dist/htmx.min.js $@ \
	  || echo "npm unavailable: pages work without HTMX"

ECHARTS_VERSION := 6.1.0
CHINA_GEOJSON_VERSION := 1.0.0
ECHARTS := shuanglian/web/static/vendor/echarts.min.js
CHINA_MAP := shuanglian/web/static/vendor/china.json

# Dashboard charts: Apache ECharts and the China province shapes (antvis china-geojson, MIT)
# from the npm registry at install time, never committed; the dashboards show their tables
# without them, and a ranked bar instead of the map when only the shapes are missing.
$(ECHARTS) $(CHINA_MAP):
	mkdir -p build/npm $(dir $(ECHARTS))
	npm install --silent --no-save --no-audit --no-fund --prefix build/npm \
	  echarts@$(ECHARTS_VERSION) china-geojson@$(CHINA_GEOJSON_VERSION) \
	  && cp build/npm/node_modules/echarts/dist/echarts.min.js $(ECHARTS) \
	  && cp build/npm/node_modules/china-geojson/src/geojson/china.json $(CHINA_MAP) \
	  || echo "npm unavailable: dashboards show tables without charts"

install: $(BIN)/python $(HTMX) $(ECHARTS)
	$(BIN)/pip install --quiet -e '.[dense]'

# Loads the demo data (idempotent: re-running updates, never duplicates) and serves it.
demo-data: install
	$(BIN)/shuanglian init
	$(BIN)/shuanglian import patents $(DEMO)/patents_sysu_cnki.csv --institution "中山大学"
	$(BIN)/shuanglian import patents $(DEMO)/patents_cnipa_sample.csv --institution "中科大数据研究院"
	$(BIN)/shuanglian import patents $(DEMO)/patents_uspto_sample.xml
	$(BIN)/shuanglian import patents $(DEMO)/patents_nvidia.csv --format csv --mapping $(DEMO)/patents_nvidia.mapping.json --institution "NVIDIA Corporation"
	$(BIN)/shuanglian import enterprises $(DEMO)/enterprises_2002_sample.csv
	$(BIN)/shuanglian import demands $(DEMO)/demands.csv
	$(BIN)/shuanglian import demands $(DEMO)/demands_2020.jsonl --enterprise "$(DEMO_DEMANDS_HOLDER)"
	$(BIN)/shuanglian import listings $(DEMO)/listings_2020.jsonl --institution "$(DEMO_LISTINGS_HOLDER)" --publish
	$(BIN)/shuanglian index build
	$(BIN)/shuanglian demo seed

demo: demo-data
	$(BIN)/shuanglian serve --demo --port $${SHUANGLIAN_PORT:-8000}

test-deps: $(BIN)/python $(HTMX) $(ECHARTS)
	$(BIN)/pip install --quiet -e '.[dense,test,bench]'
	@# Debian's Chromium drives the browser tests; a CJK font so screenshots show Chinese.
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi wqy; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei) \
	  || echo "could not install Debian's chromium: browser tests will fail"; fi

# Every test, on SQLite and on PostgreSQL (tests create and drop their own databases).
test: test-deps
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: test-deps
	$(BIN)/ruff check shuanglian tests benchmarks
	$(BIN)/ruff format --check shuanglian tests benchmarks
	$(BIN)/mypy shuanglian

bench: test-deps
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) var
