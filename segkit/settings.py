"""Settings dataclasses from YAML: one reader, so that every verb reports bad settings the same way.

Defaults live in the dataclass; a YAML file (or a dict from a notebook) only
overrides. Unknown keys are errors, because a misspelt threshold that is
silently ignored is worse than none.
"""
from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml

T = TypeVar("T")


def settings_from_dict(cls: type[T], data: dict[str, Any] | None, what: str) -> T:
    """``cls(**data)`` after checking that every key is one of ``cls``'s fields."""
    data = dict(data or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown {what} setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return cls(**data)


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
