"""The call sheet (``call_list.xlsx``): what an agent reads in the two seconds before dialling, in their language.

One worksheet per advisor, named after them (``advisors.csv``'s ``name``), one
per queue (the VIP queue, each team's queue), and a summary sheet first: calls
per sheet, VIPs, and who was held back and why. Rows are in calling order.
Each row says who (member, name, phone as text, tier, VIP), why (the reason in
plain words, with the date it is about split into what it means: the expected
purchase, the birthday, the holiday), what they bought last and when, the
household, the last contact and its outcome, and how to approach them (the
campaign's script hint, and the segment's action where one is known). The
last three columns, outcome / outcome date / note (结果 / 结果日期 / 备注), are
for the agent; the outcome has a drop-down of the valid outcomes, and
``segkit outcomes --file call_list.xlsx`` reads them back (``read_call_sheet``).

Labels and sentences come from the message catalogue (``segkit.messages``) of
the ``language`` setting (zh-CN by default). ``call_list.csv`` keeps its English
columns for dialers and scripts.
"""

from __future__ import annotations

import itertools
import re
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence
from xml.etree import ElementTree

import numpy as np
import pandas as pd

from ..data.load import names_do_not_call
from ..data.sources import read_source
from ..io import XlsxSheet, write_xlsx
from ..messages import LANGUAGES, Catalogue, catalogue
from .lists import ALERT_ID, birthday_reason
from .pacing import CALL_BY_QUEUE, HOLD_RULES, VIP_QUEUE

SHEET_COLUMNS = [
    "priority",
    "member_id",
    "name",
    "phone",
    "tier",
    "vip",
    "campaign",
    "reason",
    "last_purchase",
    "last_product",
    "household_size",
    "last_contact",
    "action",
    "expected_purchase",
    "birthday",
    "holiday",
    "value_at_risk",
    "alert_id",
    "outcome",
    "outcome_date",
    "note",
    "alert_check",
]
AGENT_COLUMNS = ["outcome", "outcome_date", "note"]  # filled in by the agent, read back by the import
CONTEXT_COLUMNS = [
    "last_purchase",
    "purchases",
    "typical_interval",
    "days_overdue",
    "last_product",
    "last_quantity",
    "segment",
    "action",
]
WIDE_COLUMNS = {"reason": 48, "action": 40, "last_contact": 24, "note": 30}
SHEET_NAME_UNSAFE = re.compile(r"[\[\]:*?/\\]")
HOLIDAY_CAMPAIGNS = ("holiday",)


def member_context(sources: Sequence[Any]) -> pd.DataFrame:
    """What segkit knows of each member that helps a call (``CONTEXT_COLUMNS``), by member_id, from tables
    or files with a ``member_id`` column: the alerts (``alerts.csv``), ``member_rhythms.csv``, ``rfm.csv``.
    The first source that has a column for a member wins."""
    context = pd.DataFrame(index=pd.Index([], name="member_id"))
    for source in sources:
        if source is None or isinstance(source, pd.Series):
            continue
        raw = read_source(source)
        frame = raw.frame
        if "member_id" not in frame:
            raise ValueError(
                f"{raw.origin}: a member context table needs a member_id column; "
                f"found {', '.join(map(str, frame.columns))}"
            )
        frame = frame.assign(member_id=frame["member_id"].astype(str)).drop_duplicates("member_id")
        frame = frame.set_index("member_id")[[c for c in CONTEXT_COLUMNS if c in frame]]
        if len(frame):  # a table of no rows knows nothing (and pandas cannot combine its empty integers)
            context = context.combine_first(frame) if len(context.columns) else frame
    return context


