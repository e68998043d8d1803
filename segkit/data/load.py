"""Load CRM exports into canonical tables, with a rejects file and a count of every row.

Every record of the file ends up in exactly one place: the canonical table
(possibly combined with other lines of the same order), the rejects (with a
``reason``), or the duplicates (identical to an earlier row; also written to
the rejects file, with their own reason). For text files the records are
counted from the lines of the file itself (``records``), so a line the CSV
parser would have swallowed is a reject, not a loss. ``LoadReport`` checks
that the counts add up.

Safety flags fail closed: a ``do_not_call`` value that cannot be read counts
as do-not-call, and a member any of whose rows says do-not-call is not called,
whichever row is kept; an unreadable ``wants_new_advisor`` counts as a request,
and an advisor's unreadable ``active`` refuses the file (``FAIL_CLOSED``).
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..io import write_table
from ..privacy import mask_name, mask_numbers_in, phone_line
from ..progress import BIG, progress
from ..result import Result
from . import parse
from .config import LoadConfig, as_config
from .contract import DATE, FLAG, ID, INTEGER, NUMBER, PHONE, TABLES, TEXT, ContractError, TableSpec, spec_for
from .records import DAMAGE_REASONS
from .sources import RawTable, clean_column_names, read_source

_PARSERS = {
    ID: parse.ids_with_problems,
    TEXT: parse.text_with_problems,
    DATE: parse.dates_with_problems,
    NUMBER: parse.numbers_with_problems,
    INTEGER: parse.integers_with_problems,
    FLAG: parse.flags_with_problems,
    PHONE: parse.phones_with_problems,
}
FLAG_DEFAULTS = {"active": True, "do_not_call": False, "wants_new_advisor": False}
# Words that mean yes (or no) in one flag column only, beyond the yes/no words of every flag.
FLAG_WORDS = {
    "do_not_call": (
        frozenset({"dnc", "勿扰", "免打扰", "请勿打扰", "勿打", "拒接", "拒绝来电", "不接受来电", "不要打"}),
        frozenset({"可联系", "可以联系", "可打", "正常"}),
    ),
    "active": (
        frozenset({"active", "在职", "在岗", "启用", "有效", "正常"}),
        frozenset({"inactive", "left", "离职", "已离职", "离岗", "停用", "已停用", "无效"}),
    ),
    "wants_new_advisor": (
        frozenset({"要换", "换", "更换", "申请更换", "要求更换", "已申请"}),
        frozenset({"不换", "不更换", "无需更换", "不用换", "未申请"}),
    ),
}
# What a spreadsheet writes for no value: blank in a flag, except do-not-call, where anything unread fails closed
PLACEHOLDERS = frozenset({"-", "--", "—", "/", "n/a", "na", "null", "none", "nan", "暂无", "空"})
# A flag that cannot be read fails closed: do-not-call is taken as asked, a request for a new advisor as made
# (the member asked for something in words of their own). An advisor's unreadable ``active`` is refused:
# taken as active, an advisor who left would get a book of members; taken as gone, 600 members would move.
FAIL_CLOSED = {
    "do_not_call": "unreadable value, taken as do-not-call",
    "wants_new_advisor": "unreadable wants_new_advisor, taken as a request for a new advisor",
}
REFUSED_WHEN_UNREADABLE = {  # column -> what to write instead; a book of 600 members hangs on each
    "active": "在职 or 离职, yes or no",
    "capacity_min": "a whole number of members, such as 500",
    "capacity_max": "a whole number of members, such as 800",
}
# Headers that name a do-not-call column other than by its contract name: never ignored, because an ignored
# do-not-call column is a list of people who will be called.
DO_NOT_CALL_HEADERS = {
    "dnc",
    "donotcall",
    "nocall",
    "donotdisturb",
    "dnd",
    "勿扰",
    "免打扰",
    "请勿打扰",
    "勿打",
    "拒接",
    "拒绝来电",
    "禁止呼叫",
    "不要打",
    "不接受来电",
}
# Chinese words that make a header a do-not-call flag wherever they stand in it (是否免打扰, 请勿致电), in simplified
# and traditional characters; not 请勿 alone (备注（请勿外传）) nor 拒接 (拒接次数)
DO_NOT_CALL_WORDS = (
    "勿扰",
    "勿擾",
    "免打扰",
    "免打擾",
    "请勿致电",
    "請勿致電",
    "请勿来电",
    "請勿來電",
    "请勿呼叫",
    "請勿呼叫",
    "请勿外呼",
    "請勿外呼",
    "勿打",
    "拒绝来电",
    "拒絕來電",
    "不要打",
    "不接受来电",
    "禁止呼叫",
    "禁止外呼",
    "禁呼",
    "黑名单",
    "黑名單",
)
# English words of a header (split at separators and capitals: DNC_flag, isDnd, DoNotCall?, opted-out) that make it one
DO_NOT_CALL_TOKENS = frozenset({"dnc", "dnd", "donotcall", "nocall", "donotcontact", "optout", "optedout", "blacklist"})
DO_NOT_CALL_PHRASES = (
    "do not call",
    "do not contact",
    "do not disturb",
    "no call",
    "no contact",
    "opt out",
    "opted out",
)
ROW = "source_row"
_HASH_ROWS = 1 << 22  # rows hashed at a time for the duplicate check
LINE = "line"


@dataclass
class LoadReport:
    """How many rows were read, used, rejected and de-duplicated, and why.

    ``str(report)`` is every count and reason, as the CLI prints it; ``adds_up`` checks that every
    record read was used, rejected or a duplicate.

    Attributes
    ----------
    table : str
        The canonical table: ``transactions``, ``members`` or ``advisors``.
    origin : str
        Where the rows came from (a path, ``<DataFrame>``, a database table).
    read : int
        Records read (for text files: counted from the file's lines, damaged ones included).
    used : int
        Records that made it into the canonical table (before order lines are combined).
    rejected : int
        Records rejected, damaged lines included.
    duplicates : int
        Records identical in every column to an earlier one.
    rows_out : int
        Rows of the canonical table.
    encoding : str or None
        The text encoding of a text file (detected or given).
    reasons : dict of str to int
        Rejected records by reason.
    blanked : dict of str to int
        Optional values that could not be read and were blanked, by reason (the row is kept).
    fail_closed : dict of str to int
        Rows whose safety flag could not be read and was taken the safe way (do-not-call, a request for a
        new advisor), by reason.
    ignored_columns : list of str
        Source columns not in the contract (and not mapped), left out.
    """

    table: str
    origin: str
    read: int = 0
    used: int = 0
    rejected: int = 0
    duplicates: int = 0
    rows_out: int = 0
    encoding: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    blanked: dict[str, int] = field(default_factory=dict)
    fail_closed: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return self.read == self.used + self.rejected + self.duplicates

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __str__(self) -> str:
        lines = [
            f"{self.table} from {self.origin}" + (f" ({self.encoding})" if self.encoding else ""),
            f"  read {self.read:,}  used {self.used:,}  rejected {self.rejected:,}  "
            f"duplicates {self.duplicates:,}  -> {self.rows_out:,} rows",
        ]
        lines += [f"  rejected: {reason}: {n:,}" for reason, n in self.reasons.items()]
        lines += [f"  blanked (row kept): {reason}: {n:,}" for reason, n in self.blanked.items()]
        lines += [f"  fail closed: {reason}: {n:,}" for reason, n in self.fail_closed.items()]
        if self.ignored_columns:
            lines.append(f"  columns not in the contract, ignored: {', '.join(self.ignored_columns)}")
        return "\n".join(lines)


@dataclass(repr=False)
class LoadResult(Result):
    """The canonical table, the rejected rows with reasons, and the report (``str(result.report)``: every count
    and reason, as the CLI prints it).

    Attributes
    ----------
    rows : pandas.DataFrame
        The canonical table with its text compact (categories or Arrow strings): what
        the engine reads (``to_arrow``). ``table`` is the same with Python strings.
    rejects : pandas.DataFrame
        The records not used, as read: ``source_row`` (and the file's ``line`` for
        text files), the original values and ``reason``; damaged lines as ``raw_line``.
    report : LoadReport
        Every count and reason.
    table : pandas.DataFrame
        The canonical table, text as Python strings (missing as None), made when
        first read.
    """

    rows: pd.DataFrame  # the canonical table with its text compact (categories or Arrow strings)
    rejects: pd.DataFrame
    report: LoadReport

    @cached_property
    def table(self) -> pd.DataFrame:
        """The canonical table, text as Python strings (missing as None), as pandas code expects."""
        return _with_python_text(self.rows)

    def to_arrow(self) -> pa.Table:
        """The canonical table in Arrow, repeated text dictionary-encoded: what the engine reads without a
        Python object per value (``segkit.engine.as_table`` takes it as it is). Made once."""
        return self._arrow

    @cached_property
    def _arrow(self) -> pa.Table:
        table = pa.Table.from_pandas(self.rows, preserve_index=False)
        for position, column in enumerate(self.rows.columns):
            kind = table.schema.field(position).type
            if pa.types.is_dictionary(kind) and not len(self.rows[column].cat.categories):
                # text without a value (a header alone, a blank column): pandas gives its categories no type,
                # and the engine cannot compare untyped values with text
                text = pa.dictionary(kind.index_type, pa.string())
                table = table.set_column(position, column, table[column].cast(text))
        return table

    def write_rejects(self, path: str | Path) -> Path:
        """Write the rejects (original values as read, plus ``reason``) as CSV or Parquet."""
        return write_table(self.rejects, path)

    def _describe(self) -> str:
        report = self.report
        return (
            f"{report.table} from {report.origin}: read {report.read:,}, used {report.used:,}, rejected "
            f"{report.rejected:,}, duplicates {report.duplicates:,} -> {report.rows_out:,} rows"
        )

    def summary(self) -> pd.DataFrame:
        """Where the rows read went, and why: one row per outcome and reason."""
        report = self.report
        rows = [("used", "", report.used), ("duplicate", "", report.duplicates)]
        rows += [("rejected", reason, n) for reason, n in report.reasons.items()]
        rows += [("blanked (row kept)", reason, n) for reason, n in report.blanked.items()]
        rows += [("fail closed", reason, n) for reason, n in report.fail_closed.items()]
        return pd.DataFrame(rows, columns=["outcome", "reason", "rows"])

    def tables(self) -> dict[str, pd.DataFrame]:
        """The canonical table and its rejects."""
        return {f"{self.report.table}.csv": self.rows, f"{self.report.table}_rejects.csv": self.rejects}


class _Rejections:
    """Collects reasons per row; a row may fail several checks. Only the rows rejected hold text."""

    def __init__(self, index: pd.Index):
        self.index = index
        self.masks: dict[str, pd.Series] = {}
        self.texts: list[pd.Series] = []  # per check that rejected rows: its reason for each of them

    def add(self, mask: pd.Series, reason: str, values: pd.Series | None = None) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        self.masks[reason] = self.masks[reason] | mask if reason in self.masks else mask
        rows = mask.index.take(np.flatnonzero(mask.to_numpy()))  # a RangeIndex picked by a mask is written out
        if values is None:
            text = pd.Series(reason, index=rows)
        else:
            text = reason + ": " + pd.Series(parse.picked(values.array, mask.to_numpy()), index=rows).astype(str)
        self.texts.append(text)

    @property
    def mask(self) -> pd.Series:
        return functools.reduce(operator.or_, self.masks.values(), pd.Series(False, index=self.index))

    def reasons(self) -> pd.Series:
        """The reasons of each rejected row, in the order the checks ran (``a; b``), by row."""
        if not self.texts:
            return pd.Series(dtype=object)
        return pd.concat(self.texts).groupby(level=0, sort=True).agg("; ".join)

    def counts(self, among: pd.Series) -> dict[str, int]:
        """Rows per reason, counting only the rows in ``among``."""
        return {reason: int((mask & among).sum()) for reason, mask in self.masks.items()}


def _normalise_headers(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Column names without byte-order marks and surrounding spaces; a name twice is refused (which of the two
    columns holds the member's phone?)."""
    names = clean_column_names(frame.columns)
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ContractError(f"{origin}: the column name(s) {', '.join(map(repr, doubled))} appear more than once")
    frame.columns = names
    return frame


def _columns_found(columns, spec: TableSpec) -> str:
    """The columns found, for an error message (error messages reach logs). A members file's first line may be a
    member's record (a file without a header line: ``M0001, 张三, 13900000001``), so its names that are not the
    contract's are masked; a first line holding a number or a date is said to be values, not column names."""
    names = [str(column) for column in columns]
    known = {_header_key(name) for table in TABLES.values() for name in table.columns}
    personal = spec.name == "members"
    shown = ", ".join(
        name if _header_key(name) in known else mask_name(mask_numbers_in(name)) if personal else mask_numbers_in(name)
        for name in names
    )
    if any(re.fullmatch(r"[\d\s.+()/:-]*\d[\d\s.+()/:-]*", name) for name in names):
        return f"the first line holds values, not column names (a file without a header line?): {shown}"
    hidden = " (names that are not the contract's masked: the first line may be a member's)" if personal else ""
    return f"columns found{hidden}: {shown}"


def _header_key(name: str) -> str:
    """A header as compared with contract names: case, spaces, hyphens and underscores ignored."""
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def names_do_not_call(header: Any) -> bool:
    """Whether a column's header names a do-not-call flag (``do_not_call``, ``DNC``, ``勿扰``, ``是否免打扰``,
    ``请勿致电``, ``is_dnc``, ``opt_out``, ``DoNotContact``, full-width too): an ignored one would be a list of
    people to call. English is read by words (``Addn_Comments`` is none)."""
    text = unicodedata.normalize("NFKC", str(header))
    if _header_key(text) in DO_NOT_CALL_HEADERS or any(word in text for word in DO_NOT_CALL_WORDS):
        return True
    words = re.findall(r"[a-z]+|[0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text).lower())
    spoken = f" {' '.join(words)} "
    return bool(DO_NOT_CALL_TOKENS & set(words)) or any(f" {phrase} " in spoken for phrase in DO_NOT_CALL_PHRASES)


def do_not_call_by_member(members: pd.DataFrame) -> pd.Series:
    """Do-not-call by member id, failing closed: text flags parsed, an unreadable value counts as
    do-not-call, and one row of a member that says do-not-call wins over the others."""
    unread = [column for column in members.columns if column != "do_not_call" and names_do_not_call(column)]
    if unread:
        raise ValueError(
            f"members: the column {unread[0]!r} looks like a do-not-call flag, and only do_not_call is read: an "
            "ignored one would call those members; name it do_not_call (or load the file with segkit.load_members)"
        )
    if "do_not_call" not in members:
        return pd.Series(dtype=bool)
    flags, unreadable = parse.parse_flags(members["do_not_call"])
    return (flags.fillna(False).astype(bool) | unreadable).groupby(members["member_id"].astype(str).to_numpy()).any()


def _map_columns(frame: pd.DataFrame, spec: TableSpec, config: LoadConfig) -> tuple[dict[str, str], list[str]]:
    """Source column for each canonical column present, and the ignored ones. A source column named like a
    contract column (``Do_Not_Call``, ``Member ID``) is that column; two such names for one column, or a
    do-not-call column under a name of its own (``DNC``, ``勿扰``) that no mapping names, are refused."""
    mapping: dict[str, str] = {}
    for source, target in config.columns.items():
        if source in frame.columns:
            mapping[target] = source
    for column in spec.columns:
        if column in mapping:
            continue
        alike = [c for c in frame.columns if _header_key(c) == _header_key(column) and c not in config.columns]
        if len(alike) > 1:
            raise ContractError(
                f"{spec.name}: the columns {', '.join(map(repr, alike))} could each be {column}; "
                "name the one to use in the mapping"
            )
        if alike:
            mapping[column] = alike[0]
    if config.amount:
        mapping.pop("amount", None)
    missing = [c for c in spec.required if c not in mapping and not (c == "amount" and config.amount)]
    if missing:
        expected = {c: s for s, c in config.columns.items() if c in missing}
        hint = "".join(f" (mapped from '{expected[c]}')" for c in missing if c in expected)
        raise ContractError(
            f"{spec.name}: missing required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}{hint}; {_columns_found(frame.columns, spec)}"
        )
    used = set(mapping.values()) | set(config.amount.get("multiply", []))
    ignored = [c for c in frame.columns if c not in used]
    if "do_not_call" in spec.columns:
        unread = [c for c in ignored if names_do_not_call(c) and c not in config.not_do_not_call]
        if unread:
            raise ContractError(
                f"{spec.name}: the column {unread[0]!r} looks like do_not_call but is not mapped: "
                f"an ignored do-not-call column would call those members; map it "
                f"(columns: {{{unread[0]}: do_not_call}}), or, if it is not a do-not-call flag, say so in the "
                f"mapping (not_do_not_call: [{unread[0]}]), or remove it"
            )
    return mapping, ignored


def load_table(
    source: Any = None,
    table: str | TableSpec = "transactions",
    config: LoadConfig | dict | str | Path | None = None,
    as_of: str | pd.Timestamp | None = None,
) -> LoadResult:
    """Load one canonical table from a file, DataFrame or configured source.

    Rows that cannot be used go to ``result.rejects`` with a ``reason``;
    optional fields that cannot be parsed are blanked and counted. A missing
    required column raises ``ContractError`` naming it and listing the columns found.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or None, default None
        A CSV/TSV/TXT or Parquet file, or a DataFrame (every value is checked as if
        read as text). None: the ``source`` block of ``config`` says where to read
        (a path, a DuckDB table, or a database query through ``url_env``).
    table : str or TableSpec, default "transactions"
        The canonical table to make: ``transactions``, ``members`` or ``advisors``
        (the ``table`` of ``config`` wins when it names one).
    config : LoadConfig, dict, str, Path or None, default None
        How the export maps onto the table: a ``LoadConfig``, a mapping, or a mapping
        YAML file (``segkit.data.config`` shows its form). None: the source's columns
        already have the contract's names (case, spaces and hyphens aside).
    as_of : str, date or Timestamp, optional
        Transactions dated after this day are rejected.

    Returns
    -------
    LoadResult
        The canonical table (``table``, and compact as ``rows``), the ``rejects``
        with reasons and the ``report`` of every count.

    Raises
    ------
    ContractError
        The input cannot be mapped onto the table at all: a required column is missing
        (named, with the columns found), a column name appears twice, two columns could
        each be one canonical column, a column that looks like do-not-call is not mapped,
        a damaged line of a members file has no readable member id, the records do not add
        up, or the mapping configuration is invalid.
    FileNotFoundError
        The file or the mapping YAML does not exist.
    ValueError
        An unknown table name, or ``as_of`` is not a date.

    Examples
    --------
    The Chinese headers of a CRM export, mapped onto the contract; the row whose date
    cannot be read is a reject with its reason:

    >>> import pandas as pd
    >>> from segkit import load_table
    >>> export = pd.DataFrame({"会员编号": ["007", "008", "008"], "充装日期": ["2026-03-01", "2026-03-02", "March 3"],
    ...                        "金额": ["115.00", "80", "60"]})
    >>> mapping = {"columns": {"会员编号": "member_id", "充装日期": "date", "金额": "amount"}}
    >>> result = load_table(export, "transactions", mapping)
    >>> result
    <LoadResult transactions from <DataFrame>: read 3, used 2, rejected 1, duplicates 0 -> 2 rows>
    >>> result.table[["member_id", "date", "amount"]]
      member_id       date  amount
    0       007 2026-03-01   115.0
    1       008 2026-03-02    80.0
    >>> result.rejects[["source_row", "reason"]]
       source_row                     reason
    0           3  unparseable date: March 3
    """
    config = as_config(config)
    spec = spec_for(config.table or table)
    raw = read_source(source, config.source, keep_damaged=True, compact=True)
    pa.default_memory_pool().release_unused()  # the reader's blocks, now in the frame
    frame = _normalise_headers(raw.frame, raw.origin)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name=ROW)
    mapping, ignored = _map_columns(frame, spec, config)

    first_copy = _first_copies(frame) if config.drop_duplicates else pd.Series(dtype=np.int64)
    duplicate = pd.Series(_at_rows(frame.index, first_copy.index), index=frame.index)
    rejections = _Rejections(frame.index)
    parsed, blanked, fail_closed = _parse_columns(frame, spec, config, mapping, rejections)
    _check_rows(parsed, spec, config, as_of, rejections)
    if spec.key:
        candidates = ~duplicate & ~rejections.mask
        clash = parsed[candidates].duplicated(subset=list(spec.key)).reindex(frame.index, fill_value=False)
        rejections.add(clash, f"duplicate {spec.key[0]} with different values")
    rejected = rejections.mask & ~duplicate
    keep = ~(duplicate | rejected)
    if "do_not_call" in parsed:
        damaged_members = _members_on_damaged_lines(raw, mapping["member_id"])
        fail_closed.update(_do_not_call_wins(parsed, keep, damaged_members, raw.origin))

    reasons = rejections.counts(rejected)
    for damage in raw.damaged:
        key = DAMAGE_REASONS[damage.kind]
        reasons[key] = reasons.get(key, 0) + 1
    read, origin, encoding, damaged = len(frame), raw.origin, raw.encoding, len(raw.damaged)
    rejects = _rejects_frame(frame, first_copy, rejections.reasons(), raw)
    del raw, frame  # the rows as read (on 10M households, 7 GB) go before the table is made
    pa.default_memory_pool().release_unused()
    result = _finish(parsed if keep.all() else _rows_where(parsed, keep.to_numpy()), spec, config)
    del parsed
    report = LoadReport(
        spec.name,
        origin,
        encoding=encoding,
        read=read + damaged,
        used=int(keep.sum()),
        rejected=int(rejected.sum()) + damaged,
        duplicates=int(duplicate.sum()),
        rows_out=len(result),
        reasons=reasons,
        blanked=blanked,
        fail_closed=fail_closed,
        ignored_columns=ignored,
    )
    if not report.adds_up:
        accounted = report.used + report.rejected + report.duplicates
        raise ContractError(
            f"{origin}: {report.read:,} records read but {accounted:,} accounted for; the file is refused"
        )
    if spec.whole and report.rejected:
        first = rejects.loc[~rejects[ROW].isin(first_copy.index)].iloc[0]  # an exact copy is no loss
        where = f"line {first['line']}" if "line" in rejects else f"row {first['source_row']}"
        raise ContractError(
            f"{origin}: {report.rejected:,} row(s) cannot be used ({where}: {first['reason']}); every one counts "
            f"({spec.whole}): fix the file"
        )
    result.index = pd.RangeIndex(len(result))
    pa.default_memory_pool().release_unused()  # the text read is gone; give its memory back for what follows
    return LoadResult(result, rejects, report)


def _do_not_call_wins(parsed: pd.DataFrame, keep: pd.Series, damaged_members: set[str], origin: str) -> dict[str, int]:
    """A member any of whose rows (kept, duplicate or clashing) says do-not-call is not called, and neither is
    a member with a damaged line, whose flag cannot be read, nor one whose phone rings the line of a row
    without a member id that says do-not-call (that row is rejected; a row of the kind without a phone either
    refuses the file). Returns how many kept rows this turned."""
    said = parsed["do_not_call"].fillna(False).astype(bool)
    counts = {}
    for reason, members in (
        ("another row of the same member says do-not-call", set(parsed.loc[said, "member_id"].dropna())),
        ("a damaged line of the same member cannot be read", damaged_members),
    ):
        turned = keep & parsed["member_id"].isin(members) & ~parsed["do_not_call"].fillna(False).astype(bool)
        parsed.loc[turned, "do_not_call"] = True
        if turned.any():
            counts[reason] = int(turned.sum())
    nameless = said & parsed["member_id"].isna()
    if nameless.any():
        turned = keep & _on_lines_of(parsed, nameless, origin) & ~parsed["do_not_call"].fillna(False).astype(bool)
        parsed.loc[turned, "do_not_call"] = True
        if turned.any():
            counts["a row without a member id says do-not-call for the same phone"] = int(turned.sum())
    return counts


def _on_lines_of(parsed: pd.DataFrame, rows: pd.Series, origin: str) -> pd.Series:
    """Whether each row's phone rings the line of one of ``rows`` (rows without a member id that say
    do-not-call); such a row without a phone refuses the file: it may be anyone's."""
    phones = parsed["phone"] if "phone" in parsed else pd.Series(None, index=parsed.index, dtype=object)
    codes, distinct = pd.factorize(phones)
    lines = np.array([phone_line(phone) for phone in distinct] + [""], dtype=object)[codes]  # -1: no phone
    unknown = rows & (lines == "")
    if unknown.any():
        raise ContractError(
            f"{origin}: row {unknown.idxmax()} says do not call but has no member id and no phone that can be "
            "read: it may be someone's, and nobody would know whose; fix the row"
        )
    held = set(lines[rows.to_numpy()])
    return pd.Series(np.isin(lines, list(held)), index=parsed.index)


def _members_on_damaged_lines(raw: RawTable, id_column: str) -> set[str]:
    """The member ids of the damaged lines of a members file. A damaged line whose member cannot be told
    refuses the file: it may say do-not-call for someone, and nobody would know whom."""
    if not raw.damaged:
        return set()
    position = list(raw.frame.columns).index(id_column)
    ids = []
    for damage in raw.damaged:
        fields = raw.damaged_fields(damage)
        value = fields[position] if position < len(fields) else ""
        ids.append("" if re.search(rf'["\n{re.escape(raw.sep or " ")}]', value) else value)  # a field that ran on
    parsed, _ = parse.parse_ids(pd.Series(ids, dtype=object))
    unknown = [damage.line for damage, member in zip(raw.damaged, parsed) if member is None]
    if unknown:
        raise ContractError(
            f"{raw.origin}: line {unknown[0]} holds no usable record and no readable member id; it "
            "may say do not call for someone: fix the line"
        )
    return set(parsed)


def _unreadable_refused(
    spec: TableSpec, column: str, mapping: dict[str, str], frame: pd.DataFrame, bad: pd.Series
) -> ContractError:
    first = int(np.flatnonzero(bad.to_numpy())[0])
    key = spec.key[0] if spec.key and spec.key[0] in mapping else None
    whose = f" ({key} {frame[mapping[key]].iloc[first]!r})" if key else ""
    return ContractError(
        f"{spec.name}: {column} {frame[mapping[column]].iloc[first]!r}{whose} cannot be read "
        f"({int(bad.sum()):,} such value(s)); write {REFUSED_WHEN_UNREADABLE[column]}: it is not guessed"
    )


def _parse_column(kind: str, column: str, values: pd.Series, config: LoadConfig) -> tuple[pd.Series, pd.Series]:
    if kind == DATE:
        return parse.dates_with_problems(values, config.date_format)
    if kind in (NUMBER, INTEGER):
        return _PARSERS[kind](values, decimal=config.decimal)
    if kind == FLAG:
        yes, no = FLAG_WORDS.get(column, (frozenset(), frozenset()))
        return parse.flags_with_problems(values, yes, no, frozenset() if column == "do_not_call" else PLACEHOLDERS)
    return _PARSERS[kind](values)


def _parse_columns(
    frame: pd.DataFrame, spec: TableSpec, config: LoadConfig, mapping: dict[str, str], rejections: _Rejections
) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """Parse each mapped column by its kind; required ones reject, optional ones blank, and an unreadable
    ``do_not_call`` counts as do-not-call. Returns the parsed columns and the counts blanked and failed closed."""
    parsed: dict[str, pd.Series] = {}  # gathered, then made a frame without copying (assignment would copy)
    blanked: dict[str, int] = {}
    fail_closed: dict[str, int] = {}
    columns = [c for c in spec.columns if c in mapping]
    with progress(f"checking {spec.name}", total=len(columns), unit="columns", show=len(frame) >= BIG) as bar:
        for column in columns:
            values = frame[mapping[column]]
            try:
                parsed[column], problem = _parse_column(spec.columns[column], column, values, config)
            except TypeError as error:  # a cell no parser can read: a list or a record
                raise _nested_refused(spec.name, column, mapping[column], values, error) from error
            except (parse.LostDigits, UnicodeDecodeError) as error:
                source = mapping[column]
                named = repr(source) if source == column else f"{source!r} ({column})"
                if isinstance(error, UnicodeDecodeError):  # a Parquet binary column
                    raise ContractError(
                        f"{spec.name}: column {named} holds bytes that are not text ({error.object[:12]!r}): "
                        "export it as text"
                    ) from None
                raise ContractError(
                    f"{spec.name}: column {named} holds numbers stored as floating-point, such as {error}, too large "
                    "for it to have kept every digit (two values may have become one): export the column as text"
                ) from None
            if column in spec.required:
                rejections.add(parse.missing_mask(values), f"missing {column}")
            codes = problem.cat.codes.to_numpy()
            for position in np.flatnonzero(parse.code_counts(codes, len(parse.PROBLEMS))[1:]) + 1:
                bad = pd.Series(codes == position, index=problem.index)
                reason = parse.PROBLEMS[position].format(column=column)
                if column in spec.required:
                    rejections.add(bad, reason, values)
                elif column in REFUSED_WHEN_UNREADABLE:
                    raise _unreadable_refused(spec, column, mapping, frame, bad)
                elif column in FAIL_CLOSED:
                    parsed[column] = parsed[column].mask(bad, True)
                    fail_closed[FAIL_CLOSED[column]] = fail_closed.get(FAIL_CLOSED[column], 0) + int(bad.sum())
                else:
                    blanked[reason] = int(bad.sum())
            pa.default_memory_pool().release_unused()  # the column's working copies
            bar.update()
    if config.amount:
        factors = []
        for name in config.amount["multiply"]:
            if name not in frame.columns:
                raise ContractError(
                    f"amount.multiply names '{name}', which is not a column; columns found: {', '.join(frame.columns)}"
                )
            try:
                values, bad = parse.parse_numbers(frame[name], decimal=config.decimal)
            except TypeError as error:
                raise _nested_refused(spec.name, "amount", name, frame[name], error) from error
            rejections.add(parse.missing_mask(frame[name]) | bad, f"unparseable {name}", frame[name])
            factors.append(values)
        parsed["amount"] = pd.Series(np.prod(factors, axis=0), index=frame.index)
    if "amount" in parsed:  # compared as it is: its absolute values would be a copy (860 MB on 10M households)
        amount = parsed["amount"].to_numpy()
        outside = (amount > parse.MAX_ABS_NUMBER) | (amount < -parse.MAX_ABS_NUMBER)
        rejections.add(pd.Series(outside, index=frame.index), "amount out of range")
    return pd.DataFrame(parsed, index=frame.index, copy=False), blanked, fail_closed


def _check_rows(parsed: pd.DataFrame, spec: TableSpec, config: LoadConfig, as_of, rejections: _Rejections) -> None:
    """Row rules beyond parsing: no dates after the as-of date, no excluded statuses."""
    if as_of is not None and "date" in spec.required:
        as_of = parse.parse_day(as_of)
        rejections.add(parsed["date"] > as_of, f"date after as-of date {as_of.date()}")
    if config.exclude_statuses and "status" in parsed:
        codes, statuses = pd.factorize(parsed["status"])  # each distinct status once, not a string per row
        named = (
            pd.Series(statuses, dtype=object).astype(str).str.lower().isin([s.lower() for s in config.exclude_statuses])
        )
        excluded = pd.Series(np.append(named.to_numpy(), False)[codes], index=parsed.index)
        rejections.add(excluded, "excluded status", parsed["status"])


def _first_copies(frame: pd.DataFrame) -> pd.Series:
    """For each row identical in every column to an earlier one (by ``source_row``), the ``source_row`` of the
    first such row. Rows are hashed in DuckDB, and only rows whose hash repeats are compared in full: pandas
    would turn every value of a 16M-row file into a Python string to compare them."""
    import duckdb

    if frame.empty:
        return pd.Series(dtype=np.int64)
    try:
        repeated = _repeated(_row_hashes(frame))
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        OverflowError,
        duckdb.NotImplementedException,
    ):
        # a column of mixed Python types (from a DataFrame), of values Arrow cannot hold (complex numbers, integers
        # beyond 64 bits), or of a type DuckDB cannot hash (float16)
        frame = frame.apply(_hashable)
        repeated = frame.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return pd.Series(dtype=np.int64)
    candidates = _with_python_text(frame[repeated]).apply(_hashable)
    group = candidates.groupby(list(candidates.columns), dropna=False, sort=False).ngroup()
    rows = candidates.index.to_series()
    first_row = rows.groupby(group.to_numpy()).transform("first")
    return first_row[first_row != rows].astype(np.int64)


