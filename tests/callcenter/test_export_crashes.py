"""An export that fails or is killed at any step never leaves the ledger claiming calls that no file lists,
nor a folder mixing two days: the day's folder is put in place whole before the ledger commits, and put
back if the commit fails. What a crash leaves behind is cleaned up by the next export of that folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from segkit.callcenter import ContactSettings, Ledger, export_list
from segkit.io import FolderReplacement

AS_OF = pd.Timestamp("2026-03-31")
SETTINGS = ContactSettings(window_days=1, control_share=0)  # every member called, and again the next day
CRASHED = 3


def _members() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": [f"{i:04d}" for i in range(20)],
            "name": "会员",
            "do_not_call": False,
            "phone": [f"138{i:08d}" for i in range(20)],
            "tier": "",
            "advisor_id": "A1",
        }
    )


def _export(ledger: Ledger, out: Path, day: int):
    candidates = pd.DataFrame(
        {
            "member_id": _members()["member_id"],
            "campaign": "churn",
            "reason": "overdue",
            "due_date": AS_OF,
            "vip": False,
            "value_at_risk": 1.0,
        }
    )
    return export_list(
        candidates, _members(), AS_OF + pd.Timedelta(days=day), ledger, out, run="churn", settings=SETTINGS
    )


def _listed_in(folder: Path) -> set[str]:
    """The alert ids of a folder's call list; the CSV and the XLSX must list the same calls."""
    csv = set(pd.read_csv(folder / "call_list.csv", dtype=str, encoding="utf-8-sig")["alert_id"])
    listed = set()
    for sheet in openpyxl.load_workbook(folder / "call_list.xlsx").worksheets[1:]:  # after the summary
        header, *rows = sheet.iter_rows(values_only=True)
        listed |= {row[header.index("呼叫编号")] for row in rows}
    assert csv == listed, "CSV and XLSX disagree"
    return csv


def _claimed(ledger: Ledger) -> set[str]:
    """The calls the ledger says were listed on its latest day."""
    contacts = ledger.contacts()
    return set(contacts.loc[contacts["as_of"] == contacts["as_of"].max(), "alert_id"])


def _leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out."))


@pytest.fixture
def day_one(tmp_path):
    """A ledger with day 0 exported into ``out``; the bytes of that folder."""
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    _export(ledger, tmp_path / "out", day=0)
    return ledger, {name: (tmp_path / "out" / name).read_bytes() for name in os.listdir(tmp_path / "out")}


def _fail_writing(monkeypatch, ledger):
    from segkit.callcenter import export

    monkeypatch.setattr(export, "write_call_sheet", lambda *args, **kwargs: (_ for _ in ()).throw(OSError("disk full")))


def _fail_moving_in(monkeypatch, ledger):
    renames, rename = [], os.rename

    def second_rename_fails(source, target):
        renames.append(source)
        if len(renames) == 2:  # the previous folder went aside; the new one cannot come in
            raise OSError("device busy")
        rename(source, target)

    monkeypatch.setattr(os, "rename", second_rename_fails)


def _fail_committing(monkeypatch, ledger):
    def commit_fails(con):
        raise sa.exc.OperationalError("COMMIT", {}, OSError("disk I/O error"))

    sa.event.listen(ledger.engine, "commit", commit_fails)


@pytest.mark.parametrize("fail", [_fail_writing, _fail_moving_in, _fail_committing], ids=lambda f: f.__name__[1:])
def test_a_failure_before_the_commit_leaves_the_previous_day_whole(day_one, tmp_path, monkeypatch, fail):
    ledger, before = day_one
    fail(monkeypatch, ledger)
    with pytest.raises((OSError, ValueError)):
        _export(ledger, tmp_path / "out", day=1)
    monkeypatch.undo()
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)  # without the failing commit
    assert ledger.runs()["as_of"].tolist() == [AS_OF]  # day 1 was not recorded
    assert {name: (tmp_path / "out" / name).read_bytes() for name in before} == before
    assert _claimed(ledger) == _listed_in(tmp_path / "out") and _leftovers(tmp_path) == []
    assert _export(ledger, tmp_path / "out", day=1).status == "recorded"
    assert _claimed(ledger) == _listed_in(tmp_path / "out") and _leftovers(tmp_path) == []


