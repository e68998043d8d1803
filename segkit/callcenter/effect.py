"""Did the calls work: later purchases of the called members against the control group held out of the same lists.

Every run holds out a random share of its eligible members (``control_share``, ``control.py``): listed in the
ledger, not called. A listed member **bought** when they made a purchase (a purchase occasion,
``features.occasions``: refunds and orders cancelled the same day are not purchases) within ``window_days``
after their list day (day + 1 to day + window). Only contacts whose window has ended by ``as_of`` count; the
others are ``still_open``. A listing is compared when it had a chance of being held out (the ledger's
``control_p``: the run's ``control_share``, 0 for VIPs under ``control_vips: false``): by the design, not the
draw, so that a small list that held out nobody by chance still counts (comparing only the lists that happened
to hold someone out over-weights the control members of small lists: on simulated worlds that put the truth
outside the interval in one run of six). Each member counts once per campaign, at their first compared listing
(later listings of the same household are not independent draws, and depend on what the first call did). Where
runs held out different shares, the comparison is made within each share and combined, weighted by its listings
(post-stratification), so that a change of ``control_share`` does not mix seasons into the uplift; the interval
is then the MOVER combination of the Wilson limits (Zou and Donner 2008), which is Newcombe's for one share.

For each campaign and all of them (``campaign`` = ``all``), overall (``segment`` = ``all``) and by ``vip:yes`` /
``vip:no``, the member's segment (``rfm:<segment>``, given a segment table), ``advisor:<id>`` (the advisor a
control member would have had) and ``month:YYYY-MM`` of the list day: the rates of the two arms, their difference
``uplift`` with Newcombe's 95 % interval, ``incremental`` (extra buyers among the called: uplift x called),
``calls_per_incremental`` and ``list_days_to_detect``: at the current daily list size and the observed rates,
the list days still to run before an uplift of the observed size would be detected with 80 % power (two-sided
5 %). A small uplift on a small list can need years: that is the estimate telling you it is noise. What the
agents reported (``agent_won_back``: the called members whose latest outcome is *won back*) stands beside the
purchases, never mixed into them.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar

import ibis
import numpy as np
import pandas as pd

from ..data.parse import parse_day
from ..data.sources import read_source
from ..engine import as_table, connection, fetch_arrow, refuse_member_ids_written_otherwise
from ..features.occasions import occasions_expr
from ..io import TABLE_SUFFIXES, atomic_path
from ..messages import catalogue
from ..privacy import mask_mobiles_in
from ..result import Result, table_html
from .control import CALLED, CONTROL
from .ledger import Ledger
from .outcomes import latest_outcomes

EFFECT_COLUMNS = [
    "campaign",
    "segment",
    "called",
    "control",
    "rate_called",
    "rate_control",
    "uplift",
    "uplift_low",
    "uplift_high",
    "incremental",
    "calls_per_incremental",
    "list_days_to_detect",
    "listed_per_day",
    "called_bought",
    "control_bought",
    "still_open",
    "agent_won_back",
    "agent_won_back_share",
]
CALL_COLUMNS = ["alert_id", "run", "member_id", "campaign", "as_of", "vip", "advisor_id", "arm", "control_p"]
ALL = "all"
BREAKDOWNS = ("vip", "p_active", "rfm", "advisor", "month")  # the segments after ``all``, in this order
P_ACTIVE_BANDS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # ``p_active:0.2-0.4``: the alert's P(active) when it listed the member
WORTHWHILE_UPLIFT = 0.02  # 2 points: one extra buyer per 50 calls; less, and a group of calls is not worth making
ADVICE_COLUMNS = ["campaign", "advice", "p_active_below", "called", "control", "uplift", "uplift_high"]
CONFIDENCE = 0.95
ADVICE_MIN_ARM = 30  # members in each arm before a group of calls is advised against: fewer cannot tell
MAX_WINDOW_DAYS = 365
FULL_HISTORY_DAYS = 365  # a transactions file that starts this long before a list day holds its members' history
THIN = 0.25  # sales a day in the last window below this share of those before: the export may be incomplete
POWER = 0.80
RECENT_LIST_DAYS = 28  # the current daily list size: contacts per list day over a campaign's latest list days
NO_CONTROL = "no control group in the ledger: set control_share in the contact settings"


def wilson_interval(successes, trials, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval of a proportion (Wilson 1927), elementwise; NaN where ``trials`` is 0."""
    x, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        centre = (2 * x + z * z) / (2 * (n + z * z))
        half = z * np.sqrt(z * z + 4 * x * (1 - p)) / (2 * (n + z * z))
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


def newcombe_interval(
    successes1, trials1, successes2, trials2, confidence: float = CONFIDENCE
) -> tuple[np.ndarray, np.ndarray]:
    """The interval of ``p1 - p2`` for two independent proportions, elementwise: Newcombe's hybrid score
    interval (Newcombe, R. G. 1998, Interval estimation for the difference between independent proportions:
    comparison of eleven methods, Statistics in Medicine 17, 873-890; method 10). Each limit combines the
    Wilson score limits of the two proportions, so it stays inside [-1, 1] and keeps close to its nominal
    coverage in small groups and near 0 % or 100 %, where the usual Wald interval does not. NaN where a group
    is empty."""
    x1, n1, x2, n2 = (np.asarray(values, dtype=float) for values in (successes1, trials1, successes2, trials2))
    low1, high1 = wilson_interval(x1, n1, confidence)
    low2, high2 = wilson_interval(x2, n2, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = x1 / n1, x2 / n2
    difference = p1 - p2
    return (
        difference - np.sqrt((p1 - low1) ** 2 + (high2 - p2) ** 2),
        difference + np.sqrt((high1 - p1) ** 2 + (p2 - low2) ** 2),
    )


def contacts_to_detect(
    rate_called, rate_control, control_per_called, confidence: float = CONFIDENCE, power: float = POWER
) -> np.ndarray:
    """Listed members (called and control, ``control_per_called`` control members per called one) needed to
    detect the difference of the two rates with ``power`` in a two-sided test at level ``1 - confidence``: the
    normal approximation for two proportions in unequal groups, without continuity correction (Fleiss, Levin and
    Paik 2003, Statistical Methods for Rates and Proportions, chapter 4). NaN where the rates do not differ."""
    p1, p2, k = (np.asarray(values, dtype=float) for values in (rate_called, rate_control, control_per_called))
    z_test, z_power = NormalDist().inv_cdf(0.5 + confidence / 2), NormalDist().inv_cdf(power)
    pooled = (p1 + k * p2) / (1 + k)
    with np.errstate(divide="ignore", invalid="ignore"):
        called = (
            z_test * np.sqrt(pooled * (1 - pooled) * (1 + 1 / k)) + z_power * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / k)
        ) ** 2 / (p1 - p2) ** 2
    return np.where((p1 != p2) & (k > 0), called * (1 + k), np.nan)


