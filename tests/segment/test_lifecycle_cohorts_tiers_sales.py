"""Lifecycle stages on each member's own rhythm, cohorts, tiers with grace, sales arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.features import member_features, purchase_occasions
from segkit.segment import (
    STAGES,
    LifecycleRules,
    TierRules,
    assign_tiers,
    cohort_retention,
    gross_to_net,
    health_band,
    lifecycle_stages,
    month_ends,
    sales_split,
    stage_snapshots,
    tier_changes,
    transition_matrix,
)

AS_OF = pd.Timestamp("2026-03-31")


def history(member_id: str, last: str, gap_days: int, purchases: int, amount: float = 100.0) -> pd.DataFrame:
    dates = pd.Timestamp(last) - pd.to_timedelta(np.arange(purchases)[::-1] * gap_days, unit="D")
    return pd.DataFrame({"member_id": member_id, "date": dates, "amount": amount})


def stages_of(transactions, members=None, rules=None):
    features = member_features(transactions, AS_OF, members=members)
    return lifecycle_stages(features, rules).set_index("member_id")


def test_same_quiet_spell_means_different_things_for_different_rhythms():
    quiet_45 = str((AS_OF - pd.Timedelta(days=45)).date())
    tx = pd.concat([history("monthly", quiet_45, 30, 12), history("quarterly", quiet_45, 90, 5)])
    stages = stages_of(tx)
    assert stages.loc["monthly", "stage"] == "at risk"
    assert stages.loc["quarterly", "stage"] == "active"
    # own medians 30 and 90, shrunk toward this population's median gap (60) by two prior gaps
    assert stages.loc["monthly", "rhythm_days"] == pytest.approx((11 * 30 + 2 * 60) / 13, abs=0.05)
    assert stages.loc["quarterly", "rhythm_days"] == pytest.approx((4 * 90 + 2 * 60) / 6)


def test_every_stage_from_its_rule():
    day = lambda n: str((AS_OF - pd.Timedelta(days=n)).date())  # noqa: E731
    tx = pd.concat(
        [
            history("new", day(10), 30, 1),
            history("active", day(20), 30, 8),
            history("at_risk", day(50), 30, 8),
            history("dormant", day(100), 30, 8),
            history("lost", day(200), 30, 8),
            history("lost_by_days", day(400), 200, 4),
            # five monthly purchases, a 150-day silence, then a purchase 5 days ago
            pd.concat([history("reactivated", day(155), 30, 5), history("reactivated", day(5), 30, 1)]),
        ]
    )
    members = pd.DataFrame({"member_id": ["prospect"]})
    stages = stages_of(tx, members)["stage"]
    expected = {
        "new": "new",
        "active": "active",
        "at_risk": "at risk",
        "dormant": "dormant",
        "lost": "lost",
        "lost_by_days": "lost",
        "reactivated": "reactivated",
        "prospect": "prospect",
    }
    assert stages.to_dict() == expected


def test_rules_are_validated():
    with pytest.raises(ValueError, match="must rise"):
        LifecycleRules(active=3, at_risk=2)
    with pytest.raises(ValueError, match="unknown lifecycle setting"):
        LifecycleRules.from_dict({"activ": 1})


def test_snapshots_and_transition_matrix(supplements_world):
    dates = month_ends(AS_OF, 4)
    assert [str(d.date()) for d in dates] == ["2025-12-31", "2026-01-31", "2026-02-28", "2026-03-31"]
    snaps = stage_snapshots(supplements_world.transactions, dates, members=supplements_world.members)
    assert set(snaps["stage"]) <= set(STAGES) and not snaps.duplicated(["date", "member_id"]).any()
    joined = supplements_world.members["join_date"] <= dates[0]
    assert (snaps["date"] == dates[0]).sum() >= joined.sum()
    matrix = transition_matrix(snaps)
    rows = matrix.dropna(how="all")
    assert np.allclose(rows.sum(axis=1), 1)
    assert matrix.loc["lost", "new"] == 0 or pd.isna(matrix.loc["lost", "new"])  # nobody becomes new again
    counts = transition_matrix(snaps, normalize=False)
    survivors = sum(
        len(set(snaps[snaps.date == a].member_id) & set(snaps[snaps.date == b].member_id))
        for a, b in zip(dates, dates[1:])
    )
    assert counts.to_numpy().sum() == survivors


def test_cohort_retention_by_hand():
    tx = pd.DataFrame(
        {
            "member_id": ["a", "a", "a", "b", "b", "c", "c"],
            "date": pd.to_datetime(
                ["2026-01-05", "2026-01-20", "2026-03-02", "2026-01-09", "2026-02-10", "2026-02-01", "2026-02-01"]
            ),
            "amount": [10.0, 10, 10, 10, 10, 10, -10],  # c's only day nets to zero: no purchase
        }
    )
    retention = cohort_retention(purchase_occasions(tx, AS_OF), AS_OF)
    assert retention.index.tolist() == ["2026-01"]
    assert retention.loc["2026-01"].tolist() == [1.0, 0.5, 0.5]
    assert retention.attrs["sizes"]["2026-01"] == 2


def test_cohort_cells_after_as_of_are_empty_not_zero(supplements_world):
    retention = cohort_retention(purchase_occasions(supplements_world.transactions, AS_OF), AS_OF)
    assert pd.isna(retention.loc["2026-03", 1]) and retention.loc["2026-03", 0] == 1.0
    assert retention.loc["2026-02", 1] >= 0


def test_months_in_which_nobody_bought_are_columns_and_later_cohorts_are_not_observed_in_them():
    """Found by a helper: only months in which somebody bought became columns, and the observed months were
    counted by column position, so the 2025-12 cohort showed 0.0 six months on, in a month not yet come."""
    tx = pd.DataFrame(
        {
            "member_id": ["M09", "M09", "X1"],
            "date": pd.to_datetime(["2025-06-01", "2025-12-01", "2025-12-15"]),
            "amount": [98.0, 98, 50],
        }
    )
    retention = cohort_retention(purchase_occasions(tx, "2026-03-31"), "2026-03-31")
    assert retention.columns.tolist() == list(range(10))
    assert retention.loc["2025-06"].tolist() == [1.0, 0, 0, 0, 0, 0, 1.0, 0, 0, 0]
    assert (
        retention.loc["2025-12"].iloc[:4].tolist() == [1.0, 0, 0, 0] and retention.loc["2025-12"].iloc[4:].isna().all()
    )


def test_a_member_without_a_rhythm_is_said_and_prior_gaps_zero_takes_the_population_rhythm():
    """Found by a helper: with nobody having bought twice, members quiet for 300 days were "active" without a word;
    with prior_gaps 0 a one-time buyer had no rhythm though others had one."""
    once = pd.DataFrame(
        {"member_id": ["A1", "A2"], "date": pd.to_datetime(["2025-06-01", "2025-09-01"]), "amount": [100.0, 100]}
    )
    features = member_features(once, "2026-03-31")
    with pytest.warns(UserWarning, match=r"2 member\(s\) have no purchase rhythm .*lost_days alone"):
        stages = lifecycle_stages(features)
    assert stages["stage"].tolist() == ["active", "active"]
    twice = pd.concat(
        [
            once,
            pd.DataFrame(
                {
                    "member_id": ["B"] * 3,
                    "date": pd.to_datetime(["2026-01-01", "2026-01-31", "2026-03-01"]),
                    "amount": [50.0] * 3,
                }
            ),
        ]
    )
    stages = lifecycle_stages(member_features(twice, "2026-03-31"), LifecycleRules(prior_gaps=0)).set_index("member_id")
    assert stages.loc["A1", "rhythm_days"] == 29.5 and stages.loc["A1", "stage"] == "lost"


def test_tiers_upgrade_at_once_and_downgrade_after_grace():
    rules = TierRules(thresholds={"gold": 1000, "platinum": 5000}, grace_months=2)
    tx = pd.DataFrame(
        {
            "member_id": ["up", "down", "kept"],
            "date": pd.to_datetime(["2026-03-20", "2025-01-15", "2025-03-10"]),
            "amount": [6000.0, 2000.0, 1500.0],
        }
    )
    tiers = assign_tiers(tx, AS_OF, member_ids=["none"], rules=rules).set_index("member_id")
    assert tiers.loc["up", ["tier", "previous_tier", "change"]].tolist() == ["platinum", "standard", "upgrade"]
    # bought 2025-01-15: qualified until 2026-01-15, grace of two month ends (Jan, Feb) keeps gold through February
    assert tiers.loc["down", ["qualifies_for", "tier", "previous_tier", "change"]].tolist() == [
        "standard",
        "standard",
        "gold",
        "downgrade",
    ]
    # bought 2025-03-10: qualified until 2026-03-10, so still gold at the end of February: kept through grace
    assert tiers.loc["kept", ["qualifies_for", "tier", "change"]].tolist() == ["standard", "gold", ""]
    assert tiers.loc["none", "tier"] == "standard"
    assert tier_changes(tiers.reset_index())["member_id"].tolist() == ["down", "up"]
    # one row per member, sorted, whether the ids are given (in any order, even twice) or not
    for given in (None, ["up", "none", "up"]):
        again = assign_tiers(tx, AS_OF, member_ids=given, rules=rules)
        expected = sorted({"up", "down", "kept", *(given or [])})
        assert again["member_id"].tolist() == expected
        pd.testing.assert_frame_equal(again.set_index("member_id"), tiers.loc[expected])
    nothing = assign_tiers(tx.iloc[:0], AS_OF, member_ids=["none"], rules=rules)  # no transactions at all
    assert nothing[["member_id", "tier", "change"]].values.tolist() == [["none", "standard", ""]]


def test_tier_rules_validated():
    with pytest.raises(ValueError, match="rising"):
        TierRules(thresholds={"gold": 5000, "platinum": 1000})


@pytest.mark.parametrize(
    "ratio, band",
    [(9.5, "healthy"), (9, "healthy"), (8.2, "acceptable"), (5, "below target"), (1, "failing"), (0.5, "failing")],
)
def test_health_bands(ratio, band):
    assert health_band(ratio) == band


def test_sales_split_by_hand():
    occasions = pd.DataFrame(
        {
            "member_id": ["a", "a", "b", "a", "b", "c"],
            "date": pd.to_datetime(
                ["2026-01-03", "2026-01-20", "2026-01-25", "2026-02-03", "2026-02-07", "2026-02-09"]
            ),
            "net": [100.0, 50, 80, 60, 90, 10],
        }
    )
    split = sales_split(occasions).set_index("period")
    assert split.loc["2026-01", ["first_purchase_sales", "repeat_sales", "first_time_buyers"]].tolist() == [180, 50, 2]
    assert split.loc["2026-02", ["first_purchase_sales", "repeat_sales"]].tolist() == [10, 150]
    assert split.loc["2026-02", "repeat_to_first"] == 15 and split.loc["2026-02", "band"] == "healthy"


def test_gross_to_net_matches_the_domain_example():
    # DOMAIN.md: 10M gross, 5 % cancelled, 90 % shipped, 10 % returned, 5 % refunded leaves about 7.3M
    gross = 10_000_000.0
    after_cancel = gross * 0.95
    after_ship = after_cancel * 0.90
    after_return = after_ship * 0.90
    net = after_return * 0.95
    tx = pd.DataFrame(
        {
            "member_id": "m",
            "date": AS_OF,
            "amount": [
                gross,
                after_cancel - gross,
                after_ship - after_cancel,
                after_return - after_ship,
                net - after_return,
            ],
            "status": ["completed", "cancelled", "未发货", "returned", "refunded"],
        }
    )
    funnel = gross_to_net(tx)
    assert funnel["step"].tolist() == [
        "gross orders",
        "after cancelled",
        "after not shipped",
        "after returned",
        "after refunded",
    ]
    assert funnel["amount"].iloc[-1] == pytest.approx(7_310_250)
    assert funnel["share_of_previous"].round(4).tolist() == [1, 0.95, 0.9, 0.9, 0.95]
    with pytest.raises(ValueError, match="status"):
        gross_to_net(tx.drop(columns="status"))