def test_a_failure_after_the_commit_leaves_the_new_day_whole(day_one, tmp_path, monkeypatch):
    ledger, _ = day_one
    monkeypatch.setattr(FolderReplacement, "finish", lambda self: (_ for _ in ()).throw(OSError("cannot remove")))
    with pytest.raises(OSError):
        _export(ledger, tmp_path / "out", day=1)
    monkeypatch.undo()
    assert len(ledger.runs()) == 2 and _claimed(ledger) == _listed_in(tmp_path / "out")
    assert len(_leftovers(tmp_path)) == 1  # the previous day, set aside
    assert _export(ledger, tmp_path / "out", day=1).status == "unchanged"
    assert _leftovers(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("point", ["previous folder aside", "new folder in place", "ledger committed"])
def test_a_killed_export_never_lets_the_ledger_claim_calls_no_file_lists(day_one, tmp_path, point):
    ledger, before = day_one
    crash = subprocess.run([sys.executable, __file__, str(tmp_path), point], capture_output=True, text=True)
    assert crash.returncode == CRASHED, crash.stderr
    if point == "ledger committed":
        assert len(ledger.runs()) == 2 and _claimed(ledger) == _listed_in(tmp_path / "out")
    else:  # day 1 was not recorded; day 0's folder is kept whole beside, set aside by the swap
        assert len(ledger.runs()) == 1 and _claimed(ledger) == _listed_in(next(tmp_path.glob(".out.old-*")))
        assert (tmp_path / "out").exists() == (point == "new folder in place")
    if point == "new folder in place":  # a list the call center may be working from, unknown to the ledger:
        with pytest.raises(ValueError, match="export 2026-04-01 again first"):  # no later day before it
            _export(ledger, tmp_path / "out", day=2)
    # the next export of the folder cleans up after the crash
    _export(ledger, tmp_path / "out", day=1)
    assert _claimed(ledger) == _listed_in(tmp_path / "out") and _leftovers(tmp_path) == []


def _killed_export(folder: str, point: str) -> None:
    """Export day 1 into ``folder/out`` and die (no clean-up, no rollback) at ``point``."""
    ledger = Ledger(Path(folder) / "ledger.sqlite", create=True)
    die = lambda *args: os._exit(CRASHED)  # noqa: E731
    if point == "previous folder aside":
        rename = os.rename
        os.rename = lambda source, target: (rename(source, target), die())
    elif point == "new folder in place":
        sa.event.listen(ledger.engine, "commit", die)
    else:
        FolderReplacement.finish = die
    _export(ledger, Path(folder) / "out", day=1)


if __name__ == "__main__":
    _killed_export(*sys.argv[1:])


def test_two_runs_never_share_a_folder(day_one, tmp_path):
    ledger, before = day_one
    candidates = pd.DataFrame(
        {
            "member_id": ["0001"],
            "campaign": "birthday",
            "reason": "birthday",
            "due_date": AS_OF,
            "vip": False,
            "value_at_risk": 0.0,
        }
    )
    with pytest.raises(ValueError, match="holds the call list of run 'churn'"):
        export_list(
            candidates,
            _members(),
            AS_OF + pd.Timedelta(days=1),
            ledger,
            tmp_path / "out",
            run="care",
            settings=SETTINGS,
        )
    assert {name: (tmp_path / "out" / name).read_bytes() for name in os.listdir(tmp_path / "out")} == before
    assert ledger.runs()["run"].tolist() == ["churn"]


def test_what_desktops_and_excel_leave_in_the_folder_does_not_stop_the_next_day(day_one, tmp_path):
    ledger, _ = day_one
    for litter in ("~$call_list.xlsx", ".DS_Store", "Thumbs.db"):
        (tmp_path / "out" / litter).write_bytes(b"x")
    _export(ledger, tmp_path / "out", day=1)
    assert sorted(os.listdir(tmp_path / "out")) == [
        ".segkit-run",
        "call_list.csv",
        "call_list.xlsx",
        "control.csv",
        "held_back.csv",
    ]
    assert (tmp_path / "out" / ".segkit-run").read_text() == "churn\n2026-04-01\nrecorded\n"
    (tmp_path / "out" / "notes.txt").write_text("the team lead's notes")
    with pytest.raises(ValueError, match="holds files this output does not own"):
        _export(ledger, tmp_path / "out", day=2)
