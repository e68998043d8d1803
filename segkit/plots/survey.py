"""Charts of the benefit survey: liking, cost against budget, Plackett-Luce worths, and the two methods' agreement."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

STATUS_COLOURS = {"kept": "#2ca02c", "dropped_liking": "#d62728", "dropped_cost": "#ff7f0e", "not_screened": "#7f7f7f"}


def liking_chart(ranking: pd.DataFrame, like_below: float = 3.0) -> go.Figure:
    """Stage 1: mean liking per benefit with its confidence interval, coloured by the outcome."""
    shown = ranking.sort_values("liking_mean")
    fig = go.Figure()
    for status, rows in shown.groupby("status", sort=False):
        fig.add_trace(
            go.Scatter(
                x=rows["liking_mean"],
                y=rows["benefit"],
                mode="markers",
                name=status,
                marker=dict(color=STATUS_COLOURS.get(status), size=10),
                error_x=dict(
                    type="data",
                    symmetric=False,
                    array=rows["liking_high"] - rows["liking_mean"],
                    arrayminus=rows["liking_mean"] - rows["liking_low"],
                ),
                customdata=rows[["dislike_share", "screened_by"]],
                hovertemplate="%{y}: %{x:.2f}; %{customdata[0]:.0%} dislike; n=%{customdata[1]}<extra></extra>",
            )
        )
    fig.add_vline(x=like_below, line_dash="dash", annotation_text=f"drop below {like_below:g}")
    fig.update_layout(
        title="Stage 1: how much members like each candidate (1-5, with 95% interval)",
        xaxis_title="mean liking",
        xaxis_range=[1, 5],
        yaxis_title="",
        height=200 + 28 * len(shown),
    )
    return fig


def cost_chart(ranking: pd.DataFrame, budget: float, max_budget_share: float) -> go.Figure:
    """Stage 2: cost per member per year against the most one benefit may take from the budget."""
    shown = ranking.sort_values("cost_per_member")
    fig = px.bar(
        shown,
        x="cost_per_member",
        y="benefit",
        color="status",
        orientation="h",
        color_discrete_map=STATUS_COLOURS,
        title="Stage 2: cost per member per year against the budget",
    )
    fig.add_vline(
        x=max_budget_share * budget,
        line_dash="dash",
        annotation_text=f"{max_budget_share:.0%} of the {budget:g} budget",
    )
    fig.update_layout(
        xaxis_title="direct + delivery cost per member per year", yaxis_title="", height=200 + 28 * len(shown)
    )
    return fig


def worth_chart(ranking: pd.DataFrame) -> go.Figure:
    """Stage 3: Plackett-Luce worths of the kept benefits with bootstrap intervals, best at the top."""
    kept = ranking.loc[ranking["pl_worth"].notna()].sort_values("pl_worth")
    fig = go.Figure(
        go.Scatter(
            x=kept["pl_worth"],
            y=kept["benefit"],
            mode="markers",
            marker=dict(size=10, color="#1f77b4"),
            error_x=dict(
                type="data",
                symmetric=False,
                array=kept["pl_worth_high"] - kept["pl_worth"],
                arrayminus=kept["pl_worth"] - kept["pl_worth_low"],
            ),
            hovertemplate="%{y}: worth %{x:.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Stage 3: Plackett-Luce worths (log scale, 95% bootstrap interval)",
        xaxis_title="worth (0 = average benefit)",
        yaxis_title="",
        height=200 + 32 * len(kept),
    )
    return fig


def agreement_chart(ranking: pd.DataFrame) -> go.Figure:
    """Stage 3: share of preference by ranking (Plackett-Luce) against by points (constant-sum)."""
    kept = ranking.loc[ranking["pl_share"].notna() & ranking["cs_share"].notna()]
    fig = px.scatter(
        kept,
        x="cs_share",
        y="pl_share",
        text="final_rank",
        hover_name="benefit",
        title="Ranking method against constant-sum method (labels: final rank)",
    )
    top = float(max(kept["cs_share"].max(), kept["pl_share"].max(), 0.01)) * 1.1
    fig.add_trace(
        go.Scatter(
            x=[0, top], y=[0, top], mode="lines", line=dict(dash="dot", color="grey"), name="equal", hoverinfo="skip"
        )
    )
    fig.update_traces(textposition="top center", selector=dict(mode="markers+text"))
    fig.update_layout(
        xaxis_title="constant-sum share of points",
        yaxis_title="Plackett-Luce share (chosen first)",
        xaxis_tickformat=".0%",
        yaxis_tickformat=".0%",
    )
    return fig


def survey_charts(result) -> dict[str, go.Figure]:
    """The survey's four charts (``SurveyResult``), by file name: what ``segkit survey`` and the notebook save."""
    table, settings = result.ranking, result.settings
    return {
        "liking": liking_chart(table, settings.like_below),
        "cost": cost_chart(table, settings.budget, settings.max_budget_share),
        "worths": worth_chart(table),
        "agreement": agreement_chart(table),
    }
