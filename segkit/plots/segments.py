"""Charts of RFM segments and value concentration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ..segment import RFMResult, gini, lorenz_curve


def rfm_heatmap(result: RFMResult) -> go.Figure:
    """Mean net spend by recency score (rows) and frequency score (columns), with member counts."""
    scored = result.table.dropna(subset=["r_score", "f_score"])
    grid = scored.groupby(["r_score", "f_score"])["monetary"].agg(["mean", "size"]).reset_index()
    mean = grid.pivot(index="r_score", columns="f_score", values="mean")
    count = grid.pivot(index="r_score", columns="f_score", values="size").reindex_like(mean)
    fig = px.imshow(mean, text_auto=".0f", aspect="auto", color_continuous_scale="Blues",
                    labels={"x": "frequency score", "y": "recency score", "color": "mean spend"},
                    title="Mean net spend by recency and frequency score")
    fig.update_traces(customdata=count.to_numpy(), hovertemplate="R %{y}, F %{x}<br>mean spend %{z:.0f}"
                                                                 "<br>%{customdata} members<extra></extra>")
    fig.update_yaxes(autorange=True)   # best recency (5) at the top
    return fig


def segment_share_chart(summary: pd.DataFrame) -> go.Figure:
    """Share of members against share of revenue, per segment: who holds the value."""
    long = summary.melt(id_vars="segment", value_vars=["member_share", "revenue_share"],
                        var_name="share of", value_name="share")
    long["share of"] = long["share of"].map({"member_share": "members", "revenue_share": "revenue"})
    fig = px.bar(long, x="share", y="segment", color="share of", barmode="group", orientation="h",
                 title="Members and revenue by segment")
    fig.update_layout(xaxis_tickformat=".0%", yaxis={"categoryorder": "array",
                                                     "categoryarray": summary["segment"].tolist()[::-1]})
    return fig


def lorenz_chart(values) -> go.Figure:
    """Lorenz curve of member value, with the Gini coefficient in the title."""
    curve = lorenz_curve(values)
    if len(curve) > 2001:      # a million members need not be a million points in a report
        curve = curve.iloc[np.unique(np.linspace(0, len(curve) - 1, 2001).astype(int))]
    fig = go.Figure([
        go.Scatter(x=curve["member_share"], y=curve["value_share"], name="members, poorest first", mode="lines"),
        go.Scatter(x=[0, 1], y=[0, 1], name="equal value", mode="lines", line={"dash": "dot", "color": "grey"}),
    ])
    fig.update_layout(title=f"Value concentration (Gini {gini(values):.2f})", xaxis_title="share of members",
                      yaxis_title="share of value", xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    return fig
