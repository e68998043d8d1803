"""Contact pacing: who may be called today, in what order and by whom. A pure function of tables.

The rules (``../shared/DOMAIN.md`` section 4: service, not harassment), in the
order they are checked; a candidate held back by one is written to
``held_back.csv`` with the rule and a sentence:

=================  ==============================================================
not_a_member       not in the members table (nobody to call)
do_not_call        ``do_not_call`` in the CRM (any row of the member; a value that is not
                   a readable yes/no counts as yes)
asked_not_to_call  *asked not to be called* in an outcome up to today (for good)
no_phone           no phone number on file
wrong_number       a *wrong number* reported for the phone still on file
switched           *switched supplier* reported in the last ``switched_hold_days``
won_back           *won back* reported in the last ``won_back_hold_days``: the household
                   said it would buy again; calling before its next purchase is due would
                   be the harassment the alert is meant to avoid (care greetings still go)
window             contacted (any campaign) less than ``window_days`` ago, or, when a
                   recorded day is replaced, less than ``window_days`` later; a call is
                   a contact on the day of its latest outcome, else on its list's day
control_group      held out as a control member ``control_days`` or fewer days ago (any
                   campaign): not called while their later purchases measure the calls (a
                   window of 30 days counts purchases up to day 30: a call that day would blur it)
monthly_cap        ``max_per_30_days`` contacts already in a 30-day span that contains today
later_day          a holiday greeting beyond today's share: a later day before the holiday
                   takes it
capacity_full      a holiday greeting still owed on the holiday itself (or after) that the
                   day's capacity cannot take: not made
once_per_list      already listed in this run for another reason
=================  ==============================================================

Holiday greetings (campaign ``holiday``) are spread over the days before the
holiday: each day lists its share of those still owed (owed / days left, all of
them on the day itself), VIPs and the most valuable first, cut so that the day's
calls stay within the advisors' daily capacity (the sum over active advisors, with
the calls other runs recorded for the same day counted against it). What cannot be
greeted before the holiday is said in ``PacedList.notes``. A greeting of a member
who has another call in this list rides along with that call instead.

The rest are listed and ranked: VIPs first, then by value at risk, then by
the date the call is about. Each dedicated advisor takes their members up to
their daily capacity (``daily_calls`` in the advisors table, else
``advisor_daily_calls``) less the calls other runs gave them that day; the rest
go to a queue: the VIP queue for VIPs, otherwise their advisor's team queue. A
contact that ended in *no answer* counts like any other: the member may be tried
again after the window.

One call covers every reason due: a listed call carries the member's other reason
in ``also_campaign`` and ``also_due_date`` (``ALSO_COLUMNS``; empty and NaT when
none): a candidate of this list held back as listed once, or a greeting of ``also``
(the export passes the birthdays, so the churn call of a member whose birthday is
near greets them too).

Flags are not trusted to be booleans: a ``do_not_call`` or ``active`` column
of text (a DataFrame built in Python, not by the loader) is read with
``parse_flags``, and an unreadable do-not-call value holds the member back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..calendar import holidays
from ..data.load import do_not_call_by_member
from ..data.parse import parse_day, parse_flags, refuse_ids_written_otherwise
from ..messages import DEFAULT_LANGUAGE, check_language
from ..privacy import phone_fingerprint, phone_key, phone_line
from ..segment.value import VipRule
from ..settings import YamlSettings
from .control import CALLED, CONTROL, control_arms

CANDIDATE_COLUMNS = ["member_id", "campaign", "reason", "due_date", "vip", "value_at_risk"]
HELD_BACK_COLUMNS = ["member_id", "campaign", "rule", "held_back", "call_reason", "due_date", "vip", "value_at_risk"]
PACING_OUTCOMES = ("do_not_call", "wrong_number", "switched_supplier", "won_back")  # outcomes that hold back
HOLD_RULES = [
    "not_a_member",
    "do_not_call",
    "asked_not_to_call",
    "no_phone",
    "wrong_number",
    "switched",
    "won_back",
    "greeted",
    "window",
    "control_group",
    "monthly_cap",
    "later_day",
    "capacity_full",
    "once_per_list",
]
ALSO_COLUMNS = ["also_campaign", "also_due_date"]  # the other reason a listed call covers
BIRTHDAY, HOLIDAY = "birthday", "holiday"  # the care greetings' campaigns
VIP_QUEUE = "VIP"
DEFAULT_TEAM = "general"
CALL_BY_QUEUE = "queue"


@dataclass(frozen=True)
class ContactSettings(YamlSettings):
    """Pacing, routing and care-list settings; YAML keys are the field names."""

    what: ClassVar[str] = "contact"

    window_days: int = 14
    max_per_30_days: int = 2
    advisor_daily_calls: int = 40
    vip: VipRule = field(default_factory=VipRule)  # its tiers here; the spend part comes with the candidates
    switched_hold_days: int = 90
    won_back_hold_days: int = 30  # a household reported won back is not called again so soon (but greeted)
    birthday_days_ahead: int = 7
    holiday_days_ahead: int = 7
    holidays: Any = "spring_festival"
    holiday_audience: str = "vip"
    control_share: float = 0.10  # of each run's eligible members held out, not called (control group)
    control_vips: bool = True  # VIPs may be held out too; false: every eligible VIP is called
    control_seed: str | int = "segkit"  # the control draw's seed: the same seed, run and day, the same split
    control_days: int = 30  # a control member is not called for so many days (segkit effect's window)
    language: str = DEFAULT_LANGUAGE  # of the call sheet (zh-CN or en); call_list.csv stays English
    purchase_noun: str | None = None  # the call sheet's word for a purchase ("充气", "refill"); None: generic

    def __post_init__(self):
        for name in (
            "window_days",
            "max_per_30_days",
            "advisor_daily_calls",
            "switched_hold_days",
            "won_back_hold_days",
            "control_days",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        for name in ("birthday_days_ahead", "holiday_days_ahead"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a whole number of days (0 or more), got {value!r}")
        if self.holiday_audience not in ("vip", "all"):
            raise ValueError(f"holiday_audience must be 'vip' or 'all', got {self.holiday_audience!r}")
        holidays(self.holidays)
        check_language(self.language)
        if (
            isinstance(self.control_share, bool)
            or not isinstance(self.control_share, (int, float))
            or not 0 <= self.control_share < 1
        ):
            raise ValueError(f"control_share must be a share from 0 to below 1, got {self.control_share!r}")
        if not isinstance(self.control_vips, bool):
            raise ValueError(f"control_vips must be true or false, got {self.control_vips!r}")


@dataclass
class PacedList:
    """The outcome of pacing: who is listed (ranked and routed) and who is held back, with the reason; ``notes``:
    what the list cannot do (holiday greetings that do not fit before the holiday), one sentence each."""

    listed: pd.DataFrame
    held_back: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        notes = "".join(f"; {note}" for note in self.notes)
        return f"<PacedList: {len(self.listed):,} to call, {len(self.held_back):,} held back{notes}>"


def pace(
    candidates: pd.DataFrame,
    members: pd.DataFrame,
    as_of: Any,
    history: pd.DataFrame | None = None,
    outcomes: pd.DataFrame | None = None,
    advisors: pd.DataFrame | None = None,
    settings: ContactSettings | None = None,
    fingerprint_key: bytes | None = None,
    also: pd.DataFrame | None = None,
    calls_made: pd.DataFrame | None = None,
) -> PacedList:
    """Apply the pacing rules to ``candidates`` (``CANDIDATE_COLUMNS``) as of ``as_of``.

    ``history``: other runs' contacts (``member_id``, ``as_of``, ``campaign``, ``phone_hash``, ``call_by``),
    usually earlier ones; a replaced day also sees later ones; those of ``as_of`` take their share of the
    day's capacity. ``outcomes``: the outcomes that count (``member_id``,
    ``outcome``, ``outcome_date``, ``phone_hash``): every one known for a new list, those up to its day for a
    re-run (the export chooses). Both come from the ledger. A phone shared by two member records is one line:
    a do-not-call flag, an "asked not to be called" and a recent call on it hold back both, and it is called
    once per list. ``fingerprint_key``: the key of the ledger's phone fingerprints (default ``phone_key()``).
    ``also``: greetings (``CANDIDATE_COLUMNS``) that a listed call of the member covers too, never listed on
    their own (the birthdays, for the churn list). ``calls_made``: outcomes of those runs' calls (``alert_id``,
    ``member_id``, ``campaign``, ``phone_hash``, ``outcome_date``), of any code: a call is a contact on the day
    it was made, for the window and the 30-day cap (a list of 03-31 reached on 04-19 was no contact on 04-20).
    """
    settings = settings or ContactSettings()
    as_of = parse_day(as_of)
    do_not_call = do_not_call_by_member(members)
    listed, known = candidates["member_id"].astype(str), members["member_id"].astype(str)
    refuse_ids_written_otherwise(sorted(listed[~listed.isin(known)].unique()), known, "the candidates'", "the members'")
    table = _with_member_details(candidates, members, settings, do_not_call)
    rule = pd.Series("", index=table.index, dtype=object)
    why = pd.Series("", index=table.index, dtype=object)

    def hold(name: str, mask, reasons) -> None:
        mask = np.asarray(mask, dtype=bool) & (rule == "").to_numpy()
        rule[mask] = name
        why[mask] = reasons[mask] if isinstance(reasons, pd.Series) else reasons

    hold("not_a_member", ~table["_known"], "not in the members table")
    hold("do_not_call", table["do_not_call"], "do not call (CRM flag)")
    shared = table["_line"].map(_do_not_call_lines(members, do_not_call)).where(table["_line"] != "")
    hold("do_not_call", shared.notna(), "do not call (CRM flag of member " + shared.astype(str) + ", same phone)")
    last_outcome = _last_outcomes(outcomes)
    key = fingerprint_key or phone_key()
    fingerprint = table["phone"].map(lambda phone: phone_fingerprint(phone, key), na_action="ignore").fillna("")
    asked = table["member_id"].map(last_outcome.get("do_not_call", {}))
    hold("asked_not_to_call", asked.notna(), "asked not to be called on " + asked.astype(str))
    asked_here = fingerprint.map(last_outcome.get("do_not_call_line", {})).where(fingerprint != "")
    hold("asked_not_to_call", asked_here.notna(), "asked not to be called on this phone on " + asked_here.astype(str))
    hold("no_phone", table["phone"].fillna("") == "", "no phone number")
    wrong = table["member_id"].map(last_outcome.get("wrong_number_hash", {}))
    hold(
        "wrong_number",
        wrong.notna() & (wrong == fingerprint),
        "wrong number reported on " + table["member_id"].map(last_outcome.get("wrong_number", {})).astype(str),
    )
    switched = pd.to_datetime(table["member_id"].map(last_outcome.get("switched_supplier", {})))
    hold(
        "switched",
        switched > as_of - pd.Timedelta(days=settings.switched_hold_days),
        "switched supplier, reported on " + switched.dt.strftime("%Y-%m-%d"),
    )
    won_back = pd.to_datetime(table["member_id"].map(last_outcome.get("won_back", {})))
    hold(
        "won_back",
        (won_back > as_of - pd.Timedelta(days=settings.won_back_hold_days))
        & ~table["campaign"].isin([BIRTHDAY, HOLIDAY]),
        "reported won back on "
        + won_back.dt.strftime("%Y-%m-%d")
        + ": not called again until "
        + (won_back + pd.Timedelta(days=settings.won_back_hold_days)).dt.strftime("%Y-%m-%d"),
    )

    greeted_on = _greeted_for_the_same_day(history, table, as_of, settings)
    hold(
        "greeted",
        greeted_on.notna(),
        "greeted for the same " + table["campaign"] + " on " + greeted_on.dt.strftime("%Y-%m-%d"),
    )

    contacted_on = _contact_days(history, calls_made)
    nearby = _contacts_around(contacted_on, table["member_id"], as_of, max(settings.window_days, 30))
    nearest = nearby.loc[nearby["gap"].abs().sort_values(kind="stable").index].groupby("member_id").first()
    gap = table["member_id"].map(nearest["gap"])
    contacted = table["member_id"].map(nearest["campaign"]).astype(str)
    # the same phone called for another member record (a household with two) counts too
    by_line = _line_contacts_around(contacted_on, fingerprint, as_of, settings.window_days)
    line_gap = fingerprint.map(by_line["gap"])
    closer = line_gap.notna() & (gap.isna() | (line_gap.abs() < gap.abs()))
    gap = gap.where(~closer, line_gap)
    contacted = contacted.where(~closer, fingerprint.map(by_line["campaign"]).astype(str) + ", same phone")
    days = gap.abs().astype("Int64").astype(str)
    recent = pd.Series(
        np.where(
            gap >= 0,
            "contacted " + days + " days ago (" + contacted + ")",
            "listed " + days + " days later (" + contacted + ")",
        ),
        index=table.index,
    )
    # a call of the member today (another run's) carries their birthday greeting: see ``also``
    greeted = gap.eq(0) & ~closer & table["campaign"].eq(BIRTHDAY)
    hold(
        "window",
        gap.abs() < settings.window_days,
        recent.where(~greeted, recent + ", a call that greets the birthday too"),
    )
    held_out = table["member_id"].map(_held_out_since(history, as_of, settings.control_days))
    hold(
        "control_group",
        held_out.notna(),
        "held out as control on "
        + held_out.dt.strftime("%Y-%m-%d")
        + ": not called until "
        + (held_out + pd.Timedelta(days=settings.control_days + 1)).dt.strftime("%Y-%m-%d")
        + " (keeps the comparison clean)",
    )
    busiest = _busiest_30_days(nearby)
    in_30 = table["member_id"].map(busiest["contacts"]).fillna(0).astype(int)
    start = table["member_id"].map(busiest["start"]).fillna(-29).astype(int)
    hold(
        "monthly_cap",
        in_30 >= settings.max_per_30_days,
        pd.Series(
            np.where(
                start == -29,
                "contacted " + in_30.astype(str) + " times in the last 30 days",
                "contacted "
                + in_30.astype(str)
                + " times in the 30 days from "
                + (as_of + pd.to_timedelta(start, unit="D")).dt.strftime("%Y-%m-%d"),
            ),
            index=table.index,
        ),
    )

    table = table.iloc[_priority_order(table)]
    rule, why = rule.loc[table.index], why.loc[table.index]
    today = _calls_on(history, as_of)
    later, full, notes = _beyond_todays_share(
        table, rule == "", as_of, _total_capacity(advisors, members, settings), len(today)
    )
    holiday = table["due_date"].fillna(as_of).dt.strftime("%Y-%m-%d")
    hold("later_day", later, "greeting planned for a later day before the holiday on " + holiday)
    hold(
        "capacity_full",
        full,
        "no capacity left today and no day left before the holiday on " + holiday + ": not greeted",
    )
    open_ = rule == ""
    first = ~table["member_id"].where(open_).duplicated(keep="first") | ~open_
    hold(
        "once_per_list",
        ~first,
        "listed once in this run ("
        + table["member_id"].map(table.loc[open_ & first].set_index("member_id")["campaign"]).astype(str)
        + ")",
    )
    open_ = (rule == "") & (table["_line"] != "")
    first = ~table["_line"].where(open_).duplicated(keep="first") | ~open_
    hold(
        "once_per_list",
        ~first,
        "listed once in this run (same phone as member "
        + table["_line"].map(table.loc[open_ & first].set_index("_line")["member_id"]).astype(str)
        + ")",
    )

    listed = table.loc[rule == ""].copy()
    listed["arm"], listed["control_p"] = control_arms(
        listed, as_of, settings.control_share, settings.control_seed, settings.control_vips
    )
    listed = pd.concat([listed.loc[listed["arm"] == CALLED], listed.loc[listed["arm"] == CONTROL]])
    listed["priority"] = np.arange(1, len(listed) + 1)  # the called in calling order, then the control
    listed = _with_other_reason(listed, table.loc[rule == "once_per_list"], also)
    busy = today["call_by"].value_counts() if "call_by" in today else pd.Series(dtype=int)
    called = listed["arm"] == CALLED
    listed = pd.concat(
        [
            _route(listed.loc[called].copy(), advisors, settings, busy),
            listed.loc[~called].assign(queue=CONTROL, call_by=CONTROL),
        ]
    )
    held_back = (
        table.loc[rule != ""]
        .rename(columns={"reason": "call_reason"})
        .assign(rule=rule[rule != ""], held_back=why[rule != ""])
    )
    held_back = held_back[HELD_BACK_COLUMNS].sort_values(["rule", "member_id", "campaign"], kind="stable")
    return PacedList(listed.reset_index(drop=True), held_back.reset_index(drop=True), notes)


def _with_member_details(
    candidates: pd.DataFrame, members: pd.DataFrame, settings: ContactSettings, do_not_call: pd.Series
) -> pd.DataFrame:
    missing = [c for c in ("member_id", "campaign", "reason") if c not in candidates]
    if missing:
        raise ValueError(f"candidates lack column(s) {', '.join(missing)}")
    table = candidates.copy()
    table["member_id"] = table["member_id"].astype(str)
    table["due_date"] = pd.to_datetime(table["due_date"]) if "due_date" in table else pd.NaT
    table["vip"] = table["vip"].eq(True) if "vip" in table else False
    table["value_at_risk"] = (
        pd.to_numeric(table["value_at_risk"], errors="coerce").fillna(0.0) if "value_at_risk" in table else 0.0
    )
    # the alert's P(still a customer) when it listed the member: kept in the ledger, so that the effect of the
    # calls can be read by it (``campaign_effect``'s advice); unknown for greetings and other campaigns
    table["p_active"] = pd.to_numeric(table["p_active"], errors="coerce") if "p_active" in table else np.nan
    ids = members["member_id"].astype(str).rename("member_id")
    details = members.set_index(ids)
    details = details.loc[~details.index.duplicated()]
    for column in ("name", "phone", "tier", "advisor_id"):
        table[column] = table["member_id"].map(details[column]) if column in details else None
    table["do_not_call"] = table["member_id"].map(do_not_call).eq(True)
    table["_line"] = table["phone"].map(phone_line)
    table["_known"] = table["member_id"].isin(details.index)
    table["vip"] = table["vip"] | settings.vip.by_tier(table["tier"])
    return table.reset_index(drop=True)


def _do_not_call_lines(members: pd.DataFrame, do_not_call: pd.Series) -> pd.Series:
    """The phone lines of members flagged do-not-call (``do_not_call``: by member id), each with the first such
    member's id."""
    if "phone" not in members or not do_not_call.any():
        return pd.Series(dtype=object)
    ids = members["member_id"].astype(str)
    flagged = ids.map(do_not_call).eq(True).to_numpy()
    lines = members["phone"].map(phone_line)[flagged]
    return (
        pd.Series(ids[flagged].to_numpy(), index=lines.to_numpy()).loc[lambda s: s.index != ""].groupby(level=0).first()
    )


