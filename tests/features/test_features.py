"""Every query over transactions: member features equal to an independent pandas computation, the value of
recent purchases by hand, and each query identical on DuckDB and Spark."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest

from segkit.engine import as_table, connect, connection, day_number, days_to_dates
from segkit.features import (
    FEATURE_COLUMNS,
    btyd_summary,
    member_features,
    purchase_gaps,
    purchase_occasions,
    purchase_value,
)
from segkit.features.member import _daily_member_features, _simple_member_features, _to_frame
from segkit.segment import assign_tiers

AS_OF = pd.Timestamp("2026-03-31")


def reference_features(transactions: pd.DataFrame, as_of, member_ids=()) -> pd.DataFrame:
    """The definitions of segkit.features.member, computed member by member in plain Python."""
    as_of = pd.Timestamp(as_of)
    tx = transactions[transactions["date"] <= as_of]
    rows = []
    for member_id in sorted(set(tx["member_id"]) | set(member_ids)):
        own = tx[tx["member_id"] == member_id]
        day = own.groupby(own["date"].dt.normalize())["amount"]
        by_day, refunded = day.sum(), day.apply(lambda a: (a < 0).any())
        purchases = by_day[(by_day > 0) | ((by_day == 0) & ~refunded)]
        days = list(purchases.index)
        gaps = [(b - a).days for a, b in zip(days, days[1:])]
        negatives = own["amount"][own["amount"] < 0]
        rows.append(
            {
                "member_id": member_id,
                "first_purchase": days[0] if days else pd.NaT,
                "last_purchase": days[-1] if days else pd.NaT,
                "frequency": len(days),
                "monetary": float(own["amount"].sum()),
                "avg_order_value": purchases.mean() if days else np.nan,
                "refunds": float(-negatives.sum()),
                "refund_count": len(negatives),
                "recency_days": (as_of - days[-1]).days if days else pd.NA,
                "tenure_days": (as_of - days[0]).days if days else pd.NA,
                "gap_count": len(gaps),
                "gap_mean": np.mean(gaps) if gaps else np.nan,
                "gap_median": float(np.median(gaps)) if gaps else np.nan,
                "gap_std": float(np.std(gaps, ddof=1)) if len(gaps) > 1 else np.nan,
                "last_gap": gaps[-1] if gaps else pd.NA,
                "sum_log_gaps": float(sum(math.log(g) for g in gaps)) if gaps else np.nan,
            }
        )
    frame = pd.DataFrame(rows, columns=FEATURE_COLUMNS)
    for column in ("recency_days", "tenure_days", "last_gap"):
        frame[column] = frame[column].astype("Int64")
    for column in ("first_purchase", "last_purchase"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame


def assert_same_features(got: pd.DataFrame, expected: pd.DataFrame):
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_exact=False, rtol=1e-9, atol=1e-9)


def test_small_hand_made_history():
    tx = pd.DataFrame(
        {
            "member_id": ["007", "007", "007", "007", "007", "007", "008", "009", "010"],
            "date": pd.to_datetime(
                [
                    "2026-01-01",
                    "2026-01-01",
                    "2026-01-11",
                    "2026-01-15",
                    "2026-02-10",
                    "2026-04-02",
                    "2026-03-01",
                    "2026-03-05",
                    "2026-03-06",
                ]
            ),
            "amount": [100.0, 20.0, 50.0, -50.0, 80.0, 999.0, 10.0, -5.0, 40.0],
        }
    )
    f = member_features(tx, AS_OF, members=pd.DataFrame({"member_id": ["011", "007"]})).set_index("member_id")
    m = f.loc["007"]
    # 1 Jan (120, two lines merged), 11 Jan (50), 15 Jan refund-only day, 10 Feb (80); 2 Apr is after as-of
    assert m.frequency == 3 and m.monetary == 200.0 and m.refunds == 50.0 and m.refund_count == 1
    assert m.first_purchase == pd.Timestamp("2026-01-01") and m.last_purchase == pd.Timestamp("2026-02-10")
    assert m.avg_order_value == pytest.approx(250 / 3)
    assert (m.gap_count, m.gap_mean, m.gap_median, m.last_gap) == (2, 20.0, 20.0, 30)
    assert m.gap_std == pytest.approx(np.std([10, 30], ddof=1))
    assert m.sum_log_gaps == pytest.approx(math.log(10) + math.log(30))
    assert (m.recency_days, m.tenure_days) == (49, 89)
    assert f.loc["009"].frequency == 0 and f.loc["009"].monetary == -5.0  # refund only: not a purchase
    assert f.loc["011"].frequency == 0 and pd.isna(f.loc["011"].recency_days)  # member with no transactions
    assert pd.isna(f.loc["008"].gap_std) and f.loc["008"].gap_count == 0


def test_same_day_cancellation_is_not_a_purchase():
    tx = pd.DataFrame(
        {
            "member_id": ["1", "1", "1"],
            "date": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-02-01"]),
            "amount": [100.0, -100.0, 30.0],
        }
    )
    f = member_features(tx, AS_OF)
    assert f.frequency.item() == 1 and f.first_purchase.item() == pd.Timestamp("2026-02-01")


def test_a_free_item_is_a_purchase():
    # CDNOW has $0 purchases: a day with net zero and no refund bought something
    tx = pd.DataFrame(
        {
            "member_id": ["1", "1", "2"],
            "date": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-01-05"]),
            "amount": [0.0, 30.0, 0.0],
        }
    )
    f = member_features(tx, AS_OF).set_index("member_id")
    assert f.loc["1", "frequency"] == 2 and f.loc["1", "first_purchase"] == pd.Timestamp("2026-01-01")
    assert f.loc["2", "frequency"] == 1 and f.loc["2", "avg_order_value"] == 0.0
    assert_same_features(f.reset_index(), reference_features(tx, AS_OF))


@pytest.mark.parametrize("world", ["gas_world", "supplements_world"])
def test_features_equal_independent_pandas_computation(world, request):
    w = request.getfixturevalue(world)
    as_of = AS_OF - pd.Timedelta(days=45)  # an earlier as-of: later rows must be ignored
    got = member_features(w.transactions, as_of, members=w.members)
    joined = w.members["join_date"].isna() | (w.members["join_date"] <= as_of)  # the others are not members yet
    expected = reference_features(w.transactions, as_of, w.members.loc[joined, "member_id"])
    assert (~joined).any() and len(got) == len(expected) >= joined.sum()
    assert_same_features(got, expected)


def test_simple_and_day_by_day_paths_agree(supplements_world):
    """Members with one row per day and no refunds take the one-sort path, the others the day-by-day
    aggregation; the supplements world has both, and forcing everyone through the second changes nothing."""
    con = connect()
    tx = as_table(supplements_world.transactions, con)
    simple = con.to_pyarrow(_simple_member_features(tx, AS_OF).simple.value_counts()).to_pandas()
    assert set(simple["simple"]) == {True, False}
    everyone_by_day = _to_frame(
        con.to_pyarrow(
            _daily_member_features(tx, AS_OF).mutate(recency_days=ibis.literal(0), tenure_days=ibis.literal(0))
        )
    )
    got = member_features(tx, AS_OF).drop(columns=["recency_days", "tenure_days"])
    assert_same_features(
        got, everyone_by_day.sort_values("member_id", ignore_index=True).drop(columns=["recency_days", "tenure_days"])
    )


def test_parquet_input(tmp_path, gas_world):
    path = tmp_path / "tx.parquet"
    gas_world.transactions.to_parquet(path)
    assert_same_features(member_features(path, AS_OF), member_features(gas_world.transactions, AS_OF))


def test_unknown_backend_and_bad_input():
    with pytest.raises(ValueError, match="unknown backend"):
        member_features(pd.DataFrame({"member_id": [], "date": [], "amount": []}), AS_OF, backend="oracle")
    with pytest.raises(ValueError, match="lacks column"):
        member_features(pd.DataFrame({"member_id": ["1"]}), AS_OF)


def test_the_value_of_recent_purchases_by_hand():
    """value_12m counts purchase occasions in the 365 days to the as-of date: a refund-only day and a same-day
    cancellation count for nothing, a day with a partial refund counts its net, and the window is
    (as-of - 365, as-of]."""
    tx = pd.DataFrame(
        {
            "member_id": ["a", "a", "a", "a", "a", "a", "a", "b"],
            "date": pd.to_datetime(
                [
                    "2025-03-31",
                    "2025-04-01",
                    "2025-06-01",
                    "2025-06-01",
                    "2025-07-01",
                    "2025-08-01",
                    "2025-08-01",
                    "2026-04-01",
                ]
            ),
            "amount": [1000.0, 100.0, 50.0, -20.0, -40.0, 70.0, -70.0, 10.0],
        }
    )
    value = purchase_value(tx, AS_OF).set_index("member_id")
    assert list(value.index) == ["a"]  # b's only purchase is after the as-of date
    assert value.loc["a", "frequency"] == 3  # 31 Mar 2025, 1 Apr, 1 Jun
    assert value.loc["a", "monetary"] == pytest.approx(1130.0)
    assert value.loc["a", "value_12m"] == pytest.approx(130.0)  # 31 Mar 2025 is 365 days before


def test_the_engine_takes_backend_or_connection_and_round_trips_days():
    con = connect()
    assert connection(con=con) is con and connection("duckdb") is not con
    with pytest.raises(ValueError, match="unknown backend 'oracle'"):
        connection("oracle", con)
    days = pd.Series([day_number("2026-03-31"), None, 0])
    assert days_to_dates(days).tolist()[::2] == [pd.Timestamp("2026-03-31"), pd.Timestamp("1970-01-01")]
    assert days_to_dates(days).isna().tolist() == [False, True, False]


@pytest.mark.spark
def test_every_moved_query_is_identical_on_spark(spark_con, supplements_world, gas_world):
    """Purchase occasions, gaps, the BTYD summary, recent value and tiers (rolling spends): the same frame from
    Spark as from DuckDB, on a world with refunds, same-day cancellations, quantities and products (and the
    gaps also on one with household sizes)."""
    tx, members = supplements_world.transactions, supplements_world.members
    queries = {
        "occasions": lambda con: purchase_occasions(tx, AS_OF, con=con),
        "gaps": lambda con: purchase_gaps(tx, AS_OF, members, con=con).astype({"member_id": object, "product": object}),
        "household gaps": lambda con: purchase_gaps(gas_world.transactions, AS_OF, gas_world.members, con=con).astype(
            {"member_id": object, "product": object}
        ),
        "btyd summary": lambda con: btyd_summary(tx, "2025-12-31", AS_OF, con=con),
        "value": lambda con: purchase_value(tx, AS_OF, con=con),
        "tiers": lambda con: assign_tiers(tx, AS_OF, member_ids=members["member_id"], con=con),
    }
    duckdb = connect()
    for name, query in queries.items():
        pd.testing.assert_frame_equal(query(duckdb), query(spark_con), check_dtype=False, rtol=1e-12, obj=name)


@pytest.mark.spark
def test_duckdb_and_spark_give_identical_features(spark_con, supplements_world, gas_world):
    for world in (supplements_world, gas_world):
        on_duckdb = member_features(world.transactions, AS_OF, members=world.members)
        on_spark = member_features(world.transactions, AS_OF, members=world.members, con=spark_con)
        pd.testing.assert_frame_equal(on_duckdb, on_spark, check_exact=False, rtol=1e-12)


@pytest.mark.spark
def test_spark_reads_a_parquet_file_pandas_wrote(spark_con, gas_world, tmp_path):
    """pandas writes times in nanoseconds, which Spark 4 refuses to read ("Illegal Parquet type"): such a file is
    read here, with a warning that says how to write it, and gives DuckDB's features."""
    path = tmp_path / "transactions.parquet"
    gas_world.transactions.to_parquet(path)
    with pytest.warns(UserWarning, match="nanoseconds.*coerce_timestamps='us'"):
        on_spark = member_features(str(path), AS_OF, con=spark_con)
    pd.testing.assert_frame_equal(member_features(str(path), AS_OF), on_spark, check_exact=False, rtol=1e-12)


