"""Purchase-interval churn: gaps, the rhythm model, conditional survival, alerts and reasons, propensity."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

from segkit.churn import (
    ALERT_COLUMNS,
    AlertSettings,
    Calibration,
    GapPredictive,
    churn_alerts,
    member_statuses,
    purchase_gaps,
)
from segkit.churn.empirical_bayes import cure_fraction
from segkit.synth import generate

AS_OF = "2026-03-31"


def tx(rows):
    frame = pd.DataFrame(rows, columns=["member_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


# -- gaps ------------------------------------------------------------------------------------------


def test_purchase_gaps_by_hand():
    transactions = tx(
        [
            ("007", "2026-01-01", 100),
            ("007", "2026-01-01", 20),  # one occasion
            ("007", "2026-01-11", 100),
            ("007", "2026-01-20", 50),
            ("007", "2026-01-20", -50),  # cancelled the same day: no purchase
            ("007", "2026-01-25", -30),  # refund only: no purchase
            ("007", "2026-01-31", 100),
            ("008", "2026-01-15", 80),
            ("009", "2026-01-10", -10),  # never bought
            ("008", "2026-04-01", 80),  # after the as-of date
        ]
    )
    transactions["quantity"] = 1
    gaps = purchase_gaps(
        transactions, "2026-03-01", members=pd.DataFrame({"member_id": ["007", "008"], "household_size": [3, 5]})
    )
    by_member = {m: rows for m, rows in gaps.groupby("member_id", observed=True)}
    assert set(by_member) == {"007", "008"}
    assert by_member["007"]["days"].tolist() == [10, 20, 29] and by_member["007"]["event"].tolist() == [
        True,
        True,
        False,
    ]
    assert by_member["007"]["start"].dt.strftime("%m-%d").tolist() == ["01-01", "01-11", "01-31"]
    assert by_member["007"]["quantity"].tolist() == [2, 1, 1]
    assert by_member["008"]["days"].tolist() == [45] and not by_member["008"]["event"].any()
    assert by_member["008"]["household_size"].tolist() == [5.0]


def test_each_gap_carries_its_members_household_size_range_by_range(gas_world, monkeypatch):
    """Each gap carries its member's household size: the member's first row counts, text that is not a number is
    missing, as are members without a size row; rows without an id are ignored. The sizes are looked up a range of
    members at a time, in Arrow (in pandas, a range's lookup took 7 s on 10M households)."""
    from segkit import engine

    members = gas_world.members[["member_id", "household_size"]].astype({"household_size": object})
    members.loc[members.index[:5], "household_size"] = "three"
    members.loc[members.index[5:10], "household_size"] = "4"
    members = pd.concat(  # the last 40 members have no row; members 10-19 a second one
        [members.iloc[:-40], members.iloc[10:20].assign(household_size=99), pd.DataFrame({"member_id": [None]})],
        ignore_index=True,
    )
    monkeypatch.setattr(engine, "_RANGE_ROWS", len(gas_world.transactions) // 5)
    gaps = purchase_gaps(gas_world.transactions, "2026-03-31", members)

    first = members.dropna(subset=["member_id"]).drop_duplicates("member_id").set_index("member_id")
    expected = pd.to_numeric(first["household_size"], errors="coerce").astype(float)
    expected = expected.reindex(gaps["member_id"].astype(str)).to_numpy()
    np.testing.assert_array_equal(gaps["household_size"].to_numpy(), expected)
    assert gaps["household_size"].dtype == np.float64
    by_member = gaps.groupby("member_id", observed=True)["household_size"].first()
    ids = gas_world.members["member_id"]
    assert by_member[ids.iloc[0]] != by_member[ids.iloc[0]]  # "three": missing
    assert by_member[ids.iloc[5]] == 4.0 and by_member[ids.iloc[25]] == gas_world.members["household_size"].iloc[25]
    assert np.isnan(by_member[ids.iloc[-1]])  # no size row
    assert by_member[ids.iloc[15]] == gas_world.members["household_size"].iloc[15]  # not the later 99
    for dtype in ("string[pyarrow]", "category"):  # ids in Arrow, as the CLI hands them over, or categorical
        held = purchase_gaps(gas_world.transactions, "2026-03-31", members.astype({"member_id": dtype}))
        pd.testing.assert_frame_equal(held, gaps, check_exact=True)


@pytest.mark.parametrize(
    "ids, found",
    [(["0001", b"0002"], "not mixed"), ([b"0001", b"0002"], "not bytes"), (["0001", 2], "not mixed-integer")]
    + [(["0001", "\ud800"], "can't encode")],
)
def test_members_whose_ids_are_not_text_are_refused_not_matched_as_text(ids, found):
    """Bytes would match text ids once in Arrow, where pandas matched them with none, and numbers match none:
    either way a member's size would be wrong without a word. The ids are refused in one line, as the workflows
    refuse them."""
    from segkit.engine import text_ids

    transactions = pd.DataFrame(
        {"member_id": ["0001", "0001", "0002"], "date": ["2026-01-01", "2026-02-01", "2026-01-05"], "amount": 10.0}
    ).astype({"date": "datetime64[ns]"})
    members = pd.DataFrame({"member_id": ids, "household_size": [3, 4]})
    with pytest.raises(ValueError, match=f"member ids must be text.*{found}"):
        purchase_gaps(transactions, "2026-03-31", members)
    held = pd.Series(["0001", "0002", "会员"], dtype="string[pyarrow]")  # used as held: no Python string each
    assert text_ids(held).equals(text_ids(held.astype(object))) and text_ids(held).type == pa.string()


# -- conditional survival ----------------------------------------------------------------------------


def test_conditional_survival_matches_the_log_normal_closed_form():
    mu, sigma = np.log(30.0), 0.3
    predictive = GapPredictive([mu], [sigma], [1e9], [5])  # df -> infinity: log-normal
    dist = stats.lognorm(s=sigma, scale=np.exp(mu))
    for elapsed in (10.0, 30.0, 45.0, 60.0):
        for extra in (1.0, 7.0, 20.0):
            expected = dist.sf(elapsed + extra) / dist.sf(elapsed)
            assert predictive.conditional_survival(extra, elapsed)[0] == pytest.approx(expected, rel=1e-6)
        # the conditional median: half of those still waiting have bought by then
        ahead = predictive.conditional_quantile(0.5, elapsed)[0]
        assert dist.sf(elapsed + ahead) / dist.sf(elapsed) == pytest.approx(0.5, rel=1e-6)
    assert predictive.median()[0] == pytest.approx(30.0)


def test_conditional_survival_matches_lifelines_conditional_after():
    from lifelines import LogNormalAFTFitter

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"days": rng.lognormal(np.log(30), 0.35, 400), "event": True, "x": rng.normal(size=400)})
    fitted = LogNormalAFTFitter().fit(frame, "days", "event")
    mu = fitted.params_.loc[("mu_", "Intercept")] + fitted.params_.loc[("mu_", "x")] * 0.5
    sigma = np.exp(fitted.params_.loc[("sigma_", "Intercept")])
    times = np.array([5.0, 10.0, 20.0])
    theirs = fitted.predict_survival_function(pd.DataFrame({"x": [0.5]}), times=times, conditional_after=[40.0])
    ours = GapPredictive([mu], [sigma], [1e9], [5]).conditional_survival(times, np.full(3, 40.0))
    np.testing.assert_allclose(ours, theirs.iloc[:, 0].to_numpy(), rtol=1e-5)