def _last_outcomes(outcomes: pd.DataFrame | None) -> dict[str, pd.Series]:
    """Per outcome code, each member's latest date (as text); the phone behind the latest wrong number; and
    (``do_not_call_line``) the date by the fingerprint of every phone whose owner asked not to be called.
    Which outcomes count (up to the list's day, or every one known now) is the caller's choice."""
    if outcomes is None or outcomes.empty:
        return {}
    recorded = outcomes.copy()
    recorded["member_id"] = recorded["member_id"].astype(str)
    recorded = recorded.sort_values("outcome_date")
    latest = recorded.groupby(["outcome", "member_id"]).last()
    result = {
        code: pd.to_datetime(group.droplevel(0)["outcome_date"]).dt.strftime("%Y-%m-%d")
        for code, group in latest.groupby(level=0)
    }
    if "wrong_number" in result:
        result["wrong_number_hash"] = latest.loc["wrong_number", "phone_hash"]
    asked = recorded.loc[(recorded["outcome"] == "do_not_call") & recorded["phone_hash"].fillna("").ne("")]
    if len(asked):
        result["do_not_call_line"] = asked.groupby("phone_hash")["outcome_date"].last().dt.strftime("%Y-%m-%d")
    return result


def _contact_days(history: pd.DataFrame | None, calls_made: pd.DataFrame | None) -> pd.DataFrame | None:
    """``history`` (``member_id``, ``as_of``, ``campaign``, ``phone_hash``) with each call dated on the day it was
    last made (its latest outcome's day) rather than its list's; a call made in the window from a list outside it
    is added. One call is one contact, on one day."""
    if calls_made is None or calls_made.empty:
        return history
    made = calls_made.assign(outcome_date=pd.to_datetime(calls_made["outcome_date"]).dt.normalize())
    made = made.sort_values("outcome_date").drop_duplicates("alert_id", keep="last").set_index("alert_id")
    columns = ["member_id", "as_of", "campaign", "phone_hash"]
    if history is None or history.empty:
        return made.rename(columns={"outcome_date": "as_of"})[columns].reset_index()
    listed = history.assign(as_of=pd.to_datetime(history["as_of"]).dt.normalize())
    on = listed["alert_id"].map(made["outcome_date"])
    listed = listed.assign(as_of=on.where(on.notna(), listed["as_of"]))
    outside = made.loc[~made.index.isin(listed["alert_id"])].rename(columns={"outcome_date": "as_of"})
    return pd.concat([listed, outside[columns].reset_index()], ignore_index=True)