def test_a_rerun_gives_the_same_digits_on_several_threads():
    """Money, log-gap sums and the gaps' spread are added exactly: a scheduled day run again writes the same
    files. (With float sums, the order in which DuckDB's threads add up changed the last digits of 2 to 5 of
    these 20,000 members' features from one run to the next.)"""
    from segkit.synth import generate

    world = generate("gas", 20_000, seed=3, as_of=AS_OF)
    runs = []
    for _ in range(3):
        con = connect("duckdb", threads=2)
        runs.append(
            (
                member_features(world.transactions, AS_OF, members=world.members, con=con),
                purchase_value(world.transactions, AS_OF, con=con),
                btyd_summary(world.transactions, AS_OF - pd.Timedelta(days=180), AS_OF, con=con),
            )
        )
    for run in runs[1:]:
        for got, first in zip(run, runs[0]):
            pd.testing.assert_frame_equal(got, first, check_exact=True)
    features = runs[0][0].set_index("member_id")
    assert (features["monetary"] * 100).sub((features["monetary"] * 100).round()).abs().max() < 1e-6  # cents


def test_members_who_join_after_the_as_of_date_are_not_there_yet():
    """Found by a helper: a member joining in June was a March prospect in rfm.csv and the features (the stage
    snapshots left them out), in the member counts and the shares."""
    from segkit.features import member_features

    tx = pd.DataFrame({"member_id": ["a"], "date": pd.to_datetime(["2026-03-01"]), "amount": [10.0]})
    members = pd.DataFrame(
        {
            "member_id": ["a", "b", "c", "late"],
            "join_date": pd.to_datetime(["2025-01-01", "2026-03-31", None, "2026-06-01"]),
        }
    )
    features = member_features(tx, "2026-03-31", members)
    assert features["member_id"].tolist() == ["a", "b", "c"]
    assert member_features(tx, "2026-06-30", members)["member_id"].tolist() == ["a", "b", "c", "late"]
