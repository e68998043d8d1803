"""One call-center export: pace the candidates against the ledger, record the list, write the files.

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

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..data.parse import parse_day
from ..io import FolderReplacement, write_table, write_xlsx
from ..privacy import mask_personal, phone_fingerprint, phone_key
from .ledger import Ledger
from .lists import call_list_table
from .pacing import PACING_OUTCOMES, ContactSettings, pace

CALL_LIST_FILES = ("call_list.csv", "call_list.xlsx", "held_back.csv")
RUN_MARKER = ".segkit-run"          # the run whose list a folder holds: another run must not replace it
TEXT_COLUMNS = ("alert_id", "member_id", "phone", "advisor_id", "call_by")


class NoPhonesError(ValueError):
    """Not one candidate who is a member has a phone number: the members file is read wrongly, not empty."""


@dataclass
class CallExport:
    """What one export produced: the call list (names and phones in full: for the call center only),
    the held-back members with reasons, the ledger status and the files."""

    run: str
    as_of: pd.Timestamp
    call_list: pd.DataFrame
    held_back: pd.DataFrame
    status: str                 # recorded | unchanged | replaced
    files: list[Path]

    def __repr__(self) -> str:
        by_rule = self.held_back["rule"].value_counts()
        return (f"<CallExport {self.run} as of {self.as_of.date()}: {len(self.call_list):,} calls "
                f"({int(self.call_list['vip'].sum()):,} VIP, {int((self.call_list['call_by'] == 'queue').sum()):,} "
                f"to queues), {len(self.held_back):,} held back"
                + "".join(f"; {rule} {count:,}" for rule, count in by_rule.items())
                + f"; ledger: {self.status}>")

    def masked(self) -> pd.DataFrame:
        """The call list with names and phones masked, for notebooks and reports."""
        return mask_personal(self.call_list)


def export_calls(candidates: pd.DataFrame, members: pd.DataFrame, as_of: Any, ledger: Ledger, out_dir: str | Path,
                 run: str, advisors: pd.DataFrame | None = None, settings: ContactSettings | None = None,
                 replace: bool = False, unmapped_columns: Sequence[str] = ()) -> CallExport:
    """Pace ``candidates`` against the ledger, record the list as run ``run`` of ``as_of``, and make
    ``out_dir`` (a folder of the export's own) hold ``call_list.csv``, ``call_list.xlsx`` and ``held_back.csv``.

    With ``replace``, a recorded run's different list is replaced, paced against every other run,
    later ones included. ``unmapped_columns``: the members file's columns that the contract ignored
    (``LoadResult.report.ignored_columns``), named in the error when no candidate has a phone.
    """
    settings = settings or ContactSettings()
    as_of = parse_day(as_of)
    _refuse_a_list_without_phones(candidates, members, unmapped_columns)
    key = phone_key()
    days = max(settings.window_days, 30)
    folder = None
    try:
        with ledger.exclusive() as session:
            _refuse_another_runs_folder(Path(out_dir), run)
            folder = FolderReplacement(out_dir, (*CALL_LIST_FILES, RUN_MARKER))
            session.check_phone_key(key)
            run_id = session.run_id(run, as_of)

            def paced_against(**runs) -> tuple[pd.DataFrame, pd.DataFrame]:
                paced = pace(candidates, members, as_of, session.contacts(as_of, days, **runs),
                             session.outcomes(as_of, PACING_OUTCOMES, **runs), advisors, settings, fingerprint_key=key)
                return call_list_table(paced.listed, as_of), paced.held_back

            call_list, held_back = paced_against(before_run=run_id)
            if run_id is not None and not session.same_list(run_id, call_list):
                # not what this run recorded against the runs before it: a replacement (or a replaced
                # run re-run) is paced against every other run, later ones included
                call_list, held_back = paced_against(other_than_run=run_id)
            fingerprints = call_list["phone"].map(lambda phone: phone_fingerprint(phone, key))
            status = session.record(run, as_of, call_list.assign(phone_hash=fingerprints), replace=replace)
            write_table(call_list, folder.new / "call_list.csv")
            write_xlsx(call_list, folder.new / "call_list.xlsx", sheet="calls", text_columns=TEXT_COLUMNS,
                       timestamp=as_of)
            write_table(held_back, folder.new / "held_back.csv")
            (folder.new / RUN_MARKER).write_text(f"{run}\n", encoding="utf-8")
            folder.swap()
    except BaseException:
        if folder is not None:
            folder.undo()
        raise
    folder.finish()
    return CallExport(run, as_of, call_list, held_back, status, [Path(out_dir) / name for name in CALL_LIST_FILES])


def _refuse_another_runs_folder(out_dir: Path, run: str) -> None:
    """Two runs exported into one folder would replace each other's lists, leaving the ledger claiming calls
    that no file lists."""
    marker = out_dir / RUN_MARKER
    if marker.is_file() and (other := marker.read_text(encoding="utf-8").strip()) != run:
        raise ValueError(f"{out_dir} holds the call list of run {other!r}; give run {run!r} a folder of its own")


def _refuse_a_list_without_phones(candidates: pd.DataFrame, members: pd.DataFrame,
                                  unmapped_columns: Sequence[str]) -> None:
    """A list on which no member has a phone is a members file read wrongly (a phone column under another
    name), not a quiet day: recording it would pace tomorrow against calls nobody made."""
    ids = members["member_id"].astype(str)
    wanted = ids.isin(candidates["member_id"].astype(str))
    if not wanted.any():
        return
    if "phone" in members and members.loc[wanted, "phone"].fillna("").astype(str).str.strip().ne("").any():
        return
    found = ("the members table has no phone column" if "phone" not in members
             else "every one of them has an empty phone")
    unmapped = (f"; columns not in the contract: {', '.join(map(str, unmapped_columns))}" if unmapped_columns
                else "")
    raise NoPhonesError(f"no phone number for any of the {int(wanted.sum()):,} members to call ({found}{unmapped}); "
                        "map the members file's phone column (--members-config); nothing was recorded")
