"""Evaluation: backtests of the churn methods against a generated world's truth or a holdout period.

The only package that reads a world's truth (``read_truth``): the product
learns from transactions alone, and is scored here against what really happened.
"""

from .backtest import BACKTEST_COLUMNS, ChurnBacktest, alert_scores, backtest_churn, backtest_summary
from .methods import METHODS
from .truth import read_truth, switch_labels, truth_as_of

__all__ = [
    "BACKTEST_COLUMNS",
    "METHODS",
    "ChurnBacktest",
    "alert_scores",
    "backtest_churn",
    "backtest_summary",
    "read_truth",
    "switch_labels",
    "truth_as_of",
]
