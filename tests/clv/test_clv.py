"""Buy-till-you-die models: CDNOW's published estimates, predictions against lifetimes' formulas, the summary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from sklearn.exceptions import NotFittedError

import segkit
from segkit.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel, btyd_summary, customer_lifetime_value, value_table


@pytest.fixture(scope="module")
def cdnow(shared_data):
    transactions = segkit.load_transactions(
        shared_data / "cdnow" / "CDNOW_sample.txt", config=REPO / "data" / "mappings" / "cdnow_sample.yaml"
    ).table
    return btyd_summary(transactions, "1997-09-30", "1998-06-30", unit="W")


def test_cdnow_summary(cdnow):
    # 2,357 customers (8 of whom bought only $0 items), 39-week holdout, 1,882 repeat purchases in it
    assert len(cdnow) == 2357 and cdnow["holdout_frequency"].sum() == 1882
    assert (cdnow["frequency"] > 0).sum() == 946
    first = cdnow.set_index("member_id").loc["0001"]  # bought 1997-01-01, 01-18 and 08-02
    assert (
        first["frequency"] == 2 and first["recency"] == pytest.approx(213 / 7) and first["T"] == pytest.approx(272 / 7)
    )


def test_summary_equals_a_member_by_member_reference(supplements_world):
    # refunds, same-day orders and cancelled orders: each member's history walked in plain Python. A refund on a
    # day without a purchase takes its share of what was paid back (kept_share; found by a helper: a customer who
    # returned every order three days later kept the full value)
    transactions = supplements_world.transactions
    summary = btyd_summary(transactions, "2025-12-31", "2026-03-31", unit="W").set_index("member_id")
    calibration_end, holdout_end = pd.Timestamp("2025-12-31"), pd.Timestamp("2026-03-31")
    expected = {}
    for member, rows in transactions.groupby("member_id"):
        days = {}
        for date, amount in zip(rows["date"].dt.normalize(), rows["amount"]):
            net, refunds = days.get(date, (0.0, 0))
            days[date] = (net + amount, refunds + (amount < 0))
        purchases = sorted(
            (d, net)
            for d, (net, refunds) in days.items()
            if d <= holdout_end and (net > 0 or (net == 0 and refunds == 0))
        )
        before = [(d, net) for d, net in purchases if d <= calibration_end]
        if not before:
            continue
        gaps = [(b[0] - a[0]).days / 7 for a, b in zip(before, before[1:])]
        after = [net for d, net in purchases if d > calibration_end]
        paid = sum(net for _, net in before)
        returned = sum(
            net
            for d, (net, refunds) in days.items()
            if d <= calibration_end and not (net > 0 or (net == 0 and refunds == 0))
        )
        kept = min(max((paid + returned) / paid, 0.0), 1.0) if paid > 0 else 1.0
        expected[member] = {
            "frequency": len(before) - 1,
            "recency": (before[-1][0] - before[0][0]).days / 7,
            "T": (calibration_end - before[0][0]).days / 7,
            "monetary_value": sum(net for _, net in before[1:]) / (len(before) - 1) if len(before) > 1 else 0.0,
            "kept_share": kept,
            "litt": float(np.sum(np.log(gaps))),
            "holdout_frequency": len(after),
            "holdout_monetary": sum(after),
        }
    expected = pd.DataFrame.from_dict(expected, orient="index")
    assert sorted(summary.index) == sorted(expected.index)
    assert summary.index.is_monotonic_increasing and (summary["holdout_duration"] == 90 / 7).all()
    assert (summary["frequency"] > 0).sum() > 100 and (summary["holdout_frequency"] > 0).sum() > 100
    pd.testing.assert_frame_equal(
        summary[expected.columns], expected.loc[summary.index], check_dtype=False, check_names=False, rtol=1e-9
    )


@pytest.mark.spark
def test_summary_on_spark_equals_duckdb(spark_con, supplements_world):
    on_duckdb = btyd_summary(supplements_world.transactions, "2025-12-31", "2026-03-31")
    on_spark = btyd_summary(supplements_world.transactions, "2025-12-31", "2026-03-31", con=spark_con)
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_dtype=False, rtol=1e-12)


def test_bg_nbd_reproduces_fader_hardie_lee(cdnow):
    model = BetaGeoModel().fit(cdnow)
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005
    for name, value in published.items():
        assert f"{model.params_[name]:.3g}" == f"{value:.3g}", name  # three significant figures
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    assert model.summary().loc["r", "std_error"] == pytest.approx(0.0126, abs=0.0005)
    forecast = model.conditional_expected_purchases(39, cdnow["frequency"], cdnow["recency"], cdnow["T"]).sum()
    assert 1500 < forecast < 1900  # reported beside the actual 1,882 in docs/guide/customer-value.md


def test_pareto_nbd_reproduces_the_btyd_walkthrough(cdnow):
    model = ParetoNBDModel().fit(cdnow)
    published = {"r": 0.5534, "alpha": 10.5802, "s": 0.6061, "beta": 11.6562}  # BTYD walkthrough
    for name, value in published.items():
        assert f"{model.params_[name]:.3g}" == f"{value:.3g}", name
    assert model.log_likelihood_ == pytest.approx(-9594.98, abs=0.05)


def test_gamma_gamma_reproduces_fader_hardie_lee(cdnow):
    model = GammaGammaModel().fit(cdnow)
    published = {"p": 6.25, "q": 3.74, "v": 15.44}  # FHL 2005 ("RFM and CLV")
    assert {k: f"{v:.3g}" for k, v in model.params_.items()} == {k: f"{v:.3g}" for k, v in published.items()}
    assert model.n_ == 946
    spend = model.expected_spend(cdnow["frequency"], cdnow["monetary_value"])
    population = 6.25 * 15.44 / (3.74 - 1)
    assert spend[cdnow["frequency"].to_numpy() == 0] == pytest.approx(population, rel=0.01)


def test_predictions_match_the_closed_forms():
    # FHL 2005's worked formulas, with their parameters, against hand computation
    model = BetaGeoModel()
    model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    r, alpha, a, b = model.params_.values()
    x, t_x, T = 2, 30.43, 38.86
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    assert model.probability_alive(x, t_x, T) == pytest.approx(alive)
    assert model.probability_alive(0, 0, 38.86) == 1.0
    # a customer seen only at their first purchase expects what a new customer expects
    assert model.conditional_expected_purchases(39, 0, 0, 0) == pytest.approx(model.expected_purchases(39), rel=1e-9)


def test_bg_nbd_expectation_matches_a_simulation_of_the_story():
    # the BG/NBD story, simulated: Poisson purchases at rate lambda; after each, drop out with chance p
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    rng = np.random.default_rng(7)
    n, horizon = 400_000, 39.0
    rate = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    clock, count, alive = np.zeros(n), np.zeros(n), np.ones(n, dtype=bool)
    while alive.any():
        clock = clock + rng.exponential(1, n) / np.maximum(rate, 1e-12)
        bought = alive & (clock <= horizon)
        count += bought
        alive = bought & (rng.random(n) >= drop)
    model = BetaGeoModel()
    model.params_ = {"r": r, "alpha": alpha, "a": a, "b": b}
    assert model.expected_purchases(horizon) == pytest.approx(count.mean(), rel=0.02)


def test_pareto_nbd_alive_falls_with_silence():
    model = ParetoNBDModel()
    model.params_ = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
    recent, silent = model.probability_alive([5, 5], [38, 10], [39, 39])
    assert 0 < silent < recent < 1
    assert model.probability_alive(0, 0, 0) == pytest.approx(1.0)


def test_clv_discounts_and_adds_up(cdnow):
    purchases, spend = BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)
    undiscounted = customer_lifetime_value(purchases, spend, cdnow, periods=9, period_length=39 / 9, discount_rate=0)
    expected = purchases.conditional_expected_purchases(
        39, cdnow["frequency"], cdnow["recency"], cdnow["T"]
    ) * spend.expected_spend(cdnow["frequency"], cdnow["monetary_value"])
    np.testing.assert_allclose(undiscounted, expected, rtol=1e-9)
    discounted = customer_lifetime_value(purchases, spend, cdnow, periods=9, period_length=39 / 9, discount_rate=0.05)
    assert (discounted <= undiscounted + 1e-12).all() and discounted.sum() < undiscounted.sum()


def test_large_frequencies_do_not_overflow():
    summary = pd.DataFrame({"frequency": [0, 500, 2000], "recency": [0, 300, 390], "T": [400, 400, 400]})
    summary = pd.concat(
        [summary] * 50
        + [pd.DataFrame({"frequency": np.arange(60) % 7, "recency": (np.arange(60) % 7) * 40.0, "T": 400.0})],
        ignore_index=True,
    )
    for model in (BetaGeoModel().fit(summary), ParetoNBDModel().fit(summary)):
        assert all(np.isfinite(v) and v > 0 for v in model.params_.values())
        assert np.isfinite(model.probability_alive(summary["frequency"], summary["recency"], summary["T"])).all()


def test_bad_summaries_are_refused():
    with pytest.raises(ValueError, match="lacks T"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1], "recency": [2]}))
    with pytest.raises(ValueError, match="recency <= T"):
        BetaGeoModel().fit(pd.DataFrame({"frequency": [1], "recency": [5], "T": [3]}))
    with pytest.raises(NotFittedError):
        BetaGeoModel().probability_alive(1, 1, 2)
    with pytest.raises(ValueError, match="holdout_end"):
        btyd_summary(
            pd.DataFrame({"member_id": ["a"], "date": pd.to_datetime(["2026-01-01"]), "amount": [1.0]}),
            "2026-02-01",
            "2026-01-15",
        )


@pytest.mark.parametrize(
    "a, z",
    [
        (3000, 0.999),
        (3000, 0.9),
        (500, 0.99),
        (50, 0.99),
        (0.8, 0.99),
        (0.8, 0.9),
        (3000, -50),
        (2, -50),
        (1.5, 0.95),
        (49, -0.5),
    ],
)
def test_log_hyp2f1_against_adaptive_quadrature(a, z):
    from scipy import integrate

    from segkit.clv.models import _log_hyp2f1_a_b_a1

    b = 1.6
    integrand = lambda w: np.exp(-w) * (1 - z * np.exp(-w / a)) ** (-b)  # noqa: E731
    reference = np.log(
        sum(integrate.quad(integrand, lo, hi, limit=500, epsabs=0, epsrel=1e-12)[0] for lo, hi in ((0, 1), (1, np.inf)))
    )
    assert _log_hyp2f1_a_b_a1(a, b, z) == pytest.approx(reference, rel=1e-7, abs=1e-7)


# -- regularity ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mbg_cnbd_k_recovers_the_regularity_that_made_the_world():
    from segkit.clv import MBGCNBDModel, wheat_morrison
    from segkit.synth.btyd import simulate_mbgcnbd

    transactions = simulate_mbgcnbd(3000, k=5, r=4, alpha=20, a=1, b=20, seed=3)
    summary = btyd_summary(transactions, "2025-12-31", unit="W")
    model = MBGCNBDModel(k_max=8).fit(summary)
    assert abs(model.k_ - 5) / 5 <= 0.15
    assert model.params_["r"] == pytest.approx(4, rel=0.25)
    assert model.params_["alpha"] == pytest.approx(20 / 7, rel=0.25)  # per week
    assert model.log_likelihoods_.idxmax() == model.k_ and model.summary().loc["k", "estimate"] == model.k_
    assert wheat_morrison(transactions, "2025-12-31")["k"] == pytest.approx(5, rel=0.15)
    alive = model.probability_alive(summary["frequency"], summary["recency"], summary["T"])
    assert ((alive >= 0) & (alive <= 1)).all()


def test_cdnow_has_no_regularity(cdnow, shared_data):
    from segkit.clv import MBGCNBDModel, wheat_morrison

    model = MBGCNBDModel(k_max=3).fit(cdnow)
    assert model.k_ == 1  # Poisson-like: k = 1 is the MBG/NBD
    transactions = segkit.load_transactions(
        shared_data / "cdnow" / "CDNOW_sample.txt", config=REPO / "data" / "mappings" / "cdnow_sample.yaml"
    ).table
    assert wheat_morrison(transactions, "1998-06-30")["k"] == pytest.approx(1, abs=0.25)


def test_regular_buyers_look_gone_sooner():
    from segkit.clv import MBGCNBDModel

    poisson, clockwork = MBGCNBDModel(), MBGCNBDModel()
    for model, k in ((poisson, 1), (clockwork, 6)):
        model.k_ = k
        model.params_ = {"r": 4.0, "alpha": 4.0 / k, "a": 1.0, "b": 20.0}  # mean interval k / lambda: 1 week
    # ten weekly purchases, then four silent weeks: the clockwork buyer is more likely gone
    args = (10, 10.0, 14.0)
    assert clockwork.probability_alive(*args) < poisson.probability_alive(*args)
    assert clockwork.probability_alive(10, 10.0, 10.5) > 0.9


def _mbg_cnbd(k, r, alpha, a, b):
    from segkit.clv import MBGCNBDModel

    model = MBGCNBDModel()
    model.k_, model.params_ = k, {"r": r, "alpha": alpha, "a": a, "b": b}
    return model


@pytest.mark.parametrize("a", [1.5, 0.89])  # a < 1 (CDNOW): the closed form's 1 / (a - 1) is negative
def test_mbg_cnbd_1_forecast_is_the_mbg_nbd_closed_form(a):
    # k = 1 is the MBG/NBD; Batislam, Denizel and Filiztekin (2007) give its forecast in closed form
    from scipy import special

    r, alpha, b = 0.5, 5.0, 3.0
    x, t_x = np.array([0, 0, 1, 3, 10, 50, 200.0]), np.array([0, 0, 5, 20, 30, 38, 38.9])
    T, t = np.array([0, 10, 30, 39, 39, 39, 39.0]), 39.0
    growth = special.hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t)) * ((alpha + T) / (alpha + T + t)) ** (
        r + x
    )
    alive = 1 / (1 + a / (b + x) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    closed_form = (a + b + x) / (a - 1) * (1 - growth) * alive
    model = _mbg_cnbd(1, r, alpha, a, b)
    np.testing.assert_allclose(model.conditional_expected_purchases(t, x, t_x, T), closed_form, rtol=1e-9)
    np.testing.assert_allclose(model.probability_alive(x, t_x, T), alive, rtol=1e-9)


def test_mbg_cnbd_k_forecast_matches_a_simulation_of_the_story():
    # the MBG/CNBD-k story, simulated: Erlang-k gaps at rate lambda, dropping out after each purchase (the first
    # too) with chance p; watched until T, then for 26 more weeks. The forecast from (x, t_x, T) is the exact
    # conditional mean, so its average over the customers with x repeat purchases is their mean future count.
    k, r, alpha, a, b, horizon = 4, 2.0, 8.0, 1.2, 6.0, 26.0
    rng = np.random.default_rng(5)
    n = 100_000
    rate, drop, T = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n), rng.uniform(5, 40, n)
    clock, x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    alive = rng.random(n) >= drop
    while alive.any():
        clock[alive] += rng.gamma(k, 1 / rate[alive])
        before, after = alive & (clock <= T), alive & (clock > T) & (clock <= T + horizon)
        x += before
        t_x = np.where(before, clock, t_x)
        future += after
        alive = (before | after) & (rng.random(n) >= drop)

    def misses(model):
        """By repeat purchases (6: 6 or more): forecast minus the simulated future, in standard errors."""
        forecast = model.conditional_expected_purchases(horizon, x, t_x, T)
        groups = pd.DataFrame({"forecast": forecast, "future": future}).groupby(np.minimum(x, 6))
        check = groups.agg(forecast=("forecast", "mean"), future=("future", "mean"), error=("future", "sem"))
        return (check["forecast"] - check["future"]) / check["error"]

    assert misses(_mbg_cnbd(k, r, alpha, a, b)).abs().max() < 4
    # the check has power: the Poisson (k = 1) forecast at the same mean gap misses every group
    assert misses(_mbg_cnbd(1, r, alpha / k, a, b)).abs().min() > 4


def test_a_zero_spend_repeat_buyer_is_left_out_of_gamma_gamma_not_everyone(cdnow):
    # CDNOW master has one repeat buyer whose repeat purchase cost $0: it stopped the fit for all 23,570
    changed = cdnow.copy()
    repeat = changed.index[changed["frequency"] > 0]
    changed.loc[repeat[0], "monetary_value"] = 0.0
    changed.loc[repeat[1], "monetary_value"] = -5.0
    spend = GammaGammaModel().fit(changed)
    assert spend.left_out_ == 2 and spend.n_ == 944 and "2 repeat buyer(s) with no positive spend" in repr(spend)
    assert spend.params_["p"] == pytest.approx(GammaGammaModel().fit(cdnow).params_["p"], rel=0.02)
    table, spend, notes = value_table(changed, BetaGeoModel().fit(changed), horizon=39)
    assert spend is not None
    assert any("944 repeat buyers" in note and "2 with zero or negative spend left out" in note for note in notes)
    assert any(note.startswith("1 customer(s) get no clv") for note in notes)
    clv = table["clv"]
    assert clv.isna().sum() == 1 and np.isnan(clv[repeat[1]])  # a negative mean spend: no value
    assert clv.drop(repeat[1]).ge(0).all() and clv[repeat[0]] >= 0  # $0 spend: the formula holds (shrunk)


def test_mbg_cnbd_k_values_cdnow_and_forecasts_its_holdout(cdnow):
    from segkit.clv import MBGCNBDModel

    table, spend, notes = value_table(cdnow, MBGCNBDModel(k_max=2).fit(cdnow), horizon=39)
    assert table["p_alive"].between(0, 1).all() and spend is not None and notes == []
    assert table["clv"].notna().all() and (table["clv"] >= 0).all()
    # FHL 2005's check: the 39-week holdout, forecast from the calibration period (BG/NBD is 12 % under)
    actual = cdnow["holdout_frequency"].sum()
    assert 0.8 * actual < table["expected_purchases"].sum() < actual


def test_a_spend_model_that_cannot_be_fitted_says_so(cdnow):
    few = cdnow.assign(monetary_value=np.where(cdnow.index == cdnow.index[cdnow["frequency"] > 0][0], 10.0, 0.0))
    table, spend, notes = value_table(few, BetaGeoModel().fit(few), horizon=39)
    assert "expected_purchases" in table and "clv" not in table
    assert any("no expected_spend or clv: Gamma-Gamma needs at least 2" in note for note in notes)


@pytest.mark.parametrize("model", ["bgnbd", "paretonbd", "mbgcnbd"])
def test_nobody_to_fit_says_so(model):
    """Transactions of nobody by the calibration's end (an export of its header alone): one clear error from
    every model, where BG/NBD said its likelihood was not finite and Pareto/NBD ended in a TypeError."""
    empty = pd.DataFrame({"member_id": pd.Series(dtype=str), "date": pd.Series(dtype="datetime64[ns]"), "amount": []})
    with pytest.raises(ValueError, match="no customer to fit: nobody bought by the end of the calibration"):
        segkit.customer_value(empty, "2026-03-31", settings={"model": model})


def test_a_fit_the_data_cannot_pin_down_says_so_and_predicts_nothing_false():
    """One customer without a repeat purchase leaves BG/NBD's a and b where the search started (a = 1, where the
    expectation divides by zero): the fit printed estimates with no word, a standard error of 0 for an unknown
    parameter, numpy's 'divide by zero' and an infinite expected_purchases."""
    one = pd.DataFrame({"member_id": ["0001"], "date": pd.to_datetime(["2026-01-05"]), "amount": [115.4]})
    summary = btyd_summary(one, "2026-03-31", "2026-06-30")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BetaGeoModel().fit(summary)
    assert [str(w.message) for w in caught] == [
        "BetaGeoModel: 1 customer(s) do not pin down r, alpha, a, b (the likelihood is flat there: no standard "
        "error); the estimates and what they predict may mean nothing"
    ]
    assert model.summary()["std_error"].isna().all()
    assert np.isnan(
        model.conditional_expected_purchases(13, summary["frequency"], summary["recency"], summary["T"])
    ).all()
    # found by a helper: on data where nobody bought twice every model gave p_alive 0.0002 and no word (MBG/CNBD-k)
    with pytest.raises(ValueError, match="nobody of the 1 customers bought twice by 2026-03-31"):
        segkit.customer_value(one, "2026-03-31", holdout_end="2026-06-30")


