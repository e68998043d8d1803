"""The contact ledger: every listed call and every outcome, in any SQLAlchemy database.

Pacing reads it; exports and outcome imports write it, each in one
transaction, so a crash never leaves half a list recorded. The default is an
embedded SQLite file that needs no server; ``postgresql+psycopg://...`` or
any other SQLAlchemy URL works, with the schema created on first use.

Credentials come from the environment only: a URL given on the command line
or as a notebook parameter must not carry a password (papermill writes
parameters into the output notebook). Put the whole URL in
``SEGKIT_LEDGER_URL``, or leave the password to the driver's own variable
(``PGPASSWORD`` for PostgreSQL).

Tables: ``runs`` (one per campaign run and as-of date), ``contacts`` (one per
listed call, keyed by ``alert_id``), ``outcomes`` (what the call center
reported back).
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

LEDGER_ENV = "SEGKIT_LEDGER_URL"

metadata = sa.MetaData()
runs = sa.Table(
    "segkit_runs", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("listed", sa.Integer, nullable=False),
    sa.UniqueConstraint("name", "as_of", name="segkit_runs_name_as_of"),
)
contacts = sa.Table(
    "segkit_contacts", metadata,
    sa.Column("alert_id", sa.String(80), primary_key=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("segkit_runs.run_id"), nullable=False, index=True),
    sa.Column("member_id", sa.String(64), nullable=False, index=True),
    sa.Column("campaign", sa.String(100), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False, index=True),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("vip", sa.Boolean, nullable=False),
    sa.Column("advisor_id", sa.String(64)),
    sa.Column("queue", sa.String(100), nullable=False),
    sa.Column("call_by", sa.String(64), nullable=False),
    sa.Column("phone_hash", sa.String(16)),
)
outcomes = sa.Table(
    "segkit_outcomes", metadata,
    sa.Column("outcome_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(80), sa.ForeignKey("segkit_contacts.alert_id"), nullable=False, index=True),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("outcome_date", sa.Date, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("imported_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("alert_id", "outcome", "outcome_date", name="segkit_outcomes_once"),
)
RECORDED_COLUMNS = ["alert_id", "member_id", "campaign", "priority", "vip", "advisor_id", "queue", "call_by",
                    "phone_hash"]


class LedgerError(ValueError):
    """A ledger operation that would break pacing or history (a conflicting re-run, a retroactive run)."""


def ledger_url(target: str | Path | None) -> str:
    """A SQLAlchemy URL from a path (an SQLite file), a URL without a password, or ``$SEGKIT_LEDGER_URL``."""
    if target in (None, ""):
        url = os.environ.get(LEDGER_ENV)
        if not url:
            raise ValueError(f"no ledger: pass a file path or database URL, or set {LEDGER_ENV}")
        return url
    text = str(target)
    if "://" not in text:
        return f"sqlite:///{Path(text).resolve()}"
    if sa.engine.make_url(text).password is not None:
        raise ValueError(f"the ledger URL carries a password; put the URL in {LEDGER_ENV} (or the password in "
                         "the driver's variable, such as PGPASSWORD) instead of a parameter or command line")
    return text


class Ledger:
    """The contact ledger at ``target`` (see ``ledger_url``); the schema is created if missing."""

    def __init__(self, target: str | Path | None = None):
        self.url = ledger_url(target)
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url)
        try:
            metadata.create_all(self.engine)
        except sa.exc.SQLAlchemyError as error:
            raise LedgerError(f"cannot open the ledger {self.engine.url.render_as_string(hide_password=True)}: "
                              f"{getattr(error, 'orig', None) or error}") from None

    def __repr__(self) -> str:
        counts = self.row_counts()
        return (f"<Ledger {self.engine.url.render_as_string(hide_password=True)}: {counts['runs']:,} runs, "
                f"{counts['contacts']:,} contacts, {counts['outcomes']:,} outcomes>")

    def close(self) -> None:
        self.engine.dispose()

    def row_counts(self) -> dict[str, int]:
        with self.engine.connect() as con:
            return {name: con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                    for name, table in (("runs", runs), ("contacts", contacts), ("outcomes", outcomes))}

    def run_id(self, name: str, as_of: Any) -> int | None:
        with self.engine.connect() as con:
            return con.execute(sa.select(runs.c.run_id).where(runs.c.name == name,
                                                              runs.c.as_of == _day(as_of))).scalar_one_or_none()

    def contacts(self, as_of: Any | None = None, before_run: int | None = None, days: int = 30) -> pd.DataFrame:
        """Contacts listed in the ``days`` up to ``as_of`` (all of them without ``as_of``), from runs
        recorded before ``before_run`` if given (so that re-running a day sees what it saw the first time)."""
        query = sa.select(contacts.c.alert_id, contacts.c.member_id, contacts.c.as_of, contacts.c.campaign)
        if as_of is not None:
            day = _day(as_of)
            query = query.where(contacts.c.as_of <= day, contacts.c.as_of > day - timedelta(days=days))
        if before_run is not None:
            query = query.where(contacts.c.run_id < before_run)
        return self._frame(query, ["alert_id", "member_id", "as_of", "campaign"])

    def outcomes(self, before: Any | None = None, codes: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Outcomes (with the member and the phone fingerprint of their call), dated before ``before``,
        only ``codes`` if given."""
        query = sa.select(outcomes.c.alert_id, contacts.c.member_id, contacts.c.campaign, outcomes.c.outcome,
                          outcomes.c.outcome_date, outcomes.c.note, contacts.c.phone_hash
                          ).join(contacts, outcomes.c.alert_id == contacts.c.alert_id)
        if before is not None:
            query = query.where(outcomes.c.outcome_date < _day(before))
        if codes is not None:
            query = query.where(outcomes.c.outcome.in_(codes))
        return self._frame(query.order_by(outcomes.c.outcome_id),
                           ["alert_id", "member_id", "campaign", "outcome", "outcome_date", "note", "phone_hash"])

    def listed(self, run_id: int) -> pd.DataFrame:
        query = sa.select(*[contacts.c[c] for c in RECORDED_COLUMNS]).where(contacts.c.run_id == run_id)
        return self._frame(query.order_by(contacts.c.priority), RECORDED_COLUMNS)

    def known_alert_ids(self, alert_ids: list[str]) -> set[str]:
        known: set[str] = set()
        with self.engine.connect() as con:
            for start in range(0, len(alert_ids), 500):
                chunk = alert_ids[start:start + 500]
                known.update(con.execute(sa.select(contacts.c.alert_id).where(contacts.c.alert_id.in_(chunk))).scalars())
        return known

    def record(self, name: str, as_of: Any, listed: pd.DataFrame, replace: bool = False) -> str:
        """Record one run's call list (``RECORDED_COLUMNS`` + ``campaign``) in one transaction.

        Returns ``recorded``, ``unchanged`` (the same list was already recorded: nothing is added) or
        ``replaced``. A different list for a recorded run is an error unless ``replace``; a run dated
        before the ledger's latest one is an error, because pacing cannot be applied backwards.
        """
        day = _day(as_of)
        rows = listed[RECORDED_COLUMNS].astype(object).where(listed[RECORDED_COLUMNS].notna(), None)
        rows = [{**row, "as_of": day, "priority": int(row["priority"]), "vip": bool(row["vip"])}
                for row in rows.to_dict("records")]
        with self.engine.begin() as con:
            run_id = con.execute(sa.select(runs.c.run_id).where(runs.c.name == name, runs.c.as_of == day)
                                 ).scalar_one_or_none()
            status = "recorded"
            if run_id is not None:
                if self._same_list(con, run_id, listed):
                    return "unchanged"
                if not replace:
                    raise LedgerError(f"run {name!r} as of {day} is already recorded with a different list; "
                                      "re-run with replace (--replace) to discard the recorded one")
                answered = con.execute(sa.select(sa.func.count()).select_from(
                    outcomes.join(contacts, outcomes.c.alert_id == contacts.c.alert_id)
                ).where(contacts.c.run_id == run_id)).scalar_one()
                if answered:
                    raise LedgerError(f"run {name!r} as of {day} already has {answered} outcome(s) recorded; "
                                      "it cannot be replaced")
                con.execute(contacts.delete().where(contacts.c.run_id == run_id))
                con.execute(runs.update().where(runs.c.run_id == run_id).values(listed=len(rows)))
                status = "replaced"
            else:
                latest = con.execute(sa.select(sa.func.max(runs.c.as_of))).scalar_one_or_none()
                if latest is not None and latest > day:
                    raise LedgerError(f"the ledger already has runs up to {latest}; a new run as of {day} would "
                                      "contact members behind the back of later lists")
                run_id = con.execute(runs.insert().values(name=name, as_of=day, recorded_at=_now(),
                                                          listed=len(rows))).inserted_primary_key[0]
            if rows:
                con.execute(contacts.insert(), [{**row, "run_id": run_id} for row in rows])
        return status

    def add_outcomes(self, frame: pd.DataFrame) -> tuple[int, int]:
        """Insert outcomes (``alert_id``, ``outcome``, ``outcome_date``, ``note``) not yet recorded, in one
        transaction. Returns (added, already recorded). Alert ids must be known (``known_alert_ids``)."""
        with self.engine.begin() as con:
            existing = set()
            for start in range(0, len(frame), 500):
                chunk = frame["alert_id"].iloc[start:start + 500].tolist()
                existing.update(tuple(row) for row in con.execute(
                    sa.select(outcomes.c.alert_id, outcomes.c.outcome, outcomes.c.outcome_date)
                    .where(outcomes.c.alert_id.in_(chunk))))
            now = _now()
            rows = [{"alert_id": r.alert_id, "outcome": r.outcome, "outcome_date": _day(r.outcome_date),
                     "note": None if pd.isna(r.note) or r.note == "" else str(r.note), "imported_at": now}
                    for r in frame.itertuples(index=False)]
            new = [row for row in rows if (row["alert_id"], row["outcome"], row["outcome_date"]) not in existing]
            if new:
                con.execute(outcomes.insert(), new)
        return len(new), len(rows) - len(new)

    def _same_list(self, con, run_id: int, listed: pd.DataFrame) -> bool:
        query = sa.select(*[contacts.c[c] for c in RECORDED_COLUMNS]).where(contacts.c.run_id == run_id)
        stored = pd.DataFrame.from_records(con.execute(query).all(), columns=RECORDED_COLUMNS)
        key = ["alert_id", "priority", "queue", "call_by"]
        ours = listed[key].astype({"priority": int}).sort_values("alert_id").reset_index(drop=True)
        theirs = stored[key].astype({"priority": int}).sort_values("alert_id").reset_index(drop=True)
        return ours.equals(theirs)

    def _frame(self, query, columns: list[str]) -> pd.DataFrame:
        with self.engine.connect() as con:
            frame = pd.DataFrame.from_records(con.execute(query).all(), columns=columns)
        for column in ("as_of", "outcome_date"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column])
        return frame


def _day(value: Any):
    return pd.Timestamp(value).date()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
