"""segkit: member segmentation and churn for membership businesses run through a call center.

The flow is one way: data in (``segkit.data``: contract, loaders, rejects) ->
features (``segkit.features``: Ibis on DuckDB or Spark) -> models and
decisions -> exports. ``segkit.synth`` generates worlds with known truth.
"""
__version__ = "0.1.0"

from .data import ContractError, LoadConfig, load_advisors, load_members, load_table, load_transactions
from .features import member_features
from .synth import generate

__all__ = [
    "ContractError", "LoadConfig", "generate", "load_advisors", "load_members", "load_table",
    "load_transactions", "member_features",
]
