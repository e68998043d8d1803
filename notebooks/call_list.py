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
# # Today's call list: who to call, why, by whom, in what order
#
# The overdue alerts (`alerts.csv`) and the care calendar (birthdays, holiday greetings)
# become one call list per campaign for the call center. Every contact goes through
# **pacing**, so that a member is served, not harassed:
#
# * never a member flagged do-not-call, or who asked not to be called;
# * at most one call per `window_days` across all campaigns, and `max_per_30_days` in 30 days;
# * VIPs first, then the most value at risk; each advisor takes their own members up to
#   their daily capacity, the rest go to the VIP queue or their team's queue.
#
# Every listed call is recorded in the **contact ledger** (an SQLite file, or PostgreSQL
# through `SEGKIT_LEDGER_URL`), which is what pacing reads tomorrow; the call center's
# outcomes (`segkit outcomes`) go back into it. Running the same day again changes nothing.
# Each list has a folder of its own, replaced whole: `calls/` (the campaign) and `care/`.
#
# Names and phones are in the call-center files only; this notebook shows them masked.
# With no `alerts_path`, the notebook generates a gas world and its alerts.

# %% tags=["parameters"]
alerts_path = ""  # alerts.csv from segkit alerts / the churn_alerts notebook; empty: demo
members_path = ""  # members: name, phone, tier, advisor_id, do_not_call, birthday
advisors_path = ""  # advisors: team, active, daily_calls
ledger = ""  # SQLite file path or a URL without password; empty: $SEGKIT_LEDGER_URL
as_of = "2026-03-31"
campaign = "churn"
care = True  # also the care list (birthdays, holiday greetings)
vip_path = ""  # member_id and vip of every member (the alerts' member_rhythms.csv, rfm.csv): VIPs' greetings
settings_path = ""  # contact settings YAML: window_days, max_per_30_days, advisor_daily_calls, ...
demo_members = 3000
output_dir = "../outputs/call_list"

# %%
import os

import pandas as pd

import segkit
from segkit import plots
from segkit.callcenter import (LEDGER_ENV, ContactSettings, Ledger, alert_candidates, care_candidates, daily_capacity,
                               export_calls, ledger_url, retention_summary)
from segkit.io import write_table
from segkit.jobs import ParameterError, check_date, check_file, check_output_dir, check_positive, demo_inputs
from segkit.privacy import mask_personal

as_of = check_date("as_of", as_of)
if ledger:
    ledger_url(ledger)  # a password in the parameter is refused before anything runs
output_dir = check_output_dir("output_dir", output_dir)
alerts_path = check_file("alerts_path", alerts_path, optional=True)
members_path = check_file("members_path", members_path, optional=alerts_path is None)
advisors_path = check_file("advisors_path", advisors_path, optional=True)
settings_path = check_file("settings_path", settings_path, optional=True)
settings = ContactSettings.from_yaml(settings_path)
if not isinstance(care, bool):
    raise ParameterError(f"parameter care: {care!r} must be True or False")
if not str(campaign).strip():
    raise ParameterError("parameter campaign must not be empty")
if alerts_path is None:
    from segkit.churn import AlertSettings, churn_alerts

    transactions_path, members_path = demo_inputs("gas", check_positive("demo_members", demo_members), as_of,
                                                  output_dir)
    advisors_path = members_path.with_name("advisors.csv")
    demo_run = churn_alerts(segkit.load_transactions(transactions_path, as_of=as_of).table, as_of,
                            segkit.load_members(members_path).table,
                            AlertSettings(purchase_noun="refill", purchase_verb="refills"))
    alerts_path = write_table(demo_run.alerts, output_dir / "demo_alerts.csv")
    if not ledger:  # the demo's world is generated anew, so its ledger starts anew too
        ledger = output_dir / "demo_ledger.sqlite"
        ledger.unlink(missing_ok=True)
elif not ledger and not os.environ.get(LEDGER_ENV):
    raise ParameterError(f"parameter ledger is required (or set {LEDGER_ENV}): pacing needs yesterday's contacts")
ledger = Ledger(ledger or None)
plots.notebook_mode()
print(ledger)

# %% [markdown]
# ## Inputs

# %%
alerts = pd.read_csv(alerts_path, dtype={"member_id": str}, encoding="utf-8-sig")
members_load = segkit.load_members(members_path)
members = members_load.table
advisors = segkit.load_advisors(advisors_path).table if advisors_path else None
unmapped = members_load.report.ignored_columns  # named in the error if no member to call has a phone
print(f"{len(alerts):,} alerts; {members_load.report}")

# %% [markdown]
# ## The call list

# %%
export = export_calls(alert_candidates(alerts, campaign), members, as_of, ledger, output_dir / "calls", run=campaign,
                      advisors=advisors, settings=settings, unmapped_columns=unmapped)
print(export)
mask_personal(export.call_list).head(15)

# %% [markdown]
# Why candidates were held back. `window` and `monthly_cap` are the pacing rules at work:
# these members were called recently, by this campaign or another.

# %%
charts = {}
if len(export.held_back):
    charts["held_back"] = plots.held_back_chart(export.held_back)
    display(charts["held_back"])  # noqa: F821 (IPython)
export.held_back.head(10)

# %% [markdown]
# Each advisor's calls today against their daily capacity; what does not fit goes to a queue,
# VIPs first.

# %%
capacity = daily_capacity(advisors, settings)
charts["advisor_load"] = plots.advisor_load_chart(export.call_list, capacity)
charts["advisor_load"]

# %% [markdown]
# ## Care calls: birthdays and holiday greetings
#
# Through the same pacing and ledger: a member already called today is not called twice.

# %%
care_export = None
if care:
    vip = None
    if check_file("vip_path", vip_path, optional=True):
        from segkit.data.sources import read_source

        flags = read_source(vip_path).frame
        if not {"member_id", "vip"} <= set(flags.columns):
            raise ParameterError(f"parameter vip_path: {vip_path} needs member_id and vip columns")
        vip = flags.set_index("member_id")["vip"]
    care_export = export_calls(care_candidates(members, as_of, settings, vip=vip), members, as_of, ledger,
                               output_dir / "care", run="care", advisors=advisors, settings=settings,
                               unmapped_columns=unmapped)
    print(care_export)
    display(mask_personal(care_export.call_list).head(10))  # noqa: F821

# %% [markdown]
# ## What became of earlier calls
#
# Outcomes come back with `segkit outcomes --file results.csv --ledger ...`: "asked not to be
# called" joins do-not-call for good, "no answer" is tried again after the window.

# %%
summary = retention_summary(ledger)
if len(summary):
    charts["outcomes"] = plots.retention_chart(summary)
    display(charts["outcomes"])  # noqa: F821
summary

# %% [markdown]
# ## Output files
#
# `calls/` and `care/` hold `call_list.csv`, `call_list.xlsx` (names and phones: for the call center
# only) and `held_back.csv`.

# %%
outputs = [*export.files, *(care_export.files if care_export else []),
           write_table(summary, output_dir / "retention_summary.csv"),
           *plots.save_charts(charts, output_dir / "charts")]
print("\n".join(str(p) for p in outputs))