def sheet_table(
    call_list: pd.DataFrame,
    as_of: pd.Timestamp,
    language: str | None = None,
    context: pd.DataFrame | None = None,
    members: pd.DataFrame | None = None,
    last_contacts: pd.DataFrame | None = None,
    holiday_name: str = "holiday",
    purchase_noun: str | None = None,
) -> pd.DataFrame:
    """The call list as agents read it: ``SHEET_COLUMNS`` (canonical names; ``write_call_sheet`` labels them),
    texts in ``language``. ``context``: ``member_context``; ``last_contacts``: ``LedgerSession.last_contacts``."""
    text = catalogue(language)
    ids = call_list["member_id"].astype(str)
    known = (context if context is not None else pd.DataFrame()).reindex(index=ids, columns=CONTEXT_COLUMNS)
    known.index = call_list.index
    household = _members_by_id(members).reindex(index=ids, columns=["household_size"]).set_axis(call_list.index)
    due = pd.to_datetime(call_list["due_date"])
    campaign = call_list["campaign"].astype(str)
    also_campaign = (
        call_list["also_campaign"].fillna("").astype(str)
        if "also_campaign" in call_list
        else pd.Series("", index=call_list.index)
    )
    also_due = (
        pd.to_datetime(call_list["also_due_date"])
        if "also_due_date" in call_list
        else pd.Series(pd.NaT, index=call_list.index)
    )
    noun = purchase_noun or text.text("words.purchase")

    def reason(i) -> str:
        main = _reason(text, campaign[i], due[i], as_of, known.loc[i], call_list.at[i, "reason"], holiday_name, noun)
        if also_campaign[i]:
            other = _reason(text, also_campaign[i], also_due[i], as_of, known.loc[i], "", holiday_name, noun)
            main += text.text("call_sheet.reasons.also", reason=other)
        return main

    def dated(name: str) -> pd.Series:
        return due.where(campaign == name).fillna(also_due.where(also_campaign == name))

    last_contact = pd.Series("", index=call_list.index)
    if last_contacts is not None and len(last_contacts):
        contact = last_contacts.reindex(ids).set_axis(call_list.index)
        seen = contact["as_of"].notna()
        last_contact[seen] = [
            text.text(
                "call_sheet.last_contact",
                date=text.day(day),
                campaign=_label(text, "campaigns", name),
                outcome=_label(text, "outcomes", outcome)
                if isinstance(outcome, str) and outcome
                else text.text("call_sheet.no_outcome"),
            )
            for day, name, outcome in zip(
                contact.loc[seen, "as_of"], contact.loc[seen, "campaign"], contact.loc[seen, "outcome"]
            )
        ]
    care = campaign.isin(["birthday", *HOLIDAY_CAMPAIGNS])
    value = pd.to_numeric(call_list["value_at_risk"], errors="coerce")
    return pd.DataFrame(
        {
            "priority": call_list["priority"].astype(int),
            "member_id": ids,
            "name": call_list["name"],
            "phone": call_list["phone"],
            "tier": call_list["tier"],
            "vip": np.where(call_list["vip"].eq(True), text.text("formats.flag_yes"), text.text("formats.flag_no")),
            "campaign": [_label(text, "campaigns", name) for name in campaign],
            "reason": [reason(i) for i in call_list.index],
            "last_purchase": pd.to_datetime(known["last_purchase"], errors="coerce").dt.normalize(),
            "last_product": _last_products(text, known),
            "household_size": pd.to_numeric(household["household_size"], errors="coerce").astype("Int64"),
            "last_contact": last_contact,
            "action": [
                _action(text, name, vip, segment_action)
                for name, vip, segment_action in zip(campaign, call_list["vip"].eq(True), known["action"].fillna(""))
            ],
            "expected_purchase": dated("churn"),
            "birthday": dated("birthday"),
            "holiday": due.where(campaign.isin(HOLIDAY_CAMPAIGNS)).fillna(
                also_due.where(also_campaign.isin(HOLIDAY_CAMPAIGNS))
            ),
            "value_at_risk": value.where(~care & (value > 0)).round(2),
            "alert_id": call_list["alert_id"],
            "outcome": None,
            "outcome_date": None,
            "note": None,
            "alert_check": call_list["alert_id"],  # the call id again, right of the agent's columns: a sort that
            # leaves those out of the rows it moves is found (``read_outcomes``)
        }
    )[SHEET_COLUMNS]


def _members_by_id(members: pd.DataFrame | None) -> pd.DataFrame:
    if members is None or "member_id" not in members:
        return pd.DataFrame(index=pd.Index([], name="member_id"))
    return members.set_index(members["member_id"].astype(str).rename("member_id")).loc[
        lambda frame: ~frame.index.duplicated()
    ]


def _label(text: Catalogue, section: str, key: str) -> str:
    """A code's label in the catalogue (``campaigns``, ``outcomes``); a code it does not know as it is."""
    return text.section(section).get(key, key)


