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
# # Overdue alerts: members past their own purchase rhythm
#
# A family of three burns a gas cylinder a month; a household that goes well past
# *its own* rhythm has probably switched supplier, and a timely call can win it back.
# Calling loyal members who are merely a few days late drives them away. This
# notebook fits every member's rhythm and lists the members worth a call today
# (`alerts.csv`), each with a reason an agent can read aloud.
#
# **The model** (`segkit.churn.IntervalModel`). The days between a member's
# purchases are survival times: completed gaps are events, the gap since the last
# purchase is right-censored. On the log scale a gap is *group rhythm + member
# pace + noise*:
#
# * the **group rhythm** is a log-normal accelerated-failure-time model (lifelines)
#   on household size, units per purchase, product, season and the Spring Festival;
# * each member's **pace** (faster or slower than their group) is shrunk toward the
#   group by empirical Bayes: one gap moves a member a little, twenty gaps nearly all the way;
# * each member's **regularity** (the spread of their gaps) is shrunk toward the
#   population's the same way, so clockwork buyers are alerted sooner than erratic ones;
# * the predictive distribution of the open gap (log-Student-t, wider with fewer gaps)
#   is calibrated on held-out gaps, and a cure fraction `q` (the chance that a
#   purchase was the last) turns "how unusual is this gap" into **P(still a customer)**.
#
# A member is alerted when P(still a customer) falls below `threshold`. Members who
# never bought, and members with no purchase for `long_gone_days`, belong to other lists.
#
# With no `transactions_path`, the notebook generates a gas world, whose truth
# (who switched, and when) lets it score the alerts against the naive rules.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo gas world
members_path = ""  # household_size, if present, sharpens the group rhythm
mapping_path = ""  # YAML mapping of the transactions export's columns
truth_path = ""  # a generated world's truth.csv: score the alerts (backtest)
as_of = "2026-03-31"
settings_path = ""  # alert settings YAML; empty: defaults
threshold = 0.6  # alert when P(still a customer) falls below this
long_gone_days = 180  # no purchase this long: long gone, not an overdue alert
compare_methods = True  # with a truth file: every churn method on the same members (slower)
purchase_noun = "refill"  # words of the reasons
purchase_verb = "refills"
demo_members = 3000
output_dir = "../outputs/churn_alerts"

# %%
import dataclasses

import segkit
from segkit import plots
from segkit.churn import AlertSettings, churn_alerts
from segkit.jobs import check_date, check_file, check_output_dir, check_positive, check_probability, demo_inputs
from segkit.synth import read_truth

as_of = check_date("as_of", as_of)
output_dir = check_output_dir("output_dir", output_dir)
transactions_path = check_file("transactions_path", transactions_path, optional=True)
members_path = check_file("members_path", members_path, optional=True)
mapping_path = check_file("mapping_path", mapping_path, optional=True)
truth_path = check_file("truth_path", truth_path, optional=True)
settings_path = check_file("settings_path", settings_path, optional=True)
settings = dataclasses.replace(
    AlertSettings.from_yaml(settings_path),
    p_active_below=check_probability("threshold", threshold),
    long_gone_days=check_positive("long_gone_days", long_gone_days),
    purchase_noun=str(purchase_noun), purchase_verb=str(purchase_verb),
)
if transactions_path is None:
    transactions_path, members_path = demo_inputs("gas", demo_members, as_of, output_dir)
    truth_path = transactions_path.with_name("truth.csv")
plots.notebook_mode()

# %% [markdown]
# ## Data

# %%
transactions = segkit.load_transactions(transactions_path, config=mapping_path, as_of=as_of)
transactions.write_rejects(output_dir / "transactions_rejects.csv")
members = segkit.load_members(members_path).table if members_path else None
print(transactions.report)

# %% [markdown]
# ## Each member's rhythm

# %%
run = churn_alerts(transactions.table, as_of, members, settings)
print(run.model)
run.model.summary().round(3)

# %% [markdown]
# The group terms are multipliers of the typical interval (`exp(estimate)`): a larger
# household refills sooner, two cylinders last about twice as long, winter is faster.
# Below, the share of gaps still open after so many days, by household size
# (Kaplan-Meier, open gaps censored).

# %%
charts = {}
if "household_size" in run.gaps.columns:
    charts["survival_by_household_size"] = plots.survival_by_group(run.gaps, "household_size")
    display(charts["survival_by_household_size"])  # noqa: F821 (IPython)

# %% [markdown]
# ## Who is overdue

# %%
print(run)
charts["overdue_days"] = plots.overdue_chart(run.members)
charts["overdue_days"]

# %%
charts["alert_probability"] = plots.alert_probability_chart(run.members, settings.p_active_below)
charts["alert_probability"]

# %% [markdown]
# The alert list, the freshest lapses first (ids only: names and phones go to the call
# center's files, not to notebooks).

# %%
run.alerts.head(15)

# %% [markdown]
# ## Backtest against the truth (generated worlds only)
#
# Precision: alerted members who really switched. Recall: switchers whose missed refill
# was due 14 or more days ago (and who bought within `long_gone_days`) who were alerted.
# The oracle is the same threshold rule given each household's true rhythm and season.

# %%
backtest = None
if truth_path is not None:
    from segkit.churn.backtest import score_rules

    backtest = score_rules(run, read_truth(truth_path))
    charts["backtest"] = plots.backtest_chart(backtest)
    display(backtest.round(3))  # noqa: F821
    display(charts["backtest"])  # noqa: F821
else:
    print("no truth_path: no backtest (real data has no truth; see benchmarks/backtest_alerts.py)")

# %% [markdown]
# ### Every churn method on the same members
#
# The fixed rules, the interval model, BG/NBD and MBG/CNBD-k P(alive), and a gradient-boosting
# propensity model trained on earlier cutoffs, scored the same way (`segkit backtest` does this
# from the command line, against a truth file or a holdout period).

# %%
comparison = None
if truth_path is not None and compare_methods:
    from segkit.churn.compare import compare_churn_methods

    comparison = compare_churn_methods(transactions.table, [as_of], members, truth=read_truth(truth_path),
                                       settings=settings, label="this world")
    charts["methods"] = plots.backtest_chart(comparison.rename(columns={"method": "rule"}))
    display(comparison.drop(columns="data").round(3))  # noqa: F821
    display(charts["methods"])  # noqa: F821

# %% [markdown]
# ## Output files

# %%
from segkit.io import write_table

outputs = [
    write_table(run.alerts, output_dir / "alerts.csv"),
    write_table(run.members.drop(columns="reason").round(4), output_dir / "member_rhythms.csv"),
    *([write_table(backtest, output_dir / "backtest.csv")] if backtest is not None else []),
    *([write_table(comparison, output_dir / "churn_methods.csv")] if comparison is not None else []),
    *plots.save_charts(charts, output_dir / "charts"),
]
print("\n".join(str(p) for p in outputs))
