"""The chart of ``segkit effect``: what the calls changed, with how sure we are."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..messages import catalogue


def uplift_chart(table: pd.DataFrame, window_days: int = 30, language: str | None = None) -> go.Figure:
    """The uplift of every campaign and segment (``CampaignEffect.table``) in percentage points with its 95 %
    interval, one colour per campaign, in the table's order; the dashed line at zero is no effect. Rows
    without both arms are left out."""
    texts = catalogue(language)
    words = texts.section("effect.chart")
    rows = table.loc[table["uplift"].notna()]
    campaign = _campaign_names(rows["campaign"], texts)
    labels = campaign + " · " + rows["segment"].replace({"all": words["all_members"]})
    fig = go.Figure()
    for name, group in rows.groupby(campaign, sort=False):
        points = 100 * group[["uplift", "uplift_low", "uplift_high"]]
        fig.add_trace(
            go.Scatter(
                x=points["uplift"],
                y=labels[group.index],
                mode="markers",
                name=name,
                marker=dict(size=9),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=points["uplift_high"] - points["uplift"],
                    arrayminus=points["uplift"] - points["uplift_low"],
                ),
                customdata=group[["called", "control", "uplift_low", "uplift_high"]].assign(
                    uplift_low=points["uplift_low"], uplift_high=points["uplift_high"]
                ),
                hovertemplate=(
                    f"%{{y}}: %{{x:+.1f}} (%{{customdata[2]:+.1f}} .. %{{customdata[3]:+.1f}}); "
                    f"{words['called']} %{{customdata[0]:,}}, {words['control']} %{{customdata[1]:,}}"
                    "<extra></extra>"
                ),
            )
        )
    fig.add_vline(x=0, line_dash="dash", line_color="grey")
    fig.update_layout(
        title=texts.text("effect.chart.title", window=window_days),
        xaxis_title=words["axis"],
        yaxis=dict(title="", categoryorder="array", categoryarray=list(labels), autorange="reversed"),
        height=220 + 24 * len(rows),
    )
    return fig


def uplift_by_month_chart(table: pd.DataFrame, window_days: int = 30, language: str | None = None) -> go.Figure:
    """The uplift of every campaign by the month of its list days (the ``month:YYYY-MM`` rows of
    ``CampaignEffect.table``) in percentage points with its 95 % interval, one line per campaign; the dashed line
    at zero is no effect. Months without both arms are left out."""
    texts = catalogue(language)
    words = texts.section("effect.chart")
    rows = table.loc[table["segment"].str.startswith("month:") & table["uplift"].notna()]
    rows = rows.assign(month=rows["segment"].str.removeprefix("month:")).sort_values("month", kind="stable")
    campaign = _campaign_names(rows["campaign"], texts)
    fig = go.Figure()
    for name, group in rows.groupby(campaign, sort=False):
        points = 100 * group[["uplift", "uplift_low", "uplift_high"]]
        fig.add_trace(
            go.Scatter(
                x=group["month"],
                y=points["uplift"],
                mode="lines+markers",
                name=name,
                marker=dict(size=9),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=points["uplift_high"] - points["uplift"],
                    arrayminus=points["uplift"] - points["uplift_low"],
                ),
                customdata=group[["called", "control"]].assign(low=points["uplift_low"], high=points["uplift_high"]),
                hovertemplate=(
                    f"{name} %{{x}}: %{{y:+.1f}} (%{{customdata[2]:+.1f}} .. %{{customdata[3]:+.1f}}); "
                    f"{words['called']} %{{customdata[0]:,}}, {words['control']} %{{customdata[1]:,}}"
                    "<extra></extra>"
                ),
            )
        )
    fig.add_hline(y=0, line_dash="dash", line_color="grey")
    fig.update_layout(
        title=texts.text("effect.chart.month_title", window=window_days),
        xaxis=dict(title=words["month_axis"], type="category", categoryorder="category ascending"),
        yaxis_title=words["axis"],
        height=420,
    )
    return fig


def _campaign_names(campaigns: pd.Series, texts) -> pd.Series:
    """Each campaign as people call it (the catalogue's campaign names; ``all``: all campaigns)."""
    names = texts.section("campaigns")
    return campaigns.map(lambda name: texts.text("effect.all_campaigns") if name == "all" else names.get(name, name))
