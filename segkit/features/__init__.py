"""Features: per-member tables computed once and shared by every model."""
from .member import (
    FEATURE_COLUMNS, connect, daily_expr, is_purchase, member_features, member_features_expr, purchase_occasions,
)

__all__ = ["FEATURE_COLUMNS", "connect", "daily_expr", "is_purchase", "member_features", "member_features_expr", "purchase_occasions"]
