"""Charts of the call list: why members were held back, each advisor's calls against capacity, outcomes."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ..callcenter.outcomes import OUTCOMES
from ..callcenter.pacing import HOLD_RULES
from ..privacy import mask_mobiles_in


def held_back_chart(held_back: pd.DataFrame) -> go.Figure:
    """How many candidates each pacing rule held back, by campaign."""
    counts = held_back.groupby(["rule", "campaign"]).size().rename("members").reset_index()
    fig = px.bar(
        counts,
        y="rule",
        x="members",
        color="campaign",
        orientation="h",
        category_orders={"rule": HOLD_RULES},
        title="Held back, and why",
    )
    fig.update_layout(yaxis_title="pacing rule", xaxis_title="members held back")
    return fig


def advisor_load_chart(call_list: pd.DataFrame, capacity: pd.Series | None = None) -> go.Figure:
    """Calls per advisor (VIP and other) against their daily capacity, and what overflowed to each queue. An
    advisor id that is a mobile number is masked (``mask_mobiles_in``): the chart goes into reports."""
    to = call_list["call_by"].where(call_list["call_by"] != "queue", "queue: " + call_list["queue"].astype(str))
    rows = call_list.assign(
        to=to.astype(str).map(mask_mobiles_in),
        kind=call_list["vip"].map({True: "VIP", False: "other"}),
    )
    counts = rows.groupby(["to", "kind"]).size().rename("calls").reset_index()
    fig = px.bar(
        counts,
        x="to",
        y="calls",
        color="kind",
        color_discrete_map={"VIP": "#d62728", "other": "#1f77b4"},
        title="Today's calls per advisor, and the overflow to queues",
    )
    if capacity is not None and len(capacity):
        fig.add_trace(
            go.Scatter(
                x=capacity.index.astype(str).map(mask_mobiles_in),
                y=capacity.to_numpy(),
                mode="markers",
                marker_symbol="line-ew-open",
                marker_size=30,
                marker_line_width=3,
                marker_color="black",
                name="daily capacity",
            )
        )
    fig.update_layout(xaxis_title="", yaxis_title="calls", barmode="stack", xaxis_categoryorder="category ascending")
    return fig


def retention_chart(summary: pd.DataFrame) -> go.Figure:
    """The latest outcome of every listed call, per campaign (``retention_summary``)."""
    long = summary.melt(
        id_vars="campaign", value_vars=[*OUTCOMES, "no_outcome_yet"], var_name="outcome", value_name="calls"
    )
    fig = px.bar(long, x="campaign", y="calls", color="outcome", title="What became of the calls")
    fig.update_layout(barmode="stack", yaxis_title="calls listed")
    return fig