def _hashable(values: pd.Series) -> pd.Series:
    """A column with its lists, records, arrays and other unhashable cells as exact stand-ins (``_comparable``),
    so that rows can be compared (half floats as float32, which pandas groups); other values as they are."""
    if values.dtype == np.float16:
        return values.astype(np.float32)
    if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) not in ("mixed", "mixed-integer"):
        return values  # text, numbers, dates: what nearly every column holds, seen in C without a Python call
    return values.map(_comparable)


def _comparable(value: Any) -> Any:
    """A hashable stand-in for a cell, equal exactly when the cells are equal: containers by their contents
    (their text would not do: it rounds floats to 8 digits and shortens long arrays, so two different rows
    would be dropped as duplicates), anything else unhashable by identity, never a duplicate of another."""
    if isinstance(value, np.ndarray):
        if value.dtype != object:
            return ("ndarray", value.dtype.str, value.shape, value.tobytes())
        return ("ndarray", value.shape, tuple(_comparable(item) for item in value.ravel()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_comparable(item) for item in value))
    if isinstance(value, dict):
        return ("dict", frozenset((key, _comparable(item)) for key, item in value.items()))
    if isinstance(value, (set, frozenset)):
        return (type(value).__name__, frozenset(_comparable(item) for item in value))
    if isinstance(value, bytearray):
        return ("bytearray", bytes(value))
    return value if _is_hashable(value) else ("unhashable", id(value))


