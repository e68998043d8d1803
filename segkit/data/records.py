"""The records of a delimited text file, counted from its lines before any parser sees it.

A CSV parser that meets an unterminated quote reads on to the end of the file
and returns one record where the file has a hundred; a quote that closes 48
lines later merges those lines into one field. The counts then "add up" to
what the parser returned, and the lost rows are never seen. So segkit decides
line by line, from the text itself, which lines are records:

* a line with the header's number of fields, quotes only around whole fields,
  is a record (checked for all lines at once with one RE2 pattern in Arrow);
* a quoted field may run over several lines (an address typed with line breaks
  in Excel): the record is kept when it closes cleanly with the header's number
  of fields and none of its later lines is a whole record by itself (that would
  be records swallowed by a stray quote);
* a carriage return inside a line (where lines end in LF or CRLF) is damage:
  spreadsheets and parsers disagree on whether it ends the record;
* anything else is damage: the line where it starts goes to the rejects with a
  reason, and the scan resumes on the next line, so one stray quote costs one
  line, not the rest of the file.

Blank lines are not records. The parser then reads only the records found
here, and must return exactly as many, or the file is refused.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .contract import ContractError

WHITESPACE = None  # the separator of whitespace-aligned files (CDNOW)
MAX_COLUMNS = 1000  # RE2 repeats a group at most 1000 times
_BLOCK = 1 << 26  # bytes scanned per block when looking for line ends
_LINES = 1 << 22  # lines matched per block against a pattern

DAMAGE_REASONS = {
    "fields": "wrong number of fields",
    "unterminated": "unterminated quote",
    "after_quote": "text after a closing quote",
    "swallowed": "stray quote",
    "nul": "NUL byte",
    "cr": "carriage return inside a line",
}


@dataclass
class Damage:
    """A physical line that is not a usable record, and why."""

    line: int  # 1 = the first line of the file
    text: str
    kind: str  # a key of DAMAGE_REASONS
    detail: str

    @property
    def reason(self) -> str:
        return f"{DAMAGE_REASONS[self.kind]} ({self.detail})"


class Text:
    """UTF-8 text with ``\\n`` line ends, read from a file a range at a time (a CSV of gigabytes is never held in
    memory): the file from ``start`` on (after a byte-order mark), its first ``blank`` bytes read as spaces (Excel's
    "sep=;" line: a blank line, so that lines keep their numbers). ``origin`` names the user's file in errors."""

    def __init__(self, path: Path, origin: str, start: int = 0):
        self.handle = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by ``close``, or as a context manager)
        self.origin, self.start, self.blank = origin, start, 0
        self.size = max(os.fstat(self.handle.fileno()).st_size - start, 0)

    def read(self, start: int, end: int) -> bytes:
        """The bytes from ``start`` to ``end`` (cut at the end of the text). A file that is shorter than when it
        was opened changed while it was being read, and is refused."""
        end = min(end, self.size)
        parts, offset = [], start
        while offset < end:
            part = os.pread(self.handle.fileno(), min(end - offset, _BLOCK), self.start + offset)
            if not part:
                raise ContractError(changed_while_read(self.origin))
            parts.append(part)
            offset += len(part)
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if start < self.blank:
            data = b" " * (min(end, self.blank) - start) + data[self.blank - start :]
        return data

    def blocks(self, size: int = 0, end: int | None = None):
        """The text (up to ``end``) a block at a time, with each block's offset."""
        size, end = size or _BLOCK, self.size if end is None else min(end, self.size)
        for start in range(0, end, size):
            yield start, self.read(start, min(start + size, end))

    def close(self) -> None:
        self.handle.close()

    def __enter__(self) -> Text:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def changed_while_read(origin: str) -> str:
    return f"{origin}: the file changed while it was being read; read it again when it is complete"


class RecordLines:
    """The line of the file each record starts on, kept as a flag per line of the file: a byte a line, where the
    numbers themselves took eight bytes a record (860 MB on 107M rows, held while the load goes on)."""

    def __init__(self, starts: np.ndarray):
        self.starts, self.block = starts, _LINES
        counts = [np.count_nonzero(starts[first : first + self.block]) for first in range(0, len(starts), self.block)]
        self.before = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])  # records before each block

    def __len__(self) -> int:
        return int(self.before[-1])

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        """The lines (the first is 1) of the records at ``rows``: their positions, or a mask over the records."""
        rows = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.int64)
        lines = np.empty(len(rows), dtype=np.int64)
        blocks = np.searchsorted(self.before, rows, side="right") - 1
        for block in np.unique(blocks):
            here = blocks == block
            first = int(block) * self.block
            starts = np.flatnonzero(self.starts[first : first + self.block])
            lines[here] = starts[rows[here] - self.before[block]] + first + 1
        return lines


