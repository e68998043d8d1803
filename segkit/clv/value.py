"""The customer-value workflow: from transactions to each customer's P(alive), expected purchases, spend and
CLV, with the holdout check. ``segkit clv`` and the customer-value notebook call ``customer_value``.

Settings (YAML, all optional)::

    model: bgnbd          # bgnbd | paretonbd | mbgcnbd: the purchases model
    unit: W               # D, W or M: the models' time unit
    horizon: 52           # forecast horizon, in units (default: a year, 365 D, 52 W or 12 M)
    periods: 12           # discounting periods within the horizon
    discount_rate: 0.01   # per period
    k_max: 12             # MBG/CNBD-k: the largest regularity tried

Whatever cannot be computed is said in ``notes`` instead of silently left out:
a model that did not converge, a spend model that cannot be fitted, and
the customers a model cannot serve. The customers it can serve still get their values.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning

from ..data.parse import parse_day
from ..features.btyd import UNITS, btyd_summary
from ..result import Result, rounded
from ..settings import YamlSettings, resolve_settings
from .base import BTYD_COLUMNS, check_summary
from .models import BetaGeoModel, GammaGammaModel, ParetoNBDModel, customer_lifetime_value, net_expected_spend
from .regularity import MBGCNBDModel

MODELS = {"bgnbd": BetaGeoModel, "paretonbd": ParetoNBDModel, "mbgcnbd": MBGCNBDModel}
ONE_YEAR = {"D": 365.0, "W": 52.0, "M": 12.0}  # the default horizon, in each unit
HOLDOUT_TOP = 7  # the holdout check groups customers with 7 or more repeat purchases


MAX_PERIODS = 10_000  # each period is a pass over every customer
FEW_REPEATERS = 20  # fewer repeat buyers than this, and the estimates rest on few (a note)


@dataclass(frozen=True)
class ValueSettings(YamlSettings):
    """The purchases model and how value is counted; see the module docstring for the YAML form.

    Made by ``resolve_settings(ValueSettings, ...)`` from a YAML path or a mapping, or directly;
    a value out of range raises ``ValueError`` naming it.

    Attributes
    ----------
    model : {"bgnbd", "paretonbd", "mbgcnbd"}
        The purchases model: BG/NBD (default), Pareto/NBD or MBG/CNBD-k.
    unit : {"D", "W", "M"}
        The models' time unit: days, weeks (default) or months.
    horizon : float
        The forecast horizon, in ``unit`` (default: one year in ``unit``, 365 D, 52 W or 12 M; a fixed 52 was
        52 months with ``unit: M``).
    periods : int
        Discounting periods within the horizon (default 12).
    discount_rate : float
        The discount rate per period, at least 0 and below 1 (default 0.01).
    k_max : int
        MBG/CNBD-k: the largest regularity tried (default 12).
    """

    what: ClassVar[str] = "customer value"

    model: str = "bgnbd"
    unit: str = "W"
    horizon: float | None = None
    periods: int = 12
    discount_rate: float = 0.01
    k_max: int = 12

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.horizon is None:
            object.__setattr__(self, "horizon", ONE_YEAR[self.unit])
        for name in ("periods", "k_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        if (
            isinstance(self.horizon, bool)
            or not isinstance(self.horizon, (int, float))
            or not 0 < self.horizon < float("inf")
        ):
            raise ValueError(f"horizon must be a positive number of units, got {self.horizon!r}")
        if self.periods > MAX_PERIODS:
            raise ValueError(f"periods must be at most {MAX_PERIODS:,} (one a day for 27 years), got {self.periods!r}")
        if (
            isinstance(self.discount_rate, bool)
            or not isinstance(self.discount_rate, (int, float))
            or not 0 <= self.discount_rate < 1
        ):
            raise ValueError(f"discount_rate must be at least 0 and below 1, got {self.discount_rate!r}")

    def purchases_model(self):
        """The unfitted purchases model."""
        return MBGCNBDModel(k_max=self.k_max) if self.model == "mbgcnbd" else MODELS[self.model]()


@dataclass(repr=False)
class CustomerValue(Result):
    """Per customer (``table``, ``customer_value.csv``): the BTYD summary with ``p_alive``, ``expected_purchases``,
    ``expected_spend`` and ``clv`` (those that could be computed) and, with a holdout, ``holdout_forecast``;
    the fitted models, and one note per thing that could not be computed.

    ``summary()`` gives the totals; ``write(out)`` writes ``customer_value.csv`` and, with a
    holdout, ``holdout_check.csv``.

    Attributes
    ----------
    table : pandas.DataFrame
        ``customer_value.csv``, one row per customer: the BTYD summary (``member_id``,
        ``frequency``, ``recency``, ``T``, ``monetary_value``, ``litt`` and the holdout's
        columns), ``p_alive``, ``expected_purchases`` over the horizon, ``expected_spend``
        and ``clv`` (when the spend model could be fitted) and ``holdout_forecast``.
    purchases : BetaGeoModel, ParetoNBDModel or MBGCNBDModel
        The fitted purchases model.
    spend : GammaGammaModel or None
        The fitted spend model; None when it could not be fitted (see ``notes``).
    notes : list of str
        One note per thing that could not be computed or is uncertain.
    settings : ValueSettings
        The settings used.
    calibration_end : pandas.Timestamp
        The last day of the calibration period.
    holdout_end : pandas.Timestamp or None
        The last day of the holdout period, if any.
    holdout : pandas.DataFrame or None
        ``holdout_check.csv``: mean holdout purchases, ``actual`` and ``forecast``, by
        calibration ``repeat_purchases`` (7 = 7 or more); None without a holdout.
    """

    table: pd.DataFrame
    purchases: Any
    spend: GammaGammaModel | None
    notes: list[str]
    settings: ValueSettings
    calibration_end: pd.Timestamp
    holdout_end: pd.Timestamp | None = None

    def _describe(self) -> str:
        text = (
            f"{type(self.purchases).__name__} on {len(self.table):,} customers, calibration to "
            f"{self.calibration_end.date()}"
        )
        if "clv" in self.table:
            value = self.table["clv"].sum(min_count=1)  # no customer's value known: not 0
            shown = "none known" if pd.isna(value) else f"{value:,.0f}"
            text += f"; value over {self.settings.horizon:g} {self.settings.unit}: {shown}"
        if "holdout_forecast" in self.table:
            text += (
                f"; holdout to {self.holdout_end.date()}: actual {self.table['holdout_frequency'].sum():,.0f}, "
                f"forecast {self.table['holdout_forecast'].sum():,.0f}"
            )
        return text + (f" ({len(self.notes)} note(s))" if self.notes else "")

    def summary(self) -> pd.DataFrame:
        """Totals: customers, repeat buyers, mean P(alive), expected purchases, spend and value, and the holdout."""
        table = self.table
        rows = {
            "customers": len(table),
            "repeat buyers": int((table["frequency"] > 0).sum()),
            "mean p_alive": table["p_alive"].mean(),
        }
        for column in ("expected_purchases", "clv", "holdout_frequency", "holdout_forecast"):
            if column in table:
                rows[f"total {column}"] = table[column].sum(min_count=1)
        return pd.Series(rows, name="value").rename_axis("measure").reset_index()

    @property
    def holdout(self) -> pd.DataFrame | None:
        """Mean holdout purchases, actual and forecast, by calibration repeat purchases (7 = 7 or more): the
        check of Fader, Hardie and Lee (2005). None without a holdout."""
        if "holdout_forecast" not in self.table:
            return None
        repeat = self.table["frequency"].clip(upper=HOLDOUT_TOP).rename("repeat_purchases")
        return (
            self.table.groupby(repeat)[["holdout_frequency", "holdout_forecast"]]
            .mean()
            .rename(columns={"holdout_frequency": "actual", "holdout_forecast": "forecast"})
            .reset_index()
        )

    optional_tables = ("holdout_check.csv",)

    def tables(self) -> dict[str, pd.DataFrame]:
        money = ["monetary_value", "holdout_monetary", "expected_spend", "clv"]
        tables = {"customer_value.csv": rounded(self.table, money=money)}
        if self.holdout is not None:
            tables["holdout_check.csv"] = rounded(self.holdout)
        return tables


def customer_value(
    transactions: Any,
    calibration_end: Any,
    holdout_end: Any = None,
    settings: ValueSettings | str | Path | dict | None = None,
    *,
    backend: str = "duckdb",
    con=None,
) -> CustomerValue:
    """Fit the settings' purchases model on the purchases up to ``calibration_end`` and value every customer;
    with ``holdout_end``, forecast the holdout and set it beside what happened. ``settings``: a
    ``ValueSettings``, a YAML path or a mapping (``resolve_settings``).

    Parameters
    ----------
    transactions : pandas.DataFrame, LoadResult, Parquet path or Ibis table
        Canonical transactions (``member_id``, ``date``, ``amount``).
    calibration_end : str, date or Timestamp
        The last day the models learn from (``YYYY-MM-DD``). Only customers whose first
        purchase is on or before it are valued.
    holdout_end : str, date or Timestamp, optional
        The last day of a holdout period after ``calibration_end``: its purchases are
        forecast and set beside what happened (Fader, Hardie and Lee's check).
    settings : ValueSettings, str, Path or dict, optional
        The purchases model, time unit, horizon, discounting and ``k_max`` (the module
        docstring shows the YAML); a mapping overrides the defaults key by key. None:
        the defaults (BG/NBD in weeks, a 52-week horizon in 12 periods at 1 %).
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the summary query runs on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).

    Returns
    -------
    CustomerValue
        Every customer's P(alive), expected purchases, spend and CLV, the fitted models,
        the holdout check and notes on what could not be computed.

    Raises
    ------
    ValueError
        A setting is unknown or out of range (the message names it), a date is not a date,
        ``holdout_end`` is not after ``calibration_end``, or the purchases model could not
        be fitted (see ``MaximumLikelihoodModel.fit``). A spend model that cannot be fitted
        is a note, not an error.
    FileNotFoundError
        The settings YAML does not exist.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        A model did not converge (also said in ``notes``).

    Examples
    --------
    >>> import segkit
    >>> from segkit.synth import generate
    >>> world = generate("supplements", 300, seed=1)
    >>> value = segkit.customer_value(world.transactions, "2025-09-30", "2026-03-31")
    >>> value
    <CustomerValue BetaGeoModel on 224 customers, calibration to 2025-09-30; value over 52 W: 155,038; holdout ...>
    >>> value.holdout.round(2).head(3)
       repeat_purchases  actual  forecast
    0                 0    1.00      0.73
    1                 1    0.45      0.53
    2                 2    0.83      0.81

    Another model and horizon, by settings:

    >>> segkit.customer_value(world.transactions, "2025-09-30", settings={"model": "paretonbd", "horizon": 26})
    <CustomerValue ParetoNBDModel on 224 customers, calibration to 2025-09-30; value over 26 W: ...>
    """
    settings = resolve_settings(ValueSettings, settings)
    calibration_end = parse_day(calibration_end)
    holdout_end = None if holdout_end is None else parse_day(holdout_end)
    if holdout_end is not None and holdout_end <= calibration_end:
        raise ValueError(f"holdout_end {holdout_end.date()} must be after calibration_end {calibration_end.date()}")
    summary = btyd_summary(transactions, calibration_end, holdout_end, unit=settings.unit, backend=backend, con=con)
    repeaters = int((summary["frequency"] > 0).sum())
    if len(summary) and not repeaters:  # every model fitted "confidently" on no repeat purchase (p_alive 0.0002)
        raise ValueError(
            f"nobody of the {len(summary):,} customers bought twice by {calibration_end.date()}: a repeat-purchase "
            "model needs repeat buyers"
        )
    purchases, said = _with_warnings_as_notes(lambda: settings.purchases_model().fit(summary))
    table, spend, notes = value_table(summary, purchases, settings.horizon, settings.periods, settings.discount_rate)
    notes = [*said, *notes]
    if repeaters < FEW_REPEATERS:
        notes.insert(0, f"only {repeaters:,} customer(s) bought twice: the estimates rest on few")
    if holdout_end is not None:
        table["holdout_forecast"] = purchases.conditional_expected_purchases(
            summary["holdout_duration"].iloc[0], summary["frequency"], summary["recency"], summary["T"]
        )
    notes += _what_the_data_leave_out(transactions, summary, calibration_end, holdout_end, backend, con)
    return CustomerValue(table, purchases, spend, notes, settings, calibration_end, holdout_end)


def _what_the_data_leave_out(
    transactions: Any, summary: pd.DataFrame, calibration_end, holdout_end, backend: str, con
) -> list[str]:
    """Notes on what the summary cannot show: customers with rows but no purchase occasion by the end of the
    calibration (only refunds or cancelled orders: they are not summarized, and their holdout purchases go with
    them), a calibration that ends well past the last sale (the days after it count as silence: a helper's a=4.47,
    b=12.35 for 0.79, 2.43), and a holdout that runs well past the transactions' last sale (the purchases after it
    are not in the file: the check would read the model as over-forecasting, a helper's "actual 0, forecast 1,971";
    up to a week, or a tenth of the holdout or of the calibration, is the file's last quiet days)."""
    from ..engine import as_table, connection, fetch_arrow

    con = connection(backend, con)
    table = as_table(transactions, con, "transactions")
    found = table.aggregate(  # one pass: the customers with rows by the calibration's end, the last sale
        customers=table["member_id"].nunique(where=table["date"] < calibration_end + pd.Timedelta(days=1)),
        first=table["date"].min(),
        last=table["date"].max(where=table["amount"] > 0),
    )
    row = fetch_arrow(con, found).to_pylist()[0]
    customers, last = row["customers"], row["last"]
    span_days = (calibration_end - pd.Timestamp(row["first"]).normalize()).days if row["first"] is not None else 0
    notes = []
    if customers and customers > len(summary):
        notes.append(
            f"{customers - len(summary):,} customer(s) with rows by {calibration_end.date()} but no purchase "
            "(only refunds or cancelled orders) are left out"
        )
    if last is not None and (pd.Timestamp(last).normalize() - calibration_end).days < -max(7, 0.1 * span_days):
        notes.append(
            f"the calibration runs to {calibration_end.date()}, past the transactions' last sale on "
            f"{pd.Timestamp(last).date()}: the days after it count as silence, so customers look lost and their "
            "value too low (does the export end there? calibrate to it)"
        )
    if holdout_end is not None and last is not None:
        last = pd.Timestamp(last).normalize()
        if (holdout_end - last).days > max(7, 0.1 * (holdout_end - calibration_end).days):
            notes.append(
                f"the holdout runs to {holdout_end.date()}, past the transactions' last sale on {last.date()}: the "
                "holdout check counts no purchase after it, so the forecast looks too high"
            )
    return notes