def _reason(
    text: Catalogue,
    campaign: str,
    due: pd.Timestamp,
    as_of: pd.Timestamp,
    known: pd.Series,
    given: str,
    holiday_name: str,
    noun: str,
) -> str:
    """Why this call, in plain words: the overdue rhythm, the birthday, the holiday; another campaign's own
    reason as it came (``given``)."""
    if campaign == "birthday" and pd.notna(due):
        return birthday_reason(text, due, as_of)
    if campaign in HOLIDAY_CAMPAIGNS and pd.notna(due):
        return text.text(
            "call_sheet.reasons.holiday", date=text.day(due), holiday=_label(text, "holidays", holiday_name)
        )
    needed = ("last_purchase", "typical_interval", "days_overdue", "purchases")
    if all(pd.notna(known.get(name)) for name in needed):
        last = pd.Timestamp(known["last_purchase"])
        fields = dict(
            noun=noun,
            typical=int(round(float(known["typical_interval"]))),
            last=text.day(last),
            since=(as_of - last.normalize()).days,
            late=int(known["days_overdue"]),
        )
        once = int(known["purchases"]) == 1
        return text.text("call_sheet.reasons.overdue_once" if once else "call_sheet.reasons.overdue", **fields)
    return given if isinstance(given, str) else ""


def _last_products(text: Catalogue, known: pd.DataFrame) -> list[str]:
    shown = []
    for product, quantity in zip(known["last_product"], pd.to_numeric(known["last_quantity"], errors="coerce")):
        if not isinstance(product, str) or not product:
            shown.append("")
        elif pd.isna(quantity):
            shown.append(product)
        else:
            amount = int(quantity) if float(quantity).is_integer() else round(float(quantity), 2)
            shown.append(text.text("call_sheet.product_quantity", product=product, quantity=amount))
    return shown


def _action(text: Catalogue, campaign: str, vip: bool, segment_action: str) -> str:
    """The campaign's script hint (the VIP one for VIPs' overdue calls), then the segment's action."""
    hints = text.section("call_sheet.actions")
    hint = hints.get(f"{campaign}_vip" if vip and f"{campaign}_vip" in hints else campaign, "")
    return text.text("formats.separator").join(part for part in (hint, str(segment_action).strip()) if part)


def sheets_by_caller(
    call_list: pd.DataFrame, advisors: pd.DataFrame | None, language: str | None = None
) -> list[tuple[str, pd.Index]]:
    """(sheet name, rows) for every advisor with calls (named after them, by advisor id order), then every
    queue with calls (the VIP queue first). Names are unique and fit Excel's 31 characters."""
    text = catalogue(language)
    names = {}
    if advisors is not None and {"advisor_id", "name"} <= set(advisors.columns):
        names = dict(zip(advisors["advisor_id"].astype(str), advisors["name"].fillna("").astype(str)))
    call_by = call_list["call_by"].astype(str)
    callers = sorted(set(call_by) - {CALL_BY_QUEUE})
    # advisors who share a name all show their id: a sheet named only 王明 would be taken by either 王明
    shared = pd.Series([(names.get(advisor) or advisor).strip().lower() for advisor in callers]).duplicated(keep=False)
    sheets, taken = [], {text.text("call_sheet.sheets.summary")}
    for advisor, same_name in zip(callers, shared):
        name = _sheet_name(names.get(advisor) or advisor, advisor, taken, with_id=same_name)
        sheets.append((name, call_list.index[call_by == advisor]))
    queued = call_list.loc[call_by == CALL_BY_QUEUE, "queue"].astype(str)
    for queue in sorted(set(queued), key=lambda name: (name != VIP_QUEUE, name)):
        title = (
            text.text("call_sheet.sheets.vip_queue")
            if queue == VIP_QUEUE
            else text.text("call_sheet.sheets.queue", queue=queue)
        )
        sheets.append((_sheet_name(title, queue, taken), queued.index[queued == queue]))
    return sheets