@dataclass
class Records:
    """What the lines of a file hold: the header, the records (where they are in the text, for the parser, and
    the line each starts on) and the damaged lines."""

    header: list[str] | None
    columns: int
    text: Text  # the text split
    runs: np.ndarray  # start and end offsets in ``text`` of each run of kept lines: the header (if any), the records
    whole: bool  # every line of ``text`` is kept
    lines: RecordLines  # the first physical line of each record
    damaged: list[Damage] = field(default_factory=list)
    multiline: bool = False  # some record runs over several lines (a quoted line break)

    def body(self) -> bytes:
        """The kept lines, for the parser (of runs of whitespace: pandas reads bytes)."""
        return b"".join(self.text.read(start, end) for start, end in self.runs)

    def write_body(self, target) -> None:
        """Write the kept lines to ``target`` a block at a time."""
        with open(target, "wb") as out:
            for start, end in self.runs:
                for block in range(start, end, _BLOCK):
                    out.write(self.text.read(block, min(block + _BLOCK, end)))


def split_records(
    text: Text, sep: str | None, origin: str, header: bool = True, names: list[str] | None = None
) -> Records:
    """Find the records of ``text`` separated by ``sep`` (``WHITESPACE``: runs of spaces and tabs, quotes not
    special). ``origin`` names the file in errors."""
    ends = _line_ends(text)
    count = len(ends)
    blank = _matching(text, ends, r"^\s*$")
    text_of = _TextOf(text, ends)
    first = int(np.argmax(~blank)) if (~blank).any() else count
    header_fields = None
    if names:
        columns, body_from = len(names), first
    elif first == count:
        raise ContractError(f"{origin}: the file is empty")
    else:
        fields, span, problem = _fields(text_of, first, count, sep)
        if problem or span > 1:
            raise ContractError(
                f"{origin}: line {first + 1}: the {'header' if header else 'first line'} cannot be "
                f"read: {problem.reason if problem else 'a quote runs over several lines'}"
            )
        columns = len(fields)
        header_fields = fields if header else None
        body_from = first + 1 if header else first
    if columns > MAX_COLUMNS + 1:
        raise ContractError(f"{origin}: {columns} columns; at most {MAX_COLUMNS + 1} are supported")

    whole = _matching(text, ends, _record_pattern(sep, columns))
    record = whole & ~blank
    record[:body_from] = False
    keep = record.copy()
    if header_fields is not None:
        keep[first] = True
    damaged: list[Damage] = []
    suspect = ~whole & ~blank
    suspect[:body_from] = False
    for line in np.flatnonzero(suspect):
        if keep[line] and not record[line]:
            continue  # inside a multi-line record found earlier
        fields, span, problem = _fields(text_of, int(line), count, sep, columns)
        if problem is None and span > 1 and whole[line + 1 : line + span].any():
            inner = int(np.flatnonzero(whole[line + 1 : line + span])[0]) + line + 2
            problem = Damage(
                0, "", "swallowed", f"the quote opened here would swallow line {inner}, a whole record by itself"
            )
        if problem is None and len(fields) != columns:
            problem = Damage(0, "", "fields", f"{len(fields)}, expected {columns}")
        if problem is not None:
            shown = text_of(int(line)).replace("\x00", "\\x00").replace("\r", "\\r")
            damaged.append(Damage(int(line) + 1, shown, problem.kind, problem.detail))
            continue
        record[line] = keep[line] = True
        keep[line + 1 : line + span] = True
        record[line + 1 : line + span] = False
    multiline = int(keep.sum()) - (header_fields is not None) > int(record.sum())
    return Records(
        header_fields,
        columns,
        text,
        _runs(text.size, ends, keep),
        bool(keep.all()),
        RecordLines(record),
        damaged,
        multiline,
    )


def _line_ends(text: Text) -> np.ndarray:
    """Offsets of every ``\\n``, plus the end of a last line without one: 8 bytes a line, made once (each block's
    offsets go as they are copied)."""
    blocks = [np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + start for start, data in text.blocks()]
    unterminated = bool(text.size) and text.read(text.size - 1, text.size) != b"\n"
    ends = np.empty(sum(len(block) for block in blocks) + unterminated, dtype=np.int64)
    done = 0
    while blocks:
        block = blocks.pop(0)
        ends[done : done + len(block)] = block
        done += len(block)
    if unterminated:
        ends[-1] = text.size
    return ends


