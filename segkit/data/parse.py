"""Vectorised parsers from raw export values to canonical types.

Each parser takes a Series as read (strings from CSV, or native values from
Parquet/SQL) and returns ``(parsed, bad)``: the parsed Series and a boolean
mask of values that were present but could not be parsed. Missing values
(empty strings, nulls) are never "bad"; the caller decides whether a missing
value is allowed.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

_FLOAT_ID = re.compile(r"^(-?\d+)\.0+$")
_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:[ T]*(\d{2}):?(\d{2})(?::?(\d{2}))?)?$")
_TRUE = {"1", "true", "t", "yes", "y", "on", "x", "是", "真"}
_FALSE = {"0", "false", "f", "no", "n", "off", "否", "假"}


def parse_day(text) -> pd.Timestamp:
    """A strict ``YYYY-MM-DD`` day, for as-of dates and parameters.

    Unlike ``pd.Timestamp``, it refuses guesses such as ``"March"`` or
    ``"31/03/2026"``: a wrong as-of date silently shifts every result.
    """
    if not isinstance(text, str):
        return pd.Timestamp(text).normalize()      # a Timestamp, date or datetime
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", str(text).strip())
    if not match:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)")
    try:
        return pd.Timestamp(*(int(g) for g in match.groups()))
    except ValueError:
        raise ValueError(f"not a date: {text!r} (no such day)") from None


def missing_mask(values: pd.Series) -> pd.Series:
    """True where a raw value is absent: null or blank text."""
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        text = values.astype("string")
        return text.isna() | (text.str.strip() == "")
    return values.isna()


def _map_unique(values: pd.Series, parse_one) -> pd.Series:
    """Parse each distinct value once: exports repeat few distinct dates."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    parsed = [parse_one(u) for u in uniques]
    out = np.array(parsed + [None], dtype=object)[codes]
    return pd.Series(out, index=values.index)


def parse_ids(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ids as text: whitespace stripped, leading zeros kept.

    Integer-typed columns become their decimal text, and a float artefact such
    as ``12417.0`` (ids that went through Excel or pandas as floats) becomes
    ``12417``. ``007`` stays ``007``.
    """
    missing = missing_mask(values)
    if pd.api.types.is_float_dtype(values):
        whole = values.dropna()
        if (whole == np.floor(whole)).all():
            values = values.astype("Int64")
    text = values.astype("string").str.strip()
    text = text.str.replace(_FLOAT_ID, r"\1", regex=True)
    text = text.mask(missing)
    return text.astype(object).where(~missing, None), pd.Series(False, index=values.index)


def parse_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    missing = missing_mask(values)
    text = values.astype("string").str.strip()
    return text.astype(object).where(~missing, None), pd.Series(False, index=values.index)


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
    missing = missing_mask(values)
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values).dt.tz_localize(None) if getattr(values.dt, "tz", None) else values
        return pd.to_datetime(parsed).dt.normalize().astype("datetime64[ns]"), pd.Series(False, index=values.index)
    text = values.astype("string").mask(missing)
    parsed = _map_unique(text, lambda v: _parse_date_text(str(v), fmt))
    parsed = pd.to_datetime(parsed).astype("datetime64[ns]")
    bad = parsed.isna() & ~missing
    return parsed, bad


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers, tolerating thousands separators, currency signs and ``(12.5)`` negatives."""
    missing = missing_mask(values)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float), pd.Series(False, index=values.index)
    text = values.astype("string").str.strip()
    text = text.str.replace(r"[,\s¥￥$€£元]", "", regex=True)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    parsed = pd.to_numeric(text, errors="coerce").astype(float)
    bad = (parsed.isna() | ~np.isfinite(parsed.fillna(0))) & ~missing
    return parsed.where(~bad), bad


def parse_integers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as nullable ``Int64``; ``3.5`` is bad, ``3.0`` is 3."""
    parsed, bad = parse_numbers(values)
    fractional = parsed.notna() & (parsed != np.round(parsed))
    bad = bad | fractional
    return parsed.where(~bad).round().astype("Int64"), bad


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no values (``1/0``, ``true/false``, ``Y/N``, ``是/否``) as nullable booleans."""
    missing = missing_mask(values)
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    text = values.astype("string").str.strip().str.lower()
    text = text.str.replace(_FLOAT_ID, r"\1", regex=True)
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed[text.isin(_TRUE).fillna(False).astype(bool)] = True
    parsed[text.isin(_FALSE).fillna(False).astype(bool)] = False
    bad = parsed.isna() & ~missing
    return parsed, bad