@dataclass(repr=False)
class CampaignEffect(Result):
    """What the calls changed (``effect.csv``: ``table``, one row per campaign and segment, ``EFFECT_COLUMNS``),
    as of ``as_of`` over ``window_days``; ``still_open``: compared contacts whose window has not ended,
    ``not_compared``: calls that had no chance of being held out, left out; ``advice``: ``effect_advice`` at
    ``worthwhile_uplift`` (``advice.csv``). ``write`` adds the chart and the report in ``language`` (None: zh-CN).

    ``summary()`` gives the ``all`` row of every campaign; ``sentences()`` and
    ``advice_sentences()`` say the effect and the advice in plain words; ``write(out)`` writes
    ``effect.csv``, ``advice.csv``, the chart and the report (``effect.html``).

    Attributes
    ----------
    as_of : pandas.Timestamp
        The day the purchases are counted to: only listings whose window has ended by then
        are compared.
    window_days : int
        The days after a list day within which a purchase counts (day + 1 to day + window).
    table : pandas.DataFrame
        ``effect.csv`` (``EFFECT_COLUMNS``), one row per campaign (``all`` first) and segment
        (``all``, ``vip:yes``/``vip:no``, ``p_active:<band>``, ``rfm:<segment>``,
        ``advisor:<id>``, ``month:YYYY-MM``): the compared members ``called`` and
        ``control``, ``called_bought`` and ``control_bought``, the rates ``rate_called`` and
        ``rate_control``, their difference ``uplift`` with its 95 % interval
        (``uplift_low``, ``uplift_high``), ``incremental`` (extra buyers),
        ``calls_per_incremental``, ``listed_per_day`` and ``list_days_to_detect``,
        ``still_open``, and the agents' ``agent_won_back`` and ``agent_won_back_share``
        (empty without outcomes).
    still_open : int
        Compared listings whose window has not ended by ``as_of``: not counted yet.
    not_compared : int
        Calls left out of the comparison because they had no chance of being held out
        (``control_p`` 0 or unknown). A member's later calls in a campaign where they were
        already compared are left out too (each member counts once), but not counted here.
    language : str or None
        The language of the sentences, chart and report (``zh-CN`` or ``en``; None: the one
        ``use_language`` chose, else zh-CN).
    advice : pandas.DataFrame
        ``advice.csv`` (``ADVICE_COLUMNS``, ``effect_advice``): one row per campaign whose
        calls, or whose calls above a P(active) cut, are shown not worth making; no rows: no
        advice.
    worthwhile_uplift : float
        The smallest uplift worth its calls, that the advice is given at (default 0.02: one
        extra buyer per 50 calls).
    """

    percent: ClassVar[tuple[str, ...]] = ("uplift", "uplift_low", "uplift_high")

    as_of: pd.Timestamp
    window_days: int
    table: pd.DataFrame
    still_open: int
    not_compared: int
    language: str | None = None
    advice: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=ADVICE_COLUMNS))
    worthwhile_uplift: float = WORTHWHILE_UPLIFT

    def shown(self) -> pd.DataFrame:
        """``table`` without the rows of all campaigns when there is only one: they would repeat its rows."""
        single = self.table["campaign"].nunique() == 2
        return self.table.loc[~(single & (self.table["campaign"] == ALL))].reset_index(drop=True)

    def overall(self) -> pd.DataFrame:
        """The ``all`` row of every campaign (and of all campaigns, when there are several)."""
        rows = self.shown()
        return rows.loc[rows["segment"] == ALL].reset_index(drop=True)

    def named(self, rows: pd.DataFrame | None = None) -> pd.DataFrame:
        """``rows`` of the table (default: ``shown()``) with each campaign as people call it, in the report's
        language (the catalogue's campaign names; ``all``: all campaigns)."""
        texts = catalogue(self.language)
        rows = self.shown() if rows is None else rows
        return rows.assign(campaign=[_campaign_name(name, texts) for name in rows["campaign"]])

    def _describe(self) -> str:
        lines = [
            f"{row.campaign} {_points(row.uplift)} points ({_points(row.uplift_low)} to "
            f"{_points(row.uplift_high)}), {row.called:,} called, {row.control:,} control"
            for row in self.overall().itertuples()
        ]
        return (
            f"as of {self.as_of.date()}, {self.window_days}-day window: "
            + "; ".join(lines)
            + f"; {self.still_open:,} still open"
            + (f", {self.not_compared:,} calls without a chance of being held out" if self.not_compared else "")
        )

    def summary(self) -> pd.DataFrame:
        """The ``all`` rows: both arms, the uplift with its interval, calls per extra buyer, list days to detect."""
        return self.overall()[
            [
                "campaign",
                "called",
                "control",
                "rate_called",
                "rate_control",
                "uplift",
                "uplift_low",
                "uplift_high",
                "calls_per_incremental",
                "list_days_to_detect",
            ]
        ]

    def tables(self) -> dict[str, pd.DataFrame]:
        """``effect.csv``: rates, uplift and interval to 4 decimals, extra buyers and calls per extra buyer to 1;
        ``advice.csv``: the advice (no rows: none)."""
        table = self.table.copy()
        for column in ("rate_called", "rate_control", "uplift", "uplift_low", "uplift_high", "agent_won_back_share"):
            table[column] = table[column].round(4)
        for column in ("incremental", "calls_per_incremental", "listed_per_day"):
            table[column] = table[column].round(1)
        advice = self.advice.copy()
        for column in ("uplift", "uplift_high"):
            advice[column] = advice[column].astype(float).round(4)
        return {"effect.csv": table, "advice.csv": advice}

    def chart(self):
        """The uplift of every campaign and segment with its interval (``plots.uplift_chart``)."""
        from ..plots import uplift_chart

        return uplift_chart(self.shown(), self.window_days, self.language)

    def write(self, out: str | Path) -> list[Path]:
        """``effect.csv``, the chart (``charts/uplift.html``, plotly.js beside it) and the report (``effect.html``)
        in the folder ``out``; or, when ``out`` ends in ``.csv``/``.parquet``, the table there and the others
        beside it (``<stem>.html``, ``charts/``). Returns the paths."""
        from ..plots import save_charts

        out = Path(out)
        folder, stem = (out.parent, out.stem) if out.suffix.lower() in TABLE_SUFFIXES else (out, "effect")
        paths = [*super().write(out), *save_charts({"uplift": self.chart()}, folder / "charts")]
        with atomic_path(folder / f"{stem}.html") as tmp:
            tmp.write_text(self.report_html("charts/plotly.min.js"), encoding="utf-8")
        return [*paths, folder / f"{stem}.html"]

    def sentences(self) -> list[str]:
        """One line per campaign (and all of them, when there are several) in plain words: the effect, then how
        long it would take to detect an effect of that size, so that nobody reads noise as a result."""
        texts = catalogue(self.language)
        return [
            _effect_sentence(row, self.window_days, texts)
            + texts.text("effect.gap")
            + _power_sentence(row, self.window_days, texts)
            for row in self.overall().itertuples()
        ]

    def advice_sentences(self) -> list[str]:
        """The advice in plain words, one line per campaign it concerns; or one line saying that none is given,
        and why: the advice is never silent about having looked."""
        texts = catalogue(self.language)
        worthwhile = texts.text("effect.points", value=100 * self.worthwhile_uplift).lstrip("+")
        if self.advice.empty:
            return [texts.text("effect.advice.none", worthwhile=worthwhile)]
        return [
            texts.text(
                f"effect.advice.{row.advice}",
                campaign=_campaign_name(row.campaign, texts),
                cut=f"{row.p_active_below:.1f}" if pd.notna(row.p_active_below) else "",
                high=texts.text("effect.points", value=100 * row.uplift_high),
                called=f"{row.called:,}",
                control=f"{row.control:,}",
                worthwhile=worthwhile,
            )
            for row in self.advice.itertuples()
        ]

    def report_html(self, plotly_js: str = "charts/plotly.min.js") -> str:
        """The report: a small page with the sentences, the overall table and the chart (plotly.js from
        ``plotly_js``, relative to the page; from plotly's CDN when that is missing)."""
        from plotly.offline import get_plotlyjs_version

        from ..jobs.report import plotly_tags

        texts = catalogue(self.language)
        words = texts.section("effect")
        shown = self.named(self.overall())[list(words["columns"])].rename(columns=words["columns"])
        table = table_html(
            shown,
            [words["columns"][c] for c in (*self.percent, "rate_called", "rate_control", "agent_won_back_share")],
            texts.language,
        )
        counted = self.table.iloc[0]  # all campaigns, all members
        intro = texts.text(
            "effect.counted",
            called=f"{counted.called:,}",
            control=f"{counted.control:,}",
            window=self.window_days,
            open=f"{self.still_open:,}",
        )
        if self.not_compared:
            intro += " " + texts.text("effect.not_compared", calls=f"{self.not_compared:,}")
        agent = (
            ""
            if pd.isna(counted.agent_won_back_share)
            else "<p>"
            + html.escape(texts.text("effect.agent", share=_percent(counted.agent_won_back_share, texts)))
            + "</p>"
        )
        chart = self.chart().to_html(full_html=False, include_plotlyjs=False, div_id="uplift")
        items = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in self.sentences())
        advice = "".join(f"<li>{html.escape(sentence)}</li>" for sentence in self.advice_sentences())
        title = html.escape(words["title"])
        subtitle = html.escape(texts.text("effect.subtitle", window=self.window_days, as_of=f"{self.as_of:%Y-%m-%d}"))
        return (
            f"<!DOCTYPE html><html lang='{texts.language}'><head><meta charset='utf-8'><title>{title}</title>"
            f"{plotly_tags(plotly_js, get_plotlyjs_version())}<style>body{{font-family:sans-serif;max-width:64em;"
            "margin:1.5em auto;padding:0 1em;line-height:1.5}li{margin:.3em 0}</style></head><body>"
            f"<h1>{title}</h1><p>{subtitle}</p><p>{html.escape(intro)}</p><ul>{items}</ul>{agent}"
            f"<h2>{html.escape(words['headings']['advice'])}</h2><ul>{advice}</ul>"
            f"<h2>{html.escape(words['headings']['overall'])}</h2>{table}"
            f"<h2>{html.escape(words['headings']['chart'])}</h2>{chart}"
            f"<h2>{html.escape(words['headings']['method'])}</h2><p>{html.escape(words['method'])}</p>"
            f"<p>{html.escape(words['purchase'])}</p></body></html>\n"
        )


