"""Features: every query over transactions, one module per concept, each run in the engine (DuckDB or Spark).

``occasions`` (what a purchase is), ``member`` (one row per member),
``gaps`` (the days between purchases), ``btyd`` (the buy-till-you-die
summary), ``spend`` (rolling spends for tiers, each buyer's value for alerts).
Each returns a pandas frame; everything downstream models and decides on those.
"""

from .btyd import btyd_summary
from .gaps import GapTable, gap_batches, gap_table, purchase_gaps
from .member import FEATURE_COLUMNS, member_features, member_features_expr
from .occasions import daily_expr, is_purchase, occasions_expr, purchase_occasions
from .spend import purchase_value, rolling_spends

__all__ = [
    "FEATURE_COLUMNS",
    "GapTable",
    "btyd_summary",
    "daily_expr",
    "gap_batches",
    "gap_table",
    "is_purchase",
    "member_features",
    "member_features_expr",
    "occasions_expr",
    "purchase_gaps",
    "purchase_occasions",
    "purchase_value",
    "rolling_spends",
]
