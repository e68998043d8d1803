"""The contact ledger: every listed call and every outcome, in SQLite or PostgreSQL.

Pacing reads it; exports, outcome imports and run removals write it. Each
write is one serialized unit per ledger: the writer takes the ledger's lock
(PostgreSQL: a transaction-level advisory lock; SQLite: ``BEGIN IMMEDIATE``),
reads what it needs, writes and commits, so that two exports at once never
pace against the same history and list a member twice. A writer that cannot
get the lock within ``lock_timeout`` seconds stops with a one-line error and
changes nothing. The default is an embedded SQLite file that needs no server;
``postgresql+psycopg://...`` works the same, with the schema created on first use.

Credentials come from the environment only: a URL given on the command line
or as a notebook parameter must not carry a password, in ``user:password@``
or in the query (papermill writes parameters into the output notebook). Put
the whole URL in ``SEGKIT_LEDGER_URL``, or leave the password to the driver's
own variable (``PGPASSWORD`` for PostgreSQL). URLs are printed masked, in
errors too.

Tables: ``segkit_runs`` (one per campaign run and as-of date), ``segkit_contacts``
(one per listed member, keyed by ``alert_id``, with a keyed fingerprint of the
phone and its ``arm``: called, or held out as the run's control group), ``segkit_outcomes`` (what the call
center reported back) and
``segkit_meta`` (the id of the key that made the fingerprints).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from ..privacy import ambiguous_password, mask_url, mask_urls_in, phone_fingerprint, phone_key, url_secrets

LEDGER_ENV = "SEGKIT_LEDGER_URL"
LOCK_TIMEOUT = 120.0  # seconds a writer waits for another one before giving up
# One advisory lock per PostgreSQL database: the first 8 bytes of sha256("segkit ledger"), as a signed bigint.
ADVISORY_LOCK = int.from_bytes(hashlib.sha256(b"segkit ledger").digest()[:8], "big", signed=True)
PHONE_KEY_ID = "phone_key_id"

metadata = sa.MetaData()
runs = sa.Table(
    "segkit_runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Column("listed", sa.Integer, nullable=False),
    sa.UniqueConstraint("name", "as_of", name="segkit_runs_name_as_of"),
)
contacts = sa.Table(
    "segkit_contacts",
    metadata,
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
    sa.Column("arm", sa.String(10), nullable=False, server_default="called"),  # called | control
    sa.Column("control_p", sa.Float),  # the chance the listing had of being held out (NULL: recorded before)
    sa.Column("p_active", sa.Float),  # the alert's P(still a customer) when it listed the member
)
# tables every ledger has had since the first (segkit_meta came later: an older ledger gains it when opened)
ORIGINAL_TABLES = ("segkit_runs", "segkit_contacts", "segkit_outcomes")
# columns added after ledgers were first made: each old ledger gains them when opened
ADDED_COLUMNS = {"arm": "VARCHAR(10) NOT NULL DEFAULT 'called'", "control_p": "FLOAT", "p_active": "FLOAT"}
outcomes = sa.Table(
    "segkit_outcomes",
    metadata,
    sa.Column("outcome_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.String(80), sa.ForeignKey("segkit_contacts.alert_id"), nullable=False, index=True),
    sa.Column("outcome", sa.String(40), nullable=False),
    sa.Column("outcome_date", sa.Date, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("imported_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("alert_id", "outcome", "outcome_date", name="segkit_outcomes_once"),
)
meta = sa.Table(
    "segkit_meta",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)
RECORDED_COLUMNS = [
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
    "control_p",
    "p_active",
]
CALL_COLUMNS = [
    "alert_id",
    "run",
    "member_id",
    "campaign",
    "as_of",
    "priority",
    "vip",
    "advisor_id",
    "queue",
    "call_by",
    "arm",
    "control_p",
    "p_active",
]
RUN_COLUMNS = ["run", "as_of", "recorded_at", "listed", "outcomes"]


class LedgerError(ValueError):
    """A ledger operation that would break pacing or history (a conflicting re-run, a retroactive run,
    fingerprints made with another key), or a database that failed or is busy: always one line."""


def ledger_url(target: str | Path | None) -> str:
    """A SQLAlchemy URL from a path (an SQLite file), a URL without a password, or ``$SEGKIT_LEDGER_URL``."""
    if target in (None, ""):
        url = os.environ.get(LEDGER_ENV)
        if not url:
            raise ValueError(f"no ledger: pass a file path or database URL, or set {LEDGER_ENV}")
        if ambiguous_password(url):
            raise ValueError(
                f"the ledger URL in {LEDGER_ENV} ({mask_url(url)}) has an '@' in its password: write it as %40 "
                "(a driver would take what follows it for the host, and print it)"
            )
        return url
    text = str(target)
    secrets = url_secrets(text)
    if secrets:
        raise ValueError(
            f"the ledger URL {mask_url(text)} carries {' and '.join(secrets)}; put the URL in "
            f"{LEDGER_ENV} (or the password in the driver's variable, such as PGPASSWORD) instead of "
            "a parameter or command line"
        )
    if "://" not in text:
        return f"sqlite:///{Path(text).resolve()}"
    return text


class Ledger:
    """The contact ledger at ``target`` (see ``ledger_url``).

    A ledger is made once, on purpose (``create=True``, ``segkit ledger init``): opening one that does not
    exist is an error, because a mistyped path would otherwise pace against an empty history and call
    members who asked not to be called. ``lock_timeout``: seconds a writer waits while another process
    writes the same ledger.
    """

    def __init__(self, target: str | Path | None = None, lock_timeout: float = LOCK_TIMEOUT, create: bool = False):
        self.url = ledger_url(target)
        self.lock_timeout = lock_timeout
        database = Path(self.url.removeprefix("sqlite:///")) if self.url.startswith("sqlite:///") else None
        if database is not None and not database.is_file():
            if not create:
                raise _no_ledger(self.url)
            database.parent.mkdir(parents=True, exist_ok=True)
        with self._errors("cannot open the ledger"):
            try:
                self.engine = _engine(self.url, lock_timeout)
            except (ImportError, sa.exc.ArgumentError) as error:  # a database segkit has no driver for
                raise LedgerError(f"cannot open the ledger {mask_url(self.url)}: {mask_urls_in(str(error))}") from None
            if self.engine.dialect.name not in ("sqlite", "postgresql"):
                raise LedgerError(
                    f"the ledger {mask_url(self.url)} is on {self.engine.dialect.name}: segkit "
                    "serializes ledger writers on SQLite and PostgreSQL only"
                )
            with self.engine.connect() as con:
                present = set(sa.inspect(con).get_table_names())
            missing = [t for t in metadata.sorted_tables if t.name not in present]
            _check_tables(self.url, self.engine.dialect.name, present, missing, create)
            if missing:
                with self.exclusive() as session:  # two processes creating the schema at once: one does it
                    metadata.create_all(session.con)
            self._add_columns()

    def _add_columns(self) -> None:
        """A ledger made before control groups gets ``segkit_contacts``' ``ADDED_COLUMNS``: its calls were all
        made (``arm``), and their chance of being held out and ``p_active`` are unknown (NULL)."""

        def missing(con) -> list[str]:
            columns = {column["name"] for column in sa.inspect(con).get_columns(contacts.name)}
            return [name for name in ADDED_COLUMNS if name not in columns]

        with self.engine.connect() as con:
            if not missing(con):
                return
        with self.exclusive() as session:
            for name in missing(session.con):
                session.con.exec_driver_sql(f"ALTER TABLE {contacts.name} ADD COLUMN {name} {ADDED_COLUMNS[name]}")

    def __repr__(self) -> str:
        counts = self.row_counts()
        return (
            f"<Ledger {mask_url(self.url)}: {counts['runs']:,} runs, "
            f"{counts['contacts']:,} contacts, {counts['outcomes']:,} outcomes>"
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def exclusive(self) -> Iterator["LedgerSession"]:
        """One serialized unit of work on this ledger: waits (up to ``lock_timeout``) until no other writer
        holds the ledger, yields a session whose reads see the latest committed state, and commits when the
        block ends (rolls back if it raises). Database errors become one-line ``LedgerError``s."""
        with (
            self._errors("cannot write the ledger"),
            self.engine.execution_options(segkit_exclusive=True).begin() as con,
        ):
            if con.dialect.name == "postgresql":
                con.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(self.lock_timeout * 1000)}ms'")
                con.execute(sa.select(sa.func.pg_advisory_xact_lock(ADVISORY_LOCK)))
            yield LedgerSession(con)

    @contextmanager
    def _reading(self) -> Iterator["LedgerSession"]:
        with self._errors("cannot read the ledger"), self.engine.connect() as con:
            yield LedgerSession(con)

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Database errors as one line, URL masked; a writer that waited too long says the ledger is busy."""
        try:
            yield
        except sa.exc.SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            if getattr(cause, "sqlstate", None) == "55P03" or "database is locked" in str(cause):
                raise LedgerError(
                    f"the ledger {mask_url(self.url)} is busy: another export or import held it for "
                    f"more than {self.lock_timeout:g} s; nothing was changed, try again"
                ) from None
            text = " ".join(mask_urls_in(str(cause)).split())
            raise LedgerError(f"{doing} {mask_url(self.url)}: {type(cause).__name__}: {text}") from None

    # Reads: each on its own connection, without the lock.

    def row_counts(self) -> dict[str, int]:
        with self._reading() as session:
            return session.row_counts()

    def run_id(self, name: str, as_of: Any) -> int | None:
        with self._reading() as session:
            return session.run_id(name, as_of)

    def runs(self) -> pd.DataFrame:
        with self._reading() as session:
            return session.runs()

    def contacts(
        self, as_of: Any | None = None, days: int = 30, before_run: int | None = None, other_than_run: int | None = None
    ) -> pd.DataFrame:
        with self._reading() as session:
            return session.contacts(as_of, days, before_run, other_than_run)

    def calls(self) -> pd.DataFrame:
        """Every listed member of every run (``CALL_COLUMNS``), called or held out as control (``arm``): what
        ``campaign_effect`` compares."""
        with self._reading() as session:
            query = (
                sa.select(
                    contacts.c.alert_id,
                    runs.c.name,
                    contacts.c.member_id,
                    contacts.c.campaign,
                    contacts.c.as_of,
                    contacts.c.priority,
                    contacts.c.vip,
                    contacts.c.advisor_id,
                    contacts.c.queue,
                    contacts.c.call_by,
                    contacts.c.arm,
                    contacts.c.control_p,
                    contacts.c.p_active,
                )
                .join(runs, runs.c.run_id == contacts.c.run_id)
                .order_by(contacts.c.as_of, runs.c.name, contacts.c.priority)
            )
            return session._frame(query, CALL_COLUMNS)

    def outcomes(
        self,
        through: Any | None = None,
        codes: tuple[str, ...] | None = None,
        before_run: int | None = None,
        other_than_run: int | None = None,
    ) -> pd.DataFrame:
        with self._reading() as session:
            return session.outcomes(through, codes, before_run, other_than_run)

    def listed(self, run_id: int) -> pd.DataFrame:
        with self._reading() as session:
            return session.listed(run_id)

    def listings(self, alert_ids: list[str]) -> pd.DataFrame:
        with self._reading() as session:
            return session.listings(alert_ids)

    # Writes: each one serialized unit (``exclusive``).

    def record(self, name: str, as_of: Any, listed: pd.DataFrame, replace: bool = False) -> str:
        with self.exclusive() as session:
            return session.record(name, as_of, listed, replace)

    def add_outcomes(self, frame: pd.DataFrame) -> tuple[int, int, list[tuple[str, str, str]]]:
        with self.exclusive() as session:
            return session.add_outcomes(frame)

    def remove_run(self, name: str, as_of: Any) -> int:
        with self.exclusive() as session:
            return session.remove_run(name, as_of)

    def adopt_phone_key(self, phones: pd.Series, key: bytes | None = None) -> tuple[int, int]:
        with self.exclusive() as session:
            return session.adopt_phone_key(key or phone_key(), phones)


