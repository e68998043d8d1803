"""Features: per-member tables computed once and shared by every model."""
from .member import FEATURE_COLUMNS, connect, member_features, member_features_expr

__all__ = ["FEATURE_COLUMNS", "connect", "member_features", "member_features_expr"]
