"""Lifecycle stages relative to each member's own purchase rhythm.

A member's **rhythm** is their typical number of days between purchases: the
median of their own gaps, shrunk toward the population's median gap when they
have few gaps (``rhythm = (n * own + k * population) / (n + k)``, ``n`` =
their gaps, ``k`` = ``prior_gaps``). A member's **overdue ratio** is their
days since the last purchase divided by their rhythm: 45 quiet days is 1.5
rhythms for a monthly buyer and half a rhythm for a quarterly one.

Stages, first rule that applies:

==============  ==========================================================
prospect        no purchase yet
new             first purchase within ``onboarding_days``
lost            ratio above ``dormant``, or no purchase for ``lost_days``
dormant         ratio above ``at_risk``
at risk         ratio above ``active`` (cooling down)
reactivated     back within ``active`` after a last gap over ``reactivation`` rhythms
active          ratio within ``active``
==============  ==========================================================
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..data.parse import parse_day
from ..engine import as_table, connection, fetch_arrow, fetch_arrow_by_member, text_ids
from ..features.member import joined_members, member_features_expr
from ..settings import YamlSettings

STAGES = ["prospect", "new", "active", "reactivated", "at risk", "dormant", "lost"]
# the member features a stage is read from
STAGE_INPUTS = ["member_id", "frequency", "tenure_days", "recency_days", "gap_count", "gap_median", "last_gap"]


@dataclass(frozen=True)
class LifecycleRules(YamlSettings):
    """Stage thresholds; ratios are in units of the member's own rhythm."""

    what: ClassVar[str] = "lifecycle"

    onboarding_days: int = 60
    active: float = 1.25
    at_risk: float = 2.5
    dormant: float = 5.0
    lost_days: int = 365
    reactivation: float = 2.5
    prior_gaps: float = 2.0

    def __post_init__(self):
        if not 0 < self.active < self.at_risk < self.dormant:
            raise ValueError(
                f"lifecycle thresholds must rise: 0 < active ({self.active}) < at_risk "
                f"({self.at_risk}) < dormant ({self.dormant})"
            )
        if min(self.onboarding_days, self.lost_days) <= 0 or self.prior_gaps < 0 or self.reactivation <= 0:
            raise ValueError("onboarding_days, lost_days and reactivation must be positive, prior_gaps >= 0")


def member_rhythm(features: pd.DataFrame, prior_gaps: float = 2.0) -> pd.Series:
    """Typical days between purchases per member, shrunk toward the population median gap (a member without a
    gap of their own takes the population's, also with ``prior_gaps: 0``; NaN when nobody has a gap)."""
    has_gaps = features["gap_count"] > 0
    population = float(features.loc[has_gaps, "gap_median"].median()) if has_gaps.any() else np.nan
    n = features["gap_count"].astype(float)
    own = features["gap_median"].fillna(0.0)
    if prior_gaps == 0:
        return own.where(n > 0, population)
    return (n * own + prior_gaps * population) / (n + prior_gaps)


def lifecycle_stages(features: pd.DataFrame, rules: LifecycleRules | None = None) -> pd.DataFrame:
    """Stage of every member of ``features`` (``segkit.member_features`` output), with the numbers behind it.
    Members without a rhythm (nobody in the data has bought twice) are staged on ``lost_days`` alone, with a
    warning."""
    rules = rules or LifecycleRules()
    rhythm, ratio, stage = _stage_codes(features, rules)
    unmeasured = rhythm.isna().to_numpy() & (stage == STAGES.index("active"))
    if unmeasured.any():
        warnings.warn(
            f"{int(unmeasured.sum()):,} member(s) have no purchase rhythm (nobody in the data has bought twice): "
            f"their lifecycle stage rests on lost_days alone (active until {rules.lost_days} days without a "
            "purchase)",
            stacklevel=2,
        )
    return pd.DataFrame(
        {
            "member_id": features["member_id"],
            "rhythm_days": rhythm.round(1),
            "overdue_ratio": ratio.round(2),
            "stage": pd.Categorical.from_codes(stage, categories=STAGES),
        }
    )


