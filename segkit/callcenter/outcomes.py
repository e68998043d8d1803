"""Call outcomes back from the call center, and the retention summary they feed.

The outcomes come back on the call sheet itself (``call_list.xlsx``: the
outcome, outcome date and note columns the agents filled in, on every sheet,
labelled in either language; rows left blank are skipped: ``read_call_sheet``),
or in a CSV file with one row per call result: ``alert_id`` (from the call
list), ``outcome`` (a code below, its English words or its Chinese label),
``outcome_date`` (or ``date``; any date form the loaders accept) and an
optional ``note`` (or the call sheet's headers, in either language). A file
with an unknown alert id, a row whose member is not the member of its call
(columns sorted apart), an unknown code, an outcome without a date, a bad
date, a date after tomorrow or before the call was listed, a call both won
back and switched supplier on one day, a row whose check column is not its
call id, a do-not-call flag or an outcome in a column the import does not
read (or a yes mark, √, in one without a header), or a line that holds no usable record is refused whole,
with every bad row named: half an import would be worse than none (a lost
"asked not to be called" is a call). Other values of columns not read are said. An outcome of a call
held out as control is recorded with a warning. A row repeated in the file counts
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

import re
import unicodedata
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..data.load import names_do_not_call
from ..data.parse import parse_dates, parse_day
from ..data.sources import read_source
from ..messages import LANGUAGES, catalogue
from ..privacy import mask_numbers_in
from .ledger import Ledger
from .lists import CALL_LIST_COLUMNS
from .sheet import AGENT_COLUMNS, SHEET_COLUMNS, UNREAD_COLUMNS, column_labels, listed_problems, read_call_sheet

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
OUTCOME_KEY = ["alert_id", "outcome", "outcome_date"]
# Two outcomes of one call on one day (a do-not-call and a reached): the more decisive one is the call's latest
DECISIVENESS = ["no_answer", "wrong_number", "reached", "do_not_call", "switched_supplier", "won_back"]


class OutcomesImport(NamedTuple):
    """What an import did: outcomes added, already in the ledger, and rows repeated within the file."""

    added: int
    already: int
    repeated: int


def read_outcomes(source: str | Path | pd.DataFrame, ledger: Ledger) -> pd.DataFrame:
    """The outcomes file, checked: canonical codes, dates, alert ids the ledger knows (of the member the row
    names, where it names one), and no alert with the same outcome and date twice with different notes. Rows
    repeated exactly are kept (see ``import_outcomes``). The call sheet's warnings (calls missing from it) and
    outcomes of control-group calls are said once the file is accepted."""
    held: list[warnings.WarningMessage] = []
    if _is_workbook(source):
        with warnings.catch_warnings(record=True) as held:
            warnings.simplefilter("always")
            frame = read_call_sheet(source)
        unread = frame.attrs.pop("unread")
        where = frame.pop("where")
    else:
        frame, where, unread = _outcomes_file(source)
    problems = _unread_problems(unread)
    frame = frame.loc[(frame["outcome"] != "") | (frame["note"] != "")]  # a date alone (filled down) says nothing
    listing = ledger.listings(sorted(set(frame["alert_id"])))
    listed_on = frame["alert_id"].map(listing["as_of"])
    member = frame["member_id"] if "member_id" in frame else pd.Series("", index=frame.index)
    code = frame["outcome"].map(_plain_word).map(_ALIASES)
    for row in frame.index[code.isna()]:
        shown = frame.at[row, "outcome"]
        problems.append(
            f"{where[row]}: unknown outcome {mask_numbers_in(shown)!r}"
            if shown
            else f"{where[row]}: no outcome chosen (a note without an outcome)"
        )
    for row in frame.index[(frame["outcome_date"] == "") & (frame["outcome"] != "")]:
        problems.append(f"{where[row]}: no outcome_date for {frame.at[row, 'outcome']!r} (the day of the call)")
    dates, bad_date = parse_dates(_typed_date(frame["outcome_date"]))
    for row in frame.index[bad_date]:
        problems.append(f"{where[row]}: bad outcome_date {frame.at[row, 'outcome_date']!r}")
    for row in frame.index[listed_on.isna()]:
        shown = frame.at[row, "alert_id"]
        problems.append(
            f"{where[row]}: unknown alert_id {shown!r} (not in the ledger)" if shown else f"{where[row]}: no call id"
        )
    on_file = frame["alert_id"].map(listing["member_id"])
    for row in frame.index[listed_on.notna() & (member != "") & (_digits_kept(member) != _digits_kept(on_file))]:
        problems.append(
            f"{where[row]}: member {member[row]!r} is not the member of call {frame.at[row, 'alert_id']!r} "
            f"({on_file[row]!r}): were the rows sorted apart? (sort whole rows)"
        )
    check = frame["alert_check"] if "alert_check" in frame else pd.Series("", index=frame.index)
    for row in frame.index[(check != "") & (check != frame["alert_id"])]:
        problems.append(
            f"{where[row]}: the call id {frame.at[row, 'alert_id']!r} is not its check {check[row]!r} (the call id "
            "again after the outcome columns): were the rows sorted apart from their outcomes? (sort whole rows)"
        )
    latest = pd.Timestamp.today().normalize() + pd.Timedelta(days=1)  # the call center's day may be ahead of ours
    for row in frame.index[(dates > latest).fillna(False)]:
        problems.append(f"{where[row]}: outcome_date {dates[row]:%Y-%m-%d} is in the future")
    for row in frame.index[(dates < listed_on).fillna(False)]:
        problems.append(
            f"{where[row]}: outcome_date {dates[row]:%Y-%m-%d} is before the call was listed "
            f"({listed_on[row]:%Y-%m-%d})"
        )
    table = pd.DataFrame({"alert_id": frame["alert_id"], "outcome": code, "outcome_date": dates, "note": frame["note"]})
    problems += _conflicting_notes(table.dropna(subset=["outcome", "outcome_date"]), where)
    problems += _contradictions(table.dropna(subset=["outcome", "outcome_date"]), where)
    if problems:
        raise ValueError(
            f"{len(problems)} problem(s) in the outcomes file; nothing was imported "
            f"(known outcomes: {', '.join(OUTCOMES)}; on the call sheet: "
            f"{' / '.join(', '.join(catalogue(language).section('outcomes').values()) for language in LANGUAGES)}"
            f"): {listed_problems(problems)}"
        )
    for warning in held:
        warnings.warn(warning.message, stacklevel=2)
    control = frame.index[frame["alert_id"].map(listing["arm"]) == "control"]
    if len(control):
        warnings.warn(
            f"{len(control):,} outcome(s) of calls held out as the control group ({', '.join(where[control][:3])}"
            f"{', ...' if len(control) > 3 else ''}): those members were not to be called. The outcomes are recorded "
            "(pacing honours them), the retention summary leaves them out, and the campaign effect's control group "
            "was called",
            stacklevel=2,
        )
    return table


def _plain_word(text: str) -> str:
    """A word as the aliases are written: full-width letters and spaces made plain (ＤＯ ＮＯＴ ＣＡＬＬ,
    勿　扰), spaces inside a Chinese word dropped, case folded."""
    plain = unicodedata.normalize("NFKC", str(text)).strip().casefold()
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", re.sub(r"\s+", " ", plain))


# Marks an agent may put for "yes" (a do-not-call, say): refused in a column without a header, which says no more
_MARKS = frozenset({"√", "✓", "✔", "☑", "y", "yes", "是", "对", "要", "true"})


def _unread_problems(unread: pd.DataFrame) -> list[str]:
    """Values written outside the columns the import reads (``UNREAD_COLUMNS``): under a do-not-call header, an
    outcome anywhere, or a yes mark in a column without a header, refuse the file (skipped, a do-not-call would be
    a call); any other is said in a warning (an agent's own column of notes)."""
    if unread.empty:
        return []
    words = unread["value"].map(_plain_word)
    unnamed = unread["column"].str.startswith("column ") | unread["column"].str.fullmatch(r"column_\d+|Unnamed.*")
    flagged = unread["column"].map(names_do_not_call) | words.isin(_ALIASES) | (words.isin(_MARKS) & unnamed)
    problems = [
        f"{row.where}: {mask_numbers_in(row.value)!r} in the column {row.column!r}, which the import does not read: "
        f"write the outcome in the outcome column ({' / '.join(_outcome_labels())})"
        for row in unread.loc[flagged].itertuples()
    ]
    others = unread.loc[~flagged]
    if len(others):
        columns = list(dict.fromkeys(others["column"]))
        warnings.warn(
            f"{len(others):,} value(s) in column(s) the import does not read ({', '.join(map(repr, columns[:5]))}"
            f"{', ...' if len(columns) > 5 else ''}; first: {others['where'].iloc[0]}): not recorded; only the call "
            "id, member, outcome, outcome date and note are",
            stacklevel=3,
        )
    return problems


def _outcome_labels() -> list[str]:
    return [catalogue(language).text("call_sheet.columns.outcome") for language in LANGUAGES]


WEEKDAY = re.compile(r"\s*[(（]?(?:周|星期|礼拜)[一二三四五六日天][)）]?\s*$")


def _typed_date(dates: pd.Series) -> pd.Series:
    """Dates as a Chinese input method types them, made plain: full-width digits and dashes (２０２６－１２－０１),
    号 for 日, and a weekday after the date (2026-12-01 周二)."""
    plain = dates.map(lambda text: unicodedata.normalize("NFKC", text))
    return plain.str.replace(WEEKDAY, "", regex=True).str.replace(r"(\d)号$", r"\1日", regex=True)


def _digits_kept(ids: pd.Series) -> pd.Series:
    """Member ids as compared with the ledger's: an id of digits without its leading zeros (Excel makes a cell
    of digits a number), any other as it is."""
    ids = ids.fillna("").astype(str)
    digits = ids.str.fullmatch(r"\d+")
    return ids.where(~digits, ids.str.lstrip("0").replace("", "0"))


def _is_workbook(source: str | Path | pd.DataFrame) -> bool:
    """A call sheet: named as a workbook, or a zip file (an .xlsx saved without its extension)."""
    if not isinstance(source, (str, Path)):
        return False
    if Path(source).suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return True
    with open(source, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _outcomes_file(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """An outcomes CSV (or table) as text, its columns named as the import reads them (the call sheet's labels in
    either language, ``date`` for ``outcome_date``), rows blank in every column read left out, where each row
    is in the file, and the values of columns the call sheet does not have (``UNREAD_COLUMNS``)."""
    raw = read_source(source)
    frame = raw.frame.reset_index(drop=True)
    labels = column_labels() | {name: name for name in ("alert_id", "member_id", "date", *SHEET_COLUMNS)}
    frame = frame.rename(columns=lambda c: labels.get(str(c).strip().lstrip("\ufeff").casefold(), str(c).strip()))
    if "outcome_date" not in frame and "date" in frame:
        frame = frame.rename(columns={"date": "outcome_date"})
    missing = [c for c in ("alert_id", "outcome", "outcome_date") if c not in frame]
    if missing:
        raise ValueError(f"outcomes file lacks column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    if frame.columns.duplicated().any():
        raise ValueError(f"outcomes file names a column twice: {', '.join(frame.columns[frame.columns.duplicated()])}")
    text = pd.DataFrame(
        {
            name: frame[name].astype(object).where(frame[name].notna(), "").astype(str).str.strip()
            if name in frame
            else pd.Series("", index=frame.index, dtype=object)
            for name in ("alert_id", "member_id", *AGENT_COLUMNS, "alert_check")
        },
        index=frame.index,
    )
    # the file's line of each row (blank lines skipped by the reader are counted), else its place after the header
    numbers = raw.lines[np.arange(len(frame))] if raw.lines is not None else text.index + 2
    where = pd.Series([f"row {number}" for number in numbers], index=text.index)
    others = frame[[c for c in frame.columns if c not in (*SHEET_COLUMNS, *CALL_LIST_COLUMNS, "date")]]
    written = others.astype(object).where(others.notna(), "").astype(str).apply(lambda column: column.str.strip())
    unread = written.stack().loc[lambda values: values != ""]
    unread = pd.DataFrame(
        {
            "where": where[unread.index.get_level_values(0)].to_numpy(),
            "column": unread.index.get_level_values(1).astype(str),
            "value": unread.to_numpy(),
        },
        columns=UNREAD_COLUMNS,
    )
    kept = text.ne("").any(axis=1)  # Excel's trailing rows of separators alone
    return text.loc[kept], where, unread


def _conflicting_notes(table: pd.DataFrame, where: pd.Series) -> list[str]:
    """One problem per alert, outcome and date reported with different notes, naming the first two rows."""
    distinct = table.drop_duplicates()
    clash = distinct.loc[distinct.duplicated(OUTCOME_KEY, keep=False)]
    return [
        f"{where[group.index[0]]} and {where[group.index[1]]}: alert_id {key[0]!r} {key[1]} on "
        f"{key[2]:%Y-%m-%d} with different notes ({mask_numbers_in(group['note'].iloc[0])!r}, "
        f"{mask_numbers_in(group['note'].iloc[1])!r})"
        for key, group in clash.groupby(OUTCOME_KEY, sort=False)
    ]


def _contradictions(table: pd.DataFrame, where: pd.Series) -> list[str]:
    """One problem per call said to be both won back and switched supplier on one day (which is it?); other
    outcomes on one day can follow each other (no answer, then reached)."""
    decided = table.loc[table["outcome"].isin(["won_back", "switched_supplier"])]
    both = decided.groupby(["alert_id", "outcome_date"])["outcome"].transform("nunique") > 1
    return [
        f"{' and '.join(where[group.index[:2]])}: alert_id {key[0]!r} both won back and switched supplier on "
        f"{key[1]:%Y-%m-%d}"
        for key, group in decided.loc[both].groupby(["alert_id", "outcome_date"], sort=False)
    ]


def import_outcomes(source: str | Path | pd.DataFrame, ledger: Ledger) -> OutcomesImport:
    """Check and record an outcomes file (in one transaction); a row repeated in the file counts once. An
    outcome already recorded keeps its note: one with another note in the file is said."""
    table = read_outcomes(source, ledger)
    distinct = table.drop_duplicates()
    added, already, renoted = ledger.add_outcomes(distinct)
    if renoted:
        alert_id, kept, dropped = renoted[0]
        warnings.warn(
            f"{len(renoted):,} outcome(s) already in the ledger come with another note, which is not recorded: the "
            f"ledger keeps the note first imported (alert_id {alert_id!r}: {mask_numbers_in(kept)!r} kept, "
            f"{mask_numbers_in(dropped)!r} not)",
            stacklevel=2,
        )
    return OutcomesImport(added, already, len(table) - len(distinct))


def latest_outcomes(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Each call's latest outcome (one row per ``alert_id``): the last day's, and of two on that day the more
    decisive (``DECISIVENESS``), whatever order the import read them in."""
    rank = outcomes["outcome"].map({code: position for position, code in enumerate(DECISIVENESS)}).fillna(-1)
    order = pd.DataFrame({"day": pd.to_datetime(outcomes["outcome_date"]), "rank": rank.to_numpy()})
    ordered = outcomes.iloc[np.lexsort((order["rank"].to_numpy(), order["day"].to_numpy()))]
    return ordered.drop_duplicates("alert_id", keep="last")


def retention_summary(ledger: Ledger, through: Any = None) -> pd.DataFrame:
    """Per campaign: calls listed (not the control groups: they are not called), the latest outcome of each
    (``latest_outcomes``; one column per code), calls with no outcome yet, and the won-back share of calls that
    reached a decision (won back or switched). ``through``: as the ledger stood at the end of that day (calls
    listed and outcomes dated up to it), so that a day's report made again later says what it said; None:
    everything."""
    contacts = ledger.contacts()
    if through is not None:
        contacts = contacts.loc[pd.to_datetime(contacts["as_of"]) <= parse_day(through)]
    called = contacts.loc[contacts["arm"] == "called"]  # not the control groups, nor an outcome of theirs
    listed = called.groupby("campaign").size()
    recorded = ledger.outcomes(through)
    recorded = recorded.loc[recorded["alert_id"].isin(called["alert_id"])]
    latest = latest_outcomes(recorded)
    counts = latest.groupby(["campaign", "outcome"]).size().unstack(fill_value=0)
    table = counts.reindex(index=listed.index, columns=list(OUTCOMES), fill_value=0)
    table.insert(0, "listed", listed)
    table["no_outcome_yet"] = table["listed"] - table[list(OUTCOMES)].sum(axis=1)
    decided = table["won_back"] + table["switched_supplier"]
    table["won_back_share"] = (table["won_back"] / decided.where(decided > 0)).round(3)
    return table.reset_index().rename_axis(columns=None)