def _line_contacts_around(
    history: pd.DataFrame | None, fingerprints: pd.Series, as_of: pd.Timestamp, days: int
) -> pd.DataFrame:
    """By phone fingerprint: the nearest contact less than ``days`` from ``as_of`` (``gap``, ``campaign``)."""
    if history is None or history.empty or "phone_hash" not in history:
        return pd.DataFrame({"gap": pd.Series(dtype=int), "campaign": pd.Series(dtype=str)})
    nearby = history.loc[history["phone_hash"].isin(set(fingerprints) - {""}), ["phone_hash", "as_of", "campaign"]]
    nearby = nearby.assign(gap=(as_of - pd.to_datetime(nearby["as_of"]).dt.normalize()).dt.days)
    nearby = nearby.loc[nearby["gap"].abs() < days]
    return (
        nearby.loc[nearby["gap"].abs().sort_values(kind="stable").index]
        .groupby("phone_hash")[["gap", "campaign"]]
        .first()
    )


def _contacts_around(
    history: pd.DataFrame | None, member_ids: pd.Series, as_of: pd.Timestamp, days: int
) -> pd.DataFrame:
    """The contacts of ``member_ids`` less than ``days`` before or after ``as_of``, with ``gap``: days
    from the contact to ``as_of`` (negative for a contact after it)."""
    if history is None or history.empty:
        return pd.DataFrame(
            {"member_id": pd.Series(dtype=str), "campaign": pd.Series(dtype=str), "gap": pd.Series(dtype=int)}
        )
    nearby = history[["member_id", "as_of", "campaign"]].copy()
    nearby["member_id"] = nearby["member_id"].astype(str)
    nearby["gap"] = (as_of - pd.to_datetime(nearby["as_of"]).dt.normalize()).dt.days
    return nearby.loc[
        nearby["member_id"].isin(member_ids) & (nearby["gap"].abs() < days), ["member_id", "campaign", "gap"]
    ].reset_index(drop=True)


