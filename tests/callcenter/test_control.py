"""Control groups: a deterministic, stratified random share of every run held out, recorded and paced, not called."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from segkit.callcenter import CANDIDATE_COLUMNS, ContactSettings, Ledger, export_list
from segkit.callcenter.control import PRIORITY_BANDS

AS_OF = pd.Timestamp("2026-03-31")


def _members(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": [f"{i:05d}" for i in range(n)],
            "name": "会员",
            "phone": [f"138{i:08d}" for i in range(n)],
            "advisor_id": "A1",
            "do_not_call": False,
        }
    )


def _candidates(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": [f"{i:05d}" for i in range(n)],
            "campaign": "churn",
            "reason": "overdue",
            "due_date": AS_OF,
            "vip": np.arange(n) % 4 == 0,
            "value_at_risk": np.linspace(1000, 1, n),
        }
    )[CANDIDATE_COLUMNS]


def _export(ledger, out, n=2000, day=0, **settings):
    return export_list(
        _candidates(n),
        _members(n),
        AS_OF + pd.Timedelta(days=day),
        ledger,
        out,
        run="churn",
        settings=ContactSettings(**settings),
    )


def test_every_stratum_holds_out_its_share_and_the_rest_is_called(tmp_path):
    export = _export(Ledger(tmp_path / "l.sqlite", create=True), tmp_path / "out")
    listed = pd.concat([export.call_list.assign(arm="called"), export.control.assign(arm="control")])
    assert len(listed) == 2000 and len(export.control) == pytest.approx(200, abs=PRIORITY_BANDS * 2)
    # strata: VIP or not, and fifths of the ranked list; each holds out 10 % of itself, give or take one member
    rank = listed["member_id"].map(
        {
            m: i
            for i, m in enumerate(_candidates(2000).sort_values(["vip", "value_at_risk"], ascending=False)["member_id"])
        }
    )
    for (vip, band), stratum in listed.groupby([listed["vip"], rank * PRIORITY_BANDS // 2000]):
        held = (stratum["arm"] == "control").sum()
        assert abs(held - 0.10 * len(stratum)) < 1, (vip, band, held, len(stratum))
    calls = pd.read_csv(tmp_path / "out" / "call_list.csv", dtype=str, encoding="utf-8-sig")
    control = pd.read_csv(tmp_path / "out" / "control.csv", dtype=str, encoding="utf-8-sig")
    assert not set(calls["member_id"]) & set(control["member_id"])
    assert "phone" not in control and "name" not in control  # nobody calls them: no phone needed
    assert control["priority"].astype(int).min() == len(calls) + 1


@pytest.mark.slow
def test_the_draw_is_the_same_on_a_rerun_and_recorded_in_the_ledger(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite", create=True)
    first = _export(ledger, tmp_path / "a")
    again = _export(ledger, tmp_path / "b")
    assert again.status == "unchanged"
    assert (tmp_path / "a" / "control.csv").read_bytes() == (tmp_path / "b" / "control.csv").read_bytes()
    calls = ledger.calls()
    assert calls.groupby("arm").size().to_dict() == {"called": len(first.call_list), "control": len(first.control)}
    assert set(calls.loc[calls["arm"] == "control", "alert_id"]) == set(first.control["alert_id"])
    other_seed = _export(Ledger(tmp_path / "m.sqlite", create=True), tmp_path / "c", control_seed="another")
    assert set(other_seed.control["member_id"]) != set(first.control["member_id"])


def test_control_members_are_paced_like_called_ones_and_vips_can_be_kept_out(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite", create=True)
    first = _export(ledger, tmp_path / "d0", n=400)
    next_day = _export(ledger, tmp_path / "d1", n=400, day=1)
    held = next_day.held_back.set_index("member_id")["rule"]
    assert (held.reindex(first.control["member_id"]) == "window").all()  # not re-listed within the window
    assert next_day.call_list.empty and next_day.control.empty
    no_vips = _export(Ledger(tmp_path / "v.sqlite", create=True), tmp_path / "v", n=400, control_vips=False)
    assert len(no_vips.control) > 0 and not no_vips.control["vip"].any()
    nobody = _export(Ledger(tmp_path / "z.sqlite", create=True), tmp_path / "z", n=400, control_share=0)
    assert nobody.control.empty and len(nobody.call_list) == 400
    with pytest.raises(ValueError, match="control_share must be a share from 0 to below 1"):
        ContactSettings(control_share=1.0)


def test_the_ledger_keeps_each_listings_chance_of_being_held_out_and_its_p_active(tmp_path):
    ledger = Ledger(tmp_path / "l.sqlite", create=True)
    candidates = _candidates(400).assign(p_active=np.linspace(0.05, 0.55, 400).round(4))
    export_list(
        candidates,
        _members(400),
        AS_OF,
        ledger,
        tmp_path / "out",
        run="churn",
        settings=ContactSettings(control_vips=False),
    )
    calls = ledger.calls().set_index("member_id")
    vip = candidates.set_index("member_id")["vip"].reindex(calls.index)
    assert (calls.loc[~vip, "control_p"] == 0.10).all() and (calls.loc[vip, "control_p"] == 0.0).all()
    assert calls["p_active"].tolist() == candidates.set_index("member_id")["p_active"].reindex(calls.index).tolist()


def test_a_ledger_from_before_control_groups_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.sqlite"
    Ledger(path, create=True).close()
    with sqlite3.connect(path) as con:  # the schema of the release before: no arm, control_p, p_active
        for column in ("arm", "control_p", "p_active"):
            con.execute(f"ALTER TABLE segkit_contacts DROP COLUMN {column}")
        con.execute(
            "INSERT INTO segkit_runs (name, as_of, recorded_at, listed) VALUES ('churn', '2026-03-01', "
            "'2026-03-01 08:00:00', 1)"
        )
        con.execute(
            "INSERT INTO segkit_contacts (alert_id, run_id, member_id, campaign, as_of, priority, vip, "
            "queue, call_by) VALUES ('churn-20260301-x', 1, '00001', 'churn', '2026-03-01', 1, 0, 'g', 'A1')"
        )
    ledger = Ledger(path)
    old = ledger.calls()
    assert old["arm"].tolist() == ["called"] and old[["control_p", "p_active"]].isna().all(axis=None)
    export = _export(ledger, tmp_path / "out", n=50)
    assert len(ledger.calls()) == 1 + len(export.call_list) + len(export.control)


def test_control_groups_are_the_same_on_postgresql(tmp_path, postgres_url):
    _export(Ledger(tmp_path / "l.sqlite", create=True), tmp_path / "s", n=600)
    _export(Ledger(postgres_url, create=True), tmp_path / "p", n=600)
    for name in ("call_list.csv", "control.csv", "held_back.csv"):
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "p" / name).read_bytes(), name
    assert (
        Ledger(postgres_url)
        .calls()
        .drop(columns="as_of")
        .equals(Ledger(tmp_path / "l.sqlite").calls().drop(columns="as_of"))
    )


def test_control_members_stay_uncalled_for_the_whole_measurement_window(tmp_path):
    """After the pacing window, a control member is still not called until ``control_days`` have passed, so
    that a later call does not blur what their purchases measure (found by the closed-loop simulation)."""
    ledger = Ledger(tmp_path / "l.sqlite", create=True)
    first = _export(ledger, tmp_path / "d0", n=400, window_days=14)
    held_out = set(first.control["member_id"])
    day20 = _export(ledger, tmp_path / "d20", n=400, day=20, window_days=14)
    rules = day20.held_back.set_index("member_id")["rule"]
    assert (rules.reindex(sorted(held_out)) == "control_group").all()
    assert day20.held_back.set_index("member_id").loc[sorted(held_out)[0], "held_back"] == (
        "held out as control on 2026-03-31: not called until 2026-05-01 (keeps the comparison clean)"
    )
    assert not held_out & set(day20.call_list["member_id"]) and len(day20.call_list) > 0
    # found by a helper: a call on day 30 was allowed, inside the 30-day window (days 1 to 30) it blurs
    day30 = _export(ledger, tmp_path / "d30", n=400, day=30, window_days=14)
    assert not held_out & set(day30.call_list["member_id"])
    day31 = _export(ledger, tmp_path / "d31", n=400, day=31, window_days=14)
    assert held_out & set(day31.call_list["member_id"])  # the window has ended: callable again
