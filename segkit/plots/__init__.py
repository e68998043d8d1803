"""plotly figures, one function per chart."""
import plotly.io as pio

from .features import load_report_chart, purchase_rhythm_chart, recency_frequency_chart
from .segments import lorenz_chart, rfm_heatmap, segment_share_chart


def notebook_mode() -> None:
    """Show figures in JupyterLab and embed plotly.js in the saved notebook, so that
    HTML made from it (``jupyter nbconvert --to html``) draws the charts offline."""
    pio.renderers.default = "plotly_mimetype+notebook"


__all__ = ["load_report_chart", "lorenz_chart", "notebook_mode", "purchase_rhythm_chart",
           "recency_frequency_chart", "rfm_heatmap", "segment_share_chart"]
