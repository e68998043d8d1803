"""The texts people outside the analyst team read, in their language: one catalogue per language.

The call sheet's labels and sentences, care greetings, outcome labels and the
reports' headings live in ``zh-CN.yaml`` and ``en.yaml`` beside this file, under
dotted keys (``call_sheet.columns.priority``), with ``str.format`` fields
(``{days}``, ``{date.month}``). Both catalogues hold the same keys with the same
fields (a test checks it), so a text missing in one language is a failing test,
not a blank cell. Machine-readable tables (``call_list.csv``, ``alerts.csv``)
keep their English column names whatever the language.

Why keyed YAML and not gettext: the labels are looked up both ways (the sheet is
written in one language and read back in either), a translator edits one
readable file, and nothing needs compiling into ``.mo`` files at build time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
HERE = Path(__file__).parent


class Catalogue:
    """The texts of one language: ``text(key, **fields)``, ``section(key)`` (a mapping of texts)."""

    def __init__(self, language: str, texts: dict[str, Any]):
        self.language = language
        self._texts = texts

    def __repr__(self) -> str:
        return f"<Catalogue {self.language}: {len(flat_keys(self._texts))} texts>"

    def _find(self, key: str) -> Any:
        node = self._texts
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"no text {key!r} in the {self.language} catalogue ({HERE / (self.language + '.yaml')})")
            node = node[part]
        return node

    def text(self, key: str, **fields: Any) -> str:
        """The text under ``key`` with its fields filled in."""
        template = self._find(key)
        if not isinstance(template, str):
            raise KeyError(f"{key!r} in the {self.language} catalogue is a section, not a text")
        return template.format(**fields)

    def section(self, key: str) -> dict[str, str]:
        """The texts directly under ``key``, by their last key part (column labels, outcome labels)."""
        node = self._find(key)
        if not isinstance(node, dict):
            raise KeyError(f"{key!r} in the {self.language} catalogue is a text, not a section")
        return dict(node)

    def day(self, value: Any) -> str:
        """A date as people of this language write it in a sentence (3月1日; 1 Mar)."""
        import pandas as pd

        return self.text("formats.day", date=pd.Timestamp(value))


def check_language(language: str | None) -> str:
    """``language`` if segkit speaks it (None: the default, zh-CN); else a clear error."""
    language = DEFAULT_LANGUAGE if language is None else str(language)
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {language!r}")
    return language


_reports = {"language": DEFAULT_LANGUAGE}


def use_language(language: str | None) -> str:
    """Make ``language`` (None: zh-CN) the one that tables and reports shown in this process speak unless
    told otherwise, as a notebook's ``language`` parameter does for its report; returns it.

    Parameters
    ----------
    language : {"zh-CN", "en"} or None
        The language of the tables and reports shown from now on; None: zh-CN.

    Returns
    -------
    str
        The language chosen.

    Raises
    ------
    ValueError
        A language segkit does not speak.

    Examples
    --------
    >>> from segkit import use_language
    >>> from segkit.messages import catalogue
    >>> use_language("en")
    'en'
    >>> catalogue().language
    'en'
    >>> use_language("fr")
    Traceback (most recent call last):
    ...
    ValueError: language must be one of zh-CN, en, got 'fr'
    >>> use_language(None)
    'zh-CN'
    """
    _reports["language"] = check_language(language)
    return _reports["language"]


def catalogue(language: str | None = None) -> Catalogue:
    """The catalogue of ``language`` (``zh-CN`` or ``en``; None: the one ``use_language`` chose, else zh-CN)."""
    return _catalogue(check_language(language or _reports["language"]))


@lru_cache(maxsize=None)
def _catalogue(language: str) -> Catalogue:
    with open(HERE / f"{language}.yaml", encoding="utf-8") as handle:
        return Catalogue(language, yaml.safe_load(handle))


def flat_keys(texts: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Every text of a catalogue by its dotted key."""
    flat = {}
    for key, value in texts.items():
        if isinstance(value, dict):
            flat.update(flat_keys(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
