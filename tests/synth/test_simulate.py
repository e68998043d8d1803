"""The closed loop (``segkit simulate``): common random numbers, one world for every policy, the same files on a
re-run, one-line errors; and segkit's alerts call fewer loyal households than the 30-day rule."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from segkit.callcenter import Ledger
from segkit.cli import main
from segkit.synth.loop import POLICIES, SIMULATION_FILES, agent_reports, simulate

SMALL = {"n_members": 600, "days": 15, "start": "2026-04-01", "seed": 3, "window_days": 5}


def _truth(out) -> pd.DataFrame:
    return pd.read_csv(out / "call_truth.csv", dtype={"member_id": str}, encoding="utf-8-sig")


def _transactions(out) -> pd.DataFrame:
    return pd.read_csv(out / "transactions.csv", dtype={"member_id": str}, parse_dates=["date"], encoding="utf-8-sig")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three policies on one small world."""
    root = tmp_path_factory.mktemp("simulate")
    return {policy: simulate(root / policy, policy=policy, **SMALL) for policy in POLICIES}


@pytest.mark.slow
def test_without_any_effect_the_true_uplift_is_exactly_zero(tmp_path):
    policy = simulate(tmp_path, policy="overdue-30", win_back=0, annoyance=0, **SMALL).policy
    truth = _truth(tmp_path)
    assert policy["calls"] > 50 and policy["calls_to_switched"] > 0 and policy["calls_to_active"] > 0
    assert (truth["bought_if_called"] == truth["bought_if_not_called"]).all()
    assert policy["true_uplift"] == 0 and policy["won_back"] == 0 and policy["lost_by_annoyance"] == 0
    assert policy["estimated_uplift_low"] <= 0 <= policy["estimated_uplift_high"]  # the control group agrees


@pytest.mark.slow
def test_a_sure_win_back_brings_back_every_called_household_that_had_switched(tmp_path):
    policy = simulate(tmp_path, policy="overdue-30", win_back=1, annoyance=0, **SMALL).policy
    truth = _truth(tmp_path)
    called = truth.loc[truth["arm"] == "called"]
    assert called["switched"].any() and called.loc[called["switched"], "back_if_called"].all()
    assert policy["won_back"] == policy["calls_to_switched"] == int(called["switched"].sum())
    # the control group keeps its no-call outcome: those who had switched do not buy
    control = truth.loc[(truth["arm"] == "control") & truth["switched"]]
    assert not control["bought_if_not_called"].any()
    # a household won back buys from us again at its next refill on its rhythm, within the window if it is due
    ended = pd.to_datetime(called["as_of"]) + pd.Timedelta(days=5) <= pd.Timestamp(policy["end"])
    back = called.loc[called["switched"] & called["bought_if_called"] & ended]
    later = back.assign(as_of=pd.to_datetime(back["as_of"])).merge(_transactions(tmp_path), on="member_id")
    later = later.loc[(later["date"] > later["as_of"]) & (later["date"] <= later["as_of"] + pd.Timedelta(days=5))]
    assert len(back) and set(later["alert_id"]) == set(back["alert_id"])


@pytest.mark.slow
def test_the_three_policies_meet_the_same_world(runs):
    tables = {policy: _transactions(result.files[0].parent) for policy, result in runs.items()}
    listed = set().union(*(set(_truth(result.files[0].parent)["member_id"]) for result in runs.values()))
    never = {
        policy: table.loc[~table["member_id"].isin(listed)]
        .drop(columns="order_id")
        .sort_values(["member_id", "date"])
        .reset_index(drop=True)
        for policy, table in tables.items()
    }
    first = never[POLICIES[0]]
    assert first["date"].max() >= pd.Timestamp("2026-04-10")  # simulated days, not only the history
    for policy in POLICIES[1:]:
        pd.testing.assert_frame_equal(
            never[policy][["member_id", "date", "quantity"]], first[["member_id", "date", "quantity"]]
        )
    for policy, result in runs.items():
        calls = Ledger(result.files[0]).calls()
        assert set(calls["arm"]) == {"called", "control"} and set(calls["run"]) == {policy}
        assert len(calls) == result.policy["listed"] == len(_truth(result.files[0].parent))
        assert result.policy["end"] == "2026-04-15"


