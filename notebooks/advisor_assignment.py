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
# Every move comes with a hand-over note for the receiving advisor. With no
# `transactions_path`, the notebook generates a supplements world.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo supplements world
members_path = ""  # members: advisor_id (current), wants_new_advisor, tier
advisors_path = ""  # advisors: level, team, capacity_min, capacity_max, active
mapping_path = ""  # YAML mapping of the transactions export's columns
alerts_path = ""  # alerts.csv: open alerts go into the hand-over notes
as_of = "2026-03-31"
settings_path = ""  # assignment settings YAML; the parameters below override it
capacity_min = None  # override every advisor's capacity_min (None: the advisors file's)
capacity_max = None
continuity_weight = 15  # cost of moving a member who could keep their advisor (grade mismatch costs 10 a level)
demo_members = 5000
output_dir = "../outputs/advisor_assignment"

# %%
import dataclasses

import pandas as pd

import segkit
from segkit import plots
from segkit.advisors import AssignmentSettings, plan_books
from segkit.jobs import ParameterError, check_date, check_file, check_output_dir, check_positive, demo_inputs


def optional_whole(name, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ParameterError(f"parameter {name}: {value!r} must be a whole number >= 0 or None")
    return value


as_of = check_date("as_of", as_of)
output_dir = check_output_dir("output_dir", output_dir)
transactions_path = check_file("transactions_path", transactions_path, optional=True)
members_path = check_file("members_path", members_path, optional=transactions_path is None)
advisors_path = check_file("advisors_path", advisors_path, optional=transactions_path is None)
mapping_path = check_file("mapping_path", mapping_path, optional=True)
alerts_path = check_file("alerts_path", alerts_path, optional=True)
settings_path = check_file("settings_path", settings_path, optional=True)
settings = AssignmentSettings.from_yaml(settings_path)
overrides = {"capacity_min": optional_whole("capacity_min", capacity_min),
             "capacity_max": optional_whole("capacity_max", capacity_max),
             "continuity_weight": optional_whole("continuity_weight", continuity_weight)}
try:
    settings = dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})
except ValueError as error:
    raise ParameterError(f"parameters: {error}") from None
if transactions_path is None:
    transactions_path, members_path = demo_inputs("supplements", check_positive("demo_members", demo_members), as_of,
                                                  output_dir)
    advisors_path = members_path.with_name("advisors.csv")
plots.notebook_mode()

# %% [markdown]
# ## Inputs

# %%
transactions = segkit.load_transactions(transactions_path, config=mapping_path, as_of=as_of)
members = segkit.load_members(members_path).table
advisors = segkit.load_advisors(advisors_path).table
alerts = pd.read_csv(alerts_path, dtype={"member_id": str}, encoding="utf-8-sig") if alerts_path else None
print(transactions.report)
advisors.drop(columns=[c for c in ("name",) if c in advisors])

# %% [markdown]
# ## The assignment

# %%
plan = plan_books(transactions.table, members, advisors, as_of, settings, alerts=alerts)
print(plan)
pd.crosstab(plan.graded["team"], plan.graded["grade"], margins=True).rename(columns=lambda g: f"grade {g}")

# %% [markdown]
# Members moved, and why. "Team move" is a lifecycle change (a new member settling in, a
# regular going dormant); "advisor left" is a recycled book; "grade match" moves a member
# two levels away from their advisor's level (it outweighs the continuity penalty).

# %%
plan.assignment.summary()

# %%
charts = {"book_load": plots.book_load_chart(plan.assignment.advisors)}
charts["book_load"]

# %% [markdown]
# Top members to senior advisors: members by value grade and their advisor's level.

# %%
charts["grade_by_level"] = plots.grade_level_heatmap(plan.assignment.table)
display(charts["grade_by_level"])  # noqa: F821 (IPython)
table = plan.assignment.table
decile = pd.qcut(table["value"].rank(method="first"), 10, labels=range(1, 11))
table.groupby(decile, observed=True)["level"].mean().rename("mean advisor level by value decile").to_frame().T

# %%
charts["team_moves"] = plots.team_moves_sankey(plan.assignment.table)
charts["team_moves"]

# %% [markdown]
# ## Hand-over notes
#
# What the receiving advisor reads before the first call (member ids only here; the
# advisor's screen has the name).

# %%
plan.handover.head(10)

# %% [markdown]
# ## Output files

# %%
outputs = [*plan.write(output_dir), *plots.save_charts(charts, output_dir / "charts")]
print("\n".join(str(p) for p in outputs))
