"""Vectorised parsers from raw export values to canonical types.

Each parser takes a Series as read (strings from CSV, or native values from
Parquet/SQL) and returns ``(parsed, bad)``: the parsed Series and a boolean
mask of values that were present but could not be parsed. Missing values
(empty strings, nulls) are never "bad"; the caller decides whether a missing
value is allowed.
"""
from __future__ import annotations

import datetime
import re

import numpy as np
import pandas as pd

# Strings, not re.compile: Arrow runs string patterns in C++.
_FLOAT_ID = r"^(-?\d+)\.0+$"
_FLOAT_LIKE = r"^-?\d+\.0+$"
_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[ T]*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$")
_TRUE = {"1", "true", "t", "yes", "y", "on", "x", "是", "真"}
_FALSE = {"0", "false", "f", "no", "n", "off", "否", "假"}


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
        raise ValueError(f"not a date: {text!r} of type {type(text).__name__} "
                         "(use 'YYYY-MM-DD' text, a date, a datetime or a Timestamp)")
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text.strip())
    if not match:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)")
    try:
        return pd.Timestamp(*(int(g) for g in match.groups()))
    except (ValueError, OverflowError):
        raise ValueError(f"not a date: {text!r} (no such day)") from None


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values)


def _by_distinct(values: pd.Series, parse_distinct) -> tuple[pd.Series, pd.Series]:
    """Run a parser over each distinct value once, then spread the results back.

    Exports repeat few distinct values per column (dates, amounts, products),
    so string work on the distinct values is what makes 10M-row files load in
    seconds. ``parse_distinct`` takes the distinct values (a Series of str) and
    returns ``(parsed, bad)`` of the same length.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Arrow-backed strings: strip, regex and comparisons run in C++, not per value in Python.
    uniques = pd.Series(uniques, dtype=object).astype(str).astype("string[pyarrow]")
    parsed, bad = parse_distinct(uniques)
    if pd.api.types.is_string_dtype(parsed):   # text: missing as None (code -1 picks the appended None)
        text = parsed.to_numpy(dtype=object, na_value=None)
        spread = pd.Series(np.append(text, None)[codes], index=values.index)
    else:
        spread = pd.Series(parsed.array.take(codes, allow_fill=True), index=values.index)
    bad = bad.to_numpy(dtype=bool, na_value=False)
    return spread, pd.Series(bad[codes] & (codes >= 0), index=values.index)


def missing_mask(values: pd.Series) -> pd.Series:
    """True where a raw value is absent: null or blank text."""
    if not _is_text(values):
        return values.isna()
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    blank = pd.Series(uniques, dtype=object).astype(str).str.strip().eq("").to_numpy(dtype=bool)
    return pd.Series((codes < 0) | blank[codes], index=values.index)


def _no_bad(values: pd.Series) -> pd.Series:
    return pd.Series(False, index=values.index)


def _stripped(uniques: pd.Series) -> pd.Series:
    """Distinct values stripped, blanks as missing."""
    text = uniques.str.strip()
    return text.where(text != "", None)


def parse_ids(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids as text: whitespace stripped, leading zeros kept.

    Integer-typed columns become their decimal text, and a float artefact such
    as ``12417.0`` (ids that went through Excel or pandas as floats) becomes
    ``12417``. ``007`` stays ``007``.
    """
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    if not _is_text(values):
        values = values.astype(object).where(values.notna(), None)
    ids, _ = _by_distinct(values, lambda u: (_without_float_suffix(_stripped(u)), _no_bad(u)))
    return ids, _no_bad(values)


def _without_float_suffix(text: pd.Series) -> pd.Series:
    """``12417.0`` -> ``12417``; the regex replace runs only on the few values that match."""
    floats = text.str.contains(_FLOAT_LIKE, regex=True).fillna(False).astype(bool)
    if floats.any():
        text = text.copy()
        text[floats] = text[floats].str.replace(_FLOAT_ID, r"\1", regex=True)
    return text


def parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    if not _is_text(values):
        values = values.astype(object).where(values.notna(), None)
    text, _ = _by_distinct(values, lambda u: (_stripped(u), _no_bad(u)))
    return text, _no_bad(values)


def _parse_date_text(value: str, fmt: str | None):
    value = value.strip()
    if fmt:
        try:
            return pd.Timestamp(pd.to_datetime(value, format=fmt)).normalize()
        except (ValueError, TypeError):
            return None
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
        return pd.Timestamp(year=year, month=month, day=day)
    except ValueError:
        return None


def parse_dates(values: pd.Series, fmt: str | None = None) -> tuple[pd.Series, pd.Series]:
    """Dates to day precision (time of day dropped).

    Accepted without configuration: ``2026-03-01``, ``2026/3/1``, ``2026.3.1``,
    ``20260301``, ``2026年3月1日``, each optionally followed by a time
    (``10:30`` or ``10:30:00``). Ambiguous day-first forms such as
    ``01/03/2026`` need an explicit ``fmt`` (strftime syntax).
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        if getattr(values.dt, "tz", None) is not None:
            values = values.dt.tz_localize(None)
        return values.dt.normalize().astype("datetime64[ns]"), _no_bad(values)

    def parse_distinct(uniques: pd.Series):
        parsed = pd.to_datetime(pd.Series([_parse_date_text(u, fmt) for u in uniques], dtype=object))
        return parsed.astype("datetime64[ns]"), parsed.isna() & (uniques.str.strip() != "")

    return _by_distinct(values, parse_distinct)


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers, tolerating thousands separators, currency signs and ``(12.5)`` negatives."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), _no_bad(values)

    def parse_distinct(uniques: pd.Series):
        text = uniques.str.replace(r"[,\s¥￥$€£元]", "", regex=True).str.replace(r"^\((.*)\)$", r"-\1", regex=True)
        parsed = pd.to_numeric(text, errors="coerce").astype(float)
        bad = (parsed.isna() | ~np.isfinite(parsed.fillna(0))) & (text != "")
        return parsed.where(~bad), bad

    return _by_distinct(values, parse_distinct)


def parse_integers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as nullable ``Int64``; ``3.5`` is bad, ``3.0`` is 3."""
    parsed, bad = parse_numbers(values)
    fractional = parsed.notna() & (parsed != np.round(parsed))
    bad = bad | fractional
    return parsed.where(~bad).round().astype("Int64"), bad


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no values (``1/0``, ``true/false``, ``Y/N``, ``是/否``) as nullable booleans."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), _no_bad(values)
    if not _is_text(values):
        values = values.astype(object).where(values.notna(), None)

    def parse_distinct(uniques: pd.Series):
        text = _without_float_suffix(uniques.str.strip().str.lower())
        parsed = pd.Series(pd.NA, index=uniques.index, dtype="boolean")
        parsed[text.isin(_TRUE)] = True
        parsed[text.isin(_FALSE)] = False
        return parsed, parsed.isna() & (text != "")

    return _by_distinct(values, parse_distinct)
