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
# # Did the calls work? Purchases of the called against the control group
#
# Every call list holds out a random share of its eligible members (`control_share` of the
# contact settings): the **control group**, recorded in the contact ledger and not called. A
# listed member *bought* when they made a purchase within `window_days` after their list day
# (refunds and orders cancelled the same day are not purchases). The purchase rate of the called
# members against that of the control group held out of the same lists is what the calls changed:
# the **uplift**, with its 95 % interval. Only contacts whose window has ended by `as_of` count.
#
# What the agents wrote down ("won back") stands beside the purchases, never in them: a loyal
# member who was merely late and promises to refill is "won back" to an agent, yet would have
# bought anyway. The control group counts only the extra buyers.
#
# `segkit effect` runs the same workflow (`segkit.campaign_effect`). With no `transactions_path`,
# the notebook simulates a small call center (`segkit simulate`: 45 days of segkit's overdue
# alerts on a gas world, in which a call wins back 30 % of the households that had switched and
# drives away 5 % of the loyal ones it bothers) and measures it over a window of at most 20 days;
# the simulation knows the true effect.
# Members appear by id only: names and phones are in the call center's files, not here.

# %% tags=["parameters"]
ledger = ""  # contact ledger: SQLite file path or a URL without password; empty: $SEGKIT_LEDGER_URL
transactions_path = ""  # CSV or Parquet; empty: demo (a simulated call center)
mapping_path = ""  # column-mapping YAML of the transactions export
segments_path = ""  # rfm.csv of the segmentation (member_id, segment): the effect per RFM segment too
as_of = "2026-03-31"
window_days = 30  # a listed member bought when they purchased within so many days after their list day
worthwhile_uplift = 0.02  # the smallest uplift worth its calls: below it, the advice names the calls
demo_members = 1500
language = ""  # of this report: zh-CN or en; empty: zh-CN
output_dir = "../outputs/campaign_effect"

# %%
import pandas as pd
from IPython.display import Markdown

import segkit
from segkit import plots
from segkit.callcenter import Ledger
from segkit.callcenter.effect import listed_contacts
from segkit.jobs import checked_parameters

globals().update(checked_parameters("campaign_effect", globals()))
segkit.use_language(language)
simulation = None
if transactions_path is None:  # the demo: a call center simulated up to as_of (45 list days: 20-day windows at most)
    from segkit.synth.loop import simulate

    demo, window_days = output_dir / "demo_simulation", min(window_days, 20)
    simulation = simulate(demo, demo_members, days=45, start=as_of - pd.Timedelta(days=44), win_back=0.3,
                          annoyance=0.05, control_share=0.2, window_days=window_days)
    ledger, transactions_path = demo / "ledger.sqlite", demo / "transactions.csv"  # with the agents' outcomes
ledger = Ledger(ledger)  # an existing ledger: the daily call lists made it
plots.notebook_mode()
print(ledger)

# %% [markdown]
# ## Data
#
# The ledger's calls (called and control, one row per listed member and run) and the
# purchases. A ledger without control groups, or whose control members' windows have not
# ended yet, stops here and says so.

# %%
calls, outcomes = ledger.calls(), ledger.outcomes()
listed_contacts(calls, as_of, window_days)  # refused before the long load, as `segkit effect` does
transactions = segkit.load_transactions(transactions_path, mapping_path, as_of=as_of)
print(transactions.report)
print(f"{len(calls):,} listed members in {len(calls[['run', 'as_of']].drop_duplicates()):,} call lists, "
      f"{calls['as_of'].min():%Y-%m-%d} to {calls['as_of'].max():%Y-%m-%d}; {len(outcomes):,} outcomes reported")

# %% [markdown]
# ## The effect of each campaign
#
# Each campaign's purchase rate with and without a call, in plain words: the uplift in
# percentage points with its 95 % interval, the calls per household won back, and how many
# more list days an effect of that size needs before it can be told from chance.

# %%
campaign = segkit.campaign_effect(calls, transactions, as_of, window_days, segments_path, outcomes,
                                  worthwhile_uplift=worthwhile_uplift)
print(campaign)
display(Markdown("\n".join(f"- {sentence}" for sentence in campaign.sentences())))  # noqa: F821 (IPython)
segkit.show_table(campaign.named(campaign.summary()), campaign.percent)

