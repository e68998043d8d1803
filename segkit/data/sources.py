"""Read raw rows from where CRM data lives: CSV, Parquet, DuckDB, SQL databases.

CSV is read as text (every cell a string) so that nothing is reinterpreted
before the contract checks it: ``007`` stays ``007``, a bad date stays visible.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from ..privacy import ambiguous_password, mask_url, mask_urls_in
from .contract import ContractError
from .parse import text_from_codes
from .records import WHITESPACE, Damage, RecordLines, Records, Text, changed_while_read, split_records

_SAMPLE_BYTES = 1 << 20
_DECODE_BLOCK = 1 << 26  # bytes of a file in another encoding decoded at a time
# Codecs whose incremental decoder reads blocks exactly as it reads the whole: the loader's own detections, the
# Chinese, Japanese and Korean multibyte codecs, fixed-width Unicode and single-byte codecs. Others (escapes and
# shifts: hz, iso2022, utf-7, punycode, unicode_escape) read a character cut between blocks differently, and are
# decoded whole.
_BLOCKWISE = frozenset(
    "gb18030 gbk gb2312 big5 big5hkscs cp950 shift_jis cp932 euc_jp euc_kr cp949 utf-16 utf-16-le utf-16-be "
    "utf-32 utf-32-le utf-32-be utf-8-sig iso8859-1 cp1252 ascii".split()
)
_ARROW_BLOCK = 1 << 25  # bytes per block of Arrow's CSV reader
_PARQUET_BATCH = 1 << 20  # rows per block read from a Parquet file
_MERGE_VALUES = 1 << 24  # values of the blocks' own dictionaries held before they are merged (_Dictionary)
_DISTINCT_BLOCK, _MIN_BLOCK_ROWS = 0.99, 10_000  # a block this distinct is of a column kept as text (order ids)
_SEPARATORS = [",", "\t", ";", "|"]
_EXCEL_SEPARATOR = re.compile(rb"sep=([,;\t|])")


@dataclass
class RawTable:
    """Rows as read, plus where they came from; for text files also the line each row starts on and the lines
    that hold no usable record (``records.Damage``)."""

    frame: pd.DataFrame
    origin: str
    encoding: str | None = None
    damaged: list[Damage] = field(default_factory=list)
    lines: RecordLines | None = None
    sep: str | None = None  # of a text file: its separator (None: runs of whitespace)

    def damaged_fields(self, damage: Damage) -> list[str]:
        """The fields of a damaged line, read leniently (quotes as a spreadsheet would take them): enough to
        tell whose line it was, never to use its values."""
        if self.sep is None:
            return damage.text.split()
        return next(csv.reader([damage.text], delimiter=self.sep), [])


def clean_column_names(columns) -> list[str]:
    """Header names as the loader compares them: no byte-order mark, no surrounding spaces."""
    return [str(column).replace("\ufeff", "").strip() for column in columns]


def read_csv_text(
    path: str | Path,
    encoding: str = "auto",
    sep: str = "auto",
    header: bool = True,
    names: list[str] | None = None,
    compact: bool = False,
) -> RawTable:
    """Read a delimited text file with every cell as a string, and every line accounted for.

    The records are found from the lines themselves (``records.split_records``) before a parser reads them;
    lines that hold no usable record come back in ``damaged``, each with a reason. Cells are Python strings;
    with ``compact`` (the loader, for files of millions of rows), a column that repeats its values is a
    categorical and one that does not (order ids) is Arrow text: a few bytes per cell, not a Python object.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file not found: {mask_urls_in(str(path))}")
    if not path.is_file():
        raise ContractError(f"{path} is not a file")
    with tempfile.TemporaryDirectory(prefix="segkit-") as folder:  # a file in another encoding, made UTF-8
        return _read_csv_text(path, encoding, sep, header, names, compact, Path(folder))


