"""The benefit survey: recovery of a generated truth, bad rows per respondent, Plackett-Luce against choix."""

from __future__ import annotations

import choix
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segkit.cli import main
from segkit.survey import RANKING_COLUMNS, SurveySettings, rank_benefits, read_survey
from segkit.survey.ranking import bootstrap_plackett_luce, borda, choices, kendalls_w
from segkit.synth.survey import generate_survey


def _run(tables, **settings):
    data = read_survey(
        tables["screening"], tables["costs"], tables["ranking"], tables["constant_sum"], tables["respondents"]
    )
    return rank_benefits(data, SurveySettings(budget=300.0, **settings))


@pytest.mark.parametrize("seed", [1, pytest.param(2, marks=pytest.mark.slow), pytest.param(3, marks=pytest.mark.slow)])
def test_the_final_order_recovers_the_true_preferences(seed):
    tables = generate_survey(12, 200, seed=seed)
    result = _run(tables)
    truth = tables["truth"].set_index("benefit")
    ranking = result.ranking.set_index("benefit")
    assert set(ranking.index[ranking["status"] == "dropped_liking"]) == set(truth.index[truth["disliked"]])
    assert set(ranking.index[ranking["status"] == "dropped_cost"]) == set(truth.index[truth["over_budget"]])
    kept = ranking.index[ranking["final_rank"].notna()]
    tau = stats.kendalltau(ranking.loc[kept, "final_rank"], truth.loc[kept, "true_rank"]).statistic
    assert tau >= 0.8, tau
    assert list(result.ranking.columns) == RANKING_COLUMNS
    # intervals contain their estimates; dropped benefits have no stage-3 scores and no final rank
    k = ranking.loc[kept]
    assert (k["pl_worth_low"] <= k["pl_worth"]).all() and (k["pl_worth"] <= k["pl_worth_high"]).all()
    assert (k["cs_share_low"] <= k["cs_share"]).all() and (k["cs_share"] <= k["cs_share_high"]).all()
    assert ranking.loc[ranking["status"] != "kept", ["pl_share", "final_rank"]].isna().all().all()


def test_bad_rows_are_reported_per_respondent_and_excluded_from_their_method_only():
    tables = generate_survey(10, 120, seed=5)
    result = _run(tables)
    planted = tables["truth_problems"]
    reported = result.problems[["respondent_id", "method"]]
    assert sorted(map(tuple, reported.to_numpy())) == sorted(map(tuple, planted.to_numpy()))
    reasons = result.problems.set_index("respondent_id")["problem"]
    assert reasons["R0001"] == "points add up to 90, not 100"
    assert reasons["R0002"].startswith("rank given twice") and reasons["R0004"].startswith("ranks have a gap")
    assert "unknown benefit" in reasons["R0003"]
    data = read_survey(tables["screening"], tables["costs"], tables["ranking"], tables["constant_sum"])
    assert "R0001" in set(data.ranking["respondent_id"]) and "R0001" not in set(data.constant_sum["respondent_id"])
    assert "R0002" in set(data.constant_sum["respondent_id"]) and "R0002" not in set(data.ranking["respondent_id"])
    assert result.agreement["ranking_respondents"] == 117 and result.agreement["cs_respondents"] == 119


