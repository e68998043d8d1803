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
runner (``runs/<job>/<date>/<step>``). Job and step names are plain names
(letters, digits, ``_`` and ``-``, starting with a letter or digit), so that
no path of a run can leave its run folder.

``language`` (optional: ``zh-CN``, the default, or ``en``) is the language of
the job's reports (headings, table labels) and call sheets: it is given to every
step whose notebook takes a ``language`` parameter and does not set it itself.

``mappings`` (optional) names, for an input, the input holding its column
mapping (``mappings: {members: members_mapping}``): the report's privacy
check reads that input's names and phones through it.

Parameters are checked before anything runs, by the code each notebook runs
first (``parameters.NOTEBOOKS``: each of segkit's notebooks declares its
parameters' kinds; another notebook's kinds are read from its defaults):
unknown names are errors, and so are values of the wrong kind (papermill would
pass ``-p id 007`` on as the number 7; here a text parameter must get text, so
write ``'007'`` in YAML), a probability of 1.5 or a date like ``31/03/2026``. No input or parameter may
hold a credential (a URL's password or a secret query parameter): papermill
writes parameters into the executed notebook, so credentials come from the environment.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..messages import check_language
from ..privacy import mask_url, mask_urls_in, url_secrets
from ..settings import read_yaml_mapping
from .parameters import ParameterError, notebook_spec

PIPELINE_KEYS = {"job", "description", "inputs", "mappings", "steps", "language"}
STEP_KEYS = {"name", "notebook", "parameters"}
RUNNER_PARAMETERS = {"output_dir"}
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
INPUT_NAME = re.compile(r"[A-Za-z0-9_]+")
PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[A-Za-z0-9_-]+)?)\}")
NO_CREDENTIALS = (
    "credentials come from the environment (SEGKIT_LEDGER_URL, a mapping's url_env), never from "
    "pipeline inputs or parameters, which papermill writes into the executed notebook"
)


@dataclass
class Step:
    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Pipeline:
    """A checked pipeline file: the job's name, its inputs (absolute paths), its steps, and which input
    holds the column mapping of which (``mappings``)."""

    job: str
    path: Path
    inputs: dict[str, Path]
    steps: list[Step]
    description: str = ""
    mappings: dict[str, str] = field(default_factory=dict)
    language: str | None = None  # of the reports (and call sheets): given to every step that takes one

    @classmethod
    def from_yaml(cls, path: str | Path, inputs: dict[str, str] | None = None) -> "Pipeline":
        """Read and check ``path``; ``inputs`` override the file's inputs (``segkit run --input NAME=PATH``).
        Every problem is a ``ParameterError`` naming the file and the key."""
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"pipeline not found: {path}" if not path.exists() else f"{path} is not a file")
        where = str(path)
        spec = read_yaml_mapping(path, "a mapping with job, inputs and steps", ParameterError)
        unknown = sorted(set(spec) - PIPELINE_KEYS)
        if unknown:
            raise ParameterError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; known: {', '.join(sorted(PIPELINE_KEYS))}"
            )
        job = spec.get("job")
        if not isinstance(job, str) or not NAME.fullmatch(job):
            raise ParameterError(
                f"{where}: job must be a name of letters, digits, '_' and '-' (starting with a "
                f"letter or digit), got {job!r}"
            )
        given = _mapping_of_text(spec.get("inputs"), f"{where}: inputs", "a mapping of names to paths")
        for name in given:
            if not INPUT_NAME.fullmatch(name):
                raise ParameterError(f"{where}: input name {name!r} must be letters, digits and '_'")
        overrides = dict(inputs or {})
        for name in overrides:
            if name not in given:
                raise ParameterError(
                    f"{where}: no input named {name!r} to override; inputs: {', '.join(given) or 'none'}"
                )
        _refuse_credentials({f"input {name!r}": value for name, value in {**given, **overrides}.items()}, where)
        given.update({name: str(Path(value).resolve()) for name, value in overrides.items()})
        resolved = {name: (path.parent / value).resolve() for name, value in given.items()}
        mappings = _mapping_of_text(
            spec.get("mappings"), f"{where}: mappings", "a mapping of input names to the inputs holding their mappings"
        )
        strangers = sorted(name for pair in mappings.items() for name in pair if name not in given)
        if strangers:
            raise ParameterError(
                f"{where}: mappings names {', '.join(map(repr, strangers))}, not an input; "
                f"inputs: {', '.join(given) or 'none'}"
            )
        steps = _read_steps(spec.get("steps"), path)
        description = spec.get("description") or ""
        if not isinstance(description, str):
            raise ParameterError(f"{where}: description must be text")
        try:
            language = None if spec.get("language") is None else check_language(spec["language"])
        except ValueError as error:
            raise ParameterError(f"{where}: {error}") from None
        return cls(job, path, resolved, steps, description, mappings, language)

    def resolve(self, date: str, runs: Path) -> list[Step]:
        """The steps with every placeholder filled in, each step's ``output_dir`` set (relative to the run
        folder), and every parameter checked against its notebook. Raises before anything runs."""
        problems = [
            f"input {name!r}: file not found: {mask_urls_in(str(p))}"
            for name, p in self.inputs.items()
            if not p.exists()
        ]
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
                    problems.append(
                        f"step {step.name!r}, parameter {key!r}: unknown placeholder {{{missing.args[0]}}}"
                        f" (known: {', '.join('{' + k + '}' for k in values)})"
                    )
            _refuse_credentials(
                {f"step {step.name!r}, parameter {key!r}": value for key, value in parameters.items()}, str(self.path)
            )
            if self.language and "language" not in parameters and "language" in notebook_parameters(step.notebook):
                parameters["language"] = self.language
            problems += check_parameters(step, parameters)
            parameters["output_dir"] = step.name
            resolved.append(Step(step.name, step.notebook, parameters))
            values[f"steps.{step.name}"] = step.name
        if problems:
            raise ParameterError(f"{self.path.name}: " + "; ".join(problems))
        return resolved