def _read_csv_text(
    path: Path, encoding: str, sep: str, header: bool, names: list[str] | None, compact: bool, folder: Path
) -> RawTable:
    """``read_csv_text``, with ``folder`` to hold what is made of the file for Arrow to read: its UTF-8 (from
    another encoding), its text with line feeds (from CRLF), its records (when some lines are not). The text is
    read from files a block at a time, never held whole in memory."""
    stat = path.stat()
    readable, start, encoding, carriage_returns = _as_utf8(path, encoding, folder)
    if carriage_returns:  # lines end in CRLF (a CR alone inside a line is then damage), or in CR alone (old Macs)
        with Text(readable, str(path), start) as text, _room_in(folder, "the file with its lines ending in LF"):
            _write_line_feeds(text, folder / "line-feeds.csv")
        if readable.parent == folder:
            readable.unlink()  # the UTF-8 made of the file: only its text with line feeds is needed from here
        readable, start = folder / "line-feeds.csv", 0
    with Text(readable, str(path), start) as text:
        declared = _excel_separator(text)
        if declared:  # Excel's "sep=;" first line: the separator, not a record (blank, so lines keep their numbers)
            sep = declared[0] if sep == "auto" else sep
            text.blank = declared[1]
        elif sep == "auto":
            sep = _detect_separator(text.read(0, _SAMPLE_BYTES))
        separator = WHITESPACE if sep == "whitespace" else sep
        if separator is not WHITESPACE and (not isinstance(sep, str) or len(sep) != 1 or sep in '"\n'):
            raise ContractError(f"{path}: source.sep must be one character (or auto, whitespace), got {sep!r}")
        records = split_records(text, separator, str(path), header=header and not names, names=names)
        if records.header is not None:
            # Excel leaves unnamed columns after the last one ("a,b,,"): they are column_N, not a name used twice
            records.header = [name or f"column_{i + 1}" for i, name in enumerate(clean_column_names(records.header))]
            doubled = sorted({name for name in records.header if records.header.count(name) > 1})
            if doubled:
                raise ContractError(f"{path}: the header names {', '.join(map(repr, doubled))} more than once")
        source: Path | None = None
        if separator is not WHITESPACE:
            # Arrow reads the file itself when every line is a record as the file has it (or the UTF-8 made of
            # it), else the records written to a file
            source = readable if records.whole and not declared else folder / "records.csv"
            if source != readable:
                with _room_in(folder, "the file's records"):
                    records.write_body(source)
        frame = _parse_records(records, separator, names, str(path), source, compact)
    if _changed(path, stat):  # the file itself is read until now (Arrow may read it, the text was read from it)
        raise ContractError(changed_while_read(str(path)))
    if len(frame) != len(records.lines) or frame.shape[1] != records.columns:
        raise ContractError(
            f"{path}: the CSV parser read {len(frame):,} records of {frame.shape[1]} fields where the "
            f"file has {len(records.lines):,} of {records.columns}; the file is refused"
        )
    if records.header is not None:
        frame.columns = records.header
    elif names:
        frame.columns = names
    return RawTable(frame, str(path), encoding, records.damaged, records.lines, separator)


def _as_utf8(path: Path, encoding: str, folder: Path) -> tuple[Path, int, str, bool]:
    """A file of the text in UTF-8, where in it the text starts (after a byte-order mark), the encoding the file
    was read in, and whether the text holds a carriage return. A UTF-8 file is itself that file; another encoding
    is decoded into one in ``folder``.

    ``auto``: a byte-order mark names UTF-8 or UTF-16 (Excel's "Unicode text"); otherwise UTF-8 if the whole
    file is UTF-8, else GB18030 (a superset of GBK) when what came before the first non-UTF-8 byte was plain
    ASCII or GBK that reads as UTF-8 (``_gbk_lookalike``); a file that is UTF-8 first and something else later
    mixes encodings and is refused. An encoding
    named in the mapping is used as given. Bytes that do not fit refuse the file, naming the line.
    The file is checked, or decoded, a block at a time (``_first_non_utf8``, ``_decode_into``): never held whole
    in memory, nor as a Python string, which would take one to four times its size.
    """
    named_utf8 = encoding != "auto" and _codec(encoding, path) == "utf-8"
    with open(path, "rb") as handle:
        head = handle.read(4)
    utf8_bom = head.startswith(codecs.BOM_UTF8)
    if encoding == "auto" and utf8_bom or named_utf8:
        start = len(codecs.BOM_UTF8) if utf8_bom else 0
        bad, _, carriage_returns = _first_non_utf8(path, start)
        if bad is not None:
            with Text(path, str(path), start) as text:
                raise _not_in_encoding(path, "utf-8", _line_feeds(text, bad) + 1, text.read(bad, bad + 4))
        return path, start, "utf-8-sig" if utf8_bom and encoding == "auto" else encoding, carriage_returns
    if encoding == "auto":
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        else:
            bad, ascii_before, carriage_returns = _first_non_utf8(path, 0)
            if bad is None:
                return path, 0, "utf-8", carriage_returns
            if not ascii_before and not _gbk_lookalike(path, bad):
                with Text(path, str(path)) as text:
                    line = _line_feeds(text, bad) + 1
                raise ContractError(
                    f"{path}: line {line}: the file mixes "
                    "encodings (UTF-8 before this line, something else here); export it "
                    "again in one encoding"
                ) from None
            encoding = "gb18030"
    codec = _codec(encoding, path)
    converted = folder / "utf-8.csv"
    if codec not in _BLOCKWISE:
        raw = _read_bytes(path)
        try:
            decoded = raw.decode(encoding)
        except UnicodeDecodeError as error:
            line = raw[: error.start].count(b"\n") + 1
            raise _not_in_encoding(path, encoding, line, raw[error.start : error.start + 4]) from None
        except UnicodeError as error:  # a codec that names no bytes (punycode)
            raise _unreadable(path, encoding, error) from None
        del raw
        text = _as_utf8_text(decoded.lstrip("\ufeff"), path)
        del decoded
        with _room_in(folder, "the file as UTF-8"):
            converted.write_bytes(text)
        return converted, 0, encoding, b"\r" in text
    with _room_in(folder, "the file as UTF-8"):
        carriage_returns = _decode_into(converted, path, _stream_codec(codec, head), encoding)
    return converted, 0, encoding, carriage_returns


