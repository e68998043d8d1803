"""pyproject.toml is the source of truth; environment.yml must mirror it."""

from __future__ import annotations

import re

import tomllib
import yaml
from conftest import REPO

# conda-forge names that differ from PyPI's.
CONDA_TO_PYPI = {
    "ibis-duckdb": "ibis-framework[duckdb]",
    "ibis-pyspark": "ibis-framework[pyspark]",
    "ortools-python": "ortools",
    "psycopg": "psycopg[binary]",
}
CONDA_ONLY = {"python", "pip", "openjdk"}  # the interpreter, the installer, Java for Spark


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+(?:\[[a-z,]+\])?)\s*(.*)$", requirement)
    name, spec = match.group(1).lower().replace("_", "-"), match.group(2)
    return name, ",".join(sorted(part.strip() for part in spec.split(",") if part.strip()))


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["spark"]
    requirements += project["optional-dependencies"]["postgres"] + project["optional-dependencies"]["dev"]
    return dict(_split(r.split("#")[0]) for r in requirements)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    packages = {}
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            packages.update(_split(p) for p in entry["pip"] if not p.startswith("-e"))
            continue
        name, spec = _split(entry.replace("=", "==", 1) if re.match(r"^[\w-]+=[\d.]+$", entry) else entry)
        if name in CONDA_ONLY:
            continue
        packages[CONDA_TO_PYPI.get(name, name)] = spec
    return packages


def test_environment_lists_the_same_packages_as_pyproject():
    pyproject, environment = _pyproject(), _environment()
    assert sorted(environment) == sorted(pyproject), (
        f"only in pyproject: {sorted(set(pyproject) - set(environment))}; "
        f"only in environment.yml: {sorted(set(environment) - set(pyproject))}"
    )


def test_version_bounds_match():
    pyproject, environment = _pyproject(), _environment()
    differ = {
        name: (pyproject[name], environment[name]) for name in pyproject if pyproject[name] != environment.get(name)
    }
    assert not differ, f"version bounds differ (pyproject, environment.yml): {differ}"


def test_pandas_is_pinned_below_3_for_lifelines():
    assert "<3" in _pyproject()["pandas"].split(",")
    assert _pyproject()["lifelines"].startswith(">=0.30") or ">=0.30" in _pyproject()["lifelines"]
