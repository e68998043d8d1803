"""Settings dataclasses from YAML: one reader, so that every verb reports bad settings the same way.

One order of precedence everywhere (``resolve_settings``): the defaults in the
dataclass, then the settings YAML (or a mapping, or a settings object), then
explicit parameters (a CLI flag, a notebook parameter), where ``None`` means
"not given: from the settings". Unknown keys are errors, because a misspelt
threshold that is silently ignored is worse than none. A field whose default is
itself settings (``SegmentationSettings.vip``) is a section: a mapping in YAML,
read by that class's ``from_dict``.
"""

from __future__ import annotations

import numbers
from dataclasses import MISSING, asdict, fields, is_dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import yaml

T = TypeVar("T")


def settings_from_dict(cls: type[T], data: dict[str, Any] | None, what: str) -> T:
    """``cls(**data)`` after checking that every key is one of ``cls``'s fields."""
    data = dict(data or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}")
    for f in fields(cls):
        if f.name not in data:
            continue
        value, section, default = data[f.name], _section_class(f), _default(f)
        if section is not None and (value is None or isinstance(value, dict)):
            data[f.name] = section.from_dict(value)
        elif section is not None and not isinstance(value, section):
            raise ValueError(f"{what} setting {f.name} is a section: expected a mapping of its settings, got {value!r}")
        elif _is_number(default) and value is not None and not _is_number(value):
            # yes/no (YAML's true) was read as 1 day, quoted numbers failed inside with no name
            raise ValueError(f"{what} setting {f.name} must be a number, got {value!r}")
    return cls(**data)


def _is_number(value: Any) -> bool:
    """A number, numpy's included (a value taken from a table), but not yes/no."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _default(f) -> Any:
    return (
        f.default if f.default is not MISSING else (f.default_factory() if f.default_factory is not MISSING else None)
    )


def _section_class(f) -> type | None:
    """The settings class of a section field (its default is settings with ``from_dict``), else None."""
    default = _default(f)
    return type(default) if is_dataclass(default) and hasattr(default, "from_dict") else None


def resolve_settings(cls: type[T], settings: Any = None, **overrides: Any) -> T:
    """``cls`` settings in segkit's one order of precedence: the defaults in code < ``settings`` (a YAML path,
    a mapping or a ``cls`` object; None: none) < ``overrides`` whose value is not None (None: "from the
    settings"). A mapping given for a section overrides that section's keys only
    (``rfm={"levels": 4}`` keeps the file's ``rfm: {ties: ...}``). Every value is validated by ``cls``.

    Parameters
    ----------
    cls : type
        The settings dataclass (``AlertSettings``, ``SegmentationSettings``,
        ``ValueSettings``, ``AssignmentSettings``, ``SurveySettings``, ...).
    settings : cls, str, Path, dict or None, default None
        The settings to start from: a ``cls`` object, a YAML file, or a mapping of the
        YAML's keys; None: the defaults.
    **overrides
        Explicit values (a CLI flag, a notebook parameter) that win over ``settings``;
        None means "not given". A mapping for a section overrides that section's keys only.

    Returns
    -------
    cls
        The settings, validated (``settings`` itself when it is a ``cls`` object and no
        override is given).

    Raises
    ------
    ValueError
        An unknown key, or a value out of range; the message names the key, and the file
        with the overrides when ``settings`` is a YAML file. A YAML that is not valid or not
        a mapping also raises ``ValueError`` naming the file and line.
    FileNotFoundError
        The YAML file does not exist.

    Examples
    --------
    >>> from segkit import resolve_settings
    >>> from segkit.churn import AlertSettings
    >>> settings = resolve_settings(AlertSettings, {"p_active_below": 0.5}, long_gone_days=120, churn_prior=None)
    >>> settings.p_active_below, settings.long_gone_days, settings.churn_prior
    (0.5, 120, None)
    >>> resolve_settings(AlertSettings, {"p_active_belo": 0.5})
    Traceback (most recent call last):
    ...
    ValueError: unknown alert setting(s) p_active_belo; known: churn_prior, covariates, holidays, ...

    A section's keys are overridden one by one:

    >>> from segkit.segment import SegmentationSettings
    >>> rfm = resolve_settings(SegmentationSettings, {"rfm": {"levels": 4, "ties": "quantile"}}, rfm={"levels": 3}).rfm
    >>> rfm.levels, rfm.ties
    (3, 'quantile')
    """
    given = _given(overrides)
    if isinstance(settings, cls) and not given:
        return settings
    if isinstance(settings, cls):
        base, where = settings.as_dict(), None
    elif settings is None or isinstance(settings, dict):
        base, where = dict(settings or {}), None
    else:
        base, where = cls.from_yaml(settings).as_dict(), settings
    try:
        return cls.from_dict(_merged(base, given))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where} with parameters {given}: {error}" if where else str(error)) from None


def _given(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the ones that are None, also inside mappings (sections)."""
    given = {}
    for key, value in values.items():
        if isinstance(value, dict):
            value = _given(value)
            if value:
                given[key] = value
        elif value is not None:
            given[key] = value
    return given


def _merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def read_yaml_mapping(path: str | Path, expected: str, error: type[ValueError] = ValueError) -> dict:
    """The mapping in the YAML file ``path`` (empty file: empty mapping). A syntax error, a tag such as
    ``!!python/object`` (only plain YAML is read) or another shape raises ``error`` naming the file (and the
    line), in one line."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark is not None else ""
        reason = getattr(problem, "problem", None) or str(problem).splitlines()[0]
        raise error(f"{path}:{line} not valid YAML ({reason})") from None
    except ValueError as problem:  # a value YAML reads as a date that is none: 2026-13-40
        raise error(f"{path}: not valid YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{path}: expected {expected}, got {type(data).__name__}")
    return data


def settings_from_yaml(cls: type[T], path: str | Path | None, what: str) -> T:
    """Read ``path`` (a YAML mapping) into ``cls``; no path gives the defaults. Errors name the file."""
    if path in (None, ""):
        return cls()
    data = read_yaml_mapping(path, f"a mapping of {what} settings")
    try:
        return settings_from_dict(cls, data, what)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


class YamlSettings:
    """Mixin for settings dataclasses: ``from_dict``, ``from_yaml`` and ``as_dict``. Subclasses name
    themselves in ``what`` (a ``ClassVar``), which error messages use: "unknown survey setting(s) ..."."""

    what: ClassVar[str] = "settings"

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None):
        return settings_from_dict(cls, data, cls.what)

    @classmethod
    def from_yaml(cls, path: str | Path | None):
        return settings_from_yaml(cls, path, cls.what)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
