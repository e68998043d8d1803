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
# A member is alerted when P(still a customer) falls below `p_active_below`. Members who
# never bought, and members with no purchase for `long_gone_days`, belong to other lists.
#
# Settings come from `settings_path` (`data/samples/alerts_gas.yaml`); a parameter not given takes
# the file's value, a parameter given wins over it. `segkit alerts` runs the same workflow
# (`segkit.churn_alerts`). With no `transactions_path`, the notebook generates a gas world, whose
# truth (who switched, and when) lets it score the alerts against the naive rules.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo gas world
members_path = ""  # household_size, if present, sharpens the group rhythm
mapping_path = ""  # column-mapping YAML of the transactions export
members_mapping_path = ""  # column-mapping YAML of the members export
truth_path = ""  # a generated world's truth.csv: score the alerts (backtest)
as_of = "2026-03-31"
settings_path = ""  # alert settings YAML; empty: defaults
p_active_below = None  # alert when P(still a customer) falls below this (None: from the settings)
long_gone_days = None  # no purchase this long: long gone, not an overdue alert (None: from the settings)
compare_methods = True  # with a truth file: every churn method on the same members (slower)
purchase_noun = None  # words of the reasons, e.g. "refill" (None: from the settings)
purchase_verb = None  # e.g. "refills"
demo_members = 3000
language = ""  # of this report's headings and tables: zh-CN or en; empty: zh-CN
output_dir = "../outputs/churn_alerts"

# %%
import segkit
from segkit import plots
from segkit.churn import AlertSettings
from segkit.jobs import checked_parameters, demo_inputs
from segkit.settings import resolve_settings
from segkit.evaluation import read_truth

globals().update(checked_parameters("churn_alerts", globals()))
segkit.use_language(language)
settings = resolve_settings(AlertSettings, settings_path, p_active_below=p_active_below, long_gone_days=long_gone_days,
                            purchase_noun=purchase_noun, purchase_verb=purchase_verb)
if transactions_path is None:
    demo = demo_inputs("gas", demo_members, as_of, output_dir)
    transactions_path, members_path, truth_path = demo["transactions"], demo["members"], demo["truth"]
plots.notebook_mode()

# %% [markdown]
# ## Data

# %%
transactions = segkit.load_transactions(transactions_path, mapping_path, as_of=as_of)
members_load = segkit.load_members(members_path, members_mapping_path) if members_path else None
members = members_load.table if members_load is not None else None
print(transactions.report)
if members_load is not None:
    print(members_load.report)

# %% [markdown]
# ## Each member's rhythm

# %%
run = segkit.churn_alerts(transactions.table, as_of, members, settings)
print(run.model)
segkit.show_table(run.model.summary())

# %% [markdown]
# The group terms are multipliers of the typical interval (`exp(estimate)`): a larger
# household refills sooner, two cylinders last about twice as long, winter is faster.

# %% [markdown]
# The share of gaps still open after so many days, by household size (Kaplan-Meier, open gaps
# censored).

# %%
charts = {}
if "household_size" in run.gaps.columns:
    charts["survival_by_household_size"] = plots.survival_by_group(run.gaps, "household_size")
    display(charts["survival_by_household_size"])  # noqa: F821 (IPython)

# %% [markdown]
# ## Who is overdue

# %%
display(run)  # noqa: F821 (IPython)
charts["overdue_days"] = plots.overdue_chart(run.members)
charts["overdue_days"]

# %%
charts["alert_probability"] = plots.alert_probability_chart(run.members, settings.p_active_below)
charts["alert_probability"]

# %% [markdown]
# The alert list, the freshest lapses first (ids only: names and phones go to the call
# center's files, not to notebooks).

# %%
segkit.show_table(run.alerts.head(15))

# %% [markdown]
# ## Backtest against the truth (generated worlds only)
#
# Every churn method on the same members (those who bought within `long_gone_days`), scored
# the same way: the fixed rules, the interval model (the overdue alert), the oracle (the same
# threshold rule given each household's true rhythm and season) and, with `compare_methods`,
# BG/NBD and MBG/CNBD-k P(alive) and a gradient-boosting propensity model trained on earlier
# cutoffs. Precision: alerted members who really switched. Recall: switchers whose missed
# refill was due 14 or more days ago who were alerted. `segkit backtest` makes the same table
# from the command line, against a truth file or a holdout period.

# %%
backtest = None
if truth_path is not None:
    from segkit.evaluation import backtest_churn

    methods = None if compare_methods else ["fixed 30 days", "1.5 x own median gap", "interval model", "oracle"]
    backtest = backtest_churn(transactions.table, [as_of], members, truth=read_truth(truth_path), settings=settings,
                              methods=methods, label=transactions_path.stem)  # as `segkit backtest` labels it
    charts["backtest"] = plots.backtest_chart(backtest.table)
    segkit.show_table(backtest.table.drop(columns="data"))
    display(charts["backtest"])  # noqa: F821

# %% [markdown]
# ## Output files

# %%
outputs = segkit.record_outputs(output_dir, [
    *run.write(output_dir),
    transactions.write_rejects(output_dir / "transactions_rejects.csv"),
    *([members_load.write_rejects(output_dir / "members_rejects.csv")] if members_load is not None else []),
    *(backtest.write(output_dir) if backtest is not None else []),
    *plots.save_charts(charts, output_dir / "charts"),
])
print("\n".join(str(p) for p in outputs))
