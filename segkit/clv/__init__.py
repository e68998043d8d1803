"""Customer value: buy-till-you-die models (BG/NBD, Pareto/NBD, MBG/CNBD-k) with Gamma-Gamma spend,
the Wheat-Morrison regularity estimate, and the summary they need (a query over transactions: it lives in
``segkit.features.btyd`` and is re-exported here)."""

from ..features.btyd import btyd_summary
from .models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value
from .regularity import MBGCNBDModel, wheat_morrison
from .value import CustomerValue, ValueSettings, customer_value, value_table

__all__ = [
    "BetaGeoModel",
    "CustomerValue",
    "GammaGammaModel",
    "MBGCNBDModel",
    "ParetoNBDModel",
    "btyd_summary",
    "customer_lifetime_value",
    "customer_value",
    "ValueSettings",
    "value_table",
    "wheat_morrison",
]