def campaign_effect(
    calls: pd.DataFrame | Ledger,
    transactions: Any,
    as_of: Any,
    window_days: int = 30,
    segments: Any = None,
    outcomes: pd.DataFrame | None = None,
    language: str | None = None,
    *,
    worthwhile_uplift: float = WORTHWHILE_UPLIFT,
    backend: str = "duckdb",
    con=None,
) -> CampaignEffect:
    """What the calls changed, as the module docstring describes. ``calls``: ``Ledger.calls()`` (one row per
    listed member per run, ``arm`` called or control) or a ``Ledger``, whose outcomes are then read too;
    ``transactions``: a canonical transactions table (or ``LoadResult``) or its file; ``segments``: a table or
    file with ``member_id`` and ``segment`` (``segkit segment``'s ``rfm.csv``); ``outcomes``: the ledger's
    outcomes (``Ledger.outcomes()``), shown beside as ``agent_won_back``; ``language``: of the report;
    ``worthwhile_uplift``: the smallest uplift worth its calls, below which ``effect_advice`` advises (default
    0.02: one extra buyer per 50 calls).

    Parameters
    ----------
    calls : pandas.DataFrame or Ledger
        The listed members: ``Ledger.calls()``, one row per listed member per run, with
        ``alert_id``, ``run``, ``member_id``, ``campaign``, ``as_of`` (the list day),
        ``vip``, ``advisor_id``, ``arm`` (``called`` or ``control``), ``control_p`` (the
        chance the member had of being held out) and, for the P(active) breakdown,
        ``p_active``. Or a ``Ledger``: its calls, and its outcomes unless ``outcomes`` is
        given.
    transactions : pandas.DataFrame, LoadResult, str, Path or Ibis table
        Canonical transactions (``member_id``, ``date``, ``amount``) or their file (loaded
        with ``load_transactions``): the purchases after the list days.
    as_of : str, date or Timestamp
        The day the purchases are counted to (``YYYY-MM-DD``); later listings and
        transactions are ignored.
    window_days : int, default 30
        The days after a list day within which a purchase counts.
    segments : pandas.DataFrame, str or Path, optional
        A table or file with ``member_id`` and ``segment`` (``segment_members``' ``rfm.csv``):
        adds the ``rfm:<segment>`` breakdown.
    outcomes : pandas.DataFrame, optional
        The outcomes the agents reported (``Ledger.outcomes()``: ``alert_id``, ``outcome``,
        ``outcome_date``), shown beside the purchases as ``agent_won_back``. None: none
        (with a ``Ledger``, its outcomes).
    language : str, optional
        The language of the sentences, chart and report (``zh-CN`` or ``en``). None: the one
        ``use_language`` chose, else zh-CN.
    worthwhile_uplift : float, default 0.02
        The smallest uplift worth its calls, above 0 and below 1: ``effect_advice`` advises
        against the calls whose interval lies below it.
    backend : {"duckdb", "spark"}, default "duckdb"
        The engine the purchases are read on.
    con : ibis.BaseBackend, optional
        A connection to run on (default: a new one to ``backend``).

    Returns
    -------
    CampaignEffect
        The effect table (``effect.csv``) by campaign and segment, the counts left out or
        still open, and the advice (``advice.csv``); ``sentences()`` says it in plain words.

    Raises
    ------
    ValueError
        ``as_of`` is not a date; ``window_days`` is not a whole number of at least 1, or
        ``worthwhile_uplift`` not a share above 0 and below 1; the calls hold no control
        member (no ``control_share`` in the contact settings) or lack a column; a campaign
        is named ``all``; the transactions hold no purchase; no list was made by ``as_of`` (or
        by the transactions' last day, when they end before it); no control member's window has
        ended by then (the message says when the first ends); the segment table lacks
        ``member_id`` or ``segment``; or the transactions lack a required column (a file that
        cannot be read as transactions: ``ContractError``).
    LedgerError
        ``calls`` is a ``Ledger`` that cannot be read.
    FileNotFoundError
        The transactions or segments file does not exist.

    Examples
    --------
    One list of 12 members on 5 January, a quarter held out as control (in practice:
    ``segkit.campaign_effect(Ledger(path), "transactions.csv", as_of)``). Four called
    members bought within 30 days, one control member did; M04's purchase came after its
    window and does not count:

    >>> import pandas as pd
    >>> import segkit
    >>> ids = [f"M{i:02d}" for i in range(12)]
    >>> calls = pd.DataFrame({
    ...     "alert_id": [f"churn-20260105-{m}" for m in ids], "run": "churn", "member_id": ids,
    ...     "campaign": "churn", "as_of": pd.Timestamp("2026-01-05"), "vip": False,
    ...     "advisor_id": "A1", "arm": ["called"] * 8 + ["control"] * 4, "control_p": 0.25})
    >>> transactions = pd.DataFrame({
    ...     "member_id": ["M00", "M01", "M02", "M03", "M04", "M08"],
    ...     "date": pd.to_datetime(["2026-01-08", "2026-01-12", "2026-01-20", "2026-02-01",
    ...                             "2026-02-10", "2026-01-15"]),
    ...     "amount": [120.0, 80.0, 95.0, 60.0, 100.0, 110.0]})
    >>> effect = segkit.campaign_effect(calls, transactions, "2026-02-10", language="en")
    >>> effect
    <CampaignEffect as of 2026-02-10, 30-day window: churn +25.0 points (-28.2 to +60.1),
    8 called, 4 control; 0 still open>
    >>> effect.summary()[["campaign", "called", "control", "rate_called", "rate_control", "uplift"]]
      campaign  called  control  rate_called  rate_control  uplift
    0    churn       8        4          0.5          0.25    0.25
    >>> print(effect.sentences()[0])
    overdue: calling raised the 30-day purchase rate from 25.0 % to 50.0 % (+25.0 points,
    95 % interval -28.2 to +60.1); 4 calls per household won back; the interval includes
    zero, so this may be chance. At about 12 listed members a day, a difference of +25.0
    points would be detected with 80 % power after about 10 more list days and their
    30-day windows; until then, read the interval, not the estimate.
    """
    as_of = parse_day(as_of)
    _check_window(window_days)
    if (
        isinstance(worthwhile_uplift, bool)
        or not isinstance(worthwhile_uplift, (int, float))
        or not 0 < worthwhile_uplift < 1
    ):
        raise ValueError(f"worthwhile_uplift must be a share above 0 and below 1, got {worthwhile_uplift!r}")
    if isinstance(calls, Ledger):
        outcomes = calls.outcomes() if outcomes is None else outcomes
        calls = calls.calls()
    if isinstance(transactions, (str, Path)):
        from ..data import load_transactions

        transactions = load_transactions(transactions)
    con = connection(backend, con)
    as_of, first_sale = _within_the_data(transactions, as_of, window_days, con)
    listed = listed_contacts(calls, as_of, window_days)
    contaminated = _contaminated(listed, window_days)
    if len(contaminated):
        warnings.warn(
            f"{int(contaminated.sum()):,} control member(s) were listed to be called within their own "
            f"{window_days}-day window ("
            + ", ".join(f"{campaign}: {count:,}" for campaign, count in contaminated.items())
            + "): they count as not called, so the uplift understates the calls'; keep control_days at least "
            "the window",
            stacklevel=2,
        )
    listed["bought"] = _bought(listed, transactions, as_of, window_days, con, first_sale)
    listed["won_back"] = _won_back(listed["alert_id"], outcomes, as_of)
    table = _effect_table(listed, _segments(listed, segments), outcomes is not None)
    still_open = int((listed["compared"] & ~listed["ended"]).sum())
    not_compared = int((listed["control_p"].le(0) & listed["arm"].eq(CALLED)).sum())  # no chance of control
    return CampaignEffect(
        as_of,
        window_days,
        table,
        still_open,
        not_compared,
        language,
        effect_advice(listed, worthwhile_uplift),
        worthwhile_uplift,
    )


