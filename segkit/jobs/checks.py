"""Parameter checks for notebooks: fail in the first cell with a message that names the parameter.

papermill passes parameters untyped (``-p as_of 2026-03-31`` is a string,
``-p id 007`` an integer), so every notebook validates its parameters before
doing any work.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..data.parse import parse_day


class ParameterError(ValueError):
    """A notebook or job parameter that cannot be used."""


def check_date(name: str, value: Any) -> pd.Timestamp:
    """A calendar day (``YYYY-MM-DD``)."""
    try:
        return parse_day(value)
    except ValueError as error:
        raise ParameterError(f"parameter {name}: {error}") from None


def check_file(name: str, value: Any, optional: bool = False) -> Path | None:
    """An existing file (or None when ``optional``)."""
    if value in (None, "") and optional:
        return None
    path = Path(str(value))
    if not path.is_file():
        raise ParameterError(f"parameter {name}: file not found: {path}")
    return path


def check_output_dir(name: str, value: Any) -> Path:
    """A folder for outputs, created if needed."""
    if value in (None, ""):
        raise ParameterError(f"parameter {name} is required")
    path = Path(str(value))
    path.mkdir(parents=True, exist_ok=True)
    return path


def check_choice(name: str, value: Any, choices: list[str]) -> str:
    if value not in choices:
        raise ParameterError(f"parameter {name}: {value!r} is not one of {', '.join(choices)}")
    return value


def check_positive(name: str, value: Any) -> int:
    """A whole number of at least 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParameterError(f"parameter {name}: {value!r} must be a whole number of at least 1")
    return value


def check_probability(name: str, value: Any) -> float:
    """A number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ParameterError(f"parameter {name}: {value!r} must be a number between 0 and 1")
    return float(value)
