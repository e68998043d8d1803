"""Charts of a load and of member features."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ..data import LoadReport


def load_report_chart(report: LoadReport) -> go.Figure:
    """Where every row read went: used, duplicates, and each reject reason."""
    parts = {
        "used": report.used,
        "duplicates": report.duplicates,
        **{f"rejected: {r}": n for r, n in report.reasons.items()},
    }
    frame = pd.DataFrame({"outcome": list(parts), "rows": list(parts.values())})
    nonzero = frame.loc[frame["rows"] > 0, "rows"]
    lopsided = len(nonzero) > 1 and nonzero.min() < nonzero.max() / 100  # a log axis keeps small bars visible
    fig = px.bar(
        frame,
        x="rows",
        y="outcome",
        orientation="h",
        text="rows",
        log_x=lopsided,
        title=f"{report.table}: {report.read:,} rows read",
    )
    fig.update_layout(yaxis={"categoryorder": "total ascending", "title": None}, height=200 + 30 * len(parts))
    return fig


def purchase_rhythm_chart(features: pd.DataFrame, max_days: int = 180) -> go.Figure:
    """Each member's median days between purchases: the rhythm the churn alerts build on."""
    rhythm = features.loc[features["gap_count"] >= 2, "gap_median"].clip(upper=max_days)
    fig = px.histogram(
        rhythm,
        nbins=60,
        labels={"value": "median days between purchases"},
        title=f"Purchase rhythm of {len(rhythm):,} members with 3+ purchases (capped at {max_days} days)",
    )
    fig.update_layout(showlegend=False, yaxis_title="members")
    return fig


def recency_frequency_chart(features: pd.DataFrame) -> go.Figure:
    """Members by days since last purchase and number of purchases (density)."""
    buyers = features[features["frequency"] > 0]
    fig = px.density_heatmap(
        buyers,
        x="recency_days",
        y="frequency",
        nbinsx=40,
        nbinsy=30,
        labels={"recency_days": "days since last purchase", "frequency": "purchase occasions"},
        title=f"Recency and frequency of {len(buyers):,} buyers",
    )
    return fig
