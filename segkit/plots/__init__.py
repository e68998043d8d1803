"""plotly figures, one function per chart."""

import plotly.io as pio

from .advisors import book_charts, book_load_chart, grade_level_heatmap, team_moves_sankey
from .callcenter import advisor_load_chart, held_back_chart, retention_chart
from .churn import alert_probability_chart, backtest_chart, overdue_chart, survival_by_group
from .effect import uplift_by_month_chart, uplift_chart
from .features import load_report_chart, purchase_rhythm_chart, recency_frequency_chart
from .segments import (
    cohort_heatmap,
    funnel_chart,
    lorenz_chart,
    rfm_heatmap,
    sales_split_chart,
    segment_share_chart,
    stage_sankey,
)
from .survey import agreement_chart, cost_chart, liking_chart, survey_charts, worth_chart


def notebook_mode() -> None:
    """Show figures in JupyterLab and embed plotly.js in the saved notebook, so that
    HTML made from it (``jupyter nbconvert --to html``) draws the charts offline."""
    pio.renderers.default = "plotly_mimetype+notebook"


def save_charts(figures: dict, folder) -> list:
    """Write each figure as ``folder/<name>.html``; plotly.js is written once beside them
    (``plotly.min.js``), so the charts open offline without repeating 3.5 MB in every file. The chart's
    element is named after the file, so the same figure always writes the same bytes."""
    from pathlib import Path

    from ..io import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in figures.items():
        with atomic_path(folder / f"{name}.html") as tmp:
            figure.write_html(tmp, include_plotlyjs="directory", full_html=True, div_id=name)
        paths.append(folder / f"{name}.html")
    return paths


__all__ = [
    "agreement_chart",
    "cost_chart",
    "liking_chart",
    "survey_charts",
    "worth_chart",
    "book_charts",
    "book_load_chart",
    "grade_level_heatmap",
    "team_moves_sankey",
    "advisor_load_chart",
    "held_back_chart",
    "retention_chart",
    "alert_probability_chart",
    "backtest_chart",
    "overdue_chart",
    "survival_by_group",
    "save_charts",
    "cohort_heatmap",
    "funnel_chart",
    "load_report_chart",
    "lorenz_chart",
    "notebook_mode",
    "purchase_rhythm_chart",
    "recency_frequency_chart",
    "rfm_heatmap",
    "sales_split_chart",
    "segment_share_chart",
    "stage_sankey",
    "uplift_by_month_chart",
    "uplift_chart",
]
