"""Who might be called, and why: candidates from the overdue alerts and from the care calendar.

A candidate row is ``CANDIDATE_COLUMNS``: ``member_id``, ``campaign``,
``reason``, ``due_date`` (the date the call is about: the missed purchase's
expected date, the birthday, the holiday), ``vip`` and ``value_at_risk``; the overdue
alerts' candidates carry their ``p_active`` too, which the ledger keeps.
Pacing (``pace``) decides which of them are called.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..calendar import holidays
from ..data.parse import parse_day, parse_flags, refuse_ids_written_otherwise
from ..data.sources import read_source
from ..messages import Catalogue, catalogue
from .pacing import ALSO_COLUMNS, BIRTHDAY, CANDIDATE_COLUMNS, HOLIDAY, ContactSettings

CALL_LIST_COLUMNS = [
    "alert_id",
    "member_id",
    "name",
    "phone",
    "tier",
    "vip",
    "advisor_id",
    "queue",
    "call_by",
    "priority",
    "reason",
    "campaign",
    "due_date",
    "value_at_risk",
]


ALERT_ID = re.compile(r"\S+-\d{8}-[0-9a-f]{10}")  # what ``alert_id`` makes


def alert_id(member_id: str, campaign: str, as_of: pd.Timestamp) -> str:
    """Stable id of one call: the same member, campaign and as-of date always give the same id."""
    digest = hashlib.sha1(f"{campaign}|{as_of:%Y-%m-%d}|{member_id}".encode()).hexdigest()[:10]
    return f"{campaign}-{as_of:%Y%m%d}-{digest}"


def alert_candidates(alerts: Any, campaign: str = "churn") -> pd.DataFrame:
    """Candidates from the alerts (``churn_alerts``; a table or its ``alerts.csv``): the missed purchase's date
    is the due date."""
    alerts = read_source(alerts).frame
    missing = [c for c in ("member_id", "reason") if c not in alerts]
    if missing:
        raise ValueError(f"the alerts lack column(s) {', '.join(missing)}; found {', '.join(map(str, alerts.columns))}")
    candidates = pd.DataFrame(
        {
            "member_id": alerts["member_id"].astype(str),
            "campaign": campaign,
            "reason": alerts["reason"].fillna("").astype(str),
            "due_date": pd.to_datetime(alerts.get("expected_next_purchase")),
            "vip": _flags(alerts["vip"]) if "vip" in alerts else False,
            "value_at_risk": pd.to_numeric(alerts.get("value_at_risk", 0.0), errors="coerce"),
            "p_active": pd.to_numeric(alerts.get("p_active", np.nan), errors="coerce"),
        }
    )
    return candidates[[*CANDIDATE_COLUMNS, "p_active"]]


def _flags(values: pd.Series) -> pd.Series:
    """Booleans from a column that may have come through CSV as text (``True``/``False``, 1/0, 是/否)."""
    if values.dtype == bool:
        return values
    parsed, _ = parse_flags(values.astype(str).replace({"nan": "", "None": ""}))
    return parsed.fillna(False).astype(bool)


def vip_flags(source: Any) -> pd.Series:
    """The ``vip`` flags by member_id of the step that knew members' spend: a boolean Series by member_id, or a
    table (or its CSV/Parquet file) with ``member_id`` and ``vip`` (``segkit segment``'s ``rfm.csv``, the
    alerts' ``member_rhythms.csv``)."""
    if isinstance(source, pd.Series):
        return _one_per_member(_flags(source).to_numpy(), source.index.to_series(), "the vip flags")
    raw = read_source(source)
    table, where = raw.frame, raw.origin
    if not {"member_id", "vip"} <= set(table.columns):
        raise ValueError(
            f"{where}: expected member_id and vip columns (segkit segment's rfm.csv, the alerts' "
            f"member_rhythms.csv); found {', '.join(map(str, table.columns))}"
        )
    return _one_per_member(_flags(table["vip"]).to_numpy(), table["member_id"], where)


def _one_per_member(flags: np.ndarray, ids: pd.Series, where: str) -> pd.Series:
    """``flags`` by member id; a row without a member, or a member in two rows, is refused: whose flag it is, or
    which of two flags holds, cannot be told."""
    blank = (ids.isna() | ids.astype(str).str.strip().eq("")).to_numpy()
    if blank.any():
        raise ValueError(
            f"{where}: {int(blank.sum()):,} rows have no member_id (the first is row {blank.argmax() + 1})"
        )
    ids = ids.astype(str)
    doubled = ids[ids.duplicated()]
    if len(doubled):
        raise ValueError(f"{where}: member_id {doubled.iloc[0]!r} is in more than one row ({doubled.nunique():,} are)")
    return pd.Series(flags, index=ids.to_numpy())


def _check_vip_ids(flagged: pd.Index, members: pd.Series) -> None:
    """Refuse VIP flags whose member ids are the members' written another way (``1`` and ``0001``): the VIPs
    would silently be nobody (no holiday greetings, no VIP queue). Flags that match no member are said in a
    warning (new members, who have bought nothing yet, are in no table of spend)."""
    if not len(flagged) or not len(members):
        return
    strangers = flagged[~flagged.isin(members)]
    if not len(strangers):
        return
    refuse_ids_written_otherwise(strangers, members, "the vip table's", "the members'")
    if len(strangers) == len(flagged):
        warnings.warn(
            f"the vip table's {len(flagged):,} member ids match none of the {len(members):,} members (vip table "
            f"{', '.join(map(repr, sorted(flagged)[:2]))}, ...; members {', '.join(map(repr, sorted(members)[:2]))}, "
            "...): no member is a VIP by it",
            stacklevel=4,
        )


def care_candidates(
    members: pd.DataFrame, as_of: Any, settings: ContactSettings | None = None, vip: Any = None
) -> pd.DataFrame:
    """Birthday greetings (birthdays within ``birthday_days_ahead``) and holiday greetings (a holiday within
    ``holiday_days_ahead``: VIPs, or everyone with ``holiday_audience: all``), DOMAIN.md section 7.

    VIPs: the ``vip`` flags of the step that knew members' spend (``vip_flags``: segmentation, alerts),
    and the members whose tier makes them VIPs under the settings' VIP rule.
    """
    settings = settings or ContactSettings()
    as_of = parse_day(as_of)
    ids = members["member_id"].astype(str)
    is_vip = (
        settings.vip.by_tier(members["tier"]).to_numpy() if "tier" in members else np.zeros(len(members), dtype=bool)
    )
    if vip is not None:
        flags = vip_flags(vip)
        _check_vip_ids(flags.index, ids)
        is_vip |= ids.map(flags).eq(True).to_numpy()
    frames = [birthday_greetings(members, as_of, settings, is_vip)]
    calendar = holidays(settings.holidays)
    ahead = calendar[(calendar >= as_of) & (calendar <= as_of + pd.Timedelta(days=settings.holiday_days_ahead))]
    if len(ahead):
        day = ahead[0]
        holiday_names = catalogue("en").section("holidays")
        name = (
            holiday_names.get(settings.holidays, holiday_names["holiday"])
            if isinstance(settings.holidays, str)
            else holiday_names["holiday"]
        )
        audience = is_vip if settings.holiday_audience == "vip" else np.ones(len(members), dtype=bool)
        frames.append(
            pd.DataFrame(
                {
                    "member_id": ids[audience],
                    "campaign": HOLIDAY,
                    "reason": f"{name} on {day:%Y-%m-%d}: holiday greeting",
                    "due_date": day,
                    "vip": is_vip[audience],
                    "value_at_risk": 0.0,
                }
            )
        )
    return pd.concat([frame for frame in frames if len(frame)] or frames, ignore_index=True)[CANDIDATE_COLUMNS]


def birthday_greetings(
    members: pd.DataFrame, as_of: pd.Timestamp, settings: ContactSettings, is_vip: np.ndarray | None = None
) -> pd.DataFrame:
    """The birthday greetings (``CANDIDATE_COLUMNS``) of the members whose birthday is within
    ``birthday_days_ahead`` of ``as_of``; ``is_vip``: the members' VIP flags (default none)."""
    if "birthday" not in members:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CANDIDATE_COLUMNS})
    upcoming = next_birthday(pd.to_datetime(members["birthday"]), as_of)
    days = (upcoming - as_of).dt.days
    due = (days >= 0) & (days <= settings.birthday_days_ahead)
    return pd.DataFrame(
        {
            "member_id": members["member_id"].astype(str)[due],
            "campaign": BIRTHDAY,
            "reason": [birthday_reason(catalogue("en"), day, as_of) for day in upcoming[due]],
            "due_date": upcoming[due],
            "value_at_risk": 0.0,
            "vip": False if is_vip is None else is_vip[due.to_numpy()],
        }
    )[CANDIDATE_COLUMNS]


