"""Exports at once on one ledger, in real processes, on SQLite and PostgreSQL: each export is one serialized
unit (read history, pace, record), so no member is listed twice within the window and do-not-call holds,
whatever the campaigns; the same campaign exported twice at once is recorded once.

Each worker process widens the race on purpose: it pauses between reading the history and recording its
list (inside ``pace``). Without the ledger's lock, every worker would pace against the same empty history.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from segkit.callcenter import ContactSettings, Ledger, LedgerError

pytestmark = pytest.mark.slow  # real processes racing on one ledger: not in make test-fast

AS_OF = "2026-03-31"
MEMBERS = 60
DO_NOT_CALL = {f"{i:04d}" for i in range(0, MEMBERS, 7)}
SETTINGS = ContactSettings(window_days=14, max_per_30_days=2, control_share=0)  # every member called
PAUSE = 0.3  # seconds each worker spends "pacing": the window in which two exports would overlap


def _members() -> pd.DataFrame:
    ids = [f"{i:04d}" for i in range(MEMBERS)]
    return pd.DataFrame(
        {
            "member_id": ids,
            "name": [f"会员{i}" for i in range(MEMBERS)],
            "phone": [f"138{i:08d}" for i in range(MEMBERS)],
            "tier": "",
            "advisor_id": "A1",
            "do_not_call": [m in DO_NOT_CALL for m in ids],
        }
    )


def _candidates(campaign: str) -> pd.DataFrame:
    """Every member, for every campaign: each export wants all of them."""
    return pd.DataFrame(
        {
            "member_id": [f"{i:04d}" for i in range(MEMBERS)],
            "campaign": campaign,
            "reason": "overdue",
            "due_date": pd.Timestamp(AS_OF),
            "vip": False,
            "value_at_risk": 1.0,
        }
    )


def _worker(url: str, campaign: str, out: str, go: str) -> None:
    """One export in its own process, started when the file ``go`` appears; prints its status as JSON."""
    from segkit.callcenter import export as export_module
    from segkit.callcenter import export_list

    def slow_pace(*args, **kwargs):
        time.sleep(PAUSE)
        return real_pace(*args, **kwargs)

    real_pace, export_module.pace = export_module.pace, slow_pace
    ledger = Ledger(url, lock_timeout=60, create=True)  # the schema, too, is made by one of them
    Path(out + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.01)
    try:
        export = export_list(_candidates(campaign), _members(), AS_OF, ledger, out, run=campaign, settings=SETTINGS)
    except LedgerError as error:
        print(json.dumps({"error": str(error)}))
    else:
        print(json.dumps({"status": export.status, "listed": len(export.call_list)}))


def _export_at_once(url: str, campaigns: list[str], folder: Path) -> list[dict]:
    """Start one worker process per campaign, release them together, return what each printed."""
    go = folder / "go"
    outs = [folder / f"out{i}" for i in range(len(campaigns))]
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, url, campaign, str(out), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for campaign, out in zip(campaigns, outs)
    ]
    deadline = time.monotonic() + 60
    while not all(Path(f"{out}.ready").exists() for out in outs) and time.monotonic() < deadline:
        if any(worker.poll() is not None for worker in workers):
            break
        time.sleep(0.02)
    go.touch()
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=120)
        assert worker.returncode == 0 and "Traceback" not in stderr, stderr
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


def _ledger_url(backend: str, request, tmp_path: Path) -> str:
    return str(tmp_path / "ledger.sqlite") if backend == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_exports_at_once_never_list_a_member_twice_nor_break_do_not_call(backend, request, tmp_path):
    url = _ledger_url(backend, request, tmp_path)
    campaigns = ["churn", "birthday", "holiday", "churn"]  # three campaigns, one of them twice
    results = _export_at_once(url, campaigns, tmp_path)
    assert all("status" in result for result in results), results
    contacts = Ledger(url).contacts()
    assert not contacts["member_id"].duplicated().any(), "a member was listed twice on one day"
    assert not set(contacts["member_id"]) & DO_NOT_CALL
    assert len(contacts) == MEMBERS - len(DO_NOT_CALL)  # the first export took them all
    churn = [result for campaign, result in zip(campaigns, results) if campaign == "churn"]
    assert sorted(result["status"] for result in churn) == ["recorded", "unchanged"]
    assert (tmp_path / "out0" / "call_list.xlsx").read_bytes() == (tmp_path / "out3" / "call_list.xlsx").read_bytes()
    for i, result in enumerate(results):  # each folder lists what its run recorded
        listed = pd.read_csv(tmp_path / f"out{i}" / "call_list.csv", dtype=str, encoding="utf-8-sig")
        assert len(listed) == result["listed"]
        assert set(listed["alert_id"]) == set(contacts.loc[contacts["campaign"] == campaigns[i], "alert_id"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_writer_that_waits_too_long_stops_in_one_line_and_changes_nothing(backend, request, tmp_path):
    url = _ledger_url(backend, request, tmp_path)
    holder, waiter = Ledger(url, create=True), Ledger(url, lock_timeout=0.5)
    with holder.exclusive() as session:
        session.row_counts()
        started = time.monotonic()
        with pytest.raises(
            LedgerError, match=r"is busy: another export or import held it for more than 0\.5 s"
        ) as error:
            waiter.record(
                "churn",
                AS_OF,
                pd.DataFrame(
                    columns=[
                        "alert_id",
                        "member_id",
                        "campaign",
                        "priority",
                        "vip",
                        "advisor_id",
                        "queue",
                        "call_by",
                        "phone_hash",
                        "arm",
                    ]
                ),
            )
        assert 0.4 < time.monotonic() - started < 5 and "\n" not in str(error.value)
        assert waiter.row_counts()["runs"] == 0  # reading does not wait for the writer
    assert (
        waiter.record(
            "churn",
            AS_OF,
            pd.DataFrame(
                columns=[
                    "alert_id",
                    "member_id",
                    "campaign",
                    "priority",
                    "vip",
                    "advisor_id",
                    "queue",
                    "call_by",
                    "phone_hash",
                    "arm",
                ]
            ),
        )
        == "recorded"
    )


if __name__ == "__main__":
    _worker(*sys.argv[1:])