def listed_contacts(calls: pd.DataFrame, as_of: Any, window_days: int = 30) -> pd.DataFrame:
    """The contacts listed up to ``as_of``, with ``list_day``, ``compared`` (they had a chance of being held out,
    ``control_p`` > 0, and it is the member's first such listing in the campaign: each member counts once) and
    ``ended`` (their window ended by ``as_of``).
    Refuses (one line) calls without control members or without a control member's ended window: what
    ``segkit effect`` checks before it loads the transactions.

    Parameters
    ----------
    calls : pandas.DataFrame
        ``Ledger.calls()``: ``alert_id``, ``run``, ``member_id``, ``campaign``, ``as_of``,
        ``vip``, ``advisor_id``, ``arm`` and ``control_p`` (``CALL_COLUMNS``), and
        ``p_active`` when known.
    as_of : str, date or Timestamp
        The day the windows are checked on (``YYYY-MM-DD``); later listings are left out.
    window_days : int, default 30
        The days after a list day within which a purchase counts.

    Returns
    -------
    pandas.DataFrame
        One row per listing up to ``as_of``: ``CALL_COLUMNS`` without ``as_of``, then
        ``list_day``, ``p_active`` (NaN when unknown), ``compared`` and ``ended``.

    Raises
    ------
    ValueError
        ``as_of`` is not a date, ``window_days`` is not a whole number of at least 1, the
        calls hold no control member or lack a column, a campaign is named ``all``, no list was
        made by ``as_of``, or no control member's window has ended by then.
    """
    as_of = parse_day(as_of)
    _check_window(window_days)
    if "arm" not in calls:
        raise ValueError(NO_CONTROL)
    missing = [column for column in CALL_COLUMNS if column not in calls]
    if missing:
        raise ValueError(
            f"the calls lack column(s) {', '.join(missing)} (Ledger.calls() has them); found "
            f"{', '.join(map(str, calls.columns))}"
        )
    calls = calls.reset_index(drop=True)  # one row, one label: a caller's concatenation may repeat them
    strangers = sorted(set(calls["arm"].dropna().astype(str)) - {CALLED, CONTROL})
    if strangers or calls["arm"].isna().any():  # they were dropped, and their lists' windows read as still open
        raise ValueError(
            f"the ledger's calls have arm(s) {', '.join(map(repr, strangers or [None]))}: a listing is {CALLED!r} "
            f"or {CONTROL!r}; is the ledger from another program?"
        )
    listed = (
        calls[CALL_COLUMNS]
        .assign(
            member_id=calls["member_id"].astype(str),
            list_day=pd.to_datetime(calls["as_of"]).dt.normalize(),
            vip=calls["vip"].eq(True),
            control_p=_control_shares(calls),
            p_active=pd.to_numeric(calls["p_active"]) if "p_active" in calls else np.nan,
        )
        .drop(columns="as_of")
    )
    arms = listed.groupby(["member_id", "campaign", "list_day"])["arm"].nunique()
    if (arms > 1).any():  # the comparison would count them as called
        (member, campaign, day), *_ = arms.index[arms > 1]
        raise ValueError(
            f"{int((arms > 1).sum()):,} member(s) both called and held out on one list day (member {member}, "
            f"campaign {campaign}, {day:%Y-%m-%d}): the ledger is damaged"
        )
    if len(listed) and not (listed["list_day"] <= as_of).any():
        raise ValueError(f"no call list was made on or before {as_of:%Y-%m-%d}: nothing to measure yet")
    listed = listed.loc[listed["list_day"] <= as_of]
    if listed["campaign"].eq(ALL).any():
        raise ValueError(f"a campaign is named {ALL!r}, the name of all campaigns together: rename its runs")
    # one unit per member and campaign, their first listing with a chance of being held out: later listings of
    # the same member are not independent draws (a household that keeps not buying is listed again and again)
    first = (
        listed.loc[listed["control_p"] > 0]
        .sort_values(["list_day", "run"], kind="stable")
        .drop_duplicates(["member_id", "campaign"])
        .index
    )
    listed["compared"] = listed.index.isin(first)
    listed["ended"] = listed["list_day"] + pd.Timedelta(days=window_days) <= as_of
    control = listed["arm"].eq(CONTROL)
    if not control.any():
        raise ValueError(NO_CONTROL)
    if not (listed["ended"] & control).any():
        first = listed.loc[control, "list_day"].min() + pd.Timedelta(days=window_days)
        raise ValueError(
            f"no {window_days}-day window of a control member has ended by {as_of:%Y-%m-%d}: the "
            f"first ends on {first:%Y-%m-%d}"
        )
    return listed.reset_index(drop=True)


