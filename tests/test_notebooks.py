"""Notebooks run end to end under papermill on a small world, and their jupytext pairs are in sync; each
notebook's run is compared with the same workflow called from Python and from the CLI on the same inputs and
settings file (the tables must be identical); the parameter checks every notebook runs first are unit-tested."""
from __future__ import annotations

import json

import jupytext
import pandas as pd
import papermill as pm
import pytest

import segkit
from conftest import AS_OF, REPO, SIMULATED_END
from segkit.cli import main
from segkit.jobs import NOTEBOOKS as DECLARED
from segkit.jobs import ParameterError, checked_parameters, notebook_parameters
from segkit.synth import generate

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def _same_files(pairs: dict) -> None:
    """Each (a, b) pair of files holds the same bytes."""
    for name, (a, b) in pairs.items():
        assert a.read_bytes() == b.read_bytes(), f"{name}: {a} and {b} differ"


def _cli(*argv) -> None:
    assert main([str(arg) for arg in argv]) == 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_jupytext_pair_in_sync(notebook):
    paired = notebook.with_suffix(".py")
    assert paired.exists(), f"{notebook.name} has no paired .py (run: jupytext --set-formats ipynb,py:percent)"
    from_py = jupytext.read(paired)
    from_ipynb = jupytext.read(notebook)
    sources = lambda nb: [(c.cell_type, c.source.strip()) for c in nb.cells]  # noqa: E731
    assert sources(from_py) == sources(from_ipynb), f"{notebook.name} and {paired.name} differ: run jupytext --sync"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebooks_have_no_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert not any(cell.get("outputs") for cell in cells), f"clear the outputs of {notebook.name} before committing"


def test_member_features_notebook_runs(tmp_path, gas_world):
    paths = gas_world.write(tmp_path / "world")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "member_features.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "as_of": AS_OF, "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Plotly.newPlot" in executed          # figures embedded, drawable offline
    assert not any(phone in executed for phone in gas_world.members["phone"])
    # the same workflows from Python and the CLI: loading (the rejects) and features
    _cli("features", "--transactions", paths["transactions"], "--members", paths["members"], "--as-of", AS_OF,
         "--out", tmp_path / "cli" / "features.parquet")
    transactions = segkit.load_transactions(paths["transactions"], as_of=AS_OF)
    members = segkit.load_members(paths["members"])
    python = segkit.member_features(transactions.table, AS_OF, members.table).write(tmp_path / "python")
    transactions.write(tmp_path / "python" / "transactions.csv")
    _same_files({"features": (out / "member_features.parquet", tmp_path / "cli" / "features.parquet"),
                 "features from Python": (out / "member_features.parquet", python[0]),
                 "rejects": (out / "transactions_rejects.csv", tmp_path / "cli" / "features.transactions_rejects.csv"),
                 "rejects from Python": (out / "transactions_rejects.csv",
                                         tmp_path / "python" / "transactions.transactions_rejects.csv")})