def _stage_codes(features: pd.DataFrame, rules: LifecycleRules) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Each member's rhythm, overdue ratio and stage (its position in ``STAGES``, no string per member) from the
    feature columns of ``STAGE_INPUTS``."""
    rhythm = member_rhythm(features, rules.prior_gaps)
    recency = features["recency_days"].astype(float)
    ratio = recency / rhythm
    last_gap_ratio = features["last_gap"].astype(float) / rhythm
    conditions = [
        features["frequency"] == 0,
        features["tenure_days"].astype(float) <= rules.onboarding_days,
        (ratio > rules.dormant) | (recency > rules.lost_days),
        ratio > rules.at_risk,
        ratio > rules.active,
        last_gap_ratio > rules.reactivation,
    ]
    stage = np.select(
        [c.fillna(False).to_numpy(dtype=bool) for c in conditions],
        [STAGES.index(name) for name in ("prospect", "new", "lost", "dormant", "at risk", "reactivated")],
        default=STAGES.index("active"),
    )
    return rhythm, ratio, stage.astype(np.int8)


def month_ends(as_of: Any, months: int) -> list[pd.Timestamp]:
    """The as-of date and the ends of the ``months - 1`` months before it, oldest first."""
    as_of = parse_day(as_of)
    return [as_of - pd.offsets.MonthEnd(k) for k in range(months - 1, 0, -1)] + [as_of]


def stage_snapshots(
    transactions: Any,
    dates: list[pd.Timestamp],
    members: pd.DataFrame | None = None,
    rules: LifecycleRules | None = None,
    backend: str = "duckdb",
    con=None,
    *,
    latest: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Stages of every member at each date (``member_id``, ``stage``, ``date``), long format, one date after
    the other.

    ``latest``: the stages at the latest date when they are already known (``member_id``, ``stage``: the
    ``lifecycle_stages`` of ``member_features`` at that date with these ``members`` and ``rules``, as
    ``segment_members`` has them), so that date is not computed again (33 s of 271 s at 10M households). Its
    members who joined after the date and whom the features do not find in the transactions by then are left
    out, as at every date.

    Members from ``members`` count from their ``join_date`` (as prospects until they buy; without a join date,
    from the first date). The table is compact, a few bytes a row: ``member_id`` is categorical, its categories
    (every member seen, sorted) shared by all dates, and ``stage`` categorical (``STAGES``). Only the features a
    stage is read from (``STAGE_INPUTS``) leave the engine, and the ids stay in Arrow until the categories are
    made: on 10M households a date's member features in pandas took about 2 GB.
    """
    rules = rules or LifecycleRules()
    con = connection(backend, con)
    transactions = as_table(transactions, con, "transactions")
    if members is not None:  # in the engine once, filtered there at each date
        members = as_table(members, con, "members", optional=("join_date",))
    dates = list(dates)
    days = [parse_day(date) for date in dates]  # each a day: "31/03/2026" or a time of day is refused
    ids = pa.array([], type=pa.string())  # every member seen so far; each date's codes point into it
    codes, stages = [None] * len(dates), [None] * len(dates)
    # the latest date first: it holds nearly every member, and the other dates find theirs among them
    for at in sorted(range(len(dates)), key=days.__getitem__, reverse=True):
        if latest is not None and days[at] == max(days):
            member_ids, stages[at] = _known_stages(con, latest, transactions, members, dates[at])
        else:
            member_ids, stages[at] = _engine_stages(con, transactions, members, dates[at], rules)
        found = pc.index_in(member_ids, value_set=ids)
        if found.null_count:  # new members are appended: the codes of the dates done stay valid
            ids = pa.concat_arrays([ids, member_ids.filter(found.is_null())])
            found = pc.index_in(member_ids, value_set=ids)
        codes[at] = found.to_numpy().astype(np.int32)
    # categories in sorted order (Arrow sorts the text without a Python comparison per pair)
    order = pc.sort_indices(ids).to_numpy()
    rank = np.empty(len(ids), dtype=np.int32)
    rank[order] = np.arange(len(ids), dtype=np.int32)
    categories = pd.Index(ids.take(pa.array(order)).to_numpy(zero_copy_only=False), dtype=object)
    snapshots = pd.DataFrame(
        {
            "member_id": pd.Categorical.from_codes(rank[_joined(codes, np.int32)], categories=categories),
            "stage": pd.Categorical.from_codes(_joined(stages, np.int8), categories=STAGES),
        }
    )
    counts = [len(stage) for stage in stages]
    snapshots["date"] = np.repeat(np.array([pd.Timestamp(date).to_datetime64() for date in dates]), counts)
    return snapshots


def _engine_stages(
    con: ibis.BaseBackend, transactions: ibis.Table, members: ibis.Table | None, date: Any, rules: LifecycleRules
) -> tuple[pa.Array, np.ndarray]:
    """The ids and stage codes at ``date`` of the members who had bought or joined by then, in member order;
    only the features a stage is read from leave the engine."""
    known = None if members is None else joined_members(members, date)

    def stage_inputs(tx: ibis.Table, mem: ibis.Table | None) -> ibis.Table:
        return member_features_expr(tx, date, mem).select(STAGE_INPUTS)

    inputs = fetch_arrow_by_member(con, stage_inputs, transactions, known)
    # counts a member may lack (no purchase yet) come out as floats with NaN, as the stages read them
    stages = _stage_codes(inputs.drop_columns("member_id").to_pandas(), rules)[2]
    return inputs["member_id"].combine_chunks().cast(pa.string()), stages


