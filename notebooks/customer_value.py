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
# # Customer value: buy-till-you-die models
#
# Who is still a customer, how much will they buy, and what are they worth? BG/NBD and
# Pareto/NBD model purchases and silent drop-out from frequency, recency and age; Gamma-Gamma
# models spend per purchase; MBG/CNBD-k adds regular timing. Fitted on a calibration period,
# checked on a holdout.
#
# Settings (`model`, `unit`, `horizon`, `periods`, `discount_rate`, `k_max`) come from `settings_path`;
# a parameter not given takes the file's value (or the default in code), a parameter given wins.
# `segkit clv` runs the same workflow (`segkit.customer_value`). With no `transactions_path`, the notebook
# uses the CDNOW sample from the shared reference data (`../shared/data/cdnow` beside the repository,
# or under `SEGKIT_SHARED_DATA`).

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: the CDNOW sample
mapping_path = ""  # column-mapping YAML of the export
calibration_end = "1997-09-30"
holdout_end = "1998-06-30"  # empty: no holdout check
settings_path = ""  # customer-value settings YAML; empty: defaults
model = None  # bgnbd | paretonbd | mbgcnbd (None: from the settings; default bgnbd)
unit = None  # D, W or M (None: from the settings; default W)
horizon = None  # forecast horizon in units, for the value (None: from the settings; default one year)
periods = None  # discounting periods within the horizon (default 12)
discount_rate = None  # per period (default 0.01)
k_max = None  # MBG/CNBD-k: the largest regularity tried (default 12)
language = ""  # of this report's headings and tables: zh-CN or en; empty: zh-CN
output_dir = "../outputs/customer_value"

# %%
import os
from pathlib import Path

import plotly.express as px

import segkit
from segkit import plots
from segkit.clv import MBGCNBDModel, ValueSettings, wheat_morrison
from segkit.jobs import ParameterError, checked_parameters
from segkit.settings import resolve_settings

globals().update(checked_parameters("customer_value", globals()))
segkit.use_language(language)
settings = resolve_settings(ValueSettings, settings_path, model=model, unit=unit, horizon=horizon, periods=periods,
                            discount_rate=discount_rate, k_max=k_max)
if transactions_path is None:
    transactions_path = Path(os.environ.get("SEGKIT_SHARED_DATA", "../../shared/data")) / "cdnow" / "CDNOW_sample.txt"
    mapping_path = Path("../data/mappings/cdnow_sample.yaml")
    if not transactions_path.is_file():
        raise ParameterError(f"parameter transactions_path is empty and the CDNOW sample is not at {transactions_path}")
plots.notebook_mode()

# %% [markdown]
# ## Purchases, drop-out and value

# %%
transactions = segkit.load_transactions(transactions_path, mapping_path, as_of=holdout_end or calibration_end)
print(transactions.report)
value = segkit.customer_value(transactions.table, calibration_end, holdout_end, settings)
value

# %%
print(value.purchases)
segkit.show_table(value.purchases.summary())

# %%
charts = {"p_alive": px.histogram(value.table, x="p_alive", nbins=40,
                                  title=f"P(still a customer), {type(value.purchases).__name__}")}
charts["p_alive"]

# %% [markdown]
# ## Holdout: forecast against what happened
#
# Mean holdout purchases by the number of repeat purchases in the calibration period
# (the classic check of Fader, Hardie and Lee 2005).

# %%
if value.holdout is not None:
    charts["holdout"] = px.line(value.holdout, x="repeat_purchases", y=["actual", "forecast"], markers=True,
                                title="Holdout purchases by calibration repeat purchases (7 = 7+)",
                                labels={"value": "mean holdout purchases", "variable": ""})
    segkit.show_table(value.holdout)
    display(charts["holdout"])  # noqa: F821 (IPython)

# %% [markdown]
# ## Spend and value

# %%
print(value.spend)
print("\n".join(value.notes) or "every customer valued")
if "clv" in value.table:
    charts["clv"] = plots.lorenz_chart(value.table["clv"].dropna())
    charts["clv"].update_layout(title=f"Concentration of expected value over {settings.horizon:g} {settings.unit}")
    display(charts["clv"])  # noqa: F821 (IPython)

# %% [markdown]
# ## Regularity
#
# MBG/CNBD-k's likelihood by k: a peak above 1 means customers buy at regular intervals,
# and silence past their rhythm means more. The Wheat-Morrison estimate is a model-free check.

# %%
regular = value.purchases if settings.model == "mbgcnbd" else MBGCNBDModel(k_max=settings.k_max).fit(value.table)
print(regular)
print("Wheat-Morrison:", {k: round(v, 3) for k, v in wheat_morrison(transactions.table, calibration_end).items()})
charts["regularity"] = px.line(regular.log_likelihoods_, markers=True, title="MBG/CNBD-k log-likelihood by k",
                               labels={"index": "k", "value": "log-likelihood"})
charts["regularity"].update_layout(showlegend=False)
charts["regularity"]

# %% [markdown]
# ## Output files

# %%
outputs = segkit.record_outputs(output_dir, [
    *value.write(output_dir),
    transactions.write_rejects(output_dir / "transactions_rejects.csv"),
    *plots.save_charts(charts, output_dir / "charts"),
])
print("\n".join(str(path) for path in outputs))
