"""Customer value: buy-till-you-die models (BG/NBD, Pareto/NBD) with Gamma-Gamma spend, and the summary they need."""
from .models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value
from .summary import btyd_summary

__all__ = ["BetaGeoModel", "GammaGammaModel", "ParetoNBDModel", "btyd_summary", "customer_lifetime_value"]
