"""The buy-till-you-die summary: one row per customer, calibration and holdout, in one query.

What the BTYD models (``segkit.clv``: BG/NBD, Pareto/NBD, MBG/CNBD-k,
Gamma-Gamma) are fitted on, in the literature's units and definitions.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..engine import as_table, connection, day_number, exact_sum, fetch_arrow_by_member
from .occasions import daily_expr, is_purchase

UNITS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def btyd_summary(
    transactions: Any,
    calibration_end: Any,
    holdout_end: Any = None,
    unit: str = "W",
    backend: str = "duckdb",
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """``frequency``, ``recency``, ``T``, ``monetary_value`` per customer, from purchases up to ``calibration_end``.

    A purchase is a purchase occasion (``segkit.features.occasions``: same-day
    purchases merged, as the BTYD literature does; free items count).
    ``frequency`` counts repeat purchases; ``recency`` is the time from the
    first to the last purchase and ``T`` from the first purchase to
    ``calibration_end``, in ``unit`` (``D`` days, ``W`` weeks, ``M`` months);
    ``monetary_value`` is the mean net value of the repeat purchases (0 when there is none); ``kept_share``,
    the share of what the customer paid on their purchase days that refunds on other days did not take back (1
    without such refunds, 0 for a customer who returned everything: a refund days after the order is no
    purchase occasion, but it takes the money back); ``litt``, the sum of the logarithms of the times between
    purchases (for the regularity models, MBG/CNBD-k). With ``holdout_end``: ``holdout_frequency`` (purchases
    in the holdout), ``holdout_monetary`` and ``holdout_duration`` (its length in ``unit``). Only customers
    whose first purchase is in the calibration
    period are summarized.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    calibration_end = parse_day(calibration_end)
    end = parse_day(holdout_end) if holdout_end is not None else calibration_end
    if end < calibration_end:
        raise ValueError(f"holdout_end {end.date()} is before calibration_end {calibration_end.date()}")
    con = connection(backend, con)

    def summary(transactions: ibis.Table) -> ibis.Table:
        return _summary_expr(daily_expr(transactions, end), day_number(calibration_end), holdout_end is not None)

    frame = fetch_arrow_by_member(con, summary, as_table(transactions, con, "transactions")).to_pandas()
    per = UNITS[unit]
    frequency = frame["occasions"].to_numpy() - 1
    summary = pd.DataFrame(
        {
            "member_id": frame["member_id"],
            "frequency": frequency,
            "recency": (frame["last_day"] - frame["first_day"]).to_numpy() / per,
            "T": (day_number(calibration_end) - frame["first_day"]).to_numpy() / per,
            "monetary_value": np.where(
                frequency > 0, (frame["total"] - frame["first_net"]) / np.maximum(frequency, 1), 0.0
            ),
            "kept_share": _kept(frame["total"].to_numpy(dtype=float), frame["returned"].to_numpy(dtype=float)),
            "litt": frame["litt"].to_numpy(dtype=float) - frequency * np.log(per),  # log gaps in days -> in units
        }
    )
    if holdout_end is not None:
        summary["holdout_frequency"] = frame["holdout_frequency"].to_numpy()
        summary["holdout_monetary"] = frame["holdout_monetary"].to_numpy(dtype=float)
        summary["holdout_duration"] = (end - calibration_end).days / per
    return summary


def _kept(paid: np.ndarray, returned: np.ndarray) -> np.ndarray:
    """The share of what a customer paid on their purchase days that they kept after the refunds of other days
    (``returned``: their net, at most 0): 1 without such refunds, 0 when they returned it all."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(paid > 0, np.clip((paid + returned) / paid, 0.0, 1.0), 1.0)


def _summary_expr(daily: ibis.Table, calibration_day: int, holdout: bool) -> ibis.Table:
    """Per customer, from their days (``daily_expr``): calibration ``occasions``, ``first_day``, ``last_day``,
    ``total`` and ``first_net`` (net of the first occasion), ``litt``, ``returned`` (net of the days that are no
    purchase: refunds); with ``holdout``, the holdout's purchase count and net. Sorted by member."""
    occasions = daily.filter(is_purchase(daily)).select("member_id", "day", "net")
    refunds = daily.filter(~is_purchase(daily) & (daily.day <= calibration_day))
    refunds = refunds.group_by("member_id").aggregate(returned=exact_sum(refunds.net))
    calibration = occasions.filter(occasions.day <= calibration_day)
    by_day = ibis.window(group_by="member_id", order_by="day")
    calibration = calibration.mutate(gap=calibration.day - calibration.day.lag().over(by_day))
    summary = calibration.group_by("member_id").aggregate(
        occasions=calibration.day.count(),
        first_day=calibration.day.min(),
        last_day=calibration.day.max(),
        total=exact_sum(calibration.net),
        first_net=calibration.net.max(where=calibration.gap.isnull()),  # the occasion with none before it
        litt=exact_sum(calibration.gap.cast("float64").ln(), digits=15).coalesce(0.0),
    )
    summary = summary.left_join(refunds, "member_id").drop("member_id_right")
    summary = summary.mutate(returned=summary.returned.coalesce(0.0))
    if holdout:
        later = occasions.filter(occasions.day > calibration_day)
        later = later.group_by("member_id").aggregate(
            holdout_frequency=later.day.count(), holdout_monetary=exact_sum(later.net)
        )
        summary = summary.left_join(later, "member_id").drop("member_id_right")
        summary = summary.mutate(
            holdout_frequency=summary.holdout_frequency.coalesce(0),
            holdout_monetary=summary.holdout_monetary.coalesce(0.0),
        )
    return summary.order_by("member_id")
