"""Call outcomes back from the call center, and the retention summary they feed.

The outcomes come back on the call sheet itself (``call_list.xlsx``: the
outcome, outcome date and note columns the agents filled in, on every sheet,
labelled in either language; rows left blank are skipped: ``read_call_sheet``),
or in a CSV file with one row per call result: ``alert_id`` (from the call
list), ``outcome`` (a code below, its English words or its Chinese label),
``outcome_date`` (or ``date``; any date form the loaders accept) and an
optional ``note``. A file with an unknown alert id, an unknown code, a bad
date, a date in the future or before the call was listed, or a line that
holds no usable record is refused whole, with every bad row named: half an
import would be worse than none (a lost "asked not to be called" is a call). A row repeated in the file counts
once (the repeats are
reported); the same alert, outcome and date with two different notes is a
conflict that refuses the file. Importing the same file twice adds nothing.

What each outcome changes (``pace``): *asked not to be called* joins
do-not-call for good; *wrong number* holds the member back until the phone on
file changes; *switched supplier* holds them back for ``switched_hold_days``;
*no answer* and *reached* only count as a contact, so the member may be
called again after the window. *Won back* and *switched* are what the
retention summary reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..data.parse import parse_dates
from ..data.sources import read_source
from ..messages import LANGUAGES, catalogue
from .ledger import Ledger
from .sheet import read_call_sheet

OUTCOMES = {
    "reached": ("reached", "已接通"),
    "no_answer": ("no answer", "未接通", "无人接听"),
    "wrong_number": ("wrong number", "号码错误", "空号"),
    "switched_supplier": ("switched supplier", "switched", "已换供应商", "已流失"),
    "do_not_call": ("asked not to be called", "do not call", "勿扰", "拒绝来电"),
    "won_back": ("won back", "已挽回"),
}
_ALIASES = {alias.lower(): code for code, aliases in OUTCOMES.items() for alias in (code, *aliases)}
_ALIASES.update(
    {label.lower(): code for language in LANGUAGES for code, label in catalogue(language).section("outcomes").items()}
)
SHOWN_PROBLEMS = 20
OUTCOME_KEY = ["alert_id", "outcome", "outcome_date"]


class OutcomesImport(NamedTuple):
    """What an import did: outcomes added, already in the ledger, and rows repeated within the file."""

    added: int
    already: int
    repeated: int


def read_outcomes(source: str | Path | pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    """The outcomes file, checked: canonical codes, dates, alert ids the ledger knows, and no alert with
    the same outcome and date twice with different notes. Rows repeated exactly are kept (see
    ``import_outcomes``)."""
    if isinstance(source, (str, Path)) and Path(source).suffix.lower() in (".xlsx", ".xlsm"):
        frame = read_call_sheet(source)
    else:
        frame = read_source(source).frame.rename(columns=lambda c: str(c).strip().lstrip("\ufeff"))
    if "outcome_date" not in frame and "date" in frame:
        frame = frame.rename(columns={"date": "outcome_date"})
    missing = [c for c in ("alert_id", "outcome", "outcome_date") if c not in frame]
    if missing:
        raise ValueError(f"outcomes file lacks column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    frame = frame.reset_index(drop=True)
    where = frame.pop("where") if "where" in frame else "row " + (frame.index + 2).astype(str)
    frame = frame.assign(
        alert_id=frame["alert_id"].astype(str).str.strip(), note=frame["note"] if "note" in frame else ""
    )
    problems = []
    code = frame["outcome"].astype(str).str.strip().str.lower().map(_ALIASES)
    for row in frame.index[code.isna()]:
        shown = frame.at[row, "outcome"]
        problems.append(
            f"{where[row]}: unknown outcome {shown!r}"
            if shown not in ("", None)
            else f"{where[row]}: no outcome chosen (a date or note without an outcome)"
        )
    dates, bad_date = parse_dates(frame["outcome_date"].astype(str))
    for row in frame.index[bad_date]:
        problems.append(f"{where[row]}: bad outcome_date {frame.at[row, 'outcome_date']!r}")
    listed_on = frame["alert_id"].map(ledger.call_days(sorted(set(frame["alert_id"]))))
    for row in frame.index[listed_on.isna()]:
        problems.append(f"{where[row]}: unknown alert_id {frame.at[row, 'alert_id']!r} (not in the ledger)")
    today = pd.Timestamp.today().normalize()
    for row in frame.index[(dates > today).fillna(False)]:
        problems.append(f"{where[row]}: outcome_date {dates[row]:%Y-%m-%d} is in the future")
    for row in frame.index[(dates < listed_on).fillna(False)]:
        problems.append(
            f"{where[row]}: outcome_date {dates[row]:%Y-%m-%d} is before the call was listed "
            f"({listed_on[row]:%Y-%m-%d})"
        )
    table = pd.DataFrame(
        {
            "alert_id": frame["alert_id"],
            "outcome": code,
            "outcome_date": dates,
            "note": frame["note"].fillna("").astype(str),
        }
    )
    problems += _conflicting_notes(table.dropna(subset=["outcome", "outcome_date"]), where)
    if problems:
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        more = f"; ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
        raise ValueError(
            f"{len(problems)} problem(s) in the outcomes file; nothing was imported "
            f"(known outcomes: {', '.join(OUTCOMES)}; on the call sheet: "
            f"{' / '.join(', '.join(catalogue(language).section('outcomes').values()) for language in LANGUAGES)}"
            f"): {shown}{more}"
        )
    return table


def _conflicting_notes(table: pd.DataFrame, where: pd.Series) -> list[str]:
    """One problem per alert, outcome and date reported with different notes, naming the first two rows."""
    distinct = table.drop_duplicates()
    clash = distinct.loc[distinct.duplicated(OUTCOME_KEY, keep=False)]
    return [
        f"{where[group.index[0]]} and {where[group.index[1]]}: alert_id {key[0]!r} {key[1]} on "
        f"{key[2]:%Y-%m-%d} with different notes ({group['note'].iloc[0]!r}, {group['note'].iloc[1]!r})"
        for key, group in clash.groupby(OUTCOME_KEY, sort=False)
    ]


def import_outcomes(source: str | Path | pd.DataFrame, ledger: Ledger) -> OutcomesImport:
    """Check and record an outcomes file (in one transaction); a row repeated in the file counts once."""
    table = read_outcomes(source, ledger)
    distinct = table.drop_duplicates()
    added, already = ledger.add_outcomes(distinct)
    return OutcomesImport(added, already, len(table) - len(distinct))


def retention_summary(ledger: Ledger) -> pd.DataFrame:
    """Per campaign: calls listed (not the control groups: they are not called), the latest outcome of each
    (one column per code), calls with no outcome yet, and the won-back share of calls that reached a decision
    (won back or switched)."""
    contacts = ledger.contacts()
    listed = contacts.loc[contacts["arm"] == "called"].groupby("campaign").size()  # not the control groups
    recorded = ledger.outcomes()
    latest = recorded.sort_values("outcome_date", kind="stable").drop_duplicates("alert_id", keep="last")
    counts = latest.groupby(["campaign", "outcome"]).size().unstack(fill_value=0)
    table = counts.reindex(index=listed.index, columns=list(OUTCOMES), fill_value=0)
    table.insert(0, "listed", listed)
    table["no_outcome_yet"] = table["listed"] - table[list(OUTCOMES)].sum(axis=1)
    decided = table["won_back"] + table["switched_supplier"]
    table["won_back_share"] = (table["won_back"] / decided.where(decided > 0)).round(3)
    return table.reset_index().rename_axis(columns=None)