def test_refunds_on_later_days_take_the_spend_back_and_a_holdout_past_the_data_is_noted(shared_data):
    """Found by a helper: a customer who returned every order three days later kept their full CLV (129.65 for a
    net spend of 0), and a holdout running a year past the data read as a 70 % over-forecast, without a word."""
    from segkit import customer_value
    from segkit.synth import generate

    tx = generate("supplements", 300, seed=1).transactions[["member_id", "date", "amount"]]
    repeat = tx.loc[tx["date"] <= "2025-09-30"].groupby("member_id")["date"].nunique()
    returner, keeper = repeat.index[repeat >= 4][:2]
    bought = tx.loc[(tx["member_id"] == returner) & (tx["amount"] > 0)]
    refunds = bought.assign(date=bought["date"] + pd.Timedelta(days=3), amount=-bought["amount"])
    # customers whose rows are all refunds (the world has five) are not summarized: said in a note
    only_refund = pd.DataFrame({"member_id": ["refunder"], "date": [pd.Timestamp("2025-05-01")], "amount": [-80.0]})
    value = customer_value(pd.concat([tx, refunds, only_refund], ignore_index=True), "2025-09-30")
    summarized = set(btyd_summary(pd.concat([tx, refunds]), "2025-09-30")["member_id"])
    none_bought = set(tx.loc[tx["date"] <= "2025-09-30", "member_id"]) - summarized  # same-day cancellations
    said = f"{len(none_bought) + 1} customer(s) with rows by 2025-09-30 but no purchase (only refunds or cancelled"
    assert any(note.startswith(said) for note in value.notes), value.notes
    table = value.table.set_index("member_id")
    assert table.loc[returner, "kept_share"] == 0 and table.loc[returner, ["expected_spend", "clv"]].eq(0).all()
    assert table.loc[keeper, "kept_share"] == 1 and table.loc[keeper, "clv"] > 0
    cdnow_tx = segkit.load_transactions(
        shared_data / "cdnow" / "CDNOW_sample.txt", config=REPO / "data" / "mappings" / "cdnow_sample.yaml"
    ).table
    value = customer_value(cdnow_tx, "1997-09-30", "1999-06-30")
    assert value.notes[-1].startswith("the holdout runs to 1999-06-30, past the transactions' last sale on 1998-06-30")
    assert not any(
        "past the transactions" in note for note in customer_value(cdnow_tx, "1997-09-30", "1998-06-30").notes
    )
    # found by a helper: calibrated to 15 months past the data, customers looked lost without a word
    late = customer_value(cdnow_tx, "1999-09-30").notes
    assert any(
        note.startswith("the calibration runs to 1999-09-30, past the transactions' last sale on 1998-06-30")
        for note in late
    ), late


