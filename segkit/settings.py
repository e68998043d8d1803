"""Settings dataclasses from YAML: one reader, so that every verb reports bad settings the same way.

One order of precedence everywhere (``resolve_settings``): the defaults in the
dataclass, then the settings YAML (or a mapping, or a settings object), then
explicit parameters (a CLI flag, a notebook parameter), where ``None`` means
"not given: from the settings". Unknown keys are errors, because a misspelt
threshold that is silently ignored is worse than none. A field whose default is
itself settings (``SegmentationSettings.vip``) is a section: a mapping in YAML,
read by that class's ``from_dict``. Every other value must be of its field's type (``int``: a whole number,
``dict[str, float]``: a mapping of names to numbers, ``X | None``: null allowed), checked before the class's
own checks of ranges, so that ``gold: abc`` or ``tiers: [1, 2]`` is refused naming its key rather than failing
in a comparison inside.
"""

from __future__ import annotations

import functools
import numbers
import types
import typing
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
    hints = _type_hints(cls)
    for f in fields(cls):
        if f.name not in data:
            continue
        value, section = data[f.name], _section_class(f)
        if section is not None and (value is None or isinstance(value, dict)):
            data[f.name] = section.from_dict(value)
        elif section is not None and not isinstance(value, section):
            raise ValueError(f"{what} setting {f.name} is a section: expected a mapping of its settings, got {value!r}")
        elif section is None and not _conforms(value, hints[f.name]):
            # yes/no (YAML's true) was read as 1 day; text or a list failed inside, in a comparison, with no name
            hint = " (quote it in YAML: '42' is text, 42 a number)" if _wants_text(hints[f.name], value) else ""
            shown = "nothing (null)" if value is None else repr(value)
            raise ValueError(f"{what} setting {f.name} must be {_kind(hints[f.name])}, got {shown}{hint}")
        elif isinstance(value, float) and int in (hints[f.name], *typing.get_args(hints[f.name])):
            data[f.name] = int(value)  # 14.0 days is 14 days (conforming: a whole number)
    return cls(**data)


def is_number(value: Any) -> bool:
    """A number, numpy's included (a value taken from a table), but not yes/no."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_whole(value: Any) -> bool:
    return is_number(value) and float(value).is_integer()


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


_SCALARS = {  # a type in words, alone and in a list or mapping
    bool: ("true or false", "true or false"),
    int: ("a whole number", "whole numbers"),
    float: ("a number", "numbers"),
    str: ("text", "text"),
}


def _conforms(value: Any, hint: Any) -> bool:
    """Whether ``value`` (as YAML reads it) is of the settings type ``hint``: a scalar, ``X | None``,
    ``dict[K, V]``, ``tuple[X, ...]`` or ``list[X]`` (a YAML list for either), ``dict``, ``tuple`` or ``Any``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, option) for option in args)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, (bool, np.bool_))
    if hint is int:
        return _is_whole(value)
    if hint is float:
        return is_number(value)
    if hint is str:
        return isinstance(value, str)
    if (origin or hint) is dict:
        key, item = args or (Any, Any)
        return isinstance(value, dict) and all(_conforms(k, key) and _conforms(v, item) for k, v in value.items())
    if (origin or hint) in (tuple, list):
        item = args[0] if args else Any
        return isinstance(value, (list, tuple)) and all(_conforms(v, item) for v in value)
    return isinstance(value, hint)


def _kind(hint: Any, plural: bool = False) -> str:
    """``hint`` in words, for "must be ...": ``dict[str, float]`` is "a mapping of names to numbers"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_kind(option, plural) for option in args if option is not type(None)]
        return " or ".join(options) + (" or null" if type(None) in args else "")
    if hint in _SCALARS:
        return _SCALARS[hint][plural]
    if (origin or hint) is dict:
        item = f" to {_kind(args[1], plural=True)}" if args and args[1] is not Any else ""
        return ("mappings" if plural else "a mapping") + f" of names{item}"
    if (origin or hint) in (tuple, list):
        item = f" of {_kind(args[0], plural=True)}" if args and args[0] is not Any else ""
        return ("lists" if plural else "a list") + item
    return getattr(hint, "__name__", str(hint))


def _wants_text(hint: Any, value: Any) -> bool:
    """A number or yes/no given where text is wanted: YAML read an unquoted 007 or yes that way."""
    return not isinstance(value, str) and isinstance(value, (numbers.Number, bool)) and _conforms("text", hint)


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


class _UniqueKeys(yaml.SafeLoader):
    """YAML's safe loader that refuses a key given twice in one mapping (YAML keeps the last without a word:
    p_active_below 0.5 then 0.3 ran with 0.3)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # <<: *defaults, which the keys after it override
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is there twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(stream: Any) -> Any:
    """``yaml.safe_load``, refusing a key given twice in one mapping."""
    return yaml.load(stream, Loader=_UniqueKeys)  # noqa: S506 - a SafeLoader


def read_yaml_mapping(path: str | Path, expected: str, error: type[ValueError] = ValueError) -> dict:
    """The mapping in the YAML file ``path`` (empty file: empty mapping). A syntax error, a tag such as
    ``!!python/object`` (only plain YAML is read) or another shape raises ``error`` naming the file (and the
    line), in one line."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        data = load_yaml(text)
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
    """Read ``path`` (a YAML mapping) into ``cls``; no path gives the defaults. Errors name the file. A class
    whose settings name files has ``paths_relative_to(data, folder)``, which makes them relative to the YAML's
    folder before they are checked."""
    if path in (None, ""):
        return cls()
    data = read_yaml_mapping(path, f"a mapping of {what} settings")
    if hasattr(cls, "paths_relative_to"):
        data = cls.paths_relative_to(data, Path(path).parent)
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