def _check_window(window_days: Any) -> None:
    if (
        isinstance(window_days, bool)
        or not isinstance(window_days, (int, np.integer))
        or not 1 <= window_days <= MAX_WINDOW_DAYS
    ):
        raise ValueError(f"window_days must be a whole number of days from 1 to {MAX_WINDOW_DAYS}, got {window_days!r}")


def _contaminated(listed: pd.DataFrame, window_days: int) -> pd.Series:
    """Per campaign, the control members (compared) whom the same campaign listed to be called within their own
    window: their purchases no longer measure "not called"."""
    control = listed.loc[listed["compared"] & listed["arm"].eq(CONTROL), ["member_id", "campaign", "list_day"]]
    called = listed.loc[listed["arm"].eq(CALLED), ["member_id", "campaign", "list_day"]]
    pairs = control.merge(called, on=["member_id", "campaign"], suffixes=("", "_called"))
    late = pairs["list_day_called"] - pairs["list_day"]
    inside = pairs.loc[(late > pd.Timedelta(0)) & (late <= pd.Timedelta(days=window_days))]
    return inside.drop_duplicates(["member_id", "campaign"]).groupby("campaign").size()


def _control_shares(calls: pd.DataFrame) -> pd.Series:
    """Each listing's chance of being held out (``control_p``). A ledger made before segkit recorded it (an
    upgraded one) holds runs with control members but no share: their share is the one they held out, with a
    warning; a run without control members and without a share had no chance (0)."""
    share = pd.to_numeric(calls["control_p"])
    unknown = share.isna()
    if not unknown.any():
        return share
    day = pd.to_datetime(calls["as_of"]).dt.normalize()
    held = calls["arm"].eq(CONTROL).groupby([calls["run"], day]).transform("mean")
    guessed = unknown & held.gt(0)
    if guessed.any():
        runs = calls["run"].astype(str) + " of " + day.dt.strftime("%Y-%m-%d")
        warnings.warn(
            f"{runs[guessed].nunique():,} run(s) with control members but no recorded control share (a ledger from "
            f"before segkit recorded it; {runs[guessed].iloc[0]}, ...): taken as the share they held out",
            stacklevel=4,
        )
    return share.where(~unknown, held.where(guessed, 0.0))


