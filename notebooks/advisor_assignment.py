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
# # Advisor books: who serves whom next month
#
# Each service advisor owns a book of 500 to 800 members. This notebook grades every
# member by value (top members to senior advisors), puts them in the team of their
# lifecycle stage (new-member service, regular service, VIP service, win-back for dormant
# and lost members), and assigns the books as a **min-cost flow** (OR-Tools):
#
# * every member to exactly one active advisor of their team, every book within the
#   advisor's `capacity_min`..`capacity_max`;
# * cost = grade mismatch + a continuity penalty for moving a member who could keep their
#   advisor + a balance term on book sizes;
# * members who asked for a new advisor get one; advisors who left hand over their whole book.
#
# Every move comes with a hand-over note for the receiving advisor. Settings come from `settings_path`;
# a parameter not given takes the file's value, a parameter given wins. `segkit assign` runs the same
# workflow (`segkit.plan_books`). With no `transactions_path`, the notebook generates a supplements world.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo supplements world
members_path = ""  # members: advisor_id (current), wants_new_advisor, tier
members_mapping_path = ""  # column-mapping YAML of the members export
advisors_path = ""  # advisors: level, team, capacity_min, capacity_max, active
mapping_path = ""  # column-mapping YAML of the transactions export
alerts_path = ""  # alerts.csv: open alerts go into the hand-over notes
as_of = "2026-03-31"
settings_path = ""  # assignment settings YAML; the parameters below override it
capacity_min = None  # override every advisor's capacity_min (None: the settings', else the advisors file's)
capacity_max = None
continuity_weight = None  # cost of moving a member who could keep their advisor (None: from the settings; 15)
demo_members = 5000
language = ""  # of this report's headings and tables: zh-CN or en; empty: zh-CN
output_dir = "../outputs/advisor_assignment"

# %%
import pandas as pd

import segkit
from segkit import plots
from segkit.advisors import AssignmentSettings
from segkit.jobs import checked_parameters, demo_inputs
from segkit.settings import resolve_settings

globals().update(checked_parameters("advisor_assignment", globals()))
segkit.use_language(language)
settings = resolve_settings(AssignmentSettings, settings_path, capacity_min=capacity_min, capacity_max=capacity_max,
                            continuity_weight=continuity_weight)
if transactions_path is None:
    demo = demo_inputs("supplements", demo_members, as_of, output_dir)
    transactions_path, members_path, advisors_path = demo["transactions"], demo["members"], demo["advisors"]
plots.notebook_mode()

# %% [markdown]
# ## Inputs

# %%
transactions = segkit.load_transactions(transactions_path, mapping_path, as_of=as_of)
members_load, advisors_load = segkit.load_members(members_path, members_mapping_path), segkit.load_advisors(advisors_path)
members, advisors = members_load.table, advisors_load.table
print(transactions.report, members_load.report, advisors_load.report, sep="\n")
segkit.show_table(advisors.drop(columns=[c for c in ("name",) if c in advisors]))

# %% [markdown]
# ## The assignment

# %%
plan = segkit.plan_books(transactions.table, members, advisors, as_of, settings, alerts=alerts_path)
display(plan)  # noqa: F821 (IPython)
segkit.show_table(pd.crosstab(plan.graded["team"], plan.graded["grade"], margins=True).rename(columns=lambda g: f"grade {g}"))

# %% [markdown]
# Members moved, and why. "Team move" is a lifecycle change (a new member settling in, a
# regular going dormant); "advisor left" is a recycled book; "grade match" moves a member
# two levels away from their advisor's level (it outweighs the continuity penalty).

# %%
segkit.show_table(plan.summary())

# %%
charts = plots.book_charts(plan)
charts["book_load"]

# %% [markdown]
# Top members to senior advisors: members by value grade and their advisor's level.

# %%
display(charts["grade_by_level"])  # noqa: F821 (IPython)
table = plan.assignment.table
decile = pd.qcut(table["value"].rank(method="first"), 10, labels=range(1, 11))
segkit.show_table(table.groupby(decile, observed=True)["level"].mean().rename("mean_advisor_level")
                  .rename_axis("value_decile").reset_index())

# %%
charts["team_moves"]

# %% [markdown]
# ## Hand-over notes
#
# What the receiving advisor reads before the first call (member ids only here; the
# advisor's screen has the name).

# %%
segkit.show_table(plan.handover.head(10))

# %% [markdown]
# ## Output files

# %%
outputs = segkit.record_outputs(output_dir, [*plan.write(output_dir), transactions.write_rejects(output_dir / "transactions_rejects.csv"),
           members_load.write_rejects(output_dir / "members_rejects.csv"),
           advisors_load.write_rejects(output_dir / "advisors_rejects.csv"),
           *plots.save_charts(charts, output_dir / "charts")])
print("\n".join(str(path) for path in outputs))