def _known_stages(
    con: ibis.BaseBackend, latest: pd.DataFrame, transactions: ibis.Table, members: ibis.Table | None, date: Any
) -> tuple[pa.Array, np.ndarray]:
    """The ids and stage codes of ``latest`` in member order, as the engine gives a date's stages, without the
    members who joined after ``date`` and are not found in the transactions by then (``member_features`` counts
    every member given; a date's stages count only those who had joined)."""
    member_ids = text_ids(latest["member_id"])
    stages = pd.Categorical(latest["stage"], categories=STAGES).codes
    if (stages < 0).any():
        unknown = sorted(set(latest["stage"].dropna()) - set(STAGES))
        raise ValueError(f"latest: stages must be of {STAGES}, got {unknown or 'missing stages'}")
    if members is not None:
        not_joined = members.select("member_id").anti_join(joined_members(members, date), "member_id").distinct()
        left_out = _ids(con, not_joined)
        if len(left_out):  # rare at the latest date: only then are the transactions read
            # those of them the features find in the transactions by then, as a date's stages count them
            bought = member_features_expr(transactions.semi_join(not_joined, "member_id"), date).select("member_id")
            left_out = left_out.filter(pc.invert(pc.is_in(left_out, value_set=_ids(con, bought))))
            kept = pc.invert(pc.is_in(member_ids, value_set=left_out))
            member_ids, stages = member_ids.filter(kept), stages[kept.to_numpy(zero_copy_only=False)]
    order = pc.sort_indices(member_ids)
    return member_ids.take(order), stages[order.to_numpy()]


def _ids(con: ibis.BaseBackend, query: ibis.Table) -> pa.Array:
    return fetch_arrow(con, query)["member_id"].combine_chunks().cast(pa.string())


def _joined(arrays: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.empty(0, dtype=dtype)


def stage_flows(
    snapshots: pd.DataFrame, dates: list | None = None
) -> list[tuple[pd.Timestamp, pd.Timestamp, np.ndarray]]:
    """Members moving between stages from each snapshot date to the next: ``(before, after, counts)`` per pair
    of consecutive dates, ``counts[i, j]`` the members in ``STAGES[i]`` before and ``STAGES[j]`` after (members
    in one snapshot only, or in a stage not of ``STAGES``, are not counted). ``dates``: the dates the snapshots
    were taken at (default: those in ``snapshots``; a date where nobody had joined or bought yet has no rows).

    Worked on the member codes, one array of stages per date: no join of the snapshots.
    """
    taken = snapshots["date"].unique() if dates is None else [np.datetime64(parse_day(day), "ns") for day in dates]
    dates = sorted(taken)
    member = snapshots["member_id"]
    if isinstance(member.dtype, pd.CategoricalDtype):
        codes, size = member.cat.codes.to_numpy(), len(member.cat.categories)
    else:
        codes, uniques = pd.factorize(member)
        size = len(uniques)
    stage = pd.Categorical(snapshots["stage"], categories=STAGES).codes
    day = snapshots["date"].to_numpy()
    stages_at = []
    for date in dates:
        at = np.full(size, -1, dtype=np.int8)  # the stage of each member at the date (-1: not in the snapshot)
        on = day == date
        at[codes[on]] = stage[on]
        stages_at.append(at)
    flows = []
    for (before, after), (a, b) in zip(zip(dates, dates[1:]), zip(stages_at, stages_at[1:])):
        moved = (a >= 0) & (b >= 0)
        counts = np.bincount(a[moved].astype(np.int64) * len(STAGES) + b[moved], minlength=len(STAGES) ** 2)
        flows.append((before, after, counts.reshape(len(STAGES), len(STAGES))))
    return flows


def transition_matrix(snapshots: pd.DataFrame, normalize: bool = True, dates: list | None = None) -> pd.DataFrame:
    """Members moving from each stage (rows) to each stage (columns) between consecutive snapshots, pooled
    (``stage_flows``, of the snapshots taken at ``dates``).

    With ``normalize``, each row is the share of that stage's members going to each stage.
    """
    flows = stage_flows(snapshots, dates)
    if not flows:
        raise ValueError("transitions need snapshots at two dates or more")
    matrix = pd.DataFrame(
        sum(counts for _, _, counts in flows),
        index=pd.Index(STAGES, name="stage_from"),
        columns=pd.Index(STAGES, name="stage_to"),
    )
    if normalize:
        matrix = matrix.div(matrix.sum(axis=1).replace(0, np.nan), axis=0)
    return matrix
