"""segkit: member segmentation and churn for membership businesses run through a call center.

The flow is one way: data in (``segkit.data``: contract, loaders, rejects) ->
features (``segkit.features``: Ibis on DuckDB or Spark) -> models and
decisions -> exports. ``segkit.synth`` generates worlds with known truth.

Each capability has one workflow, which the CLI, the notebooks and the
scheduled runs all call (``segkit.__all__`` lists them); each returns a
result with a one-line repr, ``summary()`` and ``write(out)``. Subpackages
(``segkit.churn``, ``segkit.clv``, ...) and workflows are imported on first
use, so ``import segkit`` stays fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

WORKFLOWS = {
    "load_transactions": "segkit.data",
    "member_features": "segkit.workflows",
    "segment_members": "segkit.segment",
    "churn_alerts": "segkit.churn",
    "customer_value": "segkit.clv",
    "backtest_churn": "segkit.evaluation",
    "export_calls": "segkit.callcenter",
    "care_calls": "segkit.callcenter",
    "campaign_effect": "segkit.callcenter",
    "plan_books": "segkit.advisors",
    "rank_benefits": "segkit.survey",
    "run_pipeline": "segkit.jobs",
    "generate": "segkit.synth",
}
HELPERS = {
    "ContractError": "segkit.data",
    "LoadConfig": "segkit.data",
    "load_advisors": "segkit.data",
    "load_members": "segkit.data",
    "load_table": "segkit.data",
    "record_outputs": "segkit.io",
    "resolve_settings": "segkit.settings",
    "show_table": "segkit.result",
    "use_language": "segkit.messages",
}
SUBPACKAGES = (
    "advisors",
    "callcenter",
    "churn",
    "clv",
    "data",
    "evaluation",
    "features",
    "jobs",
    "plots",
    "segment",
    "survey",
    "synth",
)

__all__ = list(WORKFLOWS)


def __getattr__(name: str):
    """``segkit.churn_alerts`` and ``segkit.churn``, imported when first used."""
    if name in WORKFLOWS or name in HELPERS:
        value = getattr(importlib.import_module(WORKFLOWS.get(name) or HELPERS[name]), name)
    elif name in SUBPACKAGES:
        value = importlib.import_module(f"segkit.{name}")
    else:
        raise AttributeError(f"module 'segkit' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *WORKFLOWS, *HELPERS, *SUBPACKAGES])
