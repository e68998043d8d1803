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
# `segkit export` and `segkit care` run the same workflows (`segkit.export_calls`, `segkit.care_calls`).
#
# Names and phones are in the call-center files only; this notebook shows them masked.
# With no `alerts_path`, the notebook generates a gas world and its alerts.

# %% tags=["parameters"]
alerts_path = ""  # alerts.csv from segkit alerts / the churn_alerts notebook; empty: demo
members_path = ""  # members: name, phone, tier, advisor_id, do_not_call, birthday
members_mapping_path = ""  # column-mapping YAML of the members export (a phone column under another name)
advisors_path = ""  # advisors: team, active, daily_calls
ledger = ""  # SQLite file path or a URL without password; empty: $SEGKIT_LEDGER_URL
as_of = "2026-03-31"
campaign = "churn"
care = True  # also the care list (birthdays, holiday greetings)
vip_path = ""  # member_id and vip of every member (the alerts' member_rhythms.csv, rfm.csv): VIPs' greetings
settings_path = ""  # contact settings YAML: window_days, max_per_30_days, advisor_daily_calls, vip, ...
demo_members = 3000
language = ""  # of the call sheet and this report: zh-CN or en; empty: the contact settings' (default zh-CN)
output_dir = "../outputs/call_list"

# %%
import segkit
from segkit import plots
from segkit.callcenter import ContactSettings, Ledger, daily_capacity, retention_summary
from segkit.io import write_table
from segkit.jobs import checked_parameters, demo_inputs
from segkit.settings import resolve_settings

globals().update(checked_parameters("call_list", globals()))
settings = resolve_settings(ContactSettings, settings_path, language=language)
segkit.use_language(settings.language)
if alerts_path is None:  # the demo: a gas world and its alerts; its ledger starts anew with the world
    demo = demo_inputs("gas", demo_members, as_of, output_dir)
    members_path, advisors_path = demo["members"], demo["advisors"]
    demo_run = segkit.churn_alerts(segkit.load_transactions(demo["transactions"], as_of=as_of).table, as_of,
                                   segkit.load_members(members_path).table,
                                   {"purchase_noun": "refill", "purchase_verb": "refills"})
    alerts_path, vip_path = demo_run.write(output_dir / "demo_alerts")
    if ledger is None:
        ledger = output_dir / "demo_ledger.sqlite"
        ledger.unlink(missing_ok=True)
        Ledger(ledger, create=True)
ledger = Ledger(ledger)  # an existing ledger: `segkit ledger init` makes a new one on purpose
plots.notebook_mode()
print(ledger)

# %% [markdown]
# ## Inputs

# %%
members_load = segkit.load_members(members_path, members_mapping_path)
members = members_load.table
advisors_load = segkit.load_advisors(advisors_path) if advisors_path else None
advisors = advisors_load.table if advisors_load is not None else None
unmapped = members_load.report.ignored_columns  # named in the error if no member to call has a phone
print(members_load.report)
if advisors_load is not None:
    print(advisors_load.report)

# %% [markdown]
# ## The call list

# %%
export = segkit.export_calls(alerts_path, members, as_of, ledger, output_dir / "calls", campaign, advisors, settings,
                             unmapped_columns=unmapped)
display(export)  # noqa: F821 (IPython)
segkit.show_table(export.masked().head(15))

# %% [markdown]
# Why candidates were held back. `window` and `monthly_cap` are the pacing rules at work:
# these members were called recently, by this campaign or another.

# %%
charts = {}
if len(export.held_back):
    charts["held_back"] = plots.held_back_chart(export.held_back)
    display(charts["held_back"])  # noqa: F821 (IPython)
segkit.show_table(export.held_back.head(10))

# %% [markdown]
# Each advisor's calls today against their daily capacity; what does not fit goes to a queue,
# VIPs first.

# %%
charts["advisor_load"] = plots.advisor_load_chart(export.call_list, daily_capacity(advisors, settings))
charts["advisor_load"]

# %% [markdown]
# ## Care calls: birthdays and holiday greetings
#
# Through the same pacing and ledger: a member already called today is not called twice.

# %%
care_export = None
if care:
    care_export = segkit.care_calls(members, as_of, ledger, output_dir / "care", vip_path, advisors=advisors,
                                    settings=settings, unmapped_columns=unmapped)
    display(care_export)  # noqa: F821
    segkit.show_table(care_export.masked().head(10))

# %% [markdown]
# ## What became of earlier calls
#
# Agents fill in the outcome columns of the call sheet (`calls/call_list.xlsx`: one sheet per
# advisor and queue, in the call center's language) and it comes back with
# `segkit outcomes --file calls/call_list.xlsx --ledger ...`: "asked not to be called" joins
# do-not-call for good, "no answer" is tried again after the window.

# %%
summary = retention_summary(ledger, through=as_of)  # as the ledger stood that day: a re-run says the same
if len(summary):
    charts["outcomes"] = plots.retention_chart(summary)
    display(charts["outcomes"])  # noqa: F821
segkit.show_table(summary)

# %% [markdown]
# ## Output files
#
# `calls/` and `care/` hold `call_list.csv`, `call_list.xlsx` (names and phones: for the call center
# only) and `held_back.csv`.

# %%
outputs = segkit.record_outputs(output_dir, [*export.files, *(care_export.files if care_export else []),
           write_table(summary, output_dir / "retention_summary.csv"),
           members_load.write_rejects(output_dir / "members_rejects.csv"),
           *([advisors_load.write_rejects(output_dir / "advisors_rejects.csv")] if advisors_load is not None else []),
           *plots.save_charts(charts, output_dir / "charts")])
print("\n".join(str(path) for path in outputs))
