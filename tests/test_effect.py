"""segkit effect: the interval (published examples, coverage), the counts of a hand-built ledger, the CLI."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.callcenter import CampaignEffect, Ledger, campaign_effect
from segkit.callcenter.effect import EFFECT_COLUMNS, NO_CONTROL, contacts_to_detect, newcombe_interval
from segkit.cli import main

DAY = pd.Timestamp("2026-01-05")
AS_OF = pd.Timestamp("2026-03-01")          # the windows of DAY (and LATER - 30 days) have ended
LATER = pd.Timestamp("2026-02-20")          # listed, window still open on AS_OF


# --- the interval ------------------------------------------------------------------------------------------

def test_newcombe_reproduces_the_published_examples():
    # Newcombe 1998, Table II, method 10 (also the propint package's tests of it)
    low, high = newcombe_interval([56, 9], [70, 10], [48, 3], [80, 10])
    assert np.round(low, 4).tolist() == [0.0524, 0.1705]
    assert np.round(high, 4).tolist() == [0.3339, 0.8090]
    # the groups swapped: the interval of the opposite difference; an empty group: no interval
    swapped = newcombe_interval([48, 3], [80, 10], [56, 9], [70, 10])
    assert np.allclose(swapped[0], -high) and np.allclose(swapped[1], -low)
    extreme = newcombe_interval([10, 0], [10, 10], [0, 0], [20, 20])
    assert np.all(extreme[0] >= -1) and np.all(extreme[1] <= 1) and extreme[0][1] < 0 < extreme[1][1]
    assert np.isnan(newcombe_interval(3, 10, 0, 0)).all()


def test_the_interval_covers_the_true_difference_95_times_in_100_in_small_groups():
    rng = np.random.default_rng(20)
    draws = 2000
    called, control = rng.integers(10, 61, draws), rng.integers(5, 31, draws)
    p_called, p_control = rng.uniform(0.05, 0.95, draws), rng.uniform(0.05, 0.95, draws)
    low, high = newcombe_interval(rng.binomial(called, p_called), called, rng.binomial(control, p_control), control)
    truth = p_called - p_control
    assert 0.93 <= np.mean((low <= truth) & (truth <= high)) <= 0.975
    # calls that change nothing: the interval covers 0 as often, also at a 10 % control share
    low, high = newcombe_interval(rng.binomial(called, p_called), called, rng.binomial(control, p_called), control)
    assert 0.93 <= np.mean((low <= 0) & (0 <= high)) <= 0.975
    low, high = newcombe_interval(rng.binomial(200, 0.4, draws), 200, rng.binomial(22, 0.4, draws), 22)
    assert 0.93 <= np.mean((low <= 0) & (0 <= high)) <= 0.975


def test_the_power_figure_is_the_textbook_size_and_detects_four_times_in_five():
    # 50 % against 40 %, equal groups, 80 % power, two-sided 5 %: 387 per group (normal approximation)
    assert contacts_to_detect(0.5, 0.4, 1.0) / 2 == pytest.approx(387.3, abs=0.1)
    assert np.isnan(contacts_to_detect(0.3, 0.3, 0.1))
    # at the size it names, the interval excludes 0 in about 80 % of lists with a 10 % control share
    rng = np.random.default_rng(21)
    total = contacts_to_detect(0.45, 0.35, 1 / 9)
    called, control = round(total * 0.9), round(total * 0.1)
    low, _ = newcombe_interval(rng.binomial(called, 0.45, 2000), called, rng.binomial(control, 0.35, 2000), control)
    assert np.mean(low > 0) == pytest.approx(0.80, abs=0.03)


# --- a hand-built ledger -----------------------------------------------------------------------------------

def _calls() -> pd.DataFrame:
    """Run churn on DAY: c0-c7 called (c0-c2 VIP), k0-k3 control (k0 VIP); on LATER: c8 called, k4 control
    (window open); run care on DAY: g0, g1 called, no control group (not compared)."""
    rows = [("churn", DAY, f"c{i}", "called", i < 3, "A1" if i % 2 else "A2") for i in range(8)]
    rows += [("churn", DAY, f"k{i}", "control", i == 0, "A1" if i % 2 else "A2") for i in range(4)]
    rows += [("churn", LATER, "c8", "called", False, "A1"), ("churn", LATER, "k4", "control", False, "A1")]
    rows += [("care", DAY, f"g{i}", "called", False, None) for i in range(2)]
    frame = pd.DataFrame(rows, columns=["run", "as_of", "member_id", "arm", "vip", "advisor_id"])
    frame["vip"] = frame["vip"].astype(bool)
    return frame.assign(alert_id=frame["run"] + "-" + frame["as_of"].dt.strftime("%Y%m%d") + "-" + frame["member_id"],
                        campaign=frame["run"], priority=np.arange(1, len(frame) + 1), queue="q",
                        call_by=frame["advisor_id"].fillna("queue"))


def _transactions() -> pd.DataFrame:
    day = lambda n: DAY + pd.Timedelta(days=n)       # noqa: E731 - the days after the list day
    return pd.DataFrame([
        ("c0", day(1), 100.0),      # bought the day after: counts
        ("c1", day(30), 80.0),      # the window's last day: counts
        ("c2", day(31), 80.0),      # one day late
        ("c3", day(0), 90.0),       # on the list day itself, before the call
        ("c4", day(5), -50.0),      # a refund is not a purchase
        ("c5", day(6), 70.0), ("c5", day(6), -70.0),       # cancelled the same day
        ("c6", day(-20), 60.0), ("c6", day(10), 60.0),     # an earlier purchase, then one within the window
        ("k0", day(3), 120.0),
        ("k1", day(31), 40.0),
        ("c8", LATER + pd.Timedelta(days=2), 50.0),        # its window has not ended: not counted
        ("g0", day(2), 30.0),
    ], columns=["member_id", "date", "amount"])


def _outcomes() -> pd.DataFrame:
    return pd.DataFrame({"alert_id": ["churn-20260105-c0", "churn-20260105-c1", "churn-20260105-c1",
                                      "churn-20260105-c2"],
                         "outcome": ["won_back", "won_back", "reached", "won_back"],
                         "outcome_date": pd.to_datetime(["2026-01-06", "2026-01-06", "2026-01-08", "2026-03-05"])})


def test_a_hand_built_ledger_gives_the_counts_and_rates_it_was_built_for():
    segments = pd.DataFrame({"member_id": ["c0", "c1", "k0", "k1"], "segment": ["Champions", "At Risk"] * 2})
    effect = campaign_effect(_calls(), _transactions(), AS_OF, segments=segments, outcomes=_outcomes(),
                             language="en")
    assert isinstance(effect, CampaignEffect) and list(effect.table.columns) == EFFECT_COLUMNS
    rows = effect.table.set_index(["campaign", "segment"])
    # churn: called c0 c1 c6 bought (3 of 8), control k0 bought (1 of 4); c8 and k4 are still open; care has no
    # control group; c1's latest outcome is reached, c2's won back came after the as-of date: only c0 counts
    churn = rows.loc[("churn", "all")]
    assert (churn.called, churn.control, churn.called_bought, churn.control_bought, churn.still_open) == (8, 4, 3, 1, 2)
    assert (churn.rate_called, churn.rate_control, churn.uplift) == pytest.approx((3 / 8, 1 / 4, 1 / 8))
    low, high = newcombe_interval(3, 8, 1, 4)
    assert (churn.uplift_low, churn.uplift_high) == pytest.approx((float(low), float(high)))
    assert churn.incremental == pytest.approx(1.0) and churn.calls_per_incremental == pytest.approx(8.0)
    assert churn.agent_won_back == 1 and churn.agent_won_back_share == pytest.approx(1 / 8)
    # 14 listed on 2 list days: 7 a day; the textbook size at the rates seen, less the 14 listed so far
    assert churn.listed_per_day == 7.0
    assert churn.list_days_to_detect == np.ceil((contacts_to_detect(3 / 8, 1 / 4, 4 / 8) - 14) / 7)
    assert (effect.still_open, effect.not_compared) == (2, 2)
    expected = {"vip:yes": (3, 1, 2, 1), "vip:no": (5, 3, 1, 0), "rfm:Champions": (1, 1, 1, 1),
                "rfm:At Risk": (1, 1, 1, 0), "rfm:unknown": (6, 2, 1, 0), "advisor:A1": (4, 2, 1, 0),
                "advisor:A2": (4, 2, 2, 1), "month:2026-01": (8, 4, 3, 1), "month:2026-02": (0, 0, 0, 0)}
    for segment, counts in expected.items():
        row = rows.loc[("churn", segment)]
        assert (row.called, row.control, row.called_bought, row.control_bought) == counts, segment
    assert pd.isna(rows.loc[("churn", "month:2026-02"), "uplift"])
    assert pd.isna(rows.loc[("churn", "month:2026-01"), "list_days_to_detect"])      # a month does not go on
    # one campaign compared: all campaigns is the same; ordered campaign (all first), all, then the breakdowns
    assert rows.loc[("all", "all")].equals(churn)
    assert effect.table["campaign"].drop_duplicates().tolist() == ["all", "churn"]
    assert effect.table.loc[effect.table["campaign"] == "churn", "segment"].tolist() == [
        "all", "vip:yes", "vip:no", "rfm:At Risk", "rfm:Champions", "rfm:unknown", "advisor:A1", "advisor:A2",
        "month:2026-01", "month:2026-02"]
    assert effect.sentences() == [
        "overdue: calling raised the 30-day purchase rate from 25.0 % to 37.5 % (+12.5 points, 95 % interval "
        f"{100 * float(low):+.1f} to {100 * float(high):+.1f}); 8 calls per household won back; the interval includes "
        "zero, so this may be chance. At about 7.0 listed members a day, a difference of +12.5 points would be "
        f"detected with 80 % power after about {int(churn.list_days_to_detect):,} more list days and their 30-day windows; "
        "until then, read the interval, not the estimate."]


def test_windows_not_ended_and_runs_without_a_control_group_are_left_out_and_said_so():
    calls = _calls()
    with pytest.raises(ValueError, match="^no 30-day window of a control member has ended by 2026-02-01: the first "
                                         "ends on 2026-02-04$"):
        campaign_effect(calls, _transactions(), "2026-02-01")
    for without in (calls.drop(columns="arm"), calls.loc[calls["arm"] == "called"]):
        with pytest.raises(ValueError, match=f"^{NO_CONTROL}$"):
            campaign_effect(without, _transactions(), AS_OF)
    effect = campaign_effect(calls, _transactions(), AS_OF)
    assert "2 still open, 2 calls without a control group" in repr(effect)
    assert pd.isna(effect.table["agent_won_back_share"]).all()        # no outcomes given: nothing beside


def test_refunds_and_cancelled_orders_are_not_purchases():
    calls = _calls().loc[lambda frame: frame["member_id"].isin(["c4", "c5", "k1"])]
    bought = pd.DataFrame({"member_id": ["c4", "c5"], "date": [DAY + pd.Timedelta(days=7)] * 2, "amount": 10.0})
    effect = campaign_effect(calls, _transactions(), AS_OF)
    assert effect.table.loc[0, ["called", "called_bought"]].tolist() == [2, 0]
    effect = campaign_effect(calls, pd.concat([_transactions(), bought]), AS_OF)
    assert effect.table.loc[0, ["called", "called_bought"]].tolist() == [2, 2]


def test_the_report_speaks_the_language_asked_and_chinese_by_default(tmp_path):
    effect = campaign_effect(_calls(), _transactions(), AS_OF, outcomes=_outcomes())
    paths = effect.write(tmp_path / "out")
    assert [path.relative_to(tmp_path / "out").as_posix() for path in paths] == [
        "effect.csv", "charts/uplift.html", "effect.html"]
    page = (tmp_path / "out" / "effect.html").read_text(encoding="utf-8")
    assert "外呼有没有效果" in page and "Newcombe" in page
    assert "流失预警：外呼使 30 天购买率从 25.0% 提高到 37.5%（+12.5 个百分点" in page
    assert "charts/plotly.min.js" in page and (tmp_path / "out" / "charts" / "plotly.min.js").is_file()
    english = campaign_effect(_calls(), _transactions(), AS_OF, language="en").report_html()
    assert "Did the calls work?" in english and "calls per household won back" in english
    csv = pd.read_csv(tmp_path / "out" / "effect.csv", encoding="utf-8-sig")
    assert list(csv.columns[:9]) == ["campaign", "segment", "called", "control", "rate_called", "rate_control",
                                     "uplift", "uplift_low", "uplift_high"]
    assert csv.loc[0, "uplift_low"] == round(float(newcombe_interval(3, 8, 1, 4)[0]), 4)


def test_the_uplift_by_month_shows_the_months_with_both_arms_under_the_campaigns_names():
    from segkit.plots import uplift_by_month_chart

    effect = campaign_effect(_calls(), _transactions(), AS_OF, language="en")
    assert set(effect.named()["campaign"]) == {"overdue"}            # one campaign: its rows, not all campaigns'
    figure = uplift_by_month_chart(effect.shown(), effect.window_days, "en")
    (trace,) = figure.data
    assert trace.name == "overdue" and list(trace.x) == ["2026-01"]     # February's windows have not ended
    low, high = newcombe_interval(3, 8, 1, 4)
    assert trace.y[0] == pytest.approx(12.5)
    assert (trace.error_y.arrayminus[0], trace.error_y.array[0]) == pytest.approx((12.5 - 100 * float(low),
                                                                                 100 * float(high) - 12.5))
    assert figure.layout.title.text == ("Uplift of the 30-day purchase rate by month of the list day, with its "
                                        "95 % interval")


# --- the CLI, on SQLite and PostgreSQL ---------------------------------------------------------------------

def _ledger(url, create=True) -> Ledger:
    """The hand-built calls recorded run by run, day by day, with an outcome."""
    ledger = Ledger(url, create=create)
    calls = _calls()
    for (day, run), listed in calls.groupby(["as_of", "run"]):       # in order: the ledger refuses a run backwards
        ledger.record(run, day, listed.assign(phone_hash=None))
    ledger.add_outcomes(_outcomes().iloc[:1].assign(note=""))
    return ledger


def _effect(ledger: str, tmp_path, out: str, *options) -> int:
    return main(["effect", "--ledger", ledger, "--transactions", str(tmp_path / "transactions.csv"),
                 "--as-of", "2026-03-01", "--out", str(tmp_path / out), *options])


def test_cli_writes_the_table_chart_and_report_and_rerunning_gives_identical_files(tmp_path, capsys):
    _transactions().to_csv(tmp_path / "transactions.csv", index=False)
    ledger = str(tmp_path / "ledger.sqlite")
    assert _effect(ledger, tmp_path, "out") == 2
    assert "no ledger at" in capsys.readouterr().err
    _ledger(ledger)
    assert _effect(ledger, tmp_path, "out", "--language", "en") == 0
    printed = capsys.readouterr().out
    assert "<CampaignEffect as of 2026-03-01, 30-day window: churn +12.5 points" in printed
    assert "overdue: calling raised the 30-day purchase rate from 25.0 % to 37.5 %" in printed
    files = ["effect.csv", "effect.html", "charts/uplift.html"]
    first = {name: (tmp_path / "out" / name).read_bytes() for name in files}
    table = pd.read_csv(tmp_path / "out" / "effect.csv", encoding="utf-8-sig")
    assert table.loc[0, ["called", "control", "agent_won_back"]].tolist() == [8, 4, 1]
    assert _effect(ledger, tmp_path, "out", "--language", "en") == 0
    assert {name: (tmp_path / "out" / name).read_bytes() for name in files} == first
    capsys.readouterr()
    assert _effect(ledger, tmp_path, "early", "--as-of", "2026-02-01") == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no 30-day window of a control member has ended by 2026-02-01" in error


def test_cli_refuses_a_ledger_without_a_control_group_in_one_line(tmp_path, capsys):
    _transactions().to_csv(tmp_path / "transactions.csv", index=False)
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    called = _calls().loc[lambda frame: frame["run"] == "care"]
    ledger.record("care", DAY, called.assign(phone_hash=None))
    assert _effect(str(tmp_path / "ledger.sqlite"), tmp_path, "out") == 2
    assert capsys.readouterr().err == f"segkit effect: error: {NO_CONTROL}\n"
    assert not (tmp_path / "out" / "effect.csv").exists()


def test_sqlite_and_postgresql_ledgers_give_identical_files(tmp_path, postgres_url, capsys):
    _transactions().to_csv(tmp_path / "transactions.csv", index=False)
    _ledger(str(tmp_path / "ledger.sqlite"))
    _ledger(postgres_url).close()
    assert _effect(str(tmp_path / "ledger.sqlite"), tmp_path, "sqlite") == 0
    assert _effect(postgres_url, tmp_path, "postgresql") == 0
    for name in ("effect.csv", "effect.html"):
        assert (tmp_path / "sqlite" / name).read_bytes() == (tmp_path / "postgresql" / name).read_bytes(), name
