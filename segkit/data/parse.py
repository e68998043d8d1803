"""Vectorised parsers from raw export values to canonical types.

Each parser takes a Series as read (strings from CSV, or native values from
Parquet/SQL) and returns ``(parsed, bad)``: the parsed Series and a boolean
mask of values that were present but could not be parsed. Missing values
(empty strings, nulls) are never "bad"; the caller decides whether a missing
value is allowed. The ``*_with_problems`` forms, which the loader uses, say
what was wrong with each bad value (``PROBLEMS``): unparseable, out of range,
a comma that is not a thousands separator, a NUL byte, a time zone.
"""

from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Strings, not re.compile: Arrow runs string patterns in C++.
_FLOAT_ID = r"^(-?\d+)\.0+$"
_FLOAT_LIKE = r"^-?\d+\.0+$"
# Ids and text that parse to themselves: printable ASCII, no space at either end, no Excel quote, no float suffix.
_CANONICAL_ID = r"^[!-&(-~](?:[ -~]*[!-~])?$"
_CANONICAL_TEXT = r"^[!-~](?:[ -~]*[!-~])?$"
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?$")
# a date and time of day (group 1), then a time zone: Z, +08:00, +0800, UTC+8
_ZONED = re.compile(
    r"^(.*[ T]\d{1,2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?)\s*(?:[zZ]|(?:UTC|GMT)?\s*[+-]\d{1,2}(?::?\d{2})?|UTC|GMT)$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[ T]*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$")
_TRUE = {"1", "true", "t", "yes", "y", "on", "x", "是", "是的", "对", "真", "有", "√", "✓", "✔", "☑", "✅"}
_FALSE = {"0", "false", "f", "no", "n", "off", "否", "不是", "不", "假", "无", "没有", "×", "✗", "✘", "☐"}
_CURRENCY = "\\s*[¥$€£元]\\s*"
_SPACE = "[ \u00a0\u202f]"  # a space, a no-break space, a narrow no-break space: thousands in 1 234,50
# A number with its thousands separators where they belong; any other comma (1,50 or 115,00) is refused,
# and so is any other space (1 5).
_POINT_DECIMAL = (
    r"^[+-]?(?:\d{1,3}(?:,\d{3})+(?:\.\d*)?|\d{1,3}(?:" + _SPACE + r"\d{3})+(?:\.\d*)?"
    r"|\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
)
_COMMA_DECIMAL = (
    r"^[+-]?(?:\d{1,3}(?:\.\d{3})+(?:,\d*)?|\d{1,3}(?:" + _SPACE + r"\d{3})+(?:,\d*)?"
    r"|\d+(?:,\d*)?|,\d+)$"
)
_INVISIBLE = "[\u200b\u200c\u200d\u2060\ufeff]"  # zero-width spaces and joiners, a byte-order mark
_PHONE = r"^\+?[0-9(][0-9 ()\-./]{4,30}$"
_FLOAT_PHONE = r"^(\+?\d+)\.0+$"  # a number exported as a float
MIN_PHONE_DIGITS = 5  # a short number of the call center's own switchboard at the least
MAX_PHONE_DIGITS = 20  # a number, its country code and a landline's extension (+86 0571-88886666-8001: 18)
# two numbers (seven digits or more each, in groups or not) apart by a slash, a comma, a semicolon or a bar;
# or two unbroken runs of seven digits or more apart by spaces (88886666 88887777: no one groups one number so)
_TWO_PHONES = (
    r"\d(?:[ ()\-.]*\d){6,}[ ()\-.]*[/,;|][ ()\-.+]*\d(?:[ ()\-.]*\d){6,}"
    r"|(?:^|\D)\d{7,}\s+\+?\d{7,}"
)
_SAMPLE = 100_000  # values looked at to tell a column of mostly distinct values
_COUNT_BLOCK = 1 << 22  # codes counted at a time (code_counts)
_MIDNIGHT_BLOCK = 1 << 22  # date-times checked at a time for a time of day (a 32 MB block, not a copy)
MAX_ABS_NUMBER = 1e12  # beyond this an amount is an export error, and sums of such lose the cents
FIRST_DAY, LAST_DAY = pd.Timestamp("1900-01-02"), pd.Timestamp("2199-12-31")  # 1900-01-01, 9999-12-31: placeholders

