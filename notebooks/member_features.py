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
# # Member features
#
# Loads a transactions export through the data contract (rows that cannot be
# used go to a rejects file, with a reason), then computes one row of features
# per member as of a date: purchase occasions, net spend, recency, tenure and
# the gaps between purchases that the churn alerts build on.
#
# With no `transactions_path`, the notebook generates a small gas world to show itself.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo world
members_path = ""
mapping_path = ""  # YAML mapping of source columns, for exports with their own headers
as_of = "2026-03-31"
backend = "duckdb"
demo_members = 2000
output_dir = "../outputs/member_features"

# %%
import segkit
from segkit import plots
from segkit.jobs import check_choice, check_date, check_file, check_output_dir, demo_inputs

transactions_path = check_file("transactions_path", transactions_path, optional=True)
members_path = check_file("members_path", members_path, optional=True)
mapping_path = check_file("mapping_path", mapping_path, optional=True)
as_of = check_date("as_of", as_of)
backend = check_choice("backend", backend, ["duckdb", "spark"])
output_dir = check_output_dir("output_dir", output_dir)
if transactions_path is None:
    transactions_path, members_path = demo_inputs("gas", demo_members, as_of, output_dir)
plots.notebook_mode()

# %% [markdown]
# ## Load through the contract
# Every row read is used, rejected with a reason, or counted as a duplicate.

# %%
transactions = segkit.load_transactions(transactions_path, config=mapping_path, as_of=as_of)
transactions.write_rejects(output_dir / "transactions_rejects.csv")
print(transactions.report)
members = segkit.load_members(members_path) if members_path else None
if members is not None:
    members.write_rejects(output_dir / "members_rejects.csv")
    print(members.report)
plots.load_report_chart(transactions.report)

# %% [markdown]
# ## Features as of the date

# %%
features = segkit.member_features(
    transactions.table, as_of, members=None if members is None else members.table, backend=backend
)
features.describe(include="number").T.round(1)

# %%
plots.purchase_rhythm_chart(features)

# %%
plots.recency_frequency_chart(features)

# %% [markdown]
# ## Output

# %%
from segkit.io import write_table

features_path = write_table(features, output_dir / "member_features.parquet")
print(f"{len(features):,} members -> {features_path}")
