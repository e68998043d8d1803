"""Pipelines: YAML files that chain parameterised notebooks into a scheduled job.

::

    job: daily_alerts
    description: overdue alerts, then the call-center lists
    inputs:                                   # files the job reads (relative to this file); the manifest
      transactions: ../data/generated/gas/transactions.csv    # records their rows and checksums
      members: ../data/generated/gas/members.csv
    steps:
      - name: alerts
        notebook: ../notebooks/churn_alerts.ipynb             # relative to this file
        parameters:
          transactions_path: "{inputs.transactions}"
          as_of: "{date}"
      - name: call_list
        notebook: ../notebooks/call_list.ipynb
        parameters:
          alerts_path: "{steps.alerts}/alerts.csv"            # an earlier step's output folder
          ledger: "{runs}/ledger.sqlite"                      # state that outlives the dated folders

Placeholders: ``{date}`` (the run's date), ``{job}``, ``{runs}`` (the runs
folder), ``{inputs.NAME}`` (an input's absolute path), ``{steps.NAME}`` (an
earlier step's output folder). Every step's ``output_dir`` is set by the
runner (``runs/<job>/<date>/<step>``).

Parameters are checked against each notebook's parameters cell before
anything runs: unknown names are errors, and so are values of the wrong type
(papermill would pass ``-p id 007`` on as the number 7; here a text
parameter must get text, so write ``'007'`` in YAML).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .checks import ParameterError

PIPELINE_KEYS = {"job", "description", "inputs", "steps"}
STEP_KEYS = {"name", "notebook", "parameters"}
RUNNER_PARAMETERS = {"output_dir"}
PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[A-Za-z0-9_]+)?)\}")


@dataclass
class Step:
    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pipeline:
    """A checked pipeline file: the job's name, its inputs (absolute paths) and its steps."""

    job: str
    path: Path
    inputs: dict[str, Path]
    steps: list[Step]
    description: str = ""

    @classmethod
    def from_yaml(cls, path: str | Path, inputs: dict[str, str] | None = None) -> "Pipeline":
        """Read and check ``path``; ``inputs`` override the file's inputs (``segkit run --input NAME=PATH``)."""
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"pipeline not found: {path}")
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        where = path.name
        if not isinstance(spec, dict):
            raise ParameterError(f"{where}: expected a mapping with job, inputs and steps")
        unknown = sorted(set(spec) - PIPELINE_KEYS)
        if unknown:
            raise ParameterError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(PIPELINE_KEYS))}")
        job = str(spec.get("job") or "")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", job):
            raise ParameterError(f"{where}: job must be a name of letters, digits, '_', '-' or '.', got {job!r}")
        given = {str(k): str(v) for k, v in (spec.get("inputs") or {}).items()}
        for name, value in (inputs or {}).items():
            if name not in given:
                raise ParameterError(f"{where}: no input named {name!r} to override; inputs: {', '.join(given) or 'none'}")
            given[name] = str(Path(value).resolve())
        resolved = {name: (path.parent / value).resolve() for name, value in given.items()}
        steps = []
        for number, raw in enumerate(spec.get("steps") or [], start=1):
            if not isinstance(raw, dict) or "name" not in raw or "notebook" not in raw:
                raise ParameterError(f"{where}: step {number} needs a name and a notebook")
            extra = sorted(set(raw) - STEP_KEYS)
            if extra:
                raise ParameterError(f"{where}: step {raw['name']!r}: unknown key(s) {', '.join(extra)}")
            steps.append(Step(str(raw["name"]), (path.parent / str(raw["notebook"])).resolve(),
                              dict(raw.get("parameters") or {})))
        if not steps:
            raise ParameterError(f"{where}: no steps")
        names = [s.name for s in steps]
        if len(set(names)) < len(names):
            raise ParameterError(f"{where}: step names must be unique, got {', '.join(names)}")
        return cls(job, path, resolved, steps, str(spec.get("description") or ""))

    def resolve(self, date: str, runs: Path) -> list[Step]:
        """The steps with every placeholder filled in, each step's ``output_dir`` set (relative to the run
        folder), and every parameter checked against its notebook. Raises before anything runs."""
        problems = [f"input {name!r}: file not found: {p}" for name, p in self.inputs.items() if not p.exists()]
        values = {"date": date, "job": self.job, "runs": str(runs)}
        values.update({f"inputs.{name}": str(p) for name, p in self.inputs.items()})
        resolved = []
        for step in self.steps:
            if not step.notebook.is_file():
                problems.append(f"step {step.name!r}: notebook not found: {step.notebook}")
                continue
            parameters = {}
            for key, value in step.parameters.items():
                try:
                    parameters[key] = _fill(value, values)
                except KeyError as missing:
                    problems.append(f"step {step.name!r}, parameter {key!r}: unknown placeholder {{{missing.args[0]}}}"
                                    f" (known: {', '.join('{' + k + '}' for k in values)})")
            problems += check_parameters(step, parameters)
            parameters["output_dir"] = step.name
            resolved.append(Step(step.name, step.notebook, parameters))
            values[f"steps.{step.name}"] = step.name
        if problems:
            raise ParameterError(f"{self.path.name}: " + "; ".join(problems))
        return resolved


def _fill(value: Any, values: dict[str, str]) -> Any:
    """Fill ``{placeholders}`` in text; other values pass through with their YAML type."""
    if not isinstance(value, str):
        return value
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], value)


def notebook_parameters(notebook: Path) -> dict[str, Any]:
    """The notebook's parameters and their default values (from its ``parameters`` cell)."""
    import papermill as pm

    found = pm.inspect_notebook(str(notebook))
    defaults = {}
    for name, info in found.items():
        try:
            defaults[name] = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            defaults[name] = None
    return defaults


def check_parameters(step: Step, parameters: dict[str, Any]) -> list[str]:
    """Problems with a step's parameters: unknown names, values set by the runner, wrong types."""
    defaults = notebook_parameters(step.notebook)
    problems = []
    for name, value in parameters.items():
        where = f"step {step.name!r}, parameter {name!r}"
        if name in RUNNER_PARAMETERS:
            problems.append(f"{where} is set by the runner (runs/<job>/<date>/<step>)")
        elif name not in defaults:
            problems.append(f"{where} is not a parameter of {step.notebook.name} "
                            f"(its parameters: {', '.join(defaults)})")
        else:
            expected = _kind(defaults[name])
            if expected and not _fits(value, expected):
                hint = " (quote it in YAML: '007' stays text, 007 is the number 7)" if expected == "text" else ""
                problems.append(f"{where} must be {expected}, got {value!r}{hint}")
    return problems


def _kind(default: Any) -> str | None:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, int):
        return "a whole number"
    if isinstance(default, float):
        return "a number"
    if isinstance(default, str):
        return "text"
    return None            # None or a structure: any value


def _fits(value: Any, expected: str) -> bool:
    if expected == "true or false":
        return isinstance(value, bool)
    if expected == "a whole number":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "a number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)