@contextmanager
def _room_in(folder: Path, what: str):
    """A failure to write ``what`` to the temporary ``folder`` (no room, a file-size limit) says where, and what
    to do."""
    try:
        yield
    except OSError as error:
        raise OSError(
            f"cannot write {what} to the temporary folder {folder} ({error}); it needs room for up to twice the "
            "export's size: free space there, or point TMPDIR at a folder with room"
        ) from None


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, read unbuffered into one object (a codec that cannot read blocks decodes it whole)."""
    with open(path, "rb", buffering=0) as handle:
        return handle.read()


def _write_line_feeds(text: Text, target: Path) -> None:
    """Write ``text`` to ``target`` with each CRLF as LF (each CR, where no line ends in LF: old Macs), a block at
    a time; the carriage returns that end a block go with the next, so no CRLF is cut."""
    crlf = any(b"\n" in block for _, block in text.blocks(_DECODE_BLOCK))
    with open(target, "wb") as out:
        carried = b""
        for _, block in text.blocks(_DECODE_BLOCK):
            block = carried + block
            whole = block.rstrip(b"\r")
            carried = block[len(whole) :]
            out.write(whole.replace(b"\r\n", b"\n") if crlf else whole.replace(b"\r", b"\n"))
        out.write(carried if crlf else carried.replace(b"\r", b"\n"))


def _stream_codec(codec: str, head: bytes) -> str:
    """The codec to decode a file that starts with ``head`` a block at a time: UTF-16 or UTF-32 without a
    byte-order mark in the machine's byte order, as ``bytes.decode`` reads it (Python's incremental decoder
    refuses such a file); UTF-8 with a signature as UTF-8 (``_decode_into`` takes the leading marks off for
    every codec, and the offsets of bad bytes then count from the file's start, as for every codec)."""
    if codec == "utf-8-sig":
        return "utf-8"
    marks = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}
    if codec in marks and not head.startswith(marks[codec]):
        return f"{codec}-{'le' if sys.byteorder == 'little' else 'be'}"
    return codec


def _decode_into(target: Path, path: Path, codec: str, encoding: str) -> bool:
    """Write the file ``path`` (``encoding``, read with ``codec``) to ``target`` as UTF-8 without byte-order marks
    at the start, a block at a time; whether the text holds a carriage return. Decoding the whole file at once
    held it as a Python string (two or four bytes a character for Chinese text) beside the bytes read and the
    UTF-8 made: over 4 GB for a GBK export of 1 GB. Bytes that do not fit refuse the file, naming their line
    (``_not_decoded``), without reading it whole either."""
    decoder = codecs.getincrementaldecoder(codec)()
    leading, carriage_returns = True, False
    offset = 0  # where in the file the block starts
    with open(path, "rb") as source, open(target, "wb") as out:
        block = source.read(_DECODE_BLOCK)
        while True:
            following = source.read(_DECODE_BLOCK) if block else b""
            state = decoder.getstate()
            try:
                text = decoder.decode(block, not following)
            except UnicodeDecodeError as error:
                out.flush()
                with Text(target, str(path)) as written:  # the text before the block, in UTF-8
                    lines = _line_feeds(written, written.size)
                raise _not_decoded(path, encoding, codec, state, block, offset, lines, error) from None
            except UnicodeError as error:
                raise _unreadable(path, encoding, error) from None
            if leading:  # byte-order marks before the first character, however the blocks cut them
                text = text.lstrip("\ufeff")
                leading = not text
            out.write(_as_utf8_text(text, path))
            carriage_returns = carriage_returns or "\r" in text
            if not following:
                return carriage_returns
            offset += len(block)
            block = following


def _not_decoded(
    path: Path, encoding: str, codec: str, state: tuple, block: bytes, offset: int, lines: int, error
) -> ContractError:
    """The refusal of a file whose ``block`` (at ``offset`` in the file, after ``lines`` line feeds) holds bytes
    that ``codec`` cannot read; ``state`` is the decoder's before the block: the bytes it carried over from the
    block before (where ``error.start`` counts from) and its flags (UTF-16's byte order). The line counts the
    line feeds of the text, not the bytes 0x0A (in UTF-16 a character such as 上, U+4E0A, holds one)."""
    carried, flags = state
    held = carried + block
    before = codecs.getincrementaldecoder(codec)()
    before.setstate((b"", flags))
    line = lines + before.decode(held[: error.start]).count("\n") + 1
    at = offset - len(carried) + error.start
    with Text(path, str(path)) as text:
        return _not_in_encoding(path, encoding, line, text.read(at, at + 4))


