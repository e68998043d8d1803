"""Every notebook runs once, end to end under papermill, on a small world; its executed copy (outputs kept) is
saved for the documentation's gallery (``build/notebooks/``, or ``$SEGKIT_EXECUTED_NOTEBOOKS``). Each run is
compared with the same workflow called from Python and from the CLI on the same inputs and settings file (the tables
must be identical). Most run their demo branch (no input given: the notebook generates a small world), so that what a
newcomer runs first is tested too. Jupytext pairs are in sync, committed notebooks carry no outputs, and the
parameter checks every notebook runs first are unit-tested."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import jupytext
import pandas as pd
import papermill as pm
import pytest
from conftest import AS_OF, REPO, SIMULATED_END

import segkit
from segkit.callcenter import Ledger
from segkit.cli import main
from segkit.jobs import NOTEBOOKS as DECLARED
from segkit.jobs import ParameterError, checked_parameters, notebook_parameters

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
EXECUTED = Path(os.environ.get("SEGKIT_EXECUTED_NOTEBOOKS", REPO / "build" / "notebooks"))


def _run(notebook: str, folder: Path, **parameters) -> str:
    """Run ``notebooks/<notebook>.ipynb`` once, in ``folder`` (inputs are named relative to it, so the executed copy
    reads well in the gallery), in English (the documentation's language); keep the executed copy in ``EXECUTED`` for
    the docs (``make docs`` renders it) and return its text."""
    executed = folder / f"{notebook}.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / f"{notebook}.ipynb"),
        str(executed),
        parameters={"language": "en", "output_dir": "out", **parameters},
        cwd=str(folder),
        progress_bar=False,
    )
    EXECUTED.mkdir(parents=True, exist_ok=True)
    partial = EXECUTED / f".{notebook}.{os.getpid()}.ipynb"
    shutil.copyfile(executed, partial)
    partial.replace(EXECUTED / f"{notebook}.ipynb")  # whole or not at all: the docs may be reading it
    return executed.read_text(encoding="utf-8")


def _demo_world(folder: Path) -> dict[str, Path]:
    """The tables of the world a notebook's demo branch generated into ``folder/out/demo_world``."""
    return {
        name: folder / "out" / "demo_world" / f"{name}.csv" for name in ("transactions", "members", "advisors", "truth")
    }


def _people(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)


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


def test_member_features_notebook_runs(tmp_path):
    # the demo branch: no transactions_path, the notebook generates a gas world into out/demo_world
    executed = _run("member_features", tmp_path, demo_members=600)
    out, paths = tmp_path / "out", _demo_world(tmp_path)
    assert "Plotly.newPlot" in executed  # figures embedded, drawable offline
    assert not any(phone in executed for phone in _people(paths["members"])["phone"] if phone)
    # the same workflows from Python and the CLI: loading (the rejects) and features
    _cli(
        "features",
        "--transactions",
        paths["transactions"],
        "--members",
        paths["members"],
        "--as-of",
        AS_OF,
        "--out",
        tmp_path / "cli" / "features.parquet",
    )
    transactions = segkit.load_transactions(paths["transactions"], as_of=AS_OF)
    members = segkit.load_members(paths["members"])
    python = segkit.member_features(transactions.table, AS_OF, members.table).write(tmp_path / "python")
    transactions.write(tmp_path / "python" / "transactions.csv")
    _same_files(
        {
            "features": (out / "member_features.parquet", tmp_path / "cli" / "features.parquet"),
            "features from Python": (out / "member_features.parquet", python[0]),
            "rejects": (out / "transactions_rejects.csv", tmp_path / "cli" / "features.transactions_rejects.csv"),
            "rejects from Python": (
                out / "transactions_rejects.csv",
                tmp_path / "python" / "transactions.transactions_rejects.csv",
            ),
        }
    )
    # run again into the same folder without members: the first run's members_rejects.csv goes (it stayed, beside
    # files of a run that read no members); what no run listed stays
    listed = (out / "outputs.txt").read_text().splitlines()
    assert "members_rejects.csv" in listed and (out / "members_rejects.csv").exists()
    (out / "notes.txt").write_text("the analyst's own\n")
    pm.execute_notebook(
        str(REPO / "notebooks" / "member_features.ipynb"),
        str(tmp_path / "again.ipynb"),
        parameters={"language": "en", "output_dir": "out", "transactions_path": str(paths["transactions"])},
        cwd=str(tmp_path),
        progress_bar=False,
    )
    assert not (out / "members_rejects.csv").exists() and (out / "notes.txt").exists()
    assert set((out / "outputs.txt").read_text().splitlines()) == set(listed) - {"members_rejects.csv"}


def test_segmentation_is_the_same_from_the_notebook_python_and_the_cli(tmp_path):
    # levels and ties in the settings file, not in parameters: the notebook's parameters (None) must not override them
    (tmp_path / "settings.yaml").write_text(
        "rfm: {levels: 4, ties: quantile}\nlifecycle: {active: 1.5, at_risk: 3, dormant: 6}\nsnapshot_months: 3\n"
    )
    settings = tmp_path / "settings.yaml"
    executed = _run("segmentation", tmp_path, demo_members=800, settings_path="settings.yaml")
    out, paths = tmp_path / "out", _demo_world(tmp_path)
    people = _people(paths["members"])
    rfm = pd.read_csv(out / "rfm.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(rfm) == len(people) and set(rfm["r_score"].dropna()) == {1, 2, 3, 4}
    for name in ("charts/rfm_heatmap.html", "charts/stages.html", "charts/plotly.min.js"):
        assert (out / name).exists(), name
    assert not any(name in executed for name in people["name"].head(200) if name)
    assert not any(phone in executed for phone in people["phone"].head(200) if phone)

    _cli(
        "segment",
        "--transactions",
        paths["transactions"],
        "--members",
        paths["members"],
        "--as-of",
        AS_OF,
        "--settings",
        settings,
        "--out",
        tmp_path / "cli" / "rfm.csv",
    )
    python = segkit.segment_members(
        segkit.load_transactions(paths["transactions"], as_of=AS_OF).table,
        AS_OF,
        segkit.load_members(paths["members"]).table,
        settings,
    )
    python.write(tmp_path / "python")
    files = [
        "rfm.csv",
        "segment_summary.csv",
        "tier_changes.csv",
        "stage_transitions.csv",
        "cohort_retention.csv",
        "sales_split.csv",
    ]
    _same_files({name: (out / name, tmp_path / "python" / name) for name in files})
    _same_files(
        {name: (out / name, tmp_path / "cli" / ("rfm.csv" if name == "rfm.csv" else f"rfm.{name}")) for name in files}
    )


def test_churn_alerts_and_their_backtest_are_the_same_from_the_notebook_python_and_the_cli(tmp_path):
    # the demo branch (a gas world with its truth), with the quick backtest (compare_methods False: the rules, the
    # interval model, the oracle); every method is tested in tests/evaluation/test_evaluation.py and runs in the
    # demo notebook
    executed = _run("churn_alerts", tmp_path, demo_members=1500, p_active_below=0.5, compare_methods=False)
    out, paths = tmp_path / "out", _demo_world(tmp_path)
    people = _people(paths["members"])
    alerts = pd.read_csv(out / "alerts.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(alerts) > 10 and (alerts["p_active"] < 0.5).all()
    methods = ["fixed 30 days", "1.5 x own median gap", "interval model", "oracle"]
    backtest = pd.read_csv(out / "backtest.csv", encoding="utf-8-sig")
    assert list(backtest["method"]) == methods
    assert backtest["members"].nunique() == 1 and backtest["median_days_to_alert"].notna().sum() == 4
    settings = tmp_path / "alerts.yaml"
    settings.write_text("p_active_below: 0.5\n")
    _cli(
        "backtest",
        "--transactions",
        paths["transactions"],
        "--members",
        paths["members"],
        "--truth",
        paths["truth"],
        "--as-of",
        AS_OF,
        "--settings",
        settings,
        "--methods",
        *methods,
        "--out",
        tmp_path / "cli" / "backtest.csv",
    )
    members = segkit.load_members(paths["members"]).table
    python = segkit.backtest_churn(
        segkit.load_transactions(paths["transactions"]).table,
        [AS_OF],
        members,
        truth=segkit.evaluation.read_truth(paths["truth"]),
        settings={"p_active_below": 0.5},
        methods=methods,
        label=paths["transactions"].stem,
    )
    python.write(tmp_path / "python")
    _same_files(
        {
            "backtest": (out / "backtest.csv", tmp_path / "cli" / "backtest.csv"),
            "backtest from Python": (out / "backtest.csv", tmp_path / "python" / "backtest.csv"),
        }
    )
    rhythms = pd.read_csv(out / "member_rhythms.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(rhythms) == len(people)
    for name in ("survival_by_household_size", "overdue_days", "alert_probability", "backtest"):
        assert (out / "charts" / f"{name}.html").exists(), name
    assert "Plotly.newPlot" in executed
    assert not any(name in executed for name in people["name"].head(300) if name)
    assert not any(phone in executed for phone in people["phone"] if phone)


def test_call_list_notebook_masks_people_greets_vips_before_a_holiday_and_reruns_identically(tmp_path):
    # the demo branch: a gas world, its alerts (their member_rhythms.csv flags the VIPs: the gas world has no tiers)
    # and a new ledger; five days before the Spring Festival, so the VIPs get a holiday greeting
    from segkit.callcenter import Ledger

    as_of = "2026-02-12"
    executed = _run("call_list", tmp_path, as_of=as_of, demo_members=600)
    out, paths = tmp_path / "out", _demo_world(tmp_path)
    calls = pd.read_csv(out / "calls" / "call_list.csv", dtype=str, encoding="utf-8-sig")
    people = _people(paths["members"])
    assert len(calls) > 5 and calls["phone"].isin(people["phone"]).all()  # in full: for the call center
    assert "Plotly.newPlot" in executed and "****" in executed
    assert not any(phone in executed for phone in calls["phone"])
    assert not any(name in executed for name in calls["name"])

    rhythms = pd.read_csv(out / "demo_alerts" / "member_rhythms.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    care = pd.read_csv(out / "care" / "call_list.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    greeted = set(care.loc[care["campaign"] == "holiday", "member_id"])
    assert len(greeted) > 10 and greeted <= set(rhythms.loc[rhythms["vip"], "member_id"])

    # the same day again, from Python on the same ledger: the same files, nothing more recorded
    ledger = Ledger(out / "demo_ledger.sqlite")
    loaded = segkit.load_members(paths["members"])
    advisors = segkit.load_advisors(paths["advisors"]).table
    unmapped = loaded.report.ignored_columns
    segkit.export_calls(
        out / "demo_alerts" / "alerts.csv",
        loaded.table,
        as_of,
        ledger,
        tmp_path / "again" / "calls",
        "churn",
        advisors,
        {"language": "en"},
        unmapped_columns=unmapped,
    )
    segkit.care_calls(
        loaded.table,
        as_of,
        ledger,
        tmp_path / "again" / "care",
        out / "demo_alerts" / "member_rhythms.csv",
        advisors=advisors,
        settings={"language": "en"},
        unmapped_columns=unmapped,
    )
    for name in ("calls/call_list.csv", "calls/call_list.xlsx", "calls/held_back.csv", "care/call_list.csv"):
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name
    assert ledger.row_counts()["runs"] == 2  # churn + care, recorded once


def test_campaign_effect_is_the_same_from_the_notebook_python_and_the_cli(tmp_path, simulated_call_center):
    # a ledger with control groups and the agents' reports, made by the closed loop (segkit simulate)
    from segkit.callcenter import Ledger

    for name in ("ledger.sqlite", "transactions.csv"):
        shutil.copy(simulated_call_center / name, tmp_path / name)
    ledger, transactions = tmp_path / "ledger.sqlite", tmp_path / "transactions.csv"
    out = tmp_path / "out"
    executed = _run(
        "campaign_effect",
        tmp_path,
        ledger="ledger.sqlite",
        transactions_path="transactions.csv",
        as_of=SIMULATED_END,
        window_days=10,
    )
    effect = pd.read_csv(out / "effect.csv", encoding="utf-8-sig")
    everyone = effect.iloc[0]
    assert (everyone.campaign, everyone.segment) == ("all", "all")
    assert everyone.called > 100 and everyone.control > 20 and everyone.agent_won_back > 0
    assert {"month:2026-02", "month:2026-03"} <= set(effect["segment"])
    for name in ("effect.html", "charts/uplift.html", "charts/uplift_by_month.html", "charts/plotly.min.js"):
        assert (out / name).is_file(), name
    assert "Plotly.newPlot" in executed and "10-day purchase rate" in executed
    assert "Won back (agents)" in executed and "List days to detect" in executed  # the agents', the power figure
    assert not (out / "demo_simulation").exists()  # no demo with a ledger

    _cli(
        "effect",
        "--ledger",
        ledger,
        "--transactions",
        transactions,
        "--as-of",
        SIMULATED_END,
        "--window-days",
        10,
        "--out",
        tmp_path / "cli",
    )
    python = segkit.campaign_effect(
        Ledger(ledger), segkit.load_transactions(transactions, as_of=SIMULATED_END), SIMULATED_END, 10
    )
    python.write(tmp_path / "python")
    _same_files(
        {
            "effect": (out / "effect.csv", tmp_path / "cli" / "effect.csv"),
            "effect from Python": (out / "effect.csv", tmp_path / "python" / "effect.csv"),
        }
    )


def test_advisor_books_are_the_same_from_the_notebook_python_and_the_cli(tmp_path):
    settings = tmp_path / "assignment.yaml"
    settings.write_text("continuity_weight: 5\n")
    executed = _run("advisor_assignment", tmp_path, demo_members=800, settings_path="assignment.yaml")
    out, paths = tmp_path / "out", _demo_world(tmp_path)
    people = _people(paths["members"])
    assignments = pd.read_csv(out / "assignments.csv", dtype=str, encoding="utf-8-sig")
    assert len(assignments) == len(people)
    for name in ("charts/book_load.html", "charts/grade_by_level.html", "charts/team_moves.html"):
        assert (out / name).exists(), name
    assert "Plotly.newPlot" in executed
    assert not any(phone in executed for phone in people["phone"] if phone)

    _cli(
        "assign",
        "--transactions",
        paths["transactions"],
        "--members",
        paths["members"],
        "--advisors",
        paths["advisors"],
        "--as-of",
        AS_OF,
        "--settings",
        settings,
        "--out",
        tmp_path / "cli",
    )
    plan = segkit.plan_books(
        segkit.load_transactions(paths["transactions"], as_of=AS_OF).table,
        segkit.load_members(paths["members"]).table,
        segkit.load_advisors(paths["advisors"]).table,
        AS_OF,
        settings,
    )
    plan.write(tmp_path / "python")
    assert plan.settings.continuity_weight == 5
    files = ["assignments.csv", "handover.csv", "advisor_summary.csv"]
    _same_files({name: (out / name, tmp_path / "cli" / name) for name in files})
    _same_files({f"{name} from Python": (out / name, tmp_path / "python" / name) for name in files})


def test_the_benefit_ranking_is_the_same_from_the_notebook_python_and_the_cli(tmp_path):
    # the demo branch: a generated survey (out/demo_survey) with its truth; the settings file replaces the demo's
    from segkit.survey import read_survey

    settings = tmp_path / "survey.yaml"
    settings.write_text("budget: 300\nbootstrap: 200\n")
    executed = _run("benefit_survey", tmp_path, demo_benefits=10, demo_respondents=80, settings_path="survey.yaml")
    out = tmp_path / "out"
    inputs = {
        name: out / "demo_survey" / f"{name}.csv"
        for name in ("screening", "costs", "ranking", "constant_sum", "respondents")
    }
    ranking = pd.read_csv(out / "ranking.csv", encoding="utf-8-sig")
    assert set(ranking["status"]) <= {"kept", "dropped_liking", "dropped_cost"} and ranking["final_rank"].notna().any()
    for name in ("liking", "cost", "worths", "agreement"):
        assert (out / "charts" / f"{name}.html").exists(), name
    assert "Plotly.newPlot" in executed

    _cli(
        "survey",
        *[arg for name, path in inputs.items() for arg in (f"--{name.replace('_', '-')}", path)],
        "--settings",
        settings,
        "--out",
        tmp_path / "cli",
    )
    result = segkit.rank_benefits(read_survey(*inputs.values()), settings)
    result.write(tmp_path / "python")
    assert result.settings.bootstrap == 200
    files = ["ranking.csv", "ranking_by_tier.csv", "survey_problems.csv", "respondent_consistency.csv"]
    _same_files({name: (out / name, tmp_path / "cli" / name) for name in files})
    _same_files({f"{name} from Python": (out / name, tmp_path / "python" / name) for name in files})


@pytest.mark.parametrize(
    "notebook, parameters, name",
    [
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
        ("campaign_effect", {"ledger": "{ledger}"}, "transactions_path"),
        ("campaign_effect", {"ledger": "no-such-ledger.sqlite"}, "ledger"),
        ("customer_value", {"holdout_end": "1997-01-01"}, "holdout_end"),
        ("customer_value", {"discount_rate": 1.5}, "discount_rate"),
        ("advisor_assignment", {"capacity_max": -1}, "capacity_max"),
        ("advisor_assignment", {"continuity_weight": 1.5}, "continuity_weight"),
        ("advisor_assignment", {"capacity_min": 900, "capacity_max": 800}, "capacity_min"),
        ("benefit_survey", {"budget": -5}, "budget"),
        ("benefit_survey", {"bootstrap": 1.5}, "bootstrap"),
        ("benefit_survey", {"screening_path": "nowhere.csv"}, "screening_path"),
        ("benefit_survey", {"screening_path": "{here}"}, "costs_path"),
    ],
)
def test_a_bad_parameter_is_refused_by_the_check_every_notebook_runs_first(tmp_path, notebook, parameters, name):
    """The check a notebook's first cell runs (and the runner, before anything runs) refuses a bad parameter with a
    ParameterError that names it."""
    here = str(REPO / "notebooks" / f"{notebook}.ipynb")
    values = {
        **notebook_parameters(REPO / "notebooks" / f"{notebook}.ipynb"),
        "output_dir": str(tmp_path),
        **{key: here if value == "{here}" else value for key, value in parameters.items()},
    }
    if values.get("ledger") == "{ledger}":  # a ledger made on purpose: the parameter's check opens it
        values["ledger"] = str(tmp_path / "ledger.sqlite")
        Ledger(values["ledger"], create=True).close()
    with pytest.raises(ParameterError, match=rf"^parameter {name}: ") as refused:
        checked_parameters(notebook, values)
    assert "secret" not in str(refused.value)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_declares_its_parameters_and_checks_them_first(tmp_path, notebook):
    source = jupytext.read(notebook)
    cells = [cell for cell in source.cells if cell.cell_type == "code"]
    assert "parameters" in cells[0].metadata.get("tags", [])
    assert f'checked_parameters("{notebook.stem}", globals())' in cells[1].source  # the first thing it runs
    defaults = notebook_parameters(notebook)
    assert list(defaults) == DECLARED[notebook.stem].names  # declared once, in the package
    checked = checked_parameters(notebook.stem, {**defaults, "output_dir": str(tmp_path / "out")})
    assert checked["output_dir"] == tmp_path / "out" and checked["output_dir"].is_dir()


def test_settings_parameters_default_to_the_settings_file_and_win_when_given(tmp_path):
    defaults = notebook_parameters(REPO / "notebooks" / "churn_alerts.ipynb")
    assert defaults["p_active_below"] is None and defaults["long_gone_days"] is None
    checked = checked_parameters("churn_alerts", {**defaults, "output_dir": str(tmp_path), "p_active_below": 0.5})
    assert checked["p_active_below"] == 0.5 and checked["long_gone_days"] is None and checked["settings_path"] is None


def test_customer_value_is_the_same_from_the_notebook_python_and_the_cli(tmp_path, shared_data):
    shutil.copy(shared_data / "cdnow" / "CDNOW_sample.txt", tmp_path / "CDNOW_sample.txt")
    shutil.copy(REPO / "data" / "mappings" / "cdnow_sample.yaml", tmp_path / "cdnow_sample.yaml")
    cdnow, mapping = tmp_path / "CDNOW_sample.txt", tmp_path / "cdnow_sample.yaml"
    settings = tmp_path / "value.yaml"
    settings.write_text("k_max: 3\nhorizon: 39\n")
    executed = _run(
        "customer_value",
        tmp_path,
        transactions_path="CDNOW_sample.txt",
        mapping_path="cdnow_sample.yaml",
        settings_path="value.yaml",
    )
    out = tmp_path / "out"
    value = pd.read_csv(out / "customer_value.csv", dtype={"member_id": str}, encoding="utf-8-sig")
    assert len(value) == 2357 and {"p_alive", "holdout_forecast", "clv"} <= set(value.columns)
    assert "actual 1,882" in executed

    _cli(
        "clv",
        "--transactions",
        cdnow,
        "--mapping",
        mapping,
        "--as-of",
        "1997-09-30",
        "--holdout-end",
        "1998-06-30",
        "--settings",
        settings,
        "--out",
        tmp_path / "cli" / "clv.csv",
    )
    transactions = segkit.load_transactions(cdnow, mapping, as_of="1998-06-30").table
    segkit.customer_value(transactions, "1997-09-30", "1998-06-30", settings).write(tmp_path / "python")
    _same_files(
        {
            "value": (out / "customer_value.csv", tmp_path / "cli" / "clv.csv"),
            "holdout check": (out / "holdout_check.csv", tmp_path / "cli" / "clv.holdout_check.csv"),
            "value from Python": (out / "customer_value.csv", tmp_path / "python" / "customer_value.csv"),
            "holdout check from Python": (out / "holdout_check.csv", tmp_path / "python" / "holdout_check.csv"),
        }
    )