# What can be wrong with a value; "{column}" is filled in by the loader.
UNPARSEABLE = "unparseable {column}"
OUT_OF_RANGE = "{column} out of range"
AMBIGUOUS_COMMA = "{column} with a comma that is not a thousands separator"
NUL = "NUL byte in {column}"
TIME_ZONE = "{column} with a time zone (its day depends on the zone: export local times)"
PROBLEMS = ("", UNPARSEABLE, OUT_OF_RANGE, AMBIGUOUS_COMMA, NUL, TIME_ZONE)


def parse_day(text) -> pd.Timestamp:
    """A calendar day from ``YYYY-MM-DD`` text, a ``date``, a ``datetime`` or a ``Timestamp``.

    Unlike ``pd.Timestamp``, it refuses guesses such as ``"March"`` or
    ``"31/03/2026"``, and numbers such as ``20260331`` (which pandas reads as
    nanoseconds after 1970): a wrong as-of date silently shifts every result.
    """
    if isinstance(text, (datetime.date, np.datetime64)) and not isinstance(text, bool):
        day = pd.Timestamp(text)
        if pd.isna(day):
            raise ValueError("not a date: NaT")
        return day.tz_localize(None).normalize() if day.tzinfo else day.normalize()
    if not isinstance(text, str):
        raise ValueError(
            f"not a date: {text!r} of type {type(text).__name__} "
            "(use 'YYYY-MM-DD' text, a date, a datetime or a Timestamp)"
        )
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if not match:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)")
    try:
        return pd.Timestamp(*(int(g) for g in match.groups()))
    except (ValueError, OverflowError):
        raise ValueError(f"not a date: {text!r} (no such day)") from None


def _is_text(values: pd.Series) -> bool:
    """Strings: Python, Arrow, or a categorical of them (a compact column of a text file)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.categories.dtype == object
    return values.dtype == object or pd.api.types.is_string_dtype(values)


def _problems(codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A categorical Series of ``PROBLEMS`` from their positions ("" = fine)."""
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(PROBLEMS)), index=index)


def _fine(values: pd.Series) -> pd.Series:
    return _problems(np.zeros(len(values), dtype=np.int8), values.index)


def _by_distinct(values: pd.Series, parse_distinct, canonical=None) -> tuple[pd.Series, pd.Series]:
    """Run a parser over each distinct value once, then spread the results back.

    Exports repeat few distinct values per column (dates, amounts, products),
    so string work on the distinct values is what makes 10M-row files load in
    seconds. ``parse_distinct`` takes the distinct values (a Series of str) and
    returns ``(parsed, problem)`` of the same length, ``problem`` holding positions in ``PROBLEMS``.
    Values with a NUL byte are refused before the parser sees them. Text comes back compact
    (``compact_text``), never as one Python string per row. ``canonical``: a test of Arrow text that holds
    where the parser returns every value as it is (``A-0017``, ``LPG 15kg``): such a column is its own
    result, and no copy of it is made.
    """
    if canonical and isinstance(values.dtype, pd.CategoricalDtype) and _canonical_categories(values, canonical):
        return values, _fine(values)  # the column is its own result
    if canonical and is_arrow_text(values) and not values.isna().any() and len(values):
        if canonical(pa.array(values.array)):
            if not _nearly_all_distinct(values):
                codes, uniques = pd.factorize(values, use_na_sentinel=True)
                if len(uniques) < len(values):
                    compact = text_from_codes(codes, pa.array(uniques, type=pa.string()))
                    return pd.Series(compact, index=values.index), _fine(values)
            return values, _fine(values)  # every value distinct: the column itself, not a copy
    codes, uniques = _distinct(values)
    # Arrow-backed strings: strip, regex and comparisons run in C++, not per value in Python.
    uniques = pd.Series(uniques)
    if not is_arrow_text(uniques):
        uniques = uniques.astype(object).astype(str)
    uniques = uniques.astype("string[pyarrow]")  # pandas' Arrow strings: its regex replace takes groups
    nul = uniques.str.contains("\x00", regex=False).to_numpy(dtype=bool, na_value=False)
    parsed, problem = parse_distinct(uniques.where(~nul, ""))
    problem = np.where(nul, PROBLEMS.index(NUL), np.asarray(problem, dtype=np.int8)).astype(np.int8)
    if pd.api.types.is_string_dtype(parsed):  # text: missing as None (code -1 picks the appended None)
        spread = compact_text(parsed.astype("string[pyarrow]").where(~nul, None), codes, values.index)
    else:
        spread = pd.Series(parsed.array.take(codes, allow_fill=True), index=values.index)
    return spread, _problems(np.append(problem, np.int8(0))[codes], values.index)


