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
# With no `transactions_path`, the notebook uses the CDNOW sample from the shared reference data
# (`../shared/data/cdnow` beside the repository, or under `SEGKIT_SHARED_DATA`).

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: the CDNOW sample
mapping_path = ""  # YAML mapping of the export's columns
calibration_end = "1997-09-30"
holdout_end = "1998-06-30"  # empty: no holdout check
unit = "W"  # D, W or M
horizon = 52.0  # forecast horizon in units, for the value
periods = 12  # discounting periods within the horizon
discount_rate = 0.01  # per period
k_max = 8  # MBG/CNBD-k: largest regularity tried
output_dir = "../outputs/customer_value"

# %%
import os
from pathlib import Path

import pandas as pd
import plotly.express as px

import segkit
from segkit import plots
from segkit.clv import BetaGeoModel, MBGCNBDModel, ParetoNBDModel, btyd_summary, customer_value
from segkit.jobs import ParameterError, check_choice, check_date, check_file, check_output_dir, check_positive

calibration_end = check_date("calibration_end", calibration_end)
holdout_end = check_date("holdout_end", holdout_end) if holdout_end else None
if holdout_end is not None and holdout_end <= calibration_end:
    raise ParameterError("parameter holdout_end must be after calibration_end")
unit = check_choice("unit", unit, ["D", "W", "M"])
periods = check_positive("periods", periods)
k_max = check_positive("k_max", k_max)
output_dir = check_output_dir("output_dir", output_dir)
transactions_path = check_file("transactions_path", transactions_path, optional=True)
mapping_path = check_file("mapping_path", mapping_path, optional=True)
if transactions_path is None:
    shared = Path(os.environ.get("SEGKIT_SHARED_DATA", "../../shared/data"))
    transactions_path = check_file("transactions_path", shared / "cdnow" / "CDNOW_sample.txt")
    mapping_path = Path("../data/mappings/cdnow_sample.yaml")
plots.notebook_mode()

# %% [markdown]
# ## The summary: frequency, recency and age of every customer

# %%
transactions = segkit.load_transactions(transactions_path, config=mapping_path, as_of=holdout_end or calibration_end)
print(transactions.report)
summary = btyd_summary(transactions.table, calibration_end, holdout_end, unit=unit)
summary.describe().round(2)

# %% [markdown]
# ## Purchases and drop-out

# %%
bgnbd = BetaGeoModel().fit(summary)
pareto = ParetoNBDModel().fit(summary)
print(bgnbd)
print(pareto)
pd.concat({"BG/NBD": bgnbd.summary(), "Pareto/NBD": pareto.summary()}).round(4)

# %%
x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
summary["p_alive"] = bgnbd.probability_alive(x, t_x, T)
charts = {"p_alive": px.histogram(summary, x="p_alive", nbins=40, title="P(still a customer), BG/NBD")}
charts["p_alive"]

# %% [markdown]
# ## Holdout: forecast against what happened
#
# Mean holdout purchases by the number of repeat purchases in the calibration period
# (the classic check of Fader, Hardie and Lee 2005).

# %%
if holdout_end is not None:
    duration = summary["holdout_duration"].iloc[0]
    summary["bgnbd_forecast"] = bgnbd.conditional_expected_purchases(duration, x, t_x, T)
    summary["pareto_forecast"] = pareto.conditional_expected_purchases(duration, x, t_x, T)
    print(f"holdout purchases: actual {summary['holdout_frequency'].sum():,.0f}, BG/NBD "
          f"{summary['bgnbd_forecast'].sum():,.0f}, Pareto/NBD {summary['pareto_forecast'].sum():,.0f}")
    by_frequency = (summary.assign(repeat_purchases=x.clip(upper=7))
                    .groupby("repeat_purchases")[["holdout_frequency", "bgnbd_forecast", "pareto_forecast"]].mean())
    charts["holdout"] = px.line(by_frequency.rename(columns={"holdout_frequency": "actual"}), markers=True,
                                title="Holdout purchases by calibration repeat purchases (7 = 7+)",
                                labels={"value": "mean holdout purchases", "variable": ""})
    display(by_frequency.round(3))  # noqa: F821 (IPython)
    display(charts["holdout"])  # noqa: F821

# %% [markdown]
# ## Spend and value

# %%
value = customer_value(summary, bgnbd, horizon, periods, discount_rate)
print(value.spend)
print("\n".join(value.notes) or "every customer valued")
summary = value.table
if "clv" in summary:
    charts["clv"] = plots.lorenz_chart(summary["clv"].dropna())
    charts["clv"].update_layout(title=f"Concentration of expected value over {horizon:g} {unit}")
    display(charts["clv"])  # noqa: F821 (IPython)

# %% [markdown]
# ## Regularity
#
# MBG/CNBD-k's likelihood by k: a peak above 1 means customers buy at regular intervals,
# and silence past their rhythm means more. The Wheat-Morrison estimate is a model-free check.

# %%
from segkit.clv import wheat_morrison

regular = MBGCNBDModel(k_max=k_max).fit(summary)
print(regular)
print("Wheat-Morrison:", {k: round(v, 3) for k, v in wheat_morrison(transactions.table, calibration_end).items()})
charts["regularity"] = px.line(regular.log_likelihoods_, markers=True, title="MBG/CNBD-k log-likelihood by k",
                               labels={"index": "k", "value": "log-likelihood"})
charts["regularity"].update_layout(showlegend=False)
charts["regularity"]

# %% [markdown]
# ## Output files

# %%
from segkit.io import write_table

outputs = [write_table(summary.round(6), output_dir / "customer_value.csv"),
           *plots.save_charts(charts, output_dir / "charts")]
print("\n".join(str(p) for p in outputs))