def birthday_reason(text: Catalogue, birthday: pd.Timestamp, as_of: pd.Timestamp) -> str:
    """The birthday greeting's reason in ``text``'s language: "birthday on Apr 2 (in 2 days)", "4月2日生日（2天后）"
    (English in ``call_list.csv``, the sheet's language on the call sheet)."""
    days = (birthday - as_of).days
    when = (
        text.text("words.in_days.today")
        if days == 0
        else text.text("words.in_days.tomorrow")
        if days == 1
        else text.text("words.in_days.later", days=days)
    )
    return text.text("call_sheet.reasons.birthday", date=text.day(birthday), when=when)


def next_birthday(birthdays: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """The first birthday on or after ``as_of`` (29 February is celebrated on 28 February in other years)."""

    def in_year(year):
        month, day = birthdays.dt.month, birthdays.dt.day
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        day = day.where(~((month == 2) & (day == 29) & ~leap), 28)
        return pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce")

    this_year = in_year(as_of.year)
    return this_year.where(this_year >= as_of, in_year(as_of.year + 1))


def call_list_table(listed: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """The call list: ``CALL_LIST_COLUMNS`` in priority order, each row with its stable ``alert_id``, and the
    other reason the call covers (``ALSO_COLUMNS``: on the call sheet, not in ``call_list.csv``), its ``arm``
    (called, or held out as control), the chance it had of being held out (``control_p``) and the alert's
    ``p_active``: what the ledger records beside the list."""
    as_of = parse_day(as_of)
    table = listed.copy()
    table["alert_id"] = [alert_id(m, c, as_of) for m, c in zip(table["member_id"], table["campaign"])]
    table["value_at_risk"] = table["value_at_risk"].astype(float).round(2)
    return table.sort_values("priority")[
        CALL_LIST_COLUMNS + ALSO_COLUMNS + ["arm", "control_p", "p_active"]
    ].reset_index(drop=True)