def _greeted_for_the_same_day(
    history: pd.DataFrame | None, table: pd.DataFrame, as_of: pd.Timestamp, settings: ContactSettings
) -> pd.Series:
    """The day each greeting (birthday, holiday) was already called for the same birthday or holiday by another
    run, else NaT: one birthday is greeted once, whatever the contact window (a window of 7 days and greetings 7
    days ahead greeted a birthday twice). A birthday listed within ``birthday_days_ahead`` before it is that
    birthday's greeting; a holiday greeting is the first holiday on or after its day."""
    greeted = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns]")
    care = table["campaign"].isin([BIRTHDAY, HOLIDAY])
    if history is None or history.empty or not care.any():
        return greeted
    greetings = history["campaign"].isin([BIRTHDAY, HOLIDAY])
    if "arm" in history:  # a control member was not greeted (held out, their hold says so)
        greetings &= history["arm"].ne(CONTROL)
    past = history.loc[greetings, ["member_id", "campaign", "as_of"]]
    past = past.assign(member_id=past["member_id"].astype(str), day=pd.to_datetime(past["as_of"]).dt.normalize())
    past = past.loc[past["day"] != as_of]
    wanted = table.loc[care, ["member_id", "campaign", "due_date"]].assign(
        member_id=lambda t: t["member_id"].astype(str)
    )
    pairs = wanted.reset_index(names="row").merge(past[["member_id", "campaign", "day"]], on=["member_id", "campaign"])
    if pairs.empty:
        return greeted
    due = pd.to_datetime(pairs["due_date"]).dt.normalize()
    ahead = np.where(pairs["campaign"] == BIRTHDAY, settings.birthday_days_ahead, settings.holiday_days_ahead)
    same = (pairs["day"] <= due) & (pairs["day"] >= due - pd.to_timedelta(ahead, unit="D"))
    calendar = holidays(settings.holidays)
    if len(calendar):
        first = np.minimum(calendar.searchsorted(pairs["day"]), len(calendar) - 1)
        same &= (pairs["campaign"] != HOLIDAY) | (calendar[first].to_numpy() == due.to_numpy())
    latest = pairs.loc[same].groupby("row")["day"].max()
    greeted.loc[latest.index] = latest
    return greeted


