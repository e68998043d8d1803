"""Data in: the contract, sources, parsers and loaders."""

from .config import LoadConfig
from .contract import ADVISORS, MEMBERS, TRANSACTIONS, ContractError
from .load import LoadReport, LoadResult, load_advisors, load_members, load_table, load_transactions

__all__ = [
    "ADVISORS",
    "MEMBERS",
    "TRANSACTIONS",
    "ContractError",
    "LoadConfig",
    "LoadReport",
    "LoadResult",
    "load_advisors",
    "load_members",
    "load_table",
    "load_transactions",
]