def _canonical_categories(values: pd.Series, canonical) -> bool:
    """Whether a categorical's categories are all text that ``canonical`` holds for, and all used (a category
    nobody has would become a group of nobody)."""
    categories = values.cat.categories
    if not len(categories) or categories.dtype != object:
        return False
    try:
        text = pa.array(categories, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # categories that are not all text
        return False
    return bool(code_counts(values.cat.codes.to_numpy(), len(categories)).all()) and canonical(text)


def code_counts(codes: np.ndarray, size: int) -> np.ndarray:
    """How many times each code ``0 .. size - 1`` occurs (-1, missing, is not counted), a block at a time:
    ``np.bincount`` first widens every code to 64 bits (860 MB for a column of 10M households' transactions)."""
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(codes), _COUNT_BLOCK):
        block = codes[start : start + _COUNT_BLOCK]
        counts += np.bincount(block[block >= 0], minlength=size)
    return counts


def is_arrow_text(values: pd.Series) -> bool:
    """Whether ``values`` are text held in Arrow (as read from a CSV file), not Python strings."""
    return isinstance(values.dtype, (pd.ArrowDtype, pd.StringDtype)) and pd.api.types.is_string_dtype(values)


def _distinct(values: pd.Series) -> tuple[np.ndarray, object]:
    """``pd.factorize``, except that a column whose values are nearly all distinct (``_nearly_all_distinct``)
    is taken as its own distinct values."""
    if _nearly_all_distinct(values):
        return np.arange(len(values)), values.array
    return pd.factorize(values, use_na_sentinel=True)


def _nearly_all_distinct(values: pd.Series) -> bool:
    """Whether ``values`` are Arrow text, none missing, whose values a sample shows nearly all distinct (order
    ids): hashing 16M distinct strings to find them costs more than parsing them all."""
    n = len(values)
    if not (is_arrow_text(values) and n > 2 * _SAMPLE and not values.isna().any()):
        return False
    sampled = np.zeros(n, dtype=bool)
    sampled[np.random.default_rng(0).choice(n, _SAMPLE, replace=False)] = True
    sample = pd.Series(picked(values.array, sampled))
    return sample.duplicated().sum() <= _SAMPLE // 1000  # a column that repeats values shows it in a sample


def picked(values, mask: np.ndarray):
    """``values[mask]`` of a column's array, Arrow text filtered a block at a time: Arrow's take (``iloc``, or a
    mask made positions) first joins all of a column's blocks into one (1.8 GB of order ids on 10M households,
    even for no row at all)."""
    if isinstance(values, pd.arrays.ArrowExtensionArray):
        return type(values)(pa.array(values).filter(mask))
    return values[mask]