def _is_hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _nested_refused(table: str, column: str, source: str, values: pd.Series, error: TypeError) -> ContractError:
    """The error for a contract column holding lists, records or other values no parser reads (a Parquet struct,
    a dict or bytearray in a DataFrame cell): guessing at one would load something no one exported. ``error``
    is raised again where no such value is found."""
    unreadable = values.map(lambda value: not _is_hashable(value)).to_numpy(dtype=bool)
    if not unreadable.any():
        raise error
    row = values.index[unreadable.argmax()]
    named = repr(source) if source == column else f"{source!r} ({column})"
    return ContractError(
        f"{table}: column {named} holds lists or records, not text, numbers or dates "
        f"(row {row}: {repr(values[row])[:60]}); flatten it before loading"
    )


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """DuckDB's hash of each row, a block of rows at a time (a hash of every row at once held 8 GB besides the
    rows on 10M households). Columns go to Arrow once, without copies; -0.0 is hashed as 0.0, which pandas
    takes as equal."""
    import duckdb

    table = pa.table({f"c{i}": _as_arrow(frame.iloc[:, i]) for i in range(frame.shape[1])})
    columns = ", ".join(
        f"{name} + 0.0" if pa.types.is_floating(table.schema.field(name).type) else name for name in table.column_names
    )
    query = f"select hash({columns}) as h from rows_read"
    hashes = np.empty(len(frame), dtype=np.uint64)
    with duckdb.connect() as con:
        for start in range(0, len(frame), _HASH_ROWS):
            block = table.slice(start, _HASH_ROWS)
            con.register("rows_read", block)
            hashes[start : start + len(block)] = con.sql(query).fetchnumpy()["h"]
            con.unregister("rows_read")
    return hashes