def test_student_t_predictive_has_heavier_tail_and_calibration_round_trips():
    heavy = GapPredictive([np.log(30)], [0.3], [3], [0])
    light = GapPredictive([np.log(30)], [0.3], [1e9], [0])
    assert heavy.survival(90.0)[0] > light.survival(90.0)[0]
    rng = np.random.default_rng(1)
    calibration = Calibration.from_pits(rng.uniform(size=20_000) ** 1.5, np.full(20_000, 4), rng)
    values = np.array([0.001, 0.01, 0.2, 0.7])
    used = np.full(4, 4)
    assert np.allclose(calibration.inverse(calibration.forward(values, used), used), values, atol=1e-3)
    # the PITs are skewed toward 0 (an overconfident model): calibrated survival is larger than raw
    assert (calibration.forward(values, used) > values).all()
    assert np.allclose(Calibration({}).forward(values, used), values)


def test_calibration_computes_only_the_transforms_it_keeps_and_keeps_the_same_curves():
    rng = np.random.default_rng(3)
    pits = rng.uniform(size=200_000) ** 1.3
    gaps_used = rng.choice([0, 1, 4, 20], size=pits.size, p=[0.001, 0.05, 0.449, 0.5])  # band 0 under 300 gaps
    asked = []

    def pits_of(rows):
        asked.append(len(rows))
        return pits[rows]

    kept = Calibration.from_rows(pits_of, gaps_used, np.random.default_rng(7))
    # what the calibration did when it was given every transform: a band's values, or a random 50,000 of them
    rng, band = np.random.default_rng(7), np.searchsorted([0, 1, 2, 3, 5, 9, 17], gaps_used, side="right") - 1
    every = {}
    for b in range(7):
        values = pits[band == b]
        if values.size >= 300:
            every[b] = np.sort(rng.choice(values, 50_000, replace=False) if values.size > 50_000 else values)
    assert sorted(kept.knots) == sorted(every) == [1, 3, 6]
    for b in every:
        np.testing.assert_array_equal(kept.knots[b], every[b])
    assert sorted(asked) == [(gaps_used == 1).sum(), 50_000, 50_000]  # not the 200,000 transforms