def _held_out_since(history: pd.DataFrame | None, as_of: pd.Timestamp, days: int) -> pd.Series:
    """By member id: the latest day, ``days`` or fewer before ``as_of``, on which they were held out as a
    control member (``arm`` in the history)."""
    if history is None or history.empty or "arm" not in history:
        return pd.Series(dtype="datetime64[ns]")
    held = history.loc[history["arm"] == CONTROL, ["member_id", "as_of"]]
    day = pd.to_datetime(held["as_of"]).dt.normalize()
    held = held.assign(member_id=held["member_id"].astype(str), day=day).loc[
        (day <= as_of) & (day >= as_of - pd.Timedelta(days=days))
    ]
    return held.groupby("member_id")["day"].max()


def _busiest_30_days(nearby: pd.DataFrame) -> pd.DataFrame:
    """Per member, the most contacts in one 30-day span that contains ``as_of`` (``contacts``) and the
    first such span's first day, in days from ``as_of`` (``start``, -29 to 0: -29 is the last 30 days)."""
    within = nearby.loc[nearby["gap"].abs() < 30]
    members, codes = np.unique(within["member_id"].to_numpy(str), return_inverse=True)
    offset = -within["gap"].to_numpy(int)  # day of the contact, from as_of
    # The spans [s, s + 29] for s in -29..0 that hold a contact on day d are s = max(d - 29, -29) .. min(d, 0):
    # count them per member with a difference array over the 30 starts.
    spans = np.zeros((len(members), 31), dtype=np.int32)
    np.add.at(spans, (codes, np.maximum(offset - 29, -29) + 29), 1)
    np.add.at(spans, (codes, np.minimum(offset, 0) + 30), -1)
    counts = spans.cumsum(axis=1)[:, :30]
    return pd.DataFrame(
        {"contacts": counts.max(axis=1), "start": counts.argmax(axis=1) - 29}, index=pd.Index(members, name="member_id")
    )