def test_a_stage_without_a_usable_answer_is_refused_or_said_and_never_passed_over():
    """A screening file of no usable rating kept every benefit on no rating at all; a ranking or constant-sum
    file of none left its method out of the final ranking without a word."""
    tables = generate_survey(8, 60, seed=7)
    header_only = {name: table.iloc[:0] for name, table in tables.items()}
    unrated = tables["screening"].assign(liking=9)
    with pytest.raises(ValueError, match=r"^screening: no usable rating \(no row\); the first stage"):
        _run({**tables, "screening": header_only["screening"]})
    excluded = rf"screening: no usable rating \(all {len(unrated)} excluded, the first: respondent S"
    with pytest.raises(ValueError, match=excluded):
        _run({**tables, "screening": unrated})
    # a helper's: a benefit missing from the costs vanished from the ranking, with 414 answers naming it
    unknown = tables["screening"].assign(benefit="a benefit not in the costs")
    with pytest.raises(ValueError, match=r"^costs: no costs for 'a benefit not in the costs', which 25 respondents"):
        _run({**tables, "screening": unknown})
    slip = tables["ranking"].copy()
    slip.loc[slip.index[0], "benefit"] = "a slip of one respondent"
    assert _run({**tables, "ranking": slip}).problems["problem"].str.contains("a slip of one respondent").any()
    with pytest.raises(ValueError, match=r"^ranking and constant_sum: no usable answer \(ranking: no row; "):
        _run({**tables, "ranking": header_only["ranking"], "constant_sum": header_only["constant_sum"]})
    whole = _run(tables).ranking.set_index("benefit")
    alone_methods = (("ranking", "cs_share", "constant-sum points"), ("constant_sum", "pl_share", "rankings"))
    for method, kept, other in alone_methods:
        said = f"^{method}: no usable answer \\(no row\\); the final ranking rests on the {other}"
        with pytest.warns(UserWarning, match=said):
            alone = _run({**tables, method: header_only[method]}).ranking.set_index("benefit")
        pd.testing.assert_series_equal(alone["combined"].dropna(), whole[kept].dropna(), check_names=False)


def test_the_batched_bootstrap_is_choix_on_the_resampled_data():
    tables = generate_survey(8, 60, seed=7)
    benefits = tables["costs"]["benefit"].tolist()[:6]
    ranking = tables["ranking"]
    ranking = ranking.loc[~ranking["respondent_id"].isin(tables["truth_problems"]["respondent_id"])]
    data, owner = choices(ranking, benefits)
    one = bootstrap_plackett_luce(data, owner, len(benefits), np.ones((1, owner.max() + 1)), alpha=0.01, tol=1e-12)
    assert np.allclose(one[0], choix.ilsr_top1(len(benefits), data, alpha=0.01, tol=1e-12), atol=1e-8)
    draw = np.random.default_rng(0).multinomial(owner.max() + 1, np.full(owner.max() + 1, 1 / (owner.max() + 1)))
    resampled = [choice for c, choice in enumerate(data) for _ in range(draw[owner[c]])]
    batched = bootstrap_plackett_luce(data, owner, len(benefits), draw[None, :].astype(float), alpha=0.01, tol=1e-12)
    assert np.allclose(batched[0], choix.ilsr_top1(len(benefits), resampled, alpha=0.01, tol=1e-12), atol=1e-8)


def test_partial_rankings_are_top_choices_and_borda_and_w_by_hand():
    ranking = pd.DataFrame(
        {
            "respondent_id": ["a", "a", "a", "b", "b", "b", "c"],
            "benefit": ["x", "y", "z", "x", "y", "z", "z"],
            "rank": [1, 2, 3, 1, 2, 3, 1],
        }
    )
    data, owner = choices(ranking, ["x", "y", "z"])
    assert data == [(0, [1, 2]), (1, [2]), (0, [1, 2]), (1, [2]), (2, [0, 1])]  # c chose z over both
    assert owner.tolist() == [0, 0, 1, 1, 2]
    scores = borda(ranking, ["x", "y", "z"])
    assert np.allclose(scores["mean_rank"], [1.0, 2.0, 7 / 3])
    # c's unranked x and y share places 2 and 3 (Borda points 0.5 each of 1)
    assert np.allclose(scores["borda"], [(1 + 1 + 0.25) / 3, (0.5 + 0.5 + 0.25) / 3, (0 + 0 + 1) / 3])
    w, n = kendalls_w(ranking, ["x", "y", "z"])
    assert (w, n) == (1.0, 2)  # a and b agree perfectly; c is not complete
    reversed_ = pd.DataFrame({"respondent_id": list("aaabbb"), "benefit": list("xyzxyz"), "rank": [1, 2, 3, 3, 2, 1]})
    assert kendalls_w(reversed_, ["x", "y", "z"])[0] == 0.0