# what a file in another encoding than the one read takes: a table loaded through a mapping names it there; a
# call list or the call center's outcomes, read without one, are saved again as UTF-8
_ENCODING_HINT = "save it as UTF-8 (or, loading a table, name its encoding in the mapping: source: encoding: ...)"


def _not_in_encoding(path: Path, encoding: str, line: int, bad: bytes) -> ContractError:
    return ContractError(f"{path}: line {line}: bytes {bad!r} are not {encoding}; {_ENCODING_HINT}")


def _unreadable(path: Path, encoding: str, error: UnicodeError) -> ContractError:
    return ContractError(f"{path}: cannot be read as {encoding}: {error}; {_ENCODING_HINT}")


def _gbk_lookalike(path: Path, end: int) -> bool:
    """Whether the UTF-8 before ``end`` holds only characters from U+0100 to U+07FF beside ASCII (Cyrillic,
    Greek, Latin letters with marks): what GBK pairs read as UTF-8 make (要 is D2 AA, Cyrillic U+04AA), where text
    written in UTF-8 before another encoding holds Chinese (3 bytes) or Latin-1 accents (C2, C3). Lead bytes from
    C4 to DF alone, checked a block at a time."""
    with Text(path, str(path)) as text:
        for _, block in text.blocks(_DECODE_BLOCK, end):
            values = np.frombuffer(block, dtype=np.uint8)
            if ((values >= 0xE0) | ((values >= 0xC0) & (values <= 0xC3))).any():
                return False
    return True


def _line_feeds(text: Text, end: int) -> int:
    """The line feeds in ``text`` before ``end``, counted a block at a time."""
    return sum(block.count(b"\n") for _, block in text.blocks(_DECODE_BLOCK, end))


def _as_utf8_text(text: str, path: Path) -> bytes:
    """``text`` as UTF-8; a lone surrogate refuses the file."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate, which utf-7 or unicode_escape can spell
        raise ContractError(f"{path}: the text holds {text[error.start]!r}, which is not a character") from None


def _codec(encoding: str, path: Path) -> str:
    """The codec's name; an unknown one, or one that does not make text of bytes (``hex``, ``rot13``), refuses
    the file."""
    try:
        codec = codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise ContractError(f"{path}: unknown encoding {encoding!r} (source.encoding)") from None
    if not getattr(codec, "_is_text_encoding", True):
        raise ContractError(f"{path}: {encoding!r} is not a text encoding (source.encoding)")
    return codec.name


def _first_non_utf8(path: Path, start: int) -> tuple[int | None, bool, bool]:
    """Where the first byte of the file (from ``start``) that is not UTF-8 is (None: the file is UTF-8), whether
    all before it is ASCII, and whether it holds a carriage return. Checked by Arrow in place, a block at a time
    read into one buffer, each block cut where a character starts (the last, perhaps cut short, goes with the
    next)."""
    offset = held = 0
    ascii_so_far, carriage_returns = True, False
    with open(path, "rb", buffering=0) as handle:
        handle.seek(start)
        buffer = bytearray(min(_DECODE_BLOCK, os.fstat(handle.fileno()).st_size) + 4)  # a small file: its size
        view = memoryview(buffer)
        while True:
            read = handle.readinto(view[held:])
            size = held + read
            cut = _last_character(view[:size]) if read else size
            checked = cut if _is_utf8(view[:cut]) else _decode_error(bytes(view[:cut]), "utf-8").start
            if ascii_so_far and checked:
                ascii_so_far = int(np.frombuffer(buffer, np.uint8, checked).max()) < 128
            carriage_returns = carriage_returns or buffer.find(b"\r", 0, checked) >= 0
            if checked < cut:
                return offset + checked, ascii_so_far, carriage_returns
            if not read:
                return None, ascii_so_far, carriage_returns
            offset += cut
            buffer[: size - cut] = bytes(view[cut:size])  # the last character's bytes, at most four
            held = size - cut


def _last_character(block: memoryview) -> int:
    """Where the last character of ``block`` starts: the last byte that is not a UTF-8 continuation byte among its
    last four (with none, the block is not UTF-8 wherever it is cut: ``len(block)``)."""
    for back in range(1, min(4, len(block)) + 1):
        if block[-back] & 0xC0 != 0x80:
            return len(block) - back
    return len(block)


def _is_utf8(data: bytes | memoryview) -> bool:
    """Whether ``data`` is valid UTF-8, checked by Arrow in place."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _decode_error(raw: bytes, encoding: str) -> UnicodeDecodeError:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as error:
        return error
    raise AssertionError(f"{encoding} decoding was expected to fail")