def _sheet_name(name: str, fallback: str, taken: set[str], with_id: bool = False) -> str:
    """An Excel sheet name (no ``[]:*?/\\``, at most 31 characters, unique ignoring case) for ``name``; an
    advisor of a name that is taken, or ``with_id``, gets (the start of) their id beside it, then a number if
    that is taken too."""
    safe_id = SHEET_NAME_UNSAFE.sub("_", fallback)
    base = SHEET_NAME_UNSAFE.sub("_", name).strip("' ") or safe_id
    tags = itertools.chain([f" ({safe_id[:24]})"], (f" ({n})" for n in itertools.count(2)))
    if with_id and base != safe_id:
        tag = next(tags)
        clean = base[: 31 - len(tag)] + tag
    else:
        clean = base[:31]
    lowered = {t.lower() for t in taken}
    while clean.lower() in lowered:
        tag = next(tags)
        clean = base[: 31 - len(tag)] + tag
    taken.add(clean)
    return clean


def write_call_sheet(
    call_list: pd.DataFrame,
    held_back: pd.DataFrame,
    path: str | Path,
    as_of: pd.Timestamp,
    run: str,
    language: str | None = None,
    advisors: pd.DataFrame | None = None,
    control: int = 0,
    **context,
) -> Path:
    """Write ``call_list.xlsx``: the summary sheet, then one sheet per advisor and per queue (``sheet_table``
    rows, labelled in ``language``, the outcome column with its drop-down). ``context``: ``sheet_table``'s
    keyword arguments (members, context, last_contacts, holiday_name, purchase_noun); ``control``: the members
    held out as the control group (counted on the summary sheet)."""
    text = catalogue(language)
    rows = sheet_table(call_list, as_of, language, **context)
    labels = text.section("call_sheet.columns")
    choices = {labels["outcome"]: list(text.section("outcomes").values())}
    text_columns = tuple(labels[c] for c in ("member_id", "phone", "alert_id", "name", "note", "alert_check"))
    callers = sheets_by_caller(call_list, advisors, language)
    sheets = [_summary_sheet(text, callers, call_list, held_back, as_of, run, control)]
    for title, index in callers:
        sheets.append(
            XlsxSheet(
                title,
                rows.loc[index].rename(columns=labels),
                text_columns=text_columns,
                choices=choices,
                widths={labels[c]: w for c, w in WIDE_COLUMNS.items()},
                formats={labels["value_at_risk"]: "#,##0.00"},
                editable=tuple(labels[c] for c in AGENT_COLUMNS),
            )
        )
    return write_xlsx(sheets, path, timestamp=as_of)


def _summary_sheet(
    text: Catalogue,
    callers: list[tuple[str, pd.Index]],
    call_list: pd.DataFrame,
    held_back: pd.DataFrame,
    as_of: pd.Timestamp,
    run: str,
    control: int,
) -> XlsxSheet:
    """Calls and VIPs per sheet, the control group, then the members held back by reason."""
    label = text.section("call_sheet.summary")
    vip = call_list["vip"].eq(True)
    lines = [(title, len(index), int(vip.loc[index].sum())) for title, index in callers]
    lines.append((label["total"], len(call_list), int(vip.sum())))
    if control:
        lines.append((label["control"], control, None))
    rules = text.section("call_sheet.held_back_rules")
    counts = held_back["rule"].value_counts() if len(held_back) else pd.Series(dtype=int)
    for rule in HOLD_RULES:
        if counts.get(rule, 0):
            held = held_back["rule"] == rule
            lines.append(
                (
                    text.text("call_sheet.summary.held_back_rule", rule=rules[rule]),
                    int(counts[rule]),
                    int(held_back.loc[held, "vip"].eq(True).sum()),
                )
            )
    frame = pd.DataFrame(lines, columns=[label["sheet"], label["calls"], label["vips"]])
    return XlsxSheet(
        text.text("call_sheet.sheets.summary"),
        frame,
        widths={label["sheet"]: 36},
        preface=(label["title"].format(date=f"{as_of:%Y-%m-%d}", run=run), label["instructions"], ""),
    )


def column_labels() -> dict[str, str]:
    """Every language's label of the call sheet's columns (case folded), to the canonical name (what the import
    reads)."""
    return {
        label.casefold(): name
        for language in LANGUAGES
        for name, label in catalogue(language).section("call_sheet.columns").items()
    }


READ_COLUMNS = ["alert_id", "member_id", *AGENT_COLUMNS, "alert_check"]  # what the import reads back
HEADER_ROWS = 10  # a sheet's header is looked for in its first rows
SHOWN_PROBLEMS = 20


