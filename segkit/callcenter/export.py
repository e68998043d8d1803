"""One call-center export: pace the candidates against the ledger, record the list, write the files.

Order of work, so that re-runs and crashes are harmless: the list is
recorded in the ledger in one transaction, then each file is written to a
temporary file and renamed. Re-running the same run and day recomputes
against the ledger as it was before that run (``Ledger.contacts(before_run=)``),
finds the identical list already recorded, adds nothing and rewrites the
identical bytes.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..data.parse import parse_day
from ..io import write_table, write_xlsx
from ..privacy import mask_personal, phone_fingerprint
from .ledger import Ledger
from .lists import call_list_table
from .pacing import PACING_OUTCOMES, ContactSettings, pace

CALL_LIST_FILES = ("call_list.csv", "call_list.xlsx", "held_back.csv")
TEXT_COLUMNS = ("alert_id", "member_id", "phone", "advisor_id", "call_by")


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
                 replace: bool = False) -> CallExport:
    """Pace ``candidates`` against the ledger, record the list as run ``run`` of ``as_of``, write
    ``out_dir/call_list.csv``, ``call_list.xlsx`` and ``held_back.csv``."""
    settings = settings or ContactSettings()
    as_of = parse_day(as_of)
    before = ledger.run_id(run, as_of)
    history = ledger.contacts(as_of, before_run=before, days=max(settings.window_days, 30))
    paced = pace(candidates, members, as_of, history, ledger.outcomes(before=as_of, codes=PACING_OUTCOMES),
                 advisors, settings)
    call_list = call_list_table(paced.listed, as_of)
    status = ledger.record(run, as_of, call_list.assign(phone_hash=call_list["phone"].map(phone_fingerprint)),
                           replace=replace)
    out_dir = Path(out_dir)
    files = [write_table(call_list, out_dir / "call_list.csv"),
             write_xlsx(call_list, out_dir / "call_list.xlsx", sheet="calls", text_columns=TEXT_COLUMNS,
                        timestamp=as_of),
             write_table(paced.held_back, out_dir / "held_back.csv")]
    return CallExport(run, as_of, call_list, paced.held_back, status, files)
