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
# # Member segmentation
#
# Who the members are: RFM segments with a recommended action, how concentrated
# value is and who the VIPs are, where each member stands in their life with the
# business (relative to their own purchase rhythm), how cohorts keep buying,
# tier changes this month, and how sales split into first and repeat purchases.
#
# With no `transactions_path`, the notebook generates a small supplements world to show itself.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo world
members_path = ""
mapping_path = ""  # YAML mapping of the transactions export's columns
as_of = "2026-03-31"
settings_path = ""  # segmentation settings YAML (rfm, vip, lifecycle, tiers); empty: defaults
levels = 5  # RFM score levels: 3, 4 or 5
ties = "rank"  # rank | quantile
segments_path = ""  # segment table YAML; empty: the 11 well-known segments
snapshot_months = 6  # months of lifecycle snapshots for transitions
demo_members = 3000
output_dir = "../outputs/segmentation"

# %%
import segkit
from segkit import plots
from segkit.jobs import check_choice, check_date, check_file, check_output_dir, check_positive, demo_inputs

as_of = check_date("as_of", as_of)
output_dir = check_output_dir("output_dir", output_dir)
transactions_path = check_file("transactions_path", transactions_path, optional=True)
members_path = check_file("members_path", members_path, optional=True)
mapping_path = check_file("mapping_path", mapping_path, optional=True)
settings_path = check_file("settings_path", settings_path, optional=True)
segments_path = check_file("segments_path", segments_path, optional=True)
levels = check_choice("levels", levels, [3, 4, 5])
ties = check_choice("ties", ties, ["rank", "quantile"])
snapshot_months = check_positive("snapshot_months", snapshot_months)
settings = segkit.segment.SegmentationSettings.from_yaml(settings_path)
settings.rfm.update(levels=levels, ties=ties, **({"segments": str(segments_path)} if segments_path else {}))
if transactions_path is None:
    transactions_path, members_path = demo_inputs("supplements", demo_members, as_of, output_dir)
plots.notebook_mode()

# %% [markdown]
# ## Data

# %%
transactions = segkit.load_transactions(transactions_path, config=mapping_path, as_of=as_of)
transactions.write_rejects(output_dir / "transactions_rejects.csv")
members = segkit.load_members(members_path) if members_path else None
print(transactions.report)
features = segkit.member_features(transactions.table, as_of, members=None if members is None else members.table)

# %% [markdown]
# ## RFM segments

# %%
segmentation = segkit.segment.segment_members(
    features, transactions.table, as_of, None if members is None else members.table, settings
)
print(segmentation)
segmentation.summary.round(3)

# %%
charts = {
    "rfm_heatmap": plots.rfm_heatmap(segmentation.rfm),
    "segments": plots.segment_share_chart(segmentation.summary),
}
charts["rfm_heatmap"]

# %%
charts["segments"]

# %% [markdown]
# ## Value concentration and VIPs

# %%
from segkit.segment import gini, pareto_table

print(f"Gini of net spend: {gini(features['monetary']):.2f}; VIPs: {int(segmentation.table['vip'].sum()):,}")
pareto_table(features["monetary"]).round(3)

# %%
charts["lorenz"] = plots.lorenz_chart(features["monetary"])
charts["lorenz"]

# %% [markdown]
# ## Lifecycle stages, on each member's own rhythm

# %%
from segkit.segment import month_ends, stage_snapshots, transition_matrix

snapshots = stage_snapshots(
    transactions.table, month_ends(as_of, snapshot_months + 1),
    members=None if members is None else members.table, rules=settings.lifecycle,
)
transitions = transition_matrix(snapshots)
print(segmentation.table["stage"].value_counts().to_string())
transitions.round(2)

# %%
charts["stages"] = plots.stage_sankey(snapshots[snapshots["date"] >= month_ends(as_of, 4)[0]])
charts["stages"]

# %% [markdown]
# ## Cohorts

# %%
from segkit.features import purchase_occasions
from segkit.segment import cohort_retention

occasions = purchase_occasions(transactions.table, as_of)
retention = cohort_retention(occasions, as_of)
charts["cohorts"] = plots.cohort_heatmap(retention.iloc[-24:, :13])
charts["cohorts"]

# %% [markdown]
# ## Tiers: changes this month

# %%
from segkit.segment import tier_changes

changes = tier_changes(segmentation.tiers)
print(changes["change"].value_counts().to_string())
changes.head(20)

# %% [markdown]
# ## Sales: first against repeat purchases

# %%
from segkit.segment import gross_to_net, sales_split

split = sales_split(occasions)
charts["sales_split"] = plots.sales_split_chart(split.tail(24))
charts["sales_split"]

# %%
if transactions.table["status"].notna().any():
    funnel = gross_to_net(transactions.table)
    charts["funnel"] = plots.funnel_chart(funnel)
    display(funnel.round(3))  # noqa: F821 (IPython)
    display(charts["funnel"])  # noqa: F821

# %% [markdown]
# ## Output files

# %%
from segkit.io import write_table

outputs = [
    write_table(segmentation.table, output_dir / "rfm.csv"),
    write_table(segmentation.summary, output_dir / "segment_summary.csv"),
    write_table(changes, output_dir / "tier_changes.csv"),
    write_table(transitions.reset_index(), output_dir / "stage_transitions.csv"),
    write_table(retention.reset_index(), output_dir / "cohort_retention.csv"),
    write_table(split, output_dir / "sales_split.csv"),
    *plots.save_charts(charts, output_dir / "charts"),
]
print("\n".join(str(p) for p in outputs))