class LedgerSession:
    """The ledger's tables through one connection: inside ``Ledger.exclusive()`` every read and write
    is part of one serialized transaction."""

    def __init__(self, con: sa.Connection):
        self.con = con

    def row_counts(self) -> dict[str, int]:
        return {
            name: self.con.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in (("runs", runs), ("contacts", contacts), ("outcomes", outcomes))
        }

    def run_id(self, name: str, as_of: Any) -> int | None:
        return self.con.execute(
            sa.select(runs.c.run_id).where(runs.c.name == name, runs.c.as_of == _day(as_of))
        ).scalar_one_or_none()

    def runs(self) -> pd.DataFrame:
        """Every recorded run (``RUN_COLUMNS``): name, day, when it was recorded, calls listed, outcomes."""
        answered = (
            sa.select(contacts.c.run_id, sa.func.count().label("outcomes"))
            .join(outcomes, outcomes.c.alert_id == contacts.c.alert_id)
            .group_by(contacts.c.run_id)
            .subquery()
        )
        query = (
            sa.select(
                runs.c.name, runs.c.as_of, runs.c.recorded_at, runs.c.listed, sa.func.coalesce(answered.c.outcomes, 0)
            )
            .outerjoin(answered, answered.c.run_id == runs.c.run_id)
            .order_by(runs.c.as_of, runs.c.run_id)
        )
        return self._frame(query, RUN_COLUMNS)

    def contacts(
        self, as_of: Any | None = None, days: int = 30, before_run: int | None = None, other_than_run: int | None = None
    ) -> pd.DataFrame:
        """Contacts (with their phone fingerprint, ``call_by``: an advisor's calls take their capacity, and ``arm``:
        control members are paced like called ones but take no capacity) listed
        less than ``days`` before or after ``as_of`` (all of them without ``as_of``); only
        from runs recorded before ``before_run`` (so that re-running a day sees what it saw the first time),
        or from every run but ``other_than_run`` (what a replacement is paced against)."""
        query = sa.select(
            contacts.c.alert_id,
            contacts.c.member_id,
            contacts.c.as_of,
            contacts.c.campaign,
            contacts.c.phone_hash,
            contacts.c.call_by,
            contacts.c.arm,
        )
        if as_of is not None:
            day = _day(as_of)
            query = query.where(
                contacts.c.as_of > day - timedelta(days=days), contacts.c.as_of < day + timedelta(days=days)
            )
        return self._frame(
            self._of_runs(query, contacts.c.run_id, before_run, other_than_run),
            ["alert_id", "member_id", "as_of", "campaign", "phone_hash", "call_by", "arm"],
        )

    def outcomes(
        self,
        through: Any | None = None,
        codes: tuple[str, ...] | None = None,
        before_run: int | None = None,
        other_than_run: int | None = None,
        since: Any | None = None,
    ) -> pd.DataFrame:
        """Outcomes (with the member and the phone fingerprint of their call) dated up to and including
        ``through`` (and after ``since``), only ``codes`` if given, of contacts from the runs chosen as in
        ``contacts``."""
        query = sa.select(
            outcomes.c.alert_id,
            contacts.c.member_id,
            contacts.c.campaign,
            outcomes.c.outcome,
            outcomes.c.outcome_date,
            outcomes.c.note,
            contacts.c.phone_hash,
        ).join(contacts, outcomes.c.alert_id == contacts.c.alert_id)
        if through is not None:
            query = query.where(outcomes.c.outcome_date <= _day(through))
        if since is not None:
            query = query.where(outcomes.c.outcome_date > _day(since))
        if codes is not None:
            query = query.where(outcomes.c.outcome.in_(codes))
        query = self._of_runs(query, contacts.c.run_id, before_run, other_than_run)
        return self._frame(
            query.order_by(outcomes.c.outcome_id),
            ["alert_id", "member_id", "campaign", "outcome", "outcome_date", "note", "phone_hash"],
        )

    def listed(self, run_id: int) -> pd.DataFrame:
        query = sa.select(*[contacts.c[c] for c in RECORDED_COLUMNS]).where(contacts.c.run_id == run_id)
        return self._frame(query.order_by(contacts.c.priority), RECORDED_COLUMNS)

    def listings(self, alert_ids: list[str]) -> pd.DataFrame:
        """The listing of each of ``alert_ids`` the ledger knows, by alert id: the day of its list (``as_of``),
        its ``member_id`` and ``arm`` (called, or held out as control)."""
        rows = []
        for start in range(0, len(alert_ids), 500):
            chunk = alert_ids[start : start + 500]
            rows += self.con.execute(
                sa.select(contacts.c.alert_id, contacts.c.as_of, contacts.c.member_id, contacts.c.arm).where(
                    contacts.c.alert_id.in_(chunk)
                )
            ).all()
        table = pd.DataFrame(rows, columns=["alert_id", "as_of", "member_id", "arm"], dtype=object)
        return table.astype({"as_of": "datetime64[ns]"}).set_index("alert_id")

    def last_contacts(self, member_ids: list[str], before: Any) -> pd.DataFrame:
        """Each member's latest contact listed before the day ``before``: ``as_of``, ``campaign`` and the
        latest outcome reported for it dated before that day (``outcome``, ``outcome_date``: missing when none),
        by member_id. What an agent glances at before dialling; the same when the day is made again after later
        outcomes came in."""
        reported = outcomes.alias("reported")
        latest = (
            outcomes.c.outcome_id
            == sa.select(sa.func.max(reported.c.outcome_id))
            .where(reported.c.alert_id == contacts.c.alert_id, reported.c.outcome_date < _day(before))
            .correlate(contacts)
            .scalar_subquery()
        )
        rows = []
        for start in range(0, len(member_ids), 500):
            query = (
                sa.select(
                    contacts.c.member_id,
                    contacts.c.as_of,
                    contacts.c.campaign,
                    outcomes.c.outcome,
                    outcomes.c.outcome_date,
                )
                .select_from(contacts.outerjoin(outcomes, (outcomes.c.alert_id == contacts.c.alert_id) & latest))
                .where(contacts.c.member_id.in_(member_ids[start : start + 500]), contacts.c.as_of < _day(before))
            )
            rows += self.con.execute(query).all()
        frame = pd.DataFrame.from_records(rows, columns=["member_id", "as_of", "campaign", "outcome", "outcome_date"])
        frame[["as_of", "outcome_date"]] = frame[["as_of", "outcome_date"]].apply(pd.to_datetime)
        return (
            frame.sort_values(["as_of", "campaign"], kind="stable")
            .drop_duplicates("member_id", keep="last")
            .set_index("member_id")
        )

    def check_phone_key(self, key: bytes) -> None:
        """Refuse a ledger whose phone fingerprints were made with another key: wrong-number holds would
        silently stop working. A ledger without fingerprints adopts ``key``'s id."""
        ours = phone_key_id(key)
        recorded = self.con.execute(sa.select(meta.c.value).where(meta.c.name == PHONE_KEY_ID)).scalar_one_or_none()
        if recorded is None:
            made = self.con.execute(
                sa.select(sa.func.count())
                .select_from(contacts)
                .where(contacts.c.phone_hash.is_not(None), contacts.c.phone_hash != "")
            ).scalar_one()
            if made:
                raise LedgerError(
                    f"the ledger holds {made:,} phone fingerprints made without a recorded key (by an "
                    "older segkit): wrong-number holds would stop working; re-make them with this key "
                    "from the phones on file: segkit ledger adopt-key --members MEMBERS"
                )
            self.con.execute(meta.insert().values(name=PHONE_KEY_ID, value=ours))
        elif recorded != ours:
            raise LedgerError(
                f"the ledger's phone fingerprints were made with another key (key id {recorded}, "
                f"this one is {ours}): set SEGKIT_PHONE_KEY to the key the ledger was made with"
            )

    def adopt_phone_key(self, key: bytes, phones: pd.Series) -> tuple[int, int]:
        """Re-make, with ``key``, the fingerprints of a ledger that has no key id (made by an older segkit with an
        unkeyed sha256, which can be reversed by trying every number), from ``phones`` (the phone on file, by
        member id). A fingerprint that matches no phone on file belongs to a number that has changed since: it
        holds no one back and is removed. Returns (re-made, removed)."""
        if self.con.execute(sa.select(meta.c.value).where(meta.c.name == PHONE_KEY_ID)).scalar_one_or_none():
            raise LedgerError("the ledger's fingerprints already carry a key id: nothing to adopt")
        on_file = phones.dropna().astype(str)
        on_file.index = on_file.index.astype(str)
        on_file = on_file.loc[~on_file.index.duplicated()]
        stored = self.con.execute(
            sa.select(contacts.c.alert_id, contacts.c.member_id, contacts.c.phone_hash).where(
                contacts.c.phone_hash.is_not(None), contacts.c.phone_hash != ""
            )
        ).all()
        updates = []
        for alert_id, member_id, fingerprint in stored:
            phone = on_file.get(member_id)
            keyed = phone_fingerprint(phone, key) if phone is not None else None
            matches = phone is not None and fingerprint in (_unkeyed_fingerprint(phone), keyed)
            updates.append({"id": alert_id, "fingerprint": keyed if matches else None})
        if updates:
            self.con.execute(
                contacts.update()
                .where(contacts.c.alert_id == sa.bindparam("id"))
                .values(phone_hash=sa.bindparam("fingerprint")),
                updates,
            )
        self.con.execute(meta.insert().values(name=PHONE_KEY_ID, value=phone_key_id(key)))
        remade = sum(update["fingerprint"] is not None for update in updates)
        return remade, len(updates) - remade

    def record(self, name: str, as_of: Any, listed: pd.DataFrame, replace: bool = False) -> str:
        """Record one run's call list (``RECORDED_COLUMNS``; ``control_p`` and ``p_active`` may be missing).

        Returns ``recorded``, ``unchanged`` (the same list was already recorded: nothing is added) or
        ``replaced``. A different list for a recorded run is an error unless ``replace``; a run dated
        before the ledger's latest one is an error, because pacing cannot be applied backwards.
        """
        day = _day(as_of)
        # a list made without a control draw or alert probabilities: unknown (NULL), so never compared
        listed = listed.assign(**{column: np.nan for column in ("control_p", "p_active") if column not in listed})
        rows = listed[RECORDED_COLUMNS].astype(object).where(listed[RECORDED_COLUMNS].notna(), None)
        rows = [
            {**row, "as_of": day, "priority": int(row["priority"]), "vip": bool(row["vip"])}
            for row in rows.to_dict("records")
        ]
        con = self.con
        run_id = self.run_id(name, day)
        status = "recorded"
        if run_id is not None:
            if self.same_list(run_id, listed):
                return "unchanged"
            if not replace:
                raise LedgerError(
                    f"run {name!r} as of {day} is already recorded with a different list; to discard the "
                    f"recorded one, re-run with replace (segkit export --replace) or, for a scheduled run, "
                    f"remove it (segkit ledger remove-run --run {name} --as-of {day}) and run the day again"
                )
            answered = self._answered(run_id)
            if answered:
                raise LedgerError(
                    f"run {name!r} as of {day} already has {answered} outcome(s) recorded; it cannot be replaced"
                )
            con.execute(contacts.delete().where(contacts.c.run_id == run_id))
            con.execute(runs.update().where(runs.c.run_id == run_id).values(listed=len(rows)))
            status = "replaced"
        else:
            latest = con.execute(sa.select(sa.func.max(runs.c.as_of))).scalar_one_or_none()
            if latest is not None and latest > day:
                raise LedgerError(
                    f"the ledger already has runs up to {latest}; a new run as of {day} would "
                    "contact members behind the back of later lists (a mistyped day? see "
                    "segkit ledger show / remove-run)"
                )
            run_id = con.execute(
                runs.insert().values(name=name, as_of=day, recorded_at=_now(), listed=len(rows))
            ).inserted_primary_key[0]
        if rows:
            con.execute(contacts.insert(), [{**row, "run_id": run_id} for row in rows])
        return status

    def remove_run(self, name: str, as_of: Any) -> int:
        """Remove a recorded run and its contacts (a run recorded by mistake, such as a mistyped future day);
        refused once outcomes exist for it. Returns the number of contacts removed."""
        day = _day(as_of)
        run_id = self.run_id(name, day)
        if run_id is None:
            raise LedgerError(f"no run {name!r} as of {day} in the ledger (segkit ledger show lists the runs)")
        answered = self._answered(run_id)
        if answered:
            raise LedgerError(
                f"run {name!r} as of {day} has {answered} outcome(s) recorded: its calls were made, "
                "so it cannot be removed"
            )
        removed = self.con.execute(contacts.delete().where(contacts.c.run_id == run_id)).rowcount
        self.con.execute(runs.delete().where(runs.c.run_id == run_id))
        return removed

    def add_outcomes(self, frame: pd.DataFrame) -> tuple[int, int, list[tuple[str, str, str]]]:
        """Insert outcomes (``alert_id``, ``outcome``, ``outcome_date``, ``note``; one row per alert, outcome
        and date) not yet recorded. Returns (added, already recorded, and those already recorded with another
        note: alert id, the note kept, the note not recorded). Alert ids must be known: they are checked again
        here, under the lock, since a run may have been removed after the file was checked (its outcomes would
        belong to no call, and a do-not-call among them would hold nobody back)."""
        ids = sorted(set(frame["alert_id"]))
        gone = sorted(set(ids) - set(self.listings(ids).index))
        if gone:
            raise LedgerError(
                f"{len(gone):,} call(s) of the outcomes file left the ledger while it was checked ({gone[0]!r}: a run "
                "removed?); nothing was imported: import the file again"
            )
        existing = {}
        for start in range(0, len(frame), 500):
            chunk = frame["alert_id"].iloc[start : start + 500].tolist()
            existing.update(
                ((alert_id, outcome, day), note or "")
                for alert_id, outcome, day, note in self.con.execute(
                    sa.select(outcomes.c.alert_id, outcomes.c.outcome, outcomes.c.outcome_date, outcomes.c.note).where(
                        outcomes.c.alert_id.in_(chunk)
                    )
                )
            )
        now = _now()
        rows = [
            {
                "alert_id": r.alert_id,
                "outcome": r.outcome,
                "outcome_date": _day(r.outcome_date),
                "note": None if pd.isna(r.note) or r.note == "" else str(r.note),
                "imported_at": now,
            }
            for r in frame.itertuples(index=False)
        ]
        keys = [(row["alert_id"], row["outcome"], row["outcome_date"]) for row in rows]
        new = [row for row, key in zip(rows, keys) if key not in existing]
        renoted = [
            (key[0], existing[key], row["note"] or "")
            for row, key in zip(rows, keys)
            if key in existing and existing[key] != (row["note"] or "")
        ]
        if new:
            self.con.execute(outcomes.insert(), new)
        return len(new), len(rows) - len(new), renoted

    def same_list(self, run_id: int, listed: pd.DataFrame) -> bool:
        """Whether run ``run_id`` recorded exactly ``listed``: the same calls, in the same order, by the same hands."""
        key = ["alert_id", "priority", "queue", "call_by", "arm"]

        def calls(frame: pd.DataFrame) -> pd.DataFrame:  # as text: an empty list has no dtypes to agree on
            return frame[key].astype({"priority": int}).astype(str).sort_values("alert_id").reset_index(drop=True)

        return calls(listed).equals(calls(self.listed(run_id)))

    def _answered(self, run_id: int) -> int:
        return self.con.execute(
            sa.select(sa.func.count())
            .select_from(outcomes.join(contacts, outcomes.c.alert_id == contacts.c.alert_id))
            .where(contacts.c.run_id == run_id)
        ).scalar_one()

    @staticmethod
    def _of_runs(query, run_id: sa.Column, before_run: int | None, other_than_run: int | None):
        if before_run is not None:
            query = query.where(run_id < before_run)
        if other_than_run is not None:
            query = query.where(run_id != other_than_run)
        return query

    def _frame(self, query, columns: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame.from_records(self.con.execute(query).all(), columns=columns)
        for column in ("as_of", "outcome_date"):
            if column in frame:
                frame[column] = pd.to_datetime(frame[column])
        for column in ("control_p", "p_active"):
            if column in frame:
                frame[column] = pd.to_numeric(frame[column]).astype(float)
        return frame


def _unkeyed_fingerprint(phone: str) -> str:
    """The fingerprint of segkit before keyed fingerprints: only to recognise it (``adopt_phone_key``)."""
    return hashlib.sha256(phone.encode()).hexdigest()[:16]


def phone_key_id(key: bytes) -> str:
    """A public name for the fingerprint key (an HMAC of a fixed label): tells keys apart, reveals nothing."""
    return hmac.new(key, b"segkit ledger phone key id", hashlib.sha256).hexdigest()[:16]


def _engine(url: str, lock_timeout: float) -> sa.Engine:
    """The engine; on SQLite, writers begin with ``BEGIN IMMEDIATE`` and wait ``lock_timeout`` for each other
    (SQLAlchemy's documented recipe: pysqlite's own BEGIN handling turned off, SQLAlchemy emits BEGIN)."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url)
    engine = sa.create_engine(url, connect_args={"timeout": lock_timeout})

    @sa.event.listens_for(engine, "connect")
    def _no_pysqlite_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(con):
        con.exec_driver_sql("BEGIN IMMEDIATE" if con.get_execution_options().get("segkit_exclusive") else "BEGIN")

    return engine


def _check_tables(url: str, dialect: str, present: set[str], missing: list[sa.Table], create: bool) -> None:
    """Refuse a ledger that lost some of the tables it was made with (pacing against a lost outcomes table would
    call the members who asked not to be called), and, on SQLite, making a ledger inside a file that holds
    other tables (a mistyped path to another application's database)."""
    lost = sorted(table.name for table in missing if table.name in ORIGINAL_TABLES)
    if lost and len(missing) < len(metadata.sorted_tables):
        raise LedgerError(
            f"the ledger {mask_url(url)} is damaged: it has no {', '.join(lost)} table; restore it from a "
            "backup (pacing without its history would call members who asked not to be called)"
        )
    if len(missing) < len(metadata.sorted_tables):
        return
    if not create:
        raise _no_ledger(url)
    if dialect == "sqlite" and present:
        shown = ", ".join(sorted(present)[:5]) + (", ..." if len(present) > 5 else "")
        raise LedgerError(
            f"{mask_url(url)} is a database of something else (tables {shown}), not a segkit ledger; "
            "make the ledger in a new file"
        )


def _no_ledger(url: str) -> LedgerError:
    return LedgerError(
        f"no ledger at {mask_url(url)}: make a new one on purpose with segkit ledger init --ledger "
        "URL (Python: Ledger(url, create=True)); an empty ledger would pace against no history"
    )


def _day(value: Any):
    return pd.Timestamp(value).date()


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
