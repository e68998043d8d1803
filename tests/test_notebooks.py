"""Notebooks run end to end under papermill on a small world, and their jupytext pairs are in sync."""
from __future__ import annotations

import json

import jupytext
import pandas as pd
import papermill as pm
import pytest

from conftest import AS_OF, REPO
from segkit.synth import generate

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


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
    assert (out / "member_features.parquet").exists() and (out / "transactions_rejects.csv").exists()
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Plotly.newPlot" in executed          # figures embedded, drawable offline
    assert not any(phone in executed for phone in gas_world.members["phone"])


def test_segmentation_notebook_runs_with_parameters(tmp_path, supplements_world):
    paths = supplements_world.write(tmp_path / "world")
    settings = tmp_path / "settings.yaml"
    settings.write_text("lifecycle: {active: 1.5, at_risk: 3, dormant: 6}\n")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "segmentation.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "as_of": AS_OF, "settings_path": str(settings), "levels": 4, "ties": "quantile",
                    "snapshot_months": 3, "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    rfm = pd.read_csv(out / "rfm.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(rfm) == len(supplements_world.members) and rfm["r_score"].dropna().between(1, 4).all()
    for name in ("segment_summary.csv", "tier_changes.csv", "stage_transitions.csv", "cohort_retention.csv",
                 "sales_split.csv", "charts/rfm_heatmap.html", "charts/stages.html", "charts/plotly.min.js"):
        assert (out / name).exists(), name
    executed = (tmp_path / "executed.ipynb").read_text()
    assert not any(name in executed for name in supplements_world.members["name"].head(200))
    assert not any(phone in executed for phone in supplements_world.members["phone"].head(200))


def test_churn_alerts_notebook_runs_with_truth(tmp_path):
    world = generate("gas", 1500, seed=21, as_of=AS_OF)
    paths = world.write(tmp_path / "world")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "churn_alerts.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "truth_path": str(paths["truth"]), "as_of": AS_OF, "threshold": 0.5, "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    alerts = pd.read_csv(out / "alerts.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(alerts) > 10 and (alerts["p_active"] < 0.5).all()
    backtest = pd.read_csv(out / "backtest.csv", encoding="utf-8-sig")
    assert list(backtest["rule"]) == ["segkit", "oracle", "fixed 30 days", "1.5 x own median gap"]
    methods = pd.read_csv(out / "churn_methods.csv", encoding="utf-8-sig")
    assert len(methods) == 6 and methods["members"].nunique() == 1
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
    with pytest.raises(pm.PapermillExecutionError, match="password"):
        pm.execute_notebook(str(REPO / "notebooks" / "call_list.ipynb"), str(tmp_path / "x.ipynb"),
                            parameters={**parameters, "ledger": "postgresql://segkit:secret@db/segkit",
                                        "output_dir": str(tmp_path / "x")},
                            cwd=str(REPO / "notebooks"), progress_bar=False)


def test_advisor_assignment_notebook_runs_with_parameters(tmp_path, supplements_world):
    paths = supplements_world.write(tmp_path / "world")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "advisor_assignment.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(paths["transactions"]), "members_path": str(paths["members"]),
                    "advisors_path": str(paths["advisors"]), "as_of": AS_OF, "continuity_weight": 5,
                    "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, encoding="utf-8-sig")
    assert len(assignments) == len(supplements_world.members)
    for name in ("handover.csv", "advisor_summary.csv", "charts/book_load.html", "charts/grade_by_level.html",
                 "charts/team_moves.html"):
        assert (out / name).exists(), name
    executed = (tmp_path / "executed.ipynb").read_text()
    assert "Plotly.newPlot" in executed
    assert not any(phone in executed for phone in supplements_world.members["phone"])


def test_benefit_survey_notebook_runs_on_files(tmp_path):
    from segkit.synth.survey import generate_survey, write_survey

    paths = write_survey(generate_survey(10, 80, seed=3), tmp_path / "survey")
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "benefit_survey.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={**{f"{name}_path": str(paths[name]) for name in ("screening", "costs", "ranking", "constant_sum",
                                                                      "respondents")},
                    "budget": 300.0, "bootstrap": 200, "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    ranking = pd.read_csv(out / "ranking.csv", encoding="utf-8-sig")
    assert set(ranking["status"]) <= {"kept", "dropped_liking", "dropped_cost"} and ranking["final_rank"].notna().any()
    for name in ("liking", "cost", "worths", "agreement"):
        assert (out / "charts" / f"{name}.html").exists(), name
    assert "Plotly.newPlot" in (tmp_path / "executed.ipynb").read_text()


