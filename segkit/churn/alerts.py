"""The overdue alert: members whose current gap has run past what their own rhythm makes likely.

A member is **alerted** when they are past their expected date and
``p_active``, the probability that they are still a customer given the days
since their last purchase (``IntervalModel``), falls below
``p_active_below``. (Where most purchases are last purchases, as on CDNOW,
``p_active`` is low from the start; being past one's own date is what makes
an alert *overdue*.) Loyal members who are a
few days late keep a high ``p_active`` and are left alone; a clockwork
monthly buyer 20 days late is not.

Members who never bought and members **long gone** (no purchase for
``long_gone_days``) are not overdue alerts: they belong to other lists
(win-back campaigns, data clean-up). Every member gets a ``status``:

==============  ===========================================================
alert           overdue: past the expected date, ``p_active`` below the threshold
late            past their expected date, but probably just late
not due         their next purchase is not due yet
long gone       no purchase for ``long_gone_days`` or more
never bought    a member with no purchase
==============  ===========================================================

Settings (YAML, all optional)::

    p_active_below: 0.6      # alert when P(still a customer) falls below this
    long_gone_days: 180
    purchase_noun: refill    # words of the reasons: "last refill ...", "usually refills every ..."
    purchase_verb: refills
    covariates: auto         # or a list of household_size, quantity, product, season, holiday
    holidays: spring_festival  # the holiday covariate's calendar, a list of dates, or null
    churn_prior: null        # q; null: estimated from the data
    vip: {rule: either, top_share: 0.2, tiers: [diamond, platinum]}   # the one VIP rule (call lists put VIPs first)

Each alert carries what the call center needs to rank it: ``vip``,
``value_12m`` (net spend in the last 365 days) and ``value_at_risk``
(``value_12m x (1 - p_active)``: the year of spend that is probably lost).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..calendar import holidays
from ..data.parse import is_arrow_text, parse_day
from ..engine import as_table, connection, positions_in, refuse_member_ids_written_otherwise, taken
from ..features import GapTable, gap_table, purchase_value
from ..result import Result
from ..segment.value import VipRule
from ..settings import YamlSettings, resolve_settings
from .rhythm import COVARIATES, IntervalModel

ALERT_COLUMNS = [
    "member_id",
    "last_purchase",
    "expected_next_purchase",
    "days_overdue",
    "p_active",
    "reason",
    "vip",
    "value_12m",
    "value_at_risk",
    "purchases",
    "typical_interval",
    "last_product",
    "last_quantity",
]
STATUSES = ["alert", "late", "not due", "long gone", "never bought"]


@dataclass(frozen=True)
class AlertSettings(YamlSettings):
    """Every setting of the overdue alert, validated; see the module docstring for the YAML form.

    Made by ``resolve_settings(AlertSettings, ...)`` from a YAML path or a mapping, or directly;
    a value out of range raises ``ValueError`` naming it.

    Attributes
    ----------
    p_active_below : float
        Alert when P(still a customer) falls below this (between 0 and 1; default 0.6).
    long_gone_days : int
        Members with no purchase for this many days are long gone, not alerts (default 180).
    purchase_noun, purchase_verb : str
        The words of the reasons: "last refill ...", "usually refills every ..." (default
        "purchase", "buys").
    covariates : "auto" or list of str
        The rhythm's group covariates (``IntervalModel``).
    holidays : str, list of dates or None
        The calendar of the ``holiday`` covariate (default ``spring_festival``).
    churn_prior : float or None
        ``q``, the probability that a last purchase was the final one; None: estimated.
    vip : VipRule
        The one VIP rule (call lists put VIPs first).
    """

    what: ClassVar[str] = "alert"

    p_active_below: float = 0.6
    long_gone_days: int = 180
    purchase_noun: str = "purchase"
    purchase_verb: str = "buys"
    covariates: Any = "auto"
    holidays: Any = "spring_festival"
    churn_prior: float | None = None
    vip: VipRule = field(default_factory=VipRule)

    def __post_init__(self):
        if not 0 < self.p_active_below < 1:
            raise ValueError(f"p_active_below must be between 0 and 1, got {self.p_active_below}")
        if int(self.long_gone_days) != self.long_gone_days or self.long_gone_days < 1:
            raise ValueError(f"long_gone_days must be a positive number of days, got {self.long_gone_days}")
        if self.churn_prior is not None and not 0 < self.churn_prior < 1:
            raise ValueError(f"churn_prior must be between 0 and 1 (or null to estimate it), got {self.churn_prior}")
        if self.covariates != "auto":
            listed = isinstance(self.covariates, (list, tuple))
            if not listed or not set(self.covariates) <= set(COVARIATES):
                raise ValueError(
                    f"covariates must be 'auto' or a list of {', '.join(COVARIATES)}; got {self.covariates!r}"
                )
        holidays(self.holidays)  # a clear error now rather than at fit

    def model(self) -> IntervalModel:
        return IntervalModel(
            covariates=self.covariates,
            holidays=self.holidays,
            max_open_gap_days=self.long_gone_days,
            churn_prior=self.churn_prior,
        )


@dataclass(repr=False)
class AlertRun(Result):
    """Everything behind one day's alerts: the gaps, the fitted model, every member's prediction, the alerts.

    ``summary()`` counts members by status, with the VIPs and the value at risk among them;
    ``write(out)`` writes ``alerts.csv`` and ``member_rhythms.csv``.

    Attributes
    ----------
    as_of : pandas.Timestamp
        The day of the alerts.
    settings : AlertSettings
        The settings used.
    gaps : segkit.features.GapTable
        The gap table the rhythm was fitted on (``gap_table``): every member's open gap in ``gaps.open``,
        the whole table a range of members at a time (``batches()``) or at once (``to_pandas()``).
    model : IntervalModel
        The fitted rhythm (or the one passed in).
    members : pandas.DataFrame
        One row per member (``member_rhythms.csv``): ``IntervalModel.predict``'s columns,
        ``last_product``, ``last_quantity``, ``status`` (alert, late, not due, long gone,
        never bought), ``reason``, ``vip``, ``value_12m`` and ``value_at_risk``.
    alerts : pandas.DataFrame
        ``alerts.csv``: the alerted members (``ALERT_COLUMNS``), freshest lapses first.
    """

    as_of: pd.Timestamp
    settings: AlertSettings
    gaps: GapTable
    model: IntervalModel
    members: pd.DataFrame  # one row per member: the prediction, status and reason
    alerts: pd.DataFrame  # alerts.csv: ALERT_COLUMNS, freshest lapses first

    def _describe(self) -> str:
        counts = self.members["status"].value_counts()
        return (
            f"as of {self.as_of.date()}: {len(self.alerts):,} alerts among {len(self.members):,} members ("
            + ", ".join(f"{status} {int(counts.get(status, 0)):,}" for status in STATUSES)
            + ")"
        )

    def summary(self) -> pd.DataFrame:
        """Members by status, with the VIPs and the value at risk among them."""
        table = self.members.assign(vip=self.members["vip"].eq(True))
        return (
            table.groupby("status", observed=False)
            .agg(members=("member_id", "size"), vips=("vip", "sum"), value_at_risk=("value_at_risk", "sum"))
            .reset_index()
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """``alerts.csv`` and ``member_rhythms.csv`` (every member's prediction and status)."""
        return {"alerts.csv": self.alerts, "member_rhythms.csv": self.members.drop(columns="reason").round(4)}


def churn_alerts(
    transactions: Any,
    as_of: Any,
    members: pd.DataFrame | None = None,
    settings: AlertSettings | str | Path | dict | None = None,
    backend: str = "duckdb",
    con=None,
    model: IntervalModel | None = None,
) -> AlertRun:
    """Fit every member's rhythm on the purchases up to ``as_of`` and list the overdue members.
    ``settings``: an ``AlertSettings``, a YAML path or a mapping (``resolve_settings``). ``model``: a rhythm
    fitted on an earlier day to score with instead (fitting takes seconds, scoring a fraction of one: a daily
    loop refits weekly, ``synth.loop``); it must know every member who has bought.

    Parameters
    ----------
    transactions : pandas.DataFrame, LoadResult, Parquet path or Ibis table
        Canonical transactions (``member_id``, ``date``, ``amount``; ``quantity`` and
        ``product`` are covariates when present).
    as_of : str, date or Timestamp
        The day of the alerts (``YYYY-MM-DD``); later transactions are ignored.
    members : pandas.DataFrame, optional
        Canonical members: ``household_size`` is a covariate, ``tier`` feeds the VIP
        rule, and members who never bought get the status ``never bought``.
    settings : AlertSettings, str, Path or dict, optional
        The alert threshold, long-gone days, words of the reasons, covariates, holidays,
        churn prior and VIP rule (the module docstring shows the YAML); a mapping
        overrides the defaults key by key. None: the defaults.
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the queries run on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).
    model : IntervalModel, optional
        A rhythm fitted on an earlier day, to score with instead of fitting one.

    Returns
    -------
    AlertRun
        The gaps, the model, every member's prediction and status, and the alerts
        (``alerts``, freshest lapses first, each with a reason an agent can read aloud).

    Raises
    ------
    ValueError
        A setting is unknown or out of range (the message names it), ``as_of`` is not a
        date, the transactions lack a required column, no member has two purchases (no
        rhythm to learn), the rhythm model did not converge, or ``model`` does not know a
        member who has bought.
    FileNotFoundError
        The settings YAML does not exist.

    Examples
    --------
    >>> import segkit
    >>> from segkit.synth import generate
    >>> world = generate("gas", 100, seed=1)
    >>> run = segkit.churn_alerts(world.transactions, "2026-03-31", world.members,
    ...                           {"purchase_noun": "refill", "purchase_verb": "refills"})
    >>> run
    <AlertRun as of 2026-03-31: 3 alerts among 100 members (alert 3, late 13, not due 66, long gone 18, never bought 0)>
    >>> run.alerts[["member_id", "days_overdue", "p_active", "vip"]]
      member_id  days_overdue  p_active    vip
    0   0000100            31    0.5581   True
    1   0000060            35    0.1922  False
    2   0000029            91    0.0187  False
    >>> print(run.alerts["reason"].iloc[0])
    usually refills every 19 days; last refill 2026-02-09, 50 days ago; 31 days later than expected
    """
    settings = resolve_settings(AlertSettings, settings)
    as_of = parse_day(as_of)
    con = connection(backend, con)
    transactions = as_table(transactions, con, "transactions", optional=("quantity", "product"))
    if members is not None:
        # refuses ids that are not text before any work, as for the transactions, and ids written two ways
        refuse_member_ids_written_otherwise(
            con, transactions, as_table(members, con, "members"), "the transactions'", "the members'"
        )
    # before the gap table exists (less memory at once), its ids in Arrow (no second Python string per member)
    value = purchase_value(transactions, as_of, con=con, arrow_ids=True)
    value["vip"] = settings.vip.flag(value, members)
    gaps = gap_table(transactions, as_of, members, con=con)  # held a range of members at a time
    model = settings.model().fit(gaps) if model is None else model
    predictions = model.predict(gaps)
    for name, values in _last_purchase_details(gaps.open).items():
        predictions[name] = values  # set, not assign(): assign copies every column of the 10M rows
    # handed over: the predictions' columns become the table's, each given up as the members who never bought are
    # added to it (copying them while the predictions held theirs took 1.1 GB more on 10M members)
    table = _statuses(predictions, settings, members)
    del predictions
    # looked up in Arrow, not merged: a merge copies every column of the 10M-row table
    at = positions_in(table["member_id"], pa.array(value["member_id"].array))
    table["vip"] = taken(value["vip"].to_numpy(dtype=bool), at, False)
    table["value_12m"] = taken(value["value_12m"].to_numpy(dtype=float), at, 0.0)
    del at, value
    table["value_at_risk"] = (table["value_12m"] * (1 - table["p_active"])).round(2)
    return AlertRun(as_of, settings, gaps, model, table, overdue_alerts(table))


def member_statuses(
    predictions: pd.DataFrame, settings: AlertSettings, members: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Status and reason of every member (``IntervalModel.predict`` output, plus members who never bought)."""
    return _statuses(predictions.copy(deep=False), settings, members)  # a deep copy held 10M rows twice


def _statuses(table: pd.DataFrame, settings: AlertSettings, members: pd.DataFrame | None) -> pd.DataFrame:
    """``member_statuses`` of the predictions ``table``, which it adds columns to and, where members who never
    bought are added, empties."""
    long_gone = table["days_since"] > settings.long_gone_days
    alert = ~long_gone & (table["days_overdue"] > 0) & (table["p_active"] < settings.p_active_below)
    late = ~long_gone & ~alert & (table["days_overdue"] > 0)
    # as categories from the start, and for the members who never bought: 10M statuses as text are 10M Python
    # strings, and making them categories again hashed them all
    codes = [STATUSES.index(name) for name in ("long gone", "alert", "late", "not due")]
    status = np.select([long_gone, alert, late], codes[:3], codes[3])
    table["status"] = pd.Categorical.from_codes(status, categories=STATUSES)
    table["reason"] = ""
    table.loc[alert, "reason"] = [_reason(row, settings) for row in table[alert].itertuples(index=False)]
    if members is not None:
        never = _never_bought(members["member_id"], table["member_id"])
        if len(never):
            status = pd.Categorical.from_codes(np.full(len(never), STATUSES.index("never bought")), categories=STATUSES)
            added = pd.DataFrame({"member_id": never, "purchases": 0, "status": status, "reason": ""})
            table = _appended(table, added)
    for column, dtype in {"purchases": "int64", "days_since": "Int64", "days_overdue": "Int64"}.items():
        table[column] = table[column].astype(dtype)  # a column at a time: the frame's astype copies every column
    return table


def _never_bought(members: pd.Series, buyers: pd.Series) -> pd.Index:
    """The ids of ``members`` that are not ``buyers``, sorted. In Arrow where both are text: 10M ids made Python
    strings, with pandas' hash tables over them, took 1.5 GB at once."""
    if is_arrow_text(members) and len(buyers) and not members.isna().any():  # else as pandas does it
        ids = pc.unique(pa.array(members.array))
        try:
            bought = pa.array(buyers.to_numpy(dtype=object), type=ids.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # buyers' ids that are not all text
            bought = None
        if bought is not None:
            never = ids.filter(pc.invert(pc.is_in(ids, value_set=bought)))
            return pd.Index(never.take(pc.array_sort_indices(never)).to_pylist(), dtype=object)
    return pd.Index(members.astype(object).unique()).difference(buyers)


def _appended(table: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """``pd.concat([table, rows], ignore_index=True)`` for ``rows`` with some of ``table``'s columns, a column at
    a time, each taken out of ``table`` (emptied) once copied: ``pd.concat`` copied every column and then copied
    them again into blocks (2 GB at once on 10M members)."""
    columns = {}
    for name in list(table.columns):
        values = table.pop(name)
        # a column the rows lack is missing there, as pandas fills it (int becomes float, a date NaT)
        added = rows[name] if name in rows else values.iloc[:0].reindex(range(len(rows)))
        columns[name] = pd.concat([values, added], ignore_index=True)
        del values
    return pd.DataFrame(columns, copy=False)


def _last_purchase_details(last: pd.DataFrame) -> dict[str, Any]:
    """``last_product`` and ``last_quantity`` of every member's last purchase (the opening purchase of their
    open gap, ``last``, in ``IntervalModel.predict``'s row order); empty where the transactions have none. The
    call sheet shows them."""
    return {
        "last_product": last["product"].astype(object).to_numpy() if "product" in last else None,
        "last_quantity": last["quantity"].to_numpy() if "quantity" in last else np.nan,
    }


def overdue_alerts(statuses: pd.DataFrame) -> pd.DataFrame:
    """``alerts.csv``: one row per alerted member, the freshest lapses (fewest days overdue) first:
    the sooner the call, the better the chance of winning them back."""
    alerts = statuses.loc[statuses["status"] == "alert"].sort_values(["days_overdue", "member_id"])
    alerts = alerts.assign(
        days_overdue=alerts["days_overdue"].astype(int),
        p_active=alerts["p_active"].round(4),
        typical_interval=alerts["typical_interval"].round(1),
    )
    return alerts[ALERT_COLUMNS].reset_index(drop=True)


def _reason(row, settings: AlertSettings) -> str:
    """What an agent reads aloud, e.g. "usually refills every 29 days; last refill 2026-02-12, 47 days
    ago; 18 days later than expected"."""
    noun, verb = settings.purchase_noun, settings.purchase_verb
    typical = int(round(row.typical_interval))
    last = pd.Timestamp(row.last_purchase).date().isoformat()
    late = int(row.days_overdue)
    when = f"{late} day{'s' if late != 1 else ''} later than expected"
    if row.purchases == 1:
        return (
            f"only one {noun}, on {last}, {row.days_since} days ago; members like them usually come back "
            f"after about {typical} days; {when}"
        )
    return f"usually {verb} every {typical} days; last {noun} {last}, {row.days_since} days ago; {when}"