def test_cure_fraction_recovers_the_chance_that_a_purchase_is_the_last():
    # members buy with exponential gaps (mean 30 days); each purchase is the last with chance q
    rng = np.random.default_rng(2)
    n, q, horizon = 50_000, 0.03, 720.0
    last = rng.uniform(0, 30, n)
    active = np.ones(n, dtype=bool)
    completed = 0
    while active.any():
        leaving = active & (rng.random(n) < q)
        gap = rng.exponential(30, n)
        bought = active & ~leaving & (last + gap <= horizon)
        completed += int(bought.sum())
        last = np.where(bought, last + gap, last)
        active = bought
    survival = np.exp(-(horizon - last) / 30)
    assert cure_fraction(survival, n_completed=completed) == pytest.approx(q, rel=0.05)


# -- the rhythm model ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gas_run(gas_world):
    return churn_alerts(
        gas_world.transactions,
        "2026-03-31",
        gas_world.members,
        AlertSettings(purchase_noun="refill", purchase_verb="refills"),
    )


def test_model_learns_the_generators_rhythm(gas_run, gas_world):
    model = gas_run.model
    coef = model.coef_
    assert coef["log_household_size"] == pytest.approx(-0.6, abs=0.1)  # use grows as size ** 0.6
    assert coef["log_quantity"] == pytest.approx(1.0, abs=0.15)  # two cylinders last twice as long
    assert coef["season_cos"] < -0.15  # winter burns faster
    assert 0.005 < model.churn_prior_ < 0.04  # Beta(1, 60): 1.6 % per refill
    truth = gas_world.truth.set_index("member_id")
    pred = gas_run.members.dropna(subset=["last_purchase"])
    regular = pred[pred["purchases"] >= 10]
    from segkit.synth.gas import season_factor

    true_median = truth.loc[regular["member_id"], "true_mean_interval"].to_numpy() / season_factor(
        pd.to_datetime(regular["last_purchase"]).dt.dayofyear.to_numpy()
    )
    assert np.corrcoef(np.log(regular["typical_interval"]), np.log(true_median))[0, 1] > 0.9
    assert "IntervalModel" in repr(model) and "churn prior" in model.summary().index[-1]
    summary = model.summary()  # lifelines' standard errors and intervals; none for the priors
    group = summary.loc[[f"group: {name}" for name in coef.index]]
    assert (group["std_error"] > 0).all() and (group["lower_95"] < group["estimate"]).all()
    assert (group["estimate"] < group["upper_95"]).all()
    sigma = summary.loc["group: spread of log gaps (sigma)"]
    assert sigma["lower_95"] < sigma["estimate"] < sigma["upper_95"]
    assert summary.loc[summary.index.str.startswith(("pace", "regularity", "churn")), "std_error"].isna().all()