def test_cost_rule_flag_keeps_expensive_benefits_and_settings_are_checked():
    tables = generate_survey(10, 60, seed=2)
    flagged = _run(tables, cost_rule="flag", bootstrap=0)
    over = flagged.ranking.loc[flagged.ranking["over_budget"]]
    assert len(over) and (over["status"] == "kept").all() and over["final_rank"].notna().all()
    with pytest.raises(ValueError, match="cost_rule"):
        SurveySettings(cost_rule="maybe")
    with pytest.raises(ValueError, match="unknown survey setting"):
        SurveySettings.from_dict({"bootstraps": 10})
    with pytest.raises(ValueError, match="screening: missing column.*liking"):
        read_survey(
            tables["screening"].drop(columns="liking"), tables["costs"], tables["ranking"], tables["constant_sum"]
        )
    # no candidate benefit (a costs file of its header alone): every answer was an unknown benefit, silently
    with pytest.raises(ValueError, match="costs: no benefit is listed"):
        read_survey(tables["screening"], tables["costs"].iloc[:0], tables["ranking"], tables["constant_sum"])


def test_rankings_per_tier(tmp_path):
    tables = generate_survey(12, 200, seed=1)
    result = _run(tables)
    assert set(result.by_tier["tier"]) == {"gold", "platinum", "diamond"}
    gold = result.by_tier.loc[result.by_tier["tier"] == "gold"].set_index("benefit")
    truth = tables["truth"].set_index("benefit")
    assert stats.kendalltau(gold["rank"], truth.loc[gold.index, "utility_gold"].rank(ascending=False)).statistic >= 0.7
    assert {p.name for p in result.write(tmp_path)} == {
        "ranking.csv",
        "ranking_by_tier.csv",
        "survey_problems.csv",
        "respondent_consistency.csv",
    }


def test_cli_generates_and_ranks_a_survey(tmp_path, capsys):
    assert (
        main(
            [
                "generate",
                "survey",
                "--benefits",
                "10",
                "--respondents",
                "80",
                "--seed",
                "4",
                "--out",
                str(tmp_path / "in"),
            ]
        )
        == 0
    )
    inputs = tmp_path / "in"
    args = [
        "survey",
        "--screening",
        str(inputs / "screening.csv"),
        "--costs",
        str(inputs / "costs.csv"),
        "--ranking",
        str(inputs / "ranking.csv"),
        "--constant-sum",
        str(inputs / "constant_sum.csv"),
        "--respondents",
        str(inputs / "respondents.csv"),
        "--out",
        str(tmp_path / "out"),
    ]
    assert main([*args, "--budget", "300"]) == 0
    ranking = pd.read_csv(tmp_path / "out" / "ranking.csv", encoding="utf-8-sig")
    assert ranking["final_rank"].notna().sum() == (ranking["status"] == "kept").sum()
    assert (tmp_path / "out" / "charts" / "worths.html").exists()
    assert main(args) == 2 and "budget" in capsys.readouterr().err


