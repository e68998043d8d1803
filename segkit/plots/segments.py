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
    fig = px.imshow(
        mean,
        text_auto=".0f",
        aspect="auto",
        color_continuous_scale="Blues",
        labels={"x": "frequency score", "y": "recency score", "color": "mean spend"},
        title="Mean net spend by recency and frequency score",
    )
    fig.update_traces(
        customdata=count.to_numpy(),
        hovertemplate="R %{y}, F %{x}<br>mean spend %{z:.0f}<br>%{customdata} members<extra></extra>",
    )
    fig.update_yaxes(autorange=True)  # best recency (5) at the top
    return fig


def segment_share_chart(summary: pd.DataFrame) -> go.Figure:
    """Share of members against share of revenue, per segment: who holds the value."""
    long = summary.melt(
        id_vars="segment", value_vars=["member_share", "revenue_share"], var_name="share of", value_name="share"
    )
    long["share of"] = long["share of"].map({"member_share": "members", "revenue_share": "revenue"})
    fig = px.bar(
        long,
        x="share",
        y="segment",
        color="share of",
        barmode="group",
        orientation="h",
        title="Members and revenue by segment",
    )
    fig.update_layout(
        xaxis_tickformat=".0%", yaxis={"categoryorder": "array", "categoryarray": summary["segment"].tolist()[::-1]}
    )
    return fig


def lorenz_chart(values) -> go.Figure:
    """Lorenz curve of member value, with the Gini coefficient in the title."""
    curve = lorenz_curve(values)
    if len(curve) > 2001:  # a million members need not be a million points in a report
        curve = curve.iloc[np.unique(np.linspace(0, len(curve) - 1, 2001).astype(int))]
    fig = go.Figure(
        [
            go.Scatter(x=curve["member_share"], y=curve["value_share"], name="members, poorest first", mode="lines"),
            go.Scatter(x=[0, 1], y=[0, 1], name="equal value", mode="lines", line={"dash": "dot", "color": "grey"}),
        ]
    )
    fig.update_layout(
        title=f"Value concentration (Gini {gini(values):.2f})",
        xaxis_title="share of members",
        yaxis_title="share of value",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
    )
    return fig


# One colour per lifecycle stage, the same in every month and every run (a reader learns "lost is red" once).
STAGE_COLOURS = {
    "prospect": "#9e9e9e",
    "new": "#64b5f6",
    "active": "#2e7d32",
    "reactivated": "#26a69a",
    "at risk": "#ffa726",
    "dormant": "#8d6e63",
    "lost": "#d32f2f",
}


def stage_sankey(snapshots: pd.DataFrame) -> go.Figure:
    """Members flowing between lifecycle stages from one snapshot to the next; each stage in its colour
    (``STAGE_COLOURS``), each flow in a pale shade of the stage it leaves."""
    from ..segment import STAGES
    from ..segment.lifecycle import stage_flows

    dates = sorted(snapshots["date"].unique())
    labels, colours, index = [], [], {}
    for date in dates:
        for stage in STAGES:
            index[(date, stage)] = len(labels)
            labels.append(f"{stage} ({pd.Timestamp(date):%Y-%m})")
            colours.append(STAGE_COLOURS[stage])
    sources, targets, values = [], [], []
    for before, after, counts in stage_flows(snapshots):
        for i, j in zip(*np.nonzero(counts)):
            sources.append(index[(before, STAGES[i])])
            targets.append(index[(after, STAGES[j])])
            values.append(int(counts[i, j]))
    fig = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 12, "color": colours},
            link={
                "source": sources,
                "target": targets,
                "value": values,
                "color": [_pale(colours[source]) for source in sources],
            },
        )
    )
    fig.update_layout(title="Lifecycle stages month to month", height=600)
    return fig


def _pale(colour: str, alpha: float = 0.35) -> str:
    """``#rrggbb`` as a translucent ``rgba`` (flows under their nodes)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def cohort_heatmap(retention: pd.DataFrame) -> go.Figure:
    """Share of each first-purchase cohort buying k months later."""
    fig = px.imshow(
        retention,
        text_auto=".0%",
        aspect="auto",
        color_continuous_scale="Greens",
        zmin=0,
        zmax=1,
        labels={"x": "months after first purchase", "y": "first-purchase cohort", "color": "buying"},
        title="Cohort retention",
    )
    fig.update_layout(height=max(400, 22 * len(retention)))
    fig.update_yaxes(type="category")
    return fig


def sales_split_chart(split: pd.DataFrame) -> go.Figure:
    """First-purchase and repeat sales per period, with the repeat:first ratio (9:1 is healthy)."""
    fig = go.Figure(
        [
            go.Bar(x=split["period"], y=split["first_purchase_sales"], name="first purchases"),
            go.Bar(x=split["period"], y=split["repeat_sales"], name="repeat purchases"),
            go.Scatter(
                x=split["period"],
                y=split["repeat_to_first"],
                name="repeat : first",
                yaxis="y2",
                mode="lines+markers",
                text=split["band"],
                hovertemplate="%{y:.1f} : 1 (%{text})<extra></extra>",
            ),
        ]
    )
    fig.add_hline(y=9, line_dash="dot", annotation_text="9:1 healthy", yref="y2")
    fig.update_layout(
        barmode="stack",
        title="First-purchase and repeat sales",
        yaxis={"title": "sales"},
        yaxis2={
            "title": "repeat : first",
            "overlaying": "y",
            "side": "right",
            "tickformat": ".1f",
            "rangemode": "tozero",
        },
    )
    return fig


def funnel_chart(funnel: pd.DataFrame) -> go.Figure:
    """Gross orders to net sales, with the share kept at each step."""
    fig = go.Figure(go.Funnel(y=funnel["step"], x=funnel["amount"], textinfo="value+percent initial"))
    fig.update_layout(title="Gross orders to net sales")
    return fig
