"""A closed loop with a known effect of a call: does an alert policy win back more households per 100 calls
than naive rules, with few calls to households that had not left?

A gas world (``synth.gas``) is generated up to the day before ``start`` and carried on for ``days`` days.
Each day:

1. **Refills.** Every household whose next refill on its rhythm falls on the day refills: from us while it
   buys from us (a transaction; at that refill it switches to a competitor with its own probability, as in
   ``gas.py``), elsewhere once it has switched (no transaction; it keeps its rhythm).
2. **The list.** The policy picks candidates from the transactions so far, and segkit's call-list export
   (``export_list``) paces them against the SQLite ledger (window, monthly cap, do-not-call) and holds out
   ``control_share`` of them as a control group: the ledger records who was called and who was held out.
3. **The calls.** Each listed household gets one uniform number ``u``, from which both of its potential
   outcomes are drawn (common random numbers). Called, a household that had switched comes back if
   ``u < win_back`` (it buys from us again from its next refill on) and a loyal one that is merely late
   leaves if ``u < annoyance``; not called, nothing changes. The called take the first outcome, the control
   group the second. The agents report the day's calls into the ledger (``agent_reports``), which the next
   days' pacing reads: a household reported switched, won back or asking not to be called is held back.

The policies: ``segkit`` (``churn_alerts``, its rhythm model refitted every ``REFIT_DAYS`` days and scored daily
with the last fit: a fit takes seconds, a score a fraction of one), ``overdue-30`` (more than 30 days since the
last refill) and ``median-1.5`` (more than 1.5 x the household's own median gap), the naive rules of the
backtest (``evaluation.methods``). Like segkit's alerts, the naive rules leave out households gone longer
than ``long_gone_days``. The world's random numbers are drawn per day for every household, whatever the
policy: the three policies meet the same households refilling on the same days and differ only in whom
they call.

The outcome of a listing is "bought from us within ``window_days`` after the list day" (day + 1 to day +
window, as ``campaign_effect`` counts). A household's next refill is drawn at its previous one, so both
potential outcomes of every listing are known exactly, and so is the true uplift: the mean over listings of
(bought if called - bought if not called). ``effect.csv`` is what the ledger's control group estimates of
it (``campaign_effect``, the code of ``segkit effect``), over the listings whose window has ended.

Files in ``out``: ``ledger.sqlite``, ``transactions.csv`` (the history and the simulated days),
``effect.csv``, ``call_truth.csv`` (every listing's arm and both potential outcomes) and ``policy.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..callcenter import ContactSettings, Ledger, alert_candidates, alert_id, export_list
from ..callcenter.control import CALLED, CONTROL
from ..callcenter.effect import campaign_effect
from ..callcenter.ledger import outcomes as ledger_outcomes
from ..callcenter.ledger import runs as ledger_runs
from ..churn.alerts import AlertSettings, churn_alerts
from ..data.parse import parse_day
from ..evaluation.methods import FIXED_RULE_DAYS, OWN_MEDIAN_FACTOR, own_median_gap
from ..features import purchase_gaps
from ..io import write_table
from ..progress import progress
from ..result import Result
from ..settings import resolve_settings
from .gas import gas_history

POLICIES = ("segkit", "overdue-30", "median-1.5")
REFIT_DAYS = 7
CALL_TRUTH_COLUMNS = [
    "alert_id",
    "member_id",
    "as_of",
    "arm",
    "switched",
    "back_if_called",
    "leaves_if_called",
    "bought_if_called",
    "bought_if_not_called",
]
SIMULATION_FILES = ("ledger.sqlite", "transactions.csv", "effect.csv", "call_truth.csv", "policy.json")
_DAY_STREAM, _CATCH_UP_STREAM, _AGENT_STREAM = 1, 2, 3  # the simulation's random streams, apart from the history's


@dataclass(repr=False)
class Simulation(Result):
    """One policy's closed loop: ``policy`` (what ``policy.json`` holds) and the ``files`` written."""

    policy: dict[str, Any]
    files: list[Path]

    def _describe(self) -> str:
        p = self.policy
        return (
            f"{p['policy']} on {p['members']:,} gas households, {p['days']} days to {p['end']}: "
            f"{p['calls']:,} calls, {p['calls_to_active']:,} of them to households that had not switched; "
            f"{p['won_back']:,} won back, {p['lost_by_annoyance']:,} lost by annoyance, "
            f"{p['net_retained_per_100_calls']} net per 100 calls; true uplift {p['true_uplift']}, "
            f"estimated {p['estimated_uplift']}"
        )

    def summary(self) -> pd.DataFrame:
        """``policy.json`` as a table: one row per measure."""
        return pd.DataFrame({"measure": list(self.policy), "value": [str(v) for v in self.policy.values()]})