# %% [markdown]
# ## Uplift by segment and by month
#
# Each dot is an uplift with its 95 % interval; an interval across the dashed zero line may be
# chance. The segments: VIP or not, the RFM segment (with `segments_path`), the advisor (for a
# control member, the advisor who would have called) and the month of the list day.

# %%
charts = {"uplift_by_month": plots.uplift_by_month_chart(campaign.shown(), window_days)}
display(campaign.chart())  # noqa: F821
charts["uplift_by_month"]

# %%
rows = campaign.named()
by_month = rows.loc[rows["segment"].str.startswith("month:")]
segkit.show_table(by_month[["campaign", "segment", "called", "control", "rate_called", "rate_control", "uplift",
                            "uplift_low", "uplift_high", "still_open"]], campaign.percent)

# %% [markdown]
# ## Calls per household won back
#
# The extra buyers are the uplift times the called members: the households the calls won back
# (less those they drove away). Calls per extra buyer is what one of them costs; a dash where the
# calls did not raise the purchase rate.

# %%
ongoing = rows.loc[~rows["segment"].str.startswith("month:")]
segkit.show_table(ongoing[["campaign", "segment", "called", "called_bought", "uplift", "incremental",
                           "calls_per_incremental"]], campaign.percent)

# %% [markdown]
# ## What the agents reported, beside the purchases
#
# "Won back" as the agents recorded it (the latest outcome of each call) against the extra
# buyers the control group measures. Agents cannot tell a household that came back because of
# the call from one that would have bought anyway, so their count usually runs higher: the
# purchases decide, the reports explain.

# %%
overall = campaign.named(campaign.overall())
if overall["agent_won_back"].notna().any():
    segkit.show_table(overall[["campaign", "called", "agent_won_back", "agent_won_back_share", "called_bought",
                               "incremental"]], campaign.percent)
else:
    print("no outcomes reported in the ledger yet (segkit outcomes --file call_list.xlsx)")

# %% [markdown]
# ## How long before the effect can be told from noise
#
# At the current daily list size (listed members per day over each campaign's latest 28 list
# days) and the rates seen so far: the list days still to run before an uplift of the size seen
# would be detected with 80 % power (two-sided test at 5 %). 0: the lists so far are enough once
# their windows end; a dash: no difference seen. Hundreds of days mean the estimate is noise.

# %%
segkit.show_table(ongoing[["campaign", "segment", "called", "control", "uplift", "uplift_low", "uplift_high",
                           "listed_per_day", "list_days_to_detect"]], campaign.percent)

# %% [markdown]
# ## What the ledger advises for the alert settings
#
# The ledger keeps the P(active) each overdue alert gave the member it listed. Where the calls to
# members above some P(active) added, with 95 % confidence, less than `worthwhile_uplift` to the
# purchase rate, the advice names the `p_active_below` that would stop them (or the campaign, when
# none of its calls are worth making). Nothing is changed by itself: people read the advice and
# change the alert settings. The uplift by the P(active) the alert gave, band by band, is beside it.

# %%
display(Markdown("\n".join(f"- {sentence}" for sentence in campaign.advice_sentences())))  # noqa: F821
by_p_active = rows.loc[rows["segment"].str.startswith("p_active:")]
segkit.show_table(by_p_active[["campaign", "segment", "called", "control", "rate_called", "rate_control", "uplift",
                               "uplift_low", "uplift_high"]], campaign.percent)

# %% [markdown]
# ## Against the generated truth (demo only)
#
# The simulation knows both outcomes of every listing: the true uplift over the listings whose
# window has ended beside the control group's estimate (within its interval 95 times in 100),
# and the households really won back beside those lost by annoyance.

# %%
if simulation is not None:
    display(simulation)  # noqa: F821

# %% [markdown]
# ## Output files
#
# `effect.csv` (every campaign and segment), `advice.csv` (the advice, if any), `effect.html` (the report to forward),
# `charts/uplift.html` and `charts/uplift_by_month.html`.

# %%
outputs = segkit.record_outputs(output_dir, [*campaign.write(output_dir), transactions.write_rejects(output_dir / "transactions_rejects.csv"),
           *plots.save_charts(charts, output_dir / "charts")])
print("\n".join(str(path) for path in outputs))