def _monthly_population(n=300, as_of="2026-06-30", seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        day = pd.Timestamp("2024-07-01") + pd.Timedelta(days=int(rng.integers(0, 30)))
        while day <= pd.Timestamp(as_of):
            rows.append((f"M{i:04d}", day, 100.0))
            day += pd.Timedelta(days=int(round(30 * rng.gamma(25, 1 / 25))))
    return rows


def test_one_purchase_and_fifty_purchases_are_both_handled():
    rows = _monthly_population()
    rows.append(("ONE", pd.Timestamp("2026-05-14"), 100.0))  # 47 days ago
    rows += [("FIFTY", pd.Timestamp("2025-05-21") + pd.Timedelta(days=7 * k), 100.0) for k in range(50)]
    members = pd.DataFrame({"member_id": ["ONE", "FIFTY", "NEVER"]})
    run = churn_alerts(tx(rows), "2026-06-30", members, AlertSettings(churn_prior=0.02))
    status = run.members.set_index("member_id")
    one, fifty = status.loc["ONE"], status.loc["FIFTY"]
    assert one["purchases"] == 1 and fifty["purchases"] == 50
    assert fifty["typical_interval"] == pytest.approx(7, abs=0.5)  # its own rhythm, not the group's
    assert 25 < one["typical_interval"] < 35  # the group's rhythm
    # FIFTY bought weekly like clockwork and has been silent 62 days: alerted
    assert fifty["status"] == "alert" and fifty["p_active"] < 0.01
    assert re.fullmatch(
        r"usually buys every 7 days; last purchase 2026-04-29, 62 days ago; 55 days later than "
        r"expected",
        fifty["reason"],
    )
    # ONE bought once, 47 days ago, among clockwork monthly buyers: alerted, on the group's rhythm
    assert one["status"] == "alert" and one["days_overdue"] == 47 - round(one["typical_interval"])
    assert status.loc["NEVER", "status"] == "never bought"
    alerts = run.alerts.set_index("member_id")
    assert list(run.alerts.columns) == ALERT_COLUMNS
    assert alerts.loc["FIFTY", "days_overdue"] == 55
    assert alerts.loc["FIFTY", "expected_next_purchase"] == pd.Timestamp("2026-05-06")
    assert re.fullmatch(
        rf"only one purchase, on 2026-05-14, 47 days ago; members like them usually come back "
        rf"after about {round(one['typical_interval'])} days; {one['days_overdue']} days later than "
        rf"expected",
        one["reason"],
    )


def test_reasons_add_up_for_every_alert(gas_run):
    as_of = pd.Timestamp("2026-03-31")
    assert len(gas_run.alerts) > 5
    for row in gas_run.alerts.itertuples():
        match = re.search(
            r"(?:every|after about) (\d+) days.*(\d{4}-\d\d-\d\d).* (\d+) days ago; (-?\d+) days? later", row.reason
        )
        typical, last, ago, late = int(match[1]), pd.Timestamp(match[2]), int(match[3]), int(match[4])
        assert last == row.last_purchase and ago == (as_of - last).days
        assert late == ago - typical == row.days_overdue
        assert row.expected_next_purchase == last + pd.Timedelta(days=typical)
        assert "refill" in row.reason


def test_long_gone_and_never_bought_are_other_lists(gas_run, gas_world):
    table = gas_run.members
    assert (table.loc[table["status"] == "long gone", "days_since"] > 180).all()
    assert (table.loc[table["status"] == "alert", "days_since"] <= 180).all()
    assert set(gas_run.alerts["member_id"]) == set(table.loc[table["status"] == "alert", "member_id"])
    assert len(table) == gas_world.members["member_id"].nunique()
    late = table[table["status"] == "late"]
    assert (late["days_overdue"] > 0).all() and (late["p_active"] >= 0.6).all()


def test_alerts_carry_value_at_risk_and_vips(gas_run, gas_world):
    """value_12m is net spend on purchases in the 365 days to the as-of date (checked against pandas);
    VIPs are the top 20% of buyers by net spend."""
    t = gas_world.transactions
    t = t.loc[t["date"] <= AS_OF]
    daily = t.groupby(["member_id", t["date"].dt.normalize()])["amount"].agg(["sum", "min"]).reset_index()
    purchases = daily.loc[(daily["sum"] > 0) | ((daily["sum"] == 0) & (daily["min"] >= 0))]
    recent = purchases.loc[purchases["date"] > pd.Timestamp(AS_OF) - pd.Timedelta(days=365)]
    expected = recent.groupby("member_id")["sum"].sum()
    table = gas_run.members.set_index("member_id")
    got = table.loc[expected.index, "value_12m"]
    assert np.allclose(got, expected, atol=0.02)
    buyers = table.loc[table["purchases"] > 0]
    assert buyers["vip"].sum() == int(np.ceil(0.2 * len(buyers)))
    assert (
        gas_run.alerts["value_at_risk"] - gas_run.alerts["value_12m"] * (1 - gas_run.alerts["p_active"])
    ).abs().max() < 0.1  # p_active is shown to 4 places


def test_alerts_scored_with_an_earlier_fit(gas_run, gas_world):
    """A model fitted on an earlier day scores a later one without refitting (a daily loop refits weekly)."""
    again = churn_alerts(gas_world.transactions, "2026-03-31", gas_world.members, gas_run.settings, model=gas_run.model)
    assert again.model is gas_run.model
    pd.testing.assert_frame_equal(again.alerts, gas_run.alerts)
    later = churn_alerts(gas_world.transactions, "2026-04-10", gas_world.members, gas_run.settings, model=gas_run.model)
    assert later.model is gas_run.model and (later.members["days_since"] >= 10).all()


def test_a_rhythm_slower_than_any_date_gives_missing_dates_not_a_crash(gas_run):
    """A member whose pace puts the next purchase beyond pandas' last date (year 2262) gets missing dates; seen on
    a history with a two-year hole, where the fitted rhythm of a few members ran to millions of days."""
    from sklearn.base import clone

    model = clone(gas_run.model).fit(gas_run.gaps)
    slow = model.members_.index[0]
    model.members_.loc[slow, "pace"] = 30.0  # e^30 days
    predicted = model.predict(gas_run.gaps).set_index("member_id")
    assert pd.isna(predicted.loc[slow, "expected_next_purchase"]) and pd.isna(predicted.loc[slow, "expected_if_active"])
    others = predicted.drop(index=slow)
    assert others["expected_next_purchase"].notna().all() and others["expected_if_active"].notna().all()


def test_the_order_of_a_gap_tables_rows_does_not_change_the_rhythm(gas_run):
    """The fit numbers completed gaps member after member; a gap table sorted otherwise (by date, or shuffled)
    is taken member by member, so the calibration reads each member's own gaps."""
    from sklearn.base import clone

    from segkit.evaluation.methods import own_median_gap

    gaps = gas_run.gaps.to_pandas()
    shuffled = gaps.sample(frac=1.0, random_state=3)
    ordered, mixed = clone(gas_run.model).fit(gaps), clone(gas_run.model).fit(shuffled)
    for band, values in ordered.calibration_.knots.items():
        np.testing.assert_allclose(mixed.calibration_.knots[band], values, rtol=1e-9)
    np.testing.assert_allclose(mixed.churn_prior_, ordered.churn_prior_, rtol=1e-9)
    members = gaps.loc[~gaps["event"], "member_id"]
    np.testing.assert_array_equal(own_median_gap(shuffled, members), own_median_gap(gas_run.gaps, members))
    # scored in member order the fitted members are read as they are; in any other order, looked up
    by_member = [ordered.predict(table).set_index("member_id").sort_index() for table in (gaps, shuffled)]
    pd.testing.assert_frame_equal(by_member[1], by_member[0])


def test_members_scored_a_batch_at_a_time_score_exactly_as_all_at_once(gas_run, monkeypatch):
    """Scores are made ``_BATCH_GAPS`` members at a time (10M at once held 1.7 GB of temporary arrays)."""
    from sklearn.base import clone

    from segkit.churn import rhythm

    whole = clone(gas_run.model).fit(gas_run.gaps)
    monkeypatch.setattr(rhythm, "_BATCH_GAPS", 64)  # a power of two, as the real one: the same SIMD lanes
    batched = clone(gas_run.model).fit(gas_run.gaps)
    assert (batched.median_interval_, batched.churn_prior_) == (whole.median_interval_, whole.churn_prior_)
    pd.testing.assert_frame_equal(batched.predict(gas_run.gaps), whole.predict(gas_run.gaps), check_exact=True)
    assert len(gas_run.gaps.open) > 64 * 3
    gaps = gas_run.gaps.to_pandas()
    for rest in (1, 2, 3):  # a last batch of two or three rows took another path in numpy; the rest joins the last
        some = gaps[gaps["member_id"].isin(gas_run.gaps.open["member_id"].iloc[: 2 * 64 + rest])]
        batched_scores = whole.predict(some)
        monkeypatch.setattr(rhythm, "_BATCH_GAPS", 1 << 20)
        pd.testing.assert_frame_equal(batched_scores, whole.predict(some), check_exact=True)
        monkeypatch.setattr(rhythm, "_BATCH_GAPS", 64)


def test_members_who_never_bought_come_last_sorted_whatever_holds_their_ids(gas_run, gas_world):
    predictions = gas_run.model.predict(gas_run.gaps)
    members = pd.concat([gas_world.members, pd.DataFrame({"member_id": ["X2", "X1", "X2"]})], ignore_index=True)
    tables = [
        member_statuses(predictions, gas_run.settings, members.assign(member_id=members["member_id"].astype(dtype)))
        for dtype in (object, "string[pyarrow]", "category")
    ]
    for table in tables[1:]:
        pd.testing.assert_frame_equal(table, tables[0], check_exact=True)
    table = tables[0]
    never = table.iloc[len(predictions) :]
    expected = sorted(set(members["member_id"]) - set(predictions["member_id"]))
    assert never["member_id"].tolist() == expected and {"X1", "X2"} <= set(expected)
    assert (never["status"] == "never bought").all() and (never["purchases"] == 0).all()
    assert never["days_since"].isna().all() and never["last_purchase"].isna().all() and (never["reason"] == "").all()
    assert table["days_since"].dtype == "Int64"
    bought = table.iloc[: len(predictions)].drop(columns=["status", "reason"])
    pd.testing.assert_frame_equal(bought, predictions.astype(bought.dtypes.to_dict()), check_exact=True)


def test_statuses_leave_the_predictions_as_they_were(gas_run, gas_world):
    """``member_statuses`` adds columns to a shallow copy (a deep one held 10M members' scores twice); the alert
    run's own call takes the columns out of its predictions instead of holding both (1.1 GB on 10M members)."""
    predictions = gas_run.model.predict(gas_run.gaps)
    before = predictions.copy()
    members = pd.concat([gas_world.members, pd.DataFrame({"member_id": ["X1"]})], ignore_index=True)
    statuses = member_statuses(predictions, gas_run.settings, members)
    pd.testing.assert_frame_equal(predictions, before)
    assert (statuses["status"] == "alert").sum() == len(gas_run.alerts)
    # the alert run hands its predictions over: each column is given up once copied with the added members
    from segkit.churn.alerts import _statuses

    handed = _statuses(predictions, gas_run.settings, members)
    pd.testing.assert_frame_equal(handed, statuses, check_exact=True)
    assert predictions.columns.empty


def test_the_alert_list_on_spark_is_duckdbs(gas_run, gas_world, spark_con, monkeypatch):
    """The whole alert run through ``con=`` on Spark, a range of members at a time as on DuckDB, its results
    collected as Arrow (Ibis collects a row at a time: Spark's driver ran out of memory on 1M households)."""
    from segkit import engine

    monkeypatch.setattr(engine, "_RANGE_ROWS", len(gas_world.transactions) // 5)
    on_spark = churn_alerts(
        gas_world.transactions,
        "2026-03-31",
        gas_world.members,
        AlertSettings(purchase_noun="refill", purchase_verb="refills"),
        con=spark_con,
    )
    pd.testing.assert_frame_equal(gas_run.alerts, on_spark.alerts, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(gas_run.members, on_spark.members, check_exact=False, rtol=1e-12)


def test_alert_settings_are_validated(tmp_path):
    with pytest.raises(ValueError, match="unknown alert setting.*threshold"):
        AlertSettings.from_dict({"threshold": 0.5})
    with pytest.raises(ValueError, match="p_active_below"):
        AlertSettings(p_active_below=1.5)
    with pytest.raises(ValueError, match="covariates"):
        AlertSettings(covariates=["household_size", "weather"])
    path = tmp_path / "alerts.yaml"
    path.write_text("p_active_below: 0.4\nlong_gone_days: 120\n")
    assert AlertSettings.from_yaml(path) == AlertSettings(p_active_below=0.4, long_gone_days=120)


def test_model_needs_repeat_purchases():
    with pytest.raises(ValueError, match="two purchase occasions"):
        churn_alerts(tx([("A", "2026-01-01", 10), ("B", "2026-01-05", 10)]), "2026-02-01")


# -- propensity --------------------------------------------------------------


@pytest.mark.slow
def test_propensity_learns_from_earlier_cutoffs_and_is_calibrated():
    from segkit.churn.propensity import FEATURES, ChurnPropensity, propensity_frame

    w = generate("gas", 2500, seed=8, as_of="2026-09-30", history_days=900)
    frames = [propensity_frame(w.transactions, c, 60, w.members) for c in ("2026-02-28", "2026-03-31", "2026-04-30")]
    assert all(set(FEATURES) <= set(f.columns) and "churned" in f for f in frames)
    with pytest.raises(ValueError, match="two cutoffs"):
        ChurnPropensity().fit(frames[:1])
    # a model learns and is scored only on labels of its own horizon
    with pytest.raises(ValueError, match="labelled for 60 days; this model predicts no purchase within 30 days"):
        ChurnPropensity(30).fit(frames[:2])
    with pytest.raises(ValueError, match="labelled for 60 and 90 days"):
        ChurnPropensity(60).fit([frames[0], frames[1].assign(horizon_days=90)])
    model = ChurnPropensity(60).fit(frames[:2])
    with pytest.raises(ValueError, match="evaluation frames are labelled for 90 days"):
        model.evaluate(frames[2].assign(horizon_days=90))
    summary = model.summary()
    assert summary["role"].tolist() == ["learn", "calibrate"]
    assert summary["members"].tolist() == [len(f) for f in frames[:2]]
    assert summary["churn_rate"].tolist() == pytest.approx([f["churned"].mean() for f in frames[:2]])
    scores = model.evaluate(frames[2])
    assert scores["auc"] > 0.75 and scores["top_decile_lift"] > 3
    assert scores["brier"] < scores["churn_rate"] * (1 - scores["churn_rate"])  # better than the base rate
    importance = scores["importance"]
    rhythm = importance[["p_active", "p_due", "days_overdue", "typical_interval", "regularity_cv"]].sum()
    assert rhythm > importance[["r_score", "f_score", "m_score"]].sum()  # the rhythm carries the signal
    recent = propensity_frame(w.transactions, "2026-09-15", 60, w.members)
    assert "churned" not in recent  # the horizon runs past the data: no label
    assert "trained on cutoffs 2026-02-28, 2026-03-31" in repr(model)


def test_the_calibration_rows_known_from_each_members_count_are_those_it_keeps_from_every_row():
    """A pass over the gaps a range of members at a time draws the calibration's rows beforehand from how many
    completed gaps each member has; they are the rows ``from_rows`` keeps given every row's gaps used."""
    rng = np.random.default_rng(5)
    completed = rng.choice([0, 1, 2, 3, 6, 30], size=40_000, p=[0.05, 0.1, 0.1, 0.25, 0.3, 0.2])
    gaps_used = np.repeat(completed - 1, completed)  # a row per completed gap, member after member
    chosen = {}
    Calibration.from_rows(
        lambda rows: chosen.setdefault(len(chosen), rows).astype(float), gaps_used, rng=np.random.default_rng(9)
    )
    kept = Calibration.kept_rows(completed, np.random.default_rng(9))
    assert len(kept) == len(chosen) >= 3
    assert max(len(rows) for rows in kept.values()) == 50_000  # a band larger than 50,000 is drawn from
    for rows, expected in zip(kept.values(), chosen.values()):
        np.testing.assert_array_equal(np.sort(rows), np.sort(expected))
    few = Calibration.kept_rows(np.array([0, 3, 5, 250, 2, 8, 40]), np.random.default_rng(1))  # no band has 300
    assert list(few) == [None] and few[None].tolist() == list(range(308))  # so all 308 rows as one


def test_the_naive_rules_of_the_closed_loop_take_a_gap_dataframe(gas_world):
    """The closed loop's "1.5 x own median gap" rule reads ``purchase_gaps``' DataFrame, as the backtest reads
    an alert run's ``GapTable``."""
    from segkit.synth.loop import rule_candidates

    as_of = pd.Timestamp("2026-03-31")
    candidates = rule_candidates(gas_world.transactions, as_of, "median-1.5", 180)
    assert len(candidates) and candidates["member_id"].is_unique
    assert len(rule_candidates(gas_world.transactions, as_of, "overdue-30", 180)) >= len(candidates) > 0
