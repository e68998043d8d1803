"""Notebook parameters, declared once: every notebook's parameters with their kinds (``NOTEBOOKS``), checked by the
same code in the notebook (its first cell after the parameters cell) and in the runner (before anything runs).

papermill passes parameters untyped (``-p as_of 2026-03-31`` is text, ``-p id 007``
the number 7) and YAML types them its own way, so nothing is trusted: a notebook's
first cell is ``globals().update(checked_parameters("churn_alerts", globals()))``,
after which ``as_of`` is a day, ``output_dir`` a folder that exists and
``settings_path`` a file or None.

A parameter that mirrors a setting (``p_active_below``, ``levels``) defaults to
None, meaning "from the settings file": the notebook passes it to
``resolve_settings``, where an explicit value wins over the file and the file over
the defaults in code. Every problem names its parameter and is one ``ParameterError``.
Notebooks that segkit does not declare (your own) are checked by the types of their
default values.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..data.parse import parse_day
from ..messages import LANGUAGES
from ..privacy import mask_url, mask_urls_in, url_secrets


class ParameterError(ValueError):
    """A notebook or job parameter that cannot be used."""


def _date(value: Any) -> pd.Timestamp:
    return parse_day(value)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError
    return value


def _whole(value: Any, least: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (least is not None and value < least):
        raise ValueError
    return value


def _number(value: Any, test: Callable[[float], bool] = lambda x: True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not test(value):
        raise ValueError
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _database(value: Any) -> str:
    """An SQLite file or a database URL without credentials (they come from the environment)."""
    text = _text(value)
    secrets = url_secrets(text)
    if secrets:
        raise ValueError(
            f"{mask_url(text)} carries {' and '.join(secrets)}: put the URL in SEGKIT_LEDGER_URL (or "
            "the password in the driver's variable, such as PGPASSWORD), never in a parameter"
        )
    return text


# kind -> (what a value must be, the check: returns the value to use; raises ValueError, with a message when
# "must be <what>" would not say what is wrong)
KINDS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "date": ("a date (YYYY-MM-DD)", _date),
    "file": ("a path to a file", lambda value: Path(_text(value))),
    "folder": ("a path to a folder", lambda value: Path(_text(value))),
    "database": ("an SQLite file or a database URL without password", _database),
    "probability": ("a number between 0 and 1", lambda value: _number(value, lambda x: 0 < x < 1)),
    "rate": ("a number from 0 up to 1", lambda value: _number(value, lambda x: 0 <= x < 1)),
    "positive number": ("a number above 0", lambda value: _number(value, lambda x: x > 0)),
    "number": ("a number", _number),
    "positive whole number": ("a whole number of at least 1", lambda value: _whole(value, 1)),
    "whole number": ("a whole number of at least 0", lambda value: _whole(value, 0)),
    "integer": ("a whole number", lambda value: _whole(value, None)),
    "true or false": ("true or false", _flag),
    "text": ("text", _text),
    "any": ("any value", lambda value: value),
}


TEXT_KINDS = ("file", "folder", "database", "text")


@dataclass(frozen=True)
class Parameter:
    """One notebook parameter: its ``kind`` (a ``KINDS`` key, or ``choice`` of its ``choices``) and whether it is
    ``optional`` (None or "" means not given: from the settings file, no file, ...). A file that ``reads``
    (a settings YAML's reader) is read when it exists, so that a scheduled job refuses a bad settings file
    before its first step runs, not in the step that uses it."""

    name: str
    kind: str
    optional: bool = False
    choices: tuple = ()
    reads: Callable[[Path], Any] | None = None

    def __post_init__(self):
        if self.kind not in KINDS and not (self.kind == "choice" and self.choices):
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}; kinds: choice, {', '.join(KINDS)}")

    def check(self, value: Any, on_disk: bool) -> Any:
        """The value to use (None when not given); raises ``ValueError`` with what is wrong. ``on_disk``: files
        must exist and folders are created (in the notebook; the runner checks before earlier steps made them)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            if self.optional:
                return None
            raise ValueError("is required")
        if self.kind == "choice":
            if not any(value == choice and type(value) is type(choice) for choice in self.choices):
                raise ValueError(f"must be one of {', '.join(map(str, self.choices))}, got {mask_urls_in(repr(value))}")
            return value
        what, check = KINDS[self.kind]
        try:
            checked = check(value)
        except ValueError as error:
            if str(error):
                raise ValueError(str(error)) from None
            hint = (
                " (quote it in YAML: '007' stays text, 007 is the number 7)"
                if self.kind in TEXT_KINDS and not isinstance(value, str)
                else ""
            )
            raise ValueError(f"must be {what}, got {mask_urls_in(repr(value))}{hint}") from None
        if on_disk and self.kind == "file" and not checked.is_file():
            raise ValueError(f"file not found: {mask_urls_in(str(checked))}")
        if self.reads is not None and (self.kind == "database" or checked.is_file()):
            try:
                self.reads(checked)
            except (OSError, ValueError) as error:
                raise ValueError(str(error)) from None
        if on_disk and self.kind == "folder":
            if checked.exists() and not checked.is_dir():
                raise ValueError(f"{checked} is a file, not a folder")
            checked.mkdir(parents=True, exist_ok=True)
        return checked


Rule = Callable[[dict[str, Any]], "tuple[str, str] | None"]  # checked values -> (parameter, problem) or None


def requires(given: str, *needed: str) -> Rule:
    """With ``given``, each of ``needed`` is required."""

    def rule(values: dict[str, Any]):
        missing = [name for name in needed if values[given] is not None and values[name] is None]
        return (missing[0], f"is required with {given}") if missing else None

    return rule


def ordered(low: str, high: str) -> Rule:
    """``low`` before ``high`` when both are given."""

    def rule(values: dict[str, Any]):
        a, b = values[low], values[high]
        shown = a.date() if isinstance(a, pd.Timestamp) else a
        return (high, f"must be after {low} ({shown})") if a is not None and b is not None and not a < b else None

    return rule


def at_most(low: str, high: str) -> Rule:
    """``low`` at most ``high`` when both are given."""

    def rule(values: dict[str, Any]):
        a, b = values[low], values[high]
        return (low, f"({a}) must not be above {high} ({b})") if a is not None and b is not None and a > b else None

    return rule


def ledger_needed(given: str, because: str) -> Rule:
    """With ``given`` (the notebook's own data, not its demo), ``ledger`` is required unless ``$SEGKIT_LEDGER_URL``
    is set."""

    def rule(values: dict[str, Any]):
        if values[given] is None or values["ledger"] is not None:
            return None
        if not os.environ.get("SEGKIT_LEDGER_URL"):
            return "ledger", f"is required (or set SEGKIT_LEDGER_URL): {because}"
        try:
            open_ledger(None)
        except ValueError as error:
            return "ledger", f"SEGKIT_LEDGER_URL: {error}"
        return None

    return rule


def open_ledger(target: Any) -> None:
    """Refuse a ledger that does not open (None: ``$SEGKIT_LEDGER_URL``'s): not made, damaged, unreachable, or a
    URL a driver would misread; a scheduled job checks it before its first step, not in the step after the
    alerts (imported here: the call center's code is not needed to check other notebooks)."""
    from ..callcenter.ledger import Ledger

    Ledger(target).close()


def _ledger() -> Parameter:
    """``ledger``: an existing contact ledger (a file, or a URL without password), opened when checked."""
    return Parameter("ledger", "database", optional=True, reads=open_ledger)


# Pacing needs yesterday's contacts: a ledger (or ``$SEGKIT_LEDGER_URL``) unless the notebook runs its demo.
ledger_given = ledger_needed("alerts_path", "pacing needs yesterday's contacts")


@dataclass(frozen=True)
class NotebookSpec:
    """A notebook's parameters and the rules between them."""

    parameters: tuple[Parameter, ...]
    rules: tuple[Rule, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        return [parameter.name for parameter in self.parameters]

    def problems(self, values: dict[str, Any], on_disk: bool = True) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The checked values of the parameters in ``values`` and the problems, each (parameter, what is
        wrong). The rules between parameters run once every parameter has passed."""
        checked, problems = {}, []
        for parameter in self.parameters:
            if parameter.name in values:
                try:
                    checked[parameter.name] = parameter.check(values[parameter.name], on_disk)
                except ValueError as error:
                    problems.append((parameter.name, str(error)))
        if not problems and len(checked) == len(self.parameters):
            problems += [problem for rule in self.rules if (problem := rule(checked)) is not None]
        return checked, problems

    def check(self, values: dict[str, Any]) -> dict[str, Any]:
        """Every parameter, checked (from ``values``, e.g. a notebook's ``globals()``); one ``ParameterError``
        naming every problem."""
        checked, problems = self.problems({name: values.get(name) for name in self.names})
        if problems:
            raise ParameterError("; ".join(f"parameter {name}: {text}" for name, text in problems))
        return checked


def _spec(*parameters: Parameter, rules: tuple[Rule, ...] = ()) -> NotebookSpec:
    return NotebookSpec(parameters, rules)


def _files(*names: str) -> list[Parameter]:
    return [Parameter(name, "file", optional=True) for name in names]


def _settings(module: str, name: str) -> Parameter:
    """``settings_path``: a YAML of ``segkit.<module>.<name>`` settings (imported when a file is read)."""

    def read(path: Path) -> Any:
        return getattr(importlib.import_module(f"segkit.{module}"), name).from_yaml(path)

    return Parameter("settings_path", "file", optional=True, reads=read)


def _segment_table(path: Path) -> Any:
    from ..segment.rfm import SegmentTable

    return SegmentTable.from_yaml(path)


AS_OF = Parameter("as_of", "date")
DEMO_MEMBERS = Parameter("demo_members", "positive whole number")
LANGUAGE = Parameter("language", "choice", optional=True, choices=LANGUAGES)  # of the report (and call sheet)
OUTPUT = Parameter("output_dir", "folder")

NOTEBOOKS: dict[str, NotebookSpec] = {
    "member_features": _spec(
        *_files("transactions_path", "members_path", "mapping_path", "members_mapping_path"),
        AS_OF,
        Parameter("backend", "choice", choices=("duckdb", "spark")),
        DEMO_MEMBERS,
        LANGUAGE,
        OUTPUT,
    ),
    "segmentation": _spec(
        *_files("transactions_path", "members_path", "mapping_path", "members_mapping_path"),
        AS_OF,
        _settings("segment", "SegmentationSettings"),
        Parameter("levels", "choice", optional=True, choices=(3, 4, 5)),
        Parameter("ties", "choice", optional=True, choices=("rank", "quantile")),
        Parameter("segments_path", "file", optional=True, reads=_segment_table),
        Parameter("snapshot_months", "positive whole number", optional=True),
        DEMO_MEMBERS,
        LANGUAGE,
        OUTPUT,
    ),
    "churn_alerts": _spec(
        *_files("transactions_path", "members_path", "mapping_path", "members_mapping_path", "truth_path"),
        AS_OF,
        _settings("churn", "AlertSettings"),
        Parameter("p_active_below", "probability", optional=True),
        Parameter("long_gone_days", "positive whole number", optional=True),
        Parameter("compare_methods", "true or false"),
        Parameter("purchase_noun", "text", optional=True),
        Parameter("purchase_verb", "text", optional=True),
        DEMO_MEMBERS,
        LANGUAGE,
        OUTPUT,
    ),
    "call_list": _spec(
        *_files("alerts_path", "members_path", "members_mapping_path", "advisors_path"),
        _ledger(),
        AS_OF,
        Parameter("campaign", "text"),
        Parameter("care", "true or false"),
        *_files("vip_path"),
        _settings("callcenter", "ContactSettings"),
        DEMO_MEMBERS,
        LANGUAGE,
        OUTPUT,
        rules=(requires("alerts_path", "members_path"), ledger_given),
    ),
    "campaign_effect": _spec(
        _ledger(),
        *_files("transactions_path", "mapping_path", "segments_path"),
        AS_OF,
        Parameter("window_days", "positive whole number"),
        Parameter("worthwhile_uplift", "probability"),
        DEMO_MEMBERS,
        LANGUAGE,
        OUTPUT,
        rules=(
            requires("ledger", "transactions_path"),
            ledger_needed("transactions_path", "the calls and their control groups are recorded in it"),
        ),
    ),
    "customer_value": _spec(
        *_files("transactions_path", "mapping_path"),
        Parameter("calibration_end", "date"),
        Parameter("holdout_end", "date", optional=True),
        _settings("clv", "ValueSettings"),
        Parameter("model", "choice", optional=True, choices=("bgnbd", "paretonbd", "mbgcnbd")),
        Parameter("unit", "choice", optional=True, choices=("D", "W", "M")),
        Parameter("horizon", "positive number", optional=True),
        Parameter("periods", "positive whole number", optional=True),
        Parameter("discount_rate", "rate", optional=True),
        Parameter("k_max", "positive whole number", optional=True),
        LANGUAGE,
        OUTPUT,
        rules=(ordered("calibration_end", "holdout_end"),),
    ),
    "advisor_assignment": _spec(
        *_files(
            "transactions_path", "members_path", "members_mapping_path", "advisors_path", "mapping_path", "alerts_path"
        ),
        AS_OF,
        _settings("advisors", "AssignmentSettings"),
        Parameter("capacity_min", "whole number", optional=True),
        Parameter("capacity_max", "whole number", optional=True),
        Parameter("continuity_weight", "whole number", optional=True),
        DEMO_MEMBERS,
        LANGUAGE,
        OUTPUT,
        rules=(at_most("capacity_min", "capacity_max"), requires("transactions_path", "members_path", "advisors_path")),
    ),
    "benefit_survey": _spec(
        *_files("screening_path", "costs_path", "ranking_path", "constant_sum_path", "respondents_path"),
        Parameter("budget", "positive number", optional=True),
        _settings("survey", "SurveySettings"),
        Parameter("bootstrap", "whole number", optional=True),
        Parameter("demo_benefits", "positive whole number"),
        Parameter("demo_respondents", "positive whole number"),
        LANGUAGE,
        OUTPUT,
        rules=(requires("screening_path", "costs_path", "ranking_path", "constant_sum_path"),),
    ),
}


def checked_parameters(notebook: str, values: dict[str, Any]) -> dict[str, Any]:
    """The first cell of segkit's notebooks: ``globals().update(checked_parameters("churn_alerts", globals()))``."""
    return NOTEBOOKS[notebook].check(values)


def notebook_spec(notebook: Path, defaults: dict[str, Any]) -> NotebookSpec:
    """The spec of ``notebook`` whose parameters cell holds ``defaults``: segkit's declaration when the notebook
    is one of segkit's (its name and parameters match), else kinds read from the defaults' types."""
    declared = NOTEBOOKS.get(Path(notebook).stem)
    if declared is not None and declared.names == list(defaults):
        return declared
    return NotebookSpec(tuple(Parameter(name, _kind_of(value), optional=True) for name, value in defaults.items()))


def _kind_of(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "integer"
    if isinstance(default, float):
        return "number"
    if isinstance(default, str):
        return "text"
    return "any"  # None or a structure