def _priority_order(table: pd.DataFrame) -> np.ndarray:
    """VIPs first, then the most value at risk, the earliest due date, and member id (a total order)."""
    due = table["due_date"].fillna(pd.Timestamp.max).to_numpy()
    return np.lexsort(
        (
            table["campaign"].to_numpy(str),
            table["member_id"].to_numpy(str),
            due,
            -table["value_at_risk"].to_numpy(float),
            ~table["vip"].to_numpy(bool),
        )
    )


def _calls_on(history: pd.DataFrame | None, day: pd.Timestamp) -> pd.DataFrame:
    """Other runs' calls listed on ``day`` (not their control members): they take their share of the day's
    capacity."""
    if history is None or history.empty:
        return pd.DataFrame({"member_id": pd.Series(dtype=str)})
    calls = history.loc[pd.to_datetime(history["as_of"]).dt.normalize() == day]
    return calls.loc[calls["arm"] == CALLED] if "arm" in calls else calls


def _total_capacity(advisors: pd.DataFrame | None, members: pd.DataFrame, settings: ContactSettings) -> int | None:
    """Calls the advisors take in a day: the sum over active advisors (``daily_capacity``); without an advisors
    table, ``advisor_daily_calls`` for each advisor of the members (as ``_route`` counts them); None when
    nobody is known to call (no advisors at all: the capacity is unknown)."""
    if advisors is not None and len(advisors):
        return int(daily_capacity(advisors, settings).sum())
    if "advisor_id" not in members:
        return None
    ids = members["advisor_id"].dropna().astype(str)
    return ids[ids != ""].nunique() * settings.advisor_daily_calls or None


