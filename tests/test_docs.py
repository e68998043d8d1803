"""The documentation site: its API reference lists every workflow, result and estimator, and the built site
(``make docs``, which ``make test`` runs after the other tests) opens in headless Chromium without JavaScript errors,
its figures drawn. ``make test`` runs this file last, on the site it has just built."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re

import pytest
from conftest import REPO, require_chromium
from sklearn.base import BaseEstimator

import segkit
from segkit.jobs.browser import check_in_browser

SITE = REPO / "docs" / "_build" / "html"
API = REPO / "docs" / "api" / "index.md"


def _listed() -> list[object]:
    """The objects the API page's autosummary tables list (names relative to their ``currentmodule``)."""
    objects, module = [], "segkit"
    for line in API.read_text(encoding="utf-8").splitlines():
        if found := re.match(r"\.\. currentmodule:: (\S+)", line):
            module = found.group(1)
        elif re.match(r"   [A-Za-z_][\w.]*$", line):
            path, _, name = f"{module}.{line.strip()}".rpartition(".")
            objects.append(getattr(importlib.import_module(path), name))
    return objects


def _segkit_estimators() -> set[type]:
    for info in pkgutil.walk_packages(segkit.__path__, "segkit."):
        importlib.import_module(info.name)
    found, todo = set(), [BaseEstimator]
    while todo:
        for cls in todo.pop().__subclasses__():
            todo.append(cls)
            if cls.__module__.startswith("segkit."):
                found.add(cls)
    return found


def test_the_api_reference_lists_every_workflow_its_result_and_every_estimator():
    listed = _listed()
    workflows = [getattr(segkit, name) for name in segkit.WORKFLOWS]
    results = {inspect.signature(workflow, eval_str=True).return_annotation for workflow in workflows}
    missing = [
        f"{thing.__module__}.{thing.__qualname__}"
        for thing in [*workflows, *results, *_segkit_estimators()]
        if not any(thing is entry for entry in listed)
    ]
    assert not missing, f"docs/api/index.md does not list {missing}"


def _built(page: str):
    if not (SITE / page).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no {SITE / page}: make test builds the site (make docs) before this test")
        pytest.skip("the site is not built: make docs")
    return SITE / page


@pytest.mark.parametrize("page, figures", [("index.html", 0), ("gallery/churn_alerts.html", 3)])
def test_the_built_site_opens_in_headless_chromium_without_errors(page, figures):
    require_chromium()
    check = check_in_browser(_built(page), width=1280)
    assert check.errors == [], check.errors
    assert check.figures >= figures and check.drawn == check.figures, check  # plotly.js from the site itself
    assert "segkit" in check.text