def compact_text(distinct: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Text values given as ``distinct[codes]`` (code -1: missing), stored compactly (``text_from_codes``);
    ``as_python_text`` turns them into Python strings."""
    if 2 * len(distinct) <= len(codes):  # a categorical: " 007" and "007" parsed are one category
        parsed_codes, distinct = pd.factorize(distinct, use_na_sentinel=True)
        codes = np.append(parsed_codes, -1)[codes]
    return pd.Series(text_from_codes(codes, pa.array(distinct, type=pa.string())), index=index)


def text_from_codes(codes: np.ndarray, values: pa.Array):
    """Text given as ``values[codes]`` (code -1: missing): a categorical when values repeat (a small code per
    row: member ids, products), else Arrow text (a few bytes per row: order ids). ``values`` are distinct
    when they repeat."""
    if 2 * len(values) > len(codes):
        return pd.arrays.ArrowExtensionArray(values.take(pa.array(codes, mask=codes < 0)))
    return pd.Categorical.from_codes(codes, categories=pd.Index(values.to_numpy(zero_copy_only=False), dtype=object))


def as_python_text(values: pd.Series) -> pd.Series:
    """Compact text (``compact_text``) as Python strings, missing as None; other columns as they are."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = np.append(np.asarray(values.cat.categories, dtype=object), None)
        return pd.Series(categories[values.cat.codes.to_numpy()], index=values.index)
    if is_arrow_text(values):
        return pd.Series(values.to_numpy(dtype=object, na_value=None), index=values.index)
    return values


def missing_mask(values: pd.Series) -> pd.Series:
    """True where a raw value is absent: null or blank text."""
    if not _is_text(values):
        return values.isna()
    if isinstance(values.dtype, pd.CategoricalDtype):  # each category looked at once, the rows only by code
        blank = pd.Series(values.cat.categories, dtype=object).astype(str).str.strip().eq("").to_numpy(dtype=bool)
        return pd.Series(np.append(blank, True)[values.cat.codes.to_numpy()], index=values.index)
    if is_arrow_text(values):  # in C++ over every value, a block at a time: cheaper than finding distinct ones
        text = pa.array(values.array)
        chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
        blank = [
            pc.equal(pc.utf8_trim_whitespace(chunk), "").fill_null(True).to_numpy(zero_copy_only=False)
            for chunk in chunks
        ]
        return pd.Series(np.concatenate(blank) if blank else np.zeros(0, dtype=bool), index=values.index)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    blank = pd.Series(uniques, dtype=object).astype(str).str.strip().eq("").to_numpy(dtype=bool)
    return pd.Series((codes < 0) | np.append(blank, False)[codes], index=values.index)


def _stripped(uniques: pd.Series) -> pd.Series:
    """Distinct values stripped, blanks as missing."""
    text = uniques.str.strip()
    return text.where(text != "", None)


def _plain(uniques: pd.Series) -> pd.Series:
    """Text as typed in any input method: full-width digits and letters as ASCII (NFKC), zero-width
    characters and byte-order marks removed, spaces stripped. ``０００２`` and ``\u200b0002`` are ``0002``."""
    wide = ~pd.Series(pc.string_is_ascii(pa.array(uniques.array)), index=uniques.index).fillna(True)
    if wide.any():  # ASCII is its own NFKC form and holds no invisible characters: only the rest is redone
        uniques = uniques.copy()
        uniques[wide] = uniques[wide].str.normalize("NFKC").str.replace(_INVISIBLE, "", regex=True)
    return uniques.str.strip()


def _as_text(values: pd.Series) -> pd.Series:
    return values if _is_text(values) else values.astype(object).where(values.notna(), None)


def _none_bad(uniques: pd.Series) -> np.ndarray:
    return np.zeros(len(uniques), dtype=np.int8)


def ids_written_otherwise(strangers, known) -> dict[str, str]:
    """Each of ``strangers`` (ids one table has and another lacks) that is an id of ``known`` written another way
    (``7`` and ``007``, ``a007`` and ``A007``: case, width and leading zeros aside), mapped to it: the same people
    under ids written in two ways, not other people."""
    strangers, known = list(map(str, strangers)), list(map(str, known))
    written = dict(zip(_plain_ids(known), known))
    return {theirs: written[plain] for theirs, plain in zip(strangers, _plain_ids(strangers)) if plain in written}


def refuse_ids_written_otherwise(
    strangers, known, theirs: str, ours: str, more: bool = False, kind: str = "member ids"
) -> None:
    """Refuse ``strangers`` (ids of the table ``theirs``, "the transactions'", missing from the table ``ours``) when
    any is an id of
    ``known`` written another way (``ids_written_otherwise``): joined, the two tables would silently be other
    people (every member of one new, every purchase of the other a stranger's), not the same ones. ``more``: the
    strangers are some of them, and the count said is at least; ``kind``: what the ids are of."""
    alike = ids_written_otherwise(strangers, known)
    if alike:
        (one, other), *_ = alike.items()
        raise ValueError(
            f"{theirs} {kind} are written otherwise than {ours} ({one!r} is {other!r} there; "
            f"{len(alike):,}{' or more' if more else ''} such id(s)): write them alike (as text, keeping leading zeros)"
        )


def _plain_ids(ids: list[str]) -> pd.Series:
    """Ids as people mean them: case, width and leading zeros aside."""
    return pd.Series(ids, dtype=object).str.normalize("NFKC").str.strip().str.casefold().str.lstrip("0")


class LostDigits(ValueError):
    """Ids or phones held as floating-point numbers of 2**53 or more (or infinite), which hold no more than 15 or
    16 digits: two members' ids may have become one number already. The message is such a number."""


EXACT_FLOATS = 2**53  # whole numbers below this are exact in a float64


def _whole_floats_as_integers(values: pd.Series) -> pd.Series:
    """A float column of whole numbers (ids or phones that went through Excel or pandas) as integers, so that
    its text is ``12417``, not ``12417.0``; ``LostDigits`` where a float cannot have held every digit."""
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            inexact = whole[~(whole.abs() < EXACT_FLOATS)]
            if len(inexact):
                raise LostDigits(f"{inexact.iloc[0]:.17g}")
            return values.astype("Int64")
    return values


def ids_with_problems(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids as text: whitespace stripped, leading zeros kept.

    Integer-typed columns become their decimal text, and a float artefact such
    as ``12417.0`` (ids that went through Excel or pandas as floats) becomes
    ``12417``. ``007`` stays ``007``; full-width ``００７``, ``\u200b007`` and Excel's text marker
    ``'007`` are ``007`` too, so one member is one id.
    """
    values = _whole_floats_as_integers(values)
    return _by_distinct(
        _as_text(values),
        lambda u: (_without_float_suffix(_stripped(_plain(u).str.replace(r"^'", "", regex=True))), _none_bad(u)),
        canonical=_canonical_ids,
    )


def phones_with_problems(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Phone numbers as text, as typed (``+86 138-0013-8000``, ``0755 1234567``, ``(0571) 8888 6666``: leading
    zeros kept); full-width digits as ASCII, and a number exported as a float (``13912345678.0``) without its
    ``.0``, so that it is the same line as ``13912345678``. A landline's extension (``0571-88886666-8001``) is
    part of its number. Unparseable (nobody can dial it): a value that is not digits with ``+ ( ) - . /`` and
    spaces, of 5 to 20 digits (``=HYPERLINK(...)``, ``unknown``), and two numbers in one cell
    (``13912345670 / 13800000000``, ``88886666 88887777``: one of them may be another member's do-not-call
    line)."""
    values = _whole_floats_as_integers(values)

    def parse_distinct(uniques: pd.Series):
        text = _plain(uniques).str.replace(_FLOAT_PHONE, r"\1", regex=True)
        digits = text.str.count(r"\d").to_numpy(dtype=float, na_value=0)
        two = text.str.contains(_TWO_PHONES, regex=True).to_numpy(dtype=bool, na_value=False)
        dialable = text.str.fullmatch(_PHONE).to_numpy(dtype=bool, na_value=False) & ~two
        dialable &= (digits >= MIN_PHONE_DIGITS) & (digits <= MAX_PHONE_DIGITS)
        present = (text != "").to_numpy(dtype=bool, na_value=False)
        problem = np.where(present & ~dialable, PROBLEMS.index(UNPARSEABLE), 0).astype(np.int8)
        return _stripped(text).where(dialable, None), problem

    return _by_distinct(_as_text(values), parse_distinct)


def _canonical_ids(text: pa.ChunkedArray) -> bool:
    if not pc.all(pc.match_substring_regex(text, _CANONICAL_ID)).as_py():
        return False
    return not (
        pc.any(pc.match_substring(text, ".")).as_py()  # no point: no float suffix to look for
        and pc.any(pc.match_substring_regex(text, _FLOAT_LIKE)).as_py()
    )


def _canonical_text(text: pa.ChunkedArray) -> bool:
    return pc.all(pc.match_substring_regex(text, _CANONICAL_TEXT)).as_py()


def _without_float_suffix(text: pd.Series) -> pd.Series:
    """``12417.0`` -> ``12417``; the regex replace runs only on the few values that match."""
    floats = text.str.contains(_FLOAT_LIKE, regex=True).fillna(False).astype(bool)
    if floats.any():
        text = text.copy()
        text[floats] = text[floats].str.replace(_FLOAT_ID, r"\1", regex=True)
    return text


def text_with_problems(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    return _by_distinct(_as_text(values), lambda u: (_stripped(u), _none_bad(u)), canonical=_canonical_text)


def _parse_date_text(value: str, fmt: str | None):
    """A day, ``None`` when the text is no date, ``pd.NaT`` when it is a date outside FIRST_DAY..LAST_DAY."""
    value = value.strip()
    if fmt:
        try:
            parsed = datetime.datetime.strptime(value, fmt)
        except ValueError:
            return None
        year, month, day = parsed.year, parsed.month, parsed.day
    else:
        match = _COMPACT_DATE.match(value)
        if not match:
            norm = value.replace("年", "-").replace("月", "-").replace("日", " ").strip()
            date_part, *time_part = re.split(r"[ T]+", norm, maxsplit=1)
            norm = " ".join([re.sub(r"[/.]", "-", date_part), *time_part])
            match = _DATE.match(norm)
        if not match:
            return None
        year, month, day = (int(g) for g in match.groups()[:3])
        hour, minute = (int(g) if g else 0 for g in match.groups()[3:5])
        if hour > 23 or minute > 59:
            return None
    try:
        datetime.date(2000, month, day)  # a leap year: the month and day exist in some year
    except ValueError:
        return None
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        return pd.NaT
    try:
        datetime.date(year, month, day)
    except ValueError:
        return None
    day_ = pd.Timestamp(year=year, month=month, day=day)
    return day_ if FIRST_DAY <= day_ <= LAST_DAY else pd.NaT


def dates_with_problems(values: pd.Series, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Dates to day precision (time of day dropped), between 1900-01-02 and 2199-12-31.

    Accepted without configuration: ``2026-03-01``, ``2026/3/1``, ``2026.3.1``,
    ``20260301``, ``2026年3月1日``, each optionally followed by a time
    (``10:30`` or ``10:30:00``). Ambiguous day-first forms such as
    ``01/03/2026`` need an explicit ``fmt`` (strftime syntax). Placeholders such
    as ``9999-12-31``, ``1900-01-01`` or ``0000-01-01`` are out of range. A time
    with a zone (``+08:00``, ``Z``) is a problem of its own: its day depends on the zone.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        days = values if _at_midnight(values) else values.dt.normalize()  # dates read as dates are not copied
        outside = days.notna() & ((days < FIRST_DAY) | (days > LAST_DAY))
        problem = np.where(outside, np.int8(PROBLEMS.index(OUT_OF_RANGE)), np.int8(0))
        if outside.any():
            days = days.where(~outside)
        return days.astype("datetime64[ns]", copy=False), _problems(problem, values.index)
    if not _is_text(values):
        values = _as_text(values).map(lambda v: v if v is None else str(v))

    def problem_of(day, text: str) -> int:
        if day is pd.NaT:
            return PROBLEMS.index(OUT_OF_RANGE)
        if day is not None or not text.strip():
            return 0
        zoned = None if fmt else _ZONED.match(text.strip())
        return PROBLEMS.index(TIME_ZONE if zoned and _parse_date_text(zoned[1], None) is not None else UNPARSEABLE)

    def parse_distinct(uniques: pd.Series):
        days = [_parse_date_text(u, fmt) for u in uniques]
        problem = np.array([problem_of(d, u) for d, u in zip(days, uniques)], dtype=np.int8)
        parsed = pd.Series([d if isinstance(d, pd.Timestamp) else pd.NaT for d in days], dtype="datetime64[ns]")
        return parsed, problem

    return _by_distinct(values, parse_distinct)


def _at_midnight(values: pd.Series) -> bool:
    """Whether every date-time of a ``datetime64[ns]`` column is at midnight (checked a block at a time, so that
    no copy of the column is made)."""
    if values.dtype != np.dtype("datetime64[ns]"):
        return False
    nanoseconds = values.to_numpy().view(np.int64)
    day = np.int64(86_400 * 10**9)
    for start in range(0, len(nanoseconds), _MIDNIGHT_BLOCK):
        block = nanoseconds[start : start + _MIDNIGHT_BLOCK]
        if ((block % day != 0) & (block != np.iinfo(np.int64).min)).any():  # the minimum is NaT
            return False
    return True


def numbers_with_problems(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Numbers, tolerating currency signs, ``(12.5)`` negatives and thousands separators where they belong.

    With ``decimal="."`` (the default) ``1,150.00`` is 1150 and ``1,50`` is refused (a decimal comma, or a
    misplaced separator: either way not a number to guess); with ``decimal=","`` ``1.150,50`` is 1150.5.
    Values beyond ``MAX_ABS_NUMBER`` in size are out of range.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(float, copy=False)  # numbers read as floats are not copied
        array = numbers.to_numpy()
        outside = (array > MAX_ABS_NUMBER) | (array < -MAX_ABS_NUMBER)  # infinities too; NaN is missing
        problem = np.where(outside, np.int8(PROBLEMS.index(OUT_OF_RANGE)), np.int8(0))
        return numbers.where(~outside) if outside.any() else numbers, _problems(problem, values.index)
    pattern, thousands = (_POINT_DECIMAL, ",") if decimal == "." else (_COMMA_DECIMAL, ".")

    def parse_distinct(uniques: pd.Series):
        text = _plain(uniques).str.replace(_CURRENCY, "", regex=True).str.replace(r"^\((.*)\)$", r"-\1", regex=True)
        well_formed = text.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)
        plain = text.str.replace(thousands, "", regex=False).str.replace(_SPACE, "", regex=True)
        if decimal == ",":
            plain = plain.str.replace(",", ".", regex=False)
        parsed = pd.to_numeric(plain.where(well_formed, None), errors="coerce").astype(float)
        outside = (~np.isfinite(parsed) | (parsed.abs() > MAX_ABS_NUMBER)).to_numpy()  # NaN: too long a number
        present = (text != "").to_numpy(dtype=bool, na_value=False)
        comma = text.str.contains(",", regex=False).to_numpy(dtype=bool, na_value=False)
        problem = np.select(
            [~present, ~well_formed & comma, ~well_formed, outside],
            [0, PROBLEMS.index(AMBIGUOUS_COMMA), PROBLEMS.index(UNPARSEABLE), PROBLEMS.index(OUT_OF_RANGE)],
            0,
        ).astype(np.int8)
        return parsed.where(problem == 0), problem

    return _by_distinct(values, parse_distinct)


def integers_with_problems(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, pd.Series]:
    """Whole numbers as nullable ``Int64``; ``3.5`` is unparseable, ``3.0`` is 3."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu":  # read as integers: shared, not copied
        numbers = values.to_numpy()
        outside = (numbers > MAX_ABS_NUMBER) | (numbers < -MAX_ABS_NUMBER)
        problem = np.where(outside, np.int8(PROBLEMS.index(OUT_OF_RANGE)), np.int8(0))
        integers = pd.arrays.IntegerArray(numbers.astype(np.int64, copy=False), outside)
        return pd.Series(integers, index=values.index), _problems(problem, values.index)
    parsed, problem = numbers_with_problems(values, decimal)
    numbers = parsed.to_numpy(dtype=float)
    whole = np.round(numbers)
    present = ~np.isnan(numbers)
    codes = np.where(present & (numbers != whole), PROBLEMS.index(UNPARSEABLE), problem.cat.codes.to_numpy()).astype(
        np.int8
    )
    usable = present & (codes == 0)
    integers = pd.arrays.IntegerArray(np.where(usable, whole, 0).astype(np.int64), ~usable)
    return pd.Series(integers, index=values.index), _problems(codes, values.index)


def flags_with_problems(
    values: pd.Series,
    true: frozenset[str] = frozenset(),
    false: frozenset[str] = frozenset(),
    blank: frozenset[str] = frozenset(),
) -> tuple[pd.Series, pd.Series]:
    """Yes/no values as nullable booleans: ``1/0``, ``true/false``, ``Y/N``, ``是/否``, check marks ``√``/``×``
    and the like, case, width (``Ｙ``) and surrounding spaces ignored; ``true``/``false`` add words for one
    column, and ``blank`` the placeholders it writes for no value (``-``, ``N/A``)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), _fine(values)
    yes, no = _TRUE | {w.lower() for w in true}, _FALSE | {w.lower() for w in false}
    nothing = {"", *(w.lower() for w in blank)}

    def parse_distinct(uniques: pd.Series):
        text = _without_float_suffix(_plain(uniques).str.strip().str.lower())
        parsed = pd.Series(pd.NA, index=uniques.index, dtype="boolean")
        parsed[text.isin(yes)] = True
        parsed[text.isin(no)] = False
        bad = (parsed.isna() & ~text.isin(nothing)).to_numpy(dtype=bool, na_value=False)
        return parsed, np.where(bad, PROBLEMS.index(UNPARSEABLE), 0).astype(np.int8)

    return _by_distinct(_as_text(values), parse_distinct)


def _bad(parse):
    """The public form of a parser: ``(parsed, bad)``, ``bad`` True where a present value could not be used."""

    def parse_bad(values: pd.Series, *args, **kwargs) -> tuple[pd.Series, pd.Series]:
        parsed, problem = parse(values, *args, **kwargs)
        return as_python_text(parsed), problem != ""

    parse_bad.__doc__ = parse.__doc__
    return parse_bad


parse_ids = _bad(ids_with_problems)
parse_text = _bad(text_with_problems)
parse_dates = _bad(dates_with_problems)
parse_numbers = _bad(numbers_with_problems)
parse_integers = _bad(integers_with_problems)
parse_flags = _bad(flags_with_problems)
parse_phones = _bad(phones_with_problems)