def _excel_separator(text: Text) -> tuple[str, int] | None:
    """The separator an Excel "sep=;" first line declares and where the line ends (its ``\\n``), or None; the
    spaces or tabs after the separator may run on past a block."""
    declared = _EXCEL_SEPARATOR.match(text.read(0, len("sep=;")))
    if not declared:
        return None
    offset = declared.end()
    while block := text.read(offset, offset + _SAMPLE_BYTES):
        rest = block.lstrip(b" \t")
        if rest:
            return (declared.group(1).decode(), offset + len(block) - len(rest)) if rest[:1] == b"\n" else None
        offset += len(block)
    return None


def _detect_separator(data: bytes) -> str:
    """The candidate separator that occurs most often in the first non-blank line (``,`` if none does)."""
    first = next((line for line in data[:_SAMPLE_BYTES].split(b"\n") if line.strip()), b"").decode("utf-8", "replace")
    counts = {sep: first.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _changed(path: Path, before: os.stat_result) -> bool:
    after = path.stat()
    return (after.st_size, after.st_mtime_ns, after.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino)


def _parse_records(
    records: Records, separator: str | None, names: list[str] | None, origin: str, source: Path | None, compact: bool
) -> pd.DataFrame:
    """The records (the file ``source``: the file read, or its records written out) as a frame of text columns, read
    by Arrow's CSV reader a block at a time (pandas for runs of whitespace, from ``records.body()``)."""
    if separator is WHITESPACE:
        return _parse_whitespace(records, names, origin)
    columns = [f"column_{i + 1}" for i in range(records.columns)]
    read = pa_csv.ReadOptions(
        column_names=columns, skip_rows=0 if names or records.header is None else 1, block_size=_ARROW_BLOCK
    )
    parse = pa_csv.ParseOptions(
        delimiter=separator,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=records.multiline,
        ignore_empty_lines=True,
    )
    convert = pa_csv.ConvertOptions(
        column_types=dict.fromkeys(columns, pa.string()), strings_can_be_null=False, quoted_strings_can_be_null=False
    )
    text = _TextColumns(compact)
    if not len(records.lines):  # a header alone: Arrow cannot skip a header that has no line end
        return text.frame(columns, dict.fromkeys(columns, pa.string()))
    try:
        with pa_csv.open_csv(
            str(source),
            read_options=read,
            parse_options=parse,
            convert_options=convert,
        ) as batches:
            for batch in batches:
                text.add(batch)
    except pa.ArrowInvalid as error:
        if "Empty CSV file" not in str(error):
            raise ContractError(f"{origin}: malformed CSV ({' '.join(str(error).split())})") from None
    return text.frame(columns, dict.fromkeys(columns, pa.string()))


class _TextColumns:
    """Columns gathered a block at a time. Text as Python strings (``compact=False``), or compact: each block's
    column dictionary-encoded into one dictionary per column that grows as blocks come (``_Dictionary``), and
    at the end a categorical when its values repeat, or Arrow text when they do not (a block of order ids,
    nearly all distinct, is kept as text at once). Other types (from Parquet) as pandas makes them."""

    def __init__(self, compact: bool):
        self.compact = compact
        self.chunks: dict[str, list[pa.Array]] = {}
        self.encoded: dict[str, _Dictionary] = {}

    def add(self, batch: pa.RecordBatch) -> None:
        for name, column in zip(batch.schema.names, batch.columns):
            if pa.types.is_dictionary(column.type) and is_text_type(column.type.value_type):
                column = column.cast(pa.string())
            elif pa.types.is_large_string(column.type):
                column = column.cast(pa.string())
            if not self.compact or name in self.chunks or not pa.types.is_string(column.type):
                self.chunks.setdefault(name, []).append(column)
                continue
            encoded = column.dictionary_encode()
            if len(encoded.dictionary) > _DISTINCT_BLOCK * len(column) and len(column) >= _MIN_BLOCK_ROWS:
                earlier = self.encoded.pop(name, None)
                self.chunks[name] = (earlier.as_text() if earlier else []) + [column]
            else:
                self.encoded.setdefault(name, _Dictionary()).add(encoded)

    def frame(self, names: list[str], types: dict[str, pa.DataType]) -> pd.DataFrame:
        """The columns ``names`` (of Arrow ``types``, for columns no block reached). Each column's blocks are
        given back as soon as it is made: Arrow keeps freed memory for itself, and the whole table would
        otherwise be held twice (12 GB rather than 7 on 10M households). The column with the largest dictionary
        comes last, when the others have given their blocks back: its categories become Python strings (on 10M
        households 10M member ids, 1 GB with pandas' check that they are distinct)."""
        columns = {}
        for name in sorted(names, key=lambda name: len(self.encoded[name].dictionary) if name in self.encoded else 0):
            columns[name] = self._column(name, types[name])
            pa.default_memory_pool().release_unused()
        return pd.DataFrame({name: columns[name] for name in names}, copy=False)

    def _column(self, name: str, kind: pa.DataType):
        if name in self.encoded:
            codes, dictionary = self.encoded.pop(name).codes()
            return text_from_codes(codes, dictionary)
        chunks = self.chunks.pop(name, [])
        text = is_text_type(kind) or pa.types.is_dictionary(kind) and is_text_type(kind.value_type)
        if not text:
            return _as_pandas(chunks, kind)
        if not self.compact:
            values = pa.chunked_array(chunks, type=pa.string())
            return pd.array(values.to_numpy(zero_copy_only=False), dtype=object)
        if chunks:  # kept as text: its blocks were nearly all distinct
            return pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks, type=pa.string()))
        return text_from_codes(np.empty(0, dtype=np.int32), pa.array([], pa.string()))