def listed_problems(problems: list[str]) -> str:
    """The first ``SHOWN_PROBLEMS`` of ``problems`` on one line, and how many more there are."""
    more = f"; ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    return "; ".join(problems[:SHOWN_PROBLEMS]) + more


def read_call_sheet(path: str | Path) -> pd.DataFrame:
    """The outcomes agents filled in on a call sheet (every sheet, labels in either language): ``alert_id``,
    ``member_id`` (blank when the sheet has no such column), ``outcome``, ``outcome_date`` (text, as the agent
    wrote it; a date cell as YYYY-MM-DD), ``note`` and ``where`` (sheet and row, for errors). Rows whose outcome,
    date and note are all blank are left out. Each sheet is read a row at a time (a cell styled on the last row
    of a sheet costs no memory), every row whatever the dimension the file states.

    Whatever would make an outcome unreadable refuses the workbook, naming it: a sheet that holds call ids
    without the call id and outcome columns in its first rows (a header renamed or moved down: its rows would
    be skipped; a sheet of the call center's own, without call ids, is left alone), an agent's column missing or
    a column read twice, merged cells among the rows read, a formula without a saved value. The summary's calls
    are checked against the call rows found: a sheet of no calls comes back as no outcomes, and fewer rows than
    listed (a sheet or rows deleted) are a warning, since the outcomes there must still be recorded. A sheet
    without call ids that holds outcomes or do-not-call flags is refused (they would be skipped). The values
    written in columns the sheet does not have (``where``, ``column``, ``value``) come as ``attrs["unread"]``:
    the import judges them."""
    labels, summary_labels = column_labels(), _summary_labels()
    rows, problems, found, listed, unread = [], [], {}, None, []
    with _workbooks(path) as (values, formulas):
        for sheet in values.worksheets:
            written = formulas[sheet.title]
            for each in (sheet, written):
                each.reset_dimensions()  # a stale dimension tag stopped the read short of the rows after it
            header = _header(sheet.iter_rows(max_row=HEADER_ROWS, values_only=True), labels, ("alert_id", "outcome"))
            if header is None:
                summary = _header(sheet.iter_rows(max_row=HEADER_ROWS, values_only=True), summary_labels, SUMMARY)
                if summary is not None:
                    listed = _calls_listed(sheet.iter_rows(values_only=True), summary) if listed is None else listed
                elif _holds_call_ids(sheet):
                    problems.append(
                        f"sheet {sheet.title!r}: call ids without the call id and outcome columns "
                        f"({_labels('alert_id')}; {_labels('outcome')}) in its first {HEADER_ROWS} rows: a header "
                        "renamed or moved cannot be read; restore it"
                    )
                elif (column := _outcomes_without_calls(sheet, labels)) is not None:
                    problems.append(
                        f"sheet {sheet.title!r}: the column {column!r} holds values, but the sheet has no call ids "
                        f"({_labels('alert_id')}): what is written there cannot be matched to a call; write each "
                        "outcome on its call's row of the advisor's sheet"
                    )
                continue
            problems += _header_problems(sheet, header)
            columns = {name: header.names.index(name) for name in READ_COLUMNS if name in header.names}
            known = {i for i, name in enumerate(header.names) if name in SHEET_COLUMNS}
            found[sheet.title] = 0
            lines = zip(
                sheet.iter_rows(min_row=header.row + 1, values_only=True),
                written.iter_rows(min_row=header.row + 1, values_only=True),
            )
            for number, (line, formulas_of_line) in enumerate(lines, start=header.row + 1):
                unread += [
                    (f"sheet {sheet.title!r} row {number}", _column_name(header.names, i), _cell_text(value))
                    for i, value in enumerate(line)
                    if i not in known and _cell_text(value)
                ]
                cells = {name: (_at(line, i), _at(formulas_of_line, i)) for name, i in columns.items()}
                problems += [
                    f"sheet {sheet.title!r} row {number}: {name} is a formula without a saved value ({formula}): "
                    "type the value (a formula is not read: never computed, or computed to nothing, it says nothing)"
                    for name, (value, formula) in cells.items()
                    if value is None and isinstance(formula, str) and formula.startswith("=")
                ]
                filled = {name: _cell_text(value) for name, (value, _) in cells.items()}
                found[sheet.title] += bool(filled["alert_id"])
                if any(filled.get(name) for name in AGENT_COLUMNS):
                    rows.append({**filled, "where": f"sheet {sheet.title!r} row {number}"})
    if not found and not (listed is not None and sum(listed.values()) == 0):
        raise ValueError(
            f"{path}: no sheet with a call id and an outcome column ({_labels('outcome')}): is this a segkit call "
            "sheet?"
        )
    if problems:
        raise ValueError(
            f"{path}: {len(problems)} problem(s) in the call sheet; nothing was imported: {listed_problems(problems)}"
        )
    _warn_missing_calls(path, listed or {}, found)
    table = pd.DataFrame(rows, columns=[*READ_COLUMNS, "where"]).fillna("")
    table.attrs["unread"] = pd.DataFrame(unread, columns=UNREAD_COLUMNS)
    return table