@pytest.mark.slow
def test_segkit_calls_fewer_households_that_had_not_left_than_the_30_day_rule(runs):
    segkit, naive = runs["segkit"].policy, runs["overdue-30"].policy
    assert segkit["calls_to_active"] < naive["calls_to_active"] / 3
    assert segkit["net_retained_per_100_calls"] > naive["net_retained_per_100_calls"]


@pytest.mark.slow
def test_the_same_arguments_write_the_same_files(runs, tmp_path):
    first = runs["median-1.5"].files[0].parent
    again = simulate(first, policy="median-1.5", **SMALL)  # over an earlier simulation's files
    elsewhere = simulate(tmp_path, policy="median-1.5", **SMALL)
    for name in SIMULATION_FILES:
        assert (first / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert again.policy == elsewhere.policy == json.loads((tmp_path / "policy.json").read_text())
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(SIMULATION_FILES)


def test_errors_are_one_line_and_exit_2(tmp_path, capsys):
    Ledger(tmp_path / "real" / "ledger.sqlite", create=True)
    (tmp_path / "a_file").write_text("")
    cases = {
        "probability": ["--win-back", "1.5"],
        "no control group": ["--control-share", "0"],
        "window longer than the run": ["--days", "10", "--window-days", "30"],
        "policy": ["--policy", "call-everyone"],
        "date": ["--start", "2026-02-30"],
        "out is a file": ["--out", tmp_path / "a_file"],
        "someone's ledger": ["--out", tmp_path / "real"],
        "not a number": ["--days", "abc"],
        "nobody held out: a world too small": ["--n-members", "100", "--days", "6", "--window-days", "3"],
    }
    for case, args in cases.items():
        argv = ["simulate", "gas", "--n-members", "50", "--out", tmp_path / "sim", *args]
        try:
            code = main([str(arg) for arg in argv])
        except SystemExit as stop:  # argparse
            code = stop.code
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and err.startswith("segkit simulate: error:"), (case, err)
    assert not (tmp_path / "sim").exists()
    assert sorted(path.name for path in (tmp_path / "real").iterdir()) == ["ledger.sqlite"]


def test_the_agents_report_more_won_back_than_the_calls_won():
    # who came back is won back, and so is a loyal household merely late with probability polite_yes: agents
    # cannot tell the two apart; control members get no report
    truth = pd.DataFrame(
        {
            "alert_id": [f"a{i}" for i in range(6)],
            "member_id": [str(i) for i in range(6)],
            "as_of": ["2026-04-02"] * 5 + ["2026-04-03"],
            "arm": ["called"] * 5 + ["control"],
            "switched": [True, True, False, False, False, True],
            "back_if_called": [True, False, False, False, False, True],
            "leaves_if_called": [False, False, True, False, False, False],
        }
    )
    assert agent_reports(truth, polite_yes=0)["outcome"].tolist() == [
        "won_back",
        "switched_supplier",
        "do_not_call",
        "reached",
        "reached",
    ]
    assert agent_reports(truth, polite_yes=1)["outcome"].tolist() == [
        "won_back",
        "switched_supplier",
        "do_not_call",
        "won_back",
        "won_back",
    ]
    reports = agent_reports(truth, seed=4)
    assert reports.equals(agent_reports(truth, seed=4)) and list(reports.columns) == [
        "alert_id",
        "outcome",
        "outcome_date",
        "note",
    ]
    assert (reports["outcome_date"] == pd.Timestamp("2026-04-02")).all() and "a5" not in set(reports["alert_id"])