def _repeated(hashes: np.ndarray) -> np.ndarray:
    """Where a hash occurs more than once. The hashes are sorted a sixteenth at a time, by their top four bits
    (a sorted copy of them all took 860 MB more on 10M households)."""
    blocks = [hashes[start : start + _HASH_ROWS] for start in range(0, len(hashes), _HASH_ROWS)]  # views
    parts = []
    for top in np.arange(16, dtype=np.uint64):
        part = np.sort(np.concatenate([block[block >> np.uint64(60) == top] for block in blocks] + [hashes[:0]]))
        parts.append(np.unique(part[1:][part[1:] == part[:-1]]))
    twice = np.concatenate(parts)  # sorted: each sixteenth's hashes are larger than the one's before
    repeated = np.zeros(len(hashes), dtype=bool)
    if len(twice):
        start = 0
        for block in blocks:
            at = np.minimum(np.searchsorted(twice, block), len(twice) - 1)
            repeated[start : start + len(block)] = twice[at] == block
            start += len(block)
    return repeated


def _as_arrow(values: pd.Series) -> pa.Array:
    """A column in Arrow to hash (NaN stays NaN, not missing), sharing the memory of numbers. A categorical as
    its codes, which are equal exactly where its values are: its categories, 10M member ids on 10M households,
    would be made Arrow text, and DuckDB would read them all again for every block of rows."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pa.array(values.cat.codes.to_numpy())
    if values.dtype == np.float16:  # DuckDB does not hash half floats; float32 holds each of them exactly
        return pa.array(values.to_numpy(dtype=np.float32))
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiub":
        return pa.array(values.to_numpy())
    return pa.array(values.array)


def _at_rows(index: pd.Index, rows: pd.Index) -> np.ndarray:
    """True at the ``rows`` of ``index`` (``index.isin`` would first write out a number per row of the file)."""
    mask = np.zeros(len(index), dtype=bool)
    mask[index.get_indexer(rows)] = True
    return mask


def _rejects_frame(frame: pd.DataFrame, first_copy: pd.Series, reasons: pd.Series, raw: RawTable) -> pd.DataFrame:
    """Rejected rows as read, with ``source_row`` (and the file's ``line`` for text files) and ``reason`` (a
    duplicate's reason is that it is one); damaged lines as ``raw_line``, in the order of the file."""
    duplicates = pd.Series([f"duplicate of row {r}" for r in first_copy], index=first_copy.index, dtype=object)
    reasons = pd.concat([reasons.drop(first_copy.index, errors="ignore"), duplicates]).sort_index()
    rejected = _at_rows(frame.index, reasons.index)  # in the order of the rows, as the reasons are
    rejects = _rows_where(frame, rejected).assign(reason=reasons.to_numpy()).reset_index()
    if raw.lines is not None:
        rejects.insert(1, LINE, raw.lines[rejected])
    if raw.damaged:
        broken = pd.DataFrame(
            {
                LINE: [d.line for d in raw.damaged],
                "raw_line": [d.text for d in raw.damaged],
                "reason": [d.reason for d in raw.damaged],
            }
        )
        rejects = pd.concat([rejects, broken], ignore_index=True).sort_values(LINE, kind="stable")
    rejects[ROW] = rejects[ROW].astype("Int64")
    if LINE in rejects:
        rejects[LINE] = rejects[LINE].astype("Int64")
    return rejects.reset_index(drop=True)


def _rows_where(frame: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """``frame[mask]``, with Arrow text filtered a block at a time and the index taken, not made: pandas takes
    rows by position, and Arrow's take joins all of a column's blocks into one first (1.7 GB of order ids on 10M
    households, even for no row at all), as a row index picked by a mask first writes out every row number."""
    columns = {name: parse.picked(frame[name].array, mask) for name in frame.columns}
    return pd.DataFrame(columns, index=frame.index.take(np.flatnonzero(mask)), copy=False)


def _finish(table: pd.DataFrame, spec: TableSpec, config: LoadConfig) -> pd.DataFrame:
    """Fill absent optional columns, apply order rules, fix the column order (the columns are not copied)."""
    columns = {}
    for column, kind in spec.columns.items():
        if column in table:
            defaulted = kind == FLAG and column in FLAG_DEFAULTS
            columns[column] = table[column].fillna(FLAG_DEFAULTS[column]) if defaulted else table[column]
        elif kind == FLAG:
            columns[column] = pd.array([FLAG_DEFAULTS.get(column)] * len(table), dtype="boolean")
        elif kind == INTEGER:
            columns[column] = pd.array([None] * len(table), dtype="Int64")
        elif kind == NUMBER:
            columns[column] = np.full(len(table), np.nan)
        elif kind == DATE:
            columns[column] = np.full(len(table), np.datetime64("NaT"), dtype="datetime64[ns]")
        else:
            columns[column] = pd.arrays.ArrowExtensionArray(pa.nulls(len(table), pa.string()))
    table = pd.DataFrame(columns, index=table.index, copy=False)
    if spec.name == "transactions" and (config.return_order_prefix or config.combine_order_lines):
        table = _with_python_text(table)
        if config.return_order_prefix:
            is_return = table["order_id"].fillna("").str.startswith(config.return_order_prefix)
            table.loc[is_return & table["status"].isna(), "status"] = "return"
        if config.combine_order_lines:
            table = combine_order_lines(table)
        table = table[list(spec.columns)]
    return table


def _with_python_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its compact text columns as Python strings."""
    out = frame.copy(deep=False)
    for column in out.columns:
        out[column] = parse.as_python_text(out[column])
    return out


def combine_order_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """One transaction per (member_id, order_id): amounts and quantities summed.

    Lines without an order id stay as they are. The earliest date of the order
    is its date; product, channel and status come from its first line. The
    index keeps the source row of that first line.
    """
    has_order = lines["order_id"].notna()
    keyed = lines[has_order]
    grouped = keyed.reset_index().groupby(["member_id", "order_id"], sort=False, dropna=False)
    combined = grouped.agg(
        **{ROW: (ROW, "first")},
        date=("date", "min"),
        amount=("amount", "sum"),
        quantity=("quantity", "sum"),
        quantities=("quantity", "count"),
        product=("product", "first"),
        channel=("channel", "first"),
        status=("status", "first"),
    )
    combined["quantity"] = combined["quantity"].where(combined.pop("quantities") > 0)
    combined = combined.reset_index().set_index(ROW)
    return pd.concat([combined, lines[~has_order]]).sort_index()


def load_transactions(source: Any = None, config=None, as_of=None) -> LoadResult:
    """Load transactions (``member_id``, ``date``, ``amount`` + optional columns).

    ``load_table(source, "transactions", config, as_of)``: ids stay text (``007``
    stays ``007``), dates and amounts are parsed, and every row that cannot be used
    is a reject with its reason. Optional columns: ``order_id``, ``quantity``,
    ``product``, ``channel``, ``status``.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or None, default None
        A CSV/TSV/TXT or Parquet file or a DataFrame; None: the ``source`` block of
        ``config``.
    config : LoadConfig, dict, str, Path or None, default None
        The column mapping and parsing options (``LoadConfig``, a mapping or a YAML
        path); None: the source's columns already have the contract's names.
    as_of : str, date or Timestamp, optional
        Transactions dated after this day are rejected.

    Returns
    -------
    LoadResult
        The canonical transactions, their rejects and the load report.

    Raises
    ------
    ContractError
        A required column is missing (named, with the columns found) or the input
        cannot be mapped onto the table (see ``load_table``).
    FileNotFoundError
        The file or the mapping YAML does not exist.
    ValueError
        ``as_of`` is not a date.

    Examples
    --------
    >>> import pandas as pd
    >>> from segkit import ContractError, load_transactions
    >>> raw = pd.DataFrame({"member_id": ["007", "008", "009"], "date": ["2026-03-01", "2026-03-02", "2026-04-02"],
    ...                     "amount": ["115.00", "80", "60"]})
    >>> result = load_transactions(raw, as_of="2026-03-31")
    >>> result.summary()
        outcome                            reason  rows
    0      used                                       2
    1  duplicate                                      0
    2  rejected  date after as-of date 2026-03-31     1
    >>> load_transactions(raw.drop(columns="amount"))
    Traceback (most recent call last):
    ...
    segkit.data.contract.ContractError: transactions: missing required column amount; columns found: member_id, date
    """
    return load_table(source, "transactions", config, as_of)


def load_members(source: Any = None, config=None) -> LoadResult:
    """Load members (``member_id`` + optional profile columns).

    ``load_table(source, "members", config)``. Optional columns: ``name``, ``phone``,
    ``join_date``, ``tier``, ``household_size``, ``birthday``, ``advisor_id``,
    ``do_not_call``, ``wants_new_advisor``. Safety flags fail closed: a
    ``do_not_call`` value that cannot be read counts as do-not-call, and so does a
    member any of whose rows says so.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or None, default None
        A CSV/TSV/TXT or Parquet file or a DataFrame; None: the ``source`` block of
        ``config``.
    config : LoadConfig, dict, str, Path or None, default None
        The column mapping and parsing options; None: the source's columns already
        have the contract's names.

    Returns
    -------
    LoadResult
        The canonical members (one row per ``member_id``), their rejects and the load
        report.

    Raises
    ------
    ContractError
        ``member_id`` is missing, a column that looks like do-not-call (``DNC``,
        ``勿扰``) is not mapped, a damaged line has no readable member id, or the input
        cannot be mapped onto the table (see ``load_table``).
    FileNotFoundError
        The file or the mapping YAML does not exist.

    Examples
    --------
    >>> import pandas as pd
    >>> from segkit import load_members
    >>> raw = pd.DataFrame({"member_id": ["007", "008"], "phone": ["13800138000", "unknown"],
    ...                     "do_not_call": ["no", "勿扰"]})
    >>> members = load_members(raw)
    >>> members.table[["member_id", "phone", "do_not_call"]]
      member_id        phone  do_not_call
    0       007  13800138000        False
    1       008         None         True
    >>> members.report.blanked
    {'unparseable phone': 1}
    """
    return load_table(source, "members", config)


def load_advisors(source: Any = None, config=None) -> LoadResult:
    """Load advisors (``advisor_id``, ``level`` + optional columns).

    ``load_table(source, "advisors", config)``. ``level`` is the advisor's seniority
    on the members' grade scale (1 = lowest). Optional columns: ``name``, ``team``,
    ``capacity_min``, ``capacity_max`` (members in the book), ``daily_calls`` (calls a day, for call lists),
    ``active``.

    Parameters
    ----------
    source : str, Path, pandas.DataFrame or None, default None
        A CSV/TSV/TXT or Parquet file or a DataFrame; None: the ``source`` block of
        ``config``.
    config : LoadConfig, dict, str, Path or None, default None
        The column mapping and parsing options; None: the source's columns already
        have the contract's names.

    Returns
    -------
    LoadResult
        The canonical advisors (one row per ``advisor_id``), their rejects and the
        load report.

    Raises
    ------
    ContractError
        ``advisor_id`` or ``level`` is missing, the input cannot be mapped onto the
        table (see ``load_table``), or a row would be a reject: an advisor is not set
        aside, since their whole book would be handed over.
    FileNotFoundError
        The file or the mapping YAML does not exist.

    Examples
    --------
    >>> import pandas as pd
    >>> from segkit import load_advisors
    >>> load_advisors(pd.DataFrame({"advisor_id": ["A1", "A2"], "level": ["3", "2"], "active": ["是", "否"]}))
    <LoadResult advisors from <DataFrame>: read 2, used 2, rejected 0, duplicates 0 -> 2 rows>
    >>> load_advisors(pd.DataFrame({"advisor_id": ["A1", "A2"], "level": ["3", "two"]}))
    Traceback (most recent call last):
    segkit.data.contract.ContractError: <DataFrame>: 1 row(s) cannot be used (row 2: unparseable level: two); ...
    """
    return load_table(source, "advisors", config)