UNREAD_COLUMNS = ["where", "column", "value"]  # a value written outside the columns the import reads


def _column_name(names: list[str], position: int) -> str:
    """A column's header, or its letter where it has none."""
    from openpyxl.utils import get_column_letter

    name = names[position] if position < len(names) else ""
    return name or f"column {get_column_letter(position + 1)}"


def _outcomes_without_calls(sheet, labels: dict[str, str]) -> str | None:
    """The header of a column of outcomes or do-not-call flags, with a value below it, on a sheet of members (a
    member id, name or phone column) without call ids: a sheet the call center added, whose outcomes would be
    skipped. None if there is none: a tally of outcomes (结果, 数量) is no member's."""
    for number, line in enumerate(sheet.iter_rows(max_row=HEADER_ROWS, values_only=True), start=1):
        marked = [
            i
            for i, cell in enumerate(line)
            if cell is not None and (labels.get(str(cell).strip().casefold()) == "outcome" or names_do_not_call(cell))
        ]
        if marked:
            members = {"member_id", "name", "phone"} & {labels.get(str(cell).strip().casefold()) for cell in line}
            below = sheet.iter_rows(min_row=number + 1, values_only=True)
            filled = members and any(_cell_text(_at(values, i)) for values in below for i in marked)
            return str(line[marked[0]]).strip() if filled else None
    return None


SUMMARY = ("sheet", "calls")  # the columns that make a sheet the summary


def _at(line: tuple, position: int) -> Any:
    return line[position] if position < len(line) else None


@contextmanager
def _workbooks(path: str | Path) -> Iterator[tuple[Any, Any]]:
    """The workbook twice, read-only (a row at a time): its values as Excel saved them, and its formulas. A file
    that is not one is refused in one line."""
    from openpyxl import load_workbook

    with open(path, "rb") as first, open(path, "rb") as second:
        if first.read(4) == b"\xd0\xcf\x11\xe0":
            raise ValueError(
                f"{path}: an Excel 97-2003 (.xls) or password-protected workbook: save the call sheet as an Excel "
                "Workbook (.xlsx) without a password"
            )
        first.seek(0)
        try:  # from the open file: openpyxl refuses a path not named .xlsx (a sheet saved without its extension)
            books = [
                load_workbook(handle, read_only=True, data_only=saved)
                for handle, saved in ((first, True), (second, False))
            ]
        except Exception as error:  # noqa: BLE001 - a damaged file fails in zipfile, openpyxl or its XML parser
            raise ValueError(
                f"{path}: cannot be read as an Excel workbook (.xlsx) ({type(error).__name__}: {error}): is it cut "
                "short or another kind of file? Save the call sheet from Excel again"
            ) from error
        try:
            yield books[0], books[1]
        except (zipfile.BadZipFile, zlib.error, EOFError, ElementTree.ParseError) as error:
            raise ValueError(
                f"{path}: a sheet of the workbook cannot be read ({type(error).__name__}: {error})"
            ) from error
        finally:
            for book in books:
                book.close()


def _labels(name: str) -> str:
    return " / ".join(catalogue(language).text(f"call_sheet.columns.{name}") for language in LANGUAGES)


def _holds_call_ids(sheet) -> bool:
    """Whether a sheet holds a call id anywhere (a call sheet whose header cannot be found, not a sheet of notes
    or counts of the call center's own)."""
    return any(
        isinstance(value, str) and ALERT_ID.fullmatch(value.strip())
        for line in sheet.iter_rows(values_only=True)
        for value in line
    )


