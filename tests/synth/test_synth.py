"""Synthetic worlds: deterministic, shaped like the domain, and consistent with their truth."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from segkit.synth import generate
from segkit.synth.supplements import TIERS


@pytest.mark.parametrize("kind", ["gas", "supplements"])
def test_same_seed_same_world_other_seed_other_world(kind):
    a, b, c = (generate(kind, 300, seed=s, as_of="2026-03-31") for s in (5, 5, 6))
    for name in ("transactions", "members", "advisors", "truth"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.transactions.equals(c.transactions)


def test_unknown_world_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown world 'water'"):
        generate("water", 10)


def _gaps(transactions: pd.DataFrame) -> pd.DataFrame:
    tx = transactions.sort_values(["member_id", "date"])
    gap = tx.groupby("member_id")["date"].diff().dt.days
    return tx.assign(gap=gap, started=tx.groupby("member_id")["date"].shift()).dropna(subset=["gap"])


def test_gas_family_of_three_refills_about_monthly(gas_world):
    truth = gas_world.truth
    three = truth[(truth.household_size == 3) & (truth.cylinders == 1)]
    assert 26 <= three.true_mean_interval.median() <= 34
    gaps = _gaps(gas_world.transactions).merge(three[["member_id"]], on="member_id")
    assert 25 <= gaps.gap.median() <= 36
    bigger = truth[(truth.household_size >= 5) & (truth.cylinders == 1)].true_mean_interval.median()
    smaller = truth[(truth.household_size == 1) & (truth.cylinders == 1)].true_mean_interval.median()
    assert bigger < three.true_mean_interval.median() < smaller


def test_gas_winter_burns_more(gas_world):
    gaps = _gaps(gas_world.transactions).merge(gas_world.truth[["member_id", "true_mean_interval"]], on="member_id")
    gaps["relative"] = gaps.gap / gaps.true_mean_interval
    month = gaps.started.dt.month
    winter = gaps[month.isin([11, 12, 1])].relative.median()
    summer = gaps[month.isin([6, 7, 8])].relative.median()
    assert winter < 0.9 * summer


def test_gas_regularity_follows_truth(gas_world):
    gaps = _gaps(gas_world.transactions)
    cv = gaps.groupby("member_id").gap.agg(lambda g: g.std() / g.mean() if len(g) >= 5 else np.nan).dropna()
    truth = gas_world.truth.set_index("member_id").loc[cv.index]
    assert np.corrcoef(cv, truth.interval_cv)[0, 1] > 0.4


def test_gas_switchers_stop_buying_and_their_missed_refill_is_recorded(gas_world):
    truth = gas_world.truth.set_index("member_id")
    last = gas_world.transactions.groupby("member_id").date.max()
    switched = truth[truth.switched]
    assert 0.1 < truth.switched.mean() < 0.5
    assert (last.loc[switched.index] == switched.last_refill).all()
    assert (switched.missed_refill_due > switched.last_refill).all()
    assert truth.loc[~truth.switched, "missed_refill_due"].isna().all()
    assert (truth.active_at_as_of == ~truth.switched).all()


def test_gas_spring_festival_travellers_have_longer_gaps_over_the_festival(gas_world):
    gaps = _gaps(gas_world.transactions).merge(
        gas_world.truth[["member_id", "true_mean_interval", "travels_spring_festival"]], on="member_id"
    )
    festival = pd.Timestamp("2026-02-17")
    spanning = gaps[(gaps.started < festival) & (gaps.date > festival)]
    ratio = (spanning.gap / spanning.true_mean_interval).groupby(spanning.travels_spring_festival).median()
    assert ratio[True] > ratio[False] + 0.15


def test_gas_members_and_ids(gas_world):
    members = gas_world.members
    assert members.member_id.str.fullmatch(r"0\d{6}").all()
    assert members.phone.str.fullmatch(r"1[3-9]\d{9}").all()
    assert set(members.advisor_id) <= set(gas_world.advisors.advisor_id)


def test_supplements_orders_returns_and_tiers(supplements_world):
    tx, members = supplements_world.transactions, supplements_world.members
    assert set(tx.status) == {"completed", "cancelled", "returned", "refunded"}
    assert (tx.loc[tx.status.isin(["returned", "refunded"]), "amount"] < 0).all()
    cancelled = tx[tx.status == "cancelled"].groupby(["order_id", "date"]).amount.sum()
    assert (cancelled.abs() < 1e-9).all()
    as_of = pd.Timestamp("2026-03-31")
    spend = tx[tx.date > as_of - pd.Timedelta(days=365)].groupby("member_id").amount.sum()
    spend = spend.reindex(members.member_id, fill_value=0)
    expected = np.select([spend >= t for _, t in TIERS], [name for name, _ in TIERS], "standard")
    # tiers use fractional days; allow the odd member on a day boundary
    assert (members.tier.to_numpy() == expected).mean() > 0.98
    assert 0.02 < (members.do_not_call.mean()) < 0.06
    prospects = ~members.member_id.isin(tx.member_id)
    assert 0.05 < prospects.mean() < 0.2


def test_advisor_books_fit_500_to_800_at_scale():
    world = generate("supplements", 20_000, seed=3, as_of="2026-03-31")
    advisors = world.advisors
    assert set(advisors.level) == {1, 2, 3}
    assert (advisors.capacity_min == 500).all() and (advisors.capacity_max == 800).all()
    active = advisors[advisors.active]
    assert active.capacity_min.sum() <= len(world.members) <= active.capacity_max.sum()


def test_synth_is_a_leaf_that_calls_no_product_code():
    """A world must not move when segkit's features, segmentation or grading change: synth uses utilities only.
    The one exception is ``loop``, the closed loop that runs segkit's policies on a gas world: no world
    generator imports it."""
    utilities = {"io", "progress", "calendar", "data.parse"}
    for path in (REPO / "segkit" / "synth").glob("*.py"):
        if path.name == "loop.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            assert not (isinstance(node, ast.ImportFrom) and node.module == "loop"), f"{path.name} imports loop"
            if isinstance(node, ast.ImportFrom) and node.level == 2:
                assert node.module in utilities, f"{path.name} imports segkit.{node.module}"
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(name.startswith("segkit") for name in names), f"{path.name} imports {names}"


def test_a_world_that_cannot_be_made_is_refused_before_it_is_made():
    """Found by a helper: 10,000 days of history wrote refills of negative price, an as-of in 1900 wrote dates the
    loader rejects, and 99,999,999,999 members ran out of memory (a bug, exit 3)."""
    from segkit.synth import generate

    for options, said in (
        ({"n_members": 99_999_999_999}, "is more than 50,000,000"),
        ({"n_members": 10, "history_days": 10_000}, "history_days 10,000 is more than 7,305"),
        ({"n_members": 10, "as_of": "1900-01-01"}, "the history would start on 1897-01-01"),
    ):
        with pytest.raises(ValueError, match=said):
            generate("gas", **options)
    assert (generate("gas", 20, history_days=7_000).transactions["amount"] > 0).all()


def test_a_world_is_written_as_one_set(tmp_path, monkeypatch):
    """Found by a helper: generate stopped midway left a new transactions.csv beside the old members.csv, and a
    survey's truth.csv replaced a gas world's."""
    import segkit.io
    from segkit.synth.survey import generate_survey, write_survey

    small = generate("gas", 30, seed=1)
    small.write(tmp_path)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    written = []

    def stopped(frame):
        written.append(len(frame))
        if len(written) == 2:
            raise KeyboardInterrupt

    real = segkit.io.write_tables
    monkeypatch.setattr("segkit.synth.write_tables", lambda tables, on_written=None: real(tables, stopped))
    with pytest.raises(KeyboardInterrupt):
        generate("gas", 60, seed=2).write(tmp_path)
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    monkeypatch.undo()
    with pytest.raises(ValueError, match="holds a generated world: give the survey a folder of its own"):
        write_survey(generate_survey(5, 20, seed=1), tmp_path)
    write_survey(generate_survey(5, 20, seed=1), tmp_path / "survey")
    with pytest.raises(ValueError, match="holds a benefit survey: give the world a folder of its own"):
        small.write(tmp_path / "survey")
