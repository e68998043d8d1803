# segkit: two commands from a fresh clone.
#   make demo   create .venv, install segkit, generate sample worlds, run the jobs, print where outputs are
#   make test   the test suite (unit, loaders, features on DuckDB and Spark, notebooks)
#   make bench  benchmarks against the alternatives (not part of make test)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
AS_OF  ?= 2026-03-31
WORLDS := data/generated
OUT    ?= outputs/demo
RUNS   ?= runs
SHARED ?= ../shared/data

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[spark,postgres,dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/segkit generate gas --members 5000 --seed 1 --as-of $(AS_OF) --out $(WORLDS)/gas
	$(BIN)/segkit generate supplements --members 5000 --seed 1 --as-of $(AS_OF) --out $(WORLDS)/supplements
	$(BIN)/segkit features --transactions $(WORLDS)/gas/transactions.csv --members $(WORLDS)/gas/members.csv \
		--as-of $(AS_OF) --out $(OUT)/gas_features.csv
	$(BIN)/segkit features --transactions $(WORLDS)/supplements/transactions.csv \
		--members $(WORLDS)/supplements/members.csv --as-of $(AS_OF) --out $(OUT)/supplements_features.csv
	$(BIN)/segkit features --transactions data/samples/crm_export_gbk.csv --config data/samples/crm_export_gbk.yaml \
		--as-of $(AS_OF) --out $(OUT)/crm_sample_features.csv
	$(BIN)/segkit rfm --transactions $(WORLDS)/supplements/transactions.csv \
		--members $(WORLDS)/supplements/members.csv --as-of $(AS_OF) --out $(OUT)/supplements_rfm.csv
	$(BIN)/segkit alerts --transactions $(WORLDS)/gas/transactions.csv --members $(WORLDS)/gas/members.csv \
		--as-of $(AS_OF) --settings data/samples/alerts_gas.yaml --out $(OUT)/gas_alerts.csv
	$(BIN)/segkit export --alerts $(OUT)/gas_alerts.csv --members $(WORLDS)/gas/members.csv \
		--advisors $(WORLDS)/gas/advisors.csv --as-of $(AS_OF) --ledger $(OUT)/ledger.sqlite --out $(OUT)/call_center \
		--config data/samples/contact.yaml
	$(BIN)/segkit care --members $(WORLDS)/supplements/members.csv --advisors $(WORLDS)/supplements/advisors.csv \
		--segments $(OUT)/supplements_rfm.csv --as-of $(AS_OF) --ledger $(OUT)/ledger_supplements.sqlite \
		--out $(OUT)/care_supplements
	@if [ -f $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv ]; then \
		$(BIN)/segkit features --transactions $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv \
			--config data/mappings/online_retail_ii.yaml --as-of 2011-12-09 --out $(OUT)/online_retail_features.csv && \
		$(BIN)/segkit rfm --transactions $(SHARED)/online_retail_ii_subset/online_retail_ii_subset.csv \
			--config data/mappings/online_retail_ii.yaml --as-of 2011-12-09 --out $(OUT)/online_retail_rfm.csv; fi
	$(BIN)/segkit assign --members $(WORLDS)/supplements/members.csv --advisors $(WORLDS)/supplements/advisors.csv \
		--transactions $(WORLDS)/supplements/transactions.csv --as-of $(AS_OF) --out $(OUT)/advisor_books
	$(BIN)/segkit generate survey --benefits 12 --respondents 200 --seed 1 --out $(WORLDS)/survey
	$(BIN)/segkit survey --screening $(WORLDS)/survey/screening.csv --costs $(WORLDS)/survey/costs.csv \
		--ranking $(WORLDS)/survey/ranking.csv --constant-sum $(WORLDS)/survey/constant_sum.csv \
		--respondents $(WORLDS)/survey/respondents.csv --config $(WORLDS)/survey/survey.yaml --out $(OUT)/benefit_ranking
	@if [ -f $(SHARED)/cdnow/CDNOW_sample.txt ]; then \
		$(BIN)/segkit clv --transactions $(SHARED)/cdnow/CDNOW_sample.txt --config data/mappings/cdnow_sample.yaml \
			--as-of 1997-09-30 --horizon 39 --out $(OUT)/cdnow_clv.csv; fi
	$(BIN)/papermill --log-level WARNING notebooks/churn_alerts.ipynb $(OUT)/churn_alerts.ipynb \
		-p transactions_path $(CURDIR)/$(WORLDS)/gas/transactions.csv -p members_path $(CURDIR)/$(WORLDS)/gas/members.csv \
		-p truth_path $(CURDIR)/$(WORLDS)/gas/truth.csv -p as_of $(AS_OF) -p output_dir $(CURDIR)/$(OUT)/churn_alerts
	$(BIN)/jupyter nbconvert --to html --no-input --log-level WARN $(OUT)/churn_alerts.ipynb --output-dir $(OUT)
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
	@echo "  RFM segments:       $(OUT)/*_rfm.csv, $(OUT)/*_rfm.segment_summary.csv"
	@echo "  overdue alerts:     $(OUT)/gas_alerts.csv (who to call and why)"
	@echo "  call center:        $(OUT)/call_center/ (call_list.csv/.xlsx, held_back.csv; ledger $(OUT)/ledger.sqlite),"
	@echo "                      $(OUT)/care_supplements/ (birthday and holiday greetings)"
	@echo "  advisor books:      $(OUT)/advisor_books/ (assignments.csv, handover.csv, advisor_summary.csv, charts/)"
	@echo "  benefit survey:     $(OUT)/benefit_ranking/ (ranking.csv, ranking_by_tier.csv, survey_problems.csv, charts/)"
	@echo "  customer value:     $(OUT)/cdnow_clv.csv (BG/NBD + Gamma-Gamma on CDNOW: P(alive), purchases, CLV)"
	@echo "  churn alert backtest: $(OUT)/churn_alerts.html, $(OUT)/churn_alerts/ (alerts against the world's truth)"
	@echo "  scheduled runs:     $(RUNS)/<job>/<date>/ (manifest.json, executed notebooks, HTML reports, files):"
	@echo "                      $(RUNS)/daily_alerts/$(AS_OF)/ (alerts + call list), $(RUNS)/monthly_segmentation/,"
	@echo "                      $(RUNS)/monthly_assignment/, $(RUNS)/benefit_survey/, and on the real data"
	@echo "                      $(RUNS)/monthly_online_retail/2011-12-09/, $(RUNS)/cdnow_customer_value/1998-06-30/"
	@echo "  reports:            $(RUNS)/*/*/*.html (open in any browser, offline)"
	@echo "Open JupyterLab with: $(BIN)/jupyter lab notebooks/"

test: install
	$(BIN)/python -m pytest -q tests --nbmake notebooks

bench: install
	$(BIN)/python -m pip install --quiet -e '.[spark,postgres,dev,bench]'
	$(BIN)/python benchmarks/bench_features.py
	$(BIN)/python benchmarks/bench_segment.py
	$(BIN)/python benchmarks/bench_alerts.py
	$(BIN)/python benchmarks/backtest_alerts.py
	$(BIN)/python benchmarks/bench_clv.py
	$(BIN)/python benchmarks/compare_churn.py
	$(BIN)/python benchmarks/bench_callcenter.py
	$(BIN)/python benchmarks/bench_assignment.py
	$(BIN)/python benchmarks/bench_survey.py

clean:
	rm -rf $(WORLDS) outputs $(RUNS) .pytest_cache
