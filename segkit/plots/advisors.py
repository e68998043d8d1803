"""Charts of an advisor assignment: books against capacity, grade against level, moves between teams."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def book_load_chart(summary: pd.DataFrame) -> go.Figure:
    """Each advisor's book after the assignment (kept + gained), with their capacity range."""
    shown = summary.sort_values(["team", "advisor_id"])
    label = shown["advisor_id"] + " (" + shown["team"].astype(str) + ", L" + shown["level"].astype(str) + ")"
    fig = go.Figure(
        [
            go.Bar(x=label, y=shown["kept"], name="kept", marker_color="#1f77b4"),
            go.Bar(x=label, y=shown["gained"], name="gained", marker_color="#ff7f0e"),
            go.Scatter(
                x=label,
                y=(shown["capacity_min"] + shown["capacity_max"]) / 2,
                mode="markers",
                name="capacity",
                marker=dict(color="black", symbol="line-ew-open", size=14),
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=(shown["capacity_max"] - shown["capacity_min"]) / 2,
                    arrayminus=(shown["capacity_max"] - shown["capacity_min"]) / 2,
                    color="black",
                ),
            ),
        ]
    )
    fig.update_layout(
        barmode="stack",
        title="Books after the assignment, against each advisor's capacity",
        yaxis_title="members",
        xaxis_tickangle=-45,
    )
    return fig


def grade_level_heatmap(table: pd.DataFrame) -> go.Figure:
    """Members by their value grade (rows) and their advisor's level (columns): a good match is diagonal."""
    counts = pd.crosstab(table["grade"], table["level"])
    fig = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=[f"level {c}" for c in counts.columns],
            y=[f"grade {r}" for r in counts.index],
            colorscale="Blues",
            text=counts.to_numpy(),
            texttemplate="%{text:,}",
            hovertemplate="%{y}, %{x}: %{z:,} members<extra></extra>",
        )
    )
    fig.update_layout(
        title="Member grade against advisor level", xaxis_title="advisor level", yaxis_title="member value grade"
    )
    return fig


def team_moves_sankey(table: pd.DataFrame) -> go.Figure:
    """Members from their previous team (left) to their team now (right); unchanged teams included."""
    flows = (
        table.assign(previous_team=table["previous_team"].replace("", "(no advisor)"))
        .groupby(["previous_team", "team"])
        .size()
        .rename("members")
        .reset_index()
    )
    left = sorted(flows["previous_team"].unique())
    right = sorted(flows["team"].unique())
    labels = [f"{t} (before)" for t in left] + [f"{t} (now)" for t in right]
    fig = go.Figure(
        go.Sankey(
            node=dict(label=labels, pad=15),
            link=dict(
                source=flows["previous_team"].map({t: i for i, t in enumerate(left)}),
                target=flows["team"].map({t: len(left) + i for i, t in enumerate(right)}),
                value=flows["members"],
            ),
        )
    )
    fig.update_layout(title="Members moving between teams")
    return fig


def book_charts(plan) -> dict[str, go.Figure]:
    """An assignment's three charts (``BookPlan``), by file name: what ``segkit assign`` and the notebook save."""
    table = plan.assignment.table
    return {
        "book_load": book_load_chart(plan.assignment.advisors),
        "grade_by_level": grade_level_heatmap(table),
        "team_moves": team_moves_sankey(table),
    }