def test_segmentation_is_the_same_from_the_notebook_python_and_the_cli(tmp_path, supplements_world):
    # levels and ties in the settings file, not in parameters: the notebook's parameters (None) must not override them
    paths = supplements_world.write(tmp_path / "world")
    settings = tmp_path / "settings.yaml"
    settings.write_text("rfm: {levels: 4, ties: quantile}\nlifecycle: {active: 1.5, at_risk: 3, dormant: 6}\n"
                        "snapshot_months: 3\n")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "segmentation.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "as_of": AS_OF, "settings_path": str(settings), "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    rfm = pd.read_csv(out / "rfm.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(rfm) == len(supplements_world.members) and set(rfm["r_score"].dropna()) == {1, 2, 3, 4}
    for name in ("charts/rfm_heatmap.html", "charts/stages.html", "charts/plotly.min.js"):
        assert (out / name).exists(), name
    executed = (tmp_path / "executed.ipynb").read_text()
    assert not any(name in executed for name in supplements_world.members["name"].head(200))
    assert not any(phone in executed for phone in supplements_world.members["phone"].head(200))

    _cli("segment", "--transactions", paths["transactions"], "--members", paths["members"], "--as-of", AS_OF,
         "--settings", settings, "--out", tmp_path / "cli" / "rfm.csv")
    python = segkit.segment_members(segkit.load_transactions(paths["transactions"], as_of=AS_OF).table, AS_OF,
                                    segkit.load_members(paths["members"]).table, settings)
    python.write(tmp_path / "python")
    files = ["rfm.csv", "segment_summary.csv", "tier_changes.csv", "stage_transitions.csv", "cohort_retention.csv",
             "sales_split.csv"]
    _same_files({name: (out / name, tmp_path / "python" / name) for name in files})
    _same_files({name: (out / name, tmp_path / "cli" / ("rfm.csv" if name == "rfm.csv" else f"rfm.{name}"))
                 for name in files})


def test_churn_alerts_and_their_backtest_are_the_same_from_the_notebook_python_and_the_cli(tmp_path):
    # the notebook's quick backtest (compare_methods False: the rules, the interval model, the oracle); every
    # method is tested in tests/test_evaluation.py and runs in the demo notebook
    world = generate("gas", 1500, seed=21, as_of=AS_OF)
    paths = world.write(tmp_path / "world")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "churn_alerts.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "truth_path": str(paths["truth"]), "as_of": AS_OF, "p_active_below": 0.5,
                    "compare_methods": False, "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    alerts = pd.read_csv(out / "alerts.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(alerts) > 10 and (alerts["p_active"] < 0.5).all()
    methods = ["fixed 30 days", "1.5 x own median gap", "interval model", "oracle"]
    backtest = pd.read_csv(out / "backtest.csv", encoding="utf-8-sig")
    assert list(backtest["method"]) == methods
    assert backtest["members"].nunique() == 1 and backtest["median_days_to_alert"].notna().sum() == 4
    settings = tmp_path / "alerts.yaml"
    settings.write_text("p_active_below: 0.5\n")
    _cli("backtest", "--transactions", paths["transactions"], "--members", paths["members"], "--truth", paths["truth"],
         "--as-of", AS_OF, "--settings", settings, "--methods", *methods,
         "--out", tmp_path / "cli" / "backtest.csv")
    members = segkit.load_members(paths["members"]).table
    python = segkit.backtest_churn(segkit.load_transactions(paths["transactions"]).table, [AS_OF], members,
                                   truth=segkit.evaluation.read_truth(paths["truth"]), settings={"p_active_below": 0.5},
                                   methods=methods, label=paths["transactions"].stem)
    python.write(tmp_path / "python")
    _same_files({"backtest": (out / "backtest.csv", tmp_path / "cli" / "backtest.csv"),
                 "backtest from Python": (out / "backtest.csv", tmp_path / "python" / "backtest.csv")})
    rhythms = pd.read_csv(out / "member_rhythms.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(rhythms) == len(world.members)
    for name in ("survival_by_household_size", "overdue_days", "alert_probability", "backtest"):
        assert (out / "charts" / f"{name}.html").exists(), name
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Plotly.newPlot" in executed
    assert not any(name in executed for name in world.members["name"].head(300))
    assert not any(phone in executed for phone in world.members["phone"])


def test_call_list_notebook_masks_people_and_reruns_identically(tmp_path, gas_world):
    from segkit.callcenter import Ledger
    from segkit.churn import churn_alerts

    paths = gas_world.write(tmp_path / "world")
    churn_alerts(gas_world.transactions, AS_OF, gas_world.members).alerts.to_csv(tmp_path / "alerts.csv", index=False)
    parameters = {"alerts_path": str(tmp_path / "alerts.csv"), "members_path": str(paths["members"]),
                  "advisors_path": str(paths["advisors"]), "ledger": str(tmp_path / "ledger.sqlite"), "as_of": AS_OF}
    Ledger(tmp_path / "ledger.sqlite", create=True)
    for run in ("first", "again"):
        pm.execute_notebook(str(REPO / "notebooks" / "call_list.ipynb"), str(tmp_path / f"{run}.ipynb"),
                            parameters={**parameters, "output_dir": str(tmp_path / run)},
                            cwd=str(REPO / "notebooks"), progress_bar=False)
    calls = pd.read_csv(tmp_path / "first" / "calls" / "call_list.csv", dtype=str, encoding="utf-8-sig")
    assert len(calls) > 5 and calls["phone"].isin(gas_world.members["phone"]).all()   # in full: for the call center
    for name in ("calls/call_list.csv", "calls/call_list.xlsx", "calls/held_back.csv", "care/call_list.csv"):
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert Ledger(tmp_path / "ledger.sqlite").row_counts()["runs"] == 2          # churn + care, recorded once
    executed = (tmp_path / "first.ipynb").read_text()
    assert "Plotly.newPlot" in executed and "****" in executed
    assert not any(phone in executed for phone in calls["phone"])
    assert not any(name in executed for name in calls["name"])


def test_campaign_effect_is_the_same_from_the_notebook_python_and_the_cli(tmp_path, simulated_call_center):
    # a ledger with control groups and the agents' reports, made by the closed loop (segkit simulate)
    from segkit.callcenter import Ledger

    ledger, transactions = simulated_call_center / "ledger.sqlite", simulated_call_center / "transactions.csv"
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "campaign_effect.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"ledger": str(ledger), "transactions_path": str(transactions), "as_of": SIMULATED_END,
                    "window_days": 10, "language": "en", "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    effect = pd.read_csv(out / "effect.csv", encoding="utf-8-sig")
    everyone = effect.iloc[0]
    assert (everyone.campaign, everyone.segment) == ("all", "all")
    assert everyone.called > 100 and everyone.control > 20 and everyone.agent_won_back > 0
    assert {"month:2026-02", "month:2026-03"} <= set(effect["segment"])
    for name in ("effect.html", "charts/uplift.html", "charts/uplift_by_month.html", "charts/plotly.min.js"):
        assert (out / name).is_file(), name
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Plotly.newPlot" in executed and "10-day purchase rate" in executed
    assert "Won back (agents)" in executed and "List days to detect" in executed     # the agents', the power figure
    assert not (out / "demo_simulation").exists()                                     # no demo with a ledger

    _cli("effect", "--ledger", ledger, "--transactions", transactions, "--as-of", SIMULATED_END, "--window-days", 10,
         "--out", tmp_path / "cli")
    python = segkit.campaign_effect(Ledger(ledger), segkit.load_transactions(transactions, as_of=SIMULATED_END),
                                    SIMULATED_END, 10)
    python.write(tmp_path / "python")
    _same_files({"effect": (out / "effect.csv", tmp_path / "cli" / "effect.csv"),
                 "effect from Python": (out / "effect.csv", tmp_path / "python" / "effect.csv")})


def test_advisor_books_are_the_same_from_the_notebook_python_and_the_cli(tmp_path, supplements_world):
    paths = supplements_world.write(tmp_path / "world")
    settings = tmp_path / "assignment.yaml"
    settings.write_text("continuity_weight: 5\n")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "advisor_assignment.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "advisors_path": str(paths["advisors"]), "as_of": AS_OF, "settings_path": str(settings),
                    "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, encoding="utf-8-sig")
    assert len(assignments) == len(supplements_world.members)
    for name in ("charts/book_load.html", "charts/grade_by_level.html", "charts/team_moves.html"):
        assert (out / name).exists(), name
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Plotly.newPlot" in executed
    assert not any(phone in executed for phone in supplements_world.members["phone"])

    _cli("assign", "--transactions", paths["transactions"], "--members", paths["members"], "--advisors",
         paths["advisors"], "--as-of", AS_OF, "--settings", settings, "--out", tmp_path / "cli")
    plan = segkit.plan_books(segkit.load_transactions(paths["transactions"], as_of=AS_OF).table,
                             segkit.load_members(paths["members"]).table, segkit.load_advisors(paths["advisors"]).table,
                             AS_OF, settings)
    plan.write(tmp_path / "python")
    assert plan.settings.continuity_weight == 5
    files = ["assignments.csv", "handover.csv", "advisor_summary.csv"]
    _same_files({name: (out / name, tmp_path / "cli" / name) for name in files})
    _same_files({f"{name} from Python": (out / name, tmp_path / "python" / name) for name in files})


def test_the_benefit_ranking_is_the_same_from_the_notebook_python_and_the_cli(tmp_path):
    from segkit.survey import read_survey
    from segkit.synth.survey import generate_survey, write_survey

    paths = write_survey(generate_survey(10, 80, seed=3), tmp_path / "survey")
    settings = tmp_path / "survey.yaml"
    settings.write_text("budget: 300\nbootstrap: 200\n")
    inputs = {name: paths[name] for name in ("screening", "costs", "ranking", "constant_sum", "respondents")}
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "benefit_survey.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={**{f"{name}_path": str(path) for name, path in inputs.items()}, "settings_path": str(settings),
                    "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    ranking = pd.read_csv(out / "ranking.csv", encoding="utf-8-sig")
    assert set(ranking["status"]) <= {"kept", "dropped_liking", "dropped_cost"} and ranking["final_rank"].notna().any()
    for name in ("liking", "cost", "worths", "agreement"):
        assert (out / "charts" / f"{name}.html").exists(), name
    assert "Plotly.newPlot" in (tmp_path / "executed.ipynb").read_text()

    _cli("survey", *[arg for name, path in inputs.items() for arg in (f"--{name.replace('_', '-')}", path)],
         "--settings", settings, "--out", tmp_path / "cli")
    result = segkit.rank_benefits(read_survey(*inputs.values()), settings)
    result.write(tmp_path / "python")
    assert result.settings.bootstrap == 200
    files = ["ranking.csv", "ranking_by_tier.csv", "survey_problems.csv", "respondent_consistency.csv"]
    _same_files({name: (out / name, tmp_path / "cli" / name) for name in files})
    _same_files({f"{name} from Python": (out / name, tmp_path / "python" / name) for name in files})


@pytest.mark.parametrize("notebook, parameters, name", [
    ("member_features", {"as_of": "31/03/2026"}, "as_of"),
    ("member_features", {"backend": "sqlite"}, "backend"),
    ("segmentation", {"as_of": "31/03/2026"}, "as_of"),
    ("segmentation", {"levels": 6}, "levels"),
    ("segmentation", {"ties": "dense"}, "ties"),
    ("churn_alerts", {"p_active_below": 1.5}, "p_active_below"),
    ("churn_alerts", {"long_gone_days": 0}, "long_gone_days"),
    ("churn_alerts", {"compare_methods": "yes"}, "compare_methods"),
    ("call_list", {"campaign": ""}, "campaign"),
    ("call_list", {"ledger": "postgresql://segkit:secret@db/segkit"}, "ledger"),
    ("call_list", {"alerts_path": "{here}"}, "members_path"),
    ("campaign_effect", {"window_days": 0}, "window_days"),
    ("campaign_effect", {"window_days": 1.5}, "window_days"),
    ("campaign_effect", {"ledger": "postgresql://segkit:secret@db/segkit"}, "ledger"),
    ("campaign_effect", {"ledger": "ledger.sqlite"}, "transactions_path"),
    ("customer_value", {"holdout_end": "1997-01-01"}, "holdout_end"),
    ("customer_value", {"discount_rate": 1.5}, "discount_rate"),
    ("advisor_assignment", {"capacity_max": -1}, "capacity_max"),
    ("advisor_assignment", {"continuity_weight": 1.5}, "continuity_weight"),
    ("advisor_assignment", {"capacity_min": 900, "capacity_max": 800}, "capacity_min"),
    ("benefit_survey", {"budget": -5}, "budget"),
    ("benefit_survey", {"bootstrap": 1.5}, "bootstrap"),
    ("benefit_survey", {"screening_path": "nowhere.csv"}, "screening_path"),
    ("benefit_survey", {"screening_path": "{here}"}, "costs_path"),
])
def test_a_bad_parameter_is_refused_by_the_check_every_notebook_runs_first(tmp_path, notebook, parameters, name):
    """The check a notebook's first cell runs (and the runner, before anything runs) refuses a bad parameter with a
    ParameterError that names it."""
    here = str(REPO / "notebooks" / f"{notebook}.ipynb")
    values = {**notebook_parameters(REPO / "notebooks" / f"{notebook}.ipynb"), "output_dir": str(tmp_path),
              **{key: here if value == "{here}" else value for key, value in parameters.items()}}
    with pytest.raises(ParameterError, match=rf"^parameter {name}: ") as refused:
        checked_parameters(notebook, values)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_declares_its_parameters_and_checks_them_first(tmp_path, notebook):
    source = jupytext.read(notebook)
    cells = [cell for cell in source.cells if cell.cell_type == "code"]
    assert "parameters" in cells[0].metadata.get("tags", [])
    assert f'checked_parameters("{notebook.stem}", globals())' in cells[1].source      # the first thing it runs
    defaults = notebook_parameters(notebook)
    assert list(defaults) == DECLARED[notebook.stem].names                            # declared once, in the package
    checked = checked_parameters(notebook.stem, {**defaults, "output_dir": str(tmp_path / "out")})
    assert checked["output_dir"] == tmp_path / "out" and checked["output_dir"].is_dir()


def test_settings_parameters_default_to_the_settings_file_and_win_when_given(tmp_path):
    defaults = notebook_parameters(REPO / "notebooks" / "churn_alerts.ipynb")
    assert defaults["p_active_below"] is None and defaults["long_gone_days"] is None
    checked = checked_parameters("churn_alerts", {**defaults, "output_dir": str(tmp_path), "p_active_below": 0.5})
    assert checked["p_active_below"] == 0.5 and checked["long_gone_days"] is None and checked["settings_path"] is None


def test_customer_value_is_the_same_from_the_notebook_python_and_the_cli(tmp_path, shared_data):
    cdnow, mapping = shared_data / "cdnow" / "CDNOW_sample.txt", REPO / "data" / "mappings" / "cdnow_sample.yaml"
    settings = tmp_path / "value.yaml"
    settings.write_text("k_max: 3\nhorizon: 39\n")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "customer_value.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(cdnow), "mapping_path": str(mapping), "settings_path": str(settings),
                    "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    value = pd.read_csv(out / "customer_value.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(value) == 2357 and {"p_alive", "holdout_forecast", "clv"} <= set(value.columns)
    assert "actual 1,882" in (tmp_path / "executed.ipynb").read_text()

    _cli("clv", "--transactions", cdnow, "--mapping", mapping, "--as-of", "1997-09-30", "--holdout-end", "1998-06-30",
         "--settings", settings, "--out", tmp_path / "cli" / "clv.csv")
    transactions = segkit.load_transactions(cdnow, mapping, as_of="1998-06-30").table
    segkit.customer_value(transactions, "1997-09-30", "1998-06-30", settings).write(tmp_path / "python")
    _same_files({"value": (out / "customer_value.csv", tmp_path / "cli" / "clv.csv"),
                 "holdout check": (out / "holdout_check.csv", tmp_path / "cli" / "clv.holdout_check.csv"),
                 "value from Python": (out / "customer_value.csv", tmp_path / "python" / "customer_value.csv"),
                 "holdout check from Python": (out / "holdout_check.csv", tmp_path / "python" / "holdout_check.csv")})


def test_call_list_notebook_greets_the_vips_the_alerts_flag_before_a_holiday(tmp_path, gas_world):
    # the gas world has no tiers: VIPs come from the alert step's flags (its member_rhythms.csv), the same
    # VIP rule as the alerts; before the Spring Festival they get a holiday greeting
    from segkit.callcenter import Ledger
    from segkit.churn import churn_alerts

    as_of = "2026-02-12"
    paths = gas_world.write(tmp_path / "world")
    run = churn_alerts(gas_world.transactions, as_of, gas_world.members)
    run.alerts.to_csv(tmp_path / "alerts.csv", index=False)
    run.members.to_csv(tmp_path / "member_rhythms.csv", index=False)
    Ledger(tmp_path / "ledger.sqlite", create=True)
    pm.execute_notebook(str(REPO / "notebooks" / "call_list.ipynb"), str(tmp_path / "executed.ipynb"),
                        parameters={"alerts_path": str(tmp_path / "alerts.csv"), "members_path": str(paths["members"]),
                                    "ledger": str(tmp_path / "ledger.sqlite"), "as_of": as_of,
                                    "vip_path": str(tmp_path / "member_rhythms.csv"),
                                    "output_dir": str(tmp_path / "out")},
                        cwd=str(REPO / "notebooks"), progress_bar=False)
    care = pd.read_csv(tmp_path / "out" / "care" / "call_list.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    vips = set(run.members.loc[run.members["vip"], "member_id"])
    greeted = set(care.loc[care["campaign"] == "holiday", "member_id"])
    assert len(greeted) > 10 and greeted <= vips
