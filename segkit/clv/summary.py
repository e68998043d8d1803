"""Transactions to the buy-till-you-die summary: one row per customer, calibration and holdout."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..features.member import purchase_occasions

UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def btyd_summary(transactions: Any, calibration_end: Any, holdout_end: Any = None, unit: str = "W",
                 con=None) -> pd.DataFrame:
    """``frequency``, ``recency``, ``T``, ``monetary_value`` per customer, from purchases up to ``calibration_end``.

    A purchase is a purchase occasion (``segkit.features``: same-day
    purchases merged, as the BTYD literature does; free items count).
    ``frequency`` counts repeat purchases; ``recency`` is the time from the
    first to the last purchase and ``T`` from the first purchase to
    ``calibration_end``, in ``unit`` (``D`` days, ``W`` weeks, ``M`` months);
    ``monetary_value`` is the mean net value of the repeat purchases (0 when
    there is none); ``litt``, the sum of the logarithms of the times between
    purchases (for the regularity models, MBG/CNBD-k). With ``holdout_end``: ``holdout_frequency`` (purchases in
    the holdout), ``holdout_monetary`` and ``holdout_duration`` (its length in
    ``unit``). Only customers whose first purchase is in the calibration
    period are summarized.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    calibration_end = parse_day(calibration_end)
    end = parse_day(holdout_end) if holdout_end is not None else calibration_end
    if end < calibration_end:
        raise ValueError(f"holdout_end {end.date()} is before calibration_end {calibration_end.date()}")
    occasions = purchase_occasions(transactions, end, con=con)
    per = UNITS[unit]
    calibration = occasions[occasions["date"] <= calibration_end]
    gaps = calibration.groupby("member_id", sort=True)["date"].diff().dt.days / per
    grouped = calibration.groupby("member_id", sort=True)
    first, last = grouped["date"].min(), grouped["date"].max()
    count = grouped.size()
    total, first_net = grouped["net"].sum(), grouped["net"].first()
    frequency = count - 1
    summary = pd.DataFrame({
        "frequency": frequency,
        "recency": (last - first).dt.days / per,
        "T": (calibration_end - first).dt.days / per,
        "monetary_value": np.where(frequency > 0, (total - first_net) / frequency.clip(lower=1), 0.0),
        "litt": np.log(gaps).groupby(calibration["member_id"]).sum(),
    })
    if holdout_end is not None:
        holdout = occasions[occasions["date"] > calibration_end].groupby("member_id")["net"]
        summary["holdout_frequency"] = holdout.size().reindex(summary.index, fill_value=0)
        summary["holdout_monetary"] = holdout.sum().reindex(summary.index, fill_value=0.0)
        summary["holdout_duration"] = (end - calibration_end).days / per
    summary.index.name = "member_id"
    return summary.reset_index()
