"""Care calls within the advisors' capacity: holiday greetings spread over the days before the holiday, what
cannot fit said out loud, and one call for a member due two reasons (a churn alert and a birthday)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from segkit.callcenter import (
    CALL_LIST_COLUMNS,
    CANDIDATE_COLUMNS,
    ContactSettings,
    Ledger,
    care_calls,
    care_candidates,
    daily_capacity,
    export_calls,
    pace,
)
from segkit.synth import generate

SPRING_FESTIVAL = pd.Timestamp("2026-02-17")
WEEK_BEFORE = SPRING_FESTIVAL - pd.Timedelta(days=7)

NO_CONTROL = ContactSettings(control_share=0)  # pacing alone: every eligible member is called


def _members(n: int, advisors=("A1",), **columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "member_id": [f"{i:04d}" for i in range(n)],
            "name": [f"会员{i}" for i in range(n)],
            "phone": [f"0{138_0000_0000 + i}" for i in range(n)],
            "tier": "diamond",
            "advisor_id": [advisors[i % len(advisors)] for i in range(n)],
            "do_not_call": False,
        }
    )
    for column, values in columns.items():
        frame[column] = values
    return frame


def _greetings(members: pd.DataFrame, holiday: pd.Timestamp = SPRING_FESTIVAL, vip=True, value=0.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "member_id": members["member_id"],
            "campaign": "holiday",
            "reason": "holiday greeting",
            "due_date": holiday,
            "vip": vip,
            "value_at_risk": value,
        }
    )[CANDIDATE_COLUMNS]


def _capacity(calls: int, advisor: str = "A1") -> pd.DataFrame:
    return pd.DataFrame({"advisor_id": [advisor], "level": [2], "team": ["VIP service"], "daily_calls": [calls]})


# --- spreading, by example ---------------------------------------------------------------------------------


def test_holiday_greetings_are_spread_over_the_days_before_the_holiday_vips_and_value_first():
    members = _members(12, tier="")
    candidates = _greetings(members, vip=[i < 6 for i in range(12)], value=[float(i) for i in range(12)])
    calls, days = [], {}
    for day in pd.date_range(SPRING_FESTIVAL - pd.Timedelta(days=3), SPRING_FESTIVAL):
        paced = pace(
            candidates, members, day, pd.concat(calls) if calls else None, advisors=_capacity(40), settings=NO_CONTROL
        )
        days[day] = paced.listed["member_id"].tolist()
        later = paced.held_back.loc[paced.held_back["rule"] == "later_day"]
        assert len(paced.listed) + len(paced.held_back) == len(candidates) and not paced.notes
        assert (later["held_back"] == "greeting planned for a later day before the holiday on 2026-02-17").all()
        calls.append(paced.listed[["member_id", "campaign", "call_by"]].assign(as_of=day))
    # 12 owed over 3 days: 4 a day, the VIPs first (most valuable first), none left for the day itself
    assert list(days.values()) == [
        ["0005", "0004", "0003", "0002"],
        ["0001", "0000", "0011", "0010"],
        ["0009", "0008", "0007", "0006"],
        [],
    ]


def test_the_days_share_is_cut_to_the_capacity_other_runs_left_and_each_advisor_keeps_their_own():
    members = _members(12, advisors=("A1", "A2"))
    advisors = pd.concat([_capacity(3, "A1"), _capacity(3, "A2")])
    day = SPRING_FESTIVAL - pd.Timedelta(days=1)  # the last day before: all 12 are due today
    churn = pd.DataFrame({"member_id": ["9000", "9001"], "as_of": day, "campaign": "churn", "call_by": "A1"})
    paced = pace(_greetings(members), members, day, churn, advisors=advisors, settings=NO_CONTROL)
    assert len(paced.listed) == 6 - 2  # 6 calls a day, 2 of them taken this morning
    assert paced.listed.loc[paced.listed["call_by"] == "A1", "member_id"].tolist() == ["0000"]  # A1 had 2 of 3
    assert (paced.held_back["rule"] == "later_day").sum() == 8
    assert paced.notes == [
        "8 of the 12 holiday greetings owed before 2026-02-17 (8 VIPs among them) cannot be made "
        "before the holiday: the advisors take 6 calls a day, 4 of them left today, 1 day(s) to go"
    ]


def test_greetings_that_cannot_fit_before_the_holiday_are_warned_of_and_on_the_day_itself_held_back(tmp_path):
    members = _members(30)
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    settings = ContactSettings(holidays=[f"{SPRING_FESTIVAL:%Y-%m-%d}"], control_share=0)
    start = SPRING_FESTIVAL - pd.Timedelta(days=3)
    with pytest.warns(
        UserWarning,
        match=r"care as of 2026-02-14: 18 of the 30 holiday greetings owed before "
        r"2026-02-17 \(18 VIPs among them\) cannot be made before the holiday: the "
        r"advisors take 4 calls a day, 4 of them left today, 3 day\(s\) to go",
    ):
        first = care_calls(members, start, ledger, tmp_path / "care", advisors=_capacity(4), settings=settings)
    assert len(first.call_list) == 4 and "cannot be made before the holiday" in repr(first)
    for day in (1, 2):
        with pytest.warns(UserWarning, match="cannot be made before the holiday"):
            care_calls(
                members,
                start + pd.Timedelta(days=day),
                ledger,
                tmp_path / "care",
                advisors=_capacity(4),
                settings=settings,
            )
    with pytest.warns(UserWarning, match=r"14 holiday greetings of 2026-02-17 \(14 VIPs\) are not made"):
        on_the_day = care_calls(
            members, SPRING_FESTIVAL, ledger, tmp_path / "care", advisors=_capacity(4), settings=settings
        )
    held = on_the_day.held_back
    assert len(on_the_day.call_list) == 4 and (held["rule"] == "capacity_full").sum() == 14
    assert held["held_back"].str.contains("no day left before the holiday on 2026-02-17: not greeted").any()
    assert len(set(ledger.contacts()["member_id"])) == 16  # each greeted once, 4 a day
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the day after: nothing is owed, no warning
        after = care_calls(
            members,
            SPRING_FESTIVAL + pd.Timedelta(days=1),
            ledger,
            tmp_path / "care",
            advisors=_capacity(4),
            settings=settings,
        )
    assert after.call_list.empty and after.held_back.empty and not after.notes


# --- one call, two reasons ---------------------------------------------------------------------------------


def test_the_churn_call_carries_a_near_birthday_and_the_care_run_after_it_says_so(tmp_path):
    day = pd.Timestamp("2027-02-01")  # Spring Festival 2027-02-06
    members = _members(
        4,
        tier=["", "", "diamond", ""],
        birthday=pd.to_datetime(["1980-02-04", "1990-06-01", "1985-02-03", "1975-02-02"]),
    )
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    alerts = pd.DataFrame(
        {
            "member_id": ["0000", "0001"],
            "reason": "overdue",
            "vip": False,
            "expected_next_purchase": "2027-01-20",
            "value_at_risk": [80.0, 50.0],
        }
    )
    churn = export_calls(alerts, members, day, ledger, tmp_path / "calls", settings=NO_CONTROL)
    calls = churn.call_list.set_index("member_id")
    assert calls.loc["0000", ["campaign", "also_campaign", "also_due_date"]].tolist() == [
        "churn",
        "birthday",
        pd.Timestamp("2027-02-04"),
    ]
    assert calls.loc["0001", "also_campaign"] == "" and pd.isna(calls.loc["0001", "also_due_date"])
    csv = pd.read_csv(tmp_path / "calls" / "call_list.csv", encoding="utf-8-sig")
    assert csv.columns.tolist() == CALL_LIST_COLUMNS  # dialers and the ledger see no new columns

    care = care_calls(members, day, ledger, tmp_path / "care", settings=NO_CONTROL)
    held = care.held_back.set_index(["member_id", "campaign"])["held_back"]
    assert held[("0000", "birthday")] == "contacted 0 days ago (churn), a call that greets the birthday too"
    listed = care.call_list.set_index("member_id")
    # a VIP due a birthday and the holiday greeting: one call, the holiday as its second reason
    assert listed.loc["0002", ["campaign", "also_campaign", "also_due_date"]].tolist() == [
        "birthday",
        "holiday",
        pd.Timestamp("2027-02-06"),
    ]
    assert held[("0002", "holiday")] == "listed once in this run (birthday)"
    assert listed.loc["0003", ["campaign", "also_campaign"]].tolist() == ["birthday", ""]


# --- the must-show: a week before Spring Festival on a 20,000-member world ---------------------------------


@pytest.mark.slow
def test_a_week_before_spring_festival_every_reachable_vip_is_greeted_in_time_within_capacity(tmp_path):
    world = generate("supplements", 20_000, seed=19, as_of=f"{WEEK_BEFORE:%Y-%m-%d}")
    members, advisors = world.members, world.advisors
    spend = world.transactions.groupby("member_id")["amount"].sum()
    vip = spend.rank(ascending=False, method="first") <= np.ceil(0.2 * len(spend))  # the alerts' spend rule
    capacity = daily_capacity(advisors, ContactSettings())
    ledger = Ledger(tmp_path / "ledger.sqlite", create=True)
    # the churn list comes first that morning and takes half the day's capacity
    overdue = members["member_id"].sample(capacity.sum() // 2, random_state=1)
    alerts = pd.DataFrame(
        {
            "member_id": overdue,
            "reason": "overdue",
            "expected_next_purchase": "2026-02-01",
            "vip": overdue.map(vip).eq(True),
            "value_at_risk": 100.0,
        }
    )
    churn = export_calls(alerts, members, WEEK_BEFORE, ledger, tmp_path / "calls", advisors=advisors)
    keep_vips = ContactSettings(control_vips=False)  # a control group of greetings, but every VIP greeted
    assert (churn.call_list["also_campaign"] == "birthday").any()

    greeted, reachable = {}, None
    for day in pd.date_range(WEEK_BEFORE, SPRING_FESTIVAL):
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # capacity x days allows: no warning
            care = care_calls(members, day, ledger, tmp_path / "care", vip=vip, advisors=advisors, settings=keep_vips)
        candidates = care_candidates(members, day, vip=vip)
        assert len(care.call_list) + len(care.control) + len(care.held_back) == len(candidates)  # nobody vanishes
        assert not care.control["vip"].any()
        today = ledger.contacts(day, days=1).query("arm == 'called'")  # every run's calls that day
        assert len(today) <= capacity.sum()
        by_advisor = today.loc[today["call_by"] != "queue", "call_by"].value_counts()
        assert (by_advisor <= capacity.reindex(by_advisor.index)).all()
        listed = care.call_list
        greeted[day] = set(
            listed.loc[(listed["campaign"] == "holiday") | (listed["also_campaign"] == "holiday"), "member_id"]
        )
        if reachable is None:  # VIPs no rule but today's share holds back: DNC, no phone, ...
            held = care.held_back.loc[care.held_back["campaign"] == "holiday"]
            owed = candidates.loc[candidates["campaign"] == "holiday", "member_id"]
            reachable = set(owed) - set(held.loc[~held["rule"].isin(["later_day", "once_per_list"]), "member_id"])
            assert (held["rule"] == "later_day").sum() > len(reachable) / 2  # most wait for a later day
    before = set().union(*(members for day, members in greeted.items() if day < SPRING_FESTIVAL))
    assert len(reachable) > 3_000 and reachable <= before
    assert not greeted[SPRING_FESTIVAL] & reachable
    assert all(greeted[day] for day in greeted if day < SPRING_FESTIVAL)  # every day takes its share