def _beyond_todays_share(
    table: pd.DataFrame, open_: pd.Series, as_of: pd.Timestamp, capacity: int | None, booked: int
) -> tuple[pd.Series, pd.Series, list[str]]:
    """The open holiday greetings that today does not take (``table`` in priority order): ``later``, for a
    later day before the holiday, and ``full``, owed on the holiday itself (or after) beyond the day's capacity;
    and one note per holiday whose greetings cannot all be made before it.

    Today's share of a holiday's greetings is those still owed over the days left before it (all of them
    on the day itself), cut to the ``capacity`` that the day's other calls leave: ``booked`` by other runs,
    and this list's other members. A greeting of a member with another call in this list rides along with
    it (``once_per_list``) and is not spread.
    """
    calls = open_ & table["campaign"].ne(HOLIDAY)
    owed = open_ & table["campaign"].eq(HOLIDAY) & ~table["member_id"].isin(table.loc[calls, "member_id"])
    greetings = table.loc[owed]
    due = greetings["due_date"].fillna(as_of)
    days_left = (due - as_of).dt.days
    per_day = -(-due.groupby(due).transform("size") // days_left.clip(lower=1))
    today = greetings.groupby(due).cumcount() < per_day
    left = None if capacity is None else max(capacity - booked - table.loc[calls, "member_id"].nunique(), 0)
    if left is not None:
        today &= today.cumsum() <= left
    later = pd.Series(False, index=table.index)
    full = pd.Series(False, index=table.index)
    later[greetings.index] = ~today & (days_left > 0)
    full[greetings.index] = ~today & (days_left <= 0)
    notes = []
    for day, group in greetings.groupby(due, sort=True):
        days = int(days_left[group.index[0]])
        if days <= 0 and full[group.index].any():
            missed = group.loc[full[group.index]]
            notes.append(
                f"{len(missed):,} holiday greetings of {day:%Y-%m-%d} ({int(missed['vip'].sum()):,} VIPs) "
                "are not made: no capacity left today and no day left before the holiday"
            )
        elif days > 0 and left is not None and len(group) > left + (days - 1) * capacity:
            missed = group.iloc[left + (days - 1) * capacity :]
            notes.append(
                f"{len(missed):,} of the {len(group):,} holiday greetings owed before {day:%Y-%m-%d} "
                f"({int(missed['vip'].sum()):,} VIPs among them) cannot be made before the holiday: the "
                f"advisors take {capacity:,} calls a day, {left:,} of them left today, {days} day(s) to go"
            )
    return later, full, notes


def _with_other_reason(listed: pd.DataFrame, covered: pd.DataFrame, also: pd.DataFrame | None) -> pd.DataFrame:
    """``ALSO_COLUMNS``: the other reason each listed call covers, the first of the member's candidates held back
    as listed once (``covered``, in priority order) and then of the greetings ``also`` that the call's own
    campaign is not."""
    listed["also_campaign"], listed["also_due_date"] = "", pd.NaT
    frames = [
        frame[["member_id", "campaign", "due_date"]] for frame in (covered, also) if frame is not None and len(frame)
    ]
    if not frames or listed.empty:
        return listed
    reasons = pd.concat(frames)
    reasons = reasons.assign(member_id=reasons["member_id"].astype(str), due_date=pd.to_datetime(reasons["due_date"]))
    own = reasons["member_id"].map(listed.set_index("member_id")["campaign"])
    other = reasons.loc[own.notna() & (reasons["campaign"] != own)].drop_duplicates("member_id").set_index("member_id")
    listed["also_campaign"] = listed["member_id"].map(other["campaign"]).fillna("").astype(str)
    listed["also_due_date"] = pd.to_datetime(listed["member_id"].map(other["due_date"]))
    return listed


def daily_capacity(advisors: pd.DataFrame | None, settings: ContactSettings) -> pd.Series:
    """Calls each active advisor takes per day, by advisor id: ``daily_calls`` or ``advisor_daily_calls``."""
    if advisors is None or advisors.empty:
        return pd.Series(dtype=int)
    book = advisors.drop_duplicates("advisor_id").set_index(advisors["advisor_id"].astype(str).rename("advisor_id"))
    if "active" in book:
        active, unreadable = parse_flags(book["active"])
        book = book.loc[active.fillna(True).astype(bool) & ~unreadable]  # blank: active; unreadable: not
    calls = book["daily_calls"] if "daily_calls" in book else pd.Series(index=book.index, dtype=float)
    negative = calls.index[calls.lt(0)]
    if len(negative):
        raise ValueError(
            f"advisors: daily_calls must be 0 or more, got {calls[negative[0]]} for {negative[0]!r} "
            f"({len(negative):,} such advisor(s))"
        )
    return calls.fillna(settings.advisor_daily_calls).astype(int)


def _route(
    listed: pd.DataFrame, advisors: pd.DataFrame | None, settings: ContactSettings, busy: pd.Series
) -> pd.DataFrame:
    """``queue`` (the VIP queue or the advisor's team) and ``call_by`` (the advisor within their daily
    capacity less the calls other runs gave them today, ``busy`` by advisor id, in priority order, else
    ``queue``). Without an advisors table every advisor is active."""
    advisor = listed["advisor_id"].fillna("").astype(str)
    team = pd.Series(DEFAULT_TEAM, index=listed.index)
    capacity = pd.Series(settings.advisor_daily_calls, index=listed.index)
    can_call = advisor != ""
    if advisors is not None and len(advisors):
        if "team" in advisors:
            team = advisor.map(advisors.set_index(advisors["advisor_id"].astype(str))["team"]).fillna(DEFAULT_TEAM)
        book = daily_capacity(advisors, settings)
        capacity = advisor.map(book)
        can_call &= capacity.notna()
    capacity = capacity - advisor.map(busy).fillna(0)
    rank_in_book = listed.groupby(advisor.where(can_call)).cumcount() + 1
    within = can_call & (rank_in_book <= capacity.fillna(0))
    listed["queue"] = np.where(listed["vip"], VIP_QUEUE, team)
    listed["call_by"] = np.where(within, advisor, CALL_BY_QUEUE)
    return listed