def _as_pandas(chunks: list[pa.Array], kind: pa.DataType):
    """A column that is not text as pandas makes it. Numbers and times without missing values are copied a
    block at a time into one array, each block given back once copied (converting the whole column at once
    held it twice: 860 MB more for a column of dates on 10M households)."""
    simple = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_timestamp(kind) and not kind.tz
    if not simple or any(chunk.null_count for chunk in chunks):
        return pa.chunked_array(chunks, type=kind).to_pandas(types_mapper=nullable_integers)
    dtype = pa.chunked_array([], type=kind).to_pandas().dtype
    return _copied_into_one(chunks, dtype, lambda chunk: chunk.to_pandas().to_numpy())


def _copied_into_one(blocks: list[pa.Array], dtype, as_numpy) -> np.ndarray:
    """``blocks`` (emptied) as one numpy array of ``dtype``, each block given back to Arrow's pool once copied."""
    values = np.empty(sum(len(block) for block in blocks), dtype=dtype)
    start = 0
    while blocks:
        block = as_numpy(blocks.pop(0))
        values[start : start + len(block)] = block
        start += len(block)
        del block
        pa.default_memory_pool().release_unused()
    return values


class _Dictionary:
    """A text column as codes into one dictionary, made a block at a time: each block's own dictionary is
    merged into the column's as the blocks come, first values first (on 10M households the blocks' own
    dictionaries held 70M member ids, and merging them all at the end took 1.6 GB at once). A merge hashes the
    whole dictionary, so blocks wait until theirs hold as many values as it does and 16M at least (about 200 MB
    of ids), or rows enough to pay for it."""

    def __init__(self):
        self.dictionary = pa.array([], pa.string())
        self.blocks: list[pa.Array] = []  # codes of the blocks merged, in Arrow's pool (given back)
        self.waiting: list[pa.DictionaryArray] = []
        self.waiting_values = self.waiting_rows = 0

    def add(self, encoded: pa.DictionaryArray) -> None:
        self.waiting.append(encoded)
        self.waiting_values += len(encoded.dictionary)
        self.waiting_rows += len(encoded)
        enough_values = self.waiting_values >= max(len(self.dictionary), _MERGE_VALUES)
        if enough_values or self.waiting_rows >= 16 * len(self.dictionary):
            self._merge()

    def _merge(self) -> None:
        if not self.waiting:
            return
        # Arrow merges dictionaries in order: the values so far keep their codes, new ones come after them
        known = pa.DictionaryArray.from_arrays(pa.array([], pa.int32()), self.dictionary)
        merged = pa.chunked_array([known, *self.waiting]).unify_dictionaries()
        self.waiting, self.waiting_values, self.waiting_rows = [], 0, 0
        self.dictionary = merged.chunk(0).dictionary
        # held in as few bytes as the dictionary so far needs: a product's codes take a byte per row, not four
        narrow = pa.from_numpy_dtype(_code_type(len(self.dictionary)))
        self.blocks += [block.indices.cast(narrow) for block in merged.chunks[1:]]

    def codes(self) -> tuple[np.ndarray, pa.Array]:
        """Every row's code (-1: missing), in the smallest integers that hold them, and the dictionary."""
        self._merge()
        codes = _copied_into_one(
            self.blocks, _code_type(len(self.dictionary)), lambda block: block.fill_null(-1).to_numpy()
        )
        return codes, self.dictionary

    def as_text(self) -> list[pa.Array]:
        """The blocks so far as text (a column that turned out to be nearly all distinct), without merging the
        blocks still waiting."""
        return [self.dictionary.take(block) for block in self.blocks] + [plain_text(block) for block in self.waiting]


