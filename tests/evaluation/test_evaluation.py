"""The churn backtest: every method in one table, scored against a gas world's truth or a holdout period."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.evaluation import BACKTEST_COLUMNS, METHODS, backtest_churn, backtest_summary, read_truth, truth_as_of
from segkit.synth import generate

RULES = ["fixed 30 days", "1.5 x own median gap", "interval model", "oracle"]


@pytest.fixture(scope="module")
def comparison_world():
    return generate("gas", 2500, seed=8, as_of="2026-09-30", history_days=900)


def test_truth_as_of_cuts_the_switches():
    truth = pd.DataFrame(
        {
            "member_id": ["a", "b"],
            "switched": [True, True],
            "last_refill": pd.to_datetime(["2026-01-10", "2026-03-10"]),
            "missed_refill_due": pd.to_datetime(["2026-02-10", "2026-04-10"]),
        }
    )
    cut = truth_as_of(truth, "2026-02-28")
    assert cut["switched"].tolist() == [True, False] and cut["missed_refill_due"].isna().tolist() == [False, True]


def test_truth_reads_back_as_it_was_written(tmp_path, gas_world):
    paths = gas_world.write(tmp_path / "world")
    truth = read_truth(paths["truth"])
    pd.testing.assert_frame_equal(truth, gas_world.truth, check_dtype=False)
    assert truth["member_id"].str.startswith("0").all() and truth["switched"].dtype == bool


@pytest.mark.slow
def test_alerts_beat_the_naive_rules_on_a_gas_world():
    world = generate("gas", 4000, seed=5, as_of="2026-08-31", history_days=900)
    result = backtest_churn(
        world.transactions, ["2026-07-31"], world.members, truth=world.truth, methods=RULES[::-1], label="seed 5"
    )
    table = result.table
    assert list(table.columns) == BACKTEST_COLUMNS and list(table["method"]) == RULES  # in METHODS order
    f1 = table.set_index("method")["f1"]
    assert f1["interval model"] >= 0.9 * f1["oracle"]
    assert f1["interval model"] > max(f1["fixed 30 days"], f1["1.5 x own median gap"]) + 0.1
    assert table.set_index("method").loc["interval model", "precision"] >= 0.8
    assert table["median_days_to_alert"].notna().all() and (table["auc"] > 0.8).all()
    summary = backtest_summary(table).iloc[0]
    assert summary["share_of_oracle"] == pytest.approx(f1["interval model"] / f1["oracle"])
    assert "4 methods at 1 as-of date(s)" in repr(result)


@pytest.mark.slow
def test_every_method_on_the_same_members(comparison_world):
    w = comparison_world
    table = backtest_churn(w.transactions, ["2026-07-31"], w.members, truth=w.truth, label="seed 8").table
    assert list(table["method"]) == METHODS and table["members"].nunique() == 1
    f1 = table.set_index("method")["f1"]
    assert f1.drop("oracle").idxmax() == "interval model"  # regular refills: the rhythm model wins
    assert table.set_index("method").loc["interval model", "auc"] > 0.8
    assert table.set_index("method").loc[["BG/NBD", "propensity"], "median_days_to_alert"].isna().all()


@pytest.mark.slow
def test_a_holdout_period_is_the_truth_of_real_data(comparison_world):
    w = comparison_world
    as_of, end = pd.Timestamp("2026-07-31"), pd.Timestamp("2026-09-30")
    table = backtest_churn(
        w.transactions, [as_of], w.members, holdout_end=end, methods=["interval model", "fixed 30 days"]
    ).table.set_index("method")
    tx = w.transactions
    bought = tx.loc[tx["date"] <= as_of].groupby("member_id")["date"].max()
    active = bought.index[(as_of - bought).dt.days <= 180]  # long_gone_days
    later = set(tx.loc[(tx["date"] > as_of) & (tx["date"] <= end), "member_id"])
    assert table["members"].eq(len(active)).all()
    assert table["gone"].eq(sum(m not in later for m in active)).all() and table["catchable"].eq(table["gone"]).all()
    assert table["median_days_to_alert"].isna().all()  # no missed refill to count from


def test_the_backtest_says_what_it_needs(comparison_world, supplements_world):
    w = comparison_world
    with pytest.raises(ValueError, match="either truth"):
        backtest_churn(w.transactions, ["2026-07-31"], w.members)
    with pytest.raises(ValueError, match="gas world's truth"):
        backtest_churn(supplements_world.transactions, ["2026-03-31"], truth=supplements_world.truth)
    with pytest.raises(ValueError, match="the oracle needs"):
        backtest_churn(w.transactions, ["2026-07-31"], holdout_end="2026-09-30", methods=["oracle"])
    with pytest.raises(ValueError, match="unknown method"):
        backtest_churn(w.transactions, ["2026-07-31"], truth=w.truth, methods=["coin flip"])
    # found by a helper: a holdout ending before the as-of date, or running a year past the data, read every member
    # as gone, and every method scored precision 1.0 (exit 0)
    with pytest.raises(ValueError, match="holdout_end 2026-06-30 must be after every as-of date"):
        backtest_churn(w.transactions, ["2026-07-31"], holdout_end="2026-06-30", methods=["fixed 30 days"])
    last = w.transactions["date"].max()
    with pytest.warns(UserWarning, match=f"the holdout runs to .*, past the transactions' last day {last.date()}"):
        backtest_churn(
            w.transactions, ["2026-07-31"], holdout_end=last + pd.Timedelta(days=365), methods=["fixed 30 days"]
        )
    # found by a helper: another world's truth (the same member ids) was scored against without a word
    other = generate("gas", 2500, seed=99, as_of="2026-09-30", history_days=900)
    with pytest.raises(ValueError, match="the truth is not of these transactions: .* is it the same world"):
        backtest_churn(w.transactions, ["2026-07-31"], truth=other.truth, methods=["fixed 30 days"])
    # found by a helper: an as-of date past the data alerted every member (precision 0.015, exit 0)
    late = last + pd.Timedelta(days=30)
    with pytest.raises(ValueError, match=f"as-of date {late.date()} is 30 days after the transactions' last day"):
        backtest_churn(w.transactions, [late], truth=w.truth, methods=["fixed 30 days"])


def test_no_alert_means_no_precision():
    from segkit.evaluation import alert_scores

    scores = alert_scores(np.zeros(3, dtype=bool), np.array([True, False, True]), np.array([True, False, False]))
    assert scores["alerts"] == 0 and np.isnan(scores["precision"]) and scores["recall"] == 0 and scores["f1"] == 0
    # found by a helper: with nobody to catch F1 was 0.0 (an average across dates pulled down); it is unknown
    nobody = alert_scores(np.array([True, False, False]), np.array([True, False, False]), np.zeros(3, dtype=bool))
    assert nobody["precision"] == 1.0 and np.isnan(nobody["recall"]) and np.isnan(nobody["f1"])


def test_a_truth_without_households_is_refused(tmp_path):
    """A truth file of its header alone (or a Parquet of no rows) is refused by name: its empty columns were
    read as flags, then failed as dates (exit 3 from ``segkit backtest``)."""
    header = "member_id,switched,last_refill,missed_refill_due\n"
    (tmp_path / "truth.csv").write_text(header)
    pd.read_csv(tmp_path / "truth.csv").to_parquet(tmp_path / "truth.parquet")
    for name in ("truth.csv", "truth.parquet"):
        with pytest.raises(ValueError, match="the truth holds no household"):
            read_truth(tmp_path / name)
    (tmp_path / "blank.csv").write_text("\n\n")
    with pytest.raises(ValueError, match="blank.csv: the file is empty"):
        read_truth(tmp_path / "blank.csv")
    for rows in (",True,2026-03-01,\n", "007,True,2026-03-01,\n007,False,,\n"):
        (tmp_path / "truth.csv").write_text(header + rows)
        with pytest.raises(ValueError, match="a row without a member_id, or a member_id in two rows"):
            read_truth(tmp_path / "truth.csv")
    (tmp_path / "truth.csv").write_text(header + "007,True,2026-03-01,\n")
    truth = read_truth(tmp_path / "truth.csv")
    assert truth["switched"].tolist() == [True] and truth["last_refill"].dtype.kind == "M"
