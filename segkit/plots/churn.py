"""Charts of purchase rhythms, overdue members and the alert backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ..features import GapTable, gap_batches

STATUS_COLOURS = {"alert": "#d62728", "late": "#ff7f0e", "not due": "#2ca02c"}


def survival_by_group(gaps: pd.DataFrame | GapTable, by: str = "household_size", max_days: int = 120) -> go.Figure:
    """Kaplan-Meier curves of the gaps between purchases per group: the share of members who have
    not bought again after so many days (open gaps are censored, not dropped). ``gaps``: a gap table
    (``purchase_gaps``), or a ``GapTable``, counted a range of members at a time."""
    from lifelines import KaplanMeierFitter

    if by not in gaps.columns:
        raise ValueError(f"the gap table has no {by!r} column; columns: {', '.join(gaps.columns)}")
    counts = pd.concat(
        [batch.dropna(subset=[by]).groupby([by, "days", "event"], observed=True).size() for batch in gap_batches(gaps)]
    )
    counts = counts.groupby(level=[0, 1, 2]).sum().reset_index(name="gaps")
    fig = go.Figure()
    timeline = np.arange(0, max_days + 1)
    for group, rows in counts.groupby(by, observed=True):
        fitter = KaplanMeierFitter().fit(rows["days"], rows["event"], timeline=timeline, weights=rows["gaps"])
        fig.add_trace(
            go.Scatter(
                x=timeline,
                y=fitter.survival_function_.iloc[:, 0],
                mode="lines",
                name=f"{group:g}" if isinstance(group, (int, float, np.number)) else str(group),
                hovertemplate="%{x} days: %{y:.0%} not yet bought again<extra>" + f"{by} {group}</extra>",
            )
        )
    fig.update_layout(
        title=f"Days between purchases by {by.replace('_', ' ')} (Kaplan-Meier)",
        xaxis_title="days since the last purchase",
        yaxis_title="not yet bought again",
        yaxis_tickformat=".0%",
        legend_title=by.replace("_", " "),
    )
    return fig


def overdue_chart(statuses: pd.DataFrame, clip_days: int = 120) -> go.Figure:
    """How far past their own expected date the members are, coloured by status."""
    shown = statuses.loc[statuses["status"].isin(list(STATUS_COLOURS))].copy()
    shown["days past expected"] = shown["days_overdue"].clip(-clip_days, clip_days)
    fig = px.histogram(
        shown,
        x="days past expected",
        color="status",
        nbins=2 * clip_days // 5,
        color_discrete_map=STATUS_COLOURS,
        category_orders={"status": list(STATUS_COLOURS)},
        title="Days past each member's own expected purchase date",
    )
    fig.update_layout(yaxis_title="members", bargap=0.05)
    fig.add_vline(x=0, line_dash="dot", line_color="grey")
    return fig


def alert_probability_chart(statuses: pd.DataFrame, threshold: float) -> go.Figure:
    """P(still a customer) against days overdue: alerts fall below the threshold line."""
    shown = statuses.loc[statuses["status"].isin(list(STATUS_COLOURS))]
    if len(shown) > 20_000:
        shown = shown.sample(20_000, random_state=0)
    fig = px.scatter(
        shown,
        x="days_overdue",
        y="p_active",
        color="status",
        opacity=0.5,
        color_discrete_map=STATUS_COLOURS,
        category_orders={"status": list(STATUS_COLOURS)},
        labels={"days_overdue": "days past expected", "p_active": "P(still a customer)"},
        title="Who is alerted: days late against the chance of still being a customer",
    )
    fig.add_hline(y=threshold, line_dash="dot", line_color="grey", annotation_text=f"threshold {threshold:g}")
    return fig


def backtest_chart(table: pd.DataFrame) -> go.Figure:
    """Precision, recall and F1 of each method of a backtest (``segkit.evaluation.backtest_churn``), averaged
    over the data sets and as-of dates."""
    scores = table.groupby("method", sort=False)[["precision", "recall", "f1"]].mean().reset_index()
    long = scores.melt(id_vars="method", var_name="score", value_name="value")
    fig = px.bar(
        long,
        x="method",
        y="value",
        color="score",
        barmode="group",
        text_auto=".2f",
        title="Churn methods against what really happened (mean over as-of dates)",
    )
    fig.update_layout(yaxis_range=[0, 1.05], yaxis_title="", xaxis_title="")
    return fig
