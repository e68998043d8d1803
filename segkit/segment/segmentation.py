"""The segmentation workflow: from canonical tables to the per-member table (``rfm.csv``) and the analyses
``segkit segment`` and the segmentation notebook write.

Settings come from a YAML file (all optional; defaults in code)::

    rfm: {levels: 5, ties: rank, breakpoints: null, segments: null}   # segments: a segment table YAML
    vip: {rule: either, top_share: 0.2, tiers: [diamond, platinum]}  # the one VIP rule (segment.value.VipRule)
    lifecycle: {onboarding_days: 60, active: 1.25, at_risk: 2.5, dormant: 5.0, lost_days: 365}
    tiers: {thresholds: {gold: 2000, platinum: 5000, diamond: 10000}, base: standard, grace_months: 3}
    snapshot_months: 6      # month-end lifecycle snapshots behind the stage transitions
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from ..data.parse import parse_day
from ..engine import positions_in, taken, text_ids
from ..result import Result, rounded
from ..settings import YamlSettings, resolve_settings
from .cohorts import cohort_activity, cohort_retention
from .lifecycle import LifecycleRules, lifecycle_stages, month_ends, stage_snapshots, transition_matrix
from .rfm import RFMResult, RFMSettings, rfm_scores, segment_summary
from .sales import gross_to_net, sales_split, status_totals
from .tiers import TierRules, assign_tiers, tier_changes
from .value import VipRule

RFM_COLUMNS = [
    "member_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_score",
    "segment",
    "vip",
    "stage",
    "tier",
]


@dataclass(frozen=True)
class SegmentationSettings(YamlSettings):
    """Every threshold of segmentation, validated; see the module docstring for the YAML form."""

    what: ClassVar[str] = "segmentation"

    rfm: RFMSettings = field(default_factory=RFMSettings)
    vip: VipRule = field(default_factory=VipRule)
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)
    tiers: TierRules = field(default_factory=TierRules)
    snapshot_months: int = 6

    def __post_init__(self):
        if (
            isinstance(self.snapshot_months, bool)
            or not isinstance(self.snapshot_months, int)
            or self.snapshot_months < 1
        ):
            raise ValueError(f"snapshot_months must be a whole number of at least 1, got {self.snapshot_months!r}")

    @staticmethod
    def paths_relative_to(data: dict[str, Any], folder: Path) -> dict[str, Any]:
        """In a settings file, a relative ``rfm.segments`` is relative to that file."""
        rfm = data.get("rfm")
        if isinstance(rfm, dict) and isinstance(rfm.get("segments"), str) and not Path(rfm["segments"]).is_absolute():
            return {**data, "rfm": {**rfm, "segments": str(folder / rfm["segments"])}}
        return data


@dataclass(repr=False)
class Segmentation(Result):
    """The segmentation of every member as of a date; the analyses over time (tier changes, stage
    transitions, cohorts, sales) are computed when first read.

    ``summary()`` is the segment summary; ``write(out)`` writes ``rfm.csv`` and the
    analyses beside it (``tables()``).

    Attributes
    ----------
    as_of : pandas.Timestamp
        The day of the segmentation.
    table : pandas.DataFrame
        ``rfm.csv``, one row per member: ``member_id``, ``recency_days``,
        ``frequency``, ``monetary``, ``r_score``, ``f_score``, ``m_score``,
        ``rfm_score``, ``segment``, ``vip``, ``stage``, ``tier`` and the segment's
        suggested ``action``.
    segments : pandas.DataFrame
        ``segment_summary.csv``: per segment, ``members``, ``member_share``,
        ``revenue``, ``revenue_share``, ``avg_order_value``, ``median_recency_days``.
    rfm : RFMResult
        The RFM scoring: cut points and any scores never given.
    tiers : pandas.DataFrame
        Every member's tier with the previous tier and the change.
    settings : SegmentationSettings
        The settings used.
    transactions : pandas.DataFrame or Ibis table
        The transactions, for the analyses over time.
    members : pandas.DataFrame or None
        The members, if given.
    engine : dict
        The workflow's ``backend`` and ``con``, for the analyses.
    tier_changes : pandas.DataFrame
        ``tier_changes.csv``: this month's upgrades and downgrades.
    snapshots : pandas.DataFrame
        Every member's lifecycle stage at the last ``snapshot_months`` month ends and
        the as-of date (``stage_snapshots``: ``member_id`` and ``stage`` categorical).
    transitions : pandas.DataFrame
        ``stage_transitions.csv``: the share of each stage's members in each stage a
        month later.
    cohorts : pandas.DataFrame
        ``cohort_retention.csv``: the share of each first-purchase month buying k
        months later.
    sales : pandas.DataFrame
        ``sales_split.csv``: first against repeat purchases per month.
    activity : pandas.DataFrame
        The purchase occasions counted per first-purchase month and day in the engine
        (``segkit.segment.cohorts.cohort_activity``): the cohorts and the sales split
        are read from it, the occasions themselves never reach pandas.
    funnel : pandas.DataFrame or None
        Gross orders to net by status (None without statuses), from the amounts
        summed per status in the engine.
    """

    as_of: pd.Timestamp
    table: pd.DataFrame  # rfm.csv: scores, segment, vip, stage, tier (+ action)
    segments: pd.DataFrame  # segment_summary.csv: per segment, members, revenue, their shares, ...
    rfm: RFMResult
    tiers: pd.DataFrame  # tiers with previous tier and change
    settings: SegmentationSettings
    transactions: Any = field(repr=False)
    members: pd.DataFrame | None = field(default=None, repr=False)
    engine: dict = field(default_factory=dict, repr=False)  # backend= / con= of the workflow
    _as_of_stages: pd.DataFrame | None = field(default=None, repr=False)  # member_id, stage: for the snapshots

    def _describe(self) -> str:
        counts = self.table["stage"].value_counts()
        return (
            f"as of {self.as_of.date()}: {len(self.table):,} members in {self.segments['segment'].nunique()} "
            f"segments, {int(self.table['vip'].sum()):,} VIPs; stages: "
            + ", ".join(f"{stage} {count:,}" for stage, count in counts.items() if count)
        )

    def summary(self) -> pd.DataFrame:
        return self.segments

    @cached_property
    def tier_changes(self) -> pd.DataFrame:
        """tier_changes.csv: this month's upgrades and downgrades."""
        return tier_changes(self.tiers)

    @cached_property
    def snapshots(self) -> pd.DataFrame:
        """Every member's stage at the last ``snapshot_months`` month ends and the as-of date (the stages
        ``segment_members`` found, not computed again, unless it was given the features)."""
        return stage_snapshots(
            self.transactions,
            self._snapshot_dates,
            members=self.members,
            rules=self.settings.lifecycle,
            **self.engine,
            latest=self._as_of_stages,
        )

    @property
    def _snapshot_dates(self) -> list[pd.Timestamp]:
        return month_ends(self.as_of, self.settings.snapshot_months + 1)

    @cached_property
    def transitions(self) -> pd.DataFrame:
        """stage_transitions.csv: the share of each stage's members in each stage a month later (a month where
        nobody had joined or bought yet moves nobody)."""
        return transition_matrix(self.snapshots, dates=self._snapshot_dates)

    @cached_property
    def activity(self) -> pd.DataFrame:
        """The purchase occasions per first-purchase month and day, counted in the engine (``cohort_activity``):
        what the cohorts and the sales split are read from."""
        return cohort_activity(self.transactions, self.as_of, **self.engine)

    @cached_property
    def cohorts(self) -> pd.DataFrame:
        """cohort_retention.csv: the share of each first-purchase month buying k months later."""
        return cohort_retention(self.activity, self.as_of)

    @cached_property
    def sales(self) -> pd.DataFrame:
        """sales_split.csv: first against repeat purchases per month."""
        return sales_split(self.activity)

    @cached_property
    def funnel(self) -> pd.DataFrame | None:
        """Gross orders to net, by status (None when the transactions have no status); the amounts are
        summed per status in the engine (``status_totals``)."""
        totals = status_totals(self.transactions, **self.engine)
        return gross_to_net(totals) if totals is not None and totals["status"].notna().any() else None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The member table and the analyses, rounded (shares to 4 places, money to cents)."""
        return {
            "rfm.csv": rounded(self.table, money=["monetary"]),
            "segment_summary.csv": rounded(self.segments, money=["revenue", "avg_order_value"]),
            "tier_changes.csv": rounded(self.tier_changes, money=["spend_12m"]),
            "stage_transitions.csv": rounded(self.transitions.reset_index()),
            "cohort_retention.csv": rounded(self.cohorts.reset_index()),
            "sales_split.csv": rounded(self.sales, money=["first_purchase_sales", "repeat_sales"]),
        }


def segment_members(
    transactions: Any,
    as_of: Any,
    members: pd.DataFrame | None = None,
    settings: SegmentationSettings | str | Path | dict | None = None,
    *,
    features: pd.DataFrame | None = None,
    backend: str = "duckdb",
    con=None,
) -> Segmentation:
    """RFM scores and segments, VIP flags, lifecycle stages and tiers of every member as of ``as_of``.

    ``settings``: a ``SegmentationSettings``, a YAML path or a mapping (``resolve_settings``).
    ``features``: the member features, when already computed (``segkit.features.member_features``).

    Parameters
    ----------
    transactions : pandas.DataFrame, LoadResult, Parquet path or Ibis table
        Canonical transactions (``member_id``, ``date``, ``amount``; ``status`` for the
        gross-to-net funnel).
    as_of : str, date or Timestamp
        The day of the segmentation (``YYYY-MM-DD``); later transactions are ignored.
    members : pandas.DataFrame, optional
        Canonical members: members who never bought get the segment ``No purchase``,
        and their ``tier`` can make a VIP.
    settings : SegmentationSettings, str, Path or dict, optional
        RFM levels and ties, the segment table, the VIP rule, lifecycle thresholds,
        tier thresholds and ``snapshot_months`` (the module docstring shows the YAML);
        a mapping overrides the defaults key by key. None: the defaults.
    features : pandas.DataFrame, optional
        The member features as of ``as_of`` if already computed (the ``table`` of
        ``member_features``), to skip computing them again.
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the queries run on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).

    Returns
    -------
    Segmentation
        Every member's scores, segment, VIP flag, lifecycle stage and tier, with the
        segment summary; tier changes, stage transitions, cohorts and the sales split
        when first read.

    Raises
    ------
    ValueError
        A setting is unknown or out of range (the message names it), ``as_of`` is not
        a date, the transactions lack a required column, or there is nobody to segment.
    FileNotFoundError
        The settings YAML or the segment table it names does not exist.

    Warns
    -----
    UserWarning
        Some RFM scores are never given because the cut points coincide (``ties:
        quantile`` on data where most members bought once).

    Examples
    --------
    >>> import segkit
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> segmentation = segkit.segment_members(world.transactions, "2026-03-31", world.members)
    >>> segmentation
    <Segmentation as of 2026-03-31: 300 members in 12 segments, 53 VIPs; stages: lost 121, active 52, ...>
    >>> segmentation.summary()[["segment", "members", "revenue"]].head(3)
               segment  members    revenue
    0  Loyal Customers       36  190013.66
    1        Champions       33  149640.43
    2          At Risk       33   50248.01
    >>> segmentation.table.set_index("member_id").loc[["0000003"], ["rfm_score", "segment", "stage", "tier"]]
               rfm_score      segment    stage      tier
    member_id
    0000003          222  Hibernating  at risk  standard

    Settings override the defaults key by key:

    >>> three = segkit.segment_members(world.transactions, "2026-03-31", world.members, {"rfm": {"levels": 3}})
    >>> sorted(three.table["r_score"].dropna().unique().tolist())
    [1, 2, 3]

    ``segmentation.write("out")`` writes ``rfm.csv``, ``segment_summary.csv``,
    ``tier_changes.csv``, ``stage_transitions.csv``, ``cohort_retention.csv`` and
    ``sales_split.csv`` into the folder ``out`` (the analyses take a second more).
    """
    settings = resolve_settings(SegmentationSettings, settings)
    as_of = parse_day(as_of)
    engine = {"backend": backend, "con": con}
    computed = features is None
    if computed:
        from ..features import member_features

        features = member_features(transactions, as_of, members=members, **engine)
    if not len(features):
        raise ValueError(f"nothing to segment: nobody bought on or before {as_of.date()}, and no members were given")
    rfm = rfm_scores(features, **settings.rfm.as_dict())
    table = rfm.table
    table["vip"] = settings.vip.flag(features, members)
    stages = lifecycle_stages(features, settings.lifecycle)["stage"]
    # the stage names themselves, not a string per member (astype(str) makes one)
    table["stage"] = stages.astype(object).to_numpy()
    # the stages at the as-of date for the snapshots, when they are of the features of these transactions and
    # members (features given may be of other members or dates); kept apart from the table a user may change
    as_of_stages = (
        pd.DataFrame({"member_id": features["member_id"].to_numpy(), "stage": stages.array}) if computed else None
    )
    tiers = assign_tiers(transactions, as_of, member_ids=features["member_id"], rules=settings.tiers, **engine)
    # looked up in Arrow: a map through an index of the tiers' 10M ids hashed every one
    at = positions_in(table["member_id"], text_ids(tiers["member_id"]))
    table["tier"] = taken(tiers["tier"].to_numpy(dtype=object), at, settings.tiers.base)
    table["action"] = table.pop("action")  # last: the columns of rfm.csv, in place (no second copy of the table)
    return Segmentation(
        as_of,
        table,
        segment_summary(rfm),
        rfm,
        tiers,
        settings,
        transactions,
        members,
        engine,
        as_of_stages,
    )
