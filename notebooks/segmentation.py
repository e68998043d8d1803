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
# Settings come from `settings_path` (`data/samples/segmentation.yaml` lists them); a parameter not given
# takes the file's value, a parameter given wins over it. `segkit segment` runs the same workflow
# (`segkit.segment_members`). With no `transactions_path`, the notebook generates a small supplements world.

# %% tags=["parameters"]
transactions_path = ""  # CSV or Parquet; empty: generate a demo world
members_path = ""
mapping_path = ""  # column-mapping YAML of the transactions export
members_mapping_path = ""  # column-mapping YAML of the members export
as_of = "2026-03-31"
settings_path = ""  # segmentation settings YAML (rfm, vip, lifecycle, tiers); empty: defaults
levels = None  # RFM score levels: 3, 4 or 5 (None: from the settings)
ties = None  # rank | quantile (None: from the settings)
segments_path = ""  # segment table YAML; empty: from the settings (default: the 11 well-known segments)
snapshot_months = None  # months of lifecycle snapshots for transitions (None: from the settings)
demo_members = 3000
language = ""  # of this report's headings and tables: zh-CN or en; empty: zh-CN
output_dir = "../outputs/segmentation"

# %%
import segkit
from segkit import plots
from segkit.jobs import checked_parameters, demo_inputs
from segkit.segment import SegmentationSettings, gini, month_ends, pareto_table
from segkit.settings import resolve_settings

globals().update(checked_parameters("segmentation", globals()))
segkit.use_language(language)
settings = resolve_settings(SegmentationSettings, settings_path, snapshot_months=snapshot_months, rfm={
    "levels": levels, "ties": ties, "segments": str(segments_path) if segments_path else None})
if transactions_path is None:
    demo = demo_inputs("supplements", demo_members, as_of, output_dir)
    transactions_path, members_path = demo["transactions"], demo["members"]
plots.notebook_mode()

# %% [markdown]
# ## Data

# %%
transactions = segkit.load_transactions(transactions_path, mapping_path, as_of=as_of)
members = segkit.load_members(members_path, members_mapping_path) if members_path else None
print(transactions.report)
if members is not None:
    print(members.report)

# %% [markdown]
# ## RFM segments

# %%
segmentation = segkit.segment_members(transactions.table, as_of, None if members is None else members.table,
                                      settings)
segmentation

# %%
charts = {
    "rfm_heatmap": plots.rfm_heatmap(segmentation.rfm),
    "segments": plots.segment_share_chart(segmentation.segments),
}
charts["rfm_heatmap"]

# %%
charts["segments"]

# %% [markdown]
# ## Value concentration and VIPs

# %%
spend = segmentation.table["monetary"]
print(f"Gini of net spend: {gini(spend):.2f}; VIPs: {int(segmentation.table['vip'].sum()):,}")
segkit.show_table(pareto_table(spend))

# %%
charts["lorenz"] = plots.lorenz_chart(spend)
charts["lorenz"]

# %% [markdown]
# ## Lifecycle stages, on each member's own rhythm

# %%
segkit.show_table(segmentation.table["stage"].value_counts().rename_axis("stage").reset_index(name="members"))
segkit.show_table(segmentation.transitions, percent=True)

# %%
snapshots = segmentation.snapshots
charts["stages"] = plots.stage_sankey(snapshots[snapshots["date"] >= month_ends(as_of, 4)[0]])
charts["stages"]

# %% [markdown]
# ## Cohorts

# %%
charts["cohorts"] = plots.cohort_heatmap(segmentation.cohorts.iloc[-24:, :13])
charts["cohorts"]

# %% [markdown]
# ## Tiers: changes this month

# %%
segkit.show_table(segmentation.tier_changes["change"].value_counts().rename_axis("change").reset_index(name="members"))
segkit.show_table(segmentation.tier_changes.head(20))

# %% [markdown]
# ## Sales: first against repeat purchases

# %%
charts["sales_split"] = plots.sales_split_chart(segmentation.sales.tail(24))
charts["sales_split"]

# %%
if segmentation.funnel is not None:
    charts["funnel"] = plots.funnel_chart(segmentation.funnel)
    segkit.show_table(segmentation.funnel)
    display(charts["funnel"])  # noqa: F821 (IPython)

# %% [markdown]
# ## Output files

# %%
outputs = segkit.record_outputs(output_dir, [*segmentation.write(output_dir), transactions.write_rejects(output_dir / "transactions_rejects.csv"),
           *([members.write_rejects(output_dir / "members_rejects.csv")] if members is not None else []),
           *plots.save_charts(charts, output_dir / "charts")])
print("\n".join(str(path) for path in outputs))