def _within_the_data(
    transactions: Any, as_of: pd.Timestamp, window_days: int, con: ibis.BaseBackend
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The transactions' first day of sale, and ``as_of``, or their last day of sale when they end before it
    (with a warning): a window that
    ends after the export's last day cannot be scored, for a purchase after that day would not be in the file;
    counting it as "did not buy" would bias the rates without a word. A refund or a cancelled order's reversal
    (a negative amount) is no sale: one dated weeks after the last sale made the file look complete. Sales that
    thin out in the last window (below ``THIN`` of the 90 days before) are warned about: an export cut short
    with a late row or two."""
    table = as_table(transactions, con, "transactions")
    sales = table.filter(table["amount"] > 0)
    span = fetch_arrow(con, sales.aggregate(first=sales["date"].min(), last=sales["date"].max())).to_pylist()[0]
    first, last = span["first"], span["last"]
    if last is None:  # every member would count as not having bought: rates of 0 against 0, without a word
        raise ValueError("the transactions hold no purchase: nothing to tell who bought after the calls")
    end = min(as_of, pd.Timestamp(last).normalize())
    if end < as_of:
        warnings.warn(
            f"the transactions end on {end:%Y-%m-%d}, before {as_of:%Y-%m-%d}: measured as of {end:%Y-%m-%d} "
            "(a window ending later is still open: its purchases would not be in the file)",
            stacklevel=3,
        )
    recent, start = end - pd.Timedelta(days=window_days), end - pd.Timedelta(days=window_days + 90)
    day = sales["date"]
    counts = sales.aggregate(
        before=((day > start) & (day <= recent)).sum(),
        after=((day > recent) & (day < end + pd.Timedelta(days=1))).sum(),
    )
    found = fetch_arrow(con, counts).to_pylist()[0]
    before, after = (found["before"] or 0) / 90, (found["after"] or 0) / window_days
    if before > 0 and after < THIN * before:
        warnings.warn(
            f"the transactions thin out: {after:.1f} sales a day in the {window_days} days to {end:%Y-%m-%d} "
            f"against {before:.1f} in the 90 days before; is the export complete? (a purchase missing from it "
            "counts as none)",
            stacklevel=3,
        )
    return end, pd.Timestamp(first).normalize()


def _bought(
    listed: pd.DataFrame,
    transactions: Any,
    as_of: pd.Timestamp,
    window_days: int,
    con: ibis.BaseBackend,
    first_sale: pd.Timestamp,
) -> np.ndarray:
    """Whether each listed member made a purchase within ``window_days`` after their list day (up to ``as_of``);
    ``first_sale``: the transactions' first day of sale."""
    members = ibis.memtable(pd.DataFrame({"member_id": listed["member_id"].unique()}))
    transactions = as_table(transactions, con, "transactions")
    refuse_member_ids_written_otherwise(con, members, transactions, "the ledger's", "the transactions'")
    occasions = occasions_expr(transactions, as_of).semi_join(members, "member_id")
    days = fetch_arrow(con, occasions.select("member_id", "day")).to_pandas()
    days = pd.DataFrame(
        {"member_id": days["member_id"].astype(str).to_numpy(), "day": days["day"].astype("int64").to_numpy()}
    ).sort_values("day", kind="stable")
    first_day = (listed["list_day"] - pd.Timestamp(0)).dt.days.astype("int64") + 1
    # an alert is for a member who bought before it: none at all, in a file that starts a year before the list
    # day (an export of the whole history), is a file that lacks them; a shorter export may simply start later
    history = listed["list_day"] - first_sale >= pd.Timedelta(days=FULL_HISTORY_DAYS)
    counted = listed.loc[listed["compared"] & listed["ended"] & history, "member_id"]
    absent = counted[~counted.isin(days["member_id"])].unique()
    if len(absent):
        warnings.warn(
            f"{len(absent):,} of the {counted.nunique():,} members compared have no purchase at all in the "
            f"transactions ({', '.join(sorted(absent)[:2])}, ...): they count as not having bought; is the file "
            "the whole export?",
            stacklevel=3,
        )
    wanted = pd.DataFrame(
        {"member_id": listed["member_id"].to_numpy(), "first_day": first_day.to_numpy(), "row": np.arange(len(listed))}
    ).sort_values("first_day", kind="stable")
    found = pd.merge_asof(wanted, days, left_on="first_day", right_on="day", by="member_id", direction="forward")
    bought = found["day"].notna() & (found["day"] < found["first_day"] + window_days)
    return bought.to_numpy()[np.argsort(found["row"].to_numpy())]


def _won_back(alert_ids: pd.Series, outcomes: pd.DataFrame | None, as_of: pd.Timestamp) -> np.ndarray:
    """Whether the latest outcome the agents reported up to ``as_of`` for each call is *won back*."""
    if outcomes is None or outcomes.empty:
        return np.zeros(len(alert_ids), dtype=bool)
    reported = outcomes.assign(outcome_date=pd.to_datetime(outcomes["outcome_date"]))
    latest = latest_outcomes(reported.loc[reported["outcome_date"] <= as_of]).set_index("alert_id")["outcome"]
    return alert_ids.map(latest).eq("won_back").to_numpy()


def _segments(listed: pd.DataFrame, segments: Any) -> dict[str, pd.Series]:
    """Each contact's label in every breakdown (``BREAKDOWNS``; ``rfm`` only with a segment table)."""
    labels = {"vip": "vip:" + listed["vip"].map({True: "yes", False: "no"})}
    if segments is not None:
        raw = read_source(segments)
        table = raw.frame
        if not {"member_id", "segment"} <= set(table.columns):
            raise ValueError(
                f"{raw.origin}: expected member_id and segment columns (segkit segment's rfm.csv); "
                f"found {', '.join(map(str, table.columns))}"
            )
        segment = table.assign(member_id=table["member_id"].astype(str))
        conflicting = segment.drop_duplicates(["member_id", "segment"])["member_id"].duplicated()
        if conflicting.any():
            raise ValueError(f"{raw.origin}: {int(conflicting.sum()):,} member(s) in two segments; one segment each")
        found = listed["member_id"].map(segment.drop_duplicates("member_id").set_index("member_id")["segment"])
        if found.isna().all():
            ours, theirs = sorted(listed["member_id"])[:2], sorted(segment["member_id"])[:2]
            raise ValueError(
                f"{raw.origin}: none of the listed members is in it (listed {', '.join(ours)}, ...; the file "
                f"{', '.join(theirs)}, ...); are the ids written alike?"
            )
        if found.isna().any():
            warnings.warn(
                f"{raw.origin}: {int(found.isna().sum()):,} of {len(found):,} listings are of members not in it: "
                "segment rfm:unknown",
                stacklevel=3,
            )
        labels["rfm"] = "rfm:" + found.fillna("unknown").astype(str)
    bands = pd.cut(
        listed["p_active"],
        list(P_ACTIVE_BANDS[:-1]) + [np.inf],
        right=False,
        labels=[f"{low:.1f}-{high:.1f}" for low, high in zip(P_ACTIVE_BANDS, P_ACTIVE_BANDS[1:])],
    )
    labels["p_active"] = ("p_active:" + bands.astype(str)).where(bands.notna())  # unknown: in no band
    labels["advisor"] = "advisor:" + listed["advisor_id"].fillna("none").astype(str).replace("", "none")
    labels["month"] = "month:" + listed["list_day"].dt.strftime("%Y-%m")
    for name in ("rfm", "advisor"):  # typed by people: an advisor id or a segment may be someone's mobile number
        if name in labels:
            labels[name] = labels[name].map({label: mask_mobiles_in(label) for label in labels[name].unique()})
    return {name: labels[name] for name in BREAKDOWNS if name in labels}


def _effect_table(listed: pd.DataFrame, labels: dict[str, pd.Series], with_outcomes: bool) -> pd.DataFrame:
    """``effect.csv``: the counts of every campaign (and ``all``) and segment with compared contacts, then their
    rates, interval and power; ordered by campaign (``all`` first), then ``all``, then the breakdowns. The daily
    list size counts every member listed by a campaign that holds out control groups, compared or not (a small
    list may hold out nobody by chance)."""
    counts = _counts(listed)
    everyone = pd.Series(ALL, index=listed.index)
    # the lists of the campaigns (VIP or not) that hold out control groups; their latest days give the daily size
    holding_out = listed.groupby(["campaign", "vip"])["compared"].transform("any").astype(bool)
    days = listed["list_day"].where(holding_out)
    list_days = {ALL: days.nunique(), **days.groupby(listed["campaign"]).nunique()}
    parts = []
    for campaign in (listed["campaign"], everyone):
        latest = days.groupby(campaign).rank(method="dense", ascending=False) <= RECENT_LIST_DAYS
        for segment in (everyone, *labels.values()):
            parts.append(
                counts.assign(recent=latest)
                .groupby([campaign.rename("campaign"), segment.rename("segment"), listed["control_p"].rename("share")])
                .sum()
            )
    table = _combined(pd.concat(parts).reset_index())
    table = table.loc[table["listed"] > 0].reset_index(drop=True)
    table["listed_per_day"] = table["recent"] / table["campaign"].map(list_days).clip(upper=RECENT_LIST_DAYS)
    table = _rates(table, with_outcomes)
    kind = table["segment"].str.split(":").str[0].map({ALL: 0, **{k: i + 1 for i, k in enumerate(BREAKDOWNS)}})
    order = table.assign(per_campaign=table["campaign"] != ALL, kind=kind, after_yes=table["segment"] != "vip:yes")
    order = order.sort_values(["per_campaign", "campaign", "kind", "after_yes", "segment"], kind="stable")
    return order[EFFECT_COLUMNS].reset_index(drop=True)


def _counts(listed: pd.DataFrame) -> pd.DataFrame:
    """What each listing adds to its group's counts (booleans to sum)."""
    called, control, compared = listed["arm"].eq(CALLED), listed["arm"].eq(CONTROL), listed["compared"]
    counted = compared & listed["ended"]
    return pd.DataFrame(
        {
            "called": counted & called,
            "control": counted & control,
            "called_bought": counted & called & listed["bought"],
            "control_bought": counted & control & listed["bought"],
            "still_open": compared & ~listed["ended"],
            "listed": compared,
            "agent_won_back": counted & called & listed["won_back"],
        }
    )


def effect_advice(listed: pd.DataFrame, worthwhile_uplift: float = WORTHWHILE_UPLIFT) -> pd.DataFrame:
    """What the effect says about the alert settings (``ADVICE_COLUMNS``), one row per campaign that shows, with
    95 % confidence over the groups it tries (Bonferroni: each group's interval at 1 - 5 % / k for the k groups
    of a campaign with enough members, a P(active) cut counting when it leaves members out), calls not worth
    making: an uplift whose upper limit is below ``worthwhile_uplift``, in a group
    of at least ``ADVICE_MIN_ARM`` members in each arm (fewer cannot tell: a helper got "not worth it" from one
    control member, and from five whose true uplift was +3.9 points).
    ``advice`` is ``p_active_below`` when the calls to members whose alert gave them a P(active) of
    ``p_active_below`` or more show it (the lowest such cut of ``P_ACTIVE_BANDS`` that leaves members below it:
    the alert threshold that would stop those calls), or ``campaign`` when the campaign's calls as a whole do.
    Nothing is changed: the advice is read by people (``segkit effect`` prints it, the report shows it).
    ``listed``: ``listed_contacts`` with ``bought`` and ``won_back``.

    Parameters
    ----------
    listed : pandas.DataFrame
        The listings (``listed_contacts``) with ``bought`` (a purchase within the window) and
        ``won_back`` (the agents' latest outcome), as ``campaign_effect`` adds them.
    worthwhile_uplift : float, default 0.02
        The smallest uplift worth its calls: a group of calls whose interval's upper limit is
        below it is advised against.

    Returns
    -------
    pandas.DataFrame
        ``advice.csv`` (``ADVICE_COLUMNS``), one row per campaign advised on: ``campaign``,
        ``advice`` (``campaign`` or ``p_active_below``), ``p_active_below`` (the cut; NaN for
        ``campaign``), the ``called`` and ``control`` members of the group, its ``uplift``
        and ``uplift_high``. No rows: no advice.
    """
    counts = _counts(listed)
    share = listed["control_p"].rename("share")
    groups = [counts.groupby([listed["campaign"], pd.Series(ALL, index=listed.index, name="segment"), share]).sum()]
    for cut in P_ACTIVE_BANDS[1:-1]:
        above = listed["p_active"] >= cut
        groups.append(
            counts.loc[above]
            .groupby([listed["campaign"], pd.Series(f"{cut:g}", index=listed.index, name="segment"), share])
            .sum()
        )
    strata = pd.concat(groups).reset_index()
    counted = listed["compared"] & listed["ended"]
    rows = []
    for campaign, own in strata.groupby("campaign", sort=True):
        sizes = own.groupby("segment")[["called", "control"]].sum()
        enough = (sizes["called"] >= ADVICE_MIN_ARM) & (sizes["control"] >= ADVICE_MIN_ARM)
        # the groups tried: enough members, and a cut that leaves some out (else it is the campaign again)
        tried = enough & ((sizes.index == ALL) | (sizes.sum(axis=1) < sizes.sum(axis=1).get(ALL, 0)))
        if not tried.any():
            continue
        own = _combined(own, confidence=1 - (1 - CONFIDENCE) / int(tried.sum()))
        not_worth = own.loc[
            own["segment"].map(tried).fillna(False).astype(bool) & (own["uplift_high"] < worthwhile_uplift)
        ]
        if (not_worth["segment"] == ALL).any():
            rows.append(not_worth.loc[not_worth["segment"] == ALL].iloc[0].to_dict() | {"advice": "campaign"})
            continue
        below_some = [
            cut
            for cut in not_worth["segment"].astype(float)
            if (counted & listed["campaign"].eq(campaign) & (listed["p_active"] < cut)).any()
        ]
        if below_some:
            cut = min(below_some)
            rows.append(
                not_worth.loc[not_worth["segment"] == f"{cut:g}"].iloc[0].to_dict()
                | {"advice": "p_active_below", "p_active_below": cut}
            )
    advice = pd.DataFrame(rows, columns=[*ADVICE_COLUMNS, "segment"])
    return advice[ADVICE_COLUMNS].astype({"called": int, "control": int}).reset_index(drop=True)


def _combined(strata: pd.DataFrame, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """One row per campaign and segment from its rows per share held out (``share``): the counts summed; the
    rates and the uplift's interval over the shares whose listings hold both arms, each share weighted by its
    listings (post-stratification), the interval by MOVER over the Wilson limits (Zou, G. Y. and Donner, A.
    2008, Construction of confidence limits about effect measures: a general approach, Statistics in Medicine
    27, 1693-1702): with one share, Newcombe's interval."""
    key = ["campaign", "segment"]
    both = strata.loc[(strata["share"] > 0) & (strata["called"] > 0) & (strata["control"] > 0)].copy()
    n1, n2 = both["called"].astype(float), both["control"].astype(float)
    both["weight"] = (n1 + n2) / (n1 + n2).groupby([both[k] for k in key]).transform("sum")
    p1, p2 = both["called_bought"] / n1, both["control_bought"] / n2
    low1, high1 = wilson_interval(both["called_bought"], n1, confidence)
    low2, high2 = wilson_interval(both["control_bought"], n2, confidence)
    w = both["weight"]
    both = both.assign(
        rate_called=w * p1,
        rate_control=w * p2,
        below=w**2 * ((p1 - low1) ** 2 + (high2 - p2) ** 2),
        above=w**2 * ((high1 - p1) ** 2 + (p2 - low2) ** 2),
    )
    rates = both.groupby(key)[["rate_called", "rate_control", "below", "above"]].sum()
    table = strata.drop(columns="share").groupby(key, sort=False).sum().join(rates).reset_index()
    table["uplift"] = table["rate_called"] - table["rate_control"]
    table["uplift_low"] = table["uplift"] - np.sqrt(table.pop("below"))
    table["uplift_high"] = table["uplift"] + np.sqrt(table.pop("above"))
    # where no share holds both arms, each arm's own rate (the uplift stays unknown)
    for rate, bought, arm in (
        ("rate_called", "called_bought", "called"),
        ("rate_control", "control_bought", "control"),
    ):
        table[rate] = table[rate].fillna(table[bought] / table[arm].where(table[arm] > 0))
    return table


def _rates(table: pd.DataFrame, with_outcomes: bool) -> pd.DataFrame:
    """Extra buyers and the power figure from the counts and rates."""
    called, control = table["called"].astype(float), table["control"].astype(float)
    table["incremental"] = table["uplift"] * called
    table["calls_per_incremental"] = called / table["incremental"].where(table["incremental"] > 0)
    needed = contacts_to_detect(table["rate_called"], table["rate_control"], control / called.where(called > 0))
    per_day = table["listed_per_day"]
    days = np.ceil(np.maximum(needed - table["listed"], 0) / per_day.where(per_day > 0))
    ongoing = ~table["segment"].str.startswith("month:")  # a month's lists do not go on
    table["listed_per_day"] = per_day.where(ongoing)
    table["list_days_to_detect"] = pd.array(
        np.where(np.isfinite(days) & ongoing, days, np.nan), dtype="Float64"
    ).astype("Int64")
    table["agent_won_back_share"] = table["agent_won_back"] / called.where(called > 0) if with_outcomes else np.nan
    if not with_outcomes:
        table["agent_won_back"] = pd.NA
    return table


def _campaign_name(campaign: str, texts) -> str:
    """A campaign as people call it (the catalogue's campaign names; ``all``: all campaigns)."""
    if campaign == ALL:
        return texts.text("effect.all_campaigns")
    return texts.section("campaigns").get(campaign, campaign)


def _percent(share: float, texts) -> str:
    return texts.text("effect.percent", value=100 * share)


def _points(difference: float) -> str:
    return "-" if pd.isna(difference) else f"{100 * difference:+.1f}"


def _effect_sentence(row, window_days: int, texts) -> str:
    """What calling did to the purchase rate of one campaign, with its interval and calls per extra buyer."""
    fields = {"campaign": _campaign_name(row.campaign, texts), "window": window_days}
    if pd.isna(row.uplift):
        return texts.text("effect.not_measured", **fields)
    fields.update(
        called=_percent(row.rate_called, texts),
        control=_percent(row.rate_control, texts),
        uplift=texts.text("effect.points", value=100 * row.uplift),
        low=texts.text("effect.points", value=100 * row.uplift_low),
        high=texts.text("effect.points", value=100 * row.uplift_high),
    )
    direction = "raised" if row.uplift > 0 else "lowered" if row.uplift < 0 else "same"
    sentence = texts.text(f"effect.{direction}", **fields)
    if pd.notna(row.calls_per_incremental):
        sentence += texts.text("effect.per_household", calls=f"{row.calls_per_incremental:,.0f}")
    if row.uplift_low <= 0 <= row.uplift_high:
        sentence += texts.text("effect.chance")
    return sentence + texts.text("effect.end")


def _power_sentence(row, window_days: int, texts) -> str:
    """How many more list days would detect an uplift of the size seen (80 % power, two-sided 5 %)."""
    if pd.isna(row.list_days_to_detect):
        return texts.text("effect.power_unknown")
    uplift = texts.text("effect.points", value=100 * row.uplift)
    if row.list_days_to_detect == 0:
        return texts.text("effect.power_enough", uplift=uplift, window=window_days)
    daily = f"{row.listed_per_day:,.0f}" if row.listed_per_day >= 10 else f"{row.listed_per_day:.1f}"
    return texts.text(
        "effect.power_days", uplift=uplift, days=f"{int(row.list_days_to_detect):,}", daily=daily, window=window_days
    )