def test_names_ids_and_duplicates_that_were_settled_silently_are_reported_or_refused():
    """Found by a helper (each exit 0 before): a benefit in the costs that nobody screened or ranked was kept and
    ranked; a cost row without a name made a benefit without one; 'Spa Voucher' beside 'spa voucher' became two
    candidates; a respondent's ratings 3, 1, 5 of one benefit kept the last; a respondent listed as gold and as
    platinum kept the first; rows without a respondent id were one respondent; a liking of ４ was no number."""
    tables = generate_survey(6, 40, seed=3)
    costs, screening = tables["costs"], tables["screening"]
    unrated = pd.concat([costs, pd.DataFrame({"benefit": ["valet"], "direct_cost": [5], "delivery_cost": [1]})])
    ranking = _run({**tables, "costs": unrated}).ranking.set_index("benefit")
    assert ranking.loc["valet", "status"] == "not_screened" and pd.isna(ranking.loc["valet", "final_rank"])
    nameless = unrated.assign(benefit=[*costs["benefit"], None])
    with pytest.raises(ValueError, match=f"^costs: row {len(unrated)} has no benefit name"):
        _run({**tables, "costs": nameless})
    first = costs["benefit"].iloc[0]
    twice = pd.concat([costs, costs.iloc[:1].assign(benefit=f" {first.upper()} ")])
    with pytest.raises(ValueError, match=r"^costs: benefit\(s\) listed twice: "):
        _run({**tables, "costs": twice})

    respondent, benefit = screening.iloc[0][["respondent_id", "benefit"]]
    rerated = pd.concat([screening, pd.DataFrame({"respondent_id": [respondent], "benefit": [benefit], "liking": [1]})])
    widths = screening.astype({"liking": object, "benefit": object}).copy()
    widths.loc[widths.index[:5], "liking"] = widths.loc[widths.index[:5], "liking"].map(lambda n: chr(0xFF10 + n))
    widths.loc[widths.index[:5], "benefit"] = widths.loc[widths.index[:5], "benefit"].str.upper()
    plain, wide = _run(tables), _run({**tables, "screening": widths})  # ５ is 5, GIFT BOX is gift box
    assert not (wide.problems["method"] == "screening").any()
    pd.testing.assert_frame_equal(wide.ranking, plain.ranking)
    blank = tables["constant_sum"].copy()
    blank.loc[blank.index[:3], "respondent_id"] = None
    people = tables["respondents"]
    both = pd.concat(
        [
            people,
            people.iloc[:1].assign(tier="another tier"),
            people.iloc[1:2].assign(tier=lambda t: t["tier"].str.upper()),
        ]
    )
    result = _run({**tables, "screening": rerated, "constant_sum": blank, "respondents": both})
    problems = set(map(tuple, result.problems.to_numpy()))
    said = f"{benefit!r} rated differently ({screening.iloc[0]['liking']:g}, 1): left out"
    assert (respondent, "screening", said) in problems
    assert ("", "constant_sum", "3 row(s) without a respondent id: left out") in problems
    listed = people.iloc[0]
    tiers = ", ".join(sorted([listed["tier"], "another tier"]))
    assert (listed["respondent_id"], "respondents", f"listed with two tiers ({tiers}): left out of both") in problems
    tiers_said = result.problems.loc[result.problems["method"] == "respondents", "respondent_id"]
    assert people.iloc[1]["respondent_id"] not in set(tiers_said)  # GOLD is gold


def test_respondents_whose_ids_are_written_otherwise_or_who_never_answered_are_refused():
    """Found by a helper: respondents listed as ``001`` against answers from ``1`` were only warned about, and the
    tiers' rankings came out empty, where the advisor books refuse the same mismatch."""
    tables = generate_survey(12, 50, seed=1)
    people = tables["respondents"]
    lowered = people.assign(respondent_id=people["respondent_id"].str.lower())
    with pytest.raises(
        ValueError,
        match=r"respondent ids are written otherwise than the answers' \('r0001' is 'R0001' there; 50 ",
    ):
        _run({**tables, "respondents": lowered})
    strangers = people.assign(respondent_id="X" + people["respondent_id"])
    with pytest.raises(ValueError, match="none of the 50 respondents' ids answered the survey"):
        _run({**tables, "respondents": strangers})
    some = pd.concat([people, pd.DataFrame({"respondent_id": ["R9999"], "tier": ["gold"]})])
    assert _run({**tables, "respondents": some}).ranking.equals(_run(tables).ranking)  # one who did not answer


def test_a_respondent_left_out_of_the_rankings_by_tier_is_said():
    """Found by a helper: a respondent missing from the respondents table, without a tier, or written r0005 where
    the table has R0005 was left out of ranking_by_tier.csv without a word."""
    tables = generate_survey(8, 60, seed=7)
    people = tables["respondents"]
    first, second = people["respondent_id"].iloc[:2]
    people = people.iloc[1:].assign(tier=lambda t: t["tier"].mask(t["respondent_id"] == second, ""))
    clean = people.loc[~people["respondent_id"].isin(tables["truth_problems"]["respondent_id"]), "respondent_id"]
    ranking = tables["ranking"].assign(respondent_id=lambda t: t["respondent_id"].replace(clean.iloc[-1], "x"))
    problems = _run({**tables, "respondents": people, "ranking": ranking}).problems
    said = problems.loc[problems["method"] == "respondents"].set_index("respondent_id")["problem"]
    assert said[first] == "not in the respondents table: left out of the rankings by tier"
    assert said[second] == "no tier: left out of the rankings by tier"
    assert said["x"] == "not in the respondents table: left out of the rankings by tier"