def _with_warnings_as_notes(fit) -> tuple[Any, list[str]]:
    """``fit()``'s result and what it warned, as notes (a model the data cannot identify said so only on stderr,
    so a notebook or a scheduled report did not show it); non-convergence has a note of its own."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fitted = fit()
    said = [str(w.message) for w in caught if not issubclass(w.category, ConvergenceWarning)]
    return fitted, list(dict.fromkeys(said))


def value_table(
    summary: pd.DataFrame, purchases, horizon: float, periods: int = 12, discount_rate: float = 0.01
) -> tuple[pd.DataFrame, GammaGammaModel | None, list[str]]:
    """The summary with P(alive) from ``purchases`` (a fitted BG/NBD, Pareto/NBD or MBG/CNBD-k); expected
    purchases over ``horizon`` units; Gamma-Gamma spend and CLV (``periods``
    discounting periods within the horizon) for every customer its formula serves. Returns the table, the
    fitted spend model (None if none) and one note per thing that could not be computed."""
    check_summary(summary, (*BTYD_COLUMNS, "monetary_value"))
    table = summary.copy()
    x, t_x, T = summary["frequency"], summary["recency"], summary["T"]
    table["p_alive"] = purchases.probability_alive(x, t_x, T)
    name = type(purchases).__name__
    notes = [] if purchases.converged_ else [f"{name} did not converge: its estimates are uncertain"]
    table["expected_purchases"] = purchases.conditional_expected_purchases(horizon, x, t_x, T)
    unknown = int((~np.isfinite(table["expected_purchases"].to_numpy(dtype=float))).sum())
    if unknown:
        notes.append(
            f"{unknown:,} customer(s) get no expected_purchases: {name}'s formula has no value at its estimates"
        )
    try:
        spend, said = _with_warnings_as_notes(lambda: GammaGammaModel().fit(summary))
        notes += said
    except ValueError as error:
        notes.append(f"no expected_spend or clv: {error}")
        return table, None, notes
    if not spend.converged_:
        notes.append("GammaGammaModel did not converge: its estimates are uncertain")
    if spend.left_out_:
        notes.append(
            f"Gamma-Gamma fitted on {spend.n_:,} repeat buyers with a positive mean spend; "
            f"{spend.left_out_:,} with zero or negative spend left out of the fit"
        )
    table["expected_spend"] = net_expected_spend(spend, summary)
    table["clv"] = customer_lifetime_value(
        purchases, spend, summary, periods=periods, period_length=horizon / periods, discount_rate=discount_rate
    )
    no_value = int(np.isnan(table["clv"].to_numpy(dtype=float)).sum())
    if no_value:
        no_spend = int(np.isnan(table["expected_spend"].to_numpy(dtype=float)).sum())
        notes.append(
            f"{no_value:,} customer(s) get no clv ({no_spend:,} of them have no expected_spend: "
            "a negative mean spend, refunds above purchases)"
        )
    return table, spend, notes