def test_a_value_written_without_a_holdout_leaves_no_holdout_check_of_an_earlier_run(shared_data, tmp_path):
    """Found by a helper: clv with --holdout-end, then without it into the same --out, left the first run's
    holdout check (of another calibration) beside the new values."""
    from segkit import customer_value

    cdnow_tx = segkit.load_transactions(
        shared_data / "cdnow" / "CDNOW_sample.txt", config=REPO / "data" / "mappings" / "cdnow_sample.yaml"
    ).table
    out = tmp_path / "value.csv"
    customer_value(cdnow_tx, "1997-09-30", "1998-06-30").write(out)
    assert (tmp_path / "value.holdout_check.csv").exists()
    customer_value(cdnow_tx, "1997-06-30").write(out)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["value.csv"]


def test_the_default_horizon_is_a_year_in_the_models_unit():
    """The horizon defaulted to 52 in any unit: ``--unit M`` valued customers over 52 months."""
    from segkit.clv import ValueSettings
    from segkit.settings import resolve_settings

    assert [ValueSettings(unit=unit).horizon for unit in ("D", "W", "M")] == [365.0, 52.0, 12.0]
    assert resolve_settings(ValueSettings, {"unit": "W"}, unit="M").horizon == 12.0
    assert resolve_settings(ValueSettings, {"unit": "M", "horizon": 24}).horizon == 24