@pytest.mark.parametrize("notebook, parameters, message", [
    ("member_features", {"as_of": "31/03/2026"}, "as_of"),
    ("segmentation", {"as_of": "31/03/2026"}, "as_of"),
    ("segmentation", {"levels": 6}, "levels"),
    ("segmentation", {"ties": "dense"}, "ties"),
    ("churn_alerts", {"threshold": 1.5}, "threshold"),
    ("churn_alerts", {"long_gone_days": 0}, "long_gone_days"),
    ("advisor_assignment", {"capacity_max": -1}, "capacity_max"),
    ("advisor_assignment", {"continuity_weight": 1.5}, "continuity_weight"),
    ("advisor_assignment", {"capacity_min": 900, "capacity_max": 800}, "capacity_min"),
    ("benefit_survey", {"budget": -5}, "budget"),
    ("benefit_survey", {"bootstrap": 1.5}, "bootstrap"),
    ("benefit_survey", {"screening_path": "nowhere.csv"}, "screening_path"),
])
def test_notebooks_check_their_parameters_first(tmp_path, notebook, parameters, message):
    """A bad parameter stops a notebook in its first cell, with a message that names it."""
    with pytest.raises(pm.PapermillExecutionError, match=message):
        pm.execute_notebook(str(REPO / "notebooks" / f"{notebook}.ipynb"), str(tmp_path / "x.ipynb"),
                            parameters={"output_dir": str(tmp_path), **parameters},
                            cwd=str(REPO / "notebooks"), progress_bar=False)


def test_customer_value_notebook_on_cdnow(tmp_path, shared_data):
    out = tmp_path / "out"
    pm.execute_notebook(
        str(REPO / "notebooks" / "customer_value.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"transactions_path": str(shared_data / "cdnow" / "CDNOW_sample.txt"),
                    "mapping_path": str(REPO / "data" / "mappings" / "cdnow_sample.yaml"), "k_max": 3,
                    "output_dir": str(out)},
        cwd=str(REPO / "notebooks"), progress_bar=False,
    )
    value = pd.read_csv(out / "customer_value.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(value) == 2357 and {"p_alive", "bgnbd_forecast", "clv"} <= set(value.columns)
    assert "actual 1,882" in (tmp_path / "executed.ipynb").read_text()
    with pytest.raises(pm.PapermillExecutionError, match="holdout_end"):
        pm.execute_notebook(str(REPO / "notebooks" / "customer_value.ipynb"), str(tmp_path / "x.ipynb"),
                            parameters={"holdout_end": "1997-01-01", "output_dir": str(tmp_path)},
                            cwd=str(REPO / "notebooks"), progress_bar=False)


def test_call_list_notebook_greets_the_vips_the_alerts_flag_before_a_holiday(tmp_path, gas_world):
    # the gas world has no tiers: VIPs come from the alert step's flags (its member_rhythms.csv), the same
    # VIP rule as the alerts; before the Spring Festival they get a holiday greeting
    from segkit.churn import churn_alerts

    as_of = "2026-02-12"
    paths = gas_world.write(tmp_path / "world")
    run = churn_alerts(gas_world.transactions, as_of, gas_world.members)
    run.alerts.to_csv(tmp_path / "alerts.csv", index=False)
    run.members.to_csv(tmp_path / "member_rhythms.csv", index=False)
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
