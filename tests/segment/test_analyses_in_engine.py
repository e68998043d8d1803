"""The analyses over time computed in the engine (cohorts, the sales split, the gross-to-net funnel) and the
compact stage snapshots give what the pandas computations over every purchase occasion, every transaction and
object member ids gave, on worlds with refunds, same-day cancellations and statuses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.engine import connect
from segkit.features import member_features, purchase_occasions
from segkit.segment import (
    cohort_retention,
    gross_to_net,
    health_band,
    lifecycle,
    lifecycle_stages,
    month_ends,
    sales_split,
    segment_members,
    stage_snapshots,
    transition_matrix,
)
from segkit.segment.cohorts import cohort_activity
from segkit.segment.sales import status_totals
from segkit.synth import generate

AS_OF = "2026-03-31"


@pytest.fixture(scope="module")
def gas_300():
    return generate("gas", 300, seed=3, as_of=AS_OF)


@pytest.fixture(params=["gas_300", "supplements_world"])
def world(request):
    return request.getfixturevalue(request.param)


def pandas_cohort_retention(occasions: pd.DataFrame, as_of) -> pd.DataFrame:
    """The pandas computation over every occasion that the engine replaced, as it was."""
    month = (occasions["date"].dt.year * 12 + occasions["date"].dt.month - 1).to_numpy()
    first = pd.Series(month).groupby(occasions["member_id"].to_numpy()).transform("min").to_numpy()
    active = pd.DataFrame({"cohort": first, "k": month - first, "member_id": occasions["member_id"].to_numpy()})
    counts = active.drop_duplicates().groupby(["cohort", "k"]).size().unstack(fill_value=0)
    sizes = counts[0]
    retention = counts.div(sizes, axis=0)
    as_of = pd.Series([pd.Timestamp(as_of)])
    last_month = (as_of.dt.year * 12 + as_of.dt.month - 1).to_numpy()[0]
    observed = np.arange(retention.shape[1])[None, :] <= (last_month - retention.index.to_numpy())[:, None]
    retention = retention.where(observed)
    retention.index = [f"{m // 12}-{m % 12 + 1:02d}" for m in retention.index]
    retention.index.name, retention.columns.name = "cohort", "months_after_first_purchase"
    retention.attrs["sizes"] = sizes.set_axis(retention.index)
    return retention


def pandas_sales_split(occasions: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """The pandas computation over every occasion that the engine replaced, as it was."""
    ordered = occasions.sort_values(["member_id", "date"], kind="stable")
    first = ~ordered["member_id"].duplicated()
    period = ordered["date"].dt.to_period(freq)
    split = pd.DataFrame(
        {
            "first_purchase_sales": ordered["net"].where(first, 0.0).groupby(period).sum(),
            "repeat_sales": ordered["net"].where(~first, 0.0).groupby(period).sum(),
            "first_time_buyers": first.groupby(period).sum(),
        }
    )
    split["repeat_to_first"] = split["repeat_sales"] / split["first_purchase_sales"].replace(0, np.nan)
    split["band"] = split["repeat_to_first"].map(health_band)
    split.index = split.index.astype(str)
    split.index.name = "period"
    return split.reset_index()


def pandas_snapshots(transactions, dates, members) -> pd.DataFrame:
    """The long table of stages with object member ids, as it was built."""
    frames = []
    for date in dates:
        known = members.loc[members["join_date"].isna() | (members["join_date"] <= date), ["member_id"]]
        stages = lifecycle_stages(member_features(transactions, date, members=known))[["member_id", "stage"]]
        frames.append(stages.assign(date=date))
    return pd.concat(frames, ignore_index=True)


def test_cohorts_and_sales_from_the_engine_equal_the_pandas_computation(world):
    tx, members = world.transactions, world.members
    occasions = purchase_occasions(tx, AS_OF)
    expected = pandas_cohort_retention(occasions, AS_OF)
    segmentation = segment_members(tx, AS_OF, members)
    for retention in (segmentation.cohorts, cohort_retention(occasions, AS_OF)):
        pd.testing.assert_frame_equal(retention, expected, check_exact=True)
        pd.testing.assert_series_equal(retention.attrs["sizes"], expected.attrs["sizes"], check_exact=True)
    # sums of the same amounts in another order: equal to the last bits or nearly, and to the cent in the files
    expected = pandas_sales_split(occasions)
    for split in (segmentation.sales, sales_split(occasions)):
        pd.testing.assert_frame_equal(split, expected, check_exact=False, rtol=1e-12)
    for freq in ("Q", "W"):
        pd.testing.assert_frame_equal(
            sales_split(occasions, freq), pandas_sales_split(occasions, freq), check_exact=False, rtol=1e-12
        )
    assert len(segmentation.activity) <= occasions["date"].nunique() * len(expected)  # a few rows a day


def test_the_funnel_from_status_totals_equals_the_funnel_of_every_row(supplements_world):
    tx = supplements_world.transactions
    assert (tx["amount"] < 0).any() and tx["status"].nunique() > 2
    totals = status_totals(tx)
    assert len(totals) <= 2 * tx["status"].nunique(dropna=False)
    expected = gross_to_net(tx)
    pd.testing.assert_frame_equal(gross_to_net(totals), expected, check_exact=False, rtol=1e-12)
    funnel = segment_members(tx, AS_OF, supplements_world.members).funnel
    pd.testing.assert_frame_equal(funnel, expected, check_exact=False, rtol=1e-12)
    assert status_totals(tx.drop(columns="status")) is None


def test_compact_snapshots_hold_the_same_stages_and_transitions(world):
    from segkit import plots

    tx, members = world.transactions, world.members
    dates = month_ends(AS_OF, 4)
    snapshots = stage_snapshots(tx, dates, members=members)
    expected = pandas_snapshots(tx, dates, members)
    assert isinstance(snapshots["member_id"].dtype, pd.CategoricalDtype)
    assert isinstance(snapshots["stage"].dtype, pd.CategoricalDtype)
    # one id per member for all dates, each row a code of four bytes
    categories = snapshots["member_id"].cat.categories
    assert categories.is_monotonic_increasing and categories.equals(pd.Index(sorted(set(expected["member_id"]))))
    assert snapshots["member_id"].cat.codes.dtype.itemsize <= 4
    pd.testing.assert_frame_equal(snapshots.astype({"member_id": object}), expected, check_exact=True)
    for normalize in (True, False):
        pd.testing.assert_frame_equal(
            transition_matrix(snapshots, normalize), transition_matrix(expected, normalize), check_exact=True
        )
    sankey = plots.stage_sankey(snapshots).data[0]
    assert sankey == plots.stage_sankey(expected).data[0]
    assert sum(sankey.link.value) == transition_matrix(snapshots, normalize=False).to_numpy().sum()
    # the dates in the order given (a Series' labels aside), whichever order the engine runs them in
    backwards = pd.Series(dates[::-1], index=range(10, 10 + len(dates)))
    pd.testing.assert_frame_equal(
        stage_snapshots(tx, backwards, members=members).astype({"member_id": object}),
        pandas_snapshots(tx, list(backwards), members),
        check_exact=True,
    )
    for guess in ("31/03/2026", 20260331, "2026-03-31 12:00"):  # a day, never a guess
        with pytest.raises(ValueError, match="not a date"):
            stage_snapshots(tx, [dates[0], guess], members=members)


def test_a_range_of_members_at_a_time_gives_the_same_analyses(supplements_world, monkeypatch):
    """Large inputs run the queries by member a range of members at a time (``segkit.engine.member_ranges``):
    the counts and sums of the ranges add up to those of one query."""
    from segkit import engine

    tx, members = supplements_world.transactions, supplements_world.members
    dates = month_ends(AS_OF, 3)
    whole = cohort_activity(tx, AS_OF), stage_snapshots(tx, dates, members)
    monkeypatch.setattr(engine, "_RANGE_ROWS", len(tx) // 5)
    con = connect()
    assert len(engine.member_ranges(con, engine.as_table(tx, con))) == 6
    ranged = cohort_activity(tx, AS_OF, con=con), stage_snapshots(tx, dates, members, con=con)
    pd.testing.assert_frame_equal(ranged[0], whole[0], check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(ranged[1], whole[1])


@pytest.mark.spark
def test_the_engine_analyses_are_identical_on_spark(spark_con, supplements_world):
    tx = supplements_world.transactions
    duckdb = connect()
    pd.testing.assert_frame_equal(
        cohort_activity(tx, AS_OF, con=duckdb), cohort_activity(tx, AS_OF, con=spark_con), rtol=1e-12
    )
    pd.testing.assert_frame_equal(
        gross_to_net(status_totals(tx, con=duckdb)), gross_to_net(status_totals(tx, con=spark_con)), rtol=1e-12
    )
    dates, members = month_ends(AS_OF, 2), supplements_world.members  # members filtered by join date in the engine
    expected = stage_snapshots(tx, dates, members, con=duckdb)
    pd.testing.assert_frame_equal(expected, stage_snapshots(tx, dates, members, con=spark_con))
    # the stages known at the latest date, with a member who has not joined by then left out on Spark too
    late = members.iloc[[0]].assign(member_id="new0", join_date=pd.Timestamp(AS_OF) + pd.Timedelta(days=1))
    latest = lifecycle_stages(member_features(tx, AS_OF, pd.concat([members, late])))
    pd.testing.assert_frame_equal(
        stage_snapshots(tx, dates, pd.concat([members, late]), con=spark_con, latest=latest), expected
    )


def test_the_stages_known_at_the_latest_date_give_the_same_snapshots(world, monkeypatch):
    """``segment_members`` hands its own stages at the as-of date to the snapshots instead of computing them
    again; members who joined after a date and had not bought by then are left out of it all the same."""
    tx, members = world.transactions, world.members
    late, early = pd.Timestamp(AS_OF) + pd.Timedelta(days=20), pd.Timestamp(AS_OF) - pd.Timedelta(days=400)
    new = members.iloc[[0] * 6].assign(member_id=[f"new{k}" for k in range(6)])
    # not yet joined (left out); joined; join date unknown; refund before joining; listed before and after
    new["join_date"] = [late, early, pd.NaT, late, late, early]
    members = pd.concat([members, new, new.iloc[[5]].assign(join_date=late)], ignore_index=True)
    members.loc[members["member_id"] == tx["member_id"].iloc[0], "join_date"] = late  # bought before joining
    refund = tx.iloc[[0]].assign(member_id="new3", amount=-5.0, date=pd.Timestamp(AS_OF) - pd.Timedelta(days=3))
    # rows without an amount (the loaders refuse them): the features find no member in them, nor must the stages
    blank = tx.iloc[[0, 0]].assign(
        member_id="new4", amount=np.nan, date=[pd.Timestamp(AS_OF) - pd.Timedelta(days=9)] * 2
    )
    blank["date"] -= pd.to_timedelta([0, 1], unit="D")
    tx = pd.concat([tx, refund, blank], ignore_index=True)
    dates = month_ends(AS_OF, 3)
    expected = pandas_snapshots(tx, dates, members)
    assert {"new0", "new4"}.isdisjoint(expected["member_id"]) and {"new1", "new2", "new3", "new5"} <= set(
        expected["member_id"]
    )
    latest = lifecycle_stages(member_features(tx, AS_OF, members))
    assert "new0" not in set(latest["member_id"])  # not joined yet: the features leave them out, as the stages do
    for given in (latest, latest.sample(frac=1, random_state=1).astype({"stage": object})):  # any order, any dtype
        snapshots = stage_snapshots(tx, dates, members, latest=given)
        pd.testing.assert_frame_equal(snapshots.astype({"member_id": object}), expected, check_exact=True)
    once = members.drop_duplicates("member_id")
    segmentation = segment_members(tx, AS_OF, once, {"snapshot_months": 2})
    computed = []
    engine_stages = lifecycle._engine_stages
    monkeypatch.setattr(lifecycle, "_engine_stages", lambda *args: computed.append(args[3]) or engine_stages(*args))
    snapshots = segmentation.snapshots
    assert sorted(computed) == dates[:-1]  # the as-of date is not computed again
    pd.testing.assert_frame_equal(snapshots, stage_snapshots(tx, dates, once), check_exact=True)
    # the table changed in place does not change the snapshots
    segmentation = segment_members(tx, AS_OF, once, {"snapshot_months": 2})
    segmentation.table.set_index("member_id", inplace=True)
    segmentation.table.drop(segmentation.table.index[segmentation.table["stage"] == "prospect"], inplace=True)
    pd.testing.assert_frame_equal(segmentation.snapshots, snapshots, check_exact=True)
    # features given may be of other members (here: without the members who never bought): computed again
    given = segment_members(tx, AS_OF, once, {"snapshot_months": 2}, features=member_features(tx, AS_OF))
    computed.clear()
    pd.testing.assert_frame_equal(given.snapshots, snapshots, check_exact=True)
    assert sorted(computed) == dates
    # members without join dates have all joined: as if every join date were unknown
    unknown = once.assign(join_date=pd.NaT)
    undated = segment_members(tx, AS_OF, once.drop(columns="join_date"), {"snapshot_months": 2}).snapshots
    pd.testing.assert_frame_equal(undated, stage_snapshots(tx, dates, unknown), check_exact=True)
    for written in ("2025-01-01", 20250101):  # join dates that are not dates: a clear error, not the engine's
        with pytest.raises(ValueError, match="join_date must be dates"):
            stage_snapshots(tx, dates, once.assign(join_date=written))
    with pytest.raises(ValueError, match="stages must be of"):
        stage_snapshots(tx, dates, members, latest=latest.assign(stage="gone"))
