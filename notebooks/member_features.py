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
# `segkit features` runs the same workflow (`segkit.member_features`) from the command line.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo world
members_path = ""
mapping_path = ""  # column-mapping YAML of the transactions export (its own headers)
members_mapping_path = ""  # column-mapping YAML of the members export
as_of = "2026-03-31"
backend = "duckdb"  # duckdb | spark
demo_members = 2000
language = ""  # of this report's headings and tables: zh-CN or en; empty: zh-CN
output_dir = "../outputs/member_features"

# %%
import segkit
from segkit import plots
from segkit.jobs import checked_parameters, demo_inputs

globals().update(checked_parameters("member_features", globals()))
segkit.use_language(language)
if transactions_path is None:
    demo = demo_inputs("gas", demo_members, as_of, output_dir)
    transactions_path, members_path = demo["transactions"], demo["members"]
plots.notebook_mode()

# %% [markdown]
# ## Load through the contract
# Every row read is used, rejected with a reason, or counted as a duplicate.

# %%
transactions = segkit.load_transactions(transactions_path, mapping_path, as_of=as_of)
members = segkit.load_members(members_path, members_mapping_path) if members_path else None
print(transactions.report)
if members is not None:
    print(members.report)
plots.load_report_chart(transactions.report)

# %% [markdown]
# ## Features as of the date

# %%
features = segkit.member_features(transactions.table, as_of, None if members is None else members.table,
                                  backend=backend)
features

# %%
plots.purchase_rhythm_chart(features.table)

# %%
plots.recency_frequency_chart(features.table)

# %% [markdown]
# ## Output

# %%
outputs = segkit.record_outputs(output_dir, [*features.write(output_dir), transactions.write_rejects(output_dir / "transactions_rejects.csv"),
           *([members.write_rejects(output_dir / "members_rejects.csv")] if members is not None else [])])
print("\n".join(str(path) for path in outputs))