def _mapping_of_text(value: Any, where: str, expected: str) -> dict[str, str]:
    """``value`` (absent: empty) as a mapping of names to non-empty text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParameterError(f"{where} must be {expected}, got {type(value).__name__}")
    for name, text in value.items():
        if not isinstance(name, str) or not isinstance(text, str) or not text:
            raise ParameterError(f"{where} must be {expected}; {name!r}: {text!r} is not")
    return dict(value)


def _read_steps(raw_steps: Any, path: Path) -> list[Step]:
    where = str(path)
    if not isinstance(raw_steps, list) or not raw_steps:
        raise ParameterError(
            f"{where}: steps must be a list of steps (each a mapping with name, notebook and "
            f"parameters), got {raw_steps!r}"
        )
    steps = []
    for number, raw in enumerate(raw_steps, start=1):
        if not isinstance(raw, dict) or "name" not in raw or "notebook" not in raw:
            raise ParameterError(f"{where}: step {number} must be a mapping with a name and a notebook, got {raw!r}")
        name = raw["name"]
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise ParameterError(
                f"{where}: step {number}: name must be letters, digits, '_' and '-' (starting with "
                f"a letter or digit), got {name!r}"
            )
        extra = sorted(set(raw) - STEP_KEYS)
        if extra:
            raise ParameterError(
                f"{where}: step {name!r}: unknown key(s) {', '.join(map(str, extra))}; "
                f"known: {', '.join(sorted(STEP_KEYS))}"
            )
        if not isinstance(raw["notebook"], str) or not raw["notebook"].endswith(".ipynb"):
            raise ParameterError(
                f"{where}: step {name!r}: notebook must be the path of a .ipynb file, got {raw['notebook']!r}"
            )
        parameters = raw.get("parameters") or {}
        if not isinstance(parameters, dict) or not all(isinstance(key, str) for key in parameters):
            raise ParameterError(
                f"{where}: step {name!r}: parameters must be a mapping of names to values, got {parameters!r}"
            )
        _refuse_credentials({f"step {name!r}, parameter {key!r}": value for key, value in parameters.items()}, where)
        steps.append(Step(name, (path.parent / raw["notebook"]).resolve(), dict(parameters)))
    names = [s.name for s in steps]
    if len(set(names)) < len(names):
        raise ParameterError(f"{where}: step names must be unique, got {', '.join(names)}")
    return steps


def _refuse_credentials(values: dict[str, Any], where: str) -> None:
    """Refuse any value (or text inside a list or mapping) that holds a credential; the message masks it."""
    for what, value in values.items():
        for text in _texts(value):
            found = url_secrets(text)
            if found:
                raise ParameterError(
                    f"{where}: {what} holds a credential ({', '.join(found)}: {mask_url(text)}); " + NO_CREDENTIALS
                )


def _texts(value: Any):
    """Every string in ``value`` and in the lists and mappings inside it."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in (*value.keys(), *value.values()):
            yield from _texts(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item)


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
    """Problems with a step's parameters: unknown names, values set by the runner, and what the notebook's own
    first cell would refuse (``parameters.NotebookSpec``: kinds and the rules between parameters, on the
    parameters merged over the notebook's defaults; files that earlier steps make are not looked for yet)."""
    defaults = notebook_parameters(step.notebook)
    problems = []
    for name in parameters:
        where = f"step {step.name!r}, parameter {name!r}"
        if name in RUNNER_PARAMETERS:
            problems.append(f"{where} is set by the runner (runs/<job>/<date>/<step>)")
        elif name not in defaults:
            problems.append(
                f"{where} is not a parameter of {step.notebook.name} (its parameters: {', '.join(defaults)})"
            )
    if problems:
        return problems
    values = {**defaults, **parameters, **{name: step.name for name in RUNNER_PARAMETERS if name in defaults}}
    _, found = notebook_spec(step.notebook, defaults).problems(values, on_disk=False)
    return [f"step {step.name!r}, parameter {name!r}: {text}" for name, text in found]
