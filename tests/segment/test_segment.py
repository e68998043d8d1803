"""RFM scores (both tie policies, by hand), segments (first match wins), value concentration, VIPs."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from segkit.features import member_features
from segkit.segment import SegmentTable, gini, lorenz_curve, pareto_table, rfm_scores, segment_summary, vip_flag
from segkit.segment.rfm import DEFAULT_SEGMENTS, NO_PURCHASE

IDS = [f"m{i:02d}" for i in range(1, 11)]


def fixture(**columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "member_id": IDS,
            "recency_days": [1, 5, 5, 10, 20, 30, 30, 30, 60, 100],
            "frequency": [9, 1, 4, 2, 2, 7, 3, 1, 5, 6],
            "monetary": [900.0, 50, 400, 120, 80, 700, 300, 40, 500, 650],
        }
    )
    return frame.assign(**columns)


def scores(result, column):
    return dict(zip(result.table["member_id"], result.table[column].tolist()))


def test_rank_policy_by_hand():
    result = rfm_scores(fixture(), ties="rank")
    # recency ordered worst first (100, 60, 30, 30, 30, 20, 10, 5, 5, 1), ties by id, two per score
    assert scores(result, "r_score") == {
        "m10": 1,
        "m09": 1,
        "m06": 2,
        "m07": 2,
        "m08": 3,
        "m05": 3,
        "m04": 4,
        "m02": 4,
        "m03": 5,
        "m01": 5,
    }
    # frequency ascending (1, 1, 2, 2, 3, 4, 5, 6, 7, 9), ties by id
    assert scores(result, "f_score") == {
        "m02": 1,
        "m08": 1,
        "m04": 2,
        "m05": 2,
        "m07": 3,
        "m03": 3,
        "m09": 4,
        "m10": 4,
        "m06": 5,
        "m01": 5,
    }
    assert result.collapsed == {}
    assert scores(result, "rfm_score")["m01"] == 555


def test_quantile_policy_by_hand_reports_collapsed_scores():
    with pytest.warns(UserWarning, match="recency: \\[2\\] \\(cut points coincide\\)"):
        result = rfm_scores(fixture(), ties="quantile")
    # found by a helper: given breakpoints that no value reaches were said to be cut points that coincide
    with pytest.warns(UserWarning, match="frequency: \\[.*\\] \\(no member's value falls in their intervals"):
        rfm_scores(fixture(), breakpoints={"frequency": [100, 200, 300, 400]})
    # type-7 quantiles of recency at .2 .4 .6 .8 are 5, 16, 30, 36; R rfm adds 1
    assert result.cut_points["recency"] == pytest.approx([6, 17, 31, 37])
    assert scores(result, "r_score") == {
        "m01": 5,
        "m02": 5,
        "m03": 5,
        "m04": 4,
        "m05": 3,
        "m06": 3,
        "m07": 3,
        "m08": 3,
        "m09": 1,
        "m10": 1,
    }
    assert result.collapsed["recency"] == [2]  # [31, 37) holds nobody: reported, not silent
    equal = result.table[result.table["recency_days"] == 30]["r_score"]
    assert equal.nunique() == 1  # equal values share a score


def test_custom_breakpoints():
    result = rfm_scores(fixture(), breakpoints={"recency": [7, 14, 30, 90]})
    assert scores(result, "r_score") == {
        "m01": 5,
        "m02": 5,
        "m03": 5,
        "m04": 4,
        "m05": 3,
        "m06": 2,
        "m07": 2,
        "m08": 2,
        "m09": 2,
        "m10": 1,
    }
    with pytest.raises(ValueError, match="4 increasing cut points"):
        rfm_scores(fixture(), breakpoints={"recency": [7, 14]})


def test_sixty_percent_one_time_buyers_get_no_silent_empty_score():
    n = 100
    frame = pd.DataFrame(
        {
            "member_id": [f"{i:03d}" for i in range(n)],
            "recency_days": np.arange(n) + 1,
            "frequency": [1] * 60 + [2, 3, 4, 5] * 10,
            "monetary": np.linspace(10, 1000, n),
        }
    )
    with pytest.warns(UserWarning, match="frequency"):
        quantile = rfm_scores(frame, ties="quantile")
    given = set(quantile.table["f_score"].dropna())
    assert set(quantile.collapsed["frequency"]) == set(range(1, 6)) - given
    assert "frequency" in quantile.summary()
    rank = rfm_scores(frame, ties="rank")
    assert rank.table["f_score"].value_counts().to_dict() == {s: 20 for s in range(1, 6)}


@pytest.mark.parametrize("levels", [3, 4, 5])
def test_levels_and_prospects(levels):
    frame = pd.concat(
        [fixture(), pd.DataFrame({"member_id": ["p1"], "recency_days": [pd.NA], "frequency": [0], "monetary": [0.0]})],
        ignore_index=True,
    )
    result = rfm_scores(frame, levels=levels)
    scored = result.table.dropna(subset=["r_score"])
    assert scored["r_score"].between(1, levels).all() and len(scored) == 10
    prospect = result.table.set_index("member_id").loc["p1"]
    assert prospect["segment"] == NO_PURCHASE and pd.isna(prospect["r_score"])
    assert result.table["segment"].notna().all()


def test_default_table_partitions_the_score_grid():
    table = SegmentTable.from_yaml(DEFAULT_SEGMENTS)
    assert [rule.name for rule in table.rules] == [
        "Champions",
        "Loyal Customers",
        "Potential Loyalist",
        "New Customers",
        "Promising",
        "Need Attention",
        "About To Sleep",
        "Can't Lose Them",
        "At Risk",
        "Hibernating",
        "Lost",
    ]
    grid = pd.DataFrame(list(itertools.product(range(1, 6), repeat=3)), columns=["r_score", "f_score", "m_score"])
    fm = (grid["f_score"] + grid["m_score"]) / 2
    matches = sum(grid["r_score"].between(*rule.ranges["r"]) & fm.between(*rule.ranges["fm"]) for rule in table.rules)
    assert (matches == 1).all(), "every (R, F, M) cell must match exactly one default rule"
    assert set(table.assign(grid.astype(float), 5)) == {rule.name for rule in table.rules}
    assert all(rule.action for rule in table.rules)


def test_first_match_wins_and_fallback(tmp_path):
    path = tmp_path / "segments.yaml"
    path.write_text(
        "fallback: Rest\nsegments:\n"
        "  - {name: Recent, r: [3, 5]}\n"
        "  - {name: Shadowed, r: [4, 5], fm: [1, 5]}\n"
        "  - {name: Big, m: [5, 5]}\n"
    )
    # found by a helper: a table with gaps, or a rule no score reaches, sent members to the fallback unsaid
    with pytest.warns(
        UserWarning, match=r"sends 40 of 125 score combinations to 'Rest'; has rules no score reaches: Shadowed"
    ):
        result = rfm_scores(fixture(), segments=path)
    segment = dict(zip(result.table["member_id"], result.table["segment"]))
    r = scores(result, "r_score")
    m = scores(result, "m_score")
    for member in IDS:
        expected = "Recent" if r[member] >= 3 else "Big" if m[member] == 5 else "Rest"
        assert segment[member] == expected
    assert "Shadowed" not in segment.values()


def test_bad_segment_table_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("segments:\n  - {name: X, r: [5, 1]}\n")
    with pytest.raises(ValueError, match="r must be \\[low, high\\]"):
        SegmentTable.from_yaml(path)
    with pytest.raises(ValueError, match="ties must be one of"):
        rfm_scores(fixture(), ties="dense")


def test_segment_summary_adds_up(supplements_world):
    features = member_features(supplements_world.transactions, "2026-03-31", members=supplements_world.members)
    result = rfm_scores(features)
    summary = segment_summary(result)
    assert summary["members"].sum() == len(features)
    assert summary["member_share"].sum() == pytest.approx(1)
    assert summary["revenue"].sum() == pytest.approx(features["monetary"].sum())
    champions = summary.set_index("segment").loc["Champions"]
    assert champions["revenue_share"] > champions["member_share"]


def direct_gini(x):
    x = np.clip(np.asarray(x, dtype=float), 0, None)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())


def test_gini_lorenz_and_pareto_match_direct_computation():
    rng = np.random.default_rng(3)
    values = rng.lognormal(5, 1.2, 2000)
    values[:10] = -20  # net refunders hold no value
    assert gini(values) == pytest.approx(direct_gini(values), rel=1e-9)
    assert gini(np.ones(50)) == pytest.approx(0)
    table = pareto_table(values, top_shares=(0.2,))
    top = np.sort(np.clip(values, 0, None))[::-1][:400].sum() / np.clip(values, 0, None).sum()
    assert table["value_share"].item() == pytest.approx(top) and table["members"].item() == 400
    curve = lorenz_curve(values)
    assert curve.iloc[0].tolist() == [0, 0] and curve.iloc[-1].tolist() == pytest.approx([1, 1])
    # the area between the diagonal and the curve is half the Gini
    area = np.trapezoid(curve["value_share"], curve["member_share"])
    assert 1 - 2 * area == pytest.approx(gini(values), abs=1e-3)


def test_vip_flag_rules():
    features = fixture()
    top = vip_flag(features, top_share=0.2)
    assert features.loc[top, "member_id"].tolist() == ["m01", "m06"]  # the two highest spenders
    members = pd.DataFrame({"member_id": IDS, "tier": ["standard"] * 9 + ["Diamond"]})
    assert features.loc[vip_flag(features, rule="tier", members=members), "member_id"].tolist() == ["m10"]
    assert vip_flag(features, rule="either", top_share=0.2, members=members).sum() == 3
    # the members table in its own order, with a member who never bought and tiers missing or compact
    others = pd.DataFrame({"member_id": ["m99", *IDS[::-1]], "tier": ["diamond", "PLATINUM", None, *["gold"] * 8]})
    for tier in (others["tier"], others["tier"].astype("category")):
        by_tier = vip_flag(features, rule="tier", members=others.assign(tier=tier))
        assert features.loc[by_tier, "member_id"].tolist() == ["m10"]
    with pytest.raises(ValueError, match="needs the members table"):
        vip_flag(features, rule="tier")


def test_a_vip_never_has_a_lower_m_score_than_a_buyer_of_the_same_spend():
    """Found by a helper: at a tie of spend at the cut the VIPs were the lower ids, which the rank policy scores
    lower, so a gas household with M 4 was a VIP and its neighbour of the same spend with M 5 was not."""
    features = fixture(monetary=[300.0] * 7 + [100.0] * 3)
    table = rfm_scores(features, ties="rank").table.assign(vip=vip_flag(features, top_share=0.3))
    assert table["vip"].sum() == 3
    assert (
        table.loc[table["vip"], "m_score"].min()
        >= table.loc[~table["vip"] & (table["monetary"] == 300), "m_score"].max()
    )


def test_charts_draw_what_the_tables_say(supplements_world):
    from segkit import plots

    features = member_features(supplements_world.transactions, "2026-03-31", members=supplements_world.members)
    result = rfm_scores(features)
    heat = plots.rfm_heatmap(result)
    scored = result.table.dropna(subset=["r_score"])
    expected = scored[(scored.r_score == 5) & (scored.f_score == 5)]["monetary"].mean()
    z = pd.DataFrame(heat.data[0].z, index=heat.data[0].y, columns=heat.data[0].x)
    assert z.loc[5, 5] == pytest.approx(expected)
    shares = plots.segment_share_chart(segment_summary(result))
    assert {trace.name for trace in shares.data} == {"members", "revenue"}
    lorenz = plots.lorenz_chart(features["monetary"])
    assert f"{gini(features['monetary']):.2f}" in lorenz.layout.title.text


def test_segment_members_assembles_rfm_csv(supplements_world, tmp_path):
    from segkit.segment import SegmentationSettings, segment_members
    from segkit.segment.segmentation import RFM_COLUMNS

    path = tmp_path / "settings.yaml"
    path.write_text(
        "rfm: {levels: 4, ties: quantile}\nvip: {rule: tier, tiers: [diamond]}\n"
        "tiers: {thresholds: {gold: 1000, diamond: 8000}, grace_months: 0}\n"
    )
    settings = SegmentationSettings.from_yaml(path)
    tx, members = supplements_world.transactions, supplements_world.members
    seg = segment_members(tx, "2026-03-31", members, settings)
    table = seg.table
    assert list(table.columns) == RFM_COLUMNS + ["action"] and len(table) == len(members)
    assert table["r_score"].dropna().between(1, 4).all()
    assert set(table["tier"]) <= {"standard", "gold", "diamond"}
    # VIP by tier: exactly the members whose (members-table) tier is diamond
    expected_vip = table["member_id"].map(members.set_index("member_id")["tier"]).eq("diamond")
    assert (table["vip"] == expected_vip).all()
    with pytest.raises(ValueError, match="unknown segmentation setting"):
        bad = tmp_path / "bad.yaml"
        bad.write_text("rfmm: {}\n")
        SegmentationSettings.from_yaml(bad)


def test_nobody_to_segment_says_so(supplements_world, tmp_path):
    """No purchase by the as-of date and no members: one clear error, not one about stage transitions. With
    members, every one of them is a prospect without purchases, and the analyses are empty (the cohorts'
    retention failed on a table without its first month)."""
    from segkit.segment import segment_members

    early = supplements_world.transactions["date"].min() - pd.Timedelta(days=1)
    with pytest.raises(ValueError, match=f"nothing to segment: nobody bought on or before {early.date()}"):
        segment_members(supplements_world.transactions, early)
    members = supplements_world.members
    segmentation = segment_members(supplements_world.transactions, early, members)
    joined = members["join_date"].isna() | (members["join_date"] <= early)  # the others are not members yet
    assert set(segmentation.table["segment"]) == {NO_PURCHASE} and len(segmentation.table) == joined.sum() >= 1
    segmentation.write(tmp_path)
    assert pd.read_csv(tmp_path / "cohort_retention.csv").empty and pd.read_csv(tmp_path / "sales_split.csv").empty


def test_too_few_buyers_or_everyone_equal_is_said():
    """Found by a helper: one buyer was "Lost" under a warning that cut points coincide (there are none when ties
    are ranked), and five identical buyers ran from Lost to Champions without a word."""
    one = pd.DataFrame({"member_id": ["a"], "date": pd.to_datetime(["2026-03-30"]), "amount": [1000.0]})
    with pytest.warns(UserWarning, match=r"recency: \[2, 3, 4, 5\] \(1 buyer\(s\) for 5 score levels\)"):
        rfm_scores(member_features(one, "2026-03-31"))
    same = pd.DataFrame({"member_id": list("abcde"), "date": pd.to_datetime(["2026-03-01"] * 5), "amount": 100.0})
    with pytest.warns(UserWarning, match="every buyer has the same recency and frequency and monetary"):
        rfm_scores(member_features(same, "2026-03-31"))