def _header_problems(sheet, header: _Header) -> list[str]:
    """An agent's column missing (renamed: what it holds would be lost), a column read twice, and merged cells
    among the rows read (a merged outcome is read on its first row only)."""
    from openpyxl.utils import get_column_letter

    where, problems = f"sheet {sheet.title!r}", []
    for name in AGENT_COLUMNS:
        if name not in header.names:
            problems.append(f"{where}: no column {_labels(name)} in its header (row {header.row}): renamed?")
    for name in READ_COLUMNS:
        columns = [i + 1 for i, found in enumerate(header.names) if found == name]
        if len(columns) > 1:
            problems.append(
                f"{where}: the column {_labels(name)} is there {len(columns)} times "
                f"({', '.join(map(get_column_letter, columns))}): keep one"
            )
    read = {i + 1 for i, name in enumerate(header.names) if name in READ_COLUMNS}
    for cells in _merged_cells(sheet):
        if cells.min_row > header.row and read & set(range(cells.min_col, cells.max_col + 1)):
            problems.append(f"{where}: cells {cells.coord} are merged: unmerge them and fill in every row")
    return problems


def _merged_cells(sheet) -> list:
    """The merged ranges of a read-only sheet, from its XML (openpyxl reads them only into a sheet held whole, which
    takes memory for every row up to the last cell styled)."""
    from openpyxl.worksheet.cell_range import CellRange

    ranges = []
    with sheet._get_source() as source:  # noqa: SLF001 - the sheet's XML, as openpyxl's own reader opens it
        for _, element in ElementTree.iterparse(source):
            if element.tag.endswith("}mergeCell"):
                ranges.append(CellRange(element.get("ref")))
            element.clear()
    return ranges


def _warn_missing_calls(path: str | Path, listed: dict[str, int], found: dict[str, int]) -> None:
    """Warn when the call sheets hold fewer call rows than the summary lists, naming the sheets short of theirs
    (a sheet renamed keeps its rows: the totals are compared)."""
    if sum(found.values()) >= sum(listed.values()):
        return
    short = [
        f"sheet {title!r}: {found.get(title, 0):,} of {calls:,}"
        for title, calls in listed.items()
        if found.get(title, 0) < calls
    ]
    warnings.warn(
        f"{path}: the summary lists {sum(listed.values()):,} call(s), the workbook holds {sum(found.values()):,} "
        f"({'; '.join(short)}): outcomes written on the missing rows (a sheet or rows deleted?) are not imported",
        stacklevel=3,
    )


class _Header(NamedTuple):
    row: int
    names: list[str]


def _header(lines, labels: dict[str, str], needed: tuple[str, ...]) -> _Header | None:
    """The first of ``lines`` that holds the ``needed`` columns (``labels``: case-folded label to canonical
    name), as canonical names."""
    for number, line in enumerate(lines, start=1):
        names = [
            labels.get(str(cell).strip().casefold(), str(cell).strip()) if cell is not None else "" for cell in line
        ]
        if set(needed) <= set(names):
            return _Header(number, names)
    return None


def _summary_labels() -> dict[str, str]:
    """The summary sheet's column labels and its total line, in every language, to their canonical names."""
    return {
        catalogue(language).text(f"call_sheet.summary.{name}").casefold(): name
        for language in LANGUAGES
        for name in ("sheet", "calls", "total")
    }


def _calls_listed(lines: Iterator[tuple], header: _Header) -> dict[str, int] | None:
    """The calls per sheet on the summary sheet (``header``: its column row), read up to its total line (which
    must hold their sum); ``None`` for a summary that does not read as segkit wrote it (nothing is checked
    against it)."""
    labels = _summary_labels()
    sheet, calls = header.names.index("sheet"), header.names.index("calls")
    listed = {}
    for line in itertools.islice(lines, header.row, None):
        title, count = (line[sheet], line[calls]) if len(line) > max(sheet, calls) else (None, None)
        if not isinstance(count, int):
            return None
        if labels.get(str(title).strip().casefold()) == "total":
            return listed if sum(listed.values()) == count else None
        listed[str(title)] = count
    return None


def _cell_text(value: Any) -> str:
    """A cell as text: dates as YYYY-MM-DD, whole numbers without ``.0``, blanks as ``""``."""
    import datetime

    if value is None:
        return ""
    if isinstance(value, (datetime.datetime, datetime.date)):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
