# segkit: two commands from a fresh clone.
#   make demo   create .venv, install segkit, generate sample worlds, run the jobs, print where outputs are
#   make test   lint (ruff check, ruff format --check), the test suite (unit, loaders, features on DuckDB and
#               Spark, each notebook once), then the docs
#               (built from the notebooks the tests executed) and a look at them in headless Chromium
#   make test-fast  lint and the unit tests only, in about a minute: no notebooks, jobs, Spark, docs or browser
#   make docs   the documentation site: docs/_build/html/index.html
#   make bench  benchmarks against the alternatives (not part of make test)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed
AS_OF  ?= 2026-03-31
WORLDS := data/generated
OUT    ?= outputs/demo
RUNS   ?= runs
SHARED ?= ../shared/data

.PHONY: install demo lint test test-fast docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[spark,postgres,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/segkit generate gas --n-members 5000 --seed 1 --as-of $(AS_OF) --out $(WORLDS)/gas
	$(BIN)/segkit generate supplements --n-members 5000 --seed 1 --as-of $(AS_OF) --out $(WORLDS)/supplements
	$(BIN)/segkit features --transactions $(WORLDS)/gas/transactions.csv --members $(WORLDS)/gas/members.csv \
		--as-of $(AS_OF) --out $(OUT)/gas_features.csv
	$(BIN)/segkit features --transactions $(WORLDS)/supplements/transactions.csv \
		--members $(WORLDS)/supplements/members.csv --as-of $(AS_OF) --out $(OUT)/supplements_features.csv
	$(BIN)/segkit features --transactions data/samples/crm_export_gbk.csv --mapping data/samples/crm_export_gbk.yaml \
		--as-of $(AS_OF) --out $(OUT)/crm_sample_features.csv
	$(BIN)/segkit segment --transactions $(WORLDS)/supplements/transactions.csv \
		--members $(WORLDS)/supplements/members.csv --as-of $(AS_OF) --out $(OUT)/supplements_rfm.csv
	$(BIN)/segkit alerts --transactions $(WORLDS)/gas/transactions.csv --members $(WORLDS)/gas/members.csv \
		--as-of $(AS_OF) --settings data/samples/alerts_gas.yaml --out $(OUT)/gas_alerts.csv
	$(BIN)/segkit ledger init --ledger $(OUT)/ledger.sqlite
	$(BIN)/segkit export --alerts $(OUT)/gas_alerts.csv --members $(WORLDS)/gas/members.csv \
		--advisors $(WORLDS)/gas/advisors.csv --as-of $(AS_OF) --ledger $(OUT)/ledger.sqlite --out $(OUT)/call_center \
		--settings data/samples/contact.yaml
	$(BIN)/segkit ledger init --ledger $(OUT)/ledger_supplements.sqlite
	$(BIN)/segkit care --members $(WORLDS)/supplements/members.csv --advisors $(WORLDS)/supplements/advisors.csv \
		--vip $(OUT)/supplements_rfm.csv --as-of $(AS_OF) --ledger $(OUT)/ledger_supplements.sqlite \
		--out $(OUT)/care_supplements
	@if [ -f $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv ]; then \
		$(BIN)/segkit features --transactions $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv \
			--mapping data/mappings/online_retail_ii.yaml --as-of 2011-12-09 --out $(OUT)/online_retail_features.csv && \
		$(BIN)/segkit segment --transactions $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv \
			--mapping data/mappings/online_retail_ii.yaml --as-of 2011-12-09 --out $(OUT)/online_retail_rfm.csv; fi
	$(BIN)/segkit assign --members $(WORLDS)/supplements/members.csv --advisors $(WORLDS)/supplements/advisors.csv \
		--transactions $(WORLDS)/supplements/transactions.csv --as-of $(AS_OF) --out $(OUT)/advisor_books
	$(BIN)/segkit generate survey --benefits 12 --respondents 200 --seed 1 --out $(WORLDS)/survey
	$(BIN)/segkit survey --screening $(WORLDS)/survey/screening.csv --costs $(WORLDS)/survey/costs.csv \
		--ranking $(WORLDS)/survey/ranking.csv --constant-sum $(WORLDS)/survey/constant_sum.csv \
		--respondents $(WORLDS)/survey/respondents.csv --settings $(WORLDS)/survey/survey.yaml --out $(OUT)/benefit_ranking
	@if [ -f $(SHARED)/cdnow/CDNOW_sample.txt ]; then \
		$(BIN)/segkit clv --transactions $(SHARED)/cdnow/CDNOW_sample.txt --mapping data/mappings/cdnow_sample.yaml \
			--as-of 1997-09-30 --holdout-end 1998-06-30 --horizon 39 --out $(OUT)/cdnow_clv.csv; fi
	$(BIN)/papermill --log-level WARNING notebooks/churn_alerts.ipynb $(OUT)/churn_alerts.ipynb \
		-p transactions_path $(abspath $(WORLDS))/gas/transactions.csv -p members_path $(abspath $(WORLDS))/gas/members.csv \
		-p truth_path $(abspath $(WORLDS))/gas/truth.csv -p as_of $(AS_OF) -p output_dir $(abspath $(OUT))/churn_alerts
	$(BIN)/jupyter nbconvert --to html --no-input --log-level WARN $(OUT)/churn_alerts.ipynb --output-dir $(OUT)
	$(BIN)/segkit ledger init --ledger $(RUNS)/daily_alerts.ledger.sqlite
	$(BIN)/segkit run pipelines/daily_alerts.yaml --date $(AS_OF) --out $(RUNS)
	$(BIN)/segkit run pipelines/monthly_segmentation.yaml --date $(AS_OF) --out $(RUNS)
	$(BIN)/segkit run pipelines/monthly_assignment.yaml --date $(AS_OF) --out $(RUNS)
	$(BIN)/segkit run pipelines/benefit_survey.yaml --date $(AS_OF) --out $(RUNS)
	@if [ -f $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv ]; then \
		$(BIN)/segkit run pipelines/monthly_online_retail.yaml --date 2011-12-09 --out $(RUNS) \
			--input transactions=$(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv; fi
	@if [ -f $(SHARED)/cdnow/CDNOW_sample.txt ]; then \
		$(BIN)/segkit run pipelines/cdnow_customer_value.yaml --date 1998-06-30 --out $(RUNS) \
			--input transactions=$(SHARED)/cdnow/CDNOW_sample.txt; fi
	@echo
	@echo "Demo outputs:"
	@echo "  generated worlds:   $(WORLDS)/gas, $(WORLDS)/supplements (transactions, members, advisors, truth),"
	@echo "                      $(WORLDS)/survey (a benefit survey with its truth)"
	@echo "  member features:    $(OUT)/*_features.csv (rejects beside each, *_rejects.csv)"
	@echo "  RFM segments:       $(OUT)/*_rfm.csv, beside each its segment summary, tier changes, stage transitions,"
	@echo "                      cohorts and sales split ($(OUT)/*_rfm.*.csv)"
	@echo "  overdue alerts:     $(OUT)/gas_alerts.csv (who to call and why), $(OUT)/gas_alerts.member_rhythms.csv"
	@echo "  call center:        $(OUT)/call_center/ (call_list.csv/.xlsx, held_back.csv; ledger $(OUT)/ledger.sqlite),"
	@echo "                      $(OUT)/care_supplements/ (birthday and holiday greetings)"
	@echo "  advisor books:      $(OUT)/advisor_books/ (assignments.csv, handover.csv, advisor_summary.csv, charts/)"
	@echo "  benefit survey:     $(OUT)/benefit_ranking/ (ranking.csv, ranking_by_tier.csv, survey_problems.csv, charts/)"
	@echo "  customer value:     $(OUT)/cdnow_clv.csv (BG/NBD + Gamma-Gamma on CDNOW: P(alive), purchases, CLV),"
	@echo "                      $(OUT)/cdnow_clv.holdout_check.csv (forecast against the 39-week holdout)"
	@echo "  churn alert backtest: $(OUT)/churn_alerts.html, $(OUT)/churn_alerts/ (alerts against the world's truth)"
	@echo "  scheduled runs:     $(RUNS)/<job>/<date>/ (manifest.json, executed notebooks, HTML reports, files):"
	@echo "                      $(RUNS)/daily_alerts/$(AS_OF)/ (alerts + call list), $(RUNS)/monthly_segmentation/,"
	@echo "                      $(RUNS)/monthly_assignment/, $(RUNS)/benefit_survey/, and on the real data"
	@echo "                      $(RUNS)/monthly_online_retail/2011-12-09/, $(RUNS)/cdnow_customer_value/1998-06-30/"
	@echo "  reports:            $(RUNS)/*/*/*.html (open in any browser, offline)"
	@echo "Open JupyterLab with: $(BIN)/jupyter lab notebooks/"

# The tests mirror the package: tests/<subpackage>/ (tests/data/, tests/callcenter/, tests/jobs/, ...); what crosses
# subpackages (the CLI, workflows, estimators, packaging, scale, docstrings, docs) is at the top of tests/.
# Each notebook runs once, in tests/jobs/test_notebooks.py, which keeps its executed copy in build/notebooks/; the
# docs render those copies; tests/test_docs.py then opens the built site in headless Chromium.
LINTED := segkit tests benchmarks docs

# ruff: pyflakes, pycodestyle, import order and bugbear, and one formatting (settings in pyproject.toml)
lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

test: lint
	$(BIN)/python -m pytest -q -n auto --dist loadscope tests --ignore=tests/test_docs.py
	$(MAKE) docs
	$(BIN)/python -m pytest -q tests/test_docs.py

# The fast lane, while working: everything but the tests marked slow (large worlds, many random draws, real
# processes, whole jobs) or spark, the notebooks, the scheduled jobs and the docs. make test runs them all.
test-fast: lint
	$(BIN)/python -m pytest -q tests -m "not slow and not spark" --ignore=tests/jobs/test_notebooks.py \
		--ignore=tests/jobs/test_pipelines.py --ignore=tests/test_docs.py

$(DOCS_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

# Offline, warnings as errors, nitpicky; notebooks without an executed copy are executed first (default parameters).
docs: $(DOCS_STAMP)
	$(BIN)/python docs/execute_notebooks.py
	$(BIN)/python -m sphinx -E -W --keep-going -n -q -b html docs docs/_build/html
	@echo "The docs: docs/_build/html/index.html"

bench: install
	$(BIN)/python -m pip install --quiet -e '.[spark,postgres,dev,bench]'
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_segment.py
	$(BIN)/python benchmarks/bench_alerts.py
	$(BIN)/python benchmarks/bench_alerts_history.py
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_csv.py
	$(BIN)/python benchmarks/backtest_alerts.py
	$(BIN)/python benchmarks/bench_clv.py
	$(BIN)/python benchmarks/bench_paretonbd.py
	$(BIN)/python benchmarks/compare_churn.py
	$(BIN)/python benchmarks/bench_callcenter.py
	$(BIN)/python benchmarks/bench_effect_coverage.py
	$(BIN)/python benchmarks/bench_closed_loop.py
	$(BIN)/python benchmarks/bench_assignment.py
	$(BIN)/python benchmarks/bench_survey.py
	$(BIN)/python benchmarks/bench_spark.py
	$(BIN)/python benchmarks/bench_10m.py

clean:
	rm -rf $(WORLDS) outputs $(RUNS) .pytest_cache build docs/_build docs/_generated docs/api/generated docs/gallery/*.ipynb