def _code_type(size: int) -> type:
    """The smallest signed integer type that holds the codes of a dictionary of ``size`` values, and -1."""
    return next(kind for kind in (np.int8, np.int16, np.int32, np.int64) if size <= np.iinfo(kind).max)


def is_text_type(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


_NULLABLE_INTEGERS = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.uint8(): pd.UInt8Dtype(),
    pa.uint16(): pd.UInt16Dtype(),
    pa.uint32(): pd.UInt32Dtype(),
    pa.uint64(): pd.UInt64Dtype(),
}


def nullable_integers(kind: pa.DataType):
    """The pandas type of Arrow integers (``to_pandas(types_mapper=...)``) that keeps every digit where values are
    missing: pandas' own choice, floats, turns the id 1234567890123456789 into ...768, another member's."""
    return _NULLABLE_INTEGERS.get(kind)


def _read_parquet(path: Path, compact: bool) -> pd.DataFrame:
    """A Parquet file as pandas reads it (integers with missing values kept whole), or (``compact``) with its text
    compact, a block at a time."""
    parquet = pq.ParquetFile(path)
    schema = parquet.schema_arrow
    pandas = schema.pandas_metadata or {}
    index = {name for name in pandas.get("index_columns", []) if isinstance(name, str)}
    # a saved pandas index: its name (None for pandas' own row numbers, which are not a column of the file)
    index_names = {column["field_name"]: column["name"] for column in pandas.get("columns", [])}
    index_names = {field: name for field, name in index_names.items() if field in index}
    names = [*schema.names, *(name for field, name in index_names.items() if name is not None and field != name)]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ContractError(f"{path}: the column name(s) {', '.join(map(repr, doubled))} appear more than once")
    if not compact:
        frame = parquet.read().to_pandas(types_mapper=nullable_integers)
        return frame.reset_index() if any(frame.index.names) else frame  # a named index is a column of the file
    names = [name for name in schema.names if name not in index or index_names.get(name) is not None]
    columns = _TextColumns(compact=True)
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=names):
        columns.add(batch)
    return columns.frame(names, {name: schema.field(name).type for name in names})


def plain_text(values):
    """An Arrow array or chunked array with dictionary-encoded text decoded (other arrays as they are)."""
    return values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) else values


def _parse_whitespace(records: Records, names: list[str] | None, origin: str) -> pd.DataFrame:
    kwargs: dict[str, Any] = dict(
        dtype=str, keep_default_na=False, na_filter=False, encoding="utf-8", sep=r"\s+", quoting=csv.QUOTE_NONE
    )
    if names:
        kwargs.update(names=names, header=None)
    elif records.header is None:
        kwargs.update(header=None)
    try:
        return pd.read_csv(io.BytesIO(records.body()), **kwargs)
    except pd.errors.EmptyDataError:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in (names or records.header or [])})
    except (csv.Error, pd.errors.ParserError) as error:
        raise ContractError(f"{origin}: malformed CSV ({' '.join(str(error).split())})") from None


def read_source(
    source: Any, settings: dict[str, Any] | None = None, keep_damaged: bool = False, compact: bool = False
) -> RawTable:
    """Read raw rows from a path, a DataFrame, or a ``settings`` source block.

    ``source`` may be a CSV/TSV/TXT or Parquet path, or a DataFrame. With
    ``source=None`` the ``settings`` (the mapping's ``source:`` block) say
    where to read: ``path``; ``duckdb`` + ``table``; or ``url``/``url_env`` + ``query``.

    A text file with lines that hold no usable record is refused, naming them, unless ``keep_damaged``
    (the loader, which turns them into rejects): a file of alerts or outcomes read without its damaged
    lines would silently drop the calls or outcomes on them. ``compact``: the text of a text file as
    categoricals (repeated values) and Arrow strings (the rest) rather than Python strings (``read_csv_text``).
    """
    raw = _read_source(source, settings, compact)
    if raw.damaged and not keep_damaged:
        shown = "; ".join(f"line {d.line}: {d.reason}" for d in raw.damaged[:5])
        more = f"; and {len(raw.damaged) - 5:,} more" if len(raw.damaged) > 5 else ""
        raise ContractError(
            f"{raw.origin}: {len(raw.damaged):,} line(s) hold no usable record ({shown}{more}); "
            "nothing was read: fix the file"
        )
    return raw