def _matching(text: Text, ends: np.ndarray, pattern: str) -> np.ndarray:
    """Whether each line (with its ``\\n``) matches ``pattern``, checked in Arrow ``_LINES`` lines at a time (the
    offsets of every line at once took 8 bytes a line, again), read from the file as they are checked."""
    matches = np.empty(len(ends), dtype=bool)
    for first in range(0, len(ends), _LINES):
        last = min(first + _LINES, len(ends))
        offsets = np.empty(last - first + 1, dtype=np.int64)
        offsets[0] = ends[first - 1] + 1 if first else 0
        np.minimum(ends[first:last] + 1, text.size, out=offsets[1:])
        data = text.read(int(offsets[0]), int(offsets[-1]))
        offsets -= offsets[0]
        lines = pa.LargeStringArray.from_buffers(last - first, pa.py_buffer(offsets), pa.py_buffer(data))
        matches[first:last] = pc.match_substring_regex(lines, pattern).to_numpy(zero_copy_only=False)
    return matches


def _record_pattern(sep: str | None, columns: int) -> str:
    """One line holding exactly ``columns`` fields, quotes only around whole fields."""
    if sep is WHITESPACE:
        token = r"[^\s\x00]+"  # \s includes \r: a carriage return inside a line never matches
        return rf"^[ \t]*{token}(?:[ \t]+{token}){{{columns - 1}}}[ \t]*\n?$"
    s = re.escape(sep)
    quoted = r'"(?:[^"\x00\r]|"")*"'
    plain = rf'(?:[^"{s}\n\r\x00][^{s}\n\r\x00]*)?'
    one = f"(?:{quoted}|{plain})"
    return rf"^{one}(?:{s}{one}){{{columns - 1}}}\n?$"


class _TextOf:
    """The text of physical lines, read and decoded on demand."""

    def __init__(self, text: Text, ends: np.ndarray):
        self.text, self.ends = text, ends

    def __call__(self, line: int) -> str:
        data = self.text.read(int(self.ends[line - 1]) + 1 if line else 0, int(self.ends[line]))
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:  # the text was checked: the file was written to since
            raise ContractError(changed_while_read(self.text.origin)) from None


def _fields(
    text_of: _TextOf, line: int, count: int, sep: str | None, columns: int | None = None
) -> tuple[list[str] | None, int, Damage | None]:
    """Read the record that starts on ``line`` by the rules of RFC 4180 (a quote opens a field only at its start,
    ``""`` inside quotes is a quote); it may continue on later lines inside quotes. Returns its fields and the
    number of lines it spans, or the damage that stops it (a span of 1: only its first line is damaged)."""
    if sep is WHITESPACE:
        text = text_of(line)
        if "\x00" in text:
            return None, 1, Damage(0, "", "nul", "in a value")
        if "\r" in text:
            return None, 1, Damage(0, "", "cr", "where lines end in a line feed")
        fields = text.split()
        if columns is not None and len(fields) != columns:
            return None, 1, Damage(0, "", "fields", f"{len(fields)}, expected {columns}")
        return fields, 1, None
    fields, value = [], []
    in_quotes = closed = False
    current, text, position = line, text_of(line), 0
    while True:
        if position == len(text):
            if in_quotes:  # the quoted field goes on with the next line
                current += 1
                if current == count:
                    return None, 1, Damage(0, "", "unterminated", "opened on this line, never closed")
                value.append("\n")
                text, position = text_of(current), 0
                continue
            fields.append("".join(value))
            return fields, current - line + 1, None
        char = text[position]
        position += 1
        if char == "\x00":
            return None, 1, Damage(0, "", "nul", "in a value")
        if char == "\r":
            return None, 1, Damage(0, "", "cr", "where lines end in a line feed")
        if in_quotes:
            if char != '"':
                value.append(char)
            elif text[position : position + 1] == '"':
                value.append('"')
                position += 1
            else:
                in_quotes, closed = False, True
        elif char == sep:
            fields.append("".join(value))
            value, closed = [], False
        elif closed:
            return None, 1, Damage(0, "", "after_quote", f"{char!r} after the closing quote of field {len(fields) + 1}")
        elif char == '"' and not value:
            in_quotes = True
        else:
            value.append(char)


def _runs(size: int, ends: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The start and end offsets of each run of kept lines (in a text of ``size`` bytes)."""
    edges = np.flatnonzero(np.diff(np.concatenate([[False], keep, [False]]).astype(np.int8)))
    first, last = edges[::2], edges[1::2] - 1
    starts = np.where(first > 0, ends[first - 1] + 1, 0)
    return np.stack([starts, np.minimum(ends[last] + 1, size)], axis=1).reshape(-1, 2)