def simulate(
    out: str | Path,
    n_members: int = 8000,
    days: int = 90,
    start: Any = "2026-04-01",
    seed: int = 0,
    policy: str = "segkit",
    win_back: float = 0.3,
    annoyance: float = 0.05,
    control_share: float = 0.10,
    window_days: int = 30,
    history_days: int = 730,
    settings: Any = None,
) -> Simulation:
    """Run ``policy`` on a gas world of ``n_members`` households (``history_days`` of history) for ``days`` days
    from ``start``, as the module docstring describes, and write the files into the folder ``out`` (replacing
    those of an earlier simulation). ``settings``: the alert settings of the ``segkit`` policy (an
    ``AlertSettings``, YAML path or mapping; ``p_active_below`` and ``long_gone_days`` matter), whose
    ``long_gone_days`` the naive rules use too. The same arguments write the same files."""
    _check(n_members, days, seed, policy, win_back, annoyance, control_share, window_days, history_days)
    settings = replace(resolve_settings(AlertSettings, settings), purchase_noun="refill", purchase_verb="refills")
    start = parse_day(start)
    out = Path(out)
    if (out / "ledger.sqlite").exists() and not (out / "policy.json").exists():
        raise ValueError(
            f"{out} holds a ledger.sqlite that no simulation wrote; give the simulation a folder of its own"
        )
    made = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".simulate-", dir=out))
    done = False
    try:
        world = GasLoop(n_members, seed, start, history_days)
        ledger = Ledger(work / "ledger.sqlite", create=True)
        # each world its own control draw: with one seed for every world, the same days and members would be
        # held out in all of them, and runs over many worlds would repeat one draw instead of averaging over it
        contact = ContactSettings(control_share=control_share, control_seed=f"simulate-{seed}", purchase_noun="refill")
        choose = _policy(policy, world.members, settings)
        truth = []
        with progress(f"simulating {policy}", total=days, unit="days") as bar:
            for _ in range(days):
                as_of = world.refill()
                listed = export_list(
                    choose(world.transactions, as_of),
                    world.members,
                    as_of,
                    ledger,
                    work / "call_list",
                    run=policy,
                    advisors=world.advisors,
                    settings=contact,
                )
                truth.append(
                    world.call(
                        listed.call_list["member_id"],
                        listed.control["member_id"],
                        policy,
                        win_back,
                        annoyance,
                        window_days,
                    )
                )
                ledger.add_outcomes(agent_reports(truth[-1], seed, stream=world.day))  # the day's outcomes
                bar.update()
        truth = pd.concat(truth, ignore_index=True)
        if not (truth["arm"] == CONTROL).any():
            raise ValueError(
                f"no household was held out as control in {days} days ({len(truth):,} listed, control share "
                f"{control_share:g}): the calls cannot be measured; simulate more households or days, or hold out "
                "a larger share"
            )
        effect = campaign_effect(ledger.calls(), world.transactions, as_of, window_days, outcomes=ledger.outcomes())
        tables = effect.tables()
        _record_on_simulated_days(ledger)
        ledger.close()
        summary = {
            "world": "gas",
            "members": n_members,
            "days": days,
            "start": f"{start:%Y-%m-%d}",
            "end": f"{as_of:%Y-%m-%d}",
            "seed": seed,
            "policy": policy,
            "win_back": win_back,
            "annoyance": annoyance,
            "control_share": control_share,
            "window_days": window_days,
            **({"p_active_below": settings.p_active_below} if policy == "segkit" else {}),
            **_policy_measures(truth, effect.overall(), policy, as_of, window_days),
            "households_with_us_at_end": int(world.households.with_us.sum()),
            "advice": json.loads(tables["advice.csv"].to_json(orient="records")),  # rounded as in advice.csv
        }
        write_table(world.transactions, work / "transactions.csv")
        write_table(tables["effect.csv"], work / "effect.csv")
        write_table(truth, work / "call_truth.csv")
        (work / "policy.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        for name in SIMULATION_FILES:
            os.replace(work / name, out / name)
        done = True
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made and not done and not any(out.iterdir()):
            out.rmdir()  # a failed simulation leaves no empty folder it made
    return Simulation(summary, [out / name for name in SIMULATION_FILES])


def _check(n_members, days, seed, policy, win_back, annoyance, control_share, window_days, history_days) -> None:
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
    for name, value in (
        ("members", n_members),
        ("days", days),
        ("window_days", window_days),
        ("history_days", history_days),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number of at least 0, got {seed!r}")
    for name, value in (("win_back", win_back), ("annoyance", annoyance)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability from 0 to 1, got {value!r}")
    if not 0 < control_share < 1:
        raise ValueError(
            f"control_share must be above 0 and below 1 (the control group measures the effect), got {control_share!r}"
        )
    if days <= window_days:
        raise ValueError(
            f"days ({days}) must exceed window_days ({window_days}): the effect is measured over "
            "the listings whose window has ended"
        )


class GasLoop:
    """A gas world carried on day by day: its households (``GasHouseholds``), the transactions so far, and
    what a call does to a household."""

    def __init__(self, n_members: int, seed: int, start: pd.Timestamp, history_days: int):
        tables, self.households = gas_history(n_members, seed, start - pd.Timedelta(days=1), history_days)
        self.members, self.advisors = tables["members"], tables["advisors"]
        self.transactions = tables["transactions"]
        self.seed = seed
        self.day = history_days  # the history's last day, counted from its first
        self.index = pd.Index(self.households.ids)
        self._catch_up()

    def _catch_up(self) -> None:
        """Carry the rhythm of households that switched during the history (they refill elsewhere) up to the
        history's end, so that one won back buys again at its next refill on its rhythm."""
        h = self.households
        rng = np.random.default_rng([self.seed, _CATCH_UP_STREAM])
        behind = np.flatnonzero(h.next_refill <= self.day)
        while behind.size:
            h.next_refill[behind] += h.intervals(behind, rng.gamma(h.k[behind], 1.0 / h.k[behind]))
            behind = behind[h.next_refill[behind] <= self.day]

    def refill(self) -> pd.Timestamp:
        """Move on one day: every household due refills (from us, or elsewhere once switched; those from us
        may switch at it) and draws its next interval. Returns the day. The day's random numbers are drawn
        for every household, so they are the same whatever a policy did."""
        self.day += 1
        h = self.households
        draws = np.random.default_rng([self.seed, _DAY_STREAM, self.day])
        gamma = draws.gamma(h.k, 1.0 / h.k)
        switch = draws.random(len(h.ids)) < h.switch_p
        self._call_numbers = draws.random(len(h.ids))
        due = np.flatnonzero(h.next_refill < self.day + 1)
        here = due[h.with_us[due]]
        here = here[np.lexsort((here, np.floor(h.next_refill[here])))]
        bought = h.purchases(draws, here, h.next_refill[here], first_order=len(self.transactions) + 1)
        self.transactions = pd.concat([self.transactions, bought], ignore_index=True)
        h.next_refill[due] += h.intervals(due, gamma[due])
        h.with_us[here[switch[here]]] = False
        return h.start + pd.Timedelta(days=self.day)

    def call(
        self, called: pd.Series, control: pd.Series, campaign: str, win_back: float, annoyance: float, window_days: int
    ) -> pd.DataFrame:
        """Today's listed households: both potential outcomes of each from one number (``CALL_TRUTH_COLUMNS``);
        the called take the called outcome (a switched one comes back, a loyal one leaves), the control group
        stays as it was."""
        h = self.households
        listed = self.index.get_indexer(pd.concat([called, control]).astype(str))
        arm = np.repeat([CALLED, CONTROL], [len(called), len(control)])
        number = self._call_numbers[listed]
        switched = ~h.with_us[listed]
        refills_in_window = h.next_refill[listed] < self.day + 1 + window_days
        comes_back = switched & (number < win_back)
        leaves = ~switched & (number < annoyance)
        is_called = arm == CALLED
        h.with_us[listed[is_called & comes_back]] = True
        h.with_us[listed[is_called & leaves]] = False
        as_of = h.start + pd.Timedelta(days=self.day)
        ids = h.ids[listed]
        return pd.DataFrame(
            {
                "alert_id": [alert_id(member, campaign, as_of) for member in ids],
                "member_id": ids,
                "as_of": as_of,
                "arm": arm,
                "switched": switched,
                "back_if_called": comes_back,
                "leaves_if_called": leaves,
                "bought_if_called": refills_in_window & (comes_back | (~switched & ~leaves)),
                "bought_if_not_called": refills_in_window & ~switched,
            },
            columns=CALL_TRUTH_COLUMNS,
        )


def _record_on_simulated_days(ledger: Ledger) -> None:
    """Date every run's ``recorded_at`` and every outcome's ``imported_at`` to its simulated day: a simulated
    call center records its list and its outcomes on the day, and a wall-clock time would make every re-run's
    ledger differ."""
    with ledger.exclusive() as session:
        for table, key, day, stamp in (
            (ledger_runs, "run_id", "as_of", "recorded_at"),
            (ledger_outcomes, "outcome_id", "outcome_date", "imported_at"),
        ):
            rows = session.con.execute(sa.select(table.c[key], table.c[day])).all()
            if rows:
                session.con.execute(
                    table.update().where(table.c[key] == sa.bindparam("id")).values({stamp: sa.bindparam("day")}),
                    [{"id": row_id, "day": datetime.combine(when, time())} for row_id, when in rows],
                )


def _policy(name: str, members: pd.DataFrame, settings: AlertSettings):
    """The policy's candidates of a day: a function of the transactions so far and the day."""
    if name == "segkit":
        return SegkitAlerts(members, settings)
    return lambda transactions, as_of: rule_candidates(transactions, as_of, name, settings.long_gone_days)


class SegkitAlerts:
    """segkit's overdue alerts (``churn_alerts``) as candidates, the rhythm model refitted every ``REFIT_DAYS``
    days and each day in between scored with the last fit (households whose first refill came after it wait
    for the next: a first refill is not overdue within a week)."""

    def __init__(self, members: pd.DataFrame, settings: AlertSettings):
        self.members, self.settings = members, settings
        self.model, self.fitted = None, None

    def __call__(self, transactions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
        if self.model is None or (as_of - self.fitted).days >= REFIT_DAYS:
            run = churn_alerts(transactions, as_of, self.members, self.settings)
            self.model, self.fitted = run.model, as_of
        else:
            known = transactions["member_id"].isin(self.model.members_.index)
            run = churn_alerts(transactions.loc[known], as_of, self.members, self.settings, model=self.model)
        return alert_candidates(run.alerts, "segkit")


def rule_candidates(transactions: pd.DataFrame, as_of: pd.Timestamp, rule: str, long_gone_days: int) -> pd.DataFrame:
    """The candidates of a naive rule (``CANDIDATE_COLUMNS``): ``overdue-30``, more than 30 days since the last
    refill; ``median-1.5``, more than 1.5 x the household's own median gap (everyone's median for a
    household with one refill); households gone more than ``long_gone_days`` left out."""
    gaps = purchase_gaps(transactions, as_of)
    open_ = gaps.loc[~gaps["event"]]
    since = open_["days"].to_numpy()
    if rule == "overdue-30":
        limit, why = np.full(len(open_), float(FIXED_RULE_DAYS)), f"more than {FIXED_RULE_DAYS} days"
    else:
        limit = OWN_MEDIAN_FACTOR * own_median_gap(gaps, open_["member_id"])
        why = f"more than {OWN_MEDIAN_FACTOR:g} x own median gap"
    due = (since > limit) & (since <= long_gone_days)
    last = open_["start"].to_numpy()[due]
    return pd.DataFrame(
        {
            "member_id": open_["member_id"].astype(str).to_numpy()[due],
            "campaign": rule,
            "reason": [
                f"last refill {pd.Timestamp(day):%Y-%m-%d}, {days} days ago ({why})"
                for day, days in zip(last, since[due])
            ],
            "due_date": last + pd.to_timedelta(np.floor(limit[due]) + 1, unit="D").to_numpy(),
            "vip": False,
            "value_at_risk": 0.0,
        }
    )


def _policy_measures(
    truth: pd.DataFrame, effect: pd.DataFrame, campaign: str, end: pd.Timestamp, window_days: int
) -> dict:
    """``policy.json``'s measures: calls (to households that had not switched: harassment), won back, lost by
    annoyance, net retained per 100 calls; the true uplift over every listing and over each household's first
    listing whose window ended (what ``effect.csv`` measures), beside the estimate."""
    called = truth.loc[truth["arm"] == CALLED]
    won, lost = int(called["back_if_called"].sum()), int(called["leaves_if_called"].sum())
    # what effect.csv measures: each household's first listing, if its window ended
    first = truth.sort_values("as_of", kind="stable").drop_duplicates("member_id")
    ended = first.loc[first["as_of"] + pd.Timedelta(days=window_days) <= end]
    overall = effect.loc[effect["campaign"] == campaign].iloc[0]
    return {
        "listed": len(truth),
        "calls": len(called),
        "control": int((truth["arm"] == CONTROL).sum()),
        "calls_to_active": int((~called["switched"]).sum()),
        "calls_to_switched": int(called["switched"].sum()),
        "won_back": won,
        "lost_by_annoyance": lost,
        "net_retained_per_100_calls": round(100 * (won - lost) / len(called), 2) if len(called) else None,
        "true_uplift": _uplift(truth),
        "listed_window_ended": len(ended),
        "true_uplift_window_ended": _uplift(ended),
        **{
            f"estimated_{name}": None if pd.isna(overall[name]) else round(float(overall[name]), 4)
            for name in ("uplift", "uplift_low", "uplift_high")
        },
    }


def _uplift(truth: pd.DataFrame) -> float | None:
    """The mean over listings of (bought if called - bought if not called), to 4 decimals."""
    if truth.empty:
        return None
    return round(float((truth["bought_if_called"].astype(int) - truth["bought_if_not_called"].astype(int)).mean()), 4)


def agent_reports(truth: pd.DataFrame, seed: int = 0, polite_yes: float = 0.5, stream: int = 0) -> pd.DataFrame:
    """What the agents would write down for the called listings of ``truth`` (``call_truth.csv``), as outcomes for
    ``Ledger.add_outcomes`` dated on the list day: a household that had switched and comes back is *won back*,
    one that does not *switched supplier*; a loyal household the call drives away *asked not to be called*; a
    loyal one that stays, merely late, promises to refill and is written down as *won back* with probability
    ``polite_yes``, else *reached*. Agents cannot tell the two kinds of *won back* apart, so their count runs
    above the extra buyers the control group measures. ``stream``: another day's reports, other numbers (the loop
    reports each day's calls on that day, and pacing reads them: a household won back is not called again soon)."""
    called = truth.loc[truth["arm"] == CALLED]
    polite = np.random.default_rng([seed, _AGENT_STREAM, stream]).random(len(called)) < polite_yes
    switched, back, leaves = (
        called[name].astype(bool).to_numpy() for name in ("switched", "back_if_called", "leaves_if_called")
    )
    outcome = np.select(
        [switched & back, switched, leaves, polite],
        ["won_back", "switched_supplier", "do_not_call", "won_back"],
        "reached",
    )
    return pd.DataFrame(
        {
            "alert_id": called["alert_id"].to_numpy(),
            "outcome": outcome,
            "outcome_date": pd.to_datetime(called["as_of"]).dt.normalize().to_numpy(),
            "note": "",
        }
    )