def _read_source(source: Any, settings: dict[str, Any] | None, compact: bool = False) -> RawTable:
    settings = dict(settings or {})
    if isinstance(source, pd.DataFrame):
        return RawTable(source.copy(), "<DataFrame>")
    if source is None:
        if "path" in settings:
            source = settings["path"]
        elif "duckdb" in settings:
            return read_duckdb(settings["duckdb"], settings.get("table"), settings.get("query"))
        elif "url" in settings or "url_env" in settings:
            return read_sql(_resolve_url(settings), settings.get("query"), settings.get("table"))
        else:
            raise ContractError("no input given: pass a file path or a mapping with a 'source' block")
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        if not path.exists():
            raise FileNotFoundError(f"input file not found: {mask_urls_in(str(path))}")
        try:
            return RawTable(_read_parquet(path, compact), str(path))
        except (pa.ArrowException, OSError) as error:
            raise ContractError(f"{path}: not a readable Parquet file ({' '.join(str(error).split())})") from None
    if suffix in {".duckdb", ".db"}:
        return read_duckdb(path, settings.get("table"), settings.get("query"))
    return read_csv_text(
        path,
        encoding=settings.get("encoding", "auto"),
        sep=settings.get("sep", "auto"),
        header=settings.get("header", True),
        names=settings.get("names"),
        compact=compact,
    )


def read_duckdb(database: str | Path, table: str | None = None, query: str | None = None) -> RawTable:
    """Rows of a DuckDB table (or query) from a database file, opened read-only and without access to other files
    or extensions (a query cannot ``COPY`` rows out, nor fetch an extension to read a database of another kind).
    Integers with missing values keep every digit (``nullable_integers``); a ``TIMESTAMPTZ`` is an instant, not a
    day, and comes as its text in UTC, which the contract refuses as a time with a zone."""
    import duckdb

    if not Path(database).exists():
        raise FileNotFoundError(f"DuckDB database not found: {mask_urls_in(str(database))}")
    if not (table or query) or (table and query):
        raise ContractError(
            f"{mask_urls_in(str(database))}: a DuckDB database is read by the table or query that a mapping names "
            "(source: table: ..., or source: query: ...; one of them)"
        )
    closed = {
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    try:
        with duckdb.connect(str(database), read_only=True, config=closed) as con:
            con.execute("SET TimeZone = 'UTC'")
            result = (con.sql(query) if query else con.table(table)).arrow()
            rows = result.read_all() if isinstance(result, pa.RecordBatchReader) else result
    except duckdb.Error as error:
        text = " ".join(mask_urls_in(str(error)).split())
        raise ContractError(
            f"cannot read the DuckDB database {mask_urls_in(str(database))}: {type(error).__name__}: {text}"
        ) from None
    for position, column in enumerate(rows.schema):
        if pa.types.is_timestamp(column.type) and column.type.tz:
            instants = pc.strftime(rows[column.name], format="%Y-%m-%d %H:%M:%S%z")
            rows = rows.set_column(position, column.name, instants)
    return RawTable(rows.to_pandas(types_mapper=nullable_integers), f"duckdb:{database}:{table or 'query'}")


def _resolve_url(settings: dict[str, Any]) -> str:
    if "url_env" in settings:
        name = settings["url_env"]
        url = os.environ.get(name)
        if not url:
            raise ContractError(f"environment variable {name} (source.url_env) is not set")
        if ambiguous_password(url):
            raise ContractError(
                f"the URL in {name} (source.url_env, {mask_url(url)}) has an '@' in its password: write it as %40 "
                "(a driver would take what follows it for the host, and print it)"
            )
        return url
    return settings["url"]


def _frame_of_rows(names: list[str], rows: list) -> pd.DataFrame:
    """Rows of a database as pandas reads them (``pd.read_sql``), but a column of integers with a missing value kept
    whole (``Int64``, or Python integers beyond it): pandas makes it floats, and the ids 1234567890123456789 and
    ...788 one member."""
    frame = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
    for position, name in enumerate(names):
        if frame.dtypes.iloc[position] != np.float64:
            continue
        values = [row[position] for row in rows]
        present = [value for value in values if value is not None]
        if present and all(type(value) is int for value in present):
            fits = all(-(2**63) <= value < 2**63 for value in present)
            frame[name] = pd.array(values, dtype="Int64") if fits else pd.Series(values, dtype=object)
    return frame


def read_sql(url: str, query: str | None = None, table: str | None = None) -> RawTable:
    """Rows from any SQLAlchemy database URL, by query or table name."""
    import sqlalchemy as sa

    if not (table or query):
        raise ContractError("a database source needs 'query' or 'table'")
    try:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as con:
                if query:
                    statement = sa.text(query)
                else:
                    statement = sa.select(sa.Table(table, sa.MetaData(), autoload_with=con))
                result = con.execute(statement)
                frame = _frame_of_rows(list(result.keys()), result.fetchall())
        finally:
            engine.dispose()
    except (sa.exc.SQLAlchemyError, ImportError) as error:  # one line, the URL and any password in it masked
        cause = getattr(error, "orig", None) or error
        text = " ".join(mask_urls_in(str(cause)).split())
        raise ContractError(f"cannot read the database {mask_url(url)}: {type(cause).__name__}: {text}") from None
    return RawTable(frame, f"sql:{mask_url(url)}:{table or 'query'}")
