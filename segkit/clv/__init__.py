"""Customer value: buy-till-you-die models (BG/NBD, Pareto/NBD, MBG/CNBD-k) with Gamma-Gamma spend,
the Wheat-Morrison regularity estimate, and the summary they need."""
from .models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value
from .regularity import MBGCNBDModel, wheat_morrison
from .summary import btyd_summary
from .value import CustomerValue, customer_value

__all__ = ["BetaGeoModel", "CustomerValue", "GammaGammaModel", "MBGCNBDModel", "ParetoNBDModel", "btyd_summary",
           "customer_lifetime_value", "customer_value", "wheat_morrison"]
