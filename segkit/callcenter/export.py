"""One call-center export: pace the candidates against the ledger, record the list, write the files.

The workflows: ``export_calls`` (the call list of the overdue alerts) and
``care_calls`` (birthday and holiday greetings); both go through
``export_list``, the export of any campaign's candidates.

The export is one serialized unit on the ledger (``Ledger.exclusive``): read
the history, pace, record, write, commit, while no other export or import can
write the same ledger. So two exports at once never list a member twice.

The export owns its output folder: the day's files (``CALL_LIST_FILES``) are
written into a fresh folder beside it, which replaces the previous folder
whole before the ledger commits; if the commit fails, the previous folder is
put back. So the ledger never claims a call that no file lists, and the CSV and
the XLSX are always from the same run. Re-running the same run and day
recomputes against the ledger as it was before that run, finds the identical
list already recorded, adds nothing and rewrites the identical bytes. A list
that differs from the recorded one (a replacement, or a replaced day re-run)
is paced against every other run, later ones included.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..data.parse import parse_day
from ..data.sources import read_source
from ..io import FolderReplacement, write_table
from ..privacy import mask_personal, phone_fingerprint, phone_key
from ..result import Result
from ..settings import resolve_settings
from .control import CALLED, CONTROL
from .ledger import Ledger
from .lists import CALL_LIST_COLUMNS, alert_candidates, birthday_greetings, call_list_table, care_candidates
from .pacing import HOLD_RULES, PACING_OUTCOMES, ContactSettings, pace
from .sheet import member_context, write_call_sheet

CALL_LIST_FILES = ("call_list.csv", "call_list.xlsx", "held_back.csv", "control.csv")
CONTROL_COLUMNS = ["alert_id", "member_id", "campaign", "priority", "vip", "advisor_id", "due_date"]
# The run, day and state of the list a folder holds: "pending" from the moment the folder is in place until
# the ledger has recorded its calls, then "recorded". Another run must not replace it; nor may a later day
# replace a pending list, which the call center may be working from although the ledger does not know it.
RUN_MARKER = ".segkit-run"


class NoPhonesError(ValueError):
    """Not one candidate who is a member has a phone number: the members file is read wrongly, not empty."""


@dataclass(repr=False)
class CallExport(Result):
    """What one export produced: the call list (names and phones in full: for the call center only),
    the held-back members with reasons, the ledger status and the files (written as the export ran, in the
    same serialized unit as the ledger's record: ``files``, not ``write``); ``notes``: what the list cannot do
    (``PacedList.notes``), also given as warnings.

    ``summary()`` counts the listed members by campaign and queue and the held-back ones by
    rule; ``masked()`` is the call list with names and phones masked, for notebooks and reports.

    Attributes
    ----------
    run : str
        The run's name (``campaign`` of ``export_calls`` or ``care_calls``): with the day,
        what the ledger records the list as.
    as_of : pandas.Timestamp
        The day of the list.
    call_list : pandas.DataFrame
        The members to call, in priority order: ``call_list.csv``'s columns
        (``CALL_LIST_COLUMNS``: ``alert_id``, ``member_id``, ``name``, ``phone``, ``tier``,
        ``vip``, ``advisor_id``, ``queue``, ``call_by``, ``priority``, ``reason``,
        ``campaign``, ``due_date``, ``value_at_risk``), then the other reason the call covers
        (``also_campaign``, ``also_due_date``: on the call sheet only), ``arm``, ``control_p``
        (the chance the member had of being held out) and the alert's ``p_active``.
    held_back : pandas.DataFrame
        ``held_back.csv`` (``HELD_BACK_COLUMNS``): the candidates not listed, each with the
        pacing ``rule`` that held them back (``HOLD_RULES``) and the sentence ``held_back``.
    status : {"recorded", "unchanged", "replaced"}
        What the ledger did: recorded a new list, found the identical list already recorded
        (nothing added), or replaced the run's recorded list (``replace``).
    files : list of Path
        The files in the export's folder: ``call_list.csv``, ``call_list.xlsx`` (the call
        sheet), ``held_back.csv`` and ``control.csv`` (``CALL_LIST_FILES``).
    notes : list of str
        What the list cannot do (holiday greetings that do not fit before the holiday), one
        sentence each; empty when nothing is amiss.
    control : pandas.DataFrame
        ``control.csv``: the members held out as the control group, listed in the ledger but
        not called (``alert_id``, ``member_id``, ``campaign``, ``priority``, ``vip``,
        ``advisor_id``, ``due_date``).
    """

    run: str
    as_of: pd.Timestamp
    call_list: pd.DataFrame
    held_back: pd.DataFrame
    status: str  # recorded | unchanged | replaced
    files: list[Path]
    notes: list[str] = field(default_factory=list)
    control: pd.DataFrame = field(default_factory=pd.DataFrame)  # held out, not called (``control.csv``)

    def _describe(self) -> str:
        by_rule = self.held_back["rule"].value_counts()
        return (
            f"{self.run} as of {self.as_of.date()}: {len(self.call_list):,} calls "
            f"({int(self.call_list['vip'].sum()):,} VIP, {int((self.call_list['call_by'] == 'queue').sum()):,} "
            f"to queues), {len(self.control):,} held out as control, {len(self.held_back):,} held back"
            + "".join(f"; {rule} {count:,}" for rule, count in by_rule.items())
            + f"; ledger: {self.status}"
            + "".join(f"; {note}" for note in self.notes)
        )

    def summary(self) -> pd.DataFrame:
        """Calls by campaign and queue, and the held-back members by rule."""
        listed = (
            self.call_list.groupby(["campaign", "queue"])
            .size()
            .rename("members")
            .reset_index()
            .assign(outcome="listed")
            .rename(columns={"queue": "detail"})
        )
        held = (
            self.held_back.groupby(["campaign", "rule"])
            .size()
            .rename("members")
            .reset_index()
            .assign(outcome="held back")
            .rename(columns={"rule": "detail"})
        )
        held = held.assign(order=held["detail"].map({rule: i for i, rule in enumerate(HOLD_RULES)}))
        return pd.concat([listed, held.sort_values(["campaign", "order"]).drop(columns="order")], ignore_index=True)[
            ["outcome", "campaign", "detail", "members"]
        ]

    def masked(self) -> pd.DataFrame:
        """The call list with names and phones masked, for notebooks and reports."""
        return mask_personal(self.call_list)


def export_calls(
    alerts: Any,
    members: pd.DataFrame,
    as_of: Any,
    ledger: Ledger | str | Path | None,
    out_dir: str | Path,
    campaign: str = "churn",
    advisors: pd.DataFrame | None = None,
    settings: ContactSettings | str | Path | dict | None = None,
    replace: bool = False,
    unmapped_columns: Sequence[str] = (),
    context: Sequence[Any] = (),
) -> CallExport:
    """The call list of the overdue alerts (``churn_alerts``: the table or its ``alerts.csv``) as run ``campaign``:
    ``export_list``
    of their candidates. ``ledger``: a ``Ledger``, its file or URL (None: ``$SEGKIT_LEDGER_URL``);
    ``settings``: a ``ContactSettings``, a YAML path or a mapping. The call sheet shows what the alerts
    know of each member, and what ``context`` tables add (``rfm.csv``: the segment's action).

    Parameters
    ----------
    alerts : AlertRun, pandas.DataFrame, str or Path
        The overdue alerts: ``churn_alerts``' result, its ``alerts`` table or its ``alerts.csv``
        (CSV or Parquet). ``member_id`` and ``reason`` are required; ``expected_next_purchase``
        (the due date), ``vip``, ``value_at_risk`` and ``p_active`` are used when present.
    members : pandas.DataFrame
        Canonical members (``load_members``): ``phone`` and ``name`` to call, ``do_not_call``,
        ``advisor_id`` (the advisor who calls their member), ``tier`` and ``birthday`` (a
        listed member whose birthday is near is greeted on the same call).
    as_of : str, date or Timestamp
        The day of the list (``YYYY-MM-DD``).
    ledger : Ledger, str, Path or None
        The contact ledger the list is paced against and recorded in: a ``Ledger``, an SQLite
        file or a database URL without a password. None: ``$SEGKIT_LEDGER_URL``. It must
        exist (``Ledger(url, create=True)``, ``segkit ledger init``).
    out_dir : str or Path
        The export's own folder (made if missing): it holds ``call_list.csv``,
        ``call_list.xlsx``, ``held_back.csv`` and ``control.csv``, replaced whole by each
        export, and one run's lists only.
    campaign : str, default "churn"
        The run's name, and the calls' campaign.
    advisors : pandas.DataFrame, optional
        Canonical advisors (``load_advisors``): each one's ``daily_calls``, ``team`` (the queue
        of their members) and whether they are ``active``. None: every advisor is active and
        takes the settings' ``advisor_daily_calls``, and the queue is ``general``.
    settings : ContactSettings, str, Path or dict, optional
        Pacing, routing, control group and call sheet settings (window, monthly cap,
        capacities, holds, ``control_share``, ``language``); a mapping overrides the defaults
        key by key. None: the defaults.
    replace : bool, default False
        Replace the list already recorded for this run and day when it differs (no outcome
        may be recorded for it yet); without, a different list is an error.
    unmapped_columns : sequence of str, default ()
        The members file's columns the contract ignored
        (``LoadResult.report.ignored_columns``), named in the error when no member to call
        has a phone.
    context : sequence of pandas.DataFrame, str or Path, default ()
        More tables or files with a ``member_id`` column whose details the call sheet shows
        beside the alerts' (``rfm.csv``: the segment's action).

    Returns
    -------
    CallExport
        The call list, the control group, the held-back members with the rule that held them
        back, the ledger status (recorded, unchanged or replaced), the files written and the
        notes.

    Raises
    ------
    LedgerError
        The ledger does not exist, is busy or fails; its phone fingerprints were made with
        another key; the run's day is recorded with a different list (without ``replace``),
        or with outcomes (with it); or the ledger holds runs of a later day. Nothing is
        recorded, and the folder keeps its previous files.
    NoPhonesError
        Not one member to call has a phone number (the members file is read wrongly).
    ValueError
        A setting is unknown or out of range (the message names it), ``as_of`` is not a
        date, the alerts lack ``member_id`` or ``reason``, ``ledger`` is None without
        ``$SEGKIT_LEDGER_URL`` or is a URL with a password, or ``out_dir`` holds another
        run's list, or another day's list that an interrupted export put in place before
        the ledger recorded it.
    FileNotFoundError
        The alerts file, a ``context`` file or the settings YAML does not exist.

    Warns
    -----
    UserWarning
        One per note: what the list cannot do (``CallExport.notes``).

    Examples
    --------
    A ledger is made once, on purpose; phone fingerprints are keyed by ``$SEGKIT_PHONE_KEY``
    (else by a key made once in ``~/.config/segkit``):

    >>> import os
    >>> import tempfile
    >>> import segkit
    >>> from segkit.callcenter import Ledger
    >>> from segkit.synth import generate
    >>> _ = os.environ.setdefault("SEGKIT_PHONE_KEY", "an example key, not a secret")
    >>> world = generate("gas", 200, seed=1)
    >>> run = segkit.churn_alerts(world.transactions, "2026-03-31", world.members)
    >>> folder = tempfile.TemporaryDirectory()
    >>> ledger = Ledger(os.path.join(folder.name, "ledger.sqlite"), create=True)
    >>> out = os.path.join(folder.name, "churn")
    >>> calls = segkit.export_calls(run.alerts, world.members, "2026-03-31", ledger, out)
    >>> calls
    <CallExport churn as of 2026-03-31: 11 calls (1 VIP, 0 to queues), 1 held out as control,
    0 held back; ledger: recorded>
    >>> calls.call_list[["member_id", "vip", "queue", "call_by", "priority"]].head(3)
      member_id    vip    queue call_by  priority
    0   0000051   True      VIP    A001         1
    1   0000035  False  general    A002         2
    2   0000006  False  general    A002         3
    >>> [path.name for path in calls.files]
    ['call_list.csv', 'call_list.xlsx', 'held_back.csv', 'control.csv']

    The same day again finds its list recorded and adds nothing; the next day, the
    members listed today (called or held out) are held back by the contact window:

    >>> segkit.export_calls(run.alerts, world.members, "2026-03-31", ledger, out).status
    'unchanged'
    >>> segkit.export_calls(run.alerts, world.members, "2026-04-01", ledger, out).summary()
         outcome campaign  detail  members
    0  held back    churn  window       12
    >>> ledger.close()
    >>> folder.cleanup()
    """
    alerts = read_source(getattr(alerts, "alerts", alerts)).frame  # an AlertRun: its alerts
    return export_list(
        alert_candidates(alerts, campaign),
        members,
        as_of,
        _ledger(ledger),
        out_dir,
        run=campaign,
        advisors=advisors,
        settings=settings,
        replace=replace,
        unmapped_columns=unmapped_columns,
        context=(alerts, *context),
    )


def care_calls(
    members: pd.DataFrame,
    as_of: Any,
    ledger: Ledger | str | Path | None,
    out_dir: str | Path,
    vip: Any = None,
    campaign: str = "care",
    advisors: pd.DataFrame | None = None,
    settings: ContactSettings | str | Path | dict | None = None,
    replace: bool = False,
    unmapped_columns: Sequence[str] = (),
    context: Sequence[Any] = (),
) -> CallExport:
    """The care list (birthdays, holiday greetings: ``care_candidates``) as run ``campaign``. ``vip``: the VIP
    flags of the step that knew members' spend (a Series by member_id, or a table or file with member_id and
    vip: ``vip_flags``); the members' tiers count by the settings' VIP rule. The call sheet shows what the
    ``vip`` table and ``context`` tables know of each member (last purchase, segment action).

    Parameters
    ----------
    members : pandas.DataFrame
        Canonical members (``load_members``): ``birthday`` for the birthday greetings,
        ``tier`` for the VIP rule, ``phone`` and ``name`` to call, ``do_not_call`` and
        ``advisor_id``.
    as_of : str, date or Timestamp
        The day of the list (``YYYY-MM-DD``): birthdays within ``birthday_days_ahead`` and a
        holiday within ``holiday_days_ahead`` of it are greeted.
    ledger : Ledger, str, Path or None
        The contact ledger the list is paced against and recorded in: a ``Ledger``, an SQLite
        file or a database URL without a password. None: ``$SEGKIT_LEDGER_URL``. It must
        exist (``Ledger(url, create=True)``, ``segkit ledger init``).
    out_dir : str or Path
        The export's own folder (made if missing): it holds ``call_list.csv``,
        ``call_list.xlsx``, ``held_back.csv`` and ``control.csv``, replaced whole by each
        export, and one run's lists only.
    vip : pandas.Series, pandas.DataFrame, str or Path, optional
        The VIP flags of the step that knew members' spend: a boolean Series by member_id,
        or a table or file with ``member_id`` and ``vip`` (``segment_members``' ``rfm.csv``,
        ``churn_alerts``' ``members`` or ``member_rhythms.csv``). None: only the tiers make
        VIPs.
    campaign : str, default "care"
        The run's name (the calls' campaigns are ``birthday`` and ``holiday``).
    advisors : pandas.DataFrame, optional
        Canonical advisors (``load_advisors``): each one's ``daily_calls``, ``team`` (the queue
        of their members) and whether they are ``active``; the holiday greetings of a day are
        cut to the active advisors' capacity. None: every advisor is active and takes the
        settings' ``advisor_daily_calls``, and the queue is ``general``.
    settings : ContactSettings, str, Path or dict, optional
        The care calendar (``birthday_days_ahead``, ``holiday_days_ahead``, ``holidays``,
        ``holiday_audience``), the VIP tiers, and the pacing, routing, control group and
        call sheet settings; a mapping overrides the defaults key by key. None: the defaults.
    replace : bool, default False
        Replace the list already recorded for this run and day when it differs (no outcome
        may be recorded for it yet); without, a different list is an error.
    unmapped_columns : sequence of str, default ()
        The members file's columns the contract ignored
        (``LoadResult.report.ignored_columns``), named in the error when no member to call
        has a phone.
    context : sequence of pandas.DataFrame, str or Path, default ()
        More tables or files with a ``member_id`` column whose details the call sheet shows
        beside the ``vip`` table's (``rfm.csv``: the segment's action).

    Returns
    -------
    CallExport
        The greetings to make, the control group, the held-back members with the rule that
        held them back (greetings planned for a later day before the holiday among them),
        the ledger status, the files written and the notes.

    Raises
    ------
    LedgerError
        The ledger does not exist, is busy or fails; its phone fingerprints were made with
        another key; the run's day is recorded with a different list (without ``replace``),
        or with outcomes (with it); or the ledger holds runs of a later day. Nothing is
        recorded, and the folder keeps its previous files.
    NoPhonesError
        Not one member to greet has a phone number (the members file is read wrongly).
    ValueError
        A setting is unknown or out of range (an unknown holiday calendar among them),
        ``as_of`` is not a date, the ``vip`` table lacks ``member_id`` or ``vip``, ``ledger``
        is None without ``$SEGKIT_LEDGER_URL`` or is a URL with a password, or ``out_dir``
        holds another run's list, or another day's list that an interrupted export put in
        place before the ledger recorded it.
    FileNotFoundError
        The ``vip`` file, a ``context`` file or the settings YAML does not exist.

    Warns
    -----
    UserWarning
        One per note: holiday greetings that the days left before the holiday cannot take
        (``CallExport.notes``).

    Examples
    --------
    Five days before the Spring Festival (17 February 2026): the week's birthdays, and today's
    share of the VIPs' holiday greetings (those owed, over the days left); the other greetings
    are left to the next days. Here the gold and platinum tiers make VIPs (``vip=`` adds the
    VIPs by spend: ``rfm.csv``, or ``churn_alerts``' ``members``):

    >>> import os
    >>> import tempfile
    >>> import segkit
    >>> from segkit.callcenter import Ledger
    >>> from segkit.synth import generate
    >>> _ = os.environ.setdefault("SEGKIT_PHONE_KEY", "an example key, not a secret")
    >>> world = generate("supplements", 200, seed=1)
    >>> folder = tempfile.TemporaryDirectory()
    >>> ledger = Ledger(os.path.join(folder.name, "ledger.sqlite"), create=True)
    >>> out = os.path.join(folder.name, "care")
    >>> settings = {"vip": {"tiers": ["platinum", "gold"]}}
    >>> care = segkit.care_calls(world.members, "2026-02-12", ledger, out, settings=settings)
    >>> care
    <CallExport care as of 2026-02-12: 6 calls (3 VIP, 0 to queues), 0 held out as control,
    14 held back; later_day 12; do_not_call 2; ledger: recorded>
    >>> care.summary()
         outcome  campaign       detail  members
    0     listed  birthday      general        3
    1     listed   holiday          VIP        3
    2  held back   holiday  do_not_call        2
    3  held back   holiday    later_day       12
    >>> print(care.call_list.loc[0, "reason"])
    Spring Festival on 2026-02-17: holiday greeting

    The next day takes its share of the greetings still owed; those greeted yesterday are
    held back (one greeting per birthday and holiday, whatever the contact window):

    >>> segkit.care_calls(world.members, "2026-02-13", ledger, out, settings=settings)
    <CallExport care as of 2026-02-13: 3 calls (3 VIP, 0 to queues), 0 held out as control,
    16 held back; later_day 9; greeted 5; do_not_call 2; ledger: recorded>
    >>> ledger.close()
    >>> folder.cleanup()
    """
    settings = resolve_settings(ContactSettings, settings)
    return export_list(
        care_candidates(members, as_of, settings, vip=vip),
        members,
        as_of,
        _ledger(ledger),
        out_dir,
        run=campaign,
        advisors=advisors,
        settings=settings,
        replace=replace,
        unmapped_columns=unmapped_columns,
        context=(vip, *context),
    )


def _ledger(ledger: Ledger | str | Path | None) -> Ledger:
    return ledger if isinstance(ledger, Ledger) else Ledger(ledger)


def export_list(
    candidates: pd.DataFrame,
    members: pd.DataFrame,
    as_of: Any,
    ledger: Ledger,
    out_dir: str | Path,
    run: str,
    advisors: pd.DataFrame | None = None,
    settings: ContactSettings | str | Path | dict | None = None,
    replace: bool = False,
    unmapped_columns: Sequence[str] = (),
    context: Sequence[Any] = (),
) -> CallExport:
    """Pace ``candidates`` against the ledger, record the list as run ``run`` of ``as_of``, and make
    ``out_dir`` (a folder of the export's own) hold ``call_list.csv``, ``call_list.xlsx`` (the call sheet,
    ``sheet.write_call_sheet``, in the settings' language, with what ``context`` tables know of each member:
    ``sheet.member_context``) and ``held_back.csv``.

    With ``replace``, a recorded run's different list is replaced, paced against every other run,
    later ones included. ``unmapped_columns``: the members file's columns that the contract ignored
    (``LoadResult.report.ignored_columns``), named in the error when no candidate has a phone. A listed
    call of a member whose birthday is near greets them too (``also_campaign``, ``also_due_date``: on the call
    sheet, not in ``call_list.csv``); what the list cannot do is warned of and kept in ``notes``.
    """
    settings = resolve_settings(ContactSettings, settings)
    as_of = parse_day(as_of)
    if advisors is not None and not len(advisors):  # routed as if absent, the calls went to advisors not in it
        raise ValueError(
            "the advisors table holds no advisor (its header alone, or every row rejected): give the advisors, "
            "or none, to route each call by the member's advisor_id"
        )
    _refuse_a_list_without_phones(candidates, members, unmapped_columns)
    key = phone_key()
    known = member_context(context)
    birthdays = birthday_greetings(members, as_of, settings)
    days = max(settings.window_days, 30, settings.control_days + 1)  # held out on day -control_days: still held
    folder = None
    try:
        with ledger.exclusive() as session:
            _check_folder(Path(out_dir), run, as_of, session)
            folder = FolderReplacement(out_dir, (*CALL_LIST_FILES, RUN_MARKER, f"{RUN_MARKER}.new"))
            session.check_phone_key(key)
            run_id = session.run_id(run, as_of)

            def paced_against(outcomes_through, **runs) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
                paced = pace(
                    candidates,
                    members,
                    as_of,
                    session.contacts(as_of, days, **runs),
                    session.outcomes(outcomes_through, PACING_OUTCOMES, **runs),
                    advisors,
                    settings,
                    fingerprint_key=key,
                    also=birthdays,
                    calls_made=session.outcomes(outcomes_through, since=as_of - pd.Timedelta(days=days), **runs),
                )
                return call_list_table(paced.listed, as_of), paced.held_back, paced.notes

            if run_id is None:  # a new list: every outcome known now holds members back, whatever its date
                listed, held_back, notes = paced_against(None)
            else:  # a re-run: first what the run saw (the runs before it, outcomes to its day)
                listed, held_back, notes = paced_against(as_of, before_run=run_id)
                if not session.same_list(run_id, listed):
                    # not what this run recorded: a replacement (or a replaced run re-run) is paced against
                    # every other run, later ones included, and every outcome known now
                    listed, held_back, notes = paced_against(None, other_than_run=run_id)
            fingerprints = listed["phone"].map(lambda phone: phone_fingerprint(phone, key))
            status = session.record(run, as_of, listed.assign(phone_hash=fingerprints), replace=replace)
            call_list = listed.loc[listed["arm"] == CALLED].reset_index(drop=True)
            control = listed.loc[listed["arm"] == CONTROL, CONTROL_COLUMNS].reset_index(drop=True)
            write_table(call_list[CALL_LIST_COLUMNS], folder.new / "call_list.csv")
            write_table(control, folder.new / "control.csv")
            write_call_sheet(
                call_list,
                held_back,
                folder.new / "call_list.xlsx",
                as_of,
                run,
                settings.language,
                advisors,
                members=members,
                context=known,
                last_contacts=session.last_contacts(sorted(set(call_list["member_id"])), as_of),
                holiday_name=settings.holidays if isinstance(settings.holidays, str) else "holiday",
                purchase_noun=settings.purchase_noun,
                control=len(control),
            )
            write_table(held_back, folder.new / "held_back.csv")
            (folder.new / RUN_MARKER).write_text(f"{run}\n{as_of:%Y-%m-%d}\npending\n", encoding="utf-8")
            folder.swap()
    except BaseException:
        if folder is not None:
            folder.undo()
        raise
    recorded = Path(out_dir) / f"{RUN_MARKER}.new"  # committed: the ledger knows these calls
    recorded.write_text(f"{run}\n{as_of:%Y-%m-%d}\nrecorded\n", encoding="utf-8")
    os.replace(recorded, Path(out_dir) / RUN_MARKER)
    folder.finish()
    for note in notes:
        warnings.warn(f"{run} as of {as_of:%Y-%m-%d}: {note}", stacklevel=2)
    return CallExport(
        run, as_of, call_list, held_back, status, [Path(out_dir) / name for name in CALL_LIST_FILES], notes, control
    )


def read_run_marker(marker: Path) -> tuple[str, str, str]:
    """The run, day and state (pending, recorded) a ``RUN_MARKER`` file holds."""
    return tuple((marker.read_text(encoding="utf-8").split("\n") + ["", ""])[:3])


def _check_folder(out_dir: Path, run: str, as_of: pd.Timestamp, session) -> None:
    """Refuse a folder holding another run's list (two runs in one folder would replace each other's lists,
    leaving the ledger claiming calls that no file lists), or another day's list that an interrupted export
    put in place without the ledger recording it (its calls may have been made: the next days must be paced
    against them, so that day is exported again first)."""
    marker = out_dir / RUN_MARKER
    if not marker.is_file():
        return
    other, day, state = read_run_marker(marker)
    if other != run:
        raise ValueError(f"{out_dir} holds the call list of run {other!r}; give run {run!r} a folder of its own")
    if state == "pending" and day != f"{as_of:%Y-%m-%d}" and session.run_id(run, day) is None:
        raise ValueError(
            f"{out_dir} holds the list of run {run!r} of {day}, which an interrupted export put in "
            f"place before the ledger recorded it: export {day} again first (it records the same "
            "list), so that later days are paced against its calls"
        )


def _refuse_a_list_without_phones(
    candidates: pd.DataFrame, members: pd.DataFrame, unmapped_columns: Sequence[str]
) -> None:
    """A list on which no member has a phone is a members file read wrongly (a phone column under another
    name), not a quiet day: recording it would pace tomorrow against calls nobody made."""
    ids = members["member_id"].astype(str)
    wanted = ids.isin(candidates["member_id"].astype(str))
    if not wanted.any():
        return
    if "phone" in members and members.loc[wanted, "phone"].fillna("").astype(str).str.strip().ne("").any():
        return
    found = (
        "the members table has no phone column" if "phone" not in members else "every one of them has an empty phone"
    )
    unmapped = f"; columns not in the contract: {', '.join(map(str, unmapped_columns))}" if unmapped_columns else ""
    raise NoPhonesError(
        f"no phone number for any of the {int(wanted.sum()):,} members to call ({found}{unmapped}); "
        "map the members file's phone column (--members-mapping); nothing was recorded"
    )
