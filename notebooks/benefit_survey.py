# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Choosing exclusive member benefits: the three-stage survey
#
# 1. **Screening**: 20-30 prospective members rate each candidate benefit 1-5; disliked
#    ones are dropped.
# 2. **Financial check**: each benefit's direct and delivery cost per member against the
#    budget; too expensive ones are dropped (or flagged).
# 3. **Ranking and constant-sum survey** of about 200 members: each ranks the candidates
#    (Plackett-Luce worths, Borda) and splits 100 points among them (constant-sum shares);
#    the two are combined into the final list, overall and per tier.
#
# Bad survey rows are reported per respondent and left out of the affected method only.
# Settings come from `settings_path`; a parameter not given takes the file's value, a parameter
# given wins. `segkit survey` runs the same workflow (`segkit.rank_benefits`). With no `screening_path`,
# the notebook generates a survey with a known truth (and its settings: the budget).

# %% tags=["parameters"]
screening_path = ""  # respondent_id, benefit, liking (1-5); empty: generate a demo survey
costs_path = ""  # benefit, direct_cost, delivery_cost (per member per year)
ranking_path = ""  # respondent_id, benefit, rank (1 is best)
constant_sum_path = ""  # respondent_id, benefit, points
respondents_path = ""  # respondent_id, tier: rankings per tier
budget = None  # budget per member per year (None: from the settings)
settings_path = ""  # survey settings YAML (budget, drop rules, budget share, bootstrap)
bootstrap = None  # resamples of respondents for the intervals (None: from the settings; 1000)
demo_benefits = 12
demo_respondents = 200
language = ""  # of this report's headings and tables: zh-CN or en; empty: zh-CN
output_dir = "../outputs/benefit_survey"

# %%
import pandas as pd
from scipy import stats

import segkit
from segkit import plots
from segkit.jobs import checked_parameters
from segkit.settings import resolve_settings
from segkit.survey import SurveySettings, read_survey

globals().update(checked_parameters("benefit_survey", globals()))
segkit.use_language(language)
truth = None
if screening_path is None:
    from segkit.synth.survey import generate_survey, write_survey

    demo = write_survey(generate_survey(demo_benefits, demo_respondents, seed=1), output_dir / "demo_survey")
    screening_path, costs_path, ranking_path, constant_sum_path, respondents_path = (
        demo[name] for name in ("screening", "costs", "ranking", "constant_sum", "respondents"))
    settings_path = settings_path or demo["settings"]
    truth = pd.read_csv(demo["truth"], encoding="utf-8-sig")
settings = resolve_settings(SurveySettings, settings_path, budget=budget, bootstrap=bootstrap)
plots.notebook_mode()

# %% [markdown]
# ## Inputs and excluded rows

# %%
data = read_survey(screening_path, costs_path, ranking_path, constant_sum_path, respondents_path,
                   total_points=settings.total_points)
print(f"{len(data.benefits)} candidate benefits; screening by {data.screening['respondent_id'].nunique()} "
      f"respondents; {data.ranking['respondent_id'].nunique()} valid rankings, "
      f"{data.constant_sum['respondent_id'].nunique()} valid point allocations")
segkit.show_table(data.problems)

# %% [markdown]
# ## Stage 1: do members like it?

# %%
result = segkit.rank_benefits(data, settings)
display(result)  # noqa: F821 (IPython)
charts = plots.survey_charts(result)
charts["liking"]

# %% [markdown]
# ## Stage 2: can we afford it?

# %%
charts["cost"]

# %% [markdown]
# ## Stage 3: ranking and constant-sum
#
# Plackett-Luce worths (log scale) with 95% intervals from resampling respondents; then the
# two methods side by side: points near the diagonal mean the methods agree.

# %%
display(charts["worths"])  # noqa: F821 (IPython)
segkit.show_table(result.agreement_table())
charts["agreement"]

# %%
columns = ["benefit", "status", "liking_mean", "cost_per_member", "pl_share", "pl_share_low", "pl_share_high",
           "borda", "cs_share", "cs_share_low", "cs_share_high", "cs_zero_share", "combined", "final_rank"]
segkit.show_table(result.ranking[columns].sort_values(["final_rank", "status"]), percent=["combined"])

# %% [markdown]
# Per tier (when respondents have tiers): benefits can matter differently to gold, platinum
# and diamond members.

# %%
if len(result.by_tier):
    segkit.show_table(result.by_tier.pivot(index="benefit", columns="tier", values="rank"))
segkit.show_table(result.consistency.query("inconsistent").head(10))

# %% [markdown]
# ## Against the generated truth (demo only)

# %%
if truth is not None:
    scored = result.ranking.merge(truth, on="benefit")
    kept = scored.loc[scored["final_rank"].notna()]
    tau = stats.kendalltau(kept["final_rank"], kept["true_rank"]).statistic
    print(f"Kendall tau between the final order and the true order: {tau:.3f}")
    print("dropped as disliked:", sorted(scored.loc[scored["status"] == "dropped_liking", "benefit"]),
          "truth:", sorted(truth.loc[truth["disliked"], "benefit"]))
    print("dropped on cost:", sorted(scored.loc[scored["status"] == "dropped_cost", "benefit"]),
          "truth:", sorted(truth.loc[truth["over_budget"], "benefit"]))

# %% [markdown]
# ## Output files

# %%
outputs = segkit.record_outputs(output_dir, [*result.write(output_dir), *plots.save_charts(charts, output_dir / "charts")])
print("\n".join(str(path) for path in outputs))
